//! Update subscriptions: one type, [`Subscription`], for every way of listening.
//!
//! A subscription names the kind of update it wants ([`enums::Update`] for all of them, or one
//! struct such as [`types::UpdateNewMessage`](crate::types::UpdateNewMessage)) and, optionally,
//! a filter; both are applied by the receive thread **before** an update is queued, so a
//! subscriber never holds, nor lags behind, updates it did not ask for.
//!
//! Each subscription has a queue of its own:
//! - by default bounded ([`DEFAULT_CAPACITY`]): when it is full, the oldest queued update is
//!   dropped and the subscriber is told how many it missed ([`Event::Missed`]) before the next
//!   one. TDLib is never held up by a slow subscriber.
//! - or lossless ([`SubscriptionBuilder::lossless`]): nothing is ever dropped, so the queue grows
//!   while the subscriber does not read. Its length is [`Subscription::len`], and a warning is
//!   logged once it passes a threshold ([`SubscriptionBuilder::warn_at`]).
//!
//! An update is decoded once and shared ([`Arc`]) by all the subscriptions that take it; a
//! [`Received`] is a typed view into it, with no copy.
//!
//! A subscription ends (`recv` returns `None`) when its client is closed. If the receive loop
//! fails, or the subscription's own filter panics, its last event is [`Event::Failed`].

use std::any::TypeId;
use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::mem::Discriminant;
use std::ops::Deref;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use tokio::sync::broadcast;
use tokio_util::sync::ReusableBoxFuture;

use futures_core::Stream;
use tdlib_types::codec::Variant;
use tdlib_types::enums::Update;

use crate::Error;

/// How many updates a subscription's queue keeps for a subscriber that falls behind, unless
/// set otherwise.
pub const DEFAULT_CAPACITY: usize = 4096;

/// The largest capacity of a bounded subscription; larger ones are this. (A bounded queue's
/// room is allocated when it is made, about 40 bytes an update; a subscriber that needs more
/// wants a lossless subscription.) The capacity of a subscription without a filter is rounded
/// up to a power of two (it shares a channel with the others of its kind and capacity).
pub const MAX_CAPACITY: usize = 1 << 20;

/// How long a lossless queue may grow before a warning is logged, unless set otherwise.
pub const DEFAULT_WARN_AT: usize = 100_000;

/// What a [`Subscription`] yields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event<U> {
    /// The next update.
    Update(Received<U>),
    /// The subscriber fell behind: this many updates of its kind were dropped from its queue
    /// (the oldest ones) before the updates that follow.
    Missed(u64),
    /// The subscription ended abnormally: the receive loop failed, or the subscription's filter
    /// panicked. Always the last event.
    Failed(Error),
}

/// An update received by a subscription, as its kind `U`: derefs to `&U`. Cheap to clone; the
/// decoded update is shared with the other subscriptions that received it.
pub struct Received<U> {
    update: Arc<Update>,
    /// Points into `update`, at the `U` inside it.
    view: NonNull<U>,
}

// SAFETY: a `Received` gives shared access (`&U`) into an `Arc<Update>` it keeps alive, like an
// `Arc<U>` would; that is safe to move or share across threads when `U` is `Sync` (every
// generated type is).
unsafe impl<U: Sync> Send for Received<U> {}
// SAFETY: as above.
unsafe impl<U: Sync> Sync for Received<U> {}

impl<U: Variant<Update>> Received<U> {
    /// `Some` when `update` holds a `U`.
    pub(crate) fn new(update: Arc<Update>) -> Option<Received<U>> {
        let view = NonNull::from(U::view(&update)?);
        Some(Received { update, view })
    }
}

impl<U> Received<U> {
    /// The whole update this was received in.
    pub fn update(&self) -> &Arc<Update> {
        &self.update
    }

    /// The whole update this was received in, without a copy.
    pub fn into_update(self) -> Arc<Update> {
        self.update
    }
}

impl<U> Deref for Received<U> {
    type Target = U;

    fn deref(&self) -> &U {
        // SAFETY: `view` was made from a reference into the update that `self.update` keeps
        // alive and that nothing mutates (it is only ever shared).
        unsafe { self.view.as_ref() }
    }
}

impl<U> Clone for Received<U> {
    fn clone(&self) -> Self {
        Received {
            update: self.update.clone(),
            view: self.view,
        }
    }
}

impl<U: fmt::Debug> fmt::Debug for Received<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

/// Why [`Subscription::try_recv`] returned no event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing is queued now.
    Empty,
    /// The subscription has ended.
    Ended,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryRecvError::Empty => "no update is queued",
            TryRecvError::Ended => "the subscription has ended",
        })
    }
}

impl std::error::Error for TryRecvError {}

