//! TDLib's log, forwarded to [`tracing`] (target `tdlib`).
//!
//! The first [`Client`](crate::Client), [`execute`](crate::execute) or
//! [`raw::execute`](crate::raw::execute) of the process configures TDLib's logging, which is
//! global to the process: its own output to stderr is switched off, its messages go to
//! `tracing` through `td_set_log_message_callback`, and the verbosity is 1 (errors).
//! [`set_log_verbosity`] changes the verbosity. TDLib's level 0 means TDLib is about to abort
//! the process: it is logged as an error with `fatal = true` before that happens.
//!
//! TDLib calls its log callback from inside its own functions, on any thread, and forbids
//! calling TDLib from it; a `tracing` subscriber therefore must not call this crate (or TDLib)
//! while it handles an event of target `tdlib`.

use std::sync::Once;

use tdlib_types::functions;

use crate::request::Body;
use crate::{Error, answer, ffi};

/// The verbosity set when logging is configured: errors only.
pub const DEFAULT_LOG_VERBOSITY: i32 = 1;

/// Configures TDLib's logging once per process (see the module docs).
pub(crate) fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let configured = run(functions::SetLogVerbosityLevel {
            new_verbosity_level: DEFAULT_LOG_VERBOSITY,
        })
        .and_then(|()| {
            run(functions::SetLogStream {
                log_stream: tdlib_types::enums::LogStream::Empty(
                    tdlib_types::types::LogStreamEmpty {},
                ),
            })
        });
        if let Err(error) = configured {
            tracing::warn!(target: "tdlib", %error, "cannot configure TDLib's logging");
        }
        // Delivery is limited by TDLib's global verbosity, so the callback takes every level.
        ffi::set_log_message_handler(1023, forward);
    });
}

/// Sets TDLib's log verbosity: 0 fatal, 1 errors, 2 warnings, 3 info, 4 debug, 5 verbose debug,
/// up to 1024 for more detail. Messages up to that level reach `tracing`.
pub fn set_log_verbosity(level: i32) -> Result<(), Error> {
    init();
    run(functions::SetLogVerbosityLevel {
        new_verbosity_level: level,
    })
}

/// Runs a logging request with `td_execute` (without configuring logging first, which is what
/// these requests do).
fn run<F: tdlib_types::codec::Synchronous<Output = tdlib_types::types::Ok>>(
    request: F,
) -> Result<(), Error> {
    let request = Body::typed(request)?.into_c_string()?;
    let answer =
        ffi::execute(&request).ok_or_else(|| Error::invalid_request("TDLib returned no answer"))?;
    answer::decode::<tdlib_types::types::Ok>(&answer).map(drop)
}

/// Called for each of TDLib's log messages, on any thread.
fn forward(level: i32, text: &str) {
    let text = text.trim_end();
    match level {
        0 => tracing::error!(target: "tdlib", fatal = true, "{text}"),
        1 => tracing::error!(target: "tdlib", "{text}"),
        2 => tracing::warn!(target: "tdlib", "{text}"),
        3 => tracing::info!(target: "tdlib", "{text}"),
        4 => tracing::debug!(target: "tdlib", "{text}"),
        _ => tracing::trace!(target: "tdlib", "{text}"),
    }
}
