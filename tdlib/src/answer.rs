//! Reading TDLib's answers: its `error` object becomes an [`Error`], anything else the typed
//! answer.

use tdlib_types::codec::Decode;
use tdlib_types::types;

use crate::Error;

/// Whether an answer is TDLib's `error` object (TDLib writes `@type` first).
pub(crate) fn is_error(answer: &str) -> bool {
    answer.starts_with(r#"{"@type":"error""#)
}

/// Decodes an answer: TDLib's `error` object becomes an [`Error`], anything else `T`.
pub(crate) fn decode<T: Decode>(answer: &str) -> Result<T, Error> {
    if is_error(answer) {
        return Err(tdlib_error(answer));
    }
    T::from_json(answer).map_err(|error| Error::decode(std::any::type_name::<T>(), answer, error))
}

/// TDLib's error object as an [`Error`]. "Request aborted" (500) is what TDLib answers for
/// requests to a closing or closed client.
pub(crate) fn tdlib_error(answer: &str) -> Error {
    match types::Error::from_json(answer) {
        Ok(error) if error.code == 500 && error.message == "Request aborted" => Error::closed(),
        Ok(error) => Error::tdlib(error.code, error.message),
        Err(error) => Error::decode("error", answer, error),
    }
}
