//! Subscriptions delivered into `crossbeam-channel` channels: what a desktop event loop can
//! `try_recv` each frame or `select!` over with its other channels.
//!
//! The receive thread sends into the channel directly (a [`Sink`] of the client's hub), after
//! the kind and the filter were applied, as for a [`Subscription`](crate::Subscription).
//!
//! A bounded channel cannot drop its oldest element from the sending side, so a full bounded
//! channel drops the **newest** updates instead, counts them, and sends [`Event::Missed`] with
//! the count as soon as the reader has made room (the receive thread retries after each output
//! of TDLib, and at least once a second, so the count comes even if no update follows): the
//! reader sees the updates it had, then how many were dropped, then the ones that came after.
//! Two slots beyond the capacity are kept for the end (a last `Missed` and [`Event::Failed`]),
//! so that the end is never lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use tdlib_types::codec::Variant;
use tdlib_types::enums::Update;

use crate::subscription::{Deferred, End, Sink, defer};
use crate::{Error, Event, Received};

/// How a channel's items are made from what the receive thread has.
pub(crate) trait Item: Sized + Send + 'static {
    /// The item for an update of the subscriber's kind; `None` to skip it.
    fn from_update(update: &Arc<Update>) -> Option<Self>;
    /// The item that says `count` updates were dropped (bounded channels only).
    fn missed(count: u64) -> Option<Self>;
    /// The last item of a subscription that failed.
    fn failed(error: Error) -> Option<Self>;
}

impl<U: Variant<Update> + Send + Sync + 'static> Item for Event<U> {
    fn from_update(update: &Arc<Update>) -> Option<Self> {
        Received::new(update.clone()).map(Event::Update)
    }

    fn missed(count: u64) -> Option<Self> {
        Some(Event::Missed(count))
    }

    fn failed(error: Error) -> Option<Self> {
        Some(Event::Failed(error))
    }
}

/// Slots a bounded channel keeps beyond its capacity for the end: a last `Missed`, then
/// `Failed`.
const END_SLOTS: usize = 2;

/// The sending side of one channel subscription, held by the client's hub.
pub(crate) struct ChannelSink<T> {
    /// `None` for a lossless (unbounded) channel.
    capacity: Option<usize>,
    warn_at: usize,
    state: Mutex<SinkState<T>>,
    /// False once the reader is gone or the subscription ended; readable without the lock.
    wanted: AtomicBool,
    /// Itself, to defer work.
    me: Weak<ChannelSink<T>>,
}

struct SinkState<T> {
    /// `None` once ended: dropping it disconnects the channel, which ends the reader's loop.
    sender: Option<Sender<T>>,
    /// Updates dropped since the reader last heard of it.
    missed: u64,
    /// Whether the lossless warning was logged (re-armed at half the threshold).
    warned: bool,
    /// Whether a report of `missed` waits for room (see [`Deferred`]).
    deferred: bool,
}

impl<T: Item> ChannelSink<T> {
    /// A sink and its channel: bounded to `capacity` items, or lossless.
    pub(crate) fn new(
        capacity: Option<usize>,
        warn_at: usize,
    ) -> (Arc<ChannelSink<T>>, Receiver<T>) {
        let (sender, receiver) = match capacity {
            Some(capacity) => crossbeam_channel::bounded(capacity + END_SLOTS),
            None => crossbeam_channel::unbounded(),
        };
        let sink = Arc::new_cyclic(|me| ChannelSink {
            capacity,
            warn_at,
            state: Mutex::new(SinkState {
                sender: Some(sender),
                missed: 0,
                warned: false,
                deferred: false,
            }),
            wanted: AtomicBool::new(true),
            me: me.clone(),
        });
        (sink, receiver)
    }

