//! The only place that calls TDLib's C functions: every `unsafe` FFI call of the crate is in
//! this file, each beside the rule of TDLib's it relies on. The rest of the crate calls these
//! safe wrappers.
//!
//! The rules (checked by experiment, see the repository's notes on the JSON interface):
//! - `td_send` and `td_execute` may be called from any thread, concurrently. They copy the
//!   request before returning.
//! - `td_receive` must never run on two threads at once: TDLib aborts the process. The
//!   [`Receiver`] token makes that a property of the types: there is at most one, and only its
//!   holder can receive.
//! - A string TDLib returns lives in a buffer of the calling thread until that thread's next
//!   `td_receive` or `td_execute`; these wrappers copy or consume it before returning.

use std::ffi::{CStr, c_char, c_int};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// A new client id (TDLib starts the instance at its first request).
pub(crate) fn create_client_id() -> i32 {
    // SAFETY: no preconditions; any thread.
    unsafe { tdlib_sys::td_create_client_id() }
}

/// `td_send`: hands `request` to client `client_id`. TDLib parses it on this thread and
/// answers through `td_receive`.
pub(crate) fn send(client_id: i32, request: &CStr) {
    // SAFETY: a valid NUL-terminated string; td_send may run on any thread and copies the
    // request before it returns.
    unsafe { tdlib_sys::td_send(client_id, request.as_ptr()) }
}

/// `td_execute`: runs a synchronous request and returns TDLib's answer, copied; `None` if
/// TDLib returned nothing.
pub(crate) fn execute(request: &CStr) -> Option<String> {
    // SAFETY: a valid NUL-terminated string; td_execute may run on any thread.
    let answer = unsafe { tdlib_sys::td_execute(request.as_ptr()) };
    if answer.is_null() {
        return None;
    }
    // SAFETY: a non-null answer is NUL-terminated and valid until this thread's next TDLib
    // call; it is copied here. TDLib escapes all non-ASCII, so the lossy conversion never
    // changes an answer.
    Some(
        unsafe { CStr::from_ptr(answer) }
            .to_string_lossy()
            .into_owned(),
    )
}

/// Makes TDLib pass each log message (up to `max_verbosity`, and TDLib's global verbosity) to
/// `handler`, on whatever thread logs it. The handler must not call TDLib; a panic in it is
/// caught here, since it must not unwind into TDLib. The first handler set stays.
pub(crate) fn set_log_message_handler(max_verbosity: i32, handler: fn(i32, &str)) {
    static HANDLER: OnceLock<fn(i32, &str)> = OnceLock::new();

    unsafe extern "C" fn trampoline(level: c_int, message: *const c_char) {
        if message.is_null() {
            return;
        }
        // SAFETY: TDLib passes a NUL-terminated string valid for the duration of the call.
        let text = unsafe { CStr::from_ptr(message) }.to_string_lossy();
        if let Some(handler) = HANDLER.get() {
            let _ = std::panic::catch_unwind(|| handler(level, &text));
        }
    }

    let _ = HANDLER.set(handler);
    // SAFETY: the trampoline has the callback's signature, calls no TDLib function and never
    // unwinds.
    unsafe { tdlib_sys::td_set_log_message_callback(max_verbosity, Some(trampoline)) }
}

/// The right to call `td_receive`: at most one exists in the process at a time.
#[derive(Debug)]
pub(crate) struct Receiver(());

static RECEIVER_TAKEN: AtomicBool = AtomicBool::new(false);

impl Receiver {
    /// The token, unless another part of the process holds it.
    pub(crate) fn acquire() -> Option<Receiver> {
        // Made only on success: dropping a `Receiver` gives the right back.
        (!RECEIVER_TAKEN.swap(true, Ordering::AcqRel)).then(|| Receiver(()))
    }

    /// `td_receive`: waits up to `timeout` seconds for the next output of any client and
    /// hands it to `handle` (which must be done with it before it returns). `None` when
    /// nothing came (which, during a client's shutdown, can happen before the timeout).
    pub(crate) fn receive<R>(
        &mut self,
        timeout: f64,
        handle: impl FnOnce(&[u8]) -> R,
    ) -> Option<R> {
        // SAFETY: `self` proves that no other thread is inside td_receive.
        let answer = unsafe { tdlib_sys::td_receive(timeout) };
        if answer.is_null() {
            return None;
        }
        // SAFETY: a non-null answer is NUL-terminated and valid until this thread's next TDLib
        // call, and the slice does not outlive this call. `handle` must be done reading it
        // before it runs any code that could call TDLib on this thread (user callbacks,
        // `tracing`): the router copies or decodes what it needs first.
        let bytes = unsafe { CStr::from_ptr(answer) }.to_bytes();
        Some(handle(bytes))
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        RECEIVER_TAKEN.store(false, Ordering::Release);
    }
}
