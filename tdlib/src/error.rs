//! [`Error`]: the one error type of the client, opaque, in the manner of tokio-postgres: what
//! happened is asked with predicates ([`Error::is_closed`], [`Error::code`], ...), and the
//! underlying cause, if any, is its [`source`](std::error::Error::source).
//!
//! Nothing here ever prints more than a short prefix of an answer TDLib gave: answers can hold
//! private messages, and an error is the thing most likely to end up in a log.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tdlib_types::codec::{DecodeError, EncodeError};

/// Why a request to TDLib did not give its answer. Cheap to clone.
#[derive(Clone)]
pub struct Error(Arc<Inner>);

struct Inner {
    kind: Kind,
    cause: Option<Cause>,
}

#[derive(Clone)]
enum Cause {
    Decode(DecodeError),
    Encode(EncodeError),
    Io(Arc<std::io::Error>),
    Other(Arc<dyn std::error::Error + Send + Sync>),
}

enum Kind {
    Tdlib {
        code: i32,
        message: String,
    },
    Closed,
    Timeout,
    Decode {
        expected: &'static str,
        answer: Excerpt,
    },
    InvalidRequest(String),
    VersionMismatch {
        library: String,
        api: String,
    },
    Spawn,
    ReceiveFailed(String),
    Deadlock(&'static str),
    TransferStopped(String),
    Transport(String),
}

/// What kind of failure an [`Error`] is, for matching. New kinds may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// TDLib answered with an error object ([`Error::code`], [`Error::message`]).
    Tdlib,
    /// The client is closed or closing: the request was aborted or never sent.
    Closed,
    /// No answer within the time given to the request.
    Timeout,
    /// TDLib's answer could not be decoded into the expected type.
    Decode,
    /// The request was refused before it reached TDLib (malformed, too deep, or one that
    /// would make TDLib abort the process).
    InvalidRequest,
    /// The linked TDLib is not the release the typed API was generated for.
    VersionMismatch,
    /// The receive thread could not be started.
    Spawn,
    /// The receive loop failed (a panic while routing TDLib's output); every request then
    /// pending was ended with this error. Later clients get a working loop.
    ReceiveFailed,
    /// A blocking call was made on the receive thread (in a subscription filter), where it
    /// would wait for itself forever; it was refused.
    Deadlock,
    /// A file transfer stopped before it completed: a download cancelled (by another part of the
    /// program, or by TDLib) or failed, or a message deleted before it was sent.
    TransferStopped,
    /// A remote client's transport could not deliver the request or its answer (see
    /// [`crate::remote`]); the cause is the error's source.
    Transport,
}

/// How many bytes of an answer an error keeps to show.
const EXCERPT: usize = 40;

/// The first bytes of an answer and its full length: enough to recognize it in a log, not
/// enough to leak a private message.
struct Excerpt {
    prefix: String,
    len: usize,
}

impl Excerpt {
    fn of(answer: &str) -> Excerpt {
        let mut end = answer.len().min(EXCERPT);
        while !answer.is_char_boundary(end) {
            end -= 1;
        }
        Excerpt {
            prefix: answer[..end].to_owned(),
            len: answer.len(),
        }
    }
}

impl fmt::Display for Excerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix.len() == self.len {
            write!(f, "{:?}", self.prefix)
        } else {
            write!(f, "{:?}... ({} bytes)", self.prefix, self.len)
        }
    }
}

impl Error {
    fn new(kind: Kind, cause: Option<Cause>) -> Error {
        Error(Arc::new(Inner { kind, cause }))
    }

    /// TDLib's error object (`code`, `message`).
    pub(crate) fn tdlib(code: i32, message: String) -> Error {
        Error::new(Kind::Tdlib { code, message }, None)
    }

    pub(crate) fn closed() -> Error {
        Error::new(Kind::Closed, None)
    }

    pub(crate) fn timeout() -> Error {
        Error::new(Kind::Timeout, None)
    }

    pub(crate) fn decode(expected: &'static str, answer: &str, error: DecodeError) -> Error {
        Error::new(
            Kind::Decode {
                expected,
                answer: Excerpt::of(answer),
            },
            Some(Cause::Decode(error)),
        )
    }

    pub(crate) fn invalid_request(why: impl Into<String>) -> Error {
        Error::new(Kind::InvalidRequest(why.into()), None)
    }

    pub(crate) fn invalid_json(why: impl Into<String>, error: DecodeError) -> Error {
        Error::new(Kind::InvalidRequest(why.into()), Some(Cause::Decode(error)))
    }