    fn lock(&self) -> MutexGuard<'_, SinkState<T>> {
        // Nothing panics while it is held.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sends an item made outside the hub (the first item of a state channel); whether the
    /// reader is still there.
    pub(crate) fn send_item(&self, item: T) -> bool {
        let mut state = self.lock();
        self.send_locked(&mut state, item)
    }

    fn send_locked(&self, state: &mut SinkState<T>, item: T) -> bool {
        let Some(sender) = &state.sender else {
            return false;
        };
        match sender.try_send(item) {
            Ok(()) => true,
            // Full cannot happen: room is checked before, and only this side sends.
            Err(TrySendError::Full(_)) => true,
            Err(TrySendError::Disconnected(_)) => {
                state.sender = None;
                self.wanted.store(false, Ordering::Release);
                false
            }
        }
    }
}

impl<T: Item> ChannelSink<T> {
    /// Sends the count of dropped updates if there is room for it (and for `also` more items).
    fn report_missed(&self, state: &mut SinkState<T>, capacity: usize, also: usize) -> bool {
        let queued = state.sender.as_ref().map_or(0, Sender::len);
        if queued + 1 + also > capacity {
            return false;
        }
        let count = std::mem::take(&mut state.missed);
        if let Some(missed) = T::missed(count) {
            self.send_locked(state, missed);
        }
        true
    }
}

impl<T: Item> Deferred for ChannelSink<T> {
    fn retry(&self) -> bool {
        let mut state = self.lock();
        let Some(capacity) = self.capacity else {
            return true;
        };
        if state.sender.is_none()
            || state.missed == 0
            || self.report_missed(&mut state, capacity, 0)
        {
            state.deferred = false;
            return true;
        }
        false
    }
}

impl<T: Item> Sink for ChannelSink<T> {
    fn push(&self, update: &Arc<Update>) {
        let Some(item) = T::from_update(update) else {
            return;
        };
        let mut state = self.lock();
        let Some(sender) = &state.sender else {
            return;
        };
        let queued = sender.len();
        match self.capacity {
            Some(capacity) => {
                if state.missed > 0 && !self.report_missed(&mut state, capacity, 1) {
                    state.missed += 1;
                    return;
                }
                let queued = state.sender.as_ref().map_or(0, Sender::len);
                if queued < capacity {
                    self.send_locked(&mut state, item);
                    return;
                }
                state.missed += 1;
                // The reader hears of it once it has made room, even if no update follows.
                if !std::mem::replace(&mut state.deferred, true) {
                    drop(state);
                    if let Some(me) = self.me.upgrade() {
                        let me: Arc<dyn Deferred> = me;
                        defer(Arc::downgrade(&me));
                    }
                }
            }
            None => {
                if self.send_locked(&mut state, item) {
                    let length = queued + 1;
                    if state.warned && length < self.warn_at / 2 {
                        state.warned = false;
                    } else if !state.warned && length >= self.warn_at {
                        state.warned = true;
                        drop(state);
                        tracing::warn!(
                            target: "tdlib",
                            queued = length,
                            "a lossless update channel is not being read: {length} updates queued"
                        );
                    }
                }
            }
        }
    }

    fn end(&self, end: End) {
        let mut state = self.lock();
        self.wanted.store(false, Ordering::Release);
        if state.sender.is_none() {
            return;
        }
        if state.missed > 0 {
            let count = std::mem::take(&mut state.missed);
            if let Some(missed) = T::missed(count) {
                self.send_locked(&mut state, missed);
            }
        }
        if let End::Failed(error) = end {
            if let Some(failed) = T::failed(error) {
                self.send_locked(&mut state, failed);
            }
        }
        // Disconnects the channel: the reader gets what is queued, then the end.
        state.sender = None;
    }

    fn is_wanted(&self) -> bool {
        self.wanted.load(Ordering::Acquire)
    }

    fn backlog(&self) -> Option<usize> {
        if self.capacity.is_some() {
            return None;
        }
        self.lock().sender.as_ref().map(Sender::len)
    }
}
