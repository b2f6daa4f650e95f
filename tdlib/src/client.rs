//! [`Client`]: typed requests, update subscriptions, state, and close.

use std::ffi::CString;
use std::fmt::Write as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tdlib_types::codec::{Decode, Encode, Function};
use tdlib_types::enums::{AuthorizationState, ConnectionState, Update};
use tdlib_types::{functions, types};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_stream::Stream;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use crate::Error;
use crate::dispatcher::dispatcher;

/// Default capacity of the update broadcast channel (updates kept for slow subscribers).
pub const DEFAULT_UPDATE_CAPACITY: usize = 4096;

/// A TDLib client: one TDLib instance (one account). Cheap to clone; all clones are the same
/// client. Requests can be made from any task or thread.
///
/// Close it with [`Client::close`] before the process exits: TDLib may abort a process that
/// exits while a client is open. A [`CloseOnExit`] held in `main` does that for every client
/// left open, also when `main` returns early or panics. Dropping the last handle of an open
/// client closes it in the background (with a warning).
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Handle>,
}

/// The last user handle; its drop closes the client if the user did not.
#[derive(Debug)]
struct Handle {
    shared: Arc<Shared>,
}

/// What the client and the receive thread share.
pub(crate) struct Shared {
    pub(crate) id: i32,
    updates: Mutex<Option<broadcast::Sender<Arc<Update>>>>,
    lossless: Mutex<Vec<mpsc::UnboundedSender<Arc<Update>>>>,
    authorization: watch::Sender<Option<AuthorizationState>>,
    connection: watch::Sender<Option<ConnectionState>>,
    closed: AtomicBool,
    /// Whether `close` was sent (by `Client::close`, the last handle's drop, or
    /// `CloseOnExit`), so that it is sent once.
    close_sent: AtomicBool,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("id", &self.id)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Claims the sending of `close`: true for the first caller only, and never once the
    /// client is closed.
    pub(crate) fn claim_close(&self) -> bool {
        !self.closed.load(Ordering::Acquire) && !self.close_sent.swap(true, Ordering::AcqRel)
    }

    /// Hands an update to the subscribers. Returns true when it closed the client.
    pub(crate) fn publish(&self, update: Update) -> bool {
        let mut closed = false;
        // The states change under the lossless lock, so that a subscription taken with
        // `subscribe_with_states` sees each change either in its snapshot or in its stream,
        // never both and never neither.
        let mut lossless = lock(&self.lossless);
        match &update {
            Update::AuthorizationState(state) => {
                closed = matches!(state.authorization_state, AuthorizationState::Closed(_));
                if closed {
                    // Before the state is announced, so whoever wakes on it sees the flag.
                    self.closed.store(true, Ordering::Release);
                }
                self.authorization
                    .send_replace(Some(state.authorization_state.clone()));
            }
            Update::ConnectionState(state) => {
                self.connection.send_replace(Some(state.state.clone()));
            }
            _ => {}
        }
        let update = Arc::new(update);
        lossless.retain(|subscriber| subscriber.send(update.clone()).is_ok());
        if let Some(updates) = lock(&self.updates).as_ref() {
            // No subscriber is not an error: updates are not kept for later subscribers.
            let _ = updates.send(update);
        }
        if closed {
            // Ending the channels ends every subscription.
            lossless.clear();
            lock(&self.updates).take();
        }
        closed
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Options for a new [`Client`]. Its `Debug` output never shows the API hash or the database
/// encryption key.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    update_capacity: usize,
    allow_version_mismatch: bool,
    parameters: Option<functions::SetTdlibParameters>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            update_capacity: DEFAULT_UPDATE_CAPACITY,
            allow_version_mismatch: false,
            parameters: None,
        }
    }
}

impl ClientBuilder {
    /// How many updates the update channel keeps for subscribers that fall behind (they are
    /// told how many they missed beyond that). Default [`DEFAULT_UPDATE_CAPACITY`].
    pub fn update_capacity(mut self, capacity: usize) -> Self {
        self.update_capacity = capacity.max(1);
        self
    }

