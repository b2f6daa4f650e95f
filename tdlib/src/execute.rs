//! Synchronous requests, run on the calling thread without a client.

use tdlib_types::codec::Synchronous;

use crate::request::Body;
use crate::{Error, answer, ffi};

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
    let request = Body::typed(request)?.into_c_string()?;
    let answer =
        ffi::execute(&request).ok_or_else(|| Error::invalid_request("TDLib returned no answer"))?;
    answer::decode::<F::Output>(&answer)
}
