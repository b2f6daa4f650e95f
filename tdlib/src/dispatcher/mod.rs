//! The process-wide receive loop, the table of requests waiting for their answer, and the
//! table of live clients.
//!
//! # Threading model
//!
//! - TDLib has one output queue for all clients of a process, read with `td_receive`, which
//!   aborts the process if two threads are inside it at once. One thread, `tdlib-receive`, is
//!   its only caller (it holds the [`ffi::Receiver`] token). It starts with the first client
//!   and exits after the last client has reported `authorizationStateClosed`; a later client
//!   starts a new one. While clients exist it waits in `td_receive` with a one-second timeout:
//!   no busy loop.
//! - Requests are sent with `td_send` directly by the task that makes them, on any thread
//!   (TDLib allows that and parses the request on the caller's thread). Before that, the
//!   request is checked ([`crate::request`]) so that TDLib can always match its answer to it,
//!   and registered in the pending table under a fresh numeric `@extra`.
//! - The receive thread copies nothing it does not need. For each output it reads
//!   `@client_id` and `@extra` from the end of the text (TDLib appends them there) and:
//!   - an answer (it carries one of our `@extra`s): removes the request from the pending table
//!     and hands it a copy of the text; the waiting task decodes it, so decoding work spreads
//!     over the callers' threads. An answer nobody waits for (the client's own fire-and-forget
//!     requests, or a request whose future was dropped) is discarded and counted;
//!   - an update: decodes it once, in place, so that each client's updates stay in order;
//!     keeps the client's authorization and connection state current; and queues it (shared,
//!     `Arc`) for each subscription that wants it;
//!   - anything else (an answer TDLib could not match to a request, which the checks before
//!     `td_send` are there to prevent) is counted and logged, never published.
//!   - an answer to a request of this crate's own transfers ([`crate::transfer`]) goes to a
//!     callback instead of a waiting task: it runs on this thread, before any later output is
//!     routed (so the transfer knows what to look for in the updates that follow), decodes the
//!     answer here, and is run even if its transfer was dropped meanwhile (with nothing left to
//!     tell). Transfers and the channels of the blocking face take their updates through sinks
//!     of the client's hub, like subscriptions.
//! - After each output, the thread retries work a sink could not do when it took an update:
//!   telling the reader of a full channel how many updates it missed once it has made room.
//! - When a client reports `authorizationStateClosed`, it refuses new requests and its requests
//!   still pending end with `Closed` (before anyone hears of it), then the update is published
//!   and its subscriptions end, then it is removed (the last two even if publishing panics).
//! - Routing runs under `catch_unwind`. A panic there (a bug, or a `tracing` subscriber that
//!   panics on an event logged from this thread) fails every client then open: each pending
//!   request ends with an error (`is_receive_failed`), each subscription ends with
//!   [`Event::Failed`](crate::Event::Failed), and TDLib is told to close the clients. The
//!   loop itself goes on, ignoring their output until TDLib reports them closed, so that clients
//!   created afterwards work. [`health`] reports the failures.
//! - The thread's stack is [`RECEIVE_STACK_SIZE`], enough for the recursive decoders at the
//!   deepest nesting the JSON reader accepts (checked by a test).

mod entry;
mod envelope;
mod receive;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

pub(crate) use entry::ClientEntry;
pub(crate) use envelope::envelope;
pub(crate) use receive::on_receive_thread;

use crate::request::Body;
use crate::{Error, ffi};

/// Stack size of the receive thread. The update decoders recurse once per level of JSON
/// nesting, up to the reader's `MAX_DEPTH` (256); at that depth they need between 0.5 and 1 MiB
/// in an unoptimized build (where frames are largest), and a test checks that a quarter of this
/// suffices for every recursive shape of the schema.
pub const RECEIVE_STACK_SIZE: usize = 8 * 1024 * 1024;

/// How long `td_receive` waits when nothing comes.
const RECEIVE_TIMEOUT: Duration = Duration::from_secs(1);

