//! The client's contract, against the real TDLib 1.8.65, offline. One test binary: the receive
//! thread is process-wide. Tests that check the thread's life (it stops when the last client
//! closes) take `SERIAL` exclusively; the others share it.

use std::ffi::{CStr, CString};
use std::time::Duration;

use futures_util::StreamExt;
use tdlib::enums::{AuthorizationState, ConnectionState, Update};
use tdlib::{Client, ErrorKind, Event, MAX_REQUEST_DEPTH, functions, types};
use tokio::sync::RwLock;

static SERIAL: RwLock<()> = RwLock::const_new(());

/// Quiet TDLib's default stderr logging.
fn quiet() {
    tdlib::set_log_verbosity(1).unwrap();
}

fn parameters(directory: &std::path::Path) -> functions::SetTdlibParameters {
    tdlib::auth::parameters(
        94575,
        "0123456789abcdef0123456789abcdef",
        directory.display().to_string(),
    )
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("client")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The names of the authorization states a lossless subscription sees, until it ends.
async fn authorization_states_seen(updates: &mut tdlib::Subscription<Update>) -> Vec<String> {
    let mut seen = Vec::new();
    while let Some(event) = updates.recv().await {
        if let Event::Update(update) = event {
            if let Update::AuthorizationState(state) = &**update.update() {
                let name = format!("{:?}", state.authorization_state);
                seen.push(name.split('(').next().unwrap_or_default().to_owned());
            }
        }
    }
    seen
}

/// Waits (bounded) until the receive thread has stopped.
async fn receive_thread_stops() -> bool {
    for _ in 0..50 {
        if !tdlib::health().receiving {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// `future`, which must end within 10 s.
async fn bounded<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), future)
        .await
        .expect("no hang: this should have ended long ago")
}

/// `{"@type":"testSquareInt","x":3,"junk":[[...1...]]}` whose deepest value is at `levels`
/// (TDLib's count: the request object is level 1, the number counts too).
fn square_with_depth(levels: usize) -> String {
    let arrays = levels - 2;
    format!(
        r#"{{"@type":"testSquareInt","x":3,"junk":{}1{}}}"#,
        "[".repeat(arrays),
        "]".repeat(arrays)
    )
}

fn json_with_depth(levels: usize) -> serde_json::Value {
    serde_json::from_str(&square_with_depth(levels)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_concurrent_requests_over_four_clients() {
    let _serial = SERIAL.write().await;
    quiet();
    let clients: Vec<Client> = (0..4).map(|_| Client::new().unwrap()).collect();
    let mut tasks = Vec::new();
    for i in 0..10_000i32 {
        let client = clients[i as usize % 4].clone();
        tasks.push(tokio::spawn(async move {
            let x = i % 46_340;
            let answer = client.send(functions::TestSquareInt { x }).await.unwrap();
            assert_eq!(answer.value, x * x);
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        tdlib::health().pending_requests,
        0,
        "no request left pending"
    );
    for client in &clients {
        client.close().await.unwrap();
    }
    assert!(
        receive_thread_stops().await,
        "the receive thread exits after the last client closed"
    );
    let health = tdlib::health();
    assert_eq!((health.unmatched_answers, health.receive_failures), (0, 0));
}

/// TDLib answers a request nested deeper than its parser allows without the request's
/// `@extra`: such an answer cannot reach its request. The client refuses those before sending,
/// so they end at once instead of waiting forever; one level less goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_tdlib_would_answer_without_its_extra_ends_at_once() {
    let _serial = SERIAL.read().await;
    quiet();
    // The hazard, shown on the library itself (td_execute parses like td_send).
    let too_deep = square_with_depth(MAX_REQUEST_DEPTH + 2);
    let with_extra = too_deep.replacen('{', r#"{"@extra":777,"#, 1);
    let request = CString::new(with_extra).unwrap();
    // SAFETY: a valid NUL-terminated request; the answer is copied at once.
    let answer = unsafe { CStr::from_ptr(tdlib_sys::td_execute(request.as_ptr())) }
        .to_string_lossy()
        .into_owned();
    assert!(
        answer.contains("Too big object depth") && !answer.contains("@extra"),
        "{answer}"
    );

    let client = Client::new().unwrap();
    let unmatched_before = tdlib::health().unmatched_answers;
    let refused = bounded(client.send_json(json_with_depth(MAX_REQUEST_DEPTH + 2))).await;
    assert_eq!(refused.unwrap_err().kind(), ErrorKind::InvalidRequest);
    let edge = bounded(client.send_json(json_with_depth(MAX_REQUEST_DEPTH + 1))).await;
    assert_eq!(
        edge.unwrap()["value"],
        9,
        "the deepest request TDLib accepts goes through"
    );

    // Typed requests too: a JsonValue nested too deep.
    let mut deep = tdlib::enums::JsonValue::Null(types::JsonValueNull {});
    for _ in 0..MAX_REQUEST_DEPTH {
        deep = tdlib::enums::JsonValue::Array(types::JsonValueArray { values: vec![deep] });
    }
    let typed = bounded(client.send(functions::GetJsonString { json_value: deep })).await;
    assert!(typed.unwrap_err().is_invalid_request());
    // And every other way to lose `@extra`: raw JSON that is not one valid value.
    let raw = tdlib::codec::UnknownObject {
        type_name: "jsonValueFuture".into(),
        json: r#"{"@type":"jsonValueNull"},"@extra":"stolen""#.into(),
    };
    let stolen = client
        .send(functions::GetJsonString {
            json_value: tdlib::enums::JsonValue::Unrecognized(raw),
        })
        .await;
    assert!(stolen.unwrap_err().is_invalid_request());
    assert_eq!(tdlib::health().unmatched_answers, unmatched_before);
    client.close().await.unwrap();
}

/// The client's own requests (the first one, which starts TDLib's instance, and `close`) have
/// answers nobody waits for; those are discarded, never published: a new subscription's first
/// event is a real update, and every event is one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_get_updates_only() {
    let _serial = SERIAL.read().await;
    quiet();
    for _ in 0..5 {
        let client = Client::new().unwrap();
        let mut all = client.subscription::<Update>().lossless().subscribe();
        client.close().await.unwrap();
        let mut names = Vec::new();
        while let Some(event) = bounded(all.recv()).await {
            let Event::Update(update) = event else {
                panic!("{event:?}")
            };
            assert!(
                !matches!(**update.update(), Update::Unrecognized(_)),
                "not an update: {update:?}"
            );
            names.push(format!("{:?}", update.update()));
        }
        // TDLib's first updates (its version options, then the first state); the very first
        // may come before the subscription on a loaded machine.
        assert!(
            names[0].starts_with("Option(") || names[0].starts_with("AuthorizationState("),
            "{names:?}"
        );
        assert!(names.last().unwrap().contains("Closed"), "{names:?}");
    }
}

/// A subscription to one kind never holds, nor lags behind, updates of other kinds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_kind_subscription_is_filtered_before_it_is_queued() {
    let _serial = SERIAL.read().await;
    quiet();
    let client = Client::builder().update_capacity(4).build().unwrap();
    let mut states = client.subscribe::<types::UpdateAuthorizationState>();
    let mut options = client.subscribe::<types::UpdateOption>();
    let mut all = client.updates();
    // setTdlibParameters makes TDLib send over a hundred updates, most of them options.
    client.send(parameters(&scratch("one-kind"))).await.unwrap();
    let mut connection = client.connection_states();
    bounded(connection.wait_for(|state| matches!(state, ConnectionState::Connecting(_)))).await;
    client.close().await.unwrap();
    let mut seen = Vec::new();
    while let Some(event) = bounded(states.recv()).await {
        match event {
            Event::Update(state) => {
                let name = format!("{:?}", state.authorization_state);
                seen.push(name.split('(').next().unwrap().to_owned());
            }
            other => panic!("a one-kind subscriber lagged: {other:?}"),
        }
    }
    // (WaitTdlibParameters may come before or after the subscription started.)
    seen.retain(|state| state != "WaitTdlibParameters");
    assert_eq!(seen, ["WaitPhoneNumber", "Closing", "Closed"]);
    // The others, with room for 4, did lag (and were told).
    let missed = options.recv().await;
    assert!(
        matches!(missed, Some(Event::Missed(count)) if count > 90),
        "{missed:?}"
    );
    let missed = all.recv().await;
    assert!(
        matches!(missed, Some(Event::Missed(count)) if count > 90),
        "{missed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_calls_round_trip_and_errors_are_typed() {
    let _serial = SERIAL.read().await;
    quiet();
    let client = Client::new().unwrap();
    let text: String = "héllo 😀 \"q\" \\ \n\u{0}".repeat(700);
    assert!(text.len() >= 10 * 1024);
    let echoed = client.send(functions::TestCallString { x: text.clone() });
    assert_eq!(echoed.await.unwrap().value, text);
    let bytes: Vec<u8> = (0..=255).collect();
    let echoed = client.send(functions::TestCallBytes { x: bytes.clone() });
    assert_eq!(echoed.await.unwrap().value, bytes);
    let ints = vec![1, -2, i32::MAX, i32::MIN];
    let echoed = client.send(functions::TestCallVectorInt { x: ints.clone() });
    assert_eq!(echoed.await.unwrap().value, ints);
    let strings = vec![
        types::TestString { value: "a".into() },
        types::TestString::default(),
    ];
    let echoed = client.send(functions::TestCallVectorStringObject { x: strings.clone() });
    assert_eq!(echoed.await.unwrap().value, strings);
    let error = client
        .send(functions::TestReturnError {
            error: types::Error {
                code: 429,
                message: "FLOOD_WAIT_7".into(),
            },
        })
        .await
        .unwrap_err();
    assert_eq!(
        (error.code(), error.message()),
        (Some(429), Some("FLOOD_WAIT_7"))
    );
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_flow_offline_and_close_with_requests_in_flight() {
    let _serial = SERIAL.read().await;
    quiet();
    let client = Client::new().unwrap();
    let mut states = client.authorization_states();
    let waiting =
        states.wait_for(|state| matches!(state, AuthorizationState::WaitTdlibParameters(_)));
    assert!(bounded(waiting).await.is_some());
    client.send(parameters(&scratch("auth"))).await.unwrap();
    let phone = states.wait_for(|state| matches!(state, AuthorizationState::WaitPhoneNumber(_)));
    assert!(bounded(phone).await.is_some());
    // Offline, TDLib tries to connect and says so.
    let mut connection = client.connection_states();
    let connecting = connection.wait_for(|state| matches!(state, ConnectionState::Connecting(_)));
    assert!(bounded(connecting).await.is_some());
    assert!(matches!(
        client.connection_state(),
        Some(ConnectionState::Connecting(_))
    ));
    // Offline, these never get an answer: they are in flight when the client closes.
    let hanging: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.send(functions::TestNetwork {}).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut lossless = client.subscription::<Update>().lossless().subscribe();
    client.close().await.unwrap();
    for request in hanging {
        let result = bounded(request).await.unwrap();
        assert!(result.unwrap_err().is_closed());
    }
    assert!(client.is_closed());
    assert!(matches!(
        client.authorization_state(),
        Some(AuthorizationState::Closed(_))
    ));
    let after = client.send(functions::TestSquareInt { x: 2 }).await;
    assert!(after.unwrap_err().is_closed());
    client.close().await.unwrap(); // harmless
    // Closing, then Closed, in that order, and then the subscription ends.
    let seen = authorization_states_seen(&mut lossless).await;
    assert_eq!(seen, ["Closing", "Closed"]);
    // Watches end too.
    assert!(
        states
            .changed()
            .await
            .is_some_and(|state| matches!(state, AuthorizationState::Closed(_)))
    );
    assert!(states.changed().await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_subscribers_are_told_what_they_missed_and_see_the_same_order() {
    let _serial = SERIAL.read().await;
    quiet();
    let client = Client::builder().update_capacity(8).build().unwrap();
    let mut first = client.updates();
    let mut second = client.updates();
    let mut lossless = client.subscription::<Update>().lossless().subscribe();
    client.send(parameters(&scratch("updates"))).await.unwrap();
    client.close().await.unwrap();

    let mut from_lossless = Vec::new();
    while let Some(event) = lossless.recv().await {
        let Event::Update(update) = event else {
            panic!("{event:?}")
        };
        from_lossless.push(update.into_update());
    }
    assert!(from_lossless.len() > 100, "{} updates", from_lossless.len());
    // The bounded subscribers, read only after everything was sent, keep the last 8 and are
    // told how many they missed before them, once, first.
    for subscription in [&mut first, &mut second] {
        let mut updates = Vec::new();
        let mut missed = 0;
        while let Some(event) = subscription.next().await {
            match event {
                Event::Update(update) => updates.push(update.into_update()),
                Event::Missed(count) => {
                    assert!(updates.is_empty(), "told before the updates that follow");
                    missed += count;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(updates.len(), 8);
        assert_eq!(updates.len() as u64 + missed, from_lossless.len() as u64);
        let tail = &from_lossless[from_lossless.len() - updates.len()..];
        assert!(
            updates
                .iter()
                .zip(tail)
                .all(|(a, b)| std::sync::Arc::ptr_eq(a, b)),
            "the same updates (shared, not copied), in the same order"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_and_timed_out_requests_leave_nothing_pending() {
    let _serial = SERIAL.write().await;
    quiet();
    let client = Client::new().unwrap();
    client.send(parameters(&scratch("dropped"))).await.unwrap();
    // Offline, testNetwork never answers: each request is dropped while pending.
    for _ in 0..100 {
        let request = client.send(functions::TestNetwork {});
        assert!(
            tokio::time::timeout(Duration::from_millis(1), request)
                .await
                .is_err()
        );
    }
    let timeout = client
        .send_timeout(functions::TestNetwork {}, Duration::from_millis(20))
        .await;
    assert!(timeout.unwrap_err().is_timeout());
    assert_eq!(tdlib::health().pending_requests, 0);
    client.close().await.unwrap();
    assert!(receive_thread_stops().await);
}

/// `send` and `send_timeout` need no tokio: they work on another executor, and a time limit
/// fires there too.
#[test]
fn requests_and_time_limits_work_without_tokio() {
    let _serial = SERIAL.blocking_read();
    quiet();
    futures_executor::block_on(async {
        let client = Client::new().unwrap();
        let square = client
            .send(functions::TestSquareInt { x: 5 })
            .await
            .unwrap();
        assert_eq!(square.value, 25);
        let started = std::time::Instant::now();
        let alarm = functions::SetAlarm { seconds: 5.0 };
        let limited = client.send_timeout(alarm, Duration::from_millis(100)).await;
        assert!(limited.unwrap_err().is_timeout());
        assert!(started.elapsed() < Duration::from_secs(2));
        let alarm = functions::SetAlarm { seconds: 0.05 };
        let in_time = client.send_timeout(alarm, Duration::from_secs(5)).await;
        assert!(in_time.is_ok());
        client.close().await.unwrap();
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_json_requests_are_errors() {
    let _serial = SERIAL.read().await;
    quiet();
    let client = Client::new().unwrap();
    for bad in [
        serde_json::json!([1, 2]),
        serde_json::json!({"x": 1}),
        serde_json::json!({"@type": 5}),
        serde_json::json!({"@type": "addLogMessage", "text": "would abort TDLib"}),
        serde_json::json!({"@type": "getThemeParametersJsonString"}),
    ] {
        let error = client.send_json(bad.clone()).await.unwrap_err();
        assert!(error.is_invalid_request(), "{bad}: {error}");
    }
    let unknown = client
        .send_json(serde_json::json!({"@type": "noSuchMethod"}))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Some(400));
    assert!(
        unknown.message().unwrap().contains("Unknown class"),
        "{unknown}"
    );
    let wrong = client
        .send_json(serde_json::json!({"@type": "testSquareInt", "x": "twelve"}))
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Some(400));
    // Strings are whatever Rust strings hold: valid UTF-8, control characters, NUL.
    let odd = "nul\u{0} ctrl\u{1} 😀";
    let echoed = client
        .send_json(
            serde_json::json!({"@type": "testCallString", "x": odd, "@extra": {"mine": true}}),
        )
        .await
        .unwrap();
    assert_eq!(echoed["value"], odd);
    assert_eq!(
        echoed["@extra"],
        serde_json::json!({"mine": true}),
        "the caller's @extra comes back"
    );
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_are_independent_and_closing_one_leaves_the_other() {
    let _serial = SERIAL.read().await;
    quiet();
    let first = Client::new().unwrap();
    let second = Client::new().unwrap();
    let mut first_updates = first.subscription::<Update>().lossless().subscribe();
    first.send(parameters(&scratch("first"))).await.unwrap();
    second.close().await.unwrap();
    assert!(second.is_closed() && !first.is_closed());
    let square = first.send(functions::TestSquareInt { x: 9 }).await;
    assert_eq!(square.unwrap().value, 81);
    let square = second.send(functions::TestSquareInt { x: 9 }).await;
    assert!(square.unwrap_err().is_closed());
    first.close().await.unwrap();
    // The first client's updates are all its own: its states, never the second's.
    let mut states = authorization_states_seen(&mut first_updates).await;
    // (WaitTdlibParameters may come before or after the subscription started.)
    states.retain(|state| state != "WaitTdlibParameters");
    assert_eq!(states, ["WaitPhoneNumber", "Closing", "Closed"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_client_is_closed_in_the_background() {
    let _serial = SERIAL.write().await;
    quiet();
    let client = Client::new().unwrap();
    let square = client.send(functions::TestSquareInt { x: 3 }).await;
    assert_eq!(square.unwrap().value, 9);
    assert!(tdlib::health().receiving);
    drop(client);
    assert!(
        receive_thread_stops().await,
        "the dropped client was closed, and the thread exited"
    );
}

#[test]
fn typed_execute_needs_no_client() {
    let _serial = SERIAL.blocking_read();
    let version = tdlib::execute(functions::GetOption {
        name: "version".into(),
    })
    .unwrap();
    assert_eq!(
        version,
        tdlib::enums::OptionValue::String(types::OptionValueString {
            value: tdlib::TDLIB_VERSION.into()
        })
    );
    let error = tdlib::execute(functions::GetLogTagVerbosityLevel {
        tag: "no such tag".into(),
    })
    .unwrap_err();
    assert_eq!(
        (error.code(), error.message()),
        (Some(400), Some("Log tag is not found"))
    );
    let fatal = tdlib::execute(functions::AddLogMessage {
        verbosity_level: 0,
        text: "would abort TDLib".into(),
    });
    assert!(fatal.unwrap_err().is_invalid_request());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_started_client_has_its_parameters_and_refused_ones_close_it() {
    let _serial = SERIAL.write().await;
    quiet();
    let builder = Client::builder().update_capacity(16);
    let client = builder
        .start(parameters(&scratch("builder")))
        .await
        .unwrap();
    let mut states = client.authorization_states();
    let phone = states.wait_for(|state| matches!(state, AuthorizationState::WaitPhoneNumber(_)));
    assert!(
        bounded(phone).await.is_some(),
        "the parameters were applied"
    );
    client.close().await.unwrap();

    // Parameters TDLib refuses: an error, and no client left open.
    let mut refused = parameters(&scratch("refused"));
    refused.api_id = 0;
    let error = Client::builder().start(refused).await.unwrap_err();
    assert_eq!(error.code(), Some(400));
    assert!(error.message().unwrap().contains("api_id"), "{error}");
    assert!(receive_thread_stops().await);
}

/// TDLib 1.8.65 crashes on `getDatabaseStatistics` in a client initialized without any database
/// (a valid request with no arguments); the client refuses it there, and lets it through where
/// TDLib answers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_statistics_are_asked_only_where_tdlib_survives_it() {
    let _serial = SERIAL.read().await;
    quiet();
    let without = Client::new().unwrap();
    let early = without.send(functions::GetDatabaseStatistics {}).await;
    assert!(
        early.unwrap_err().is_invalid_request(),
        "before the parameters"
    );
    let mut bare = parameters(&scratch("no-database"));
    bare.use_file_database = false;
    bare.use_chat_info_database = false;
    bare.use_message_database = false;
    without.send(bare).await.unwrap();
    let refused = without.send(functions::GetDatabaseStatistics {}).await;
    assert!(refused.unwrap_err().is_invalid_request());
    let json = without
        .send_json(serde_json::json!({"@type": "getDatabaseStatistics"}))
        .await;
    assert!(json.unwrap_err().is_invalid_request());
    // TDLib refuses a second setTdlibParameters: what it asked for does not count.
    let mut second = parameters(&scratch("no-database"));
    second.use_message_database = true;
    let again = without.send(second).await.unwrap_err();
    assert_eq!(again.code(), Some(400), "{again}");
    let still = without.send(functions::GetDatabaseStatistics {}).await;
    assert!(still.unwrap_err().is_invalid_request());
    without.close().await.unwrap();

    let with = Client::new().unwrap();
    with.send(parameters(&scratch("with-database")))
        .await
        .unwrap();
    let statistics = bounded(with.send(functions::GetDatabaseStatistics {})).await;
    assert!(!statistics.unwrap().statistics.is_empty());
    with.close().await.unwrap();
}

/// Code of the user that the receive thread runs (a waker, a filter) or that runs while it
/// works (a state watch's test) may use the client: nothing deadlocks, and a waker that panics
/// ends only its own subscription.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_code_on_the_receive_path_may_use_the_client() {
    let _serial = SERIAL.read().await;
    quiet();
    struct Panics;
    impl std::task::Wake for Panics {
        fn wake(self: std::sync::Arc<Self>) {
            panic!("a waker with a bug");
        }
    }
    let client = Client::new().unwrap();
    let failures = tdlib::health().receive_failures;
    // A filter that asks for the health of everything and subscribes, on the receive thread.
    let inner = client.clone();
    let mut reentrant = client
        .subscription::<types::UpdateOption>()
        .filter(move |_| {
            let _ = tdlib::health();
            drop(inner.updates());
            true
        })
        .subscribe();
    // A subscription whose waker panics when an update arrives.
    let mut broken = client.subscription::<Update>().lossless().subscribe();
    let waker = std::task::Waker::from(std::sync::Arc::new(Panics));
    let polled = futures_util::Stream::poll_next(
        std::pin::Pin::new(&mut broken),
        &mut std::task::Context::from_waker(&waker),
    );
    assert!(polled.is_pending());
    let mut all = client.subscription::<Update>().lossless().subscribe();
    // A watch whose test reads the client's state.
    let mut states = client.authorization_states();
    let reader = client.clone();
    let watching = tokio::spawn(async move {
        states
            .wait_for(|state| {
                let _ = reader.authorization_state();
                matches!(state, AuthorizationState::WaitPhoneNumber(_))
            })
            .await
    });
    let parameters = parameters(&scratch("reentrant"));
    bounded(client.send(parameters)).await.unwrap();
    assert!(bounded(watching).await.unwrap().is_some());
    assert!(matches!(
        bounded(reentrant.recv()).await,
        Some(Event::Update(_))
    ));
    bounded(client.close()).await.unwrap();
    let last = std::iter::from_fn(|| broken.try_recv().ok()).last();
    assert!(matches!(last, Some(Event::Failed(_))), "{last:?}");
    let mut closed = false;
    while let Some(event) = bounded(all.recv()).await {
        if let Event::Update(update) = &event {
            if let Update::AuthorizationState(state) = &**update.update() {
                closed |= matches!(state.authorization_state, AuthorizationState::Closed(_));
            }
        }
    }
    assert!(closed, "the others saw the client close");
    let now = tdlib::health().receive_failures;
    assert_eq!(now, failures, "nothing failed but that subscription");
}

/// Clients closed and made again at once, as a program that reconnects does: the receive thread
/// stops after each close and a new one starts with the next client. (A new client used to join
/// the stopping thread under a lock that the thread took on its way out: a deadlock, seen in
/// the fan-out benchmark.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_closed_and_made_again_at_once_never_deadlock() {
    let _serial = SERIAL.write().await;
    quiet();
    for round in 0..200 {
        let client = Client::new().unwrap();
        let square = bounded(client.send(functions::TestSquareInt { x: round % 100 })).await;
        assert_eq!(square.unwrap().value, (round % 100) * (round % 100));
        bounded(client.close()).await.unwrap();
    }
    assert!(receive_thread_stops().await);
}
