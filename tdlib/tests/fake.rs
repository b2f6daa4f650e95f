//! The client's contract where the real TDLib cannot show it offline: update bursts from the
//! scripted fake libtdjson. Each test runs in a child process with the fake first on the loader
//! path (see `common::on_fake`).

use std::time::Duration;

use serde_json::json;
use tdlib::enums::{ConnectionState, Update};
use tdlib::{Client, Event, auth, functions, types};

mod common;
use common::on_fake;

const BURST: u64 = 1_000_000;

/// A million option updates between two connection states.
fn burst_script() -> serde_json::Value {
    json!({
        "login": {"bot_token": "1:burst"},
        "conversation": [
            {"wait_for": {"request": "testCallEmpty", "count": 1, "timeout_ms": 60000}},
            {"burst": {"count": BURST, "update": {"@type": "updateOption", "name": "burst",
                "value": {"@type": "optionValueInteger", "value": "42"}}}},
            {"update": {"@type": "updateConnectionState",
                "state": {"@type": "connectionStateUpdating"}}}
        ]
    })
}

async fn logged_in() -> Client {
    let client = Client::new().unwrap();
    let parameters = auth::parameters(1, "0123456789abcdef0123456789abcdef", "fake-db");
    auth::authorize(&client, &mut auth::Bot::new(parameters, "1:burst"))
        .await
        .unwrap();
    client
}

async fn bounded<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(120), future)
        .await
        .expect("no hang")
}

/// A subscriber of one kind, with room for only 4 updates, never lags behind a burst of a
/// million updates of another kind (they never enter its queue), while a subscriber of every
/// kind with the same room does; a lossless subscriber gets all of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_kind_subscriber_does_not_lag_behind_a_burst_of_other_kinds() {
    if on_fake(
        "a_one_kind_subscriber_does_not_lag_behind_a_burst_of_other_kinds",
        burst_script(),
    )
    .is_some()
    {
        return;
    }
    let client = logged_in().await;
    let mut connection = client
        .subscription::<types::UpdateConnectionState>()
        .capacity(4)
        .subscribe();
    let mut everything = client.subscription::<Update>().capacity(4).subscribe();
    let mut lossless = client.subscription::<Update>().lossless().subscribe();
    // A reader that never reads: its queue grows, nothing else waits for it.
    let never_read = client
        .subscription::<Update>()
        .lossless()
        .warn_at(1000)
        .subscribe();
    let counting = tokio::spawn(async move {
        let mut options = 0u64;
        while let Some(event) = lossless.recv().await {
            let Event::Update(update) = event else {
                panic!("a lossless subscription: {event:?}")
            };
            match &**update.update() {
                Update::Option(option) if option.name == "burst" => options += 1,
                Update::ConnectionState(state)
                    if matches!(state.state, ConnectionState::Updating(_)) =>
                {
                    break;
                }
                _ => {}
            }
        }
        options
    });
    client.send(functions::TestCallEmpty {}).await.unwrap();
    // Read only once the burst is over: with room for 4, only filtering before queueing can
    // keep this subscriber from lagging.
    assert_eq!(
        bounded(counting).await.unwrap(),
        BURST,
        "the lossless subscriber lost nothing"
    );
    let mut missed = 0;
    loop {
        match bounded(connection.recv()).await {
            Some(Event::Update(state)) if matches!(state.state, ConnectionState::Updating(_)) => {
                break;
            }
            Some(Event::Update(_)) => {}
            Some(Event::Missed(count)) => missed += count,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(missed, 0, "the one-kind subscriber lagged");
    // The receive thread hands an update to its subscriptions one after another: the
    // connection subscription may have its last update before the reader that never reads
    // has it queued. Wait (bounded) for that, then nothing may be missing.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while never_read.len() as u64 <= BURST && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        never_read.len() as u64 > BURST,
        "{} queued; {:?}",
        never_read.len(),
        tdlib::health()
    );
    assert!(tdlib::health().lossless_backlog as u64 > BURST);
    let square = bounded(client.send(functions::TestSquareInt { x: 6 })).await;
    assert_eq!(
        square.unwrap().value,
        36,
        "requests go on while a reader does not read"
    );
    let first = bounded(everything.recv()).await;
    assert!(
        matches!(first, Some(Event::Missed(count)) if count > BURST - 10),
        "the burst was real: {first:?}"
    );
    client.close().await.unwrap();
}