    pub(crate) fn unencodable(error: EncodeError) -> Error {
        Error::new(
            Kind::InvalidRequest("the request cannot be written as TDLib's JSON".into()),
            Some(Cause::Encode(error)),
        )
    }

    pub(crate) fn version_mismatch(library: String, api: String) -> Error {
        Error::new(Kind::VersionMismatch { library, api }, None)
    }

    pub(crate) fn spawn(error: std::io::Error) -> Error {
        Error::new(Kind::Spawn, Some(Cause::Io(Arc::new(error))))
    }

    pub(crate) fn deadlock(call: &'static str) -> Error {
        Error::new(Kind::Deadlock(call), None)
    }

    pub(crate) fn download_stopped(file_id: i32, done: u64, total: u64) -> Error {
        Error::new(
            Kind::TransferStopped(format!(
                "the download of file {file_id} stopped at {done} of {total} bytes (cancelled or failed)"
            )),
            None,
        )
    }

    pub(crate) fn message_deleted(chat_id: i64, message_id: i64) -> Error {
        Error::new(
            Kind::TransferStopped(format!(
                "message {message_id} of chat {chat_id} was deleted before it was sent (which \
                 cancels its upload)"
            )),
            None,
        )
    }

    /// A transport's failure, for implementations of [`crate::remote::Transport`]: `why` says
    /// what could not be done (no secret in it: errors end up in logs), `cause` is the
    /// transport's own error, if any.
    pub fn transport(
        why: impl Into<String>,
        cause: Option<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Error {
        Error::new(
            Kind::Transport(why.into()),
            cause.map(|cause| Cause::Other(Arc::from(cause))),
        )
    }

    pub(crate) fn receive_failed(why: impl Into<String>) -> Error {
        Error::new(Kind::ReceiveFailed(why.into()), None)
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match &self.0.kind {
            Kind::Tdlib { .. } => ErrorKind::Tdlib,
            Kind::Closed => ErrorKind::Closed,
            Kind::Timeout => ErrorKind::Timeout,
            Kind::Decode { .. } => ErrorKind::Decode,
            Kind::InvalidRequest(_) => ErrorKind::InvalidRequest,
            Kind::VersionMismatch { .. } => ErrorKind::VersionMismatch,
            Kind::Spawn => ErrorKind::Spawn,
            Kind::ReceiveFailed(_) => ErrorKind::ReceiveFailed,
            Kind::Deadlock(_) => ErrorKind::Deadlock,
            Kind::TransferStopped(_) => ErrorKind::TransferStopped,
            Kind::Transport(_) => ErrorKind::Transport,
        }
    }

    /// Whether TDLib answered with an error object.
    pub fn is_tdlib(&self) -> bool {
        matches!(self.0.kind, Kind::Tdlib { .. })
    }

    /// Whether the client is closed (or closing), so the request was aborted or never sent.
    pub fn is_closed(&self) -> bool {
        matches!(self.0.kind, Kind::Closed)
    }

    /// Whether the time given to the request ran out.
    pub fn is_timeout(&self) -> bool {
        matches!(self.0.kind, Kind::Timeout)
    }

    /// Whether the request was refused before it reached TDLib.
    pub fn is_invalid_request(&self) -> bool {
        matches!(self.0.kind, Kind::InvalidRequest(_))
    }

    /// Whether TDLib's answer could not be decoded into the expected type.
    pub fn is_decode(&self) -> bool {
        matches!(self.0.kind, Kind::Decode { .. })
    }

    /// Whether the request ended because the receive loop failed.
    pub fn is_receive_failed(&self) -> bool {
        matches!(self.0.kind, Kind::ReceiveFailed(_))
    }

    /// TDLib's error code (usually HTTP-like: 400, 401, 404, 429, 500; not always), for an
    /// error TDLib answered.
    pub fn code(&self) -> Option<i32> {
        match &self.0.kind {
            Kind::Tdlib { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// TDLib's error message (e.g. `FLOOD_WAIT_31`, `CHAT_NOT_FOUND`), for an error TDLib
    /// answered.
    pub fn message(&self) -> Option<&str> {
        match &self.0.kind {
            Kind::Tdlib { message, .. } => Some(message),
            _ => None,
        }
    }

    /// For a TDLib error asking to wait (`FLOOD_WAIT_N`, or "Too Many Requests: retry after
    /// N"), how long to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        let message = self.message()?;
        let digits = message
            .strip_prefix("FLOOD_WAIT_")
            .or_else(|| message.rsplit_once("retry after ").map(|(_, rest)| rest))?;
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        digits[..end].parse().ok().map(Duration::from_secs)
    }
}

/// Long messages (a `testReturnError` can carry anything) are cut in `Display` and `Debug`;
/// [`Error::message`] has the whole text.
fn short(text: &str) -> String {
    const LIMIT: usize = 200;
    if text.len() <= LIMIT {
        return text.to_owned();
    }
    let mut end = LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &text[..end], text.len())
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.kind {
            Kind::Tdlib { code, message } => write!(f, "TDLib error {code}: {}", short(message)),
            Kind::Closed => f.write_str("the TDLib client is closed"),
            Kind::Timeout => f.write_str("TDLib did not answer in time"),
            Kind::Decode { expected, answer } => {
                write!(f, "cannot decode TDLib's answer {answer} as {expected}")?;
                if let Some(Cause::Decode(error)) = &self.0.cause {
                    write!(f, ": {error}")?;
                }
                Ok(())
            }
            Kind::InvalidRequest(why) => {
                write!(f, "invalid request: {}", short(why))?;
                match &self.0.cause {
                    Some(Cause::Decode(error)) => write!(f, ": {error}"),
                    Some(Cause::Encode(error)) => write!(f, ": {error}"),
                    _ => Ok(()),
                }
            }
            Kind::VersionMismatch { library, api } if is_newer(library, api) => write!(
                f,
                "the linked TDLib is {library}, newer than TDLib {api} that the typed API was \
                 generated for; either upgrade the tdlib crates to a release made for TDLib {} \
                 (their versions end in +{}), or allow the mismatch with \
                 ClientBuilder::allow_version_mismatch (objects the API does not know then \
                 arrive as Unrecognized)",
                release(library),
                release(library)
            ),
            Kind::VersionMismatch { library, api } => write!(
                f,
                "the linked TDLib is {library}, but the typed API was generated for TDLib {api}; \
                 link the matching library (or allow the mismatch with ClientBuilder::allow_version_mismatch)"
            ),
            Kind::Spawn => f.write_str("cannot start the receive thread"),
            Kind::ReceiveFailed(why) => write!(f, "the receive loop failed: {}", short(why)),
            Kind::Deadlock(call) => write!(
                f,
                "{call} was called on TDLib's receive thread (in a subscription filter), where it \
                 would wait for itself forever"
            ),
            Kind::TransferStopped(why) => f.write_str(why),
            Kind::Transport(why) => {
                write!(f, "the transport to a remote TDLib failed: {}", short(why))
            }
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Error");
        debug.field("kind", &self.kind());
        match &self.0.kind {
            Kind::Tdlib { code, message } => {
                debug.field("code", code).field("message", &short(message));
            }
            Kind::Decode { expected, answer } => {
                debug
                    .field("expected", expected)
                    .field("answer", &format_args!("{answer}"));
            }
            Kind::InvalidRequest(why) | Kind::ReceiveFailed(why) => {
                debug.field("why", &short(why));
            }
            Kind::VersionMismatch { library, api } => {
                debug.field("library", library).field("api", api);
            }
            Kind::Deadlock(call) => {
                debug.field("call", call);
            }
            Kind::TransferStopped(why) | Kind::Transport(why) => {
                debug.field("why", why);
            }
            Kind::Closed | Kind::Timeout | Kind::Spawn => {}
        }
        if let Some(cause) = &self.0.cause {
            match cause {
                Cause::Decode(error) => debug.field("cause", error),
                Cause::Encode(error) => debug.field("cause", error),
                Cause::Io(error) => debug.field("cause", error),
                Cause::Other(error) => debug.field("cause", error),
            };
        }
        debug.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self.0.cause.as_ref()? {
            Cause::Decode(error) => Some(error),
            Cause::Encode(error) => Some(error),
            Cause::Io(error) => Some(&**error),
            Cause::Other(error) => Some(&**error),
        }
    }
}

/// Compares what the library reports with the release the API was generated for. A commit
/// hash is compared only when the library knows its own (builds outside a git checkout, the
/// official prebuilt among them, report `GITDIR-NOTFOUND`).
/// The release a version text starts with (`1.8.67` of `1.8.67 (commit abc)`).
fn release(version: &str) -> &str {
    version.split_whitespace().next().unwrap_or_default()
}

/// Whether release `a` is later than release `b` (dotted numbers; false when either is not one).
fn is_newer(a: &str, b: &str) -> bool {
    let numbers = |version: &str| -> Option<Vec<u64>> {
        release(version)
            .split('.')
            .map(|part| part.parse().ok())
            .collect()
    };
    match (numbers(a), numbers(b)) {
        (Some(a), Some(b)) => a > b,
        _ => false,
    }
}

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
    Err(Error::version_mismatch(
        library,
        format!("{api_version} (commit {api_commit})"),
    ))
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_newer_library_names_both_ways_forward() {
        let newer = check_version("1.8.67", "abc", "1.8.65", "062f").unwrap_err();
        let text = newer.to_string();
        for part in [
            "1.8.67 (commit abc)",
            "1.8.65 (commit 062f)",
            "upgrade the tdlib crates",
            "+1.8.67",
            "allow_version_mismatch",
        ] {
            assert!(text.contains(part), "{part:?} in {text}");
        }
        let older = check_version("1.8.10", "abc", "1.8.65", "062f").unwrap_err();
        assert!(older.to_string().contains("link the matching library"));
        assert!(is_newer("1.10.0", "1.9.9") && !is_newer("1.8.65", "1.8.65"));
        assert!(!is_newer("x", "1.8.65") && !is_newer("1.8.66", "dev"));
    }

    #[test]
    fn version_check() {
        assert!(check_version("1.8.65", "GITDIR-NOTFOUND", "1.8.65", "062f").is_ok());
        assert!(check_version("1.8.65", "062f", "1.8.65", "062f").is_ok());
        let error = check_version("1.8.60", "GITDIR-NOTFOUND", "1.8.65", "062f").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::VersionMismatch);
        let text = error.to_string();
        assert!(text.contains("is 1.8.60,") && text.contains("1.8.65 (commit 062f)"));
        assert!(text.contains("allow_version_mismatch"));
        assert!(
            check_version("1.8.65", "abcd", "1.8.65", "062f").is_err(),
            "same version, other commit"
        );
    }

