//! A scripted fake `libtdjson`: the C ABI of TDLib's JSON interface, answering from a script
//! instead of the Telegram network.
//!
//! Programs that use TDLib (an echo bot, an authorization helper, benchmarks) cannot be tested
//! end to end without Telegram. This library stands in for the real one at run time: it is
//! built as `libtdjson.so` with the real library's SONAME (`libtdjson.so.<pinned version>`), so
//! a program linked normally against TDLib loads it when the folder holding it comes first on
//! `LD_LIBRARY_PATH`. The `tdlib-fake-harness` crate does that for tests.
//!
//! The fake is strict on purpose (a test must not pass against a fake that accepts what TDLib
//! rejects): requests are validated against the pinned `td_api.tl`, and everything it emits is
//! a complete object written the way TDLib writes JSON. See the modules:
//!
//! - this file: the 14 exported C functions and nothing else (no panic crosses them; returned
//!   strings live in a thread-local buffer until the thread's next call, as in TDLib);
//! - `engine`: configuration from the environment (`TDLIB_FAKE_SCRIPT`, `TDLIB_FAKE_LOG`),
//!   client ids, `td_send`/`td_execute` entry points and the synchronous functions;
//! - `state`: a client's authorization state machine, chats, messages, file transfers and
//!   conversation;
//! - `files`: the files a client knows, their `file` objects and the copies downloads write;
//! - `script`: loading and checking the script;
//! - `schema`: request validation and object completion against the schema;
//! - `write`: TDLib-shaped JSON output;
//! - `queue`: the output queue behind `td_receive`;
//! - `log`: the request log.

mod engine;
mod files;
mod log;
mod queue;
mod schema;
mod script;
mod state;
mod write;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::cell::RefCell;
use std::ffi::{CStr, c_char, c_double, c_int, c_longlong, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use engine::{GLOBAL_QUEUE, engine};
use queue::Text;

thread_local! {
    /// The last string returned to C on this thread; valid until the thread's next
    /// `td_receive` or `td_execute`, like TDLib's buffer.
    static HELD: RefCell<Option<Text>> = const { RefCell::new(None) };
}

/// Keeps `text` alive in this thread's buffer and returns a pointer to it (NUL-terminated).
fn hold(text: Text) -> *const c_char {
    HELD.with(|held| {
        let pointer = match &text {
            Text::Owned(text) => text.as_ptr(),
            Text::Shared(text) => text.as_ptr(),
        };
        // Moving the `String` or `Arc` into the buffer does not move the bytes it points to.
        *held.borrow_mut() = Some(text);
        pointer.cast()
    })
}

/// The request text behind a C pointer (NULL reads as ""), and whether it was valid UTF-8.
///
/// # Safety
/// `request` is NULL or points to a NUL-terminated string that stays valid during the call.
unsafe fn request_text<'a>(request: *const c_char) -> (Cow<'a, str>, bool) {
    if request.is_null() {
        return (Cow::Borrowed(""), true);
    }
    // SAFETY: the caller guarantees a valid NUL-terminated string (TDLib's contract).
    let bytes = unsafe { CStr::from_ptr(request) }.to_bytes();
    let text = String::from_utf8_lossy(bytes);
    let valid = matches!(text, Cow::Borrowed(_));
    (text, valid)
}

/// Runs the body of an exported function, stopping any panic at the boundary.
fn guarded<R>(body: impl FnOnce() -> R) -> Option<R> {
    catch_unwind(AssertUnwindSafe(body)).ok()
}

/// A `td_receive` timeout as TDLib reads it: negative (and NaN) is 0, at most 10^6 s, whole
/// milliseconds.
fn timeout(seconds: c_double) -> Duration {
    if seconds > 0.0 {
        Duration::from_millis((seconds.min(1e6) * 1000.0) as u64)
    } else {
        Duration::ZERO
    }
}

