//! The receive loop itself: routing each output of TDLib, and recovering when routing fails.

use std::any::Any;
use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tdlib_types::codec::{Decode, UnknownObject};
use tdlib_types::enums::{AuthorizationState, Update};

use super::{ClientEntry, Dispatcher, RECEIVE_TIMEOUT, envelope, lock};
use crate::{Error, ffi};

thread_local! {
    /// Set on the receive thread: a call that waits for it from there would wait forever.
    static ON_RECEIVE_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the calling thread is the receive thread (where subscription filters run).
pub(crate) fn on_receive_thread() -> bool {
    ON_RECEIVE_THREAD.get()
}

impl Dispatcher {
    /// The body of the receive thread.
    pub(super) fn run(&'static self, mut receiver: ffi::Receiver) {
        ON_RECEIVE_THREAD.set(true);
        let mut stopped = Stopped {
            dispatcher: self,
            armed: true,
        };
        loop {
            match catch_unwind(AssertUnwindSafe(|| self.receive_until_idle(&mut receiver))) {
                Ok(()) => {
                    // Marked stopped under the lock already: the guard must not take the lock
                    // again (a new client may hold it while it joins this thread).
                    stopped.armed = false;
                    return;
                }
                Err(payload) => {
                    let why = panic_message(&*payload);
                    // A payload's own drop may panic too.
                    let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
                    let _ = catch_unwind(AssertUnwindSafe(|| self.recover(why)));
                }
            }
        }
    }

    /// Receives and routes until no client is left (then the thread is marked stopped, under
    /// the clients lock, and returns).
    fn receive_until_idle(&self, receiver: &mut ffi::Receiver) {
        // The client of the last update: bursts of updates come from one client, and this
        // spares a lock for each of them. Only `route` removes clients, and it clears this
        // when it does.
        let mut last_client: Option<Arc<ClientEntry>> = None;
        loop {
            let timeout = RECEIVE_TIMEOUT.as_secs_f64();
            receiver.receive(timeout, |bytes| self.route(bytes, &mut last_client));
            crate::subscription::run_deferred();
            if self.client_count.load(Ordering::Acquire) == 0 {
                let mut clients = lock(&self.clients);
                if clients.map.is_empty() {
                    clients.running = false;
                    return;
                }
            }
        }
    }

    fn route(&self, bytes: &[u8], last_client: &mut Option<Arc<ClientEntry>>) {
        // TDLib escapes all non-ASCII, so the text is valid UTF-8 (checked anyway; a lossy copy
        // is the fallback).
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(bytes),
        };
        let (client_id, extra) = envelope(&text);
        if let Some(extra) = extra {
            self.answer(extra, &text);
            return;
        }
        // TDLib writes `@type` first, and every update's type starts with "update".
        let Some(client_id) = client_id.filter(|_| text.starts_with(r#"{"@type":"update"#)) else {
            // Copied before any other code runs on this thread (a tracing subscriber could call
            // TDLib, which would overwrite the text).
            let shown = excerpt(&text);
            self.counters
                .unmatched_answers
                .fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                target: "tdlib",
                client_id,
                answer = %shown,
                "TDLib answered a request without its @extra, so the answer cannot reach it \
                 (a request this crate should have refused); dropped"
            );
            return;
        };
        let entry = match last_client {
            Some(entry) if entry.id == client_id => entry.clone(),
            _ => {
                let Some(entry) = lock(&self.clients).map.get(&client_id).cloned() else {
                    return; // A client already gone: TDLib sends nothing after Closed.
                };
                *last_client = Some(entry.clone());
                entry
            }
        };
        // Decoded from TDLib's buffer in place; nothing reads the buffer afterwards.
        let update = match Update::from_json(&text) {
            Ok(update) => update,
            Err(error) => {
                // Kept whole, as an update of no known type: a lossless subscription loses
                // nothing, not even what cannot be decoded.
                let unknown = UnknownObject {
                    type_name: type_name(&text).to_owned(),
                    json: text.clone().into_owned(),
                };
                let shown = excerpt(&text);
                self.counters
                    .undecodable_updates
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    target: "tdlib",
                    client_id,
                    %error,
                    update = %shown,
                    "an update TDLib sent could not be decoded; passed on as Unrecognized"
                );
                Update::Unrecognized(unknown)
            }
        };
        let closed = matches!(
            &update,
            Update::AuthorizationState(state)
                if matches!(state.authorization_state, AuthorizationState::Closed(_))
        );
        if !closed {
            entry.publish(update, false);
            return;
        }
        // The client is closed: refuse its requests and end those still waiting before anyone
        // hears of it (so that `close` returns with nothing of the client left pending), then
        // publish, then forget the client, even if publishing panics.
        *last_client = None;
        entry.mark_closed();
        drop(self.take_pending(|id| id == client_id));
        let _forget = Forget(self, client_id);
        entry.publish(update, true);
    }

    /// Hands an answer to the request waiting for it, or discards it.
    fn answer(&self, extra: u64, text: &str) {
        let pending = lock(&self.pending).remove(&extra);
        match pending {
            // The receiver may be gone (its future was dropped just now): then it is dropped.
            Some(pending) => {
                pending.answer.send(Ok(text.to_owned()));
            }
            None => {
                let shown = excerpt(text);
                self.counters
                    .discarded_answers
                    .fetch_add(1, Ordering::Relaxed);
                tracing::debug!(
                    target: "tdlib",
                    extra,
                    answer = %shown,
                    "an answer nobody waits for was discarded"
                );
            }
        }
    }

    /// After a panic in routing: ends every open client (see the module docs) and counts the
    /// failure. The loop then goes on.
    fn recover(&self, why: String) {
        self.counters
            .receive_failures
            .fetch_add(1, Ordering::Relaxed);
        *lock(&self.last_failure) = Some(why.clone());
        let error = Error::receive_failed(why);
        for client in self.clients().iter().filter(|client| client.is_closed()) {
            // TDLib reported it closed, but the panic may have come before it was forgotten.
            client.end_closed();
            self.remove_client(client.id);
        }
        let failed = self.fail_open_clients(&error);
        for client in &failed {
            // TDLib closes it; its output is ignored until then, and then it is removed.
            self.close_detached(client);
        }
        // Last: a panicking subscriber may make this panic too, and it is caught by the caller.
        tracing::error!(
            target: "tdlib",
            %error,
            clients = failed.len(),
            "the receive loop failed; the open clients were ended and are being closed"
        );
    }
}

