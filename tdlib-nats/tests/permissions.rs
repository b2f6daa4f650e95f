//! The example subject permissions (`permissions.conf`) loaded into a real `nats-server`: a
//! worker of `alice` calls her requests and reads her updates, and reaches nothing of `bob`'s
//! nor the registration bucket. No TDLib here: a stand-in node answers requests and publishes
//! updates with full permissions.

mod support;

use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use support::{NatsServer, runtime};
use tdlib::functions;
use tdlib_nats::consumer::{Durable, WorkQueue};
use tdlib_nats::registry::{Login, Registration, Registry, SecretKey};
use tdlib_nats::subjects;

const NODE_PASSWORD: &str = "node-password-for-the-test";
const ALICE_PASSWORD: &str = "alice-password-for-the-test";

async fn connect(url: &str, user: &str, password: &str, inbox: &str) -> async_nats::Client {
    async_nats::ConnectOptions::with_user_and_password(user.into(), password.into())
        .custom_inbox_prefix(inbox)
        .request_timeout(Some(Duration::from_secs(2)))
        .connect(url)
        .await
        .unwrap()
}

#[test]
fn a_worker_reaches_its_own_account_only() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("permissions.conf");
    let server = NatsServer::start_with(
        "permissions",
        Some(&config),
        &[
            ("TDLIB_NATS_NODE_PASSWORD", NODE_PASSWORD),
            ("TDLIB_NATS_ALICE_PASSWORD", ALICE_PASSWORD),
        ],
    );
    runtime().block_on(async {
        // The stand-in node: the stream, the registration bucket, answers and updates.
        let node = connect(&server.url, "node", NODE_PASSWORD, "_INBOX").await;
        let stream = tdlib_nats::serving::update_stream(&node).await.unwrap();
        let key = SecretKey::generate().unwrap();
        let registry = Registry::open(&node, key.clone()).await.unwrap();
        for account in ["alice", "bob"] {
            let registration = Registration::new(1, "hash-secret", Login::BotToken("1:t".into()));
            registry.add(account, &registration).await.unwrap();
            let mut requests = node.subscribe(subjects::rpc(account)).await.unwrap();
            let answers = node.clone();
            tokio::spawn(async move {
                while let Some(request) = requests.next().await {
                    if let Some(reply) = request.reply {
                        let _ = answers.publish(reply, r#"{"@type":"ok"}"#.into()).await;
                    }
                }
            });
            let js = async_nats::jetstream::new(node.clone());
            let update = format!(
                r#"{{"@type":"updateOption","name":"{account}","value":{{"@type":"optionValueEmpty"}}}}"#
            );
            js.publish(subjects::update(account, "updateOption", 0), update.into())
                .await
                .unwrap()
                .await
                .unwrap();
        }
        node.flush().await.unwrap();
        drop(stream);

        let alice = connect(&server.url, "alice", ALICE_PASSWORD, "_INBOX_alice").await;
        // Her requests and her updates, in all three ways of reading them.
        let remote = tdlib_nats::connect(alice.clone(), "alice").await.unwrap();
        remote.send(functions::TestCallEmpty {}).await.unwrap();
        let mut durable = Durable::open(alice.clone(), "alice_audit", "alice")
            .await
            .unwrap();
        let first = tokio::time::timeout(Duration::from_secs(10), durable.next())
            .await
            .expect("an update")
            .unwrap()
            .unwrap();
        assert_eq!(first.account, "alice");
        first.ack().await.unwrap();
        let mut queue = WorkQueue::join(alice.clone(), "alice_printers", "alice")
            .await
            .unwrap();
        let first = tokio::time::timeout(Duration::from_secs(10), queue.next())
            .await
            .expect("an update")
            .unwrap()
            .unwrap();
        assert_eq!(first.account, "alice");
        first.ack().await.unwrap();

        // Nothing of bob's.
        let refused = alice
            .request(subjects::rpc("bob"), r#"{"@type":"testCallEmpty"}"#.into())
            .await;
        assert!(refused.is_err(), "bob's requests are out of reach");
        assert!(
            Durable::open(alice.clone(), "alice_peek", "bob").await.is_err(),
            "bob's updates are out of reach"
        );
        assert!(
            tdlib_nats::connect(alice.clone(), "bob").await.is_err(),
            "no remote client of bob"
        );
        let mut peek = alice.subscribe(subjects::updates("bob")).await.unwrap();
        // Nor the registration bucket, sealed or not.
        let registry = Registry::open(&alice, key).await;
        assert!(registry.is_err(), "the registration bucket is out of reach");
        let mut kv = alice.subscribe("$KV.>").await.unwrap();
        alice.flush().await.unwrap();
        let js = async_nats::jetstream::new(node.clone());
        js.publish(subjects::update("bob", "updateOption", 0), "{}".into())
            .await
            .unwrap()
            .await
            .unwrap();
        registry_touch(&node).await;
        for subscription in [&mut peek, &mut kv] {
            let got = tokio::time::timeout(Duration::from_secs(1), subscription.next()).await;
            assert!(
                !matches!(got, Ok(Some(_))),
                "a subscription outside the permissions gets nothing"
            );
        }
        remote.close().await.unwrap();
    });
}

/// Writes to the registration bucket (a subscriber there would see it).
async fn registry_touch(node: &async_nats::Client) {
    let registry = Registry::open(node, SecretKey::generate().unwrap())
        .await
        .unwrap();
    registry
        .add(
            "carol",
            &Registration::new(1, "hash", Login::BotToken("2:t".into())),
        )
        .await
        .unwrap();
}

/// TLS passed through: the command line reaches a server whose certificate its CA signed, and
/// refuses one it cannot verify.
#[test]
fn tls_is_passed_through_to_the_nats_client() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let openssl = |args: &[&str]| {
        let output = std::process::Command::new("openssl")
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("openssl is needed (Debian: openssl; scripts/setup installs it)");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=tdlib-nats test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(dir.join("san"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san",
    ]);
    let config = dir.join("tls.conf");
    std::fs::write(
        &config,
        format!(
            "tls {{\n  cert_file: \"{}\"\n  key_file: \"{}\"\n}}\n",
            dir.join("server.pem").display(),
            dir.join("server.key").display()
        ),
    )
    .unwrap();
    let server = NatsServer::start_with("tls", Some(&config), &[]);
    let list = |tls: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tdlib-nats"));
        command.args(["--nats", &server.url]);
        if tls {
            command.arg("--tls-ca").arg(dir.join("ca.pem"));
        }
        command.args(["account", "list"]);
        let output = command.output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = list(true);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("ACCOUNT"), "{stdout}");
    let (code, _, stderr) = list(false);
    assert_eq!(code, Some(1), "a server it cannot verify is refused");
    assert!(stderr.contains("cannot connect to NATS"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