type MessageCallback = unsafe extern "C" fn(verbosity_level: c_int, message: *const c_char);
type FatalCallback = unsafe extern "C" fn(message: *const c_char);

/// TDLib keeps one callback slot: the message callback and the deprecated fatal-error callback
/// replace each other.
#[derive(Debug, Clone, Copy)]
enum Callback {
    Message(c_int, MessageCallback),
    Fatal(FatalCallback),
}

static CALLBACK: Mutex<Option<Callback>> = Mutex::new(None);

/// Dies the way TDLib does on a fatal error: the message on stderr and to the callback (level
/// 0), then `abort()`.
fn fatal(message: &str) -> ! {
    eprintln!("[ 0][fake TDLib] {message}");
    let callback = *CALLBACK.lock().unwrap_or_else(PoisonError::into_inner);
    let text = std::ffi::CString::new(format!("[ 0][fake TDLib]\t{message}\n")).unwrap_or_default();
    match callback {
        Some(Callback::Message(max_level, callback)) if max_level >= 0 => {
            // SAFETY: the program registered this function with TDLib's callback signature;
            // the message is a valid NUL-terminated string for the duration of the call.
            unsafe { callback(0, text.as_ptr()) }
        }
        Some(Callback::Fatal(callback)) => {
            // SAFETY: as above, for the fatal-error callback signature.
            unsafe { callback(text.as_ptr()) }
        }
        _ => {}
    }
    std::process::abort()
}

/// Marks the one thread allowed inside `td_receive`.
static RECEIVING: AtomicBool = AtomicBool::new(false);

struct Receiving;

impl Receiving {
    fn enter() -> Receiving {
        if RECEIVING.swap(true, Ordering::AcqRel) {
            fatal(
                "Receive must not be called simultaneously from two different threads, but this has just happened",
            );
        }
        Receiving
    }
}

impl Drop for Receiving {
    fn drop(&mut self) {
        RECEIVING.store(false, Ordering::Release);
    }
}

/// A handle of the old API is the client id, so that a stale handle cannot point to freed
/// memory: it is just an id the fake no longer knows.
fn handle_id(client: *mut c_void) -> Option<c_int> {
    c_int::try_from(client.addr()).ok()
}

/// Returns a new TDLib client identifier (1, 2, 3, ...; never reused).
#[unsafe(no_mangle)]
pub extern "C" fn td_create_client_id() -> c_int {
    guarded(|| engine().create_client_id()).unwrap_or_else(|| fatal("td_create_client_id failed"))
}

/// Sends a request to a client; the answer comes through `td_receive`.
///
/// # Safety
/// `request` is NULL or a NUL-terminated string valid during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn td_send(client_id: c_int, request: *const c_char) {
    // SAFETY: forwarded from this function's own contract.
    let (text, valid) = unsafe { request_text(request) };
    if guarded(|| engine().send(client_id, &text, valid)).is_none() {
        let body = engine::error_body(&(
            500,
            "fake TDLib: internal error in td_send (see stderr)".to_owned(),
        ));
        GLOBAL_QUEUE.push(write::envelope(&body, None, client_id));
    }
}

/// The next answer or update of any client, or NULL after `timeout` seconds. The string stays
/// valid until this thread calls `td_receive` or `td_execute` again.
#[unsafe(no_mangle)]
pub extern "C" fn td_receive(timeout_seconds: c_double) -> *const c_char {
    let _receiving = Receiving::enter();
    guarded(|| match engine().receive(timeout(timeout_seconds)) {
        Some(text) => hold(text),
        None => std::ptr::null(),
    })
    .unwrap_or_else(|| fatal("td_receive failed"))
}

