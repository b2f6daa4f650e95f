//! Subscriptions delivered into `crossbeam-channel` channels: what a desktop event loop can
//! `try_recv` each frame or `select!` over with its other channels.
//!
//! The receive thread sends into the channel directly (a [`Sink`] of the client's hub), after
//! the kind and the filter were applied, as for a [`Subscription`](crate::Subscription).
//!
//! A bounded channel cannot drop its oldest element from the sending side, so a full bounded
//! channel drops the **newest** updates instead and counts them. It has one slot beyond its
//! capacity, which takes [`Event::Missed`] for the first update dropped, so the reader hears of
//! it at once; later counts go before the next update that fits (the receive thread also
//! retries after each output of TDLib, and at least once a second, so a count comes even if no
//! update follows). The reader sees the updates it had, then how many were dropped, then the
//! ones that came after. Only a reader that lets its channel fill up completely can miss the
//! last count or [`Event::Failed`] at the end (the channel still disconnects; a warning is
//! logged).
//!
//! A crossbeam sender cannot tell whether its receiver is still there, except by sending: the
//! sink learns that the reader dropped its receiver at the next send, or at the next refused
//! send of a full channel, and is then forgotten.

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
    /// The item that says `count` updates were dropped (bounded channels only); none for
    /// channels of states, which are lossless.
    fn missed(_count: u64) -> Option<Self> {
        None
    }
    /// The last item of a subscription that failed; none for channels of states, which just
    /// end.
    fn failed(_error: Error) -> Option<Self> {
        None
    }
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

/// The slot a bounded channel has beyond its capacity: for the report of dropped updates (or
/// the end) when the capacity is used up.
const SPARE: usize = 1;

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
    /// Updates dropped since the reader was last told.
    missed: u64,
    /// Whether the last item sent was a report of dropped updates (two in a row say nothing
    /// new; an update after one keeps the reader going).
    reported_last: bool,
    /// Whether the lossless warning was logged (re-armed at half the threshold).
    warned: bool,
    /// Whether a report of `missed` waits for room (see [`Deferred`]).
    deferred: bool,
}

