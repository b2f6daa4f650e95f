//! End to end: the fake built as a shared library, found by the dynamic loader through
//! `LD_LIBRARY_PATH` under the real library's file name, and driven through its C ABI.
//!
//! Each test runs twice: the parent (a normal test) writes the script and re-runs the test in a
//! child process configured for the fake (`Fake::run_test_in_child`); the child loads
//! `libtdjson.so.<version>` with `dlopen` by name, like a program linked against TDLib would,
//! and talks to it. The parent then checks the child's result and the fake's request log.

use std::ffi::{CStr, CString, c_char, c_double, c_int, c_void};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tdlib_fake_harness::{Fake, in_child, library_file_name};

#[link(name = "dl")]
unsafe extern "C" {
    fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn dlerror() -> *const c_char;
}

const RTLD_NOW: c_int = 2;

/// The four functions of TDLib's JSON interface, loaded from whatever `libtdjson.so.<version>`
/// the loader finds.
#[derive(Clone, Copy)]
struct Td {
    handle: *mut c_void,
    create_client_id: unsafe extern "C" fn() -> c_int,
    send: unsafe extern "C" fn(c_int, *const c_char),
    receive: unsafe extern "C" fn(c_double) -> *const c_char,
    execute: unsafe extern "C" fn(*const c_char) -> *const c_char,
}

/// The last `dlerror()` text.
fn dl_error() -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated string valid until the next dl call.
    let text = unsafe { dlerror() };
    if text.is_null() {
        return "unknown error".to_owned();
    }
    // SAFETY: non-NULL, NUL-terminated (see above); copied at once.
    unsafe { CStr::from_ptr(text) }
        .to_string_lossy()
        .into_owned()
}

// SAFETY: the handle and function pointers refer to a library that stays loaded, and TDLib's
// functions may be called from any thread (td_receive from one at a time, which the tests keep
// to, except where they test that the fake aborts).
unsafe impl Send for Td {}

/// The address of an exported symbol of the library behind `handle`.
fn symbol(handle: *mut c_void, name: &str) -> *mut c_void {
    let c_name = CString::new(name).unwrap();
    // SAFETY: a live handle from dlopen and a NUL-terminated symbol name.
    let address = unsafe { dlsym(handle, c_name.as_ptr()) };
    assert!(!address.is_null(), "dlsym {name}: {}", dl_error());
    address
}

impl Td {
    fn load() -> Td {
        let name = CString::new(library_file_name()).unwrap();
        // SAFETY: a valid NUL-terminated file name; loading the fake runs no constructors.
        let handle = unsafe { dlopen(name.as_ptr(), RTLD_NOW) };
        assert!(
            !handle.is_null(),
            "dlopen {}: {}",
            library_file_name(),
            dl_error()
        );
        let symbol = |name: &str| symbol(handle, name);
        // SAFETY: each symbol is the TDLib function of that name, with the C signature declared
        // by td_json_client.h; the library stays loaded for the rest of the process.
        unsafe {
            Td {
                handle,
                create_client_id: std::mem::transmute::<*mut c_void, unsafe extern "C" fn() -> c_int>(
                    symbol("td_create_client_id"),
                ),
                send: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(c_int, *const c_char)>(
                    symbol("td_send"),
                ),
                receive: std::mem::transmute::<
                    *mut c_void,
                    unsafe extern "C" fn(c_double) -> *const c_char,
                >(symbol("td_receive")),
                execute: std::mem::transmute::<
                    *mut c_void,
                    unsafe extern "C" fn(*const c_char) -> *const c_char,
                >(symbol("td_execute")),
            }
        }
    }

    fn create_client_id(&self) -> c_int {
        // SAFETY: td_create_client_id takes no arguments and may be called from any thread.
        unsafe { (self.create_client_id)() }
    }

    fn send_text(&self, client_id: c_int, request: Option<&str>) {
        let request = request.map(|text| CString::new(text).unwrap());
        let pointer = request
            .as_ref()
            .map_or(std::ptr::null(), |text| text.as_ptr());
        // SAFETY: NULL or a NUL-terminated string that outlives the call.
        unsafe { (self.send)(client_id, pointer) }
    }

    fn send(&self, client_id: c_int, request: &Value) {
        self.send_text(client_id, Some(&request.to_string()));
    }

    /// The next output as a raw pointer (only this thread receives).
    fn receive_raw(&self, timeout: f64) -> *const c_char {
        // SAFETY: only this thread calls td_receive.
        unsafe { (self.receive)(timeout) }
    }

    fn receive(&self, timeout: f64) -> Option<Value> {
        let text = self.receive_raw(timeout);
        if text.is_null() {
            return None;
        }
        // SAFETY: a NUL-terminated string valid until this thread's next TDLib call; copied now.
        let text = unsafe { CStr::from_ptr(text) }.to_str().unwrap();
        Some(serde_json::from_str(text).unwrap_or_else(|error| panic!("{text}: {error}")))
    }

