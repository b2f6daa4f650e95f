//! A panic on the receive thread, caused the way a user could cause it: a `tracing` subscriber
//! that panics on an event the receive thread logs. It must not leave anything waiting: pending
//! requests fail, subscriptions end with `Event::Failed`, state watches return, `health` reports
//! it, and a client created afterwards works. Its own test binary: the subscriber is global.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tdlib::enums::{AuthorizationState, Update};
use tdlib::{Client, Event, functions, types};

mod common;
use common::OnEvent;

/// When set, the subscriber panics on the receive thread's "discarded" event.
static ARMED: AtomicBool = AtomicBool::new(false);

/// A `tracing` subscriber with a bug: once armed, it panics on an event of the receive thread.
fn panics_when_armed(_: tracing::Level, _: &str, message: String) {
    let on_receive_thread = std::thread::current().name() == Some("tdlib-receive");
    if on_receive_thread
        && message.contains("nobody waits for")
        && ARMED.swap(false, Ordering::SeqCst)
    {
        panic!("a tracing subscriber with a bug");
    }
}

async fn bounded<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), future)
        .await
        .expect("no hang: this should have ended long ago")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_on_the_receive_thread_ends_what_waits_and_later_clients_work() {
    tracing::subscriber::set_global_default(OnEvent(panics_when_armed)).unwrap();
    tdlib::set_log_verbosity(1).unwrap();
    let client = Client::new().unwrap();
    assert_eq!(
        client
            .send(functions::TestSquareInt { x: 2 })
            .await
            .unwrap()
            .value,
        4
    );
    let mut all = client.subscription::<Update>().lossless().subscribe();
    let mut states = client.subscribe::<types::UpdateAuthorizationState>();
    let mut watch = client.authorization_states();
    // Requests that will still be waiting (a 60 s alarm; TDLib answers it before init).
    let waiting: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.send(functions::SetAlarm { seconds: 60.0 }).await })
        })
        .collect();
    while tdlib::health().pending_requests < 20 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // A request given up before its answer: the answer is discarded on the receive thread,
    // which logs it, and the subscriber panics there.
    ARMED.store(true, Ordering::SeqCst);
    let given_up = client
        .send_timeout(
            functions::SetAlarm { seconds: 0.2 },
            Duration::from_millis(10),
        )
        .await;
    assert!(given_up.unwrap_err().is_timeout());

    for request in waiting {
        let error = bounded(request).await.unwrap().unwrap_err();
        assert!(error.is_receive_failed(), "{error:?}");
        assert!(
            error
                .to_string()
                .contains("a tracing subscriber with a bug"),
            "{error}"
        );
    }
    // Every subscription ends with the failure as its last event.
    let mut last = None;
    while let Some(event) = bounded(all.recv()).await {
        last = Some(event);
    }
    assert!(matches!(last, Some(Event::Failed(_))), "{last:?}");
    let mut last = None;
    while let Some(event) = bounded(states.recv()).await {
        last = Some(event);
    }
    assert!(matches!(last, Some(Event::Failed(_))), "{last:?}");
    // Watches return, the client says it is done, and new requests fail at once.
    let closed = watch.wait_for(|state| matches!(state, AuthorizationState::Closed(_)));
    assert!(
        bounded(closed).await.is_none(),
        "ended, without a Closed state"
    );
    assert!(
        watch.changed().await.is_none(),
        "and it stays ended while TDLib closes the client"
    );
    assert!(client.is_closed());
    let after = client.send(functions::TestSquareInt { x: 3 }).await;
    assert!(after.unwrap_err().is_receive_failed());
    bounded(client.close()).await.unwrap();

    let health = tdlib::health();
    assert_eq!(health.receive_failures, 1);
    assert!(
        health
            .last_failure
            .as_deref()
            .unwrap_or_default()
            .contains("a tracing subscriber"),
        "{health:?}"
    );
    assert_eq!(health.pending_requests, 0);

    // A client created afterwards works: requests, subscriptions, close.
    let later = Client::new().unwrap();
    let mut later_states = later
        .subscription::<types::UpdateAuthorizationState>()
        .lossless()
        .subscribe();
    assert_eq!(
        later
            .send(functions::TestSquareInt { x: 7 })
            .await
            .unwrap()
            .value,
        49
    );
    bounded(later.close()).await.unwrap();
    let mut seen = Vec::new();
    while let Some(event) = bounded(later_states.recv()).await {
        let Event::Update(state) = event else {
            panic!("{event:?}")
        };
        seen.push(format!("{:?}", state.authorization_state));
    }
    assert!(seen.last().unwrap().starts_with("Closed"), "{seen:?}");
    // TDLib has closed the failed client too: nothing is left open at exit.
    for _ in 0..100 {
        if !tdlib::health().receiving {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(tdlib::health().clients, 0);
    assert!(!tdlib::health().receiving);
}