/// What a request gets back: TDLib's answer, or why there is none.
pub(crate) type Answer = Result<String, Error>;

/// The dispatcher of this process.
pub(crate) fn dispatcher() -> &'static Dispatcher {
    static DISPATCHER: LazyLock<Dispatcher> = LazyLock::new(Dispatcher::default);
    &DISPATCHER
}

#[derive(Default)]
pub(crate) struct Dispatcher {
    clients: Mutex<Clients>,
    /// How many clients are in `clients`, readable without the lock.
    client_count: AtomicUsize,
    /// Requests waiting for their answer, by `@extra`.
    pending: Mutex<HashMap<u64, Pending>>,
    next_extra: AtomicU64,
    counters: Counters,
    last_failure: Mutex<Option<String>>,
}

#[derive(Default)]
struct Clients {
    /// Live clients by id: open ones, and failed ones that TDLib has not closed yet.
    map: HashMap<i32, Arc<ClientEntry>>,
    /// The receive thread, running or finished.
    thread: Option<JoinHandle<()>>,
    running: bool,
}

struct Pending {
    client_id: i32,
    answer: Responder,
}

/// Who takes a request's answer.
pub(crate) enum Responder {
    /// A task or thread waiting for it.
    Waiting(oneshot::Sender<Answer>),
    /// This crate's own code, run on the receive thread.
    Callback(Callback),
}

/// Code of this crate run on the receive thread with an answer's text, or with `None` if the
/// client ended before the answer came (it asks the client why). It runs before any later output
/// of TDLib is routed, so it may set up how the updates that follow are read. It must not block,
/// and must catch panics of users' code it runs.
pub(crate) struct Callback(Option<Box<CallbackFn>>);

type CallbackFn = dyn FnOnce(Option<&str>) + Send;

impl Callback {
    pub(crate) fn new(callback: impl FnOnce(Option<&str>) + Send + 'static) -> Callback {
        Callback(Some(Box::new(callback)))
    }

    fn call(mut self, answer: Option<&str>) {
        if let Some(callback) = self.0.take() {
            callback(answer);
        }
    }
}

impl Drop for Callback {
    fn drop(&mut self) {
        // Not called yet: the request ended without an answer.
        if let Some(callback) = self.0.take() {
            callback(None);
        }
    }
}

impl Responder {
    fn send(self, answer: Answer) {
        match self {
            Responder::Waiting(sender) => {
                // The receiver may be gone (its future was dropped just now).
                let _ = sender.send(answer);
            }
            Responder::Callback(callback) => callback.call(answer.as_deref().ok()),
        }
    }
}

#[derive(Default)]
struct Counters {
    receive_failures: AtomicU64,
    discarded_answers: AtomicU64,
    unmatched_answers: AtomicU64,
    undecodable_updates: AtomicU64,
}

/// The state of the receive loop and its tables ([`health`]): what an application can watch
/// and alert on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Health {
    /// Whether the receive thread runs (it does while any client is open).
    pub receiving: bool,
    /// Clients TDLib has not reported closed.
    pub clients: usize,
    /// Requests waiting for their answer, over all clients.
    pub pending_requests: usize,
    /// How many times routing failed (a panic on the receive thread). Each failure ended the
    /// clients that were open then; the loop went on for later ones.
    pub receive_failures: u64,
    /// What the last failure was.
    pub last_failure: Option<String>,
    /// Answers nobody waited for (fire-and-forget requests, futures dropped before their
    /// answer), discarded.
    pub discarded_answers: u64,
    /// Outputs that were neither an answer to one of this crate's requests nor an update
    /// (TDLib's refusal of a request it could not parse): logged and dropped. Should stay 0.
    pub unmatched_answers: u64,
    /// Updates that could not be decoded (logged, and passed on as `Unrecognized` with their
    /// JSON). Should stay 0.
    pub undecodable_updates: u64,
    /// The longest queue of a lossless subscription now, over all clients.
    pub lossless_backlog: usize,
}