/// A subscription to a client's updates of kind `U`: [`Update`] for every update, or one update
/// struct such as [`types::UpdateNewMessage`](crate::types::UpdateNewMessage). Read it with
/// [`Subscription::recv`], or as a [`Stream`] of [`Event`]s.
///
/// The kind, and the filter if one was given ([`SubscriptionBuilder::filter`]), are applied by
/// the receive thread **before** an update is queued, so a subscriber never holds, nor lags
/// behind, updates it did not ask for. Each subscription has a queue of its own:
/// - bounded by default ([`DEFAULT_CAPACITY`]): when it is full the oldest queued update is
///   dropped, and the subscriber is told how many it missed ([`Event::Missed`]) before the next
///   one. TDLib is never held up by a slow subscriber;
/// - or lossless ([`SubscriptionBuilder::lossless`]): nothing is ever dropped, so the queue grows
///   while the subscriber does not read; its length is [`Subscription::len`], and a warning is
///   logged once it passes [`SubscriptionBuilder::warn_at`].
///
/// An update is decoded once and shared by the subscriptions that take it; a [`Received`] is a
/// typed view into it, with no copy. A subscription ends (`recv` returns `None`) when its
/// client is closed; if the receive loop fails, or its own filter panics, its last event is
/// [`Event::Failed`].
///
/// ```no_run
/// # async fn example(client: tdlib::Client) {
/// use tdlib::{Event, types};
///
/// let mut messages = client.subscribe::<types::UpdateNewMessage>();
/// while let Some(event) = messages.recv().await {
///     match event {
///         Event::Update(new) => println!("message {} in chat {}", new.message.id, new.message.chat_id),
///         Event::Missed(count) => eprintln!("fell behind: {count} messages missed"),
///         Event::Failed(error) => eprintln!("updates stopped: {error}"),
///         _ => {}
///     }
/// }
/// # }
/// ```
pub struct Subscription<U> {
    source: Source,
    kind: PhantomData<fn() -> U>,
}

/// Where a subscription's events come from.
enum Source {
    /// A queue of its own: lossless, or with a filter.
    Own(Arc<Queue>),
    /// A channel shared with the other bounded subscriptions of the same kind and capacity:
    /// the receive thread queues an update once for all of them.
    Shared(SharedReceiver),
}

impl<U> fmt::Debug for Subscription<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("kind", &std::any::type_name::<U>())
            .field("lossless", &self.is_lossless())
            .field("queued", &self.len())
            .finish()
    }
}

