//! `download`, run as built against the scripted fake libtdjson: by file id, and by message.

mod support;

use serde_json::json;
use tdlib_fake_harness::Fake;

fn script() -> serde_json::Value {
    json!({
        "login": {"bot_token": "4242:example-token"},
        "files": [{"id": 5, "size": 123_456, "name": "report.pdf"}],
        "download": {"steps": 4, "step_ms": 20},
        "chats": [{"id": 77, "title": "Alice", "type": {"@type": "chatTypePrivate", "user_id": 77},
                   "available_reactions": {"@type": "chatAvailableReactionsAll"}}],
        "history": [{"id": 9, "chat_id": 77, "date": 1_700_000_000,
                     "sender_id": {"@type": "messageSenderUser", "user_id": 77},
                     "content": {"@type": "messageDocument",
                                 "document": {"file_name": "report.pdf", "document": {"id": 5}},
                                 "caption": {"text": ""}}}]
    })
}

fn run(fake: &Fake, args: &[&str]) -> (bool, String, String) {
    let output =
        support::on_fake(fake, "download", "4242:example-token").args(args).output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn downloads_by_file_id_and_by_message() {
    let fake = Fake::new("download", &script());
    for args in [&["5"][..], &["77", "9"][..]] {
        let (ok, stdout, stderr) = run(&fake, args);
        assert!(ok, "{args:?}: {stdout}{stderr}");
        let path = stdout
            .trim()
            .strip_prefix("saved 123456 bytes at ")
            .unwrap_or_else(|| panic!("{stdout}"));
        assert_eq!(std::fs::metadata(path).unwrap().len(), 123_456);
    }
    let downloads = fake.requests().iter().filter(|r| r.request_type() == "downloadFile").count();
    assert_eq!(downloads, 2);
    // A message without a file, and bad arguments: a clear message, no panic.
    let (ok, _, stderr) = run(&fake, &["77", "10"]);
    assert!(!ok && stderr.contains("getMessage"), "{stderr}");
    let (ok, _, stderr) = run(&fake, &["x"]);
    assert!(!ok && stderr.contains("usage: download"), "{stderr}");
}
