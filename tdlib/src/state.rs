//! A client's authorization and connection state, as TDLib last reported them, and
//! [`StateWatch`], which waits for them to change.
//!
//! The states are kept by the receive thread from `updateAuthorizationState` and
//! `updateConnectionState`. A watch sees the latest value, never a backlog: it is for "what is
//! the state now, and tell me when it changes". Code that must see every change in order reads
//! a lossless subscription instead.

use std::fmt;

use tdlib_types::enums::{AuthorizationState, ConnectionState};
use tokio::sync::watch;

/// A state as the watch channel holds it: the latest value, and whether it can still change.
#[derive(Debug, Clone)]
struct Snapshot<T> {
    value: Option<T>,
    /// Counts the changes of `value`.
    version: u64,
    /// Set once the client is closed (or its updates stopped): no change will come.
    ended: bool,
}

/// The authorization and connection states of one client; written by the receive thread.
#[derive(Debug)]
pub(crate) struct States {
    authorization: watch::Sender<Snapshot<AuthorizationState>>,
    connection: watch::Sender<Snapshot<ConnectionState>>,
}

impl Default for States {
    fn default() -> Self {
        States {
            authorization: watch::Sender::new(Snapshot::default()),
            connection: watch::Sender::new(Snapshot::default()),
        }
    }
}

impl States {
    pub(crate) fn set_authorization(&self, state: &AuthorizationState) {
        self.authorization
            .send_modify(|snapshot| snapshot.set(state));
    }

    pub(crate) fn set_connection(&self, state: &ConnectionState) {
        self.connection.send_modify(|snapshot| snapshot.set(state));
    }

    /// No more changes: every watch returns.
    pub(crate) fn end(&self) {
        self.authorization
            .send_modify(|snapshot| snapshot.ended = true);
        self.connection
            .send_modify(|snapshot| snapshot.ended = true);
    }

    pub(crate) fn authorization(&self) -> Option<AuthorizationState> {
        self.authorization.borrow().value.clone()
    }

    pub(crate) fn connection(&self) -> Option<ConnectionState> {
        self.connection.borrow().value.clone()
    }

    pub(crate) fn watch_authorization(&self) -> StateWatch<AuthorizationState> {
        StateWatch::new(self.authorization.subscribe())
    }

    pub(crate) fn watch_connection(&self) -> StateWatch<ConnectionState> {
        StateWatch::new(self.connection.subscribe())
    }
}

impl<T> Default for Snapshot<T> {
    fn default() -> Self {
        Snapshot {
            value: None,
            version: 0,
            ended: false,
        }
    }
}

impl<T: Clone> Snapshot<T> {
    /// A new state; none after the end (a watch that returned `None` stays there).
    fn set(&mut self, value: &T) {
        if !self.ended {
            self.value = Some(value.clone());
            self.version += 1;
        }
    }
}

/// Watches one of a client's states ([`Client::authorization_states`](crate::Client::authorization_states),
/// [`Client::connection_states`](crate::Client::connection_states)): the latest value, and a
/// wait for the next change. Works on any executor.
///
/// ```no_run
/// # async fn example(client: tdlib::Client) {
/// use tdlib::enums::AuthorizationState;
///
/// let mut states = client.authorization_states();
/// let ready = states
///     .wait_for(|state| matches!(state, AuthorizationState::Ready(_)))
///     .await;
/// assert!(ready.is_some(), "None: the client closed before it was ready");
/// # }
/// ```
pub struct StateWatch<T> {
    receiver: watch::Receiver<Snapshot<T>>,
    /// The version of the state this watch last returned (or started with).
    seen: u64,
}

impl<T> fmt::Debug for StateWatch<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateWatch")
            .field("state", &std::any::type_name::<T>())
            .finish_non_exhaustive()
    }
}

impl<T: Clone> StateWatch<T> {
    fn new(mut receiver: watch::Receiver<Snapshot<T>>) -> StateWatch<T> {
        let seen = receiver.borrow_and_update().version;
        StateWatch { receiver, seen }
    }

    /// The latest state (`None` before TDLib has reported one).
    pub fn get(&self) -> Option<T> {
        self.receiver.borrow().value.clone()
    }

    /// Waits until the state differs from the one this watch last returned (or started with),
    /// and returns the new one; `None` once it cannot change any more (the client is closed).
    /// States that follow each other quickly may be seen only as the latest of them.
    pub async fn changed(&mut self) -> Option<T> {
        loop {
            {
                let snapshot = self.receiver.borrow_and_update();
                if snapshot.version != self.seen {
                    self.seen = snapshot.version;
                    if let Some(value) = &snapshot.value {
                        return Some(value.clone());
                    }
                }
                if snapshot.ended {
                    return None;
                }
            }
            // The sender lives in the client's shared state; if it is gone, so is the client.
            if self.receiver.changed().await.is_err() {
                return None;
            }
        }
    }

    /// The first state, the current one included, that `accept` accepts; `None` if the client
    /// closes before one does.
    pub async fn wait_for(&mut self, mut accept: impl FnMut(&T) -> bool) -> Option<T> {
        loop {
            // Copied out, so that `accept` runs without the watch's lock (it may read the
            // client's states itself).
            let (value, ended) = {
                let snapshot = self.receiver.borrow_and_update();
                self.seen = snapshot.version;
                (snapshot.value.clone(), snapshot.ended)
            };
            if let Some(value) = value.filter(|value| accept(value)) {
                return Some(value);
            }
            if ended {
                return None;
            }
            if self.receiver.changed().await.is_err() {
                return None;
            }
        }
    }
}
