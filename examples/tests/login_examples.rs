//! `get_me` and `chat_list`, run as built against the scripted fake libtdjson (first on the
//! loader path), logged in as a bot.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::json;
use tdlib_fake_harness::Fake;

fn script() -> serde_json::Value {
    let chat = |id: i64, title: &str| {
        json!({"id": id, "title": title,
               "type": {"@type": "chatTypeBasicGroup", "basic_group_id": -id},
               "available_reactions": {"@type": "chatAvailableReactionsAll"}})
    };
    json!({
        "login": {"bot_token": "4242:example-token"},
        "me": {"id": 4242, "first_name": "Echo", "last_name": "Bot",
               "usernames": {"active_usernames": ["echo_test_bot"]},
               "type": {"@type": "userTypeBot"}},
        "chats": [chat(-11, "Readers"), chat(-12, "Writers")],
        "conversation": [
            {"wait_for": {"request": "loadChats", "count": 2}},
            {"update": {"@type": "updateNewMessage", "message": {
                "id": 5, "chat_id": -12, "date": 1_700_000_001,
                "sender_id": {"@type": "messageSenderUser", "user_id": 77},
                "content": {"@type": "messageText", "text": {"text": "hi"}}}}}
        ]
    })
}

#[test]
fn get_me_prints_the_account() {
    let fake = Fake::new("get_me", &script());
    let output = support::on_fake(&fake, "get_me", "4242:example-token").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(stdout, "logged in as Echo Bot @echo_test_bot (user 4242, a bot)\n");
    let types: Vec<String> = fake
        .requests()
        .iter()
        .filter(|logged| logged.client_id != 0 && logged.request_type() != "getOption")
        .map(|logged| logged.request_type().to_owned())
        .collect();
    assert_eq!(types, ["setTdlibParameters", "checkAuthenticationBotToken", "getMe", "close"]);
}

#[test]
fn chat_list_shows_chats_then_live_messages_until_sigint() {
    let fake = Fake::new("chat_list", &script());
    let mut child = support::on_fake(&fake, "chat_list", "4242:example-token")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Never hang the suite: a stuck example is killed, which ends its output.
    let pid = child.id().to_string();
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if stopped.recv_timeout(std::time::Duration::from_secs(30)).is_err() {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
        }
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.starts_with("new message");
        seen.push(line);
        if done {
            break;
        }
    }
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    let _ = stop.send(());
    watchdog.join().unwrap();
    assert!(status.success(), "{status:?} after {seen:?}");
    assert_eq!(seen, ["chat -11: Readers", "chat -12: Writers", "new message 5 in Writers"]);
    let last = fake.requests().pop().unwrap();
    assert_eq!(last.request_type(), "close");
}