impl<U: Variant<Update>> Subscription<U> {
    /// The next event, waiting for it; `None` once the subscription has ended. Cancel-safe:
    /// dropping the future loses no event.
    pub async fn recv(&mut self) -> Option<Event<U>> {
        if let Source::Shared(shared) = &mut self.source {
            if let (false, Some(receiver)) = (shared.in_flight, shared.receiver.as_mut()) {
                // The channel's own wait, without the boxed future a `Stream` needs.
                while let Some(taken) = received(receiver.recv().await) {
                    if let Some(Ok(event)) = Self::event(taken) {
                        return Some(event);
                    }
                }
                return match Self::event(shared.ended()) {
                    Some(Ok(event)) => Some(event),
                    _ => None,
                };
            }
        }
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    /// The next event if one is queued, without waiting.
    pub fn try_recv(&mut self) -> Result<Event<U>, TryRecvError> {
        loop {
            let taken = match &mut self.source {
                Source::Own(queue) => queue.take(),
                Source::Shared(shared) => shared.take(None),
            };
            match Self::event(taken) {
                Some(Ok(event)) => return Ok(event),
                Some(Err(error)) => return Err(error),
                None => continue,
            }
        }
    }

    /// `None`: an update that is not a `U`, which the filter by kind never lets through.
    fn event(taken: Taken) -> Option<Result<Event<U>, TryRecvError>> {
        Some(match taken {
            Taken::Update(update) => Ok(Event::Update(Received::new(update)?)),
            Taken::Missed(count) => Ok(Event::Missed(count)),
            Taken::Failed(error) => Ok(Event::Failed(error)),
            Taken::Empty => Err(TryRecvError::Empty),
            Taken::Ended => Err(TryRecvError::Ended),
        })
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Event<U>>> {
        loop {
            let taken = match &mut self.source {
                Source::Own(queue) => match queue.take() {
                    // Park unless something arrived while the waker was being stored.
                    Taken::Empty if queue.park(cx.waker()) => return Poll::Pending,
                    Taken::Empty => continue,
                    taken => taken,
                },
                Source::Shared(shared) => match shared.take(Some(cx)) {
                    Taken::Empty => return Poll::Pending,
                    taken => taken,
                },
            };
            match Self::event(taken) {
                Some(Ok(event)) => return Poll::Ready(Some(event)),
                Some(Err(_)) => return Poll::Ready(None),
                None => continue,
            }
        }
    }
}

impl<U> Subscription<U> {
    /// How many events are queued now.
    pub fn len(&self) -> usize {
        match &self.source {
            Source::Own(queue) => queue.lock().items.len(),
            Source::Shared(shared) => shared
                .receiver
                .as_ref()
                .map_or(0, |receiver| receiver.len()),
        }
    }

    /// Whether no event is queued now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this subscription never drops updates.
    pub fn is_lossless(&self) -> bool {
        matches!(&self.source, Source::Own(queue) if queue.lossless)
    }
}

impl<U: Variant<Update>> Stream for Subscription<U> {
    type Item = Event<U>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event<U>>> {
        self.get_mut().poll_event(cx)
    }
}

impl<U> Drop for Subscription<U> {
    fn drop(&mut self) {
        // The receive thread stops queueing for it at the next update (a shared channel knows
        // its receivers itself).
        if let Source::Own(queue) = &self.source {
            queue.receiver_alive.store(false, Ordering::Release);
        }
    }
}

/// Why a shared channel ended, set before its sender is dropped.
type EndCell = Mutex<Option<End>>;

/// A subscription's end of a shared channel.
struct SharedReceiver {
    /// Here between reads; inside `waiting` while a read waits.
    receiver: Option<broadcast::Receiver<Arc<Update>>>,
    /// A read that waits, holding the receiver; its allocation is reused for every wait.
    waiting: Option<ReusableBoxFuture<'static, Read>>,
    in_flight: bool,
    end: Arc<EndCell>,
    /// Whether the end was reported (`Failed` comes once).
    over: bool,
}

type Read = (
    Result<Arc<Update>, broadcast::error::RecvError>,
    broadcast::Receiver<Arc<Update>>,
);

async fn read(mut receiver: broadcast::Receiver<Arc<Update>>) -> Read {
    (receiver.recv().await, receiver)
}

/// What a wait on a shared channel gave; `None` once the channel has closed.
fn received(result: Result<Arc<Update>, broadcast::error::RecvError>) -> Option<Taken> {
    use broadcast::error::RecvError;
    match result {
        Ok(update) => Some(Taken::Update(update)),
        Err(RecvError::Lagged(count)) => Some(Taken::Missed(count)),
        Err(RecvError::Closed) => None,
    }
}

impl SharedReceiver {
    fn new(receiver: broadcast::Receiver<Arc<Update>>, end: Arc<EndCell>) -> SharedReceiver {
        SharedReceiver {
            receiver: Some(receiver),
            waiting: None,
            in_flight: false,
            end,
            over: false,
        }
    }

    /// The next event; `Empty` when there is none (with `cx`: after arranging to be woken).
    fn take(&mut self, cx: Option<&mut Context<'_>>) -> Taken {
        use broadcast::error::TryRecvError;
        if !self.in_flight {
            let Some(receiver) = self.receiver.as_mut() else {
                return Taken::Ended;
            };
            // The fast path while updates are queued: no future at all.
            match receiver.try_recv() {
                Ok(update) => return Taken::Update(update),
                Err(TryRecvError::Lagged(count)) => return Taken::Missed(count),
                Err(TryRecvError::Closed) => return self.ended(),
                Err(TryRecvError::Empty) if cx.is_none() => return Taken::Empty,
                Err(TryRecvError::Empty) => {}
            }
            let Some(receiver) = self.receiver.take() else {
                return Taken::Ended;
            };
            match &mut self.waiting {
                Some(waiting) => waiting.set(read(receiver)),
                None => self.waiting = Some(ReusableBoxFuture::new(read(receiver))),
            }
            self.in_flight = true;
        }
        let noop = &mut Context::from_waker(Waker::noop());
        let cx = cx.unwrap_or(noop);
        let Some(waiting) = self.waiting.as_mut() else {
            return Taken::Ended;
        };
        let Poll::Ready((result, receiver)) = waiting.poll(cx) else {
            return Taken::Empty;
        };
        self.in_flight = false;
        self.receiver = Some(receiver);
        received(result).unwrap_or_else(|| self.ended())
    }

    fn ended(&mut self) -> Taken {
        if std::mem::replace(&mut self.over, true) {
            return Taken::Ended;
        }
        match &*self.end.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(End::Failed(error)) => Taken::Failed(error.clone()),
            _ => Taken::Ended,
        }
    }
}

/// Options of a new subscription; from [`Client::subscription`](crate::Client::subscription).
pub struct SubscriptionBuilder<'a, U> {
    hub: &'a Hub,
    capacity: usize,
    lossless: bool,
    warn_at: usize,
    filter: Option<Filter>,
    kind: PhantomData<fn() -> U>,
}

impl<U> fmt::Debug for SubscriptionBuilder<'_, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscriptionBuilder")
            .field("kind", &std::any::type_name::<U>())
            .field("capacity", &self.capacity)
            .field("lossless", &self.lossless)
            .field("filter", &self.filter.is_some())
            .finish()
    }
}

impl<'a, U: Variant<Update> + Default> SubscriptionBuilder<'a, U> {
    pub(crate) fn new(hub: &'a Hub, capacity: usize, warn_at: usize) -> Self {
        SubscriptionBuilder {
            hub,
            capacity,
            lossless: false,
            warn_at,
            filter: None,
            kind: PhantomData,
        }
    }

    /// Never drop an update: the queue grows while the subscriber does not read (see
    /// [`SubscriptionBuilder::warn_at`]). For code that must see every update in order, such as
    /// a state machine or a bot that must answer every message.
    pub fn lossless(mut self) -> Self {
        self.lossless = true;
        self
    }

    /// How many updates the queue keeps before it drops the oldest (not lossless); at least 1.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// For a lossless subscription: log a warning when this many updates are queued (once, and
    /// again after the queue has drained to half of it).
    pub fn warn_at(mut self, length: usize) -> Self {
        self.warn_at = length.max(1);
        self
    }

