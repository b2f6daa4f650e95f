//! A served client and a remote client over a real `nats-server` (started here, JetStream on a
//! temporary folder, loopback only), with the account on the scripted fake libtdjson: typed
//! requests through NATS give what the local client gives, requests that carry secrets never
//! leave, a durable consumer catches up, and a work queue keeps each chat's order.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{on_fake, runtime_and_server, served_bot};
use tdlib::enums::AuthorizationState;
use tdlib::{Client, Event, auth, functions, types};

const TOKEN: &str = "42:remote-token";

#[test]
fn typed_requests_through_nats_answer_as_locally() {
    let script = json!({
        "login": {"bot_token": TOKEN},
        "me": {"id": 42, "first_name": "Far"},
        "conversation": [{"wait_for": {"request": "getMe", "count": 1}},
                         {"update": {"@type": "updateOption", "name": "hello_remote",
                                     "value": {"@type": "optionValueBoolean", "value": true}}}]
    });
    if let Some(fake) = on_fake("typed_requests_through_nats_answer_as_locally", script) {
        // The token was sent once, by the local login: the remote client's attempt never left.
        let tokens = fake
            .requests()
            .iter()
            .filter(|logged| logged.request_type() == "checkAuthenticationBotToken")
            .count();
        assert_eq!(tokens, 1);
        return;
    }
    let (runtime, server) = runtime_and_server("remote");
    runtime.block_on(async {
        let nats = async_nats::connect(&server.url).await.unwrap();
        let local = Client::new().unwrap();
        let parameters = auth::parameters(1, "0123456789abcdef0123456789abcdef", "nats-db");
        auth::authorize(&local, &mut auth::Bot::new(parameters.clone(), TOKEN))
            .await
            .unwrap();
        let _served = tdlib_nats::serve(nats.clone(), "acc1", local.clone())
            .await
            .unwrap();
        let remote = tdlib_nats::connect(nats.clone(), "acc1").await.unwrap();
        let mut options = remote
            .subscription::<types::UpdateOption>()
            .lossless()
            .subscribe();
        // Plain fan-out: a NATS subscription gets what is published while it listens.
        let mut fan_out = nats
            .subscribe(tdlib_nats::subjects::updates("acc1"))
            .await
            .unwrap();
        // The remote view starts at the account's current state: the login helper sees it
        // ready and returns.
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
        // Secrets do not go over NATS: refused before they are sent.
        let refused = remote
            .send(functions::CheckAuthenticationBotToken {
                token: TOKEN.into(),
            })
            .await
            .unwrap_err();
        assert_eq!(refused.kind(), tdlib::ErrorKind::Transport, "{refused}");
        assert!(
            refused.to_string().contains("carries a secret"),
            "{refused}"
        );
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
        let heard = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(message) = futures_util::StreamExt::next(&mut fan_out).await {
                if String::from_utf8_lossy(&message.payload).contains("hello_remote") {
                    return message.subject.to_string();
                }
            }
            String::new()
        })
        .await
        .expect("no hang");
        assert_eq!(heard, "tdlib.acc1.update.updateOption.0");
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
            // Sent by hand despite the client's refusal: the node refuses it too.
            (
                format!(r#"{{"@type":"checkAuthenticationBotToken","token":"{TOKEN}"}}"#),
                "error",
            ),
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
        let (local, _served) = served_bot(&nats, "acc2", TOKEN).await;
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

const MESSAGES: u64 = 2_000;
const CHATS: [i64; 8] = [11, 12, 13, 14, 15, 16, 17, 18];

/// Two workers of one work queue share a burst of new messages in eight chats: every message
/// is handled once, by one of them, and each chat's messages in order.
#[test]
fn a_work_queue_shares_updates_and_keeps_each_chats_order() {
    use std::sync::{Arc, Mutex};
    use tdlib::enums::{MessageContent, Update};
    use tdlib_nats::consumer::WorkQueue;

    let script = json!({
        "login": {"bot_token": TOKEN},
        "conversation": [
            {"wait_for": {"request": "testCallEmpty", "count": 1, "timeout_ms": 60000}},
            {"messages": {"chats": CHATS, "count": MESSAGES}},
        ]
    });
    if on_fake(
        "a_work_queue_shares_updates_and_keeps_each_chats_order",
        script,
    )
    .is_some()
    {
        return;
    }
    let (runtime, server) = runtime_and_server("work-queue");
    runtime.block_on(async {
        let nats = async_nats::connect(&server.url).await.unwrap();
        let (local, _served) = served_bot(&nats, "acc3", TOKEN).await;
        // (worker, chat, message number) in the order they were handled.
        let handled = Arc::new(Mutex::new(Vec::new()));
        let mut workers = Vec::new();
        for worker in 0..2 {
            let mut queue = WorkQueue::join(nats.clone(), "printers", "acc3")
                .await
                .unwrap();
            let handled = handled.clone();
            workers.push(tokio::spawn(async move {
                let mut ids = std::collections::HashSet::new();
                loop {
                    let delivered = tokio::time::timeout(Duration::from_secs(10), queue.next())
                        .await
                        .expect("no hang")
                        .unwrap()
                        .unwrap();
                    if let Update::NewMessage(new) = &delivered.update
                        && let MessageContent::MessageText(text) = &*new.message.content
                        && ids.insert(delivered.id.clone())
                    {
                        let number: u64 = text.text.text.parse().unwrap();
                        handled
                            .lock()
                            .unwrap()
                            .push((worker, new.message.chat_id, number));
                    }
                    // Some work, so that the other worker gets its turn.
                    if delivered.stream_sequence % 7 == worker {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    delivered.ack().await.unwrap();
                    if handled.lock().unwrap().len() as u64 == MESSAGES {
                        return;
                    }
                }
            }));
        }
        local.send(functions::TestCallEmpty {}).await.unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        while (handled.lock().unwrap().len() as u64) < MESSAGES {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the workers got every message"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for worker in workers {
            worker.abort();
        }
        let handled = handled.lock().unwrap().clone();
        let mut numbers: Vec<u64> = handled.iter().map(|(_, _, number)| *number).collect();
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=MESSAGES).collect::<Vec<_>>(), "each once");
        for chat in CHATS {
            let order: Vec<u64> = handled
                .iter()
                .filter(|(_, handled_chat, _)| *handled_chat == chat)
                .map(|(_, _, number)| *number)
                .collect();
            assert!(
                order.windows(2).all(|pair| pair[0] < pair[1]),
                "chat {chat} in order: {order:?}"
            );
        }
        let by_first = handled.iter().filter(|(worker, _, _)| *worker == 0).count();
        assert!(
            by_first > 0 && by_first < handled.len(),
            "both workers worked: {by_first} of {}",
            handled.len()
        );
        local.close().await.unwrap();
    });
}