    fn next(&self) -> Value {
        self.receive(5.0).expect("an answer or update within 5 s")
    }

    fn execute(&self, request: &Value) -> Value {
        let request = CString::new(request.to_string()).unwrap();
        // SAFETY: a NUL-terminated string that outlives the call.
        let answer = unsafe { (self.execute)(request.as_ptr()) };
        assert!(!answer.is_null());
        // SAFETY: as for td_receive.
        let text = unsafe { CStr::from_ptr(answer) }.to_str().unwrap();
        serde_json::from_str(text).unwrap()
    }
}

fn auth_state(update: &Value) -> &str {
    assert_eq!(update["@type"], "updateAuthorizationState", "{update}");
    update["authorization_state"]["@type"].as_str().unwrap()
}

fn tdlib_parameters() -> Value {
    json!({
        "@type": "setTdlibParameters",
        "use_test_dc": false,
        "database_directory": "db",
        "files_directory": "",
        "database_encryption_key": "",
        "use_file_database": false,
        "use_chat_info_database": false,
        "use_message_database": false,
        "use_secret_chats": false,
        "api_id": 94575,
        "api_hash": "0123456789abcdef0123456789abcdef",
        "system_language_code": "en",
        "device_model": "tdlib-fake-harness",
        "system_version": "",
        "application_version": "0.1",
        "@extra": "parameters",
    })
}

fn chat() -> Value {
    json!({
        "id": 77,
        "title": "Echo",
        "type": {"@type": "chatTypePrivate", "user_id": 77},
        "available_reactions": {"@type": "chatAvailableReactionsAll"},
    })
}

fn send_text(chat_id: i64, text: &str) -> Value {
    json!({
        "@type": "sendMessage",
        "chat_id": chat_id,
        "input_message_content": {
            "@type": "inputMessageText",
            "text": {"@type": "formattedText", "text": text, "entities": []},
            "clear_draft": false,
        },
    })
}

/// Logs a new client in with the bot token, checking each step; returns its id.
fn log_in(td: &Td, token: &str) -> c_int {
    assert_eq!(
        td.execute(
            &json!({"@type": "setLogVerbosityLevel", "new_verbosity_level": 1, "@extra": 1})
        ),
        json!({"@type": "ok", "@extra": 1})
    );
    let client = td.create_client_id();
    assert!(
        td.receive(0.05).is_none(),
        "no output before the first request"
    );
    td.send(
        client,
        &json!({"@type": "getOption", "name": "fake_tdlib", "@extra": "fake?"}),
    );
    assert_eq!(td.next()["name"], "version");
    assert_eq!(td.next()["name"], "commit_hash");
    assert_eq!(
        auth_state(&td.next()),
        "authorizationStateWaitTdlibParameters"
    );
    let answer = td.next();
    assert_eq!(
        answer,
        json!({"@type": "optionValueBoolean", "value": true, "@extra": "fake?", "@client_id": client})
    );
    td.send(client, &tdlib_parameters());
    assert_eq!(auth_state(&td.next()), "authorizationStateWaitPhoneNumber");
    assert_eq!(td.next()["@extra"], "parameters");
    assert_eq!(td.next()["state"]["@type"], "connectionStateReady");
    td.send(
        client,
        &json!({"@type": "checkAuthenticationBotToken", "token": token, "@extra": "token"}),
    );
    assert_eq!(td.next()["@type"], "updateUser");
    assert_eq!(td.next()["name"], "my_id");
    assert_eq!(auth_state(&td.next()), "authorizationStateReady");
    assert_eq!(
        td.next(),
        json!({"@type": "ok", "@extra": "token", "@client_id": client})
    );
    client
}

fn close(td: &Td, client: c_int) {
    td.send(client, &json!({"@type": "close", "@extra": "close"}));
    // The burst test may leave nothing else queued: the next outputs are the close sequence.
    assert_eq!(td.next()["@extra"], "close");
    assert_eq!(auth_state(&td.next()), "authorizationStateClosing");
    assert_eq!(auth_state(&td.next()), "authorizationStateClosed");
    td.send(client, &json!({"@type": "getMe", "@extra": "late"}));
    assert_eq!(td.next()["message"], "Request aborted");
}

/// Fails the parent test with the child's output when the child failed, and shows it otherwise.
fn check_child(output: &std::process::Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "child failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    print!("{stdout}");
}

