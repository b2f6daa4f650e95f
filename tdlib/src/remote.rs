//! Clients of a TDLib in another process: the same [`Client`], with its requests carried by a
//! [`Transport`] and its updates fed by the transport ([`RemoteUpdates`]).
//!
//! Everything above requests and updates is shared with local clients: typed `send`,
//! subscriptions filtered before queueing, the authorization and connection states, the
//! blocking face, and [`auth::authorize`](crate::auth::authorize). Code moves from a local
//! client to a remote one by changing its constructor. A transport implementation (for
//! example over NATS) provides the two halves:
//!
//! ```
//! use std::future::Future;
//! use std::pin::Pin;
//!
//! use tdlib::Error;
//! use tdlib::remote::Transport;
//!
//! /// Answers every request with an error, as a transport to nowhere would.
//! struct Nowhere;
//!
//! impl Transport for Nowhere {
//!     fn request(&self, _request: String) -> Pin<Box<dyn Future<Output = Result<String, Error>> + Send>> {
//!         Box::pin(async { Err(Error::transport("no remote TDLib here", None)) })
//!     }
//! }
//!
//! # fn main() {
//! let (client, updates) = tdlib::Client::remote(Nowhere);
//! let answer = futures_executor::block_on(client.send(tdlib::functions::GetMe {}));
//! assert_eq!(answer.unwrap_err().kind(), tdlib::ErrorKind::Transport);
//! // Updates the transport receives go in as TDLib's JSON:
//! updates.publish(r#"{"@type":"updateOption","name":"version","value":{"@type":"optionValueString","value":"1.8.65"}}"#).unwrap();
//! # }
//! ```
//!
//! What a remote client does not do: `close` detaches it (its subscriptions end and its
//! requests are refused) without closing the remote TDLib client, which belongs to the process
//! that runs it; file transfers ([`crate::transfer`]) are not carried yet and end with an
//! error; [`Client::id`] is 0.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tdlib_types::codec::Decode;
use tdlib_types::enums::{AuthorizationState, Update};

use crate::dispatcher::ClientEntry;
use crate::{Client, ClientBuilder, Error};

/// Carries the requests of a remote client to its TDLib and brings back the answers.
pub trait Transport: Send + Sync + 'static {
    /// Sends one request, TDLib's JSON (an object with `@type`, without `@extra`), and returns
    /// TDLib's answer as JSON text; TDLib's refusals come as its `error` object. A failure of
    /// the transport itself is an [`Error::transport`]. The future must end: a transport bounds
    /// its requests by a time limit of its own, or [`Client::send_timeout`] is used.
    fn request(
        &self,
        request: String,
    ) -> Pin<Box<dyn Future<Output = Result<String, Error>> + Send>>;
}

/// Where the transport hands over the updates of a remote client, in TDLib's order. Dropping
/// it ends the client's subscriptions and state watches (with
/// [`ErrorKind::Transport`](crate::ErrorKind::Transport) if the client was not closed), so that
/// nothing waits for updates that cannot come.
pub struct RemoteUpdates {
    entry: Arc<ClientEntry>,
}

impl fmt::Debug for RemoteUpdates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteUpdates").finish_non_exhaustive()
    }
}

impl RemoteUpdates {
    /// Publishes one update, as TDLib wrote it, to the client's subscriptions and states. An
    /// update that cannot be decoded is an error, and nothing is published. After
    /// `authorizationStateClosed` the client is closed and its subscriptions end.
    pub fn publish(&self, update: &str) -> Result<(), Error> {
        let update =
            Update::from_json(update).map_err(|error| Error::decode("Update", update, error))?;
        let closed = matches!(
            &update,
            Update::AuthorizationState(state)
                if matches!(state.authorization_state, AuthorizationState::Closed(_))
        );
        if closed {
            self.entry.mark_closed();
        }
        self.entry.publish(update, closed);
        Ok(())
    }

    /// The transport lost the remote client for good: requests are refused with `error`, and
    /// subscriptions end with [`Event::Failed`](crate::Event::Failed).
    pub fn fail(&self, error: Error) {
        self.entry.fail(&error);
    }
}

impl Drop for RemoteUpdates {
    fn drop(&mut self) {
        if self.entry.is_open() {
            self.fail(Error::transport("the remote client's updates ended", None));
        }
    }
}

impl Client {
    /// A client of a TDLib in another process, reached through `transport`, with the default
    /// options; see the [module](crate::remote).
    pub fn remote(transport: impl Transport) -> (Client, RemoteUpdates) {
        ClientBuilder::default().remote(transport)
    }

    /// Whether requests of this client go through a [`Transport`].
    pub fn is_remote(&self) -> bool {
        self.entry().remote.is_some()
    }
}

impl ClientBuilder {
    /// Creates a remote client with these options (see [`Client::remote`]). The version check
    /// of the linked library does not apply: the remote process checks its own.
    pub fn remote(self, transport: impl Transport) -> (Client, RemoteUpdates) {
        let (capacity, warn_at) = self.queue_options();
        let entry = Arc::new(ClientEntry::remote(capacity, warn_at, Arc::new(transport)));
        let client = Client::from_entry(entry.clone());
        (client, RemoteUpdates { entry })
    }
}
