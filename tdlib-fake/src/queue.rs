//! The output queue that `td_receive` reads: one for the whole process, like TDLib's (the old
//! per-client API gets one per client).
//!
//! Items are NUL-terminated JSON texts, ready to be handed to C. A script's burst of a million
//! identical updates is one [`Item::Repeat`] holding one shared text and a count, so that
//! queueing it costs nothing and each `td_receive` only bumps a reference count: the point of a
//! burst is to measure the receiving program, not the fake.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// A text handed out by [`Queue::pop`]. Both kinds end with a NUL byte.
#[derive(Debug)]
pub enum Text {
    /// A text of its own.
    Owned(String),
    /// One of the copies of a repeated text.
    Shared(Arc<str>),
}

impl Text {
    /// The JSON text, without the NUL terminator.
    #[cfg(test)]
    pub fn json(&self) -> &str {
        let text: &str = match self {
            Text::Owned(text) => text,
            Text::Shared(text) => text,
        };
        text.strip_suffix('\0').unwrap_or(text)
    }
}

#[derive(Debug)]
enum Item {
    One(String),
    Repeat(Arc<str>, u64),
}

/// A FIFO of texts with a blocking, timed pop.
#[derive(Debug, Default)]
pub struct Queue {
    items: Mutex<VecDeque<Item>>,
    ready: Condvar,
}

impl Queue {
    /// An empty queue (usable in a `static`).
    pub const fn new() -> Queue {
        Queue {
            items: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<Item>> {
        self.items.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends a NUL-terminated text.
    pub fn push(&self, text: String) {
        debug_assert!(text.ends_with('\0'));
        self.lock().push_back(Item::One(text));
        self.ready.notify_one();
    }

    /// Appends `count` copies of a NUL-terminated text.
    pub fn push_repeat(&self, text: Arc<str>, count: u64) {
        debug_assert!(text.ends_with('\0'));
        if count == 0 {
            return;
        }
        self.lock().push_back(Item::Repeat(text, count));
        self.ready.notify_one();
    }

    /// The next text, waiting at most `timeout` for one.
    pub fn pop(&self, timeout: Duration) -> Option<Text> {
        let mut items = self.lock();
        let deadline = Instant::now().checked_add(timeout);
        loop {
            match items.front_mut() {
                Some(Item::Repeat(text, count)) => {
                    *count -= 1;
                    let text = Arc::clone(text);
                    if *count == 0 {
                        items.pop_front();
                    }
                    return Some(Text::Shared(text));
                }
                Some(Item::One(_)) => {
                    return match items.pop_front() {
                        Some(Item::One(text)) => Some(Text::Owned(text)),
                        _ => None,
                    };
                }
                None => {}
            }
            let left = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(1),
            };
            if left.is_zero() {
                return None;
            }
            items = self
                .ready
                .wait_timeout(items, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// How many texts are queued (a repeat counts as its count).
    #[cfg(test)]
    pub fn len(&self) -> u64 {
        self.lock()
            .iter()
            .map(|item| match item {
                Item::One(_) => 1,
                Item::Repeat(_, count) => *count,
            })
            .sum()
    }
}
