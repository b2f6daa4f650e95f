//! Closing clients: [`Client::close`], and [`CloseOnExit`], the guard that closes clients left
//! open before the process exits.
//!
//! `close` is sent once per client, whoever asks first (`Client::close`, the drop of its last
//! handle, a guard, or the recovery from a receive-loop failure); everyone else waits for TDLib
//! to report the client closed.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tdlib_types::enums::AuthorizationState;
use tdlib_types::functions;

use crate::dispatcher::{ClientEntry, dispatcher};
use crate::{Client, Error};

impl Client {
    /// Closes the client and returns when TDLib reports it closed. Requests pending then, and
    /// made afterwards, end with an error whose [`is_closed`](Error::is_closed) is true.
    /// Closing a closed client does nothing; closing a client the receive loop failed returns
    /// once TDLib has been told to close it.
    ///
    /// A [remote](crate::remote) client is detached instead: its subscriptions end and its
    /// requests are refused, and the remote TDLib client, which belongs to the process that runs
    /// it, stays open.
    pub async fn close(&self) -> Result<(), Error> {
        let entry = self.entry();
        if entry.remote.is_some() {
            entry.mark_closed();
            entry.end_closed();
            return Ok(());
        }
        let mut states = self.authorization_states();
        if entry.is_open() && entry.claim_close() {
            match self.send(functions::Close {}).await {
                Ok(_) => {}
                Err(error) if error.is_closed() || error.is_receive_failed() => {}
                Err(error) => return Err(error),
            }
        }
        // Returns at Closed, or when the state can no longer change (the client was ended).
        states
            .wait_for(|state| matches!(state, AuthorizationState::Closed(_)))
            .await;
        Ok(())
    }
}

/// Closes clients still open when it is dropped, and waits until TDLib has reported them
/// closed: hold one in `main` so that the process never exits with an open client.
///
/// TDLib checks at process exit, in its static destructors, that no client is open, and a
/// process that exits while one is open crashes in many runs (SIGABRT or SIGSEGV, with nothing
/// printed). This cannot be done from an `atexit` handler: TDLib registers destructors of its
/// own lazily, while clients work, and those run before any handler registered earlier.
/// Dropping this guard at the end of `main` (or while a panic unwinds out of it) runs before
/// all of them. `std::process::exit` skips it: close the clients, or drop the guard, first.
///
/// Two kinds:
/// - [`CloseOnExit::new`] is responsible for every client of the process, except those a
///   scoped guard is responsible for. One in `main` is what a program needs.
/// - [`CloseOnExit::scoped`] is responsible only for the clients given to
///   [`CloseOnExit::watch`]: for tests and libraries, where several guards live in one process
///   and must not close each other's clients.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tdlib::Error> {
/// let _closer = tdlib::CloseOnExit::new();
/// let client = tdlib::Client::new()?;
/// // ... even if this returns early or panics, the client is closed before the process exits.
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[must_use = "the guard closes the clients when it is dropped"]
pub struct CloseOnExit {
    limit: Duration,
    /// `None`: every client not watched by a scoped guard.
    watched: Option<Mutex<Vec<Weak<ClientEntry>>>>,
}

impl CloseOnExit {
    /// A guard for every client of the process (but those of scoped guards) that waits up to
    /// 10 s for them to close.
    pub fn new() -> CloseOnExit {
        CloseOnExit {
            limit: Duration::from_secs(10),
            watched: None,
        }
    }

    /// A guard for the clients given to [`CloseOnExit::watch`] only.
    pub fn scoped() -> CloseOnExit {
        CloseOnExit {
            limit: Duration::from_secs(10),
            watched: Some(Mutex::new(Vec::new())),
        }
    }

    /// How long the drop waits for the clients to close (default 10 s).
    pub fn with_limit(mut self, limit: Duration) -> CloseOnExit {
        self.limit = limit;
        self
    }

    /// Makes this guard responsible for `client`; a process-wide guard then leaves it alone.
    /// Does nothing on a process-wide guard, which is responsible for it already.
    pub fn watch(&self, client: &Client) -> &CloseOnExit {
        if let Some(watched) = &self.watched {
            client.entry().scoped.store(true, Ordering::Release);
            watched
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(Arc::downgrade(client.entry()));
        }
        self
    }

    /// The clients this guard closes now.
    fn targets(&self) -> Vec<Arc<ClientEntry>> {
        match &self.watched {
            Some(watched) => watched
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .filter_map(Weak::upgrade)
                .collect(),
            None => dispatcher()
                .clients()
                .into_iter()
                .filter(|client| !client.scoped.load(Ordering::Acquire))
                .collect(),
        }
    }
}

impl Default for CloseOnExit {
    fn default() -> Self {
        CloseOnExit::new()
    }
}

impl Drop for CloseOnExit {
    fn drop(&mut self) {
        let targets = self.targets();
        for client in &targets {
            // Clients already closing are only waited for.
            dispatcher().close_detached(client);
        }
        let deadline = Instant::now() + self.limit;
        let done = || {
            targets
                .iter()
                .all(|client| !client.is_open() && !dispatcher().holds(client.id))
        };
        if !dispatcher().wait_blocking(deadline, done) {
            tracing::warn!(
                target: "tdlib",
                "TDLib clients were still open when the close-on-exit guard gave up"
            );
        }
    }
}