    /// Accept a linked TDLib of another release than the typed API's, with a warning instead
    /// of [`Error::VersionMismatch`]. Requests and answers may then not match the library.
    pub fn allow_version_mismatch(mut self, allow: bool) -> Self {
        self.allow_version_mismatch = allow;
        self
    }

    /// TDLib's parameters (API id and hash, database and files directories, database
    /// encryption key, test data center, ...), sent by [`ClientBuilder::start`].
    pub fn parameters(mut self, parameters: functions::SetTdlibParameters) -> Self {
        self.parameters = Some(parameters);
        self
    }

    /// Creates the client and, if [`ClientBuilder::parameters`] were given, sets them and waits
    /// for TDLib to accept them. If TDLib refuses them, the client is closed and the error
    /// returned.
    pub async fn start(mut self) -> Result<Client, Error> {
        let parameters = self.parameters.take();
        let client = self.build()?;
        if let Some(parameters) = parameters {
            if let Err(error) = client.send(parameters).await {
                let _ = client.close().await;
                return Err(error);
            }
        }
        Ok(client)
    }

    /// Creates the client. The TDLib instance starts at once; parameters given with
    /// [`ClientBuilder::parameters`] are not sent (use [`ClientBuilder::start`], or send
    /// [`functions::SetTdlibParameters`] when TDLib asks for them).
    pub fn build(self) -> Result<Client, Error> {
        crate::logging::init();
        if let Err(error) = library_version() {
            if !self.allow_version_mismatch {
                return Err(error);
            }
            tracing::warn!(target: "tdlib", %error, "TDLib version mismatch allowed");
        }
        Client::create(self.update_capacity)
    }
}