    /// Keeps only the updates `keep` accepts. It runs on the receive thread for every update of
    /// the subscription's kind, before the update is queued, so it must be quick and must not
    /// block; if it panics, the subscription ends with [`Event::Failed`] and nothing else is
    /// affected.
    pub fn filter(mut self, keep: impl Fn(&U) -> bool + Send + Sync + 'static) -> Self {
        self.filter = Some(Arc::new(move |update: &Update| {
            U::view(update).is_some_and(&keep)
        }));
        self
    }

    /// Starts the subscription: it receives the updates that arrive from now on.
    pub fn subscribe(self) -> Subscription<U> {
        let kind = kind_of::<U>();
        let capacity = self.capacity.min(MAX_CAPACITY);
        let source = if self.lossless || self.filter.is_some() {
            let queue = Arc::new(Queue::new(self.lossless, capacity, self.warn_at));
            self.hub.add(Subscriber {
                kind,
                filter: self.filter,
                target: Target::Queue(queue.clone()),
            });
            Source::Own(queue)
        } else {
            Source::Shared(self.hub.shared(kind, capacity))
        };
        Subscription {
            source,
            kind: PhantomData,
        }
    }
}

#[cfg(feature = "blocking")]
impl<U: Variant<Update> + Default + Send + Sync + 'static> SubscriptionBuilder<'_, U> {
    /// Starts the subscription as a [`crossbeam_channel::Receiver`] instead of a
    /// [`Subscription`]: for a thread or an event loop without an async runtime, which can
    /// `try_recv` it each frame or `select!` over it with other channels. The kind and the
    /// filter apply as for [`SubscriptionBuilder::subscribe`]; the channel disconnects when the
    /// client closes (after [`Event::Failed`] if it failed).
    ///
    /// A lossless channel is unbounded. A bounded one cannot drop its oldest update from the
    /// sending side, so when it is full the **newest** updates are dropped and counted, and
    /// [`Event::Missed`] with the count comes as soon as there is room again, before the updates
    /// that follow.
    ///
    /// ```no_run
    /// # fn example(client: tdlib::blocking::Client) {
    /// use tdlib::{Event, types};
    ///
    /// let messages = client.subscription::<types::UpdateNewMessage>().lossless().channel();
    /// for event in messages {
    ///     if let Event::Update(new) = event {
    ///         println!("message {} in chat {}", new.message.id, new.message.chat_id);
    ///     }
    /// }
    /// # }
    /// ```
    pub fn channel(self) -> crossbeam_channel::Receiver<Event<U>> {
        let capacity = (!self.lossless).then_some(self.capacity.min(MAX_CAPACITY));
        let (sink, receiver) =
            crate::blocking::ChannelSink::<Event<U>>::new(capacity, self.warn_at);
        self.hub.add(Subscriber::sink::<U>(self.filter, sink));
        receiver
    }
}

/// A channel shared by the bounded, unfiltered subscriptions of one kind and capacity.
#[derive(Clone)]
struct Channel {
    kind: Option<Discriminant<Update>>,
    capacity: usize,
    sender: broadcast::Sender<Arc<Update>>,
    end: Arc<EndCell>,
    /// Set when a subscriber's waker panicked while an update was sent: the channel is ended.
    broken: Arc<AtomicBool>,
}

impl Channel {
    fn is_wanted(&self) -> bool {
        self.sender.receiver_count() > 0 && !self.broken.load(Ordering::Acquire)
    }
}

/// A subscription's filter, over whole updates (run on the receive thread).
pub(crate) type Filter = Arc<dyn Fn(&Update) -> bool + Send + Sync>;

/// A subscriber with a queue of its own, as the receive thread sees it.
#[derive(Clone)]
pub(crate) struct Subscriber {
    /// `None`: every kind.
    kind: Option<Discriminant<Update>>,
    filter: Option<Filter>,
    target: Target,
}

/// Where a subscriber's updates go.
#[derive(Clone)]
enum Target {
    /// A [`Subscription`]'s queue.
    Queue(Arc<Queue>),
    /// Anything else of this crate that takes updates on the receive thread: channels of the
    /// blocking face, transfers.
    Sink(Arc<dyn Sink>),
}

/// Work a sink could not do when it took an update, retried by the receive thread after each
/// output of TDLib (and at least once a second): telling a reader of a full channel how many
/// updates it missed as soon as it has made room, even if no update follows.
pub(crate) trait Deferred: Send + Sync {
    /// Tries again; true when done (or no longer needed).
    fn retry(&self) -> bool;
}

/// Deferred work, and whether there is any (read after every output, without a lock).
static DEFERRED: Mutex<Vec<std::sync::Weak<dyn Deferred>>> = Mutex::new(Vec::new());
static ANY_DEFERRED: AtomicBool = AtomicBool::new(false);

/// Retries `work` after the next output of TDLib, until it is done.
pub(crate) fn defer(work: std::sync::Weak<dyn Deferred>) {
    lock(&DEFERRED).push(work);
    ANY_DEFERRED.store(true, Ordering::Release);
}

