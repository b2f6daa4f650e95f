//! A node and a remote client over a real `nats-server` (started here, JetStream on a
//! temporary folder, loopback only), with the account on the scripted fake libtdjson: a bot
//! logs in through the remote client with `auth::authorize`, and typed requests through NATS
//! give what the local client gives.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use tdlib::enums::AuthorizationState;
use tdlib::{Client, Event, auth, functions, types};
use tdlib_fake_harness::{Fake, in_child};

/// A `nats-server` with JetStream, on a free loopback port; killed when dropped.
struct NatsServer {
    child: Child,
    url: String,
    _store: PathBuf,
}

impl NatsServer {
    fn start(name: &str) -> NatsServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let store = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("nats-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&store);
        let child = Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(&store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server is needed (Debian: nats-server; scripts/setup installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        NatsServer {
            child,
            url: format!("nats://127.0.0.1:{port}"),
            _store: store,
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._store);
    }
}

const TOKEN: &str = "42:remote-token";

/// Runs `test` in a child process on the fake library with `script`; returns the fake (for
/// its request log) in the parent once the child passed, `None` in the child.
fn on_fake(test: &str, script: serde_json::Value) -> Option<Fake> {
    if in_child() {
        return None;
    }
    let fake = Fake::new(test, &script);
    let output = fake.run_test_in_child(test);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert_eq!(fake.script_errors(), Vec::<String>::new());
    Some(fake)
}

/// A runtime for the child's part, and its NATS server.
fn runtime_and_server(name: &str) -> (tokio::runtime::Runtime, NatsServer) {
    tdlib::set_log_verbosity(1).unwrap();
    let server = NatsServer::start(name);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    (runtime, server)
}

#[test]
fn a_bot_logs_in_through_nats_and_typed_requests_answer_as_locally() {
    let script = json!({
        "login": {"bot_token": TOKEN},
        "me": {"id": 42, "first_name": "Far"},
        "conversation": [{"wait_for": {"request": "getMe", "count": 1}},
                         {"update": {"@type": "updateOption", "name": "hello_remote",
                                     "value": {"@type": "optionValueBoolean", "value": true}}}]
    });
    if let Some(fake) = on_fake(
        "a_bot_logs_in_through_nats_and_typed_requests_answer_as_locally",
        script,
    ) {
        // The remote client's requests reached the account's TDLib client.
        let types: Vec<String> = fake
            .requests()
            .iter()
            .map(|logged| logged.request_type().to_owned())
            .collect();
        assert!(
            types
                .iter()
                .any(|name| name == "checkAuthenticationBotToken"),
            "{types:?}"
        );
        return;
    }
    let (runtime, server) = runtime_and_server("remote");
    runtime.block_on(async {
        let nats = async_nats::connect(&server.url).await.unwrap();
        let local = Client::new().unwrap();
        let _served = tdlib_nats::serve(nats.clone(), "acc1", local.clone())
            .await
            .unwrap();
        let remote = tdlib_nats::connect(nats.clone(), "acc1").await.unwrap();
        let mut options = remote
            .subscription::<types::UpdateOption>()
            .lossless()
            .subscribe();
        let parameters = auth::parameters(1, "0123456789abcdef0123456789abcdef", "nats-db");
        tokio::time::timeout(
            Duration::from_secs(30),
            auth::authorize(&remote, &mut auth::Bot::new(parameters, TOKEN)),
        )
        .await
        .expect("no hang")
        .unwrap();
        assert!(matches!(
            remote.authorization_state(),
            Some(AuthorizationState::Ready(_))
        ));
        let far = remote.send(functions::GetMe {}).await.unwrap();
        let near = local.send(functions::GetMe {}).await.unwrap();
        assert_eq!((far.id, &far.first_name), (near.id, &near.first_name));
        assert_eq!(far.first_name, "Far");
        // An update of the account reaches the remote subscription through the stream.
        let seen = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(event) = options.recv().await {
                if matches!(&event, Event::Update(option) if option.name == "hello_remote") {
                    return true;
                }
            }
            false
        })
        .await
        .expect("no hang");
        assert!(seen);
        // TDLib's refusals come back typed.
        let refused = remote
            .send(functions::GetChat { chat_id: 123 })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Some(400));
        // Hostile requests straight on the subject: not JSON, nested past any parser's limit,
        // huge, not an object. Each gets TDLib's kind of error object, and the node goes on.
        let subject = tdlib_nats::subjects::rpc("acc1");
        let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        let huge = format!(
            r#"{{"@type":"testCallString","x":"{}"}}"#,
            "y".repeat(512 * 1024)
        );
        for (request, expected) in [
            ("{not json".to_owned(), "error"),
            (deep, "error"),
            ("[1,2]".to_owned(), "error"),
            (huge, "testString"),
        ] {
            let answer = tokio::time::timeout(
                Duration::from_secs(30),
                nats.request(subject.clone(), request.into()),
            )
            .await
            .expect("no hang")
            .unwrap();
            let answer: serde_json::Value = serde_json::from_slice(&answer.payload).unwrap();
            assert_eq!(
                answer["@type"],
                expected,
                "{}",
                answer.to_string().chars().take(200).collect::<String>()
            );
        }
        assert_eq!(
            remote.send(functions::GetMe {}).await.unwrap().id,
            42,
            "the node goes on"
        );
        // Account names that would change the subjects' meaning are refused.
        for bad in ["a.b", "*", ">", "a b", ""] {
            assert!(
                tdlib_nats::connect(nats.clone(), bad).await.is_err(),
                "{bad:?}"
            );
            assert!(
                tdlib_nats::serve(nats.clone(), bad, local.clone())
                    .await
                    .is_err(),
                "{bad:?}"
            );
        }
        // A remote account nobody serves: a clear transport error, not a hang.
        let nobody = tdlib_nats::connect(nats.clone(), "nobody").await.unwrap();
        let error = nobody.send(functions::GetMe {}).await.unwrap_err();
        assert_eq!(error.kind(), tdlib::ErrorKind::Transport, "{error}");
        remote.close().await.unwrap();
        local.close().await.unwrap();
    });
}

