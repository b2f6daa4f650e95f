//! Time limits that work on any executor: [`timeout`] races a future against a deadline kept
//! by one helper thread (`tdlib-timer`, started at the first use), so `Client::send_timeout`
//! needs no runtime timer (tokio's panics outside a tokio runtime with timers enabled).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, LazyLock, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::Error;

/// `future`, or [`Error`] (`is_timeout`) if it has not finished within `limit`. The future is
/// dropped when the time is up.
pub(crate) async fn timeout<T>(
    limit: Duration,
    future: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let mut future = std::pin::pin!(future);
    let mut sleep = Sleep::new(limit);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(output);
        }
        match Pin::new(&mut sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Error::timeout())),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// A future that is ready at a deadline.
struct Sleep {
    deadline: Option<Instant>,
    /// The timer's key for this sleep, once it waits.
    key: Option<(Instant, u64)>,
}

impl Sleep {
    fn new(limit: Duration) -> Sleep {
        Sleep {
            // A limit too far away to represent never expires.
            deadline: Instant::now().checked_add(limit),
            key: None,
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(deadline) = self.deadline else {
            return Poll::Pending;
        };
        if Instant::now() >= deadline {
            if let Some(key) = self.key.take() {
                timer().cancel(key);
            }
            return Poll::Ready(());
        }
        let key = *self
            .key
            .get_or_insert_with(|| (deadline, timer().next_id.fetch_add(1, Ordering::Relaxed)));
        timer().wait(key, cx.waker());
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            timer().cancel(key);
        }
    }
}

struct Timer {
    /// Sleeps by deadline (and an id, to keep equal deadlines apart).
    waiting: Mutex<Waiting>,
    changed: Condvar,
    next_id: AtomicU64,
}

#[derive(Default)]
struct Waiting {
    by_deadline: BTreeMap<(Instant, u64), Waker>,
    started: bool,
}

fn timer() -> &'static Timer {
    static TIMER: LazyLock<Timer> = LazyLock::new(|| Timer {
        waiting: Mutex::new(Waiting::default()),
        changed: Condvar::new(),
        next_id: AtomicU64::new(0),
    });
    &TIMER
}

impl Timer {
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait(&'static self, key: (Instant, u64), waker: &Waker) {
        let mut waiting = self.lock();
        if !waiting.started {
            let spawned = std::thread::Builder::new()
                .name("tdlib-timer".into())
                .spawn(move || self.run());
            if spawned.is_err() {
                // Without a thread the sleep polls itself (waking at once) until a thread can be
                // started or its deadline has passed: nothing waits forever.
                drop(waiting);
                waker.wake_by_ref();
                return;
            }
            waiting.started = true;
        }
        let earliest = waiting.by_deadline.keys().next().copied();
        waiting.by_deadline.insert(key, waker.clone());
        if earliest.is_none_or(|earliest| key < earliest) {
            self.changed.notify_one();
        }
    }

    fn cancel(&self, key: (Instant, u64)) {
        self.lock().by_deadline.remove(&key);
    }

    fn run(&'static self) {
        let mut waiting = self.lock();
        loop {
            let now = Instant::now();
            let mut due = Vec::new();
            while let Some(entry) = waiting.by_deadline.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                due.push(entry.remove());
            }
            if !due.is_empty() {
                // Woken without the lock: a waker may poll at once, and so come back here.
                drop(waiting);
                for waker in due {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
                }
                waiting = self.lock();
                continue;
            }
            waiting = match waiting.by_deadline.keys().next() {
                Some((deadline, _)) => {
                    let wait = deadline.saturating_duration_since(now);
                    self.changed
                        .wait_timeout(waiting, wait)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
                None => self
                    .changed
                    .wait(waiting)
                    .unwrap_or_else(|p| p.into_inner()),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_fires_without_any_runtime() {
        let started = Instant::now();
        let result: Result<(), Error> =
            futures_executor::block_on(timeout(Duration::from_millis(50), std::future::pending()));
        assert!(result.unwrap_err().is_timeout());
        assert!(started.elapsed() >= Duration::from_millis(50));
        let ready = futures_executor::block_on(timeout(Duration::from_secs(10), async { Ok(5) }));
        assert_eq!(ready.unwrap(), 5);
        let never = futures_executor::block_on(timeout(Duration::MAX, async { Ok(1) }));
        assert_eq!(
            never.unwrap(),
            1,
            "an unrepresentable deadline is no deadline"
        );
    }

    #[test]
    fn many_sleeps_end_in_deadline_order() {
        let order = std::sync::Arc::new(Mutex::new(Vec::new()));
        let threads: Vec<_> = [80u64, 10, 40, 20]
            .into_iter()
            .map(|ms| {
                let order = order.clone();
                std::thread::spawn(move || {
                    let _ = futures_executor::block_on(timeout::<()>(
                        Duration::from_millis(ms),
                        std::future::pending(),
                    ));
                    order.lock().unwrap().push(ms);
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [10, 20, 40, 80]);
    }
}
