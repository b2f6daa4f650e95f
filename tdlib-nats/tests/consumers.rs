//! Consumers against hostile contents of the update stream, on a real `nats-server` (no TDLib:
//! updates are published by hand, as anyone allowed to publish there could).

mod support;

use std::time::Duration;

use support::{NatsServer, runtime};
use tdlib::enums::Update;
use tdlib_nats::consumer::{Durable, WorkQueue};
use tdlib_nats::subjects;

fn option(name: &str) -> String {
    format!(r#"{{"@type":"updateOption","name":"{name}","value":{{"@type":"optionValueEmpty"}}}}"#)
}

#[test]
fn what_is_not_an_update_is_reported_once_and_set_aside() {
    let server = NatsServer::start("consumers-hostile");
    runtime().block_on(async {
        let nats = async_nats::connect(&server.url).await.unwrap();
        tdlib_nats::serving::update_stream(&nats).await.unwrap();
        let js = async_nats::jetstream::new(nats.clone());
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let payloads = [
            "not json".to_owned(),
            deep,
            // An update of a newer TDLib: delivered (as `Update::Unrecognized`), not an error.
            r#"{"@type":"noSuchUpdate"}"#.to_owned(),
            r#"{"@type":"updateOption","name":{"nested":1}}"#.to_owned(),
            String::from_utf8_lossy(&[0xff, 0xfe]).into_owned(),
            option("after"),
        ];
        for payload in &payloads {
            js.publish(
                subjects::update("acct", "updateOption", 0),
                payload.clone().into(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        }
        // Invalid UTF-8 as bytes, too.
        js.publish(
            subjects::update("acct", "updateOption", 0),
            vec![0xff, 0xfe, 0x00].into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
        js.publish(
            subjects::update("acct", "updateOption", 0),
            option("last").into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();

        let mut durable = Durable::open(nats.clone(), "hostile", "acct")
            .await
            .unwrap();
        let mut queue = WorkQueue::join(nats.clone(), "hostile_q", "acct")
            .await
            .unwrap();
        for reader in ["durable", "queue"] {
            let mut next = async || match reader {
                "durable" => durable.next().await,
                _ => queue.next().await,
            };
            let mut errors = Vec::new();
            let mut names = Vec::new();
            while names.len() < 2 {
                let got = tokio::time::timeout(Duration::from_secs(10), next())
                    .await
                    .expect("no hang")
                    .expect("not ended");
                match got {
                    Ok(delivered) => {
                        if let Update::Option(option) = &delivered.update {
                            names.push(option.name.clone());
                        }
                        delivered.ack().await.unwrap();
                    }
                    Err(error) => errors.push(error.to_string()),
                }
            }
            assert_eq!(names, ["after", "last"], "{reader}: {errors:?}");
            assert_eq!(
                errors.len(),
                5,
                "{reader}: each bad message once: {errors:?}"
            );
            assert!(
                errors.iter().all(|error| error.contains("set aside")),
                "{errors:?}"
            );
            // Set aside for good: nothing comes back.
            let again = tokio::time::timeout(Duration::from_secs(2), next()).await;
            assert!(again.is_err(), "{reader}: nothing more");
        }
    });
}

#[test]
fn a_consumer_name_taken_for_another_account_is_refused() {
    let server = NatsServer::start("consumers-names");
    runtime().block_on(async {
        let nats = async_nats::connect(&server.url).await.unwrap();
        Durable::open(nats.clone(), "audit", "alice").await.unwrap();
        Durable::open(nats.clone(), "audit", "alice").await.unwrap();
        let error = Durable::open(nats.clone(), "audit", "bob")
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("exists for tdlib.alice.update.>"),
            "{error}"
        );
        WorkQueue::join(nats.clone(), "group", "alice")
            .await
            .unwrap();
        assert!(WorkQueue::join(nats.clone(), "group", "bob").await.is_err());
        for bad in ["", "a.b", "*", ">"] {
            assert!(
                Durable::open(nats.clone(), bad, "alice").await.is_err(),
                "{bad:?}"
            );
            assert!(
                WorkQueue::join(nats.clone(), bad, "alice").await.is_err(),
                "{bad:?}"
            );
        }
        assert!(Durable::open(nats.clone(), "x", "a.b").await.is_err());
    });
}

/// The registration bucket with values nobody sealed, sealed with another key, or too large:
/// errors that say so, never a panic.
#[test]
fn registrations_that_cannot_be_opened_are_errors() {
    use tdlib_nats::registry::{Login, Registration, Registry, SecretKey};

    let server = NatsServer::start("registry-hostile");
    runtime().block_on(async {
        let nats = async_nats::connect(&server.url).await.unwrap();
        let registry = Registry::open(&nats, SecretKey::generate().unwrap())
            .await
            .unwrap();
        let kv = async_nats::jetstream::new(nats.clone())
            .get_key_value(subjects::ACCOUNTS_BUCKET)
            .await
            .unwrap();
        for (account, value) in [
            ("empty", Vec::new()),
            ("plain", br#"{"api_id":1,"api_hash":"x"}"#.to_vec()),
            ("noise", vec![1; 4096]),
        ] {
            kv.put(account, value.into()).await.unwrap();
            let error = registry.get(account).await.unwrap_err();
            assert!(error.to_string().contains("cannot be opened"), "{error}");
        }
        let bot = Registration::new(1, "hash", Login::BotToken("1:t".into()));
        registry.add("sealed", &bot).await.unwrap();
        assert_eq!(registry.get("sealed").await.unwrap(), Some(bot.clone()));
        let stranger = Registry::open(&nats, SecretKey::generate().unwrap())
            .await
            .unwrap();
        assert!(
            stranger.get("sealed").await.is_err(),
            "another key opens nothing"
        );
        assert_eq!(
            registry.accounts().await.unwrap(),
            ["empty", "noise", "plain", "sealed"]
        );
        let huge = Registration::new(1, "h".repeat(2 << 20), Login::BotToken("1:t".into()));
        assert!(
            registry.add("huge", &huge).await.is_err(),
            "larger than NATS carries"
        );
        assert!(registry.get("no-such").await.unwrap().is_none());
    });
}
