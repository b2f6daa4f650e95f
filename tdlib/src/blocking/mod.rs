//! The blocking face: the same client for programs without an async runtime, such as desktop
//! apps whose toolkit runs its own event loop.
//!
//! [`Client`] is a [`crate::Client`] seen through blocking calls: [`Client::send`] blocks the
//! calling thread until the typed answer is there, and updates arrive through
//! [`crossbeam_channel::Receiver`]s, which an event loop can `try_recv` each frame or
//! `select!` over together with its own channels. It is not a second implementation: requests,
//! updates, states and closing go through the same dispatcher, with the same promises (every
//! request ends, only updates reach subscribers, closing ends everything that waits). Both
//! faces can be used on one client at once ([`Client::as_async`], `From<crate::Client>`).
//!
//! ```
//! use tdlib::{Event, blocking, functions, types};
//!
//! # fn main() -> Result<(), tdlib::Error> {
//! let client = blocking::Client::new()?;
//! let options = client.subscribe::<types::UpdateOption>();
//! assert_eq!(client.send(functions::TestSquareInt { x: 12 })?.value, 144);
//! // TDLib announced its version when the client started.
//! let Ok(Event::Update(first)) = options.recv() else { panic!("an option") };
//! assert_eq!(first.name, "version");
//! client.close()?;
//! # Ok(())
//! # }
//! ```
//!
//! # Threads
//!
//! A blocking call parks the calling thread until the receive thread hands it the answer; no
//! runtime and no extra thread is involved. Blocking calls of this module made on the receive
//! thread itself (in a subscription filter) would wait for themselves, and fail at once with
//! [`ErrorKind::Deadlock`](crate::ErrorKind::Deadlock); waiting there on one of the client's
//! channels (`recv` in a filter) cannot be caught and would wait forever: filters must not wait.
//! Calling blocking functions on an async runtime's thread works but holds that thread.

mod channel;
mod transfer;

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::Duration;

use crossbeam_channel::Receiver;
use tdlib_types::codec::{Function, Variant};
use tdlib_types::enums::{AuthorizationState, ConnectionState, Update};
use tdlib_types::{functions, types};

pub(crate) use channel::ChannelSink;
pub use transfer::{Download, OutgoingMessage};

use crate::auth::{AuthError, Authenticator};
use crate::dispatcher::on_receive_thread;
use crate::subscription::{Hub, Subscriber};
use crate::{ClientBuilder, Error, Event, SubscriptionBuilder};

pub use crate::execute;
/// The channel crate of the receivers this face returns, re-exported so that a program uses the
/// same version (for `select!`, `Receiver` in its own types).
pub use crossbeam_channel;

/// A TDLib client with blocking calls and channel subscriptions (see the [module](self)).
/// Cheap to clone; all clones are the same client.
#[derive(Clone)]
pub struct Client {
    inner: crate::Client,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::Client")
            .field("id", &self.inner.id())
            .field("closed", &self.inner.is_closed())
            .finish()
    }
}

impl From<crate::Client> for Client {
    fn from(inner: crate::Client) -> Client {
        Client { inner }
    }
}

impl Client {
    /// Creates a client with the default options; [`ClientBuilder::build`] and `into()` for
    /// others.
    pub fn new() -> Result<Client, Error> {
        crate::Client::new().map(Client::from)
    }

    /// Creates a client with `builder`'s options, sets `parameters` and returns once TDLib has
    /// accepted them (see [`ClientBuilder::start`]).
    pub fn start(
        builder: ClientBuilder,
        parameters: functions::SetTdlibParameters,
    ) -> Result<Client, Error> {
        wait("blocking::Client::start", builder.start(parameters))?.map(Client::from)
    }

    /// The same client, with async calls.
    pub fn as_async(&self) -> &crate::Client {
        &self.inner
    }

    /// TDLib's id of this client.
    pub fn id(&self) -> i32 {
        self.inner.id()
    }

    /// Sends a typed request and blocks until its typed answer is there (see
    /// [`crate::Client::send`]: every request ends).
    pub fn send<F: Function>(&self, request: F) -> Result<F::Output, Error> {
        wait("blocking::Client::send", self.inner.send(request))?
    }

    /// [`Client::send`] with a time limit: at the limit the request is forgotten and the result
    /// is an error whose [`is_timeout`](Error::is_timeout) is true.
    pub fn send_timeout<F: Function>(
        &self,
        request: F,
        limit: Duration,
    ) -> Result<F::Output, Error> {
        wait(
            "blocking::Client::send_timeout",
            self.inner.send_timeout(request, limit),
        )?
    }

    /// Sends a request given as JSON and blocks until TDLib's answer (see
    /// [`crate::Client::send_json`]).
    pub fn send_json(&self, request: serde_json::Value) -> Result<serde_json::Value, Error> {
        wait("blocking::Client::send_json", self.inner.send_json(request))?
    }

    /// Closes the client and returns when TDLib reports it closed (see
    /// [`crate::Client::close`]): requests pending then end with `is_closed`, the channels
    /// disconnect after their last update.
    pub fn close(&self) -> Result<(), Error> {
        wait("blocking::Client::close", self.inner.close())?
    }

    /// Logs the client in with `authenticator` (see [`crate::auth::authorize`]); blocks until it
    /// is ready or the login failed.
    pub fn authorize<A: Authenticator + ?Sized>(
        &self,
        authenticator: &mut A,
    ) -> Result<(), AuthError> {
        wait(
            "blocking::Client::authorize",
            crate::auth::authorize(&self.inner, authenticator),
        )
        .map_err(AuthError::Client)?
    }