/// Executes a synchronous request. The string stays valid until this thread calls
/// `td_receive` or `td_execute` again.
///
/// # Safety
/// `request` is NULL or a NUL-terminated string valid during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn td_execute(request: *const c_char) -> *const c_char {
    // SAFETY: forwarded from this function's own contract.
    let (text, valid) = unsafe { request_text(request) };
    let answer = guarded(|| engine().execute(&text, valid)).unwrap_or_else(|| {
        let body = engine::error_body(&(
            500,
            "fake TDLib: internal error in td_execute (see stderr)".to_owned(),
        ));
        write::envelope(&body, None, 0)
    });
    hold(Text::Owned(answer))
}

/// Sets (or with NULL removes) the log message callback. The fake writes no log of its own;
/// the callback only hears of fatal errors (level 0).
#[unsafe(no_mangle)]
pub extern "C" fn td_set_log_message_callback(
    max_verbosity_level: c_int,
    callback: Option<MessageCallback>,
) {
    *CALLBACK.lock().unwrap_or_else(PoisonError::into_inner) =
        callback.map(|callback| Callback::Message(max_verbosity_level, callback));
}

/// Old API: creates a client with its own queue and returns its handle.
#[unsafe(no_mangle)]
pub extern "C" fn td_json_client_create() -> *mut c_void {
    let id = guarded(|| engine().create_old_client())
        .unwrap_or_else(|| fatal("td_json_client_create failed"));
    std::ptr::without_provenance_mut(usize::try_from(id).unwrap_or_default())
}

/// Old API: sends a request to the client of `client`.
///
/// # Safety
/// `request` is NULL or a NUL-terminated string valid during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn td_json_client_send(client: *mut c_void, request: *const c_char) {
    // SAFETY: forwarded from this function's own contract.
    let (text, valid) = unsafe { request_text(request) };
    guarded(|| {
        if let Some(id) = handle_id(client).filter(|&id| engine().is_old_client(id)) {
            engine().send(id, &text, valid);
        }
    });
}

/// Old API: the next answer or update of the client of `client`, or NULL.
#[unsafe(no_mangle)]
pub extern "C" fn td_json_client_receive(
    client: *mut c_void,
    timeout_seconds: c_double,
) -> *const c_char {
    guarded(|| {
        let id = handle_id(client)?;
        engine().old_receive(id, timeout(timeout_seconds)).map(hold)
    })
    .flatten()
    .unwrap_or(std::ptr::null())
}

/// Old API: `td_execute` (the client is not used and may be NULL).
///
/// # Safety
/// `request` is NULL or a NUL-terminated string valid during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn td_json_client_execute(
    _client: *mut c_void,
    request: *const c_char,
) -> *const c_char {
    // SAFETY: forwarded from this function's own contract.
    unsafe { td_execute(request) }
}

/// Old API: closes the client of `client`; the handle must not be used afterwards.
#[unsafe(no_mangle)]
pub extern "C" fn td_json_client_destroy(client: *mut c_void) {
    guarded(|| {
        if let Some(id) = handle_id(client) {
            engine().destroy(id);
        }
    });
}

/// Deprecated: TDLib switches its log to a file. The fake writes no log, and reports success.
#[unsafe(no_mangle)]
pub extern "C" fn td_set_log_file_path(_file_path: *const c_char) -> c_int {
    1
}

/// Deprecated: the maximum log file size. Ignored.
#[unsafe(no_mangle)]
pub extern "C" fn td_set_log_max_file_size(_max_file_size: c_longlong) {}

/// Deprecated: the same as `setLogVerbosityLevel`.
#[unsafe(no_mangle)]
pub extern "C" fn td_set_log_verbosity_level(new_verbosity_level: c_int) {
    engine::LOG_VERBOSITY.store(new_verbosity_level, Ordering::Relaxed);
}

/// Deprecated: sets the callback for fatal errors; it replaces the log message callback.
#[unsafe(no_mangle)]
pub extern "C" fn td_set_log_fatal_error_callback(callback: Option<FatalCallback>) {
    *CALLBACK.lock().unwrap_or_else(PoisonError::into_inner) = callback.map(Callback::Fatal);
}
