//! Handling a stream of updates in order per key (per chat, usually) while different keys run
//! concurrently: [`for_each_by_key`].
//!
//! A bot that answers one message at a time stalls every chat while one of them waits (a
//! FLOOD_WAIT of 30 seconds, a slow download); one that spawns a task per message loses the
//! order within a chat. This runs one handler at a time per key, and handlers of different keys
//! at the same time, inside the one future it returns: no spawning, so it works on any
//! executor. Handlers run concurrently, not in parallel; a handler that computes for long should
//! hand that work to a thread of its own.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::hash::Hash;
use std::task::Poll;

use futures_core::Stream;
use futures_util::stream::{FuturesUnordered, StreamExt};

/// Runs `handle` on every item of `items`: items with the same key (from `key_of`) one after
/// another, in the order they came; items with different keys concurrently. Returns when
/// `items` has ended and every handler has finished.
///
/// Items of a busy key wait in a queue of their own, so a slow key never holds up the others
/// and nothing is dropped (the queues grow while a key is slow). The handlers run inside the
/// returned future: a handler that panics makes it panic, as its own code would.
///
/// ```no_run
/// # async fn example(client: tdlib::Client) {
/// use tdlib::{Event, types};
///
/// let messages = client.subscription::<types::UpdateNewMessage>().lossless().subscribe();
/// tdlib::ordered::for_each_by_key(
///     messages,
///     |event| match event {
///         Event::Update(new) => Some(new.message.chat_id),
///         _ => None,
///     },
///     |event| async move {
///         if let Event::Update(new) = event {
///             println!("chat {}: message {}", new.message.chat_id, new.message.id);
///         }
///     },
/// )
/// .await;
/// # }
/// ```
pub async fn for_each_by_key<S, K, H, F>(
    items: S,
    mut key_of: impl FnMut(&S::Item) -> K,
    mut handle: H,
) where
    S: Stream,
    K: Eq + Hash + Clone,
    H: FnMut(S::Item) -> F,
    F: Future<Output = ()>,
{
    let mut items = std::pin::pin!(items.fuse());
    // Keys with a handler running, and the items waiting behind it.
    let mut waiting: HashMap<K, VecDeque<S::Item>> = HashMap::new();
    let mut running = FuturesUnordered::new();
    let mut ended = false;
    std::future::poll_fn(|cx| {
        loop {
            let mut progress = false;
            // Take every item that is ready; start it, or queue it behind its key.
            while !ended {
                match items.as_mut().poll_next(cx) {
                    Poll::Ready(Some(item)) => {
                        progress = true;
                        let key = key_of(&item);
                        match waiting.get_mut(&key) {
                            Some(queue) => queue.push_back(item),
                            None => {
                                waiting.insert(key.clone(), VecDeque::new());
                                running.push(keyed(key, handle(item)));
                            }
                        }
                    }
                    Poll::Ready(None) => ended = true,
                    Poll::Pending => break,
                }
            }
            // Run the handlers; when one finishes, start the next item of its key.
            while let Poll::Ready(Some(key)) = running.poll_next_unpin(cx) {
                progress = true;
                let next = waiting.get_mut(&key).and_then(VecDeque::pop_front);
                match next {
                    Some(item) => running.push(keyed(key, handle(item))),
                    None => {
                        waiting.remove(&key);
                    }
                }
            }
            if ended && running.is_empty() {
                return Poll::Ready(());
            }
            if !progress {
                return Poll::Pending;
            }
        }
    })
    .await;
}

/// A handler's future that yields its key when it finishes (one function, so that every
/// handler future has the same type).
async fn keyed<K, F: Future<Output = ()>>(key: K, future: F) -> K {
    future.await;
    key
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use futures_util::stream;

    use super::*;

    /// A future that waits `ms` on a thread (no runtime timer needed).
    fn sleep(ms: u64) -> impl Future<Output = ()> {
        let (sender, receiver) = futures_channel::oneshot::channel::<()>();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(ms));
            let _ = sender.send(());
        });
        async move {
            let _ = receiver.await;
        }
    }

    #[test]
    fn one_key_in_order_and_keys_concurrently() {
        let log = Arc::new(Mutex::new(Vec::new()));
        // Key "slow" waits 300 ms on its first item; "fast" must not wait for it.
        let items = vec![
            ("slow", 1),
            ("fast", 1),
            ("slow", 2),
            ("fast", 2),
            ("fast", 3),
        ];
        let started = std::time::Instant::now();
        futures_executor::block_on(for_each_by_key(
            stream::iter(items),
            |(key, _)| *key,
            |(key, number)| {
                let log = log.clone();
                async move {
                    if key == "slow" && number == 1 {
                        sleep(300).await;
                    }
                    log.lock()
                        .unwrap()
                        .push((key, number, started.elapsed().as_millis()));
                }
            },
        ));
        let log = log.lock().unwrap();
        let order: Vec<_> = log.iter().map(|(key, number, _)| (*key, *number)).collect();
        assert_eq!(
            order,
            [
                ("fast", 1),
                ("fast", 2),
                ("fast", 3),
                ("slow", 1),
                ("slow", 2)
            ],
            "fast ran while slow waited; each key in its own order"
        );
        assert!(log[2].2 < 200, "the fast key was not held up: {log:?}");
    }

    #[test]
    fn ends_when_the_stream_and_the_handlers_are_done() {
        let count = Arc::new(Mutex::new(0));
        futures_executor::block_on(for_each_by_key(
            stream::iter(0..1000),
            |n| n % 7,
            |_| {
                let count = count.clone();
                async move {
                    sleep(1).await;
                    *count.lock().unwrap() += 1;
                }
            },
        ));
        assert_eq!(*count.lock().unwrap(), 1000);
    }
}
