//! The declarations against the linked library (the real TDLib in the default build): each C
//! function is called the way the crate docs describe and its answer checked.

use std::ffi::{CStr, CString, c_char, c_int};
use std::sync::{Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

use serde_json::Value;
use tdlib_sys as sys;

/// `td_receive` must never be entered from two threads at once (TDLib aborts the process), and
/// the tests of this file run in parallel: the ones that receive hold this lock.
static RECEIVE: Mutex<()> = Mutex::new(());

fn receive_lock() -> MutexGuard<'static, ()> {
    RECEIVE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// TDLib logs at level 5 to stderr by default; keep test output readable. The message callback
/// still receives messages with the stream empty.
fn quiet() {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        execute(r#"{"@type":"setLogVerbosityLevel","new_verbosity_level":1}"#);
        execute(r#"{"@type":"setLogStream","log_stream":{"@type":"logStreamEmpty"}}"#);
    });
}

fn c_string(text: &str) -> CString {
    CString::new(text).expect("no NUL byte in test requests")
}

/// Copies a string TDLib returned (it lives in a per-thread buffer until the next call).
fn copy(answer: *const c_char) -> Option<Value> {
    if answer.is_null() {
        return None;
    }
    // SAFETY: non-null answers are NUL-terminated strings valid until this thread's next call.
    let text = unsafe { CStr::from_ptr(answer) }
        .to_str()
        .expect("TDLib answers are UTF-8");
    Some(serde_json::from_str(text).expect("TDLib answers are JSON"))
}

fn execute(request: &str) -> Value {
    let request = c_string(request);
    // SAFETY: a valid NUL-terminated request; the answer is copied at once.
    copy(unsafe { sys::td_execute(request.as_ptr()) }).expect("td_execute answers every request")
}

fn send(client_id: c_int, request: &str) {
    let request = c_string(request);
    // SAFETY: a valid NUL-terminated request; TDLib copies it before returning.
    unsafe { sys::td_send(client_id, request.as_ptr()) }
}

/// Receives until `wanted` matches an object, or panics after 20 s.
fn receive_until(wanted: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        // SAFETY: the caller holds RECEIVE; the answer is copied at once.
        if let Some(object) = copy(unsafe { sys::td_receive(1.0) }) {
            if wanted(&object) {
                return object;
            }
        }
    }
    panic!("TDLib did not send the expected object within 20 s");
}

