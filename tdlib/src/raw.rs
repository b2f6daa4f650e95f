//! TDLib's JSON interface without types: requests and answers are JSON strings.

use crate::request::Body;
use crate::{Error, ffi};

/// Runs a request that TDLib documents as "can be called synchronously" (for example
/// `getOption` for `version`, `parseTextEntities`, `setLogVerbosityLevel`) and returns TDLib's
/// JSON answer, which is an `error` object when TDLib refused the request.
///
/// The request must be one strict JSON object with a string `@type`, nested at most
/// [`MAX_REQUEST_DEPTH`](crate::MAX_REQUEST_DEPTH) levels deep. Anything else, and the few
/// requests that make TDLib kill the process (see the `request` module of this crate), is
/// refused with an [`Error`] (`is_invalid_request`) before TDLib sees it.
///
/// ```
/// let answer = tdlib::raw::execute(r#"{"@type":"getOption","name":"version"}"#).unwrap();
/// assert_eq!(answer, format!(r#"{{"@type":"optionValueString","value":"{}"}}"#, tdlib::TDLIB_VERSION));
/// ```
pub fn execute(request: &str) -> Result<String, Error> {
    crate::logging::init();
    let request = Body::text(request)?.into_c_string()?;
    ffi::execute(&request).ok_or_else(|| Error::invalid_request("TDLib returned no answer"))
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
        for refused in [
            "{\"@type\":\"getMe\",\"x\":\"a\0b\"}",
            r#"{"@type":"cleanFileName","file_name":"\ud800"}"#,
            "{\"@type\":",
            r#"{"@type":"addLogMessage","text":"boom"}"#,
        ] {
            let error = execute(refused).unwrap_err();
            assert!(error.is_invalid_request(), "{refused:?}: {error}");
        }
    }
}
