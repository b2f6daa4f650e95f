//! Synchronous requests, run on the calling thread without a client.

use std::ffi::{CStr, CString};

use tdlib_types::codec::Synchronous;

use crate::Error;
use crate::client::decode_answer;

/// Runs one of the functions TDLib documents as callable synchronously (the type system admits
/// only those) and returns its typed answer.
///
/// ```
/// use tdlib::{enums, execute, functions, types};
///
/// let parsed = execute(functions::ParseTextEntities {
///     text: "<b>bold</b>".into(),
///     parse_mode: enums::TextParseMode::HTML(types::TextParseModeHTML {}),
/// })?;
/// assert_eq!(parsed.text, "bold");
/// # Ok::<(), tdlib::Error>(())
/// ```
pub fn execute<F: Synchronous>(request: F) -> Result<F::Output, Error> {
    crate::logging::init();
    let request = CString::new(request.to_json())
        .map_err(|_| Error::InvalidRequest("a request must not contain NUL".into()))?;
    // SAFETY: a valid NUL-terminated request; td_execute may run on any thread. The answer lives
    // in this thread's buffer until its next TDLib call and is copied before that.
    let answer = unsafe { tdlib_sys::td_execute(request.as_ptr()) };
    if answer.is_null() {
        return Err(Error::InvalidRequest("TDLib returned no answer".into()));
    }
    // SAFETY: non-null answers are NUL-terminated.
    let answer = unsafe { CStr::from_ptr(answer) }
        .to_string_lossy()
        .into_owned();
    decode_answer::<F::Output>(&answer)
}
