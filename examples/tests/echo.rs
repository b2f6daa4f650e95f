//! Runs the real `echo` example binary (as `cargo test` built it, against the real libtdjson)
//! with the scripted fake libtdjson put first on the loader path, feeds it a conversation, and
//! checks from the fake's request log that it answered exactly what it should, waited out
//! FLOOD_WAIT, and closed cleanly on SIGINT.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tdlib_fake_harness::{Fake, Logged};

const ME: i64 = 4242;
const ALICE: i64 = 77;
const PRIVATE: i64 = 77;
const GROUP: i64 = -100123;
const CHANNEL: i64 = -100999;
/// The fake's clock; messages dated before it were there before the echo started.
const NOW: i64 = 1_700_000_000;

fn text_message(
    id: i64,
    chat_id: i64,
    sender: i64,
    date: i64,
    text: &str,
    entities: Value,
) -> Value {
    json!({"@type": "updateNewMessage", "message": {
        "id": id, "chat_id": chat_id, "date": date, "is_outgoing": sender == ME,
        "sender_id": {"@type": "messageSenderUser", "user_id": sender},
        "content": {"@type": "messageText", "text": {"text": text, "entities": entities}}
    }})
}

fn chat(id: i64, title: &str, kind: Value) -> Value {
    json!({"id": id, "title": title, "type": kind,
           "available_reactions": {"@type": "chatAvailableReactionsAll", "max_reaction_count": 11}})
}

fn script() -> Value {
    let bold = json!([{"offset": 6, "length": 4, "type": {"@type": "textEntityTypeBold"}}]);
    let mention = json!([{"offset": 0, "length": 14, "type": {"@type": "textEntityTypeMention"}}]);
    let dice = json!({"@type": "updateNewMessage", "message": {
        "id": 7, "chat_id": PRIVATE, "date": NOW + 5, "is_outgoing": false,
        "sender_id": {"@type": "messageSenderUser", "user_id": ALICE},
        "content": {"@type": "messageDice", "emoji": "\u{1f3b2}", "value": 4}
    }});
    let mut reply_to_bot = text_message(9, GROUP, ALICE, NOW + 6, "thanks!", json!([]));
    reply_to_bot["message"]["reply_to"] =
        json!({"@type": "messageReplyToMessage", "chat_id": GROUP, "message_id": 10});
    json!({
        "unix_time": NOW,
        "login": {"bot_token": "4242:echo-test-token"},
        "me": {"id": ME, "first_name": "Echo",
               "usernames": {"active_usernames": ["echo_test_bot"]},
               "type": {"@type": "userTypeBot"}},
        "chats": [
            chat(PRIVATE, "Alice", json!({"@type": "chatTypePrivate", "user_id": ALICE})),
            chat(GROUP, "Group", json!({"@type": "chatTypeSupergroup", "supergroup_id": 123, "is_channel": false})),
            chat(CHANNEL, "Channel", json!({"@type": "chatTypeSupergroup", "supergroup_id": 999, "is_channel": true})),
        ],
        // The first reply is refused with a wait; when it is sent again, its sending fails
        // with a wait.
        "send_errors": [{"code": 429, "message": "Too Many Requests: retry after 1"}],
        "send_failures": [{"error": {"code": 429, "message": "Too Many Requests: retry after 1"}, "retry_after": 1.0}],
        "conversation": [
            // There before the echo started: no answer.
            {"update": text_message(1, PRIVATE, ALICE, NOW - 3600, "old news", json!([]))},
            // Its own message from another device: no answer.
            {"update": text_message(2, PRIVATE, ME, NOW + 1, "sent by me elsewhere", json!([]))},
            // A private message with formatting: answered, after the FLOOD_WAIT.
            {"update": text_message(3, PRIVATE, ALICE, NOW + 2, "hello bold", bold)},
            {"wait_for": {"request": "sendMessage", "count": 2, "timeout_ms": 20000}},
            // In a group, not addressed: no answer. Addressed: answered.
            {"update": text_message(4, GROUP, ALICE, NOW + 3, "just chatting", json!([]))},
            {"update": text_message(5, GROUP, ALICE, NOW + 4, "@echo_test_bot ping", mention.clone())},
            {"wait_for": {"request": "sendMessage", "count": 3, "timeout_ms": 20000}},
            // A channel post: no answer.
            {"update": text_message(8, CHANNEL, ALICE, NOW + 5, "@echo_test_bot in a channel", mention)},
            // An old message of the bot in the group, then a reply to it: answered.
            {"update": text_message(10, GROUP, ME, NOW - 60, "an earlier answer", json!([]))},
            {"update": reply_to_bot},
            {"wait_for": {"request": "sendMessage", "count": 4, "timeout_ms": 20000}},
            // Not text: answered with a copy.
            {"update": dice},
        ]
    })
}