/// Runs the deferred work (on the receive thread).
pub(crate) fn run_deferred() {
    if !ANY_DEFERRED.load(Ordering::Acquire) {
        return;
    }
    let mut deferred = lock(&DEFERRED);
    deferred.retain(|work| work.upgrade().is_some_and(|work| !work.retry()));
    ANY_DEFERRED.store(!deferred.is_empty(), Ordering::Release);
}

/// Takes updates on the receive thread, for a subscriber that is not a [`Subscription`]. Its
/// methods must not block, and must catch panics of users' code they run (a waker).
pub(crate) trait Sink: Send + Sync {
    /// Takes an update of the subscriber's kind that passed its filter.
    fn push(&self, update: &Arc<Update>);
    /// No more updates will come.
    fn end(&self, end: End);
    /// Whether it still wants updates (false once its reader is gone or it ended).
    fn is_wanted(&self) -> bool;
    /// For a lossless sink: how many updates it holds that were not read.
    fn backlog(&self) -> Option<usize> {
        None
    }
}

impl Target {
    fn is_wanted(&self) -> bool {
        match self {
            Target::Queue(queue) => queue.is_wanted(),
            Target::Sink(sink) => sink.is_wanted(),
        }
    }

    fn push(&self, update: &Arc<Update>) {
        match self {
            Target::Queue(queue) => queue.push(update),
            Target::Sink(sink) => sink.push(update),
        }
    }

    fn end(&self, end: End) {
        match self {
            Target::Queue(queue) => queue.end(end),
            Target::Sink(sink) => sink.end(end),
        }
    }

    fn backlog(&self) -> Option<usize> {
        match self {
            Target::Queue(queue) => queue.lossless.then(|| queue.lock().items.len()),
            Target::Sink(sink) => sink.backlog(),
        }
    }
}

impl Subscriber {
    /// A subscriber of updates of kind `U` that `filter` accepts, delivered to `sink`.
    pub(crate) fn sink<U: Variant<Update> + Default>(
        filter: Option<Filter>,
        sink: Arc<dyn Sink>,
    ) -> Subscriber {
        Subscriber {
            kind: kind_of::<U>(),
            filter,
            target: Target::Sink(sink),
        }
    }
}

/// The discriminant of the updates of kind `U`; `None` for every update.
fn kind_of<U: Variant<Update> + Default>() -> Option<Discriminant<Update>> {
    if TypeId::of::<U>() == TypeId::of::<Update>() {
        None
    } else {
        Some(std::mem::discriminant(&U::default().into_enum()))
    }
}

/// How a client's subscriptions end.
#[derive(Debug, Clone)]
pub(crate) enum End {
    /// The client closed.
    Closed,
    /// The receive loop failed.
    Failed(Error),
}

/// A client's subscribers. The receive thread publishes into it; subscriptions are added from
/// any thread.
///
/// The lists are copied on write: publishing takes a copy of the handles under the lock (two
/// reference counts) and delivers without it, so that no filter and no subscription's waker
/// runs while the lock is held, and such code may subscribe or ask for [`crate::health`]. (The
/// wakers of state watches are woken under it, when a state changes: a waker that subscribes
/// synchronously, rather than waking a task, would wait for itself.)
#[derive(Default)]
pub(crate) struct Hub {
    inner: Mutex<HubInner>,
}

#[derive(Default)]
pub(crate) struct HubInner {
    /// One reference count for both lists: publishing copies it for every update.
    lists: Arc<Lists>,
    /// Set once the client's updates have ended; later subscriptions start ended.
    end: Option<End>,
}

/// Who gets an update.
#[derive(Default, Clone)]
pub(crate) struct Lists {
    subscribers: Vec<Subscriber>,
    channels: Vec<Channel>,
}

/// Who gets an update: a copy of the lists, taken under the lock.
pub(crate) type Recipients = Arc<Lists>;

impl fmt::Debug for Hub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        f.debug_struct("Hub")
            .field("subscribers", &inner.lists.subscribers.len())
            .field("channels", &inner.lists.channels.len())
            .field("end", &inner.end)
            .finish()
    }
}

