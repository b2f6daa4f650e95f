//! TDLib's log, forwarded to [`tracing`] (target `tdlib`).
//!
//! The first [`Client`](crate::Client) or [`execute`](crate::execute) of the process configures
//! TDLib's logging, which is global to the process: its own output to stderr is switched off,
//! its messages go to `tracing` through `td_set_log_message_callback`, and the verbosity is 1
//! (errors). [`set_log_verbosity`] changes the verbosity. TDLib's level 0 means TDLib is about
//! to abort the process: it is logged as an error with `fatal = true` before that happens.

use std::ffi::{CStr, c_char, c_int};
use std::sync::Once;

use crate::Error;

/// The verbosity set when logging is configured: errors only.
pub const DEFAULT_LOG_VERBOSITY: i32 = 1;

/// Configures TDLib's logging once per process (see the module docs).
pub(crate) fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        for request in [
            format!(r#"{{"@type":"setLogVerbosityLevel","new_verbosity_level":{DEFAULT_LOG_VERBOSITY}}}"#),
            r#"{"@type":"setLogStream","log_stream":{"@type":"logStreamEmpty"}}"#.to_owned(),
        ] {
            if let Err(error) = crate::raw::execute(&request) {
                tracing::warn!(target: "tdlib", %error, "cannot configure TDLib's logging");
            }
        }
        // Delivery is limited by TDLib's global verbosity, so the callback takes every level.
        // SAFETY: `forward` has the callback's signature, calls no TDLib function and never
        // unwinds into TDLib.
        unsafe { tdlib_sys::td_set_log_message_callback(1023, Some(forward)) };
    });
}

/// Sets TDLib's log verbosity: 0 fatal, 1 errors, 2 warnings, 3 info, 4 debug, 5 verbose debug,
/// up to 1023 for more detail. Messages up to that level reach `tracing`.
pub fn set_log_verbosity(level: i32) -> Result<(), Error> {
    crate::execute(tdlib_types::functions::SetLogVerbosityLevel {
        new_verbosity_level: level,
    })
    .map(drop)
}

/// Called by TDLib on any thread, for each message; must not call TDLib and must not unwind.
unsafe extern "C" fn forward(level: c_int, message: *const c_char) {
    if message.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: TDLib passes a NUL-terminated string valid for the duration of the call.
        let text = unsafe { CStr::from_ptr(message) }.to_string_lossy();
        let text = text.trim_end();
        match level {
            0 => tracing::error!(target: "tdlib", fatal = true, "{text}"),
            1 => tracing::error!(target: "tdlib", "{text}"),
            2 => tracing::warn!(target: "tdlib", "{text}"),
            3 => tracing::info!(target: "tdlib", "{text}"),
            4 => tracing::debug!(target: "tdlib", "{text}"),
            _ => tracing::trace!(target: "tdlib", "{text}"),
        }
    });
}