/// The version check, done once per process.
fn library_version() -> Result<(), Error> {
    static CHECKED: std::sync::OnceLock<Result<(), Error>> = std::sync::OnceLock::new();
    CHECKED
        .get_or_init(|| {
            let option = |name: &str| -> Result<String, Error> {
                match crate::execute(functions::GetOption { name: name.into() })? {
                    tdlib_types::enums::OptionValue::String(value) => Ok(value.value),
                    other => Err(Error::InvalidRequest(format!(
                        "TDLib's {name} is {other:?}"
                    ))),
                }
            };
            crate::error::check_version(
                &option("version")?,
                &option("commit_hash")?,
                tdlib_sys::TDLIB_VERSION,
                tdlib_sys::TDLIB_COMMIT,
            )
        })
        .clone()
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

    fn create(capacity: usize) -> Result<Client, Error> {
        // SAFETY: no preconditions.
        let id = unsafe { tdlib_sys::td_create_client_id() };
        let (updates, _) = broadcast::channel(capacity);
        let shared = Arc::new(Shared {
            id,
            updates: Mutex::new(Some(updates)),
            lossless: Mutex::new(Vec::new()),
            authorization: watch::channel(None).0,
            connection: watch::channel(None).0,
            closed: AtomicBool::new(false),
            close_sent: AtomicBool::new(false),
        });
        dispatcher().add_client(shared.clone()).map_err(|error| {
            Error::InvalidRequest(format!("cannot start the receive thread: {error}"))
        })?;
        let client = Client {
            inner: Arc::new(Handle { shared }),
        };
        // TDLib starts the instance at the first request; this one starts its updates.
        client.send_detached(&functions::GetOption {
            name: "version".into(),
        });
        Ok(client)
    }

    /// TDLib's id of this client.
    pub fn id(&self) -> i32 {
        self.inner.shared.id
    }

    /// Sends a typed request and waits for its typed answer.
    pub async fn send<F: Function>(&self, request: F) -> Result<F::Output, Error> {
        let answer = self.send_text(request.to_json()).await?;
        decode_answer::<F::Output>(&answer)
    }

    /// [`Client::send`] with a time limit; on expiry the request is forgotten (a late answer is
    /// discarded) and the result is [`Error::Timeout`].
    pub async fn send_timeout<F: Function>(
        &self,
        request: F,
        limit: Duration,
    ) -> Result<F::Output, Error> {
        tokio::time::timeout(limit, self.send(request))
            .await
            .unwrap_or(Err(Error::Timeout))
    }

    /// Sends a request given as JSON and returns TDLib's answer as JSON: the escape hatch for
    /// anything the typed API does not cover. The request must be an object with a string
    /// `@type`; an `@extra` in it is given back in the answer.
    pub async fn send_json(&self, request: serde_json::Value) -> Result<serde_json::Value, Error> {
        let serde_json::Value::Object(mut object) = request else {
            return Err(Error::InvalidRequest(
                "a request must be a JSON object".into(),
            ));
        };
        if !object
            .get("@type")
            .is_some_and(serde_json::Value::is_string)
        {
            return Err(Error::InvalidRequest(
                "a request needs a string \"@type\"".into(),
            ));
        }
        let user_extra = object.remove("@extra");
        // serde_json writes valid UTF-8 from Rust strings, which cannot hold lone surrogates:
        // nothing TDLib aborts on can get through.
        let text = serde_json::Value::Object(object).to_string();
        let answer = self.send_text(text).await?;
        if answer.starts_with(r#"{"@type":"error""#) {
            return Err(tdlib_error(&answer));
        }
        let mut value: serde_json::Value =
            serde_json::from_str(&answer).map_err(|_| Error::Decode {
                expected: "JSON",
                error: tdlib_types::codec::DecodeError {
                    offset: 0,
                    kind: tdlib_types::codec::DecodeErrorKind::Expected("JSON"),
                },
                json: answer.clone(),
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

    /// Sends `json` (an object) with a fresh `@extra` and waits for the answer's text.
    pub(crate) async fn send_text(&self, mut json: String) -> Result<String, Error> {
        let shared = &self.inner.shared;
        if shared.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let dispatcher = dispatcher();
        let extra = dispatcher.next_extra();
        if json.pop() != Some('}') {
            return Err(Error::InvalidRequest(
                "a request must be a JSON object".into(),
            ));
        }
        // Room for the envelope and the NUL, so that neither reallocates (copies) the request.
        json.reserve(32);
        let _ = write!(json, ",\"@extra\":{extra}}}");
        let request = CString::new(json)
            .map_err(|_| Error::InvalidRequest("a request must not contain NUL".into()))?;
        let (sender, receiver) = oneshot::channel();
        if !dispatcher.add_pending(shared.id, extra, sender) {
            return Err(Error::Closed);
        }
        // Removes the entry if this future is dropped before the answer comes.
        let _forget = Forget(extra);
        // SAFETY: a valid NUL-terminated request; TDLib copies it before returning.
        unsafe { tdlib_sys::td_send(shared.id, request.as_ptr()) };
        receiver.await.map_err(|_| Error::Closed)
    }

    /// Sends a request whose answer nobody waits for.
    fn send_detached<F: Function>(&self, request: &F) {
        if let Ok(request) = CString::new(request.to_json()) {
            // SAFETY: a valid NUL-terminated request.
            unsafe { tdlib_sys::td_send(self.inner.shared.id, request.as_ptr()) };
        }
    }

    /// Subscribes to the client's updates, from now on. A subscriber that falls more than the
    /// channel's capacity behind receives [`UpdateEvent::Missed`] with the number it missed,
    /// then continues with the oldest update still kept. The stream ends when the client is
    /// closed.
    pub fn updates(&self) -> Updates {
        let receiver = match lock(&self.inner.shared.updates).as_ref() {
            Some(sender) => sender.subscribe(),
            None => broadcast::channel(1).1, // closed: a stream that ends at once
        };
        Updates {
            receiver: Some(receiver),
            stream: None,
        }
    }

    /// [`Client::updates`], keeping only the updates `keep` accepts (lag reports always pass):
    /// a subscription to one kind of update.
    ///
    /// ```no_run
    /// # async fn example(client: tdlib::Client) {
    /// use tdlib::enums::Update;
    /// use tokio_stream::StreamExt;
    ///
    /// let mut messages = client.updates_where(|update| matches!(update, Update::NewMessage(_)));
    /// while let Some(event) = messages.next().await {
    ///     println!("{event:?}");
    /// }
    /// # }
    /// ```
    pub fn updates_where(
        &self,
        keep: impl Fn(&Update) -> bool + Send + 'static,
    ) -> impl Stream<Item = UpdateEvent> + Send + Unpin + 'static {
        tokio_stream::StreamExt::filter(self.updates(), move |event| match event {
            UpdateEvent::Update(update) => keep(update),
            UpdateEvent::Missed(_) => true,
        })
    }

    /// Subscribes to every update, from now on, with nothing ever dropped: for code that must
    /// see each update in order (such as the authorization flow). Its queue grows without bound
    /// while it is not read, so read it.
    pub fn lossless_updates(&self) -> mpsc::UnboundedReceiver<Arc<Update>> {
        let (sender, receiver) = mpsc::unbounded_channel();
        if !self.inner.shared.closed.load(Ordering::Acquire) {
            lock(&self.inner.shared.lossless).push(sender);
        }
        receiver
    }

    /// A lossless subscription together with the authorization and connection states it
    /// starts from: every later change is in the stream, and none before it.
    pub(crate) fn subscribe_with_states(
        &self,
    ) -> (
        Option<AuthorizationState>,
        Option<ConnectionState>,
        mpsc::UnboundedReceiver<Arc<Update>>,
    ) {
        let shared = &self.inner.shared;
        let (sender, receiver) = mpsc::unbounded_channel();
        let mut lossless = lock(&shared.lossless);
        if !shared.closed.load(Ordering::Acquire) {
            lossless.push(sender);
        }
        let authorization = shared.authorization.borrow().clone();
        let connection = shared.connection.borrow().clone();
        drop(lossless);
        (authorization, connection, receiver)
    }

    /// The last authorization state TDLib reported.
    pub fn authorization_state(&self) -> Option<AuthorizationState> {
        self.inner.shared.authorization.borrow().clone()
    }

    /// Changes of the authorization state, as a `watch` channel.
    pub fn authorization_states(&self) -> watch::Receiver<Option<AuthorizationState>> {
        self.inner.shared.authorization.subscribe()
    }

    /// The last connection state TDLib reported.
    pub fn connection_state(&self) -> Option<ConnectionState> {
        self.inner.shared.connection.borrow().clone()
    }

    /// Whether TDLib has reported the client closed.
    pub fn is_closed(&self) -> bool {
        self.inner.shared.closed.load(Ordering::Acquire)
    }

    /// Closes the client and returns when TDLib reports it closed. Requests pending then, and
    /// made afterwards, end with [`Error::Closed`]. Closing a closed client does nothing.
    pub async fn close(&self) -> Result<(), Error> {
        let mut states = self.authorization_states();
        if self.is_closed() {
            return Ok(());
        }
        self.inner.shared.close_sent.store(true, Ordering::Release);
        match self.send(functions::Close {}).await {
            Ok(_) | Err(Error::Closed) => {}
            Err(error) => return Err(error),
        }
        // The sender lives as long as this client, so this ends when Closed is reported.
        let _ = states
            .wait_for(|state| matches!(state, Some(AuthorizationState::Closed(_))))
            .await;
        Ok(())
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if self.shared.claim_close() {
            tracing::warn!(
                client_id = self.shared.id,
                "a TDLib client was dropped without close(); closing it in the background"
            );
            if let Ok(request) = CString::new(functions::Close {}.to_json()) {
                // SAFETY: a valid NUL-terminated request.
                unsafe { tdlib_sys::td_send(self.shared.id, request.as_ptr()) };
            }
        }
    }
}

/// Removes a pending request when its future ends, whichever way.
struct Forget(u64);

impl Drop for Forget {
    fn drop(&mut self) {
        dispatcher().remove_pending(self.0);
    }
}

/// Decodes an answer: TDLib's `error` object becomes an [`Error`], anything else `T`.
pub(crate) fn decode_answer<T: Decode>(answer: &str) -> Result<T, Error> {
    if answer.starts_with(r#"{"@type":"error""#) {
        return Err(tdlib_error(answer));
    }
    T::from_json(answer).map_err(|error| Error::Decode {
        expected: std::any::type_name::<T>(),
        error,
        json: answer.to_owned(),
    })
}

/// TDLib's error object as an [`Error`]; "Request aborted" (500) is what TDLib answers for
/// requests to a closing or closed client.
fn tdlib_error(answer: &str) -> Error {
    match types::Error::from_json(answer) {
        Ok(error) if error.code == 500 && error.message == "Request aborted" => Error::Closed,
        Ok(error) => Error::Tdlib {
            code: error.code,
            message: error.message,
        },
        Err(error) => Error::Decode {
            expected: "error",
            error,
            json: answer.to_owned(),
        },
    }
}

/// What an update subscription yields.
#[derive(Debug, Clone)]
pub enum UpdateEvent {
    /// The next update.
    Update(Arc<Update>),
    /// The subscriber fell behind and this many updates were dropped for it.
    Missed(u64),
}

/// A subscription to a client's updates ([`Client::updates`]); a [`Stream`] of
/// [`UpdateEvent`]s, also readable with [`Updates::next`].
#[derive(Debug)]
pub struct Updates {
    /// Read directly by [`Updates::next`] (the fast path: no boxed future per update) until
    /// the subscription is first polled as a [`Stream`], which moves it into `stream`.
    receiver: Option<broadcast::Receiver<Arc<Update>>>,
    stream: Option<BroadcastStream<Arc<Update>>>,
}

impl Updates {
    /// The next event, or `None` once the client is closed.
    pub async fn next(&mut self) -> Option<UpdateEvent> {
        match &mut self.receiver {
            Some(receiver) => match receiver.recv().await {
                Ok(update) => Some(UpdateEvent::Update(update)),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    Some(UpdateEvent::Missed(missed))
                }
                Err(broadcast::error::RecvError::Closed) => None,
            },
            None => std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await,
        }
    }
}

impl Stream for Updates {
    type Item = UpdateEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<UpdateEvent>> {
        if let Some(receiver) = self.receiver.take() {
            self.stream = Some(BroadcastStream::new(receiver));
        }
        let Some(stream) = self.stream.as_mut() else {
            return Poll::Ready(None);
        };
        Pin::new(stream).poll_next(cx).map(|item| {
            item.map(|item| match item {
                Ok(update) => UpdateEvent::Update(update),
                Err(BroadcastStreamRecvError::Lagged(missed)) => UpdateEvent::Missed(missed),
            })
        })
    }
}

/// Closes every client of the process that is still open when it is dropped, and waits until
/// TDLib has reported them closed: hold one in `main` so that the process never exits with an
/// open client.
///
/// TDLib checks at process exit, in its static destructors, that no client is open, and a
/// process that exits while one is open crashes in many runs (SIGABRT or SIGSEGV, with nothing
/// printed). This cannot be done from an `atexit` handler: TDLib registers destructors of its
/// own lazily, while clients work, and those run before any handler registered earlier.
/// Dropping this guard at the end of `main` (or while a panic unwinds out of it) runs before
/// all of them. `std::process::exit` skips it: close the clients, or drop the guard, first.
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
}

impl CloseOnExit {
    /// A guard that waits up to 10 s for the clients to close.
    pub fn new() -> CloseOnExit {
        CloseOnExit {
            limit: Duration::from_secs(10),
        }
    }

    /// A guard that waits up to `limit`.
    pub fn with_limit(limit: Duration) -> CloseOnExit {
        CloseOnExit { limit }
    }
}

impl Default for CloseOnExit {
    fn default() -> Self {
        CloseOnExit::new()
    }
}

impl Drop for CloseOnExit {
    fn drop(&mut self) {
        if !dispatcher().close_all_blocking(self.limit) {
            tracing::warn!(
                target: "tdlib",
                "TDLib clients were still open when the close-on-exit guard gave up"
            );
        }
    }
}

/// Test support: requests waiting for an answer over all clients, and whether the receive
/// thread runs. Not part of the stable interface.
#[doc(hidden)]
pub fn dispatcher_stats() -> (usize, bool) {
    (dispatcher().pending_count(), dispatcher().is_running())
}