impl Hub {
    /// The subscriber lists, locked. State changes that subscriptions must see exactly once are
    /// made under this lock, and the recipients of the update that carries them are taken under
    /// it too (see `Client::subscribe_with_states`).
    pub(crate) fn lock(&self) -> MutexGuard<'_, HubInner> {
        lock(&self.inner)
    }

    pub(crate) fn add(&self, subscriber: Subscriber) {
        Hub::add_locked(&mut self.lock(), subscriber);
    }

    /// Adds a subscriber while the caller holds the lock (a subscriber that ended is told at
    /// once).
    pub(crate) fn add_locked(inner: &mut HubInner, subscriber: Subscriber) {
        match &inner.end {
            Some(end) => subscriber.target.end(end.clone()),
            None => Arc::make_mut(&mut inner.lists).subscribers.push(subscriber),
        }
    }

    /// A receiver of the shared channel for `kind` and `capacity`, made if there is none.
    fn shared(&self, kind: Option<Discriminant<Update>>, capacity: usize) -> SharedReceiver {
        let mut inner = self.lock();
        if let Some(end) = &inner.end {
            // Ended: a channel whose sender is gone at once.
            let (_, receiver) = broadcast::channel(1);
            return SharedReceiver::new(receiver, Arc::new(Mutex::new(Some(end.clone()))));
        }
        let existing = inner
            .lists
            .channels
            .iter()
            .find(|channel| channel.kind == kind && channel.capacity == capacity);
        if let Some(channel) = existing {
            return SharedReceiver::new(channel.sender.subscribe(), channel.end.clone());
        }
        let channel = Channel {
            kind,
            capacity,
            sender: broadcast::channel(capacity).0,
            end: Arc::default(),
            broken: Arc::default(),
        };
        let receiver = SharedReceiver::new(channel.sender.subscribe(), channel.end.clone());
        Arc::make_mut(&mut inner.lists).channels.push(channel);
        receiver
    }

    /// Adds a lossless subscription to everything while the lock is held by the caller.
    pub(crate) fn add_lossless_locked(
        inner: &mut HubInner,
        warn_at: usize,
    ) -> Subscription<Update> {
        let queue = Arc::new(Queue::new(true, 0, warn_at));
        let subscriber = Subscriber {
            kind: None,
            filter: None,
            target: Target::Queue(queue.clone()),
        };
        Hub::add_locked(inner, subscriber);
        Subscription {
            source: Source::Own(queue),
            kind: PhantomData,
        }
    }

    /// The longest lossless queue now.
    pub(crate) fn lossless_backlog(&self) -> usize {
        let lists = self.lock().lists.clone();
        lists
            .subscribers
            .iter()
            .filter_map(|subscriber| subscriber.target.backlog())
            .max()
            .unwrap_or(0)
    }

    /// Queues `update` for every subscriber that wants it (taken with
    /// [`HubInner::recipients`]), without the lock; then forgets subscribers that are gone (or
    /// whose filter panicked).
    pub(crate) fn deliver(&self, recipients: Recipients, update: Update) {
        let update = Arc::new(update);
        let kind = std::mem::discriminant(&*update);
        let mut stale = false;
        // Once per channel, whatever the number of its subscriptions.
        for channel in recipients.channels.iter() {
            if channel.kind.is_some_and(|wanted| wanted != kind) {
                stale |= channel.sender.receiver_count() == 0;
                continue;
            }
            // Sending wakes the waiting subscribers; their wakers are not ours to trust.
            match catch_unwind(AssertUnwindSafe(|| channel.sender.send(update.clone()))) {
                Ok(sent) => stale |= sent.is_err(),
                Err(_) => {
                    let error = Error::receive_failed("a subscription's waker panicked");
                    *channel.end.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some(End::Failed(error));
                    channel.broken.store(true, Ordering::Release);
                    stale = true;
                }
            }
        }
        for subscriber in recipients.subscribers.iter() {
            if !subscriber.target.is_wanted() {
                stale = true;
                continue;
            }
            if subscriber.kind.is_some_and(|wanted| wanted != kind) {
                continue;
            }
            if let Some(filter) = &subscriber.filter {
                match catch_unwind(AssertUnwindSafe(|| filter(&update))) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(_) => {
                        subscriber.target.end(End::Failed(Error::receive_failed(
                            "the subscription's filter panicked",
                        )));
                        stale = true;
                        continue;
                    }
                }
            }
            subscriber.target.push(&update);
        }
        drop(recipients);
        if stale {
            let mut inner = self.lock();
            let lists = Arc::make_mut(&mut inner.lists);
            lists
                .subscribers
                .retain(|subscriber| subscriber.target.is_wanted());
            lists.channels.retain(Channel::is_wanted);
        }
    }

    /// Ends every subscription, now and later.
    pub(crate) fn end(&self, end: End) {
        let lists = {
            let mut inner = self.lock();
            inner.end.get_or_insert(end.clone());
            std::mem::take(&mut inner.lists)
        };
        for subscriber in lists.subscribers.iter() {
            subscriber.target.end(end.clone());
        }
        for channel in lists.channels.iter() {
            // Before the sender goes (with the last copy of the list), so that its
            // subscriptions see why.
            *channel.end.lock().unwrap_or_else(|p| p.into_inner()) = Some(end.clone());
        }
    }
}

impl HubInner {
    /// Who gets the update being published; call under the lock, deliver without it.
    pub(crate) fn recipients(&self) -> Recipients {
        self.lists.clone()
    }
}

/// One subscription's queue: filled by the receive thread, read by the subscriber.
struct Queue {
    lossless: bool,
    capacity: usize,
    warn_at: usize,
    receiver_alive: AtomicBool,
    /// Set with `QueueState::end`, readable without the lock.
    ended: AtomicBool,
    state: Mutex<QueueState>,
}

struct QueueState {
    items: VecDeque<Arc<Update>>,
    /// Updates dropped since the subscriber last heard of it.
    missed: u64,
    /// How the subscription ended, once it has; `Failed` is delivered once, then `Ended`.
    end: Option<QueueEnd>,
    waker: Option<Waker>,
    /// Whether the lossless warning was logged (re-armed at half the threshold).
    warned: bool,
}

enum QueueEnd {
    Closed,
    Failed(Error),
    Reported,
}

