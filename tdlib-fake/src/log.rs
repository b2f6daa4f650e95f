//! The request log (`TDLIB_FAKE_LOG`): one JSON line per request handled and per script
//! problem, written and flushed at once, so that a test can check afterwards what the program
//! under test asked for, even if that program crashed.

use std::fs::File;
use std::io::Write as _;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Instant;

/// Milliseconds since the library was first used.
pub fn ms() -> f64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

/// An append-only file of JSON lines.
#[derive(Debug)]
pub struct RequestLog {
    file: Mutex<File>,
}

impl RequestLog {
    /// Opens (creating if needed) `path` for appending.
    pub fn open(path: &std::path::Path) -> std::io::Result<RequestLog> {
        let file = File::options().create(true).append(true).open(path)?;
        Ok(RequestLog {
            file: Mutex::new(file),
        })
    }

    /// `{"ms":..,"client_id":..,"request":..,"answer":..}`. `request` and `answer` are JSON text.
    pub fn request(&self, client_id: i32, request: &str, answer: &str) {
        self.line(|ms| {
            format!("{{\"ms\":{ms:.3},\"client_id\":{client_id},\"request\":{request},\"answer\":{answer}}}")
        });
    }

    /// `{"ms":..,"client_id":..,"script_error":".."}`, or without `client_id` when it is `None`.
    pub fn script_error(&self, client_id: Option<i32>, message: &str) {
        let client = client_id
            .map(|id| format!(",\"client_id\":{id}"))
            .unwrap_or_default();
        let message = serde_json::Value::from(message);
        self.line(|ms| format!("{{\"ms\":{ms:.3}{client},\"script_error\":{message}}}"));
    }

    /// Writes the line made by `line` from the current time; the time is read under the lock,
    /// so that the lines of one process are in time order.
    fn line(&self, line: impl FnOnce(f64) -> String) {
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        let mut buffer = line(ms()).into_bytes();
        buffer.push(b'\n');
        // One write per line: with O_APPEND, lines of several processes do not interleave.
        let _ = file.write_all(&buffer);
        let _ = file.flush();
    }
}
