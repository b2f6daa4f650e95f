//! [`ClientEntry`]: what the receive thread and a client's handles share.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use tdlib_types::enums::{AuthorizationState, Update};

use crate::Error;
use crate::state::States;
use crate::subscription::{End, Hub};

/// The life of a client, as the receive thread sees it.
const OPEN: u8 = 0;
/// TDLib reported `authorizationStateClosed`.
const CLOSED: u8 = 1;
/// The receive loop failed while the client was open; TDLib is told to close it, and its
/// output is ignored until it has.
const FAILED: u8 = 2;

/// One client's shared state: its subscribers, its states, and how its life ended.
pub(crate) struct ClientEntry {
    pub(crate) id: i32,
    pub(crate) hub: Hub,
    pub(crate) states: States,
    /// Queue options of new subscriptions (from the builder).
    pub(crate) capacity: usize,
    pub(crate) warn_at: usize,
    status: AtomicU8,
    /// Whether `close` was sent (by `Client::close`, the last handle's drop, `CloseOnExit`, or
    /// the recovery from a failure), so that it goes out once.
    close_sent: AtomicBool,
    /// Whether a scoped `CloseOnExit` is responsible for this client (process-wide guards then
    /// leave it alone).
    pub(crate) scoped: AtomicBool,
    /// Whether the last `setTdlibParameters` sent asked for any database (see
    /// [`Watched`](crate::request::Watched)).
    pub(crate) has_database: AtomicBool,
    failure: Mutex<Option<Error>>,
}

impl fmt::Debug for ClientEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match self.status.load(Ordering::Acquire) {
            OPEN => "open",
            CLOSED => "closed",
            _ => "failed",
        };
        f.debug_struct("ClientEntry")
            .field("id", &self.id)
            .field("status", &status)
            .finish_non_exhaustive()
    }
}

impl ClientEntry {
    pub(crate) fn new(id: i32, capacity: usize, warn_at: usize) -> ClientEntry {
        ClientEntry {
            id,
            hub: Hub::default(),
            states: States::default(),
            capacity,
            warn_at,
            status: AtomicU8::new(OPEN),
            close_sent: AtomicBool::new(false),
            scoped: AtomicBool::new(false),
            has_database: AtomicBool::new(false),
            failure: Mutex::new(None),
        }
    }

    /// Whether requests can still be made.
    pub(crate) fn is_open(&self) -> bool {
        self.status.load(Ordering::Acquire) == OPEN
    }

    /// Whether TDLib has reported the client closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.status.load(Ordering::Acquire) == CLOSED
    }

    /// Why requests fail now that the client is not open: the receive loop's failure, or
    /// `Closed`.
    pub(crate) fn end_error(&self) -> Error {
        match &*self.failure.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(error) => error.clone(),
            None => Error::closed(),
        }
    }

    /// Claims the sending of `close`: true for the first caller only, and never once the
    /// client is closed.
    pub(crate) fn claim_close(&self) -> bool {
        !self.is_closed() && !self.close_sent.swap(true, Ordering::AcqRel)
    }

    /// Takes an update from the receive thread: keeps the states current and hands it to the
    /// subscribers. Returns true when it reports the client closed.
    pub(crate) fn publish(&self, update: Update) -> bool {
        // States change under the subscriber lock, so that a subscription taken together with
        // a snapshot of the states (`Client::subscribe_with_states`) sees each change exactly
        // once: in the snapshot or in its queue.
        let mut hub = self.hub.lock();
        let mut closed = false;
        match &update {
            Update::AuthorizationState(state) => {
                closed = matches!(state.authorization_state, AuthorizationState::Closed(_));
                if closed && self.status.load(Ordering::Acquire) == OPEN {
                    // Before anything is announced, so whoever wakes on it sees the status.
                    self.status.store(CLOSED, Ordering::Release);
                }
                self.states.set_authorization(&state.authorization_state);
            }
            Update::ConnectionState(state) => self.states.set_connection(&state.state),
            _ => {}
        }
        if self.status.load(Ordering::Acquire) != FAILED {
            hub.publish(&Arc::new(update));
        }
        if closed {
            hub.end(End::Closed);
            self.states.end();
        }
        closed
    }

    /// Ends the client because the receive loop failed: subscriptions end with
    /// [`Event::Failed`](crate::Event::Failed), watches return, requests fail with `error`.
    /// Returns whether it was open.
    pub(crate) fn fail(&self, error: &Error) -> bool {
        if self
            .status
            .compare_exchange(OPEN, FAILED, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return false;
        }
        *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(error.clone());
        self.hub.lock().end(End::Failed(error.clone()));
        self.states.end();
        true
    }
}