#[test]
fn bot_session() {
    if in_child() {
        let td = Td::load();
        let client = log_in(&td, "42:secret");

        td.send(client, &json!({"@type": "getMe", "@extra": "me"}));
        let me = td.next();
        assert_eq!(me["id"], 1000001);
        assert_eq!(me["@extra"], "me");

        // Strict: a parameter left out is an error, even where TDLib would take a default.
        let mut incomplete = send_text(77, "x");
        incomplete
            .as_object_mut()
            .unwrap()
            .remove("input_message_content");
        incomplete["@extra"] = json!("incomplete");
        td.send(client, &incomplete);
        let error = td.next();
        assert_eq!(error["code"], 400);
        assert_eq!(
            error["message"],
            "Failed to parse JSON object as TDLib request: Can't find field \"input_message_content\""
        );
        assert_eq!(error["@extra"], "incomplete");

        // A send that fails (scripted), then its resend after the flood wait.
        td.send(client, &send_text(77, "hello"));
        let pending = td.next();
        assert_eq!(pending["@type"], "message");
        assert_eq!(
            pending["sending_state"]["@type"],
            "messageSendingStatePending"
        );
        assert_eq!(td.next()["@type"], "updateNewMessage");
        let failed = td.next();
        assert_eq!(failed["@type"], "updateMessageSendFailed");
        assert_eq!(failed["old_message_id"], pending["id"]);
        assert_eq!(failed["error"]["code"], 429);
        let failed_id = failed["message"]["id"].as_i64().unwrap();
        let resend = json!({"@type": "resendMessages", "chat_id": 77, "message_ids": [failed_id], "paid_message_star_count": 0});
        td.send(client, &resend);
        assert_eq!(td.next()["code"], 429, "the flood wait is not over");
        std::thread::sleep(Duration::from_millis(1050));
        td.send(client, &resend);
        assert_eq!(td.next()["@type"], "messages");
        assert_eq!(td.next()["@type"], "updateNewMessage");
        let sent = td.next();
        assert_eq!(sent["@type"], "updateMessageSendSucceeded");
        assert_eq!(sent["message"]["content"]["text"]["text"], "hello");

        // TDLib's answers to broken requests and unknown clients.
        td.send_text(client, None);
        assert_eq!(
            td.next()["message"],
            "Failed to parse request as JSON object: Unexpected string end"
        );
        td.send(9999, &json!({"@type": "testCallEmpty", "@extra": "bad"}));
        assert_eq!(
            td.next(),
            json!({"@type": "error", "code": 400, "message": "Invalid TDLib instance specified", "@extra": "bad", "@client_id": 9999})
        );
        close(&td, client);
        assert!(td.receive(0.05).is_none());
        return;
    }
    let fake = Fake::new(
        "bot_session",
        &json!({
            "login": {"bot_token": "42:secret"},
            "chats": [chat()],
            "send_failures": [{"error": {"code": 429, "message": "Too Many Requests: retry after 1"}, "retry_after": 1.0}],
        }),
    );
    check_child(&fake.run_test_in_child("bot_session"));
    assert_eq!(fake.script_errors(), Vec::<String>::new());
    let requests = fake.requests();
    let types: Vec<&str> = requests
        .iter()
        .map(|logged| logged.request_type())
        .collect();
    assert_eq!(
        types,
        [
            "setLogVerbosityLevel",
            "getOption",
            "setTdlibParameters",
            "checkAuthenticationBotToken",
            "getMe",
            "sendMessage",
            "sendMessage",
            "resendMessages",
            "resendMessages",
            "",
            "testCallEmpty",
            "close",
            "getMe",
        ]
    );
    assert_eq!(requests[0].client_id, 0);
    assert_eq!(requests[1].client_id, 1);
    assert_eq!(requests[5].answer["code"], 400);
    assert_eq!(requests[6].answer["@type"], "message");
    // int64 fields are strings in the answers, as TDLib writes them.
    assert_eq!(requests[4].answer["background_custom_emoji_id"], "0");
    assert!(requests.windows(2).all(|pair| pair[0].ms <= pair[1].ms));
}

/// The number of updates in the burst.
const BURST: u64 = 1_000_000;

#[test]
fn burst_throughput() {
    if in_child() {
        let td = Td::load();
        let client = log_in(&td, "123456:fake-token");
        let first = td.next();
        assert_eq!(first["@type"], "updateNewMessage");
        assert_eq!(first["message"]["content"]["text"]["text"], "burst");
        let started = Instant::now();
        let mut received = 1;
        while received < BURST {
            let text = td.receive_raw(1.0);
            assert!(
                !text.is_null(),
                "the burst stopped after {received} updates"
            );
            // SAFETY: a non-NULL answer is a NUL-terminated string; only its first byte is read.
            assert_eq!(unsafe { *text }, b'{' as c_char);
            received += 1;
        }
        let elapsed = started.elapsed();
        println!(
            "burst: {received} updates received in {:.3} s, {:.0} updates/s through td_receive",
            elapsed.as_secs_f64(),
            (received - 1) as f64 / elapsed.as_secs_f64()
        );
        close(&td, client);
        return;
    }
    let fake = Fake::new(
        "burst_throughput",
        &json!({
            "chats": [chat()],
            "conversation": [{"burst": {"count": BURST, "update": {
                "@type": "updateNewMessage",
                "message": {
                    "id": 1048576,
                    "chat_id": 77,
                    "date": 1700000000,
                    "sender_id": {"@type": "messageSenderUser", "user_id": 77},
                    "content": {"@type": "messageText", "text": {"text": "burst"}},
                },
            }}}],
        }),
    );
    check_child(&fake.run_test_in_child("burst_throughput"));
    assert_eq!(fake.script_errors(), Vec::<String>::new());
}

