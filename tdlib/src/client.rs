//! [`Client`]: typed requests, subscriptions and states of one TDLib instance.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tdlib_types::codec::{Function, Variant};
use tdlib_types::enums::{AuthorizationState, ConnectionState, Update};
use tdlib_types::functions;

use crate::dispatcher::{ClientEntry, dispatcher};
use crate::request::Body;
use crate::state::StateWatch;
use crate::subscription::{Hub, Subscription, SubscriptionBuilder};
use crate::{ClientBuilder, Error, answer, ffi};

/// A TDLib client: one TDLib instance (one account). Cheap to clone; all clones are the same
/// client. Requests can be made from any task or thread, on any executor.
///
/// Close it with [`Client::close`] before the process exits: TDLib may abort a process that
/// exits while a client is open. A [`CloseOnExit`](crate::CloseOnExit) held in `main` does
/// that for every client left open, also when `main` returns early or panics. Dropping the
/// last handle of an open client closes it in the background (with a warning).
#[derive(Clone)]
pub struct Client {
    handle: Arc<Handle>,
}

/// The last user handle; its drop closes the client if nobody did.
struct Handle {
    entry: Arc<ClientEntry>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // A remote client's TDLib belongs to the process that runs it.
        if self.entry.remote.is_none() && dispatcher().close_detached(&self.entry) {
            tracing::warn!(
                target: "tdlib",
                client_id = self.entry.id,
                "a TDLib client was dropped without close(); closing it in the background"
            );
        }
    }
}

impl Client {
    /// Creates a client with the default options (see [`ClientBuilder`]).
    pub fn new() -> Result<Client, Error> {
        ClientBuilder::default().build()
    }

    /// Options for a new client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Creates a client (the builder has checked the library and configured logging).
    pub(crate) fn create(capacity: usize, warn_at: usize) -> Result<Client, Error> {
        let entry = Arc::new(ClientEntry::new(ffi::create_client_id(), capacity, warn_at));
        dispatcher().add_client(entry.clone())?;
        let client = Client {
            handle: Arc::new(Handle { entry }),
        };
        // TDLib starts the instance at the first request; this one starts its updates. Its
        // answer, like every answer nobody waits for, is discarded.
        if let Ok(body) = Body::typed(functions::GetOption {
            name: "version".into(),
        }) {
            dispatcher().send_detached(client.id(), body);
        }
        Ok(client)
    }

    /// A client handle for an entry made elsewhere (a remote client).
    pub(crate) fn from_entry(entry: Arc<ClientEntry>) -> Client {
        Client {
            handle: Arc::new(Handle { entry }),
        }
    }

    pub(crate) fn entry(&self) -> &Arc<ClientEntry> {
        &self.handle.entry
    }

    /// TDLib's id of this client (0 for a [remote](crate::remote) client).
    pub fn id(&self) -> i32 {
        self.handle.entry.id
    }

    /// Sends a typed request and waits for its typed answer.
    ///
    /// Every request ends: with TDLib's answer, TDLib's error, or an [`Error`] saying why there
    /// is none (the client closed, the request could not be sent). A request TDLib could not
    /// answer in a way that reaches it (too deeply nested, for instance) is refused before it
    /// is sent. Requests that need the network wait for it without a limit while TDLib is
    /// offline; [`Client::send_timeout`] bounds them.
    pub async fn send<F: Function>(&self, request: F) -> Result<F::Output, Error> {
        let body = Body::typed(request)?;
        let answer = self.round_trip(body).await?;
        answer::decode::<F::Output>(&answer)
    }

    /// [`Client::send`] with a time limit, on any executor: at the limit the request is
    /// forgotten (a late answer is discarded) and the result is an error whose
    /// [`is_timeout`](Error::is_timeout) is true.
    pub async fn send_timeout<F: Function>(
        &self,
        request: F,
        limit: Duration,
    ) -> Result<F::Output, Error> {
        crate::timer::timeout(limit, self.send(request)).await
    }

    /// Sends a request given as JSON and returns TDLib's answer as JSON: the escape hatch for
    /// anything the typed API does not cover. The request must be an object with a string
    /// `@type`; an `@extra` in it is given back in the answer. TDLib's error objects become
    /// [`Error`]s.
    pub async fn send_json(&self, request: serde_json::Value) -> Result<serde_json::Value, Error> {
        let (body, user_extra) = Body::json(request)?;
        let answer = self.round_trip(body).await?;
        if answer::is_error(&answer) {
            return Err(answer::tdlib_error(&answer));
        }
        let mut value: serde_json::Value = serde_json::from_str(&answer).map_err(|_| {
            Error::decode(
                "JSON",
                &answer,
                tdlib_types::codec::DecodeError {
                    offset: 0,
                    kind: tdlib_types::codec::DecodeErrorKind::Expected("JSON"),
                },
            )
        })?;
        if let Some(object) = value.as_object_mut() {
            object.remove("@client_id");
            object.remove("@extra");
            if let Some(extra) = user_extra {
                object.insert("@extra".into(), extra);
            }
        }
        Ok(value)
    }

