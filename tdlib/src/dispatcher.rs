//! The process-wide receive loop.
//!
//! # Threading model
//!
//! - TDLib has one output queue for all clients of a process, read with `td_receive`, which
//!   aborts the process if two threads are inside it at once. One thread, `tdlib-receive`, is
//!   its only caller. It starts with the first [`Client`](crate::Client) and exits after the
//!   last client has reported `authorizationStateClosed` (a later client starts a new one).
//!   While clients exist it waits in `td_receive` with a one-second timeout: no busy loop.
//! - Requests are sent with `td_send` directly by the task that makes them, on any thread
//!   (TDLib allows that and parses the request on the caller's thread).
//! - The receive thread copies each answer at once (the buffer dies at the next call), reads
//!   `@client_id` and `@extra` from the end of the text (TDLib appends them there), and:
//!   - an answer to a request (it carries our numeric `@extra`): removes the request from the
//!     pending table and hands it the raw text. The waiting task decodes it, so decoding work
//!     spreads over the runtime's threads instead of queueing on this one;
//!   - an update: decodes it once, here, so that each client's updates stay in order; keeps the
//!     client's authorization and connection state current; and passes it (`Arc`) to the
//!     client's subscribers.
//! - When a client reports `authorizationStateClosed`, its requests still pending are dropped
//!   (their futures end with [`Error::Closed`](crate::Error::Closed)) and it is removed.
//! - A request future that is dropped removes its entry; an answer that arrives later finds no
//!   entry and is discarded.

use std::collections::HashMap;
use std::ffi::CStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tdlib_types::codec::Decode;
use tdlib_types::enums::Update;
use tokio::sync::oneshot;

use crate::client::Shared;

/// The dispatcher of this process.
pub(crate) fn dispatcher() -> &'static Dispatcher {
    static DISPATCHER: Dispatcher = Dispatcher {
        state: Mutex::new(State {
            clients: None,
            pending: None,
            thread: None,
            thread_running: false,
        }),
        next_extra: AtomicU64::new(1),
    };
    &DISPATCHER
}

pub(crate) struct Dispatcher {
    state: Mutex<State>,
    next_extra: AtomicU64,
}

struct State {
    /// Live clients by id (created lazily: `HashMap::new` is not const).
    clients: Option<HashMap<i32, Arc<Shared>>>,
    /// Requests waiting for their answer, by `@extra`.
    pending: Option<HashMap<u64, Pending>>,
    /// The receive thread, running or finished.
    thread: Option<JoinHandle<()>>,
    thread_running: bool,
}

struct Pending {
    client_id: i32,
    answer: oneshot::Sender<String>,
}

impl State {
    fn clients(&mut self) -> &mut HashMap<i32, Arc<Shared>> {
        self.clients.get_or_insert_with(HashMap::new)
    }

    fn pending(&mut self) -> &mut HashMap<u64, Pending> {
        self.pending.get_or_insert_with(HashMap::new)
    }
}

impl Dispatcher {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; if something did, the state is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a new client and makes sure the receive thread runs.
    pub(crate) fn add_client(&'static self, shared: Arc<Shared>) -> Result<(), std::io::Error> {
        let mut state = self.lock();
        state.clients().insert(shared.id, shared);
        if !state.thread_running {
            // A previous thread decided to stop (under this lock) and receives no more; wait
            // for it to be gone so that there is never a second receiver.
            if let Some(old) = state.thread.take() {
                let _ = old.join();
            }
            let thread = std::thread::Builder::new()
                .name("tdlib-receive".into())
                .spawn(move || self.run())?;
            state.thread = Some(thread);
            state.thread_running = true;
        }
        Ok(())
    }

