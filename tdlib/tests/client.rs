//! The client against the real TDLib 1.8.65, offline. One test binary: the receive thread is
//! process-wide, and these tests run one at a time so that the thread's life can be checked.

use std::sync::Arc;
use std::time::Duration;

use tdlib::{Client, Error, UpdateEvent, enums, functions, types};
use tokio::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::const_new(());

/// Quiet TDLib's default stderr logging.
fn quiet() {
    tdlib::raw::execute(r#"{"@type":"setLogVerbosityLevel","new_verbosity_level":1}"#).unwrap();
}

fn parameters(directory: &std::path::Path) -> functions::SetTdlibParameters {
    functions::SetTdlibParameters {
        database_directory: directory.display().to_string(),
        api_id: 94575,
        api_hash: "0123456789abcdef0123456789abcdef".into(),
        system_language_code: "en".into(),
        device_model: "tdlib-rs tests".into(),
        application_version: "0.1".into(),
        ..Default::default()
    }
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
async fn authorization_states_seen(
    updates: &mut tokio::sync::mpsc::UnboundedReceiver<Arc<enums::Update>>,
) -> Vec<String> {
    let mut seen = Vec::new();
    while let Some(update) = updates.recv().await {
        if let enums::Update::AuthorizationState(state) = &*update {
            let name = format!("{:?}", state.authorization_state);
            seen.push(name.split('(').next().unwrap_or_default().to_owned());
        }
    }
    seen
}

/// Waits (bounded) until the receive thread has stopped.
async fn receive_thread_stops() -> bool {
    for _ in 0..50 {
        if !tdlib::dispatcher_stats().1 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_concurrent_requests_over_four_clients() {
    let _serial = SERIAL.lock().await;
    quiet();
    let clients: Vec<Client> = (0..4).map(|_| Client::new().unwrap()).collect();
    let mut tasks = Vec::new();
    for i in 0..10_000i32 {
        let client = clients[i as usize % 4].clone();
        tasks.push(tokio::spawn(async move {
            let x = i % 40_000;
            let answer = client
                .send(functions::TestSquareInt { x: x % 46_340 })
                .await
                .unwrap();
            assert_eq!(answer.value, (x % 46_340) * (x % 46_340));
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(tdlib::dispatcher_stats().0, 0, "no request left pending");
    for client in &clients {
        client.close().await.unwrap();
    }
    assert!(
        receive_thread_stops().await,
        "the receive thread exits after the last client closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_calls_round_trip_and_errors_are_typed() {
    let _serial = SERIAL.lock().await;
    quiet();
    let client = Client::new().unwrap();
    let text: String = "héllo 😀 \"q\" \\ \n".repeat(700);
    assert!(text.len() >= 10 * 1024);
    assert_eq!(
        client
            .send(functions::TestCallString { x: text.clone() })
            .await
            .unwrap()
            .value,
        text
    );
    let bytes: Vec<u8> = (0..=255).collect();
    assert_eq!(
        client
            .send(functions::TestCallBytes { x: bytes.clone() })
            .await
            .unwrap()
            .value,
        bytes
    );
    let ints = vec![1, -2, i32::MAX, i32::MIN];
    assert_eq!(
        client
            .send(functions::TestCallVectorInt { x: ints.clone() })
            .await
            .unwrap()
            .value,
        ints
    );
    let strings = vec![
        types::TestString { value: "a".into() },
        types::TestString::default(),
    ];
    assert_eq!(
        client
            .send(functions::TestCallVectorStringObject { x: strings.clone() })
            .await
            .unwrap()
            .value,
        strings
    );
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
        error,
        Error::Tdlib {
            code: 429,
            message: "FLOOD_WAIT_7".into()
        }
    );
    assert_eq!(error.retry_after(), Some(7));
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_flow_offline_and_close() {
    let _serial = SERIAL.lock().await;
    quiet();
    let client = Client::new().unwrap();
    let mut states = client.authorization_states();
    states
        .wait_for(|state| {
            matches!(
                state,
                Some(enums::AuthorizationState::WaitTdlibParameters(_))
            )
        })
        .await
        .unwrap();
    client.send(parameters(&scratch("auth"))).await.unwrap();
    states
        .wait_for(|state| matches!(state, Some(enums::AuthorizationState::WaitPhoneNumber(_))))
        .await
        .unwrap();
    // Offline, TDLib tries to connect and says so.
    let mut connecting = false;
    for _ in 0..50 {
        if matches!(
            client.connection_state(),
            Some(enums::ConnectionState::Connecting(_))
        ) {
            connecting = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(connecting, "{:?}", client.connection_state());
    // Offline, this never gets an answer: it is in flight when the client closes.
    let hanging = {
        let client = client.clone();
        tokio::spawn(async move { client.send(functions::TestNetwork {}).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut lossless = client.lossless_updates();
    client.close().await.unwrap();
    let result = tokio::time::timeout(Duration::from_secs(5), hanging)
        .await
        .expect("no hang")
        .unwrap();
    assert_eq!(result.unwrap_err(), Error::Closed);
    assert!(client.is_closed());
    assert!(matches!(
        client.authorization_state(),
        Some(enums::AuthorizationState::Closed(_))
    ));
    assert_eq!(
        client
            .send(functions::TestSquareInt { x: 2 })
            .await
            .unwrap_err(),
        Error::Closed
    );
    client.close().await.unwrap(); // harmless
    // Closing, then Closed, in that order, and then the subscription ends.
    let seen = authorization_states_seen(&mut lossless).await;
    assert_eq!(seen, ["Closing", "Closed"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_see_updates_in_order_and_slow_ones_are_told_what_they_missed() {
    let _serial = SERIAL.lock().await;
    quiet();
    let client = Client::builder().update_capacity(8).build().unwrap();
    let mut first = client.updates();
    let mut second = client.updates();
    let mut slow = client.updates();
    let mut lossless = client.lossless_updates();
    // setTdlibParameters makes TDLib send over a hundred updates at once.
    client.send(parameters(&scratch("updates"))).await.unwrap();
    client.close().await.unwrap();

    let mut from_lossless = Vec::new();
    while let Some(update) = lossless.recv().await {
        from_lossless.push(update);
    }
    assert!(from_lossless.len() > 100, "{} updates", from_lossless.len());
    assert!(matches!(
        &*from_lossless[from_lossless.len() - 1],
        enums::Update::AuthorizationState(_)
    ));

    // The fast subscribers read alongside and see the same sequence; with a capacity of 8,
    // reading only after everything was sent, they too miss updates, and are told.
    for subscription in [&mut first, &mut second] {
        let mut updates = Vec::new();
        let mut missed = 0;
        while let Some(event) = subscription.next().await {
            match event {
                UpdateEvent::Update(update) => updates.push(update),
                UpdateEvent::Missed(count) => missed += count,
            }
        }
        assert_eq!(
            updates.len() as u64 + missed,
            from_lossless.len() as u64,
            "every update counted"
        );
        let tail = &from_lossless[from_lossless.len() - updates.len()..];
        assert!(
            updates.iter().zip(tail).all(|(a, b)| Arc::ptr_eq(a, b)),
            "same updates, same order"
        );
    }
    let Some(UpdateEvent::Missed(missed)) = slow.next().await else {
        panic!("the slow subscriber is told first")
    };
    assert!(missed > 90, "missed {missed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_and_timed_out_requests_leave_nothing_pending() {
    let _serial = SERIAL.lock().await;
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
    assert_eq!(timeout.unwrap_err(), Error::Timeout);
    assert_eq!(tdlib::dispatcher_stats().0, 0);
    client.close().await.unwrap();
    assert!(receive_thread_stops().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_json_requests_are_errors() {
    let _serial = SERIAL.lock().await;
    quiet();
    let client = Client::new().unwrap();
    let invalid =
        |result: Result<serde_json::Value, Error>| matches!(result, Err(Error::InvalidRequest(_)));
    assert!(invalid(client.send_json(serde_json::json!([1, 2])).await));
    assert!(invalid(client.send_json(serde_json::json!({"x": 1})).await));
    assert!(invalid(
        client.send_json(serde_json::json!({"@type": 5})).await
    ));
    let unknown = client
        .send_json(serde_json::json!({"@type": "noSuchMethod"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&unknown, Error::Tdlib { code: 400, message } if message.contains("Unknown class")),
        "{unknown:?}"
    );
    let wrong = client
        .send_json(serde_json::json!({"@type": "testSquareInt", "x": "twelve"}))
        .await
        .unwrap_err();
    assert!(matches!(wrong, Error::Tdlib { code: 400, .. }), "{wrong:?}");
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
    let _serial = SERIAL.lock().await;
    quiet();
    let first = Client::new().unwrap();
    let second = Client::new().unwrap();
    let mut first_updates = first.lossless_updates();
    first.send(parameters(&scratch("first"))).await.unwrap();
    second.close().await.unwrap();
    assert!(second.is_closed() && !first.is_closed());
    assert_eq!(
        first
            .send(functions::TestSquareInt { x: 9 })
            .await
            .unwrap()
            .value,
        81
    );
    assert_eq!(
        second
            .send(functions::TestSquareInt { x: 9 })
            .await
            .unwrap_err(),
        Error::Closed
    );
    first.close().await.unwrap();
    // The first client's updates are all its own: its states, never the second's Closed
    // before its own Closing.
    let mut states = authorization_states_seen(&mut first_updates).await;
    // (WaitTdlibParameters may come before or after the subscription started.)
    states.retain(|state| state != "WaitTdlibParameters");
    assert_eq!(states, ["WaitPhoneNumber", "Closing", "Closed"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_client_is_closed_in_the_background() {
    let _serial = SERIAL.lock().await;
    quiet();
    let client = Client::new().unwrap();
    assert_eq!(
        client
            .send(functions::TestSquareInt { x: 3 })
            .await
            .unwrap()
            .value,
        9
    );
    assert!(tdlib::dispatcher_stats().1);
    drop(client);
    assert!(
        receive_thread_stops().await,
        "the dropped client was closed, and the thread exited"
    );
}

#[test]
fn typed_execute_needs_no_client() {
    let version = tdlib::execute(functions::GetOption {
        name: "version".into(),
    })
    .unwrap();
    assert_eq!(
        version,
        enums::OptionValue::String(types::OptionValueString {
            value: tdlib::TDLIB_VERSION.into()
        })
    );
    let error = tdlib::execute(functions::GetLogTagVerbosityLevel {
        tag: "no such tag".into(),
    })
    .unwrap_err();
    assert_eq!(
        error,
        Error::Tdlib {
            code: 400,
            message: "Log tag is not found".into()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_builder_with_parameters_starts_the_client_and_hides_secrets() {
    let _serial = SERIAL.lock().await;
    quiet();
    let builder = Client::builder().parameters(parameters(&scratch("builder")));
    let debug = format!("{builder:?}");
    assert!(
        !debug.contains("0123456789abcdef") && debug.contains("<redacted>"),
        "{debug}"
    );
    let client = builder.start().await.unwrap();
    let mut states = client.authorization_states();
    states
        .wait_for(|state| matches!(state, Some(enums::AuthorizationState::WaitPhoneNumber(_))))
        .await
        .unwrap();
    let mut only_options =
        client.updates_where(|update| matches!(update, enums::Update::Option(_)));
    client
        .send(functions::SetOption {
            name: "x_test".into(),
            value: None,
        })
        .await
        .ok();
    client.close().await.unwrap();
    use tokio_stream::StreamExt;
    while let Some(event) = only_options.next().await {
        if let UpdateEvent::Update(update) = event {
            assert!(matches!(&*update, enums::Update::Option(_)), "{update:?}");
        }
    }

    // Parameters TDLib refuses: an error, and no client left open.
    let mut refused = parameters(&scratch("refused"));
    refused.api_id = 0;
    let error = Client::builder()
        .parameters(refused)
        .start()
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Tdlib { code: 400, message } if message.contains("api_id")),
        "{error:?}"
    );
    assert!(receive_thread_stops().await);
}
