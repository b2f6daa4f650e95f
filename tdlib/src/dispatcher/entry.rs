//! [`ClientEntry`]: what the receive thread and a client's handles share.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use tdlib_types::enums::Update;

use crate::Error;
use crate::request::{Body, Special};
use crate::state::States;
use crate::subscription::{End, Hub};

/// The life of a client, as the receive thread sees it.
const OPEN: u8 = 0;
/// TDLib reported `authorizationStateClosed`.
const CLOSED: u8 = 1;
/// The receive loop failed while the client was open; TDLib is told to close it, and its
/// output is ignored until it has.
const FAILED: u8 = 2;

/// No `setTdlibParameters` accepted yet.
const DATABASE_UNKNOWN: u8 = 0;
/// The accepted parameters asked for no database.
const NO_DATABASE: u8 = 1;
/// The accepted parameters asked for a database.
const WITH_DATABASE: u8 = 2;

/// What `admit` noted of a request, for `answered`: for `setTdlibParameters`, whether it asks
/// for a database.
pub(crate) struct Admitted(Option<bool>);

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
    /// Whether the `setTdlibParameters` TDLib accepted asked for any database
    /// ([`DATABASE_UNKNOWN`] until TDLib accepted one; see [`Special::GetDatabaseStatistics`]).
    database: AtomicU8,
    failure: Mutex<Option<Error>>,
    /// The downloads running, by file id (see [`crate::transfer`]).
    pub(crate) downloads: crate::transfer::Leases,
    /// For a client of a TDLib in another process: what carries its requests (it is then not
    /// in the dispatcher's table, and its updates come from the transport).
    pub(crate) remote: Option<Arc<dyn crate::remote::Transport>>,
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
            database: AtomicU8::new(DATABASE_UNKNOWN),
            failure: Mutex::new(None),
            downloads: Default::default(),
            remote: None,
        }
    }

    /// A remote client's entry (id 0: it is not one of this process's TDLib clients).
    pub(crate) fn remote(
        capacity: usize,
        warn_at: usize,
        transport: Arc<dyn crate::remote::Transport>,
    ) -> ClientEntry {
        ClientEntry {
            remote: Some(transport),
            ..ClientEntry::new(0, capacity, warn_at)
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

    /// Refuses a request that this client's state makes fatal to the process (see
    /// [`Special::GetDatabaseStatistics`]); what it notes is for [`ClientEntry::answered`].
    pub(crate) fn admit(&self, body: &Body) -> Result<Admitted, Error> {
        match body.function() {
            Special::SetTdlibParameters => Ok(Admitted(Some(body.asks_for_a_database()))),
            Special::GetDatabaseStatistics
                if self.database.load(Ordering::Acquire) != WITH_DATABASE =>
            {
                Err(Error::invalid_request(
                    "getDatabaseStatistics crashes TDLib in a client without a database: it is \
                     sent only after TDLib accepted setTdlibParameters with use_file_database, \
                     use_chat_info_database or use_message_database",
                ))
            }
            _ => Ok(Admitted(None)),
        }
    }

    /// Takes note of TDLib's answer to an admitted request: the parameters TDLib accepted count
    /// (TDLib refuses a second `setTdlibParameters`, so the first accepted one stays).
    pub(crate) fn answered(&self, admitted: Admitted, answer: &Result<String, Error>) {
        let (Admitted(Some(asks)), Ok(text)) = (admitted, answer) else {
            return;
        };
        if text.starts_with(r#"{"@type":"ok""#) {
            let database = if asks { WITH_DATABASE } else { NO_DATABASE };
            let _ = self.database.compare_exchange(
                DATABASE_UNKNOWN,
                database,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        }
    }

    /// Marks the client closed, before its `authorizationStateClosed` is published: requests
    /// are refused from now on.
    pub(crate) fn mark_closed(&self) {
        let _ = self
            .status
            .compare_exchange(OPEN, CLOSED, Ordering::AcqRel, Ordering::Acquire);
    }

    /// Takes an update from the receive thread: keeps the states current and hands it to the
    /// subscribers. `closed`: the update is `authorizationStateClosed`, after which the
    /// subscriptions and watches end, even if delivering it panics.
    pub(crate) fn publish(&self, update: Update, closed: bool) {
        let _end = closed.then(|| EndsOnDrop(self));
        let recipients = {
            // States change under the subscriber lock, and the update's recipients are taken
            // under it, so that a subscription taken together with a snapshot of the states
            // (`Client::subscribe_with_states`) sees each change exactly once: in the snapshot
            // or in its queue.
            let hub = self.hub.lock();
            match &update {
                Update::AuthorizationState(state) => {
                    self.states.set_authorization(&state.authorization_state);
                }
                Update::ConnectionState(state) => self.states.set_connection(&state.state),
                _ => {}
            }
            if self.status.load(Ordering::Acquire) == FAILED {
                return; // its subscriptions ended with the failure
            }
            hub.recipients()
        };
        self.hub.deliver(recipients, update);
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
        self.hub.end(End::Failed(error.clone()));
        self.states.end();
        true
    }

    /// Ends the subscriptions and watches of a client TDLib reported closed (again: the
    /// failure recovery uses it for a client whose `Closed` could not be delivered).
    pub(crate) fn end_closed(&self) {
        self.hub.end(End::Closed);
        self.states.end();
    }
}

/// Ends a closing client's subscriptions when dropped: after its last update was delivered,
/// or while a panic in delivering it unwinds.
struct EndsOnDrop<'a>(&'a ClientEntry);

impl Drop for EndsOnDrop<'_> {
    fn drop(&mut self) {
        self.0.end_closed();
    }
}
