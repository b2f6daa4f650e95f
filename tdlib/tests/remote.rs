//! Remote clients: the same `Client` over a transport. Here the transport is a loopback to a
//! local client in the same process (requests as JSON text, updates re-encoded as TDLib's
//! JSON), which is what a network transport does with a process in between.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde_json::json;
use tdlib::codec::{Encode, Writer};
use tdlib::enums::{AuthorizationState, Update};
use tdlib::remote::{RemoteUpdates, Transport};
use tdlib::transfer::TransferEvent;
use tdlib::{Client, Error, ErrorKind, Event, auth, blocking, functions, types};

mod common;
use common::on_fake;

/// Carries requests to `local` as JSON text, and TDLib's errors back as its error objects.
struct Loopback {
    local: Client,
}

impl Transport for Loopback {
    fn request(
        &self,
        request: String,
    ) -> Pin<Box<dyn Future<Output = Result<String, Error>> + Send>> {
        let local = self.local.clone();
        Box::pin(async move {
            let value: serde_json::Value = serde_json::from_str(&request).map_err(|error| {
                Error::transport("the request is not JSON", Some(Box::new(error)))
            })?;
            match local.send_json(value).await {
                Ok(answer) => Ok(answer.to_string()),
                Err(error) if error.is_tdlib() => Ok(json!({
                    "@type": "error", "code": error.code(), "message": error.message()
                })
                .to_string()),
                Err(error) => Err(Error::transport(
                    "the local client failed",
                    Some(Box::new(error)),
                )),
            }
        })
    }
}

/// Forwards `local`'s updates, as TDLib's JSON, to a remote client's feed, starting with the
/// current authorization state (a transport attaching to a running client does the same).
fn forward(local: &Client, updates: RemoteUpdates) -> std::thread::JoinHandle<()> {
    let channel = local.subscription::<Update>().lossless().channel();
    let current = blocking::Client::from(local.clone()).send(functions::GetAuthorizationState {});
    std::thread::spawn(move || {
        if let Ok(state) = current {
            let update = Update::AuthorizationState(types::UpdateAuthorizationState {
                authorization_state: state,
            });
            updates.publish(&json_of(&update)).unwrap();
        }
        for event in channel {
            if let Event::Update(update) = event {
                updates.publish(&json_of(update.update())).unwrap();
            }
        }
        // The local client closed: dropping the feed ends the remote view.
    })
}

fn json_of(update: &Update) -> String {
    let mut writer = Writer::with_buffer(String::new());
    update.encode(&mut writer);
    writer.finish()
}

fn quiet() {
    tdlib::set_log_verbosity(1).unwrap();
}

fn block_on<T>(future: impl Future<Output = T>) -> T {
    futures_executor::block_on(future)
}

#[test]
fn typed_requests_through_a_transport_give_what_a_local_client_gives() {
    quiet();
    let local = Client::new().unwrap();
    let (remote, updates) = Client::remote(Loopback {
        local: local.clone(),
    });
    let feeding = forward(&local, updates);
    assert!(remote.is_remote());
    assert_eq!(remote.id(), 0);
    let square = block_on(remote.send(functions::TestSquareInt { x: 12 })).unwrap();
    assert_eq!(
        square.value,
        block_on(local.send(functions::TestSquareInt { x: 12 }))
            .unwrap()
            .value
    );
    let json =
        block_on(remote.send_json(json!({"@type": "testSquareInt", "x": 3, "@extra": "mine"})));
    assert_eq!(
        json.unwrap(),
        json!({"@type": "testInt", "value": 9, "@extra": "mine"})
    );
    // TDLib's refusals come through typed.
    let refused = block_on(remote.send(functions::TestReturnError {
        error: types::Error {
            code: 418,
            message: "teapot".into(),
        },
    }));
    let refused = refused.unwrap_err();
    assert_eq!(
        (refused.code(), refused.message()),
        (Some(418), Some("teapot"))
    );
    // The blocking face works on it too, and so do the states the feed carries.
    let blocking_remote = blocking::Client::from(remote.clone());
    assert_eq!(
        blocking_remote
            .send(functions::TestSquareInt { x: 5 })
            .unwrap()
            .value,
        25
    );
    let states = blocking_remote.authorization_states();
    assert!(matches!(
        states.recv_timeout(Duration::from_secs(10)).unwrap(),
        AuthorizationState::WaitTdlibParameters(_)
    ));
    // Transfers are not carried yet: a clear error, at once.
    let events: Vec<_> = blocking_remote.download_file(1).events().iter().collect();
    assert!(
        matches!(&events[..], [TransferEvent::Failed(error)] if error.is_invalid_request()),
        "{events:?}"
    );
    // Closing a remote client detaches it; the local client goes on.
    let mut all = remote.subscription::<Update>().lossless().subscribe();
    block_on(remote.close()).unwrap();
    assert!(
        block_on(remote.send(functions::TestSquareInt { x: 2 }))
            .unwrap_err()
            .is_closed()
    );
    assert!(block_on(all.recv()).is_none(), "its subscriptions ended");
    assert_eq!(
        block_on(local.send(functions::TestSquareInt { x: 2 }))
            .unwrap()
            .value,
        4
    );
    block_on(local.close()).unwrap();
    feeding.join().unwrap();
}