/// The replies the fake accepted, by the id of the message they answer.
fn accepted_replies(requests: &[Logged]) -> Vec<(i64, &Logged)> {
    requests
        .iter()
        .filter(|logged| logged.request_type() == "sendMessage")
        .filter(|logged| logged.answer["@type"] == "message")
        .map(|logged| {
            let replied = logged.request["reply_to"]["message_id"]
                .as_i64()
                .expect("every reply says what it answers");
            (replied, logged)
        })
        .collect()
}

/// The echo process, killed if the test ends early.
struct KillOnDrop(std::process::Child);

impl KillOnDrop {
    fn wait_with_output(&mut self) -> std::process::Output {
        use std::io::Read;
        let mut stdout = String::new();
        let mut stderr = String::new();
        self.0.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
        self.0.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        std::process::Output {
            status: self.0.wait().unwrap(),
            stdout: stdout.into_bytes(),
            stderr: stderr.into_bytes(),
        }
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn echo_answers_a_scripted_conversation_and_closes_on_sigint() {
    let fake = Fake::new("echo", &script());
    let mut command = support::on_fake(&fake, "echo", "4242:echo-test-token");
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = KillOnDrop(command.spawn().expect("the echo example was built by cargo test"));

    // Until the dice has been answered (the last thing the conversation leads to).
    let deadline = Instant::now() + Duration::from_secs(30);
    while !accepted_replies(&fake.requests()).iter().any(|(id, _)| *id == 7) {
        assert!(
            Instant::now() < deadline,
            "the echo did not get through the conversation: {:#?}\n{:?}",
            fake.requests(),
            fake.script_errors()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Give a wrong extra answer the chance to show up before stopping.
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill").args(["-INT", &child.0.id().to_string()]).status().unwrap();
    assert!(status.success());
    let output = child.wait_with_output();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{:?}\n{stdout}\n{stderr}", output.status);
    assert!(stdout.contains("echo: logged in as @echo_test_bot (user 4242)"), "{stdout}");
    assert!(stdout.ends_with("echo: closed\n"), "{stdout}");
    assert!(
        !stderr.contains("4242:echo-test-token") && !stdout.contains("echo-test-token"),
        "the token is never printed"
    );

    let requests = fake.requests();
    assert_eq!(fake.script_errors(), Vec::<String>::new());
    let replies = accepted_replies(&requests);
    let mut answered: Vec<i64> = replies.iter().map(|(id, _)| *id).collect();
    answered.sort_unstable();
    assert_eq!(answered, [3, 5, 7, 9], "exactly one reply per eligible message: {replies:#?}");
    for (id, reply) in &replies {
        let chat = reply.request["chat_id"].as_i64().unwrap();
        assert_eq!(chat, if *id == 3 || *id == 7 { PRIVATE } else { GROUP });
    }

    // The formatted text is copied with its entities.
    let (_, text_reply) = replies.iter().find(|(id, _)| *id == 3).unwrap();
    let content = &text_reply.request["input_message_content"];
    assert_eq!(content["@type"], "inputMessageText");
    assert_eq!(content["text"]["text"], "hello bold");
    assert_eq!(content["text"]["entities"][0]["offset"], 6);
    assert_eq!(content["text"]["entities"][0]["length"], 4);
    assert_eq!(content["text"]["entities"][0]["type"]["@type"], "textEntityTypeBold");

    // Other content is sent as a copy.
    let (_, dice_reply) = replies.iter().find(|(id, _)| *id == 7).unwrap();
    let content = &dice_reply.request["input_message_content"];
    assert_eq!(content["@type"], "inputMessageForwarded");
    assert_eq!(content["from_chat_id"], PRIVATE);
    assert_eq!(content["message_id"], 7);
    assert_eq!(content["copy_options"]["send_copy"], true);

    // FLOOD_WAIT on the request: the retry came after the wait.
    let refused: Vec<&Logged> = requests
        .iter()
        .filter(|logged| logged.request_type() == "sendMessage")
        .filter(|logged| logged.answer["@type"] == "error")
        .collect();
    assert_eq!(refused.len(), 1, "only the scripted refusal: {refused:#?}");
    assert_eq!(refused[0].answer["code"], 429);
    assert!(
        text_reply.ms - refused[0].ms >= 1000.0,
        "retried after {} ms",
        text_reply.ms - refused[0].ms
    );

    // FLOOD_WAIT after sending: the failed reply was resent once, after its retry_after.
    let resends: Vec<&Logged> =
        requests.iter().filter(|logged| logged.request_type() == "resendMessages").collect();
    assert_eq!(resends.len(), 1, "{resends:#?}");
    assert_eq!(resends[0].answer["@type"], "messages");
    assert!(
        resends[0].ms - text_reply.ms >= 1000.0,
        "resent after {} ms",
        resends[0].ms - text_reply.ms
    );

    // SIGINT closed the client: close is the last request, and it was accepted.
    let last = requests.iter().rev().find(|logged| logged.client_id != 0).unwrap();
    assert_eq!(last.request_type(), "close");
    assert_eq!(last.answer["@type"], "ok");
}

#[test]
fn echo_without_credentials_explains_how_to_get_them() {
    let output = Command::new(support::example("echo"))
        .env_remove("TDLIB_API_ID")
        .env_remove("TDLIB_API_HASH")
        .env_remove("TDLIB_BOT_TOKEN")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("TDLIB_API_ID and TDLIB_API_HASH not set."), "{stderr}");
    for needed in [
        "https://my.telegram.org",
        "API development tools",
        "@BotFather",
        "/newbot",
        "cargo run --example echo",
        "cargo run --example offline",
    ] {
        assert!(stderr.contains(needed), "{needed} in {stderr}");
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("linked TDLib: 1.8.65\n")
            && stdout.contains("testSquareInt(12) through a client: 144\n"),
        "the offline demo runs meanwhile: {stdout}"
    );
}

#[test]
fn echo_with_a_malformed_api_hash_says_so() {
    let output = Command::new(support::example("echo"))
        .env("TDLIB_API_ID", "94575")
        .env("TDLIB_API_HASH", "not-a-hash")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("TDLIB_API_HASH must be 32 hexadecimal characters"), "{stderr}");
}

/// Chats are answered concurrently: while one chat waits out a FLOOD_WAIT, another is answered
/// at once (and each chat still in order).
#[test]
fn a_flood_wait_in_one_chat_does_not_hold_up_another() {
    const BOB: i64 = 78;
    let script = json!({
        "unix_time": NOW,
        "login": {"bot_token": "4242:echo-test-token"},
        "me": {"id": ME, "first_name": "Echo", "usernames": {"active_usernames": ["echo_test_bot"]},
               "type": {"@type": "userTypeBot"}},
        "chats": [
            chat(PRIVATE, "Alice", json!({"@type": "chatTypePrivate", "user_id": ALICE})),
            chat(BOB, "Bob", json!({"@type": "chatTypePrivate", "user_id": BOB})),
        ],
        "send_errors": [{"chat_id": PRIVATE, "code": 429, "message": "Too Many Requests: retry after 3"}],
        "conversation": [
            {"update": text_message(1, PRIVATE, ALICE, NOW + 1, "first, from Alice", json!([]))},
            {"update": text_message(2, PRIVATE, ALICE, NOW + 1, "second, from Alice", json!([]))},
            {"update": text_message(3, BOB, BOB, NOW + 1, "from Bob", json!([]))},
        ]
    });
    let fake = Fake::new("echo-two-chats", &script);
    let mut command = support::on_fake(&fake, "echo", "4242:echo-test-token");
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = KillOnDrop(command.spawn().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    while accepted_replies(&fake.requests()).len() < 3 {
        assert!(Instant::now() < deadline, "{:#?}", fake.requests());
        std::thread::sleep(Duration::from_millis(50));
    }
    Command::new("kill").args(["-INT", &child.0.id().to_string()]).status().unwrap();
    let output = child.wait_with_output();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let requests = fake.requests();
    let refused = requests
        .iter()
        .find(|logged| logged.request_type() == "sendMessage" && logged.answer["code"] == 429)
        .expect("Alice's first reply was refused with a wait");
    let replies = accepted_replies(&requests);
    let at = |id: i64| replies.iter().find(|(replied, _)| *replied == id).unwrap().1.ms;
    assert!(at(3) - refused.ms < 1500.0, "Bob was answered at once, not after Alice's wait");
    assert!(at(1) - refused.ms >= 3000.0, "Alice's reply waited out the FLOOD_WAIT");
    assert!(at(1) < at(2), "Alice's messages were answered in order");
    assert!(at(3) < at(1));
}