/// What [`Queue::take`] found.
enum Taken {
    Update(Arc<Update>),
    Missed(u64),
    Failed(Error),
    Empty,
    Ended,
}

impl Queue {
    fn new(lossless: bool, capacity: usize, warn_at: usize) -> Queue {
        Queue {
            lossless,
            capacity,
            warn_at,
            receiver_alive: AtomicBool::new(true),
            ended: AtomicBool::new(false),
            state: Mutex::new(QueueState {
                items: VecDeque::new(),
                missed: 0,
                end: None,
                waker: None,
                warned: false,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        lock(&self.state)
    }

    /// Whether the subscription still reads and has not ended.
    fn is_wanted(&self) -> bool {
        self.receiver_alive.load(Ordering::Acquire) && !self.ended.load(Ordering::Acquire)
    }

    fn push(&self, update: &Arc<Update>) {
        let mut state = self.lock();
        if state.end.is_some() {
            return;
        }
        if !self.lossless && state.items.len() >= self.capacity {
            state.items.pop_front();
            state.missed += 1;
        }
        state.items.push_back(update.clone());
        let length = state.items.len();
        let warn = self.lossless && length >= self.warn_at && !state.warned;
        state.warned |= warn;
        let waker = state.waker.take();
        drop(state);
        if warn {
            tracing::warn!(
                target: "tdlib",
                queued = length,
                "a lossless update subscription is not being read: {length} updates queued"
            );
        }
        self.wake(waker);
    }

    /// Wakes the subscriber; a waker that panics ends its subscription, nothing else.
    fn wake(&self, waker: Option<Waker>) {
        let Some(waker) = waker else { return };
        if catch_unwind(AssertUnwindSafe(|| waker.wake())).is_err() {
            self.end(End::Failed(Error::receive_failed(
                "the subscription's waker panicked",
            )));
        }
    }

    fn end(&self, end: End) {
        let mut state = self.lock();
        self.ended.store(true, Ordering::Release);
        if state.end.is_none() {
            state.end = Some(match end {
                End::Closed => QueueEnd::Closed,
                End::Failed(error) => QueueEnd::Failed(error),
            });
        }
        let waker = state.waker.take();
        drop(state);
        if let Some(waker) = waker {
            // Ending anyway: a panic here has nothing more to end.
            let _ = catch_unwind(AssertUnwindSafe(|| waker.wake()));
        }
    }

    fn take(&self) -> Taken {
        let mut state = self.lock();
        if state.missed > 0 {
            return Taken::Missed(std::mem::take(&mut state.missed));
        }
        if let Some(update) = state.items.pop_front() {
            if state.warned && state.items.len() < self.warn_at / 2 {
                state.warned = false;
            }
            return Taken::Update(update);
        }
        match &mut state.end {
            None => Taken::Empty,
            Some(QueueEnd::Failed(_)) => {
                let Some(QueueEnd::Failed(error)) = state.end.replace(QueueEnd::Reported) else {
                    return Taken::Ended;
                };
                Taken::Failed(error)
            }
            Some(QueueEnd::Closed | QueueEnd::Reported) => Taken::Ended,
        }
    }

    /// Stores the waker unless something is queued or the queue ended meanwhile; returns
    /// whether it did (then the subscriber may sleep).
    fn park(&self, waker: &Waker) -> bool {
        let mut state = self.lock();
        if state.missed > 0 || !state.items.is_empty() || state.end.is_some() {
            return false;
        }
        match &mut state.waker {
            Some(stored) if stored.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
        true
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while these locks are held except user filters, which are caught; a
    // poisoned lock still guards consistent data.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use tdlib_types::types;

    use super::*;

    fn option(name: &str) -> Update {
        Update::Option(types::UpdateOption {
            name: name.into(),
            value: Default::default(),
        })
    }

    fn state() -> Update {
        Update::AuthorizationState(types::UpdateAuthorizationState::default())
    }

    /// What the receive thread does with an update.
    fn publish(hub: &Hub, update: Update) {
        let recipients = hub.lock().recipients();
        hub.deliver(recipients, update);
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        futures_executor::block_on(future)
    }

    #[test]
    fn kinds_are_filtered_before_queueing() {
        let hub = Hub::default();
        let mut options = SubscriptionBuilder::<types::UpdateOption>::new(&hub, 2, 10).subscribe();
        let mut all = SubscriptionBuilder::<Update>::new(&hub, 100, 10).subscribe();
        for _ in 0..10 {
            publish(&hub, state());
        }
        publish(&hub, option("a"));
        assert_eq!(options.len(), 1, "the other kinds never reached its queue");
        let Ok(Event::Update(first)) = options.try_recv() else {
            panic!("an option")
        };
        assert_eq!(first.name, "a");
        assert_eq!(all.len(), 11);
        assert!(
            matches!(all.try_recv(), Ok(Event::Update(update)) if matches!(**update.update(), Update::AuthorizationState(_)))
        );
    }

    #[test]
    fn a_full_queue_drops_the_oldest_and_says_how_many() {
        let hub = Hub::default();
        let mut subscription = SubscriptionBuilder::<Update>::new(&hub, 3, 10).subscribe();
        // (3 is rounded up to 4.)
        for name in ["1", "2", "3", "4", "5", "6"] {
            publish(&hub, option(name));
        }
        assert!(matches!(subscription.try_recv(), Ok(Event::Missed(2))));
        let names: Vec<String> = std::iter::from_fn(|| match subscription.try_recv() {
            Ok(Event::Update(update)) => match &**update.update() {
                Update::Option(option) => Some(option.name.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect();
        assert_eq!(names, ["3", "4", "5", "6"]);
        assert_eq!(subscription.try_recv().unwrap_err(), TryRecvError::Empty);
    }

    #[test]
    fn lossless_keeps_everything_and_ends_after_the_last_update() {
        let hub = Hub::default();
        let mut subscription = SubscriptionBuilder::<Update>::new(&hub, 1, 1000)
            .lossless()
            .subscribe();
        for _ in 0..5000 {
            publish(&hub, option("x"));
        }
        hub.end(End::Closed);
        let mut count = 0;
        block_on(async {
            while let Some(event) = subscription.recv().await {
                assert!(matches!(event, Event::Update(_)));
                count += 1;
            }
        });
        assert_eq!(count, 5000);
        for lossless in [false, true] {
            let mut late = SubscriptionBuilder::<Update>::new(&hub, 1, 1);
            if lossless {
                late = late.lossless();
            }
            let mut late = late.subscribe();
            assert_eq!(
                late.try_recv().unwrap_err(),
                TryRecvError::Ended,
                "a late one has ended"
            );
        }
    }

    #[test]
    fn failure_is_the_last_event_and_a_panicking_filter_ends_only_its_subscription() {
        let hub = Hub::default();
        let mut panicky = SubscriptionBuilder::<types::UpdateOption>::new(&hub, 10, 10)
            .filter(|option| option.name != "boom" || panic!("filter bug"))
            .subscribe();
        let mut healthy = SubscriptionBuilder::<Update>::new(&hub, 10, 10).subscribe();
        publish(&hub, option("fine"));
        publish(&hub, option("boom"));
        publish(&hub, option("after"));
        assert!(matches!(panicky.try_recv(), Ok(Event::Update(_))));
        assert!(
            matches!(panicky.try_recv(), Ok(Event::Failed(error)) if error.is_receive_failed())
        );
        assert_eq!(panicky.try_recv().unwrap_err(), TryRecvError::Ended);
        assert_eq!(healthy.len(), 3);
        hub.end(End::Failed(Error::receive_failed("test")));
        for _ in 0..3 {
            assert!(matches!(healthy.try_recv(), Ok(Event::Update(_))));
        }
        assert!(matches!(healthy.try_recv(), Ok(Event::Failed(_))));
        assert!(block_on(healthy.recv()).is_none());
    }

    #[test]
    fn a_dropped_subscription_is_forgotten_at_the_next_update() {
        let hub = Hub::default();
        let shared = SubscriptionBuilder::<Update>::new(&hub, 10, 10).subscribe();
        let own = SubscriptionBuilder::<Update>::new(&hub, 10, 10)
            .lossless()
            .subscribe();
        let counts = |hub: &Hub| {
            let inner = hub.lock();
            (inner.lists.channels.len(), inner.lists.subscribers.len())
        };
        assert_eq!(counts(&hub), (1, 1));
        drop((shared, own));
        publish(&hub, option("x"));
        assert_eq!(counts(&hub), (0, 0));
    }

    #[test]
    fn a_waiting_subscriber_is_woken() {
        let hub = Arc::new(Hub::default());
        let mut subscription =
            SubscriptionBuilder::<types::UpdateOption>::new(&hub, 10, 10).subscribe();
        let publisher = {
            let hub = hub.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(50));
                publish(&hub, option("late"));
            })
        };
        let event = block_on(subscription.recv());
        assert!(matches!(event, Some(Event::Update(option)) if option.name == "late"));
        publisher.join().unwrap();
    }

    #[test]
    fn bounded_subscriptions_of_one_kind_share_one_channel() {
        let hub = Hub::default();
        let mut subscriptions: Vec<_> = (0..64)
            .map(|_| SubscriptionBuilder::<types::UpdateOption>::new(&hub, 16, 10).subscribe())
            .collect();
        let _other_kind =
            SubscriptionBuilder::<types::UpdateAuthorizationState>::new(&hub, 16, 10).subscribe();
        let _other_capacity =
            SubscriptionBuilder::<types::UpdateOption>::new(&hub, 64, 10).subscribe();
        assert_eq!(hub.lock().lists.channels.len(), 3);
        publish(&hub, option("shared"));
        publish(&hub, state());
        for subscription in &mut subscriptions {
            let first = subscription.try_recv();
            assert!(matches!(first, Ok(Event::Update(option)) if option.name == "shared"));
            assert_eq!(subscription.try_recv().unwrap_err(), TryRecvError::Empty);
        }
        hub.end(End::Failed(Error::receive_failed("test")));
        for subscription in &mut subscriptions {
            assert!(matches!(
                block_on(subscription.recv()),
                Some(Event::Failed(_))
            ));
            assert!(block_on(subscription.recv()).is_none());
        }
    }
}