    /// A fresh `@extra` for a request.
    pub(crate) fn next_extra(&self) -> u64 {
        self.next_extra.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers a request before it is sent. Fails if the client is gone.
    pub(crate) fn add_pending(
        &self,
        client_id: i32,
        extra: u64,
        answer: oneshot::Sender<String>,
    ) -> bool {
        let mut state = self.lock();
        if !state.clients().contains_key(&client_id) {
            return false;
        }
        state.pending().insert(extra, Pending { client_id, answer });
        true
    }

    /// Forgets a request whose future was dropped (or answered: then this does nothing).
    pub(crate) fn remove_pending(&self, extra: u64) {
        self.lock().pending().remove(&extra);
    }

    /// Requests waiting for an answer, over all clients.
    pub(crate) fn pending_count(&self) -> usize {
        self.lock().pending().len()
    }

    /// Whether the receive thread is running.
    pub(crate) fn is_running(&self) -> bool {
        self.lock().thread_running
    }

    /// Closes every live client and waits, up to `limit`, until TDLib has reported each
    /// closed and the receive thread has stopped. Returns whether that happened in time.
    pub(crate) fn close_all_blocking(&self, limit: Duration) -> bool {
        let open: Vec<Arc<Shared>> = self.lock().clients().values().cloned().collect();
        for client in open {
            // Clients already closed, or being closed, are only waited for.
            if client.claim_close() {
                // SAFETY: a valid NUL-terminated request.
                unsafe { tdlib_sys::td_send(client.id, c"{\"@type\":\"close\"}".as_ptr()) };
            }
        }
        let deadline = std::time::Instant::now() + limit;
        loop {
            let (done, thread) = {
                let mut state = self.lock();
                let done = state.clients().is_empty() && !state.thread_running;
                (done, if done { state.thread.take() } else { None })
            };
            if done {
                // The thread has decided to stop; after the join it is gone, and nothing of
                // this library is inside TDLib any more.
                if let Some(thread) = thread {
                    let _ = thread.join();
                }
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn run(&'static self) {
        // The client of the last update: bursts of updates come from one client, and this
        // spares the state lock for each of them. Only `route` removes clients, and it clears
        // this when it does.
        let mut last_client: Option<Arc<Shared>> = None;
        loop {
            // SAFETY: this thread is the only caller of td_receive (see the module docs).
            let answer = unsafe { tdlib_sys::td_receive(RECEIVE_TIMEOUT.as_secs_f64()) };
            if !answer.is_null() {
                // SAFETY: a non-null answer is a NUL-terminated string valid until this thread's
                // next TDLib call; `route` is done with it before that (it copies answers to
                // requests, and decodes updates in place).
                let bytes = unsafe { CStr::from_ptr(answer) }.to_bytes();
                // TDLib escapes all non-ASCII, so the text is valid UTF-8 (checked anyway; a
                // lossy copy is the fallback).
                match std::str::from_utf8(bytes) {
                    Ok(text) => self.route(text, &mut last_client),
                    Err(_) => self.route(&String::from_utf8_lossy(bytes), &mut last_client),
                }
            }
            let mut state = self.lock();
            if state.clients().is_empty() {
                state.thread_running = false;
                return;
            }
        }
    }

    fn route(&self, text: &str, last_client: &mut Option<Arc<Shared>>) {
        let (client_id, extra) = envelope(text);
        if let Some(extra) = extra {
            let pending = self.lock().pending().remove(&extra);
            if let Some(pending) = pending {
                // The receiver may be gone (future dropped just now): the answer is discarded.
                let _ = pending.answer.send(text.to_owned());
            }
            return;
        }
        let Some(client_id) = client_id else {
            return; // Not from a client (nothing such is expected).
        };
        let client = match last_client {
            Some(client) if client.id == client_id => client.clone(),
            _ => {
                let Some(client) = self.lock().clients().get(&client_id).cloned() else {
                    return; // A client already gone.
                };
                *last_client = Some(client.clone());
                client
            }
        };
        match Update::from_json(text) {
            Ok(update) => {
                if client.publish(update) {
                    *last_client = None;
                    self.remove_client(client.id);
                }
            }
            Err(error) => tracing::warn!(%error, "undecodable TDLib update dropped: {text}"),
        }
    }

    /// Removes a closed client and drops its pending requests.
    fn remove_client(&self, client_id: i32) {
        let mut state = self.lock();
        state.clients().remove(&client_id);
        state
            .pending()
            .retain(|_, pending| pending.client_id != client_id);
    }
}

/// Reads `@client_id` and our numeric `@extra` from the end of a TDLib answer, where TDLib
/// appends them: `...,"@extra":12,"@client_id":3}`. It reads backwards from the last byte, so
/// its cost does not grow with the answer. Keys inside string values are escaped
/// (`\"@extra\"`), so the patterns cannot match inside data.
pub(crate) fn envelope(text: &str) -> (Option<i32>, Option<u64>) {
    const CLIENT_ID: &[u8] = b",\"@client_id\":";
    const EXTRA: &[u8] = b",\"@extra\":";
    let Some(head) = text.as_bytes().strip_suffix(b"}") else {
        return (None, None);
    };
    let Some((head, client_id)) = number_at_end(head, CLIENT_ID) else {
        return (None, None);
    };
    let extra = number_at_end(head, EXTRA).map(|(_, extra)| extra);
    (i32::try_from(client_id).ok(), extra)
}

/// Splits `<head><key><digits>` into the head and the number, if `bytes` ends that way.
fn number_at_end<'a>(bytes: &'a [u8], key: &[u8]) -> Option<(&'a [u8], u64)> {
    let digits = bytes
        .iter()
        .rev()
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    if digits == 0 || digits > 19 {
        return None;
    }
    let (rest, number) = bytes.split_at(bytes.len() - digits);
    let head = rest.strip_suffix(key)?;
    let number = std::str::from_utf8(number).ok()?.parse().ok()?;
    Some((head, number))
}

/// How long `td_receive` waits when nothing comes.
const RECEIVE_TIMEOUT: Duration = Duration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::envelope;

    #[test]
    fn envelope_is_read_from_the_end() {
        assert_eq!(
            envelope(r#"{"@type":"testInt","value":144,"@extra":12,"@client_id":3}"#),
            (Some(3), Some(12))
        );
        assert_eq!(
            envelope(r#"{"@type":"updateOption","name":"x","@client_id":1}"#),
            (Some(1), None)
        );
        assert_eq!(
            envelope(
                r#"{"@type":"testString","value":"\",\"@extra\":5,\"@client_id\":9}","@client_id":2}"#
            ),
            (Some(2), None),
            "keys inside strings are escaped"
        );
        assert_eq!(
            envelope(r#"{"@type":"ok","@extra":"user","@client_id":1}"#),
            (Some(1), None)
        );
        assert_eq!(envelope(r#"{"@type":"ok"}"#), (None, None));
        assert_eq!(
            envelope(r#"{"@type":"ok","@client_id":99999999999}"#),
            (None, None),
            "not an i32"
        );
        assert_eq!(envelope(r#"{"@type":"ok","@client_id":}"#), (None, None));
        assert_eq!(envelope(""), (None, None));
        let long = format!(
            r#"{{"@type":"testString","value":"{}","@extra":7,"@client_id":1}}"#,
            "x".repeat(100_000)
        );
        assert_eq!(envelope(&long), (Some(1), Some(7)));
    }
}