/// Closes a client and waits for its final state: exiting before that can abort the process.
fn close(client_id: c_int) {
    send(client_id, r#"{"@type":"close"}"#);
    receive_until(|object| {
        object["@client_id"] == client_id
            && object["@type"] == "updateAuthorizationState"
            && object["authorization_state"]["@type"] == "authorizationStateClosed"
    });
}

#[test]
fn execute_reports_the_pinned_version() {
    quiet();
    let answer = execute(r#"{"@type":"getOption","name":"version","@extra":7}"#);
    assert_eq!(answer["@type"], "optionValueString");
    assert_eq!(answer["value"], sys::TDLIB_VERSION);
    assert_eq!(answer["value"], "1.8.65");
    assert_eq!(answer["@extra"], 7, "td_execute echoes @extra");
}

#[test]
fn execute_rejects_asynchronous_functions_and_bad_json() {
    quiet();
    let answer = execute(r#"{"@type":"getMe"}"#);
    assert_eq!(answer["@type"], "error");
    assert_eq!(
        answer["message"],
        "The method can't be executed synchronously"
    );
    let answer = execute("{not json");
    assert_eq!(answer["code"], 400);
}

#[test]
fn send_and_receive_round_trip() {
    quiet();
    let _receiving = receive_lock();
    // SAFETY: no preconditions.
    let client_id = unsafe { sys::td_create_client_id() };
    assert!(client_id > 0);
    send(
        client_id,
        r#"{"@type":"testSquareInt","x":12,"@extra":"square"}"#,
    );
    let answer = receive_until(|object| object["@extra"] == "square");
    assert_eq!(answer["@type"], "testInt");
    assert_eq!(answer["value"], 144);
    assert_eq!(answer["@client_id"], client_id);

    // The first request started the instance, which announces its version as an update.
    send(
        client_id,
        r#"{"@type":"getOption","name":"version","@extra":"version"}"#,
    );
    let answer = receive_until(|object| object["@extra"] == "version");
    assert_eq!(answer["value"], "1.8.65");
    close(client_id);
}

#[test]
fn receive_returns_null_when_nothing_comes() {
    quiet();
    let _receiving = receive_lock();
    let started = Instant::now();
    let mut nulls = 0;
    // Early nulls are allowed (TDLib returns one while a client shuts down); with no client
    // running, the wait itself must time out rather than spin.
    while started.elapsed() < Duration::from_millis(300) {
        // SAFETY: the lock is held.
        if unsafe { sys::td_receive(0.1) }.is_null() {
            nulls += 1;
        }
    }
    assert!((1..=10).contains(&nulls), "{nulls} nulls in 300 ms");
}

#[test]
fn old_per_client_interface_round_trip() {
    quiet();
    // SAFETY: the client pointer is used only by this test and destroyed after it is closed.
    unsafe {
        let client = sys::td_json_client_create();
        assert!(!client.is_null());
        let request = c_string(r#"{"@type":"testSquareInt","x":5,"@extra":"old"}"#);
        sys::td_json_client_send(client, request.as_ptr());
        let mut answer = None;
        let deadline = Instant::now() + Duration::from_secs(20);
        while answer.is_none() && Instant::now() < deadline {
            answer = copy(sys::td_json_client_receive(client, 1.0))
                .filter(|object| object["@extra"] == "old");
        }
        let answer = answer.expect("the old interface answers");
        assert_eq!(answer["value"], 25);
        assert!(
            answer.get("@client_id").is_none(),
            "the old interface does not tag client ids"
        );

        let version = c_string(r#"{"@type":"getOption","name":"version"}"#);
        assert_eq!(
            copy(sys::td_json_client_execute(client, version.as_ptr())).unwrap()["value"],
            "1.8.65"
        );
        assert_eq!(
            copy(sys::td_json_client_execute(
                std::ptr::null_mut(),
                version.as_ptr()
            ))
            .unwrap()["value"],
            "1.8.65"
        );

        let close = c_string(r#"{"@type":"close"}"#);
        sys::td_json_client_send(client, close.as_ptr());
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut closed = false;
        while !closed && Instant::now() < deadline {
            closed = copy(sys::td_json_client_receive(client, 1.0)).is_some_and(|object| {
                object["authorization_state"]["@type"] == "authorizationStateClosed"
            });
        }
        assert!(closed, "the old client reaches authorizationStateClosed");
        sys::td_json_client_destroy(client);
    }
}

static LOGGED: Mutex<Vec<(c_int, String)>> = Mutex::new(Vec::new());

/// Runs on whatever thread logs; must not call TDLib and must not unwind.
unsafe extern "C" fn record(level: c_int, message: *const c_char) {
    // SAFETY: TDLib passes a NUL-terminated string valid for the duration of the call.
    let message = unsafe { CStr::from_ptr(message) }
        .to_string_lossy()
        .into_owned();
    if let Ok(mut logged) = LOGGED.lock() {
        logged.push((level, message));
    }
}

#[test]
fn log_message_callback_and_log_controls() {
    quiet();
    // SAFETY: `record` has the callback's signature and obeys TDLib's rules.
    unsafe { sys::td_set_log_message_callback(2, Some(record)) };
    let answer = execute(
        r#"{"@type":"addLogMessage","verbosity_level":1,"text":"tdlib-sys callback test"}"#,
    );
    assert_eq!(answer["@type"], "ok");
    // Above the callback's maximum level: not delivered.
    execute(r#"{"@type":"setLogVerbosityLevel","new_verbosity_level":4}"#);
    execute(r#"{"@type":"addLogMessage","verbosity_level":3,"text":"tdlib-sys too verbose"}"#);
    // SAFETY: removing the callback is always allowed.
    unsafe { sys::td_set_log_message_callback(0, None) };

    // The deprecated td_log.h controls act on the same global state.
    // SAFETY: plain values.
    unsafe { sys::td_set_log_verbosity_level(2) };
    assert_eq!(
        execute(r#"{"@type":"getLogVerbosityLevel"}"#)["verbosity_level"],
        2
    );
    execute(r#"{"@type":"setLogVerbosityLevel","new_verbosity_level":1}"#);
    let missing = c_string("/nonexistent-folder/tdlib-sys/test.log");
    // SAFETY: a valid path string; TDLib reports failure with 0 and changes nothing.
    assert_eq!(unsafe { sys::td_set_log_file_path(missing.as_ptr()) }, 0);
    assert_eq!(
        execute(r#"{"@type":"getLogStream"}"#)["@type"],
        "logStreamEmpty"
    );

    let logged = LOGGED.lock().unwrap();
    let ours: Vec<_> = logged
        .iter()
        .filter(|(_, message)| message.contains("tdlib-sys"))
        .collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert_eq!(ours[0].0, 1);
    assert!(
        ours[0].1.ends_with("tdlib-sys callback test\n"),
        "{:?}",
        ours[0].1
    );
}