/// The state of the receive loop (see [`Health`]).
pub fn health() -> Health {
    dispatcher().health()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The locks guard plain tables; a panic while one is held (caught on the receive thread)
    // leaves them consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Dispatcher {
    /// Registers a new client and makes sure the receive thread runs.
    pub(crate) fn add_client(&'static self, entry: Arc<ClientEntry>) -> Result<(), Error> {
        let mut clients = lock(&self.clients);
        if !clients.running {
            // A previous thread decided to stop (under this lock) and receives no more; wait
            // for it to be gone, and its token with it, so that there is never a second
            // receiver.
            if let Some(old) = clients.thread.take() {
                let _ = old.join();
            }
            // The old thread may still be on its way out, holding the token, if someone else
            // took its handle to join it (`wait_blocking`): it gives the token back within
            // moments.
            let receiver = Self::receiver_token()?;
            let thread = std::thread::Builder::new()
                .name("tdlib-receive".into())
                .stack_size(RECEIVE_STACK_SIZE)
                .spawn(move || self.run(receiver))
                .map_err(Error::spawn)?;
            clients.thread = Some(thread);
            clients.running = true;
        }
        clients.map.insert(entry.id, entry);
        self.client_count
            .store(clients.map.len(), Ordering::Release);
        Ok(())
    }

    /// The right to call `td_receive`, waited for briefly if an old receive thread still holds
    /// it (it holds no lock of ours while it exits).
    fn receiver_token() -> Result<ffi::Receiver, Error> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(receiver) = ffi::Receiver::acquire() {
                return Ok(receiver);
            }
            if Instant::now() >= deadline {
                return Err(Error::spawn(std::io::Error::other(
                    "another td_receive loop runs in this process",
                )));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// A fresh `@extra` for a request.
    pub(crate) fn next_extra(&self) -> u64 {
        self.next_extra.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers a request before it is sent: its answer will come through the receiver.
    /// Fails if the client is not open.
    pub(crate) fn register(
        &self,
        entry: &ClientEntry,
        extra: u64,
    ) -> Result<oneshot::Receiver<Answer>, Error> {
        let (sender, receiver) = oneshot::channel();
        self.register_responder(entry, extra, Responder::Waiting(sender))?;
        Ok(receiver)
    }

    /// Registers a request whose answer goes to `answer` (see [`Responder`]). Fails if the client
    /// is not open (the responder is then dropped: a callback is called with `None`).
    pub(crate) fn register_responder(
        &self,
        entry: &ClientEntry,
        extra: u64,
        answer: Responder,
    ) -> Result<(), Error> {
        let mut pending = lock(&self.pending);
        // Checked under the pending lock: a client's status changes before its pending
        // requests are dropped under this lock, so a request is either dropped with the others
        // or never registered.
        if !entry.is_open() {
            drop(pending);
            drop(answer); // outside the lock: a callback runs now
            return Err(entry.end_error());
        }
        pending.insert(
            extra,
            Pending {
                client_id: entry.id,
                answer,
            },
        );
        Ok(())
    }

    /// Forgets a request whose future was dropped (or answered: then this does nothing).
    pub(crate) fn forget(&self, extra: u64) {
        let forgotten = lock(&self.pending).remove(&extra);
        // Outside the lock: a forgotten callback runs when it is dropped.
        drop(forgotten);
    }

    /// Sends a request whose answer nobody waits for; it carries an `@extra` like every request,
    /// so its answer is recognized and discarded, never taken for an update.
    pub(crate) fn send_detached(&self, client_id: i32, body: Body) {
        if let Ok(request) = body.with_extra(self.next_extra()) {
            ffi::send(client_id, &request);
        }
    }

    /// Sends `close` to `entry` unless it was sent already; returns whether this call sent it.
    pub(crate) fn close_detached(&self, entry: &ClientEntry) -> bool {
        if !entry.claim_close() {
            return false;
        }
        if let Ok(body) = Body::typed(tdlib_types::functions::Close {}) {
            self.send_detached(entry.id, body);
        }
        true
    }

    /// The live clients (those TDLib has not reported closed).
    pub(crate) fn clients(&self) -> Vec<Arc<ClientEntry>> {
        lock(&self.clients).map.values().cloned().collect()
    }

    /// Whether client `id` is still in the table (TDLib has not reported it closed).
    pub(crate) fn holds(&self, id: i32) -> bool {
        lock(&self.clients).map.contains_key(&id)
    }

    /// Whether the receive thread runs.
    pub(crate) fn is_receiving(&self) -> bool {
        lock(&self.clients).running
    }

    /// Waits, up to `deadline`, until `done` holds; then, if no client is left, until the
    /// receive thread has stopped (so that nothing of this crate is inside TDLib any more).
    pub(crate) fn wait_blocking(&self, deadline: Instant, done: impl Fn() -> bool) -> bool {
        loop {
            if done() {
                let thread = {
                    let mut clients = lock(&self.clients);
                    if clients.map.is_empty() && !clients.running {
                        clients.thread.take()
                    } else if clients.map.is_empty() {
                        None // stopping: look again
                    } else {
                        return true; // other clients live on; the thread stays
                    }
                };
                if let Some(thread) = thread {
                    let _ = thread.join();
                    return true;
                }
                if !self.is_receiving() {
                    return true;
                }
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn health(&self) -> Health {
        let (receiving, clients) = {
            let clients = lock(&self.clients);
            (
                clients.running,
                clients.map.values().cloned().collect::<Vec<_>>(),
            )
        };
        Health {
            receiving,
            clients: clients.len(),
            pending_requests: lock(&self.pending).len(),
            receive_failures: self.counters.receive_failures.load(Ordering::Relaxed),
            last_failure: lock(&self.last_failure).clone(),
            discarded_answers: self.counters.discarded_answers.load(Ordering::Relaxed),
            unmatched_answers: self.counters.unmatched_answers.load(Ordering::Relaxed),
            undecodable_updates: self.counters.undecodable_updates.load(Ordering::Relaxed),
            lossless_backlog: clients
                .iter()
                .map(|client| client.hub.lossless_backlog())
                .max()
                .unwrap_or(0),
        }
    }

    /// Takes the pending requests of the clients `of` selects out of the table. Dropping them
    /// ends them with their client's end error (the waiting request asks the client why).
    fn take_pending(&self, of: impl Fn(i32) -> bool) -> Vec<Pending> {
        let mut pending = lock(&self.pending);
        let theirs: Vec<u64> = pending
            .iter()
            .filter(|(_, request)| of(request.client_id))
            .map(|(extra, _)| *extra)
            .collect();
        theirs
            .into_iter()
            .filter_map(|extra| pending.remove(&extra))
            .collect()
    }

    /// Fails every open client with `error` (see `ClientEntry::fail`) and ends their pending
    /// requests with it; returns the clients it failed. A client added meanwhile goes on.
    fn fail_open_clients(&self, error: &Error) -> Vec<Arc<ClientEntry>> {
        let failed: Vec<Arc<ClientEntry>> = self
            .clients()
            .into_iter()
            .filter(|client| client.fail(error))
            .collect();
        // After the clients' status changed: a request registered from now on is refused.
        let ids: Vec<i32> = failed.iter().map(|client| client.id).collect();
        for pending in self.take_pending(|client_id| ids.contains(&client_id)) {
            pending.answer.send(Err(error.clone()));
        }
        failed
    }

    /// Forgets a closed client (its pending requests were ended when it closed).
    fn remove_client(&self, client_id: i32) {
        let mut clients = lock(&self.clients);
        clients.map.remove(&client_id);
        self.client_count
            .store(clients.map.len(), Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use tdlib_types::Object;
    use tdlib_types::codec::{Decode, DecodeErrorKind, MAX_DEPTH};
    use tdlib_types::enums::Update;

    use super::RECEIVE_STACK_SIZE;

    /// `open` repeated until the text nests `depth` levels, then `leaf` and the closings.
    fn nested(open: &str, per_level: usize, leaf: &str, close: &str, depth: usize) -> String {
        let levels = depth / per_level;
        format!("{}{leaf}{}", open.repeat(levels), close.repeat(levels))
    }

    /// The recursive shapes of the schema, and unknown content an update skips, each nested
    /// `depth` levels of JSON deep.
    fn deep_texts(depth: usize) -> Vec<(&'static str, String, bool)> {
        let plain = r#"{"@type":"richTextPlain","text":"x"}"#;
        vec![
            (
                "RichText",
                nested(
                    r#"{"@type":"richTextBold","text":"#,
                    1,
                    plain,
                    "}",
                    depth - 1,
                ),
                false,
            ),
            (
                "PageBlock cover",
                nested(
                    r#"{"@type":"pageBlockCover","cover":"#,
                    1,
                    r#"{"@type":"pageBlockDivider"}"#,
                    "}",
                    depth - 1,
                ),
                false,
            ),
            (
                "PageBlock details",
                nested(
                    &format!(r#"{{"@type":"pageBlockDetails","header":{plain},"blocks":["#),
                    2,
                    r#"{"@type":"pageBlockDivider"}"#,
                    "]}",
                    depth - 1,
                ),
                false,
            ),
            (
                "JsonValue",
                nested(
                    r#"{"@type":"jsonValueArray","values":["#,
                    2,
                    r#"{"@type":"jsonValueNull"}"#,
                    "]}",
                    depth - 1,
                ),
                false,
            ),
            (
                "InternalLinkType and TargetChat",
                nested(
                    r#"{"@type":"internalLinkTypeAttachmentMenuBot","target_chat":{"@type":"targetChatInternalLink","link":"#,
                    2,
                    r#"{"@type":"internalLinkTypeSettings"}"#,
                    "}}",
                    depth - 1,
                ),
                false,
            ),
            (
                "an unknown field of an update",
                format!(
                    r#"{{"@type":"updateOption","name":"x","junk":{}}}"#,
                    nested("[", 1, "1", "]", depth - 1)
                ),
                true,
            ),
            (
                "an update of an unknown type",
                format!(
                    r#"{{"@type":"updateFromTheFuture","x":{}}}"#,
                    nested(r#"{"a":"#, 1, "1", "}", depth - 1)
                ),
                true,
            ),
        ]
    }

    /// The decoders recurse once per level of JSON. At the deepest level the reader accepts,
    /// they must fit into a quarter of the receive thread's stack (in this unoptimized build,
    /// where frames are largest); one level deeper must be refused, not overflow.
    #[test]
    fn the_receive_stack_holds_the_deepest_decodable_updates_four_times_over() {
        let decode = || {
            for (shape, text, is_update) in deep_texts(MAX_DEPTH) {
                let decoded = if is_update {
                    Update::from_json(&text).map(drop)
                } else {
                    Object::from_json(&text).map(drop)
                };
                assert!(decoded.is_ok(), "{shape} at depth {MAX_DEPTH}: {decoded:?}");
            }
            for (shape, text, is_update) in deep_texts(MAX_DEPTH + 2) {
                let decoded = if is_update {
                    Update::from_json(&text).map(drop)
                } else {
                    Object::from_json(&text).map(drop)
                };
                assert!(
                    matches!(&decoded, Err(error) if error.kind == DecodeErrorKind::TooDeep),
                    "{shape} beyond the limit: {decoded:?}"
                );
            }
        };
        std::thread::Builder::new()
            .stack_size(RECEIVE_STACK_SIZE / 4)
            .spawn(decode)
            .unwrap()
            .join()
            .unwrap();
    }
}