impl<T: Item> ChannelSink<T> {
    /// A sink and its channel: bounded to `capacity` updates (plus a spare slot), or lossless.
    pub(crate) fn new(
        capacity: Option<usize>,
        warn_at: usize,
    ) -> (Arc<ChannelSink<T>>, Receiver<T>) {
        let (sender, receiver) = match capacity {
            Some(capacity) => crossbeam_channel::bounded(capacity + SPARE),
            None => crossbeam_channel::unbounded(),
        };
        let sink = Arc::new_cyclic(|me| ChannelSink {
            capacity,
            warn_at,
            state: Mutex::new(SinkState {
                sender: Some(sender),
                missed: 0,
                reported_last: false,
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

    /// Sends, or learns that the reader is gone (then forgets the sender); whether it was sent.
    /// A full channel refuses without side effects: the refusal still tells whether the reader
    /// is there, which nothing else can (a crossbeam sender does not know its receivers).
    fn send_locked(&self, state: &mut SinkState<T>, item: T) -> bool {
        let Some(sender) = &state.sender else {
            return false;
        };
        match sender.try_send(item) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => false,
            Err(TrySendError::Disconnected(_)) => {
                state.sender = None;
                self.wanted.store(false, Ordering::Release);
                false
            }
        }
    }

    /// Reports the dropped updates; whether it was sent.
    fn report(&self, state: &mut SinkState<T>) -> bool {
        let Some(report) = T::missed(state.missed) else {
            state.missed = 0;
            return true;
        };
        if self.send_locked(state, report) {
            state.missed = 0;
            state.reported_last = true;
            return true;
        }
        false
    }

    fn send_update(&self, state: &mut SinkState<T>, item: T) -> bool {
        let sent = self.send_locked(state, item);
        if sent {
            state.reported_last = false;
        }
        sent
    }

    /// A bounded channel's rule, with `free` slots left of capacity + spare: updates fill the
    /// capacity; a report of dropped updates goes before the next update that fits; the spare
    /// slot takes the report of the first update dropped (so the reader hears of it at once),
    /// or an update after a report (so the reader goes on while it lags). A full channel
    /// counts what it drops, and the send it refuses tells whether the reader is gone.
    fn push_bounded(&self, state: &mut SinkState<T>, item: T, free: usize) {
        if state.missed > 0 {
            if free >= 2 {
                if self.report(state) {
                    self.send_update(state, item);
                }
                return;
            }
            if free == 1 && state.reported_last {
                self.send_update(state, item);
                return;
            }
            state.missed += 1;
            if free == 1 {
                self.report(state);
            } else if self.send_update(state, item) {
                // The reader made room meanwhile: sent after all.
                state.missed -= 1;
            }
            return;
        }
        if free >= 2 || (free == 1 && state.reported_last) {
            self.send_update(state, item);
            return;
        }
        state.missed = 1;
        if free == 1 {
            self.report(state);
        } else if self.send_update(state, item) {
            state.missed = 0;
        }
    }
}

impl<T: Item> Deferred for ChannelSink<T> {
    fn retry(&self) -> bool {
        let mut state = self.lock();
        if state.sender.is_none() || state.missed == 0 || self.report(&mut state) {
            state.deferred = false;
            return true;
        }
        // A report refused because the channel is full; unless the reader is gone.
        if state.sender.is_none() {
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
                let free = (capacity + SPARE).saturating_sub(queued);
                self.push_bounded(&mut state, item, free);
                // The reader hears of dropped updates once it has made room, even if no update
                // follows.
                if state.missed > 0
                    && state.sender.is_some()
                    && !std::mem::replace(&mut state.deferred, true)
                {
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
        let mut lost = false;
        if state.missed > 0 {
            lost |= !self.report(&mut state);
        }
        if let Some(failed) = match end {
            End::Failed(error) => T::failed(error),
            End::Closed => None,
        } {
            lost |= !self.send_locked(&mut state, failed);
        }
        if lost && state.sender.is_some() {
            // Only when the reader let its bounded channel fill up completely: it still gets
            // the end (the channel disconnects), not why.
            tracing::warn!(
                target: "tdlib",
                "a full update channel ended: its last report (updates missed, or the failure) was dropped"
            );
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

#[cfg(test)]
mod tests {
    use tdlib_types::types;

    use super::*;

    fn option(name: &str) -> Arc<Update> {
        Arc::new(Update::Option(types::UpdateOption {
            name: name.into(),
            value: Default::default(),
        }))
    }

    /// What the reader sees, as text: update names and `missed:<count>`.
    fn read(receiver: &Receiver<Event<Update>>) -> Vec<String> {
        receiver
            .try_iter()
            .map(|event| match event {
                Event::Update(update) => match &**update.update() {
                    Update::Option(option) => option.name.clone(),
                    other => format!("{other:?}"),
                },
                Event::Missed(count) => format!("missed:{count}"),
                Event::Failed(_) => "failed".into(),
            })
            .collect()
    }

    #[test]
    fn a_full_channel_reports_the_first_drop_at_once_and_the_rest_before_the_next_update() {
        let (sink, receiver) = ChannelSink::<Event<Update>>::new(Some(4), 100);
        for name in ["0", "1", "2", "3", "4", "5", "6"] {
            sink.push(&option(name));
        }
        // The spare slot told of the first drop at once; two more were dropped since.
        assert_eq!(read(&receiver), ["0", "1", "2", "3", "missed:1"]);
        // Room now: the count goes before the next update, without one (the receive loop's
        // retry) ...
        assert!(sink.retry());
        assert_eq!(read(&receiver), ["missed:2"]);
        // ... or with one.
        for name in ["7", "8", "9", "10", "11", "12"] {
            sink.push(&option(name));
        }
        assert_eq!(read(&receiver), ["7", "8", "9", "10", "missed:1"]);
        sink.push(&option("13"));
        sink.push(&option("14"));
        assert_eq!(read(&receiver), ["missed:1", "13", "14"]);
    }

    #[test]
    fn a_reader_that_keeps_up_slowly_still_gets_updates_between_the_counts() {
        let (sink, receiver) = ChannelSink::<Event<Update>>::new(Some(2), 100);
        let mut seen = Vec::new();
        for round in 0..20 {
            for i in 0..3 {
                sink.push(&option(&format!("{round}.{i}")));
            }
            // The reader takes one event per round.
            if let Ok(event) = receiver.try_recv() {
                seen.push(matches!(event, Event::Update(_)));
            }
        }
        let updates = seen.iter().filter(|update| **update).count();
        assert!(updates >= 5, "updates keep coming while it lags: {seen:?}");
        assert!(seen.iter().any(|update| !update), "and so do the counts");
    }

    #[test]
    fn a_dropped_reader_of_a_full_channel_is_noticed() {
        let (sink, receiver) = ChannelSink::<Event<Update>>::new(Some(2), 100);
        for name in ["0", "1", "2", "3"] {
            sink.push(&option(name));
        }
        assert!(sink.is_wanted());
        drop(receiver);
        sink.push(&option("4"));
        assert!(
            !sink.is_wanted(),
            "the refused send told that the reader is gone"
        );
        assert!(sink.retry(), "nothing left to retry");
    }

    #[test]
    fn the_end_comes_after_what_is_queued() {
        let (sink, receiver) = ChannelSink::<Event<Update>>::new(Some(8), 100);
        sink.push(&option("0"));
        sink.end(End::Failed(Error::receive_failed("test")));
        assert!(!sink.is_wanted());
        assert_eq!(read(&receiver), ["0", "failed"]);
        assert!(receiver.recv().is_err(), "disconnected");
        let (lossless, receiver) = ChannelSink::<Event<Update>>::new(None, 3);
        for name in 0..10 {
            lossless.push(&option(&name.to_string()));
        }
        assert_eq!(lossless.backlog(), Some(10));
        lossless.end(End::Closed);
        assert_eq!(read(&receiver).len(), 10);
    }
}
