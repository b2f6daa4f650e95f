//! Serving an account: its requests from `tdlib.<account>.rpc`, its updates into the update
//! stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_nats::HeaderMap;
use async_nats::jetstream::{self, stream};
use futures_util::StreamExt;
use tdlib::codec::{Encode, Writer};
use tdlib::enums::Update;
use tdlib::{Client, Event, types};
use tokio::task::JoinHandle;

use crate::{BoxError, subjects};

/// How long the stream recognizes a repeated message id (a publish retried after a lost
/// acknowledgement).
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// How long a node waits for TDLib's answer to a request it carries.
const ANSWER_LIMIT: Duration = Duration::from_secs(60);

/// The queue group of the nodes answering an account's requests: one of them answers each.
const NODES: &str = "tdlib-nodes";

/// An account being served; dropping it stops serving (the TDLib client stays as it is).
#[derive(Debug)]
pub struct Served {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Creates the update stream if it does not exist.
pub async fn update_stream(nats: &async_nats::Client) -> Result<stream::Stream, BoxError> {
    let js = jetstream::new(nats.clone());
    Ok(js
        .get_or_create_stream(stream::Config {
            name: subjects::UPDATE_STREAM.into(),
            subjects: vec![subjects::UPDATE_SUBJECTS.into()],
            storage: stream::StorageType::File,
            duplicate_window: DUPLICATE_WINDOW,
            ..Default::default()
        })
        .await?)
}

/// Serves `client` as `account` on `nats`: answers its requests and publishes its updates
/// (starting with its current authorization state, so that a remote client attaching later
/// reads where the login is). Must run inside a tokio runtime.
pub async fn serve(
    nats: async_nats::Client,
    account: &str,
    client: Client,
) -> Result<Served, BoxError> {
    if !subjects::is_valid_account(account) {
        return Err(
            format!("not a valid account name: {account:?} (letters, digits, - and _)").into(),
        );
    }
    update_stream(&nats).await?;
    // Subscribed before anything else, so that no update of the client is missed from here.
    let updates = client.subscription::<Update>().lossless().subscribe();
    let requests = nats
        .queue_subscribe(subjects::rpc(account), NODES.to_owned())
        .await?;
    nats.flush().await?;
    let publisher = Publisher::new(nats.clone(), account);
    if let Some(state) = client.authorization_state() {
        let update = Update::AuthorizationState(types::UpdateAuthorizationState {
            authorization_state: state,
        });
        publisher.publish(&update).await?;
    }
    let pump = tokio::spawn(pump_updates(updates, publisher));
    let answer = tokio::spawn(answer_requests(nats, requests, client));
    Ok(Served {
        tasks: vec![pump, answer],
    })
}

/// Publishes an account's updates, numbered within this node's session.
struct Publisher {
    js: jetstream::Context,
    account: String,
    session: String,
    sequence: AtomicU64,
}

impl Publisher {
    fn new(nats: async_nats::Client, account: &str) -> Arc<Publisher> {
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Arc::new(Publisher {
            js: jetstream::new(nats),
            account: account.to_owned(),
            // Unique per serving session: ids of a new session never collide with an old one's.
            session: format!("{}-{}", started.as_nanos(), std::process::id()),
            sequence: AtomicU64::new(0),
        })
    }

    async fn publish(&self, update: &Update) -> Result<(), BoxError> {
        self.send(update).await?.await?;
        Ok(())
    }

    /// Publishes without waiting for the stream's acknowledgement (the returned future).
    async fn send(
        &self,
        update: &Update,
    ) -> Result<async_nats::jetstream::context::PublishAckFuture, BoxError> {
        let mut writer = Writer::with_buffer(String::new());
        update.encode(&mut writer);
        let text = writer.finish();
        let kind = type_name(&text).unwrap_or("unknown").to_owned();
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
        let mut headers = HeaderMap::new();
        let id = format!("{}:{}:{sequence}", self.account, self.session);
        headers.insert("Nats-Msg-Id", id.as_str());
        Ok(self
            .js
            .publish_with_headers(subjects::update(&self.account, &kind), headers, text.into())
            .await?)
    }
}

/// The `@type` of an object TDLib's way written (`@type` first).
fn type_name(json: &str) -> Option<&str> {
    let rest = json.strip_prefix(r#"{"@type":""#)?;
    Some(&rest[..rest.find('"')?])
}

/// Acknowledgements awaited at once: publishing does not wait for each before the next (one
/// connection keeps the order), and a failure is still seen.
const IN_FLIGHT: usize = 256;

async fn pump_updates(mut updates: tdlib::Subscription<Update>, publisher: Arc<Publisher>) {
    let mut acks = std::collections::VecDeque::new();
    let failed = |error: BoxError| {
        tracing::error!(target: "tdlib_nats", account = %publisher.account, %error, "an update could not be published");
    };
    while let Some(event) = updates.recv().await {
        if let Event::Update(update) = event {
            match publisher.send(update.update()).await {
                Ok(ack) => acks.push_back(ack),
                Err(error) => failed(error),
            }
        }
        // Waits for the oldest acknowledgement when many are out, or when nothing else is
        // queued (so that each update is stored before the node idles).
        while acks.len() > IN_FLIGHT || (!acks.is_empty() && updates.is_empty()) {
            if let Some(ack) = acks.pop_front() {
                if let Err(error) = ack.await {
                    failed(error.into());
                }
            }
        }
    }
}

async fn answer_requests(
    nats: async_nats::Client,
    mut requests: async_nats::Subscriber,
    client: Client,
) {
    while let Some(message) = requests.next().await {
        let Some(reply) = message.reply.clone() else {
            continue;
        };
        let client = client.clone();
        let nats = nats.clone();
        tokio::spawn(async move {
            let answer = answer(&client, &message.payload).await;
            if let Err(error) = nats.publish(reply, answer.into()).await {
                tracing::warn!(target: "tdlib_nats", %error, "an answer could not be sent");
            }
        });
    }
}

/// TDLib's answer to one request, as JSON; refusals as TDLib's `error` objects.
async fn answer(client: &Client, request: &[u8]) -> String {
    let error = |code: i32, message: &str| {
        serde_json::json!({"@type": "error", "code": code, "message": message}).to_string()
    };
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(request) else {
        return error(400, "the request is not JSON");
    };
    // The requester has given up long before (NATS requests wait 10 s by default); the task
    // must not wait for an answer that may never come while TDLib is offline.
    let Ok(answered) = tokio::time::timeout(ANSWER_LIMIT, client.send_json(request)).await else {
        return error(504, "TDLib did not answer in time");
    };
    match answered {
        Ok(answer) => answer.to_string(),
        Err(refused) if refused.is_tdlib() => error(
            refused.code().unwrap_or(400),
            refused.message().unwrap_or_default(),
        ),
        // What TDLib answers a closed client; the remote side reads it as "closed".
        Err(refused) if refused.is_closed() => error(500, "Request aborted"),
        Err(refused) => error(400, &refused.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn type_names_of_tdlib_json() {
        assert_eq!(
            super::type_name(r#"{"@type":"updateOption","name":"x"}"#),
            Some("updateOption")
        );
        assert_eq!(super::type_name(r#"{"name":"x"}"#), None);
    }
}