    #[test]
    fn retry_after_reads_both_forms() {
        let wait = |message: &str| Error::tdlib(429, message.into()).retry_after();
        assert_eq!(wait("FLOOD_WAIT_31"), Some(Duration::from_secs(31)));
        assert_eq!(
            wait("Too Many Requests: retry after 7"),
            Some(Duration::from_secs(7))
        );
        assert_eq!(wait("CHAT_NOT_FOUND"), None);
        assert_eq!(wait("FLOOD_WAIT_"), None);
        assert_eq!(wait("FLOOD_WAIT_99999999999999999999999"), None);
        assert_eq!(Error::closed().retry_after(), None);
    }

    #[test]
    fn answers_are_never_printed_whole() {
        let secret = "a very private message that must not reach a log";
        let answer = format!(r#"{{"@type":"message","text":"{secret}"}}"#);
        let error = Error::decode(
            "Chat",
            &answer,
            DecodeError {
                offset: 3,
                kind: tdlib_types::codec::DecodeErrorKind::MissingType,
            },
        );
        for shown in [format!("{error}"), format!("{error:?}")] {
            assert!(!shown.contains("must not reach"), "{shown}");
            assert!(
                shown.contains(&format!("({} bytes)", answer.len())),
                "{shown}"
            );
        }
        assert!(error.source().is_some(), "the decode error is the source");
        let long = Error::tdlib(400, "é".repeat(1000));
        assert!(long.to_string().len() < 300);
        assert_eq!(long.message().map(str::len), Some(2000));
    }

    #[test]
    fn predicates_and_sources() {
        let spawn = Error::spawn(std::io::Error::other("no threads left"));
        assert_eq!(spawn.kind(), ErrorKind::Spawn);
        assert_eq!(spawn.source().unwrap().to_string(), "no threads left");
        let tdlib = Error::tdlib(404, "Not Found".into());
        assert!(tdlib.is_tdlib() && !tdlib.is_closed());
        assert_eq!(
            (tdlib.code(), tdlib.message()),
            (Some(404), Some("Not Found"))
        );
        assert!(Error::closed().is_closed() && Error::closed().code().is_none());
        assert!(Error::timeout().is_timeout());
        assert!(Error::receive_failed("boom").is_receive_failed());
        assert!(Error::invalid_request("x").is_invalid_request());
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<Error>();
    }
}