    /// Options for a new subscription to updates of kind `U`; finish it with
    /// [`SubscriptionBuilder::channel`].
    pub fn subscription<U: Variant<Update> + Default>(&self) -> SubscriptionBuilder<'_, U> {
        self.inner.subscription::<U>()
    }

    /// A channel of the updates of kind `U` ([`Update`] for all of them, or one update struct
    /// such as [`types::UpdateNewMessage`]), with the default options: bounded, reporting what
    /// it dropped (see [`SubscriptionBuilder::channel`]).
    pub fn subscribe<U: Variant<Update> + Default + Send + Sync + 'static>(
        &self,
    ) -> Receiver<Event<U>> {
        self.subscription::<U>().channel()
    }

    /// A channel of every update, with the default options.
    pub fn updates(&self) -> Receiver<Event<Update>> {
        self.subscribe::<Update>()
    }

    /// The last authorization state TDLib reported.
    pub fn authorization_state(&self) -> Option<AuthorizationState> {
        self.inner.authorization_state()
    }

    /// The last connection state TDLib reported.
    pub fn connection_state(&self) -> Option<ConnectionState> {
        self.inner.connection_state()
    }

    /// A channel of the authorization state: the current one first (if TDLib has reported one),
    /// then every change, in order; it disconnects when the client closes.
    pub fn authorization_states(&self) -> Receiver<AuthorizationState> {
        self.state_channel::<types::UpdateAuthorizationState, AuthorizationState>(|entry| {
            entry.states.authorization()
        })
    }

    /// A channel of the connection state: the current one first (if TDLib has reported one),
    /// then every change, in order; it disconnects when the client closes.
    pub fn connection_states(&self) -> Receiver<ConnectionState> {
        self.state_channel::<types::UpdateConnectionState, ConnectionState>(|entry| {
            entry.states.connection()
        })
    }

    /// A lossless channel of the states carried by updates `U`, starting with the current one:
    /// taken under the hub's lock, under which states change, so every change is seen once.
    fn state_channel<U, T>(
        &self,
        current: impl Fn(&crate::dispatcher::ClientEntry) -> Option<T>,
    ) -> Receiver<T>
    where
        U: Variant<Update> + Default,
        T: channel::Item,
    {
        let entry = self.inner.entry();
        let (sink, receiver) = ChannelSink::<T>::new(None, entry.warn_at);
        let mut hub = entry.hub.lock();
        if let Some(state) = current(entry) {
            sink.send_item(state);
        }
        Hub::add_locked(&mut hub, Subscriber::sink::<U>(None, sink));
        receiver
    }

    /// Whether the client is closed (or ended by a failure of the receive loop).
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}

impl channel::Item for AuthorizationState {
    fn from_update(update: &Arc<Update>) -> Option<Self> {
        match &**update {
            Update::AuthorizationState(update) => Some(update.authorization_state.clone()),
            _ => None,
        }
    }
}

impl channel::Item for ConnectionState {
    fn from_update(update: &Arc<Update>) -> Option<Self> {
        match &**update {
            Update::ConnectionState(update) => Some(update.state.clone()),
            _ => None,
        }
    }
}

/// Runs `future` to its end on this thread, unless this is the receive thread (which the
/// future would wait for).
pub(crate) fn wait<F: Future>(call: &'static str, future: F) -> Result<F::Output, Error> {
    wait_guard(call)?;
    Ok(block_on(future))
}

/// Refuses a blocking call on the receive thread, which it would wait for.
pub(crate) fn wait_guard(call: &'static str) -> Result<(), Error> {
    if on_receive_thread() {
        return Err(Error::deadlock(call));
    }
    Ok(())
}

/// Wakes a parked thread, and says so in a flag: an unpark alone can be taken by another wait
/// on the same thread (a channel's, a lock's), and the wake-up would be lost.
struct Unpark {
    thread: Thread,
    woken: AtomicBool,
}

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

fn unparker() -> Arc<Unpark> {
    Arc::new(Unpark {
        thread: std::thread::current(),
        woken: AtomicBool::new(false),
    })
}

thread_local! {
    /// This thread's waker, made once: a blocking request allocates nothing for waiting.
    static UNPARK: Arc<Unpark> = unparker();
    /// Whether a `block_on` runs on this thread: one inside it (a blocking call in a future it
    /// polls) gets a waker of its own, or it could take the outer one's wake-up.
    static BLOCKING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Clears the nesting mark when the outermost `block_on` ends (also by unwinding).
struct Outermost(bool);

impl Drop for Outermost {
    fn drop(&mut self) {
        if self.0 {
            let _ = BLOCKING.try_with(|blocking| blocking.set(false));
        }
    }
}

/// Polls `future` on this thread, parking until it is woken. A spurious wake-up only costs a
/// poll.
fn block_on<F: Future>(future: F) -> F::Output {
    let outermost = BLOCKING
        .try_with(|blocking| !blocking.replace(true))
        .unwrap_or(false);
    let _mark = Outermost(outermost);
    // Nested, or while the thread's locals are being destroyed (a blocking call in a `Drop` of
    // one): a waker of its own.
    let unpark = match outermost {
        true => UNPARK.try_with(Arc::clone).unwrap_or_else(|_| unparker()),
        false => unparker(),
    };
    let waker = Waker::from(unpark.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        while !unpark.woken.swap(false, Ordering::AcqRel) {
            std::thread::park();
        }
    }
}
