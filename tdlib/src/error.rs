//! The one error type of the client.

use std::fmt;

use tdlib_types::codec::DecodeError;

/// Why a request to TDLib did not give its answer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// TDLib answered with an error object.
    Tdlib {
        /// TDLib's error code (usually an HTTP-like code: 400, 401, 404, 429, 500; not always).
        code: i32,
        /// TDLib's message, e.g. `FLOOD_WAIT_31`.
        message: String,
    },
    /// The client is closed (or closing): the request was aborted or never sent.
    Closed,
    /// No answer within the time given to the request.
    Timeout,
    /// TDLib's answer could not be decoded into the expected type. The JSON is kept.
    Decode {
        /// The type the answer should have been.
        expected: &'static str,
        /// What was wrong with it.
        error: DecodeError,
        /// The answer as TDLib sent it.
        json: String,
    },
    /// The request cannot be sent (for example a JSON value that is not an object).
    InvalidRequest(String),
    /// The linked TDLib is not the release the typed API was generated for.
    VersionMismatch {
        /// What the library reports (`version`, and `commit_hash` when it knows it).
        library: String,
        /// The release the API was generated for.
        api: String,
    },
}

impl Error {
    /// For a TDLib error asking to wait (`FLOOD_WAIT_N`, or "Too Many Requests: retry after N"),
    /// the number of seconds to wait.
    pub fn retry_after(&self) -> Option<u64> {
        let Error::Tdlib { message, .. } = self else {
            return None;
        };
        let digits = message
            .strip_prefix("FLOOD_WAIT_")
            .or_else(|| message.rsplit_once("retry after ").map(|(_, rest)| rest))?;
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        digits[..end].parse().ok()
    }

    /// Whether the error means the client is closed.
    pub fn is_closed(&self) -> bool {
        matches!(self, Error::Closed)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Tdlib { code, message } => write!(f, "TDLib error {code}: {message}"),
            Error::Closed => f.write_str("the TDLib client is closed"),
            Error::Timeout => f.write_str("TDLib did not answer in time"),
            Error::Decode {
                expected, error, ..
            } => write!(f, "cannot decode TDLib's answer as {expected}: {error}"),
            Error::InvalidRequest(why) => write!(f, "invalid request: {why}"),
            Error::VersionMismatch { library, api } => write!(
                f,
                "the linked TDLib is {library}, but the typed API was generated for TDLib {api}; \
                 link the matching library (or allow the mismatch with ClientBuilder::allow_version_mismatch)"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Decode { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Compares what the library reports with the release the API was generated for. A commit
/// hash is compared only when the library knows its own (builds outside a git checkout, the
/// official prebuilt among them, report `GITDIR-NOTFOUND`).
pub(crate) fn check_version(
    version: &str,
    commit: &str,
    api_version: &str,
    api_commit: &str,
) -> Result<(), Error> {
    let commit_known = !commit.is_empty() && commit != "GITDIR-NOTFOUND";
    if version == api_version && (!commit_known || commit == api_commit) {
        return Ok(());
    }
    let library = if commit_known {
        format!("{version} (commit {commit})")
    } else {
        version.to_owned()
    };
    Err(Error::VersionMismatch {
        library,
        api: format!("{api_version} (commit {api_commit})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_check() {
        assert_eq!(
            check_version("1.8.65", "GITDIR-NOTFOUND", "1.8.65", "062f"),
            Ok(())
        );
        assert_eq!(check_version("1.8.65", "062f", "1.8.65", "062f"), Ok(()));
        let error = check_version("1.8.60", "GITDIR-NOTFOUND", "1.8.65", "062f").unwrap_err();
        assert_eq!(
            error,
            Error::VersionMismatch {
                library: "1.8.60".into(),
                api: "1.8.65 (commit 062f)".into()
            }
        );
        assert!(error.to_string().contains("allow_version_mismatch"));
        assert!(
            check_version("1.8.65", "abcd", "1.8.65", "062f").is_err(),
            "same version, other commit"
        );
    }

    fn tdlib(code: i32, message: &str) -> Error {
        Error::Tdlib {
            code,
            message: message.into(),
        }
    }

    #[test]
    fn retry_after_reads_both_forms() {
        assert_eq!(tdlib(429, "FLOOD_WAIT_31").retry_after(), Some(31));
        assert_eq!(
            tdlib(429, "Too Many Requests: retry after 7").retry_after(),
            Some(7)
        );
        assert_eq!(tdlib(400, "CHAT_NOT_FOUND").retry_after(), None);
        assert_eq!(tdlib(429, "FLOOD_WAIT_").retry_after(), None);
        assert_eq!(Error::Closed.retry_after(), None);
    }
}