/// A filter runs before queueing too: a subscriber that wants one option in a million gets it,
/// and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_is_applied_before_queueing() {
    let script = json!({
        "login": {"bot_token": "1:burst"},
        "conversation": [
            {"wait_for": {"request": "testCallEmpty", "count": 1, "timeout_ms": 60000}},
            {"burst": {"count": 200000, "update": {"@type": "updateOption", "name": "noise",
                "value": {"@type": "optionValueInteger", "value": "1"}}}},
            {"update": {"@type": "updateOption", "name": "wanted",
                "value": {"@type": "optionValueInteger", "value": "2"}}}
        ]
    });
    if on_fake("a_filter_is_applied_before_queueing", script).is_some() {
        return;
    }
    let client = logged_in().await;
    let mut wanted = client
        .subscription::<types::UpdateOption>()
        .capacity(1)
        .filter(|option| option.name == "wanted")
        .subscribe();
    client.send(functions::TestCallEmpty {}).await.unwrap();
    let Some(Event::Update(option)) = bounded(wanted.recv()).await else {
        panic!("the wanted option")
    };
    assert_eq!(option.name, "wanted");
    assert!(wanted.is_empty());
    client.close().await.unwrap();
    assert!(bounded(wanted.recv()).await.is_none());
}

/// The blocking face on the same burst, without any runtime: a lossless channel gets every
/// update of the million; a one-kind channel with room for 4 lags behind none of them; a
/// bounded channel of every kind keeps the oldest it had room for, then says how many it
/// dropped, then goes on with the newest.
#[test]
fn blocking_channels_lose_nothing_or_say_what_they_dropped() {
    use tdlib::blocking::{self, crossbeam_channel};
    if on_fake(
        "blocking_channels_lose_nothing_or_say_what_they_dropped",
        burst_script(),
    )
    .is_some()
    {
        return;
    }
    let client = blocking::Client::new().unwrap();
    let parameters = auth::parameters(1, "0123456789abcdef0123456789abcdef", "fake-db");
    client
        .authorize(&mut auth::Bot::new(parameters, "1:burst"))
        .unwrap();
    let connection = client
        .subscription::<types::UpdateConnectionState>()
        .capacity(4)
        .channel();
    let everything = client.subscription::<Update>().capacity(4).channel();
    let lossless = client.subscription::<Update>().lossless().channel();
    let counting = std::thread::spawn(move || {
        let mut options = 0u64;
        loop {
            let event = lossless
                .recv_timeout(Duration::from_secs(120))
                .expect("no hang");
            let Event::Update(update) = event else {
                panic!("a lossless channel: {event:?}")
            };
            match &**update.update() {
                Update::Option(option) if option.name == "burst" => options += 1,
                Update::ConnectionState(state)
                    if matches!(state.state, ConnectionState::Updating(_)) =>
                {
                    return options;
                }
                _ => {}
            }
        }
    });
    client.send(functions::TestCallEmpty {}).unwrap();
    assert_eq!(
        counting.join().unwrap(),
        BURST,
        "the lossless channel lost nothing"
    );
    fn next<T>(receiver: &crossbeam_channel::Receiver<T>) -> T {
        receiver
            .recv_timeout(Duration::from_secs(120))
            .expect("no hang")
    }
    match next(&connection) {
        Event::Update(state) => assert!(
            matches!(state.state, ConnectionState::Updating(_)),
            "{state:?}"
        ),
        other => panic!("the one-kind channel lagged: {other:?}"),
    }
    // Room for 4: the 4 oldest (the first options of the burst), then at once (in the spare
    // slot) that one was dropped.
    let mut kept = 0;
    let first = loop {
        match next(&everything) {
            Event::Update(_) => kept += 1,
            Event::Missed(count) => break count,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!((kept, first), (4, 1));
    assert_eq!(
        client
            .send(functions::TestSquareInt { x: 6 })
            .unwrap()
            .value,
        36
    );
    // Now that there is room, the rest of the count comes without any new update.
    match next(&everything) {
        Event::Missed(rest) => assert!(first + rest >= BURST - 3, "the burst was real: {rest}"),
        other => panic!("{other:?}"),
    }
    client.close().unwrap();
    // After the close the channel disconnects: what it still had, then the end.
    assert!(everything.iter().count() <= 4);
}