const BURST: usize = 20_000;

/// A durable consumer stopped for a whole burst catches up when it returns: every update of
/// the burst, once each after de-duplication by id, in the stream's order.
#[test]
fn a_durable_consumer_stopped_for_a_burst_catches_up() {
    use tdlib::enums::Update;
    use tdlib_nats::consumer::Durable;

    let script = json!({
        "login": {"bot_token": TOKEN},
        "conversation": [
            {"wait_for": {"request": "testCallEmpty", "count": 1, "timeout_ms": 60000}},
            {"burst": {"count": BURST, "update": {"@type": "updateOption", "name": "burst",
                "value": {"@type": "optionValueInteger", "value": "1"}}}},
            {"update": {"@type": "updateOption", "name": "end",
                "value": {"@type": "optionValueBoolean", "value": true}}}
        ]
    });
    if on_fake("a_durable_consumer_stopped_for_a_burst_catches_up", script).is_some() {
        return;
    }
    let (runtime, server) = runtime_and_server("catch-up");
    runtime.block_on(async {
        let nats = async_nats::connect(&server.url).await.unwrap();
        let local = Client::new().unwrap();
        let parameters = auth::parameters(1, "0123456789abcdef0123456789abcdef", "catch-up-db");
        auth::authorize(&local, &mut auth::Bot::new(parameters, TOKEN))
            .await
            .unwrap();
        let _served = tdlib_nats::serve(nats.clone(), "acc2", local.clone())
            .await
            .unwrap();
        // The worker reads what is there, then stops.
        let mut worker = Durable::open(nats.clone(), "worker", "acc2").await.unwrap();
        let first = tokio::time::timeout(Duration::from_secs(10), worker.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        first.ack().await.unwrap();
        drop(worker);
        // Its last requests for updates expire at the server (or they would take some of the
        // burst, which would come again only after the acknowledgement wait).
        tokio::time::sleep(tdlib_nats::consumer::PULL_EXPIRES + Duration::from_secs(1)).await;
        // The burst happens while no worker runs; a live view waits for its end.
        let remote = tdlib_nats::connect(nats.clone(), "acc2").await.unwrap();
        let mut end = remote
            .subscription::<types::UpdateOption>()
            .filter(|option| option.name == "end")
            .subscribe();
        local.send(functions::TestCallEmpty {}).await.unwrap();
        tokio::time::timeout(Duration::from_secs(120), end.recv())
            .await
            .expect("the burst ended")
            .unwrap();
        // The worker returns and catches up.
        let mut worker = Durable::open(nats.clone(), "worker", "acc2").await.unwrap();
        let mut ids = std::collections::HashSet::new();
        let mut last_sequence = first.stream_sequence;
        let mut burst = 0;
        loop {
            let delivered = tokio::time::timeout(Duration::from_secs(30), worker.next())
                .await
                .expect("no hang")
                .unwrap()
                .unwrap();
            assert!(
                delivered.stream_sequence > last_sequence,
                "in the stream's order"
            );
            last_sequence = delivered.stream_sequence;
            assert_eq!(delivered.account, "acc2");
            delivered.ack().await.unwrap();
            if !ids.insert(delivered.id.clone()) {
                continue; // delivered twice: counted once
            }
            match &delivered.update {
                Update::Option(option) if option.name == "burst" => burst += 1,
                Update::Option(option) if option.name == "end" => break,
                _ => {}
            }
        }
        assert_eq!(burst, BURST, "every update of the burst, once");
        remote.close().await.unwrap();
        local.close().await.unwrap();
    });
}