#[test]
fn broken_script_answers_every_request() {
    if in_child() {
        let td = Td::load();
        let answer = td.execute(&json!({"@type": "getOption", "name": "version"}));
        assert_eq!(answer["code"], 400);
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.starts_with("fake TDLib: script error: chats[0].type: "),
            "{message}"
        );
        let client = td.create_client_id();
        td.send(client, &json!({"@type": "testCallEmpty"}));
        assert_eq!(td.next()["message"], answer["message"]);
        return;
    }
    let fake = Fake::new("broken_script", &json!({"chats": [{"id": 1}]}));
    check_child(&fake.run_test_in_child("broken_script_answers_every_request"));
    let errors = fake.script_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("chats[0].type: "), "{errors:?}");
    assert_eq!(fake.requests().len(), 2);
}

#[test]
fn old_api_has_a_queue_per_client() {
    if in_child() {
        let td = Td::load();
        type Create = unsafe extern "C" fn() -> *mut c_void;
        type Send = unsafe extern "C" fn(*mut c_void, *const c_char);
        type Receive = unsafe extern "C" fn(*mut c_void, c_double) -> *const c_char;
        type Destroy = unsafe extern "C" fn(*mut c_void);
        // SAFETY: the old API's functions, with the signatures of td_json_client.h.
        let (create, send, receive, destroy) = unsafe {
            (
                std::mem::transmute::<*mut c_void, Create>(symbol(
                    td.handle,
                    "td_json_client_create",
                )),
                std::mem::transmute::<*mut c_void, Send>(symbol(td.handle, "td_json_client_send")),
                std::mem::transmute::<*mut c_void, Receive>(symbol(
                    td.handle,
                    "td_json_client_receive",
                )),
                std::mem::transmute::<*mut c_void, Destroy>(symbol(
                    td.handle,
                    "td_json_client_destroy",
                )),
            )
        };
        // SAFETY: no arguments.
        let client = unsafe { create() };
        assert!(!client.is_null());
        // The old API draws its ids from the same counter as td_create_client_id.
        assert_eq!(td.create_client_id(), 2);
        let request = CString::new(r#"{"@type":"testSquareInt","x":4,"@extra":"old"}"#).unwrap();
        // SAFETY: a handle from td_json_client_create and a NUL-terminated request.
        unsafe { send(client, request.as_ptr()) };
        let mut outputs = Vec::new();
        loop {
            // SAFETY: a live handle; only this thread receives from it.
            let text = unsafe { receive(client, 1.0) };
            assert!(!text.is_null(), "the answer did not come: {outputs:?}");
            // SAFETY: NUL-terminated and valid until this thread's next call; copied now.
            let text = unsafe { CStr::from_ptr(text) }.to_str().unwrap().to_owned();
            let done = text.contains("@extra");
            outputs.push(text);
            if done {
                break;
            }
        }
        assert_eq!(outputs.len(), 4, "{outputs:?}");
        assert_eq!(
            outputs[3],
            r#"{"@type":"testInt","value":16,"@extra":"old"}"#
        );
        // Nothing went to the global queue.
        assert!(td.receive(0.05).is_none());
        // SAFETY: a live handle, not used afterwards.
        unsafe { destroy(client) };
        return;
    }
    let fake = Fake::new("old_api", &json!({}));
    check_child(&fake.run_test_in_child("old_api_has_a_queue_per_client"));
}

#[test]
fn receiving_on_two_threads_at_once_aborts() {
    if in_child() {
        let td = Td::load();
        let other = std::thread::spawn(move || td.receive_raw(2.0).is_null());
        std::thread::sleep(Duration::from_millis(300));
        td.receive_raw(2.0);
        let _ = other.join();
        println!("still alive");
        return;
    }
    let fake = Fake::new("two_receivers", &json!({}));
    let output = fake.run_test_in_child("receiving_on_two_threads_at_once_aborts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stdout}");
    assert!(!stdout.contains("still alive"), "{stdout}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            output.status.signal(),
            Some(6),
            "SIGABRT expected: {}\n{stderr}",
            output.status
        );
    }
    assert!(
        stderr.contains("simultaneously from two different threads"),
        "{stderr}"
    );
}