    /// Sends a checked request and waits for the answer's text.
    pub(crate) async fn round_trip(&self, body: Body) -> Result<String, Error> {
        let entry = &self.handle.entry;
        if !entry.is_open() {
            return Err(entry.end_error());
        }
        if let Some(transport) = &entry.remote {
            // The remote process checks what its TDLib can survive, as for its own requests.
            let answer = transport.request(body.into_text()).await;
            if !entry.is_open() {
                // Detached or failed meanwhile: the answer is not for this view any more.
                return Err(entry.end_error());
            }
            return answer;
        }
        // Requests that this client's state makes fatal are refused here.
        let admitted = entry.admit(&body)?;
        let dispatcher = dispatcher();
        let extra = dispatcher.next_extra();
        let request = body.with_extra(extra)?;
        let answer = dispatcher.register(entry, extra)?;
        // Removes the entry if this future is dropped before the answer comes.
        let forget = Forget(extra);
        ffi::send(entry.id, &request);
        let answer = match answer.await {
            Ok(answer) => answer,
            // The entry was dropped: the client ended before the answer came.
            Err(_) => Err(entry.end_error()),
        };
        // Either way the receive thread has removed the entry: no second lock for nothing.
        std::mem::forget(forget);
        entry.answered(admitted, &answer);
        answer
    }

    /// Options for a new subscription to updates of kind `U`: [`Update`] for all of them, or
    /// one update struct such as [`types::UpdateNewMessage`](crate::types::UpdateNewMessage).
    /// See [`Subscription`].
    ///
    /// ```no_run
    /// # async fn example(client: tdlib::Client) {
    /// use tdlib::types;
    ///
    /// // Every new message of chat 42, none ever dropped.
    /// let messages = client
    ///     .subscription::<types::UpdateNewMessage>()
    ///     .lossless()
    ///     .filter(|new| new.message.chat_id == 42)
    ///     .subscribe();
    /// # }
    /// ```
    pub fn subscription<U: Variant<Update> + Default>(&self) -> SubscriptionBuilder<'_, U> {
        let entry = &self.handle.entry;
        SubscriptionBuilder::new(&entry.hub, entry.capacity, entry.warn_at)
    }

    /// Subscribes to the updates of kind `U` (see [`Client::subscription`]), with the default
    /// options: a bounded queue that reports what it dropped.
    pub fn subscribe<U: Variant<Update> + Default>(&self) -> Subscription<U> {
        self.subscription::<U>().subscribe()
    }

    /// Subscribes to every update (see [`Client::subscription`]), with the default options.
    pub fn updates(&self) -> Subscription<Update> {
        self.subscribe::<Update>()
    }

    /// A lossless subscription to every update, together with the authorization and
    /// connection states it starts from: every later change is in the subscription, and none
    /// before it.
    pub(crate) fn subscribe_with_states(
        &self,
    ) -> (
        Option<AuthorizationState>,
        Option<ConnectionState>,
        Subscription<Update>,
    ) {
        let entry = &self.handle.entry;
        let mut hub = entry.hub.lock();
        let subscription = Hub::add_lossless_locked(&mut hub, entry.warn_at);
        (
            entry.states.authorization(),
            entry.states.connection(),
            subscription,
        )
    }

    /// The last authorization state TDLib reported.
    pub fn authorization_state(&self) -> Option<AuthorizationState> {
        self.handle.entry.states.authorization()
    }

    /// Watches the authorization state.
    pub fn authorization_states(&self) -> StateWatch<AuthorizationState> {
        self.handle.entry.states.watch_authorization()
    }

    /// The last connection state TDLib reported.
    pub fn connection_state(&self) -> Option<ConnectionState> {
        self.handle.entry.states.connection()
    }

    /// Watches the connection state.
    pub fn connection_states(&self) -> StateWatch<ConnectionState> {
        self.handle.entry.states.watch_connection()
    }

    /// Whether the client is closed, or ended by a failure of the receive loop: requests fail
    /// at once.
    pub fn is_closed(&self) -> bool {
        !self.handle.entry.is_open()
    }
}

/// Removes a pending request when its future ends, whichever way.
struct Forget(u64);

impl Drop for Forget {
    fn drop(&mut self) {
        dispatcher().forget(self.0);
    }
}
