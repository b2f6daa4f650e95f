//! Remote clients: a [`tdlib::Client`] whose requests go to `tdlib.<account>.rpc` and whose
//! updates come from the update stream.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::time::Duration;

use async_nats::RequestErrorKind;
use async_nats::jetstream::consumer::{self, AckPolicy, DeliverPolicy};
use async_nats::jetstream::stream::{DirectGetErrorKind, RawMessageErrorKind};
use futures_util::StreamExt;
use tdlib::remote::{RemoteUpdates, Transport};
use tdlib::{Client, Error};
use tokio::task::JoinHandle;

use crate::{BoxError, secrets, serving, subjects};

/// A remote account: derefs to its [`Client`]. Dropping it stops reading its updates (its
/// subscriptions then end with [`ErrorKind::Transport`](tdlib::ErrorKind::Transport)).
#[derive(Debug)]
pub struct RemoteAccount {
    client: Client,
    feed: JoinHandle<()>,
}

impl Deref for RemoteAccount {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Drop for RemoteAccount {
    fn drop(&mut self) {
        self.feed.abort();
    }
}

/// How long a request waits for a node to serve its account (while an account moves between
/// nodes, nobody serves it for up to about a lease time and a round).
pub const NODE_WAIT: Duration = Duration::from_secs(30);

/// How often a waiting request looks for a node again.
const NODE_RETRY: Duration = Duration::from_millis(100);

/// Requests over NATS request/reply.
struct NatsTransport {
    nats: async_nats::Client,
    account: String,
}

impl Transport for NatsTransport {
    fn request(
        &self,
        request: String,
    ) -> Pin<Box<dyn Future<Output = Result<String, Error>> + Send>> {
        let nats = self.nats.clone();
        let account = self.account.clone();
        Box::pin(async move {
            if let Some(function) = secrets::secret_function(&request) {
                return Err(Error::transport(
                    format!(
                        "{function} carries a secret and is not sent over NATS: the node does it \
                         from the account's registration (tdlib-nats account add)"
                    ),
                    None,
                ));
            }
            let payload = bytes::Bytes::from(request);
            let deadline = tokio::time::Instant::now() + NODE_WAIT;
            loop {
                let error = match nats.request(subjects::rpc(&account), payload.clone()).await {
                    Ok(answer) => {
                        return String::from_utf8(answer.payload.to_vec()).map_err(|error| {
                            Error::transport("the answer is not UTF-8", Some(Box::new(error)))
                        });
                    }
                    Err(error) => error,
                };
                return Err(match error.kind() {
                    // Nobody got the request, so it is safe to send again: the account is
                    // between nodes, or no node runs.
                    RequestErrorKind::NoResponders if tokio::time::Instant::now() < deadline => {
                        tokio::time::sleep(NODE_RETRY).await;
                        continue;
                    }
                    RequestErrorKind::NoResponders => Error::transport(
                        format!(
                            "no node served account {account} for {} s (is it registered, and \
                             does a node run?)",
                            NODE_WAIT.as_secs()
                        ),
                        Some(Box::new(error)),
                    ),
                    RequestErrorKind::TimedOut => Error::transport(
                        format!(
                            "the node of account {account} did not answer in time; the request \
                             may or may not have been carried out"
                        ),
                        Some(Box::new(error)),
                    ),
                    _ => Error::transport("the NATS request failed", Some(Box::new(error))),
                });
            }
        })
    }
}

/// The subjects whose last value a new view starts from.
const STATE_KINDS: [&str; 2] = ["updateAuthorizationState", "updateConnectionState"];

/// Connects to `account` served by a node on `nats`: its client, whose subscriptions get the
/// account's updates from now on, after its current authorization and connection state. Must
/// run inside a tokio runtime.
pub async fn connect(nats: async_nats::Client, account: &str) -> Result<RemoteAccount, BoxError> {
    if !subjects::is_valid_account(account) {
        return Err(format!("not a valid account name: {account:?}").into());
    }
    let stream = serving::update_stream(&nats).await?;
    // From now on (created first, so nothing falls between it and the snapshot below).
    // Named, so that the create request's subject carries the filter, which subject
    // permissions can limit to the account's updates.
    let mut name = [0u8; 8];
    getrandom::fill(&mut name).map_err(|error| format!("no randomness: {error}"))?;
    let name: String = name.iter().map(|byte| format!("{byte:02x}")).collect();
    let consumer: consumer::PullConsumer = stream
        .create_consumer(consumer::pull::Config {
            name: Some(format!("remote-{name}")),
            filter_subject: subjects::updates(account),
            deliver_policy: DeliverPolicy::New,
            ack_policy: AckPolicy::Explicit,
            inactive_threshold: Duration::from_secs(60),
            ..Default::default()
        })
        .await?;
    let direct = stream.cached_info().config.allow_direct;
    // (subject, stream sequence, payload) of each state's last message.
    let mut current: Vec<(String, u64, Vec<u8>)> = Vec::new();
    for kind in STATE_KINDS {
        let subject = subjects::update(account, kind, 0);
        // Direct reads name the subject in the request's subject (which permissions can
        // limit); a stream made without them is read the older way.
        let last: Result<Option<(u64, Vec<u8>)>, BoxError> = if direct {
            match stream.direct_get_last_for_subject(subject.clone()).await {
                Ok(message) => Ok(Some((message.sequence, message.payload.to_vec()))),
                Err(error) if error.kind() == DirectGetErrorKind::NotFound => Ok(None),
                Err(error) => Err(error.into()),
            }
        } else {
            match stream.get_last_raw_message_by_subject(&subject).await {
                Ok(message) => Ok(Some((message.sequence, message.payload.to_vec()))),
                Err(error) if error.kind() == RawMessageErrorKind::NoMessageFound => Ok(None),
                Err(error) => Err(error.into()),
            }
        };
        match last {
            Ok(Some((sequence, payload))) => current.push((subject, sequence, payload)),
            // None yet (no node has served the account): nothing to start from.
            Ok(None) => {}
            Err(error) => {
                return Err(format!("the state of {account} cannot be read: {error}").into());
            }
        }
    }
    let mut messages = consumer.messages().await?;
    let (client, updates) = Client::remote(NatsTransport {
        nats,
        account: account.to_owned(),
    });
    let feed = tokio::spawn(async move {
        for (_, _, payload) in &current {
            publish(&updates, payload);
        }
        while let Some(message) = messages.next().await {
            let message = match message {
                Ok(message) => message,
                Err(error) => {
                    // A missed heartbeat or a reconnect: the consumer goes on.
                    tracing::warn!(target: "tdlib_nats", %error, "reading the account's updates");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            // The consumer started before the snapshot was read: a state older than the one
            // the snapshot gave is not handed out after it.
            let sequence = message.info().map_or(u64::MAX, |info| info.stream_sequence);
            let stale = current.iter().any(|(subject, snapshot, _)| {
                message.subject.as_str() == subject && sequence <= *snapshot
            });
            if !stale {
                publish(&updates, &message.payload);
            }
            let _ = message.ack().await;
        }
        // The consumer ended: dropping `updates` ends the client's subscriptions.
    });
    Ok(RemoteAccount { client, feed })
}

fn publish(updates: &RemoteUpdates, payload: &[u8]) {
    let text = String::from_utf8_lossy(payload);
    if let Err(error) = updates.publish(&text) {
        tracing::warn!(target: "tdlib_nats", %error, "an update from the stream could not be read");
    }
}
