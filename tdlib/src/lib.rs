//! TDLib (Telegram's client library) for Rust: typed async requests, and updates through
//! subscriptions.
//!
//! ```
//! use tdlib::{Client, functions};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tdlib::Error> {
//! let client = Client::new()?;
//! let square = client.send(functions::TestSquareInt { x: 12 }).await?;
//! assert_eq!(square.value, 144);
//! client.close().await?;
//! # Ok(())
//! # }
//! ```
//!
//! - [`Client`]: one TDLib instance; [`Client::send`] takes any request of [`functions`] and
//!   returns its answer type; [`Client::updates`] and [`Client::lossless_updates`] subscribe to
//!   updates; [`Client::close`] closes.
//! - The whole typed API is generated from the schema of the linked TDLib: [`types`],
//!   [`enums`], [`functions`], [`Object`] (see [`tdlib_types`]).
//! - [`auth`] logs a client in ([`auth::authorize`] with an [`auth::Authenticator`]: a bot
//!   token, or a user asked at the terminal, or your own).
//! - [`execute`] runs a synchronous request without a client; [`raw::execute`] does so with JSON.
//! - TDLib's log goes to [`tracing`] (see [`logging`]).
//!
//! The threading model (one receive thread per process) is described in the `dispatcher`
//! module's source. The library itself is found and linked by [`tdlib_sys`].

pub mod auth;
mod client;
mod dispatcher;
mod error;
mod execute;
pub mod logging;

pub use client::{
    Client, ClientBuilder, CloseOnExit, DEFAULT_UPDATE_CAPACITY, UpdateEvent, Updates,
    dispatcher_stats,
};
pub use error::Error;
pub use execute::execute;
pub use logging::set_log_verbosity;
pub use tdlib_sys::{LINKED_STATICALLY, TDLIB_COMMIT, TDLIB_VERSION};
pub use tdlib_types::{Object, codec, enums, functions, types};

/// TDLib's JSON interface without types: requests and answers are JSON strings.
pub mod raw {
    use std::ffi::{CStr, CString};
    use std::fmt;

    /// Why a raw call could not be made.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum RawError {
        /// The request contains a NUL byte; TDLib would silently ignore everything after it.
        InteriorNul {
            /// Byte offset of the first NUL.
            position: usize,
        },
        /// TDLib returned no answer (it answers every well-formed call, so this means the
        /// library misbehaved).
        NoAnswer,
        /// The request is not valid JSON (or holds a string TDLib would abort on).
        InvalidJson(tdlib_types::codec::DecodeError),
    }

    impl fmt::Display for RawError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                RawError::InteriorNul { position } => {
                    write!(f, "the request contains a NUL byte at offset {position}")
                }
                RawError::NoAnswer => f.write_str("TDLib returned no answer"),
                RawError::InvalidJson(error) => write!(f, "the request is not valid JSON: {error}"),
            }
        }
    }

    impl std::error::Error for RawError {}

    /// Runs a request that TDLib documents as "can be called synchronously" (for example
    /// `getOption` for `version`, `parseTextEntities`, `setLogVerbosityLevel`) and returns
    /// TDLib's JSON answer, which is an `error` object when the request was refused.
    ///
    /// ```
    /// let answer = tdlib::raw::execute(r#"{"@type":"getOption","name":"version"}"#).unwrap();
    /// assert_eq!(answer, format!(r#"{{"@type":"optionValueString","value":"{}"}}"#, tdlib::TDLIB_VERSION));
    /// ```
    pub fn execute(request: &str) -> Result<String, RawError> {
        // TDLib aborts the whole process on some malformed strings (a lone UTF-16 surrogate
        // escape such as "\ud800" in a string it writes back); a full syntax check first
        // turns those, and any other bad JSON, into an error here.
        let mut reader = tdlib_types::codec::Reader::new(request);
        reader
            .skip()
            .and_then(|()| reader.finish())
            .map_err(RawError::InvalidJson)?;
        let request = CString::new(request).map_err(|error| RawError::InteriorNul {
            position: error.nul_position(),
        })?;
        // SAFETY: `request` is a valid NUL-terminated string; td_execute may be called from any
        // thread. The answer lives in a buffer of this thread until its next TDLib call, and is
        // copied before this function returns.
        let answer = unsafe { tdlib_sys::td_execute(request.as_ptr()) };
        if answer.is_null() {
            return Err(RawError::NoAnswer);
        }
        // SAFETY: non-null answers are NUL-terminated and valid until this thread's next call.
        let answer = unsafe { CStr::from_ptr(answer) };
        // TDLib escapes all non-ASCII output, so a lossy conversion never changes an answer.
        Ok(answer.to_string_lossy().into_owned())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn execute_answers_and_refuses() {
            let answer =
                execute(r#"{"@type":"getTextEntities","text":"see https://example.org"}"#).unwrap();
            assert!(answer.starts_with(r#"{"@type":"textEntities","entities":[{"@type":"textEntity","offset":4,"length":19"#), "{answer}");
            let answer = execute(r#"{"@type":"getMe"}"#).unwrap();
            assert!(
                answer.contains("can't be executed synchronously"),
                "{answer}"
            );
            assert!(matches!(
                execute("{\"@type\":\"getMe\",\"x\":\"a\0b\"}"),
                Err(RawError::InteriorNul { position: 23 })
            ));
            // A lone surrogate would abort the process inside TDLib: refused before it.
            let lone = execute(r#"{"@type":"cleanFileName","file_name":"\ud800"}"#);
            assert!(matches!(lone, Err(RawError::InvalidJson(_))), "{lone:?}");
            assert!(matches!(
                execute("{\"@type\":"),
                Err(RawError::InvalidJson(_))
            ));
        }
    }
}