#[test]
fn a_lost_transport_ends_requests_and_subscriptions_with_a_transport_error() {
    struct Broken;
    impl Transport for Broken {
        fn request(
            &self,
            _: String,
        ) -> Pin<Box<dyn Future<Output = Result<String, Error>> + Send>> {
            Box::pin(async {
                Err(Error::transport(
                    "connection refused",
                    Some("no route".into()),
                ))
            })
        }
    }
    let (remote, updates) = Client::remote(Broken);
    let error = block_on(remote.send(functions::GetMe {})).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport);
    assert!(
        std::error::Error::source(&error).is_some_and(|source| source.to_string() == "no route")
    );
    // Garbage from the feed is refused, nothing published.
    let mut all = remote.subscription::<Update>().lossless().subscribe();
    assert!(updates.publish("{not json").unwrap_err().is_decode());
    assert!(all.try_recv().is_err());
    // The feed gone: subscriptions end with the transport's failure, requests are refused.
    drop(updates);
    assert!(
        matches!(block_on(all.recv()), Some(Event::Failed(error)) if error.kind() == ErrorKind::Transport)
    );
    assert!(block_on(all.recv()).is_none());
    assert_eq!(
        block_on(remote.send(functions::GetMe {}))
            .unwrap_err()
            .kind(),
        ErrorKind::Transport
    );
}

/// The login helper works through a remote client: a bot logs in on the fake library, whose
/// client is reached only through the transport, and typed requests then return what the
/// account is.
#[test]
fn auth_authorize_logs_in_through_a_remote_client() {
    let script = json!({
        "login": {"bot_token": "7:remote"},
        "me": {"id": 7, "first_name": "Remote"},
        "conversation": [{"update": {"@type": "updateOption", "name": "after_login",
                                     "value": {"@type": "optionValueBoolean", "value": true}}}]
    });
    if on_fake("auth_authorize_logs_in_through_a_remote_client", script).is_some() {
        return;
    }
    let local = Client::new().unwrap();
    let (remote, updates) = Client::remote(Loopback {
        local: local.clone(),
    });
    let mut options = remote
        .subscription::<types::UpdateOption>()
        .lossless()
        .subscribe();
    let feeding = forward(&local, updates);
    let parameters = auth::parameters(1, "0123456789abcdef0123456789abcdef", "remote-db");
    block_on(auth::authorize(
        &remote,
        &mut auth::Bot::new(parameters, "7:remote"),
    ))
    .unwrap();
    assert!(matches!(
        remote.authorization_state(),
        Some(AuthorizationState::Ready(_))
    ));
    let me = block_on(remote.send(functions::GetMe {})).unwrap();
    assert_eq!((me.id, me.first_name.as_str()), (7, "Remote"));
    // The conversation's update reached the remote subscription.
    let seen = block_on(async {
        while let Some(event) = options.recv().await {
            if matches!(&event, Event::Update(option) if option.name == "after_login") {
                return true;
            }
        }
        false
    });
    assert!(seen);
    block_on(remote.close()).unwrap();
    block_on(local.close()).unwrap();
    feeding.join().unwrap();
}