/// Marks the receive thread stopped if it ends in any other way than by returning from its
/// loop (which does that itself), and fails what is still waiting.
struct Stopped {
    dispatcher: &'static Dispatcher,
    armed: bool,
}

impl Drop for Stopped {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let mut clients = lock(&self.dispatcher.clients);
        if clients.running {
            clients.running = false;
            drop(clients);
            let error = Error::receive_failed("the receive thread ended");
            self.dispatcher.fail_open_clients(&error);
        }
    }
}

/// Forgets a closed client when dropped (after its `Closed` was published, or while a panic in
/// publishing it unwinds).
struct Forget<'a>(&'a Dispatcher, i32);

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.0.remove_client(self.1);
    }
}

/// The message of a panic payload, if it is text.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        format!("a panic on the receive thread: {text}")
    } else if let Some(text) = payload.downcast_ref::<String>() {
        format!("a panic on the receive thread: {text}")
    } else {
        "a panic on the receive thread".to_owned()
    }
}

/// The `@type` of an answer TDLib wrote (it writes `@type` first), or `?`.
fn type_name(text: &str) -> &str {
    text.strip_prefix(r#"{"@type":""#)
        .and_then(|rest| rest.split('"').next())
        .filter(|name| name.len() <= NAME)
        .unwrap_or("?")
}

/// The longest `@type` an excerpt keeps (TDLib's longest names are about 50 bytes).
const NAME: usize = 64;

/// An answer as a log may show it: its `@type` and size, never its content (it can be a private
/// message). Copied out of the answer without allocating, so that it can be made before any
/// code that could overwrite TDLib's buffer runs, and cheaply when nothing logs it.
struct Excerpt {
    name: [u8; NAME],
    name_len: usize,
    len: usize,
}

fn excerpt(text: &str) -> Excerpt {
    let name = type_name(text);
    let mut excerpt = Excerpt {
        name: [0; NAME],
        name_len: name.len(),
        len: text.len(),
    };
    excerpt.name[..name.len()].copy_from_slice(name.as_bytes());
    excerpt
}

impl std::fmt::Display for Excerpt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = std::str::from_utf8(&self.name[..self.name_len]).unwrap_or("?");
        write!(f, "{name} ({} bytes)", self.len)
    }
}
