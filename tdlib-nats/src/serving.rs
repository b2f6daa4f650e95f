//! Serving a TDLib client on NATS: its requests from `tdlib.<account>.rpc`, its updates into the
//! update stream.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_nats::HeaderMap;
use async_nats::jetstream::{self, context::PublishAckFuture, stream};
use futures_util::StreamExt;
use serde::Deserialize;
use tdlib::codec::{Encode, Writer};
use tdlib::enums::Update;
use tdlib::{Client, Event, types};
use tokio::task::JoinHandle;

use crate::secrets::{self, Scrubber};
use crate::{BoxError, subjects};

/// How long the stream recognizes a repeated message id: a publish retried after a lost
/// acknowledgement, or a new message TDLib hands out again after a node died (see
/// [`update_id`]).
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// How long a node waits for TDLib's answer to a request it carries.
const ANSWER_LIMIT: Duration = Duration::from_secs(60);

/// The queue group of the nodes answering an account's requests: one of them answers each.
const NODES: &str = "tdlib-nodes";

/// Acknowledgements awaited at once: publishing does not wait for each before the next (one
/// connection keeps the order), and a failure is still seen.
const IN_FLIGHT: usize = 256;

/// Opens the update stream, creating it (with one replica) if it does not exist.
pub async fn update_stream(nats: &async_nats::Client) -> Result<stream::Stream, BoxError> {
    update_stream_with_replicas(nats, 1).await
}

/// Opens the update stream, creating it with `replicas` copies (on a NATS cluster) if it does
/// not exist.
pub async fn update_stream_with_replicas(
    nats: &async_nats::Client,
    replicas: usize,
) -> Result<stream::Stream, BoxError> {
    let js = jetstream::new(nats.clone());
    Ok(js
        .get_or_create_stream(stream::Config {
            name: subjects::UPDATE_STREAM.into(),
            subjects: vec![subjects::UPDATE_SUBJECTS.into()],
            storage: stream::StorageType::File,
            duplicate_window: DUPLICATE_WINDOW,
            num_replicas: replicas,
            allow_direct: true,
            ..Default::default()
        })
        .await?)
}

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

/// Serves `client` as `account` on `nats`: answers its requests and publishes its updates
/// (starting with its current authorization state, so that a remote client attaching later
/// reads where the login is). Must run inside a tokio runtime.
///
/// This is the plain building block: the client is yours, logged in (or not) by you, and
/// every request is carried except those that would put a secret on NATS
/// ([`secrets::SECRET_FUNCTIONS`]). A [node](crate::node) does all of it from the
/// registration bucket.
pub async fn serve(
    nats: async_nats::Client,
    account: &str,
    client: Client,
) -> Result<Served, BoxError> {
    subjects::check_name("account", account)?;
    update_stream(&nats).await?;
    let publishing = Publishing::start(&nats, account, &client, Scrubber::default(), |_| false);
    if let Some(state) = client.authorization_state() {
        let update = Update::AuthorizationState(types::UpdateAuthorizationState {
            authorization_state: state,
        });
        publishing.publisher.publish(&update).await?;
    }
    let answering = answer_requests(&nats, account, client, Scrubber::default()).await?;
    Ok(Served {
        tasks: vec![publishing.task, answering],
    })
}

/// How many updates of a client a node received and how many the stream has stored.
#[derive(Debug, Default)]
pub struct Counters {
    /// Updates TDLib handed over.
    pub received: AtomicU64,
    /// Updates the stream acknowledged.
    pub stored: AtomicU64,
    /// Of those, updates the stream already had (a new message TDLib handed out again after the
    /// account moved, recognized by its id).
    pub repeated: AtomicU64,
}

/// A client's updates being published.
pub(crate) struct Publishing {
    pub publisher: Arc<Publisher>,
    pub task: JoinHandle<()>,
}

impl Publishing {
    /// Subscribes to `client`'s updates (losing none from now on) and publishes them, except
    /// those `hidden` says are not for NATS.
    pub fn start(
        nats: &async_nats::Client,
        account: &str,
        client: &Client,
        scrubber: Scrubber,
        hidden: impl Fn(&Update) -> bool + Send + 'static,
    ) -> Publishing {
        let updates = client.subscription::<Update>().lossless().subscribe();
        let publisher = Publisher::new(nats.clone(), account, scrubber);
        let task = tokio::spawn(pump_updates(updates, publisher.clone(), hidden));
        Publishing { publisher, task }
    }
}

/// Publishes an account's updates, numbered within this node's session.
pub(crate) struct Publisher {
    js: jetstream::Context,
    account: String,
    session: String,
    sequence: AtomicU64,
    scrubber: Scrubber,
    pub counters: Counters,
}

impl Publisher {
    fn new(nats: async_nats::Client, account: &str, scrubber: Scrubber) -> Arc<Publisher> {
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Arc::new(Publisher {
            js: jetstream::new(nats),
            account: account.to_owned(),
            // Unique per serving session: ids of a new session never collide with an old one's.
            session: format!("{}-{}", started.as_nanos(), std::process::id()),
            sequence: AtomicU64::new(0),
            scrubber,
            counters: Counters::default(),
        })
    }

    pub async fn publish(&self, update: &Update) -> Result<(), BoxError> {
        self.send(update).await?.await?;
        Ok(())
    }

    /// Publishes without waiting for the stream's acknowledgement (the returned future).
    async fn send(&self, update: &Update) -> Result<PublishAckFuture, BoxError> {
        let mut writer = Writer::with_buffer(String::new());
        update.encode(&mut writer);
        let text = self.scrubber.scrub(writer.finish());
        let probe = Probe::of(&text);
        let kind = type_name(&text).unwrap_or("unknown").to_owned();
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
        let id = update_id(&self.account, &self.session, sequence, &kind, &probe);
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", id.as_str());
        let partition = subjects::partition(probe.chat_id());
        Ok(self
            .js
            .publish_with_headers(
                subjects::update(&self.account, &kind, partition),
                headers,
                text.into(),
            )
            .await?)
    }
}

/// What the subject and the id of an update need from it.
#[derive(Deserialize, Default)]
struct Probe {
    chat_id: Option<i64>,
    message: Option<MessageProbe>,
}

#[derive(Deserialize)]
struct MessageProbe {
    chat_id: i64,
    id: i64,
}

impl Probe {
    fn of(json: &str) -> Probe {
        serde_json::from_str(json).unwrap_or_default()
    }

    /// The chat the update is about, if any.
    fn chat_id(&self) -> Option<i64> {
        self.chat_id
            .or_else(|| self.message.as_ref().map(|message| message.chat_id))
    }
}

/// The id of an update (`Nats-Msg-Id`). A new message is named by its chat and id
/// (`<account>:message:<chat>:<id>`): when a node dies, TDLib on the node that takes the account
/// over hands out again the messages after its last saved point, and the stream (within
/// [`DUPLICATE_WINDOW`]) and consumers (by id) recognize them. Other updates are named by the
/// serving session and their number in it (`<account>:<session>:<sequence>`), which tells a
/// redelivery apart from a new update.
fn update_id(account: &str, session: &str, sequence: u64, kind: &str, probe: &Probe) -> String {
    match &probe.message {
        Some(message) if kind == "updateNewMessage" => {
            format!("{account}:message:{}:{}", message.chat_id, message.id)
        }
        _ => format!("{account}:{session}:{sequence}"),
    }
}

/// The `@type` of an object TDLib's way written (`@type` first).
fn type_name(json: &str) -> Option<&str> {
    let rest = json.strip_prefix(r#"{"@type":""#)?;
    Some(&rest[..rest.find('"')?])
}

async fn pump_updates(
    mut updates: tdlib::Subscription<Update>,
    publisher: Arc<Publisher>,
    hidden: impl Fn(&Update) -> bool,
) {
    let mut acks = VecDeque::new();
    let failed = |error: BoxError| {
        tracing::error!(target: "tdlib_nats", account = %publisher.account, %error, "an update could not be published");
    };
    while let Some(event) = updates.recv().await {
        if let Event::Update(update) = event {
            publisher.counters.received.fetch_add(1, Ordering::Relaxed);
            if hidden(update.update()) {
                publisher.counters.stored.fetch_add(1, Ordering::Relaxed);
            } else {
                match publisher.send(update.update()).await {
                    Ok(ack) => acks.push_back(ack),
                    Err(error) => failed(error),
                }
            }
        }
        // Waits for the oldest acknowledgement when many are out, or when nothing else is
        // queued (so that each update is stored before the node idles).
        while acks.len() > IN_FLIGHT || (!acks.is_empty() && updates.is_empty()) {
            if let Some(ack) = acks.pop_front() {
                match ack.await {
                    Ok(ack) => {
                        publisher.counters.stored.fetch_add(1, Ordering::Relaxed);
                        if ack.duplicate {
                            publisher.counters.repeated.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(error) => failed(error.into()),
                }
            }
        }
    }
}

/// Answers `account`'s requests with `client` (a task; subscribed before it returns).
pub(crate) async fn answer_requests(
    nats: &async_nats::Client,
    account: &str,
    client: Client,
    scrubber: Scrubber,
) -> Result<JoinHandle<()>, BoxError> {
    let mut requests = nats
        .queue_subscribe(subjects::rpc(account), NODES.to_owned())
        .await?;
    nats.flush().await?;
    let nats = nats.clone();
    Ok(tokio::spawn(async move {
        while let Some(message) = requests.next().await {
            let Some(reply) = message.reply.clone() else {
                continue;
            };
            let client = client.clone();
            let nats = nats.clone();
            let scrubber = scrubber.clone();
            tokio::spawn(async move {
                let answer = scrubber.scrub(answer(&client, &message.payload).await);
                if let Err(error) = nats.publish(reply, answer.into()).await {
                    tracing::warn!(target: "tdlib_nats", %error, "an answer could not be sent");
                }
            });
        }
    }))
}

fn error(code: i32, message: &str) -> String {
    serde_json::json!({"@type": "error", "code": code, "message": message}).to_string()
}

/// TDLib's answer to one request, as JSON; refusals as TDLib's `error` objects.
async fn answer(client: &Client, request: &[u8]) -> String {
    let Ok(text) = std::str::from_utf8(request) else {
        return error(400, "the request is not UTF-8");
    };
    if let Some(function) = secrets::secret_function(text) {
        return error(
            400,
            &format!(
                "{function} carries a secret and is not taken over NATS: it is done by the node \
                 from the account's registration"
            ),
        );
    }
    let Ok(request) = serde_json::from_str::<serde_json::Value>(text) else {
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
    use super::*;

    #[test]
    fn type_names_of_tdlib_json() {
        assert_eq!(
            type_name(r#"{"@type":"updateOption","name":"x"}"#),
            Some("updateOption")
        );
        assert_eq!(type_name(r#"{"name":"x"}"#), None);
    }

    #[test]
    fn new_messages_are_named_by_chat_and_id_and_other_updates_by_session() {
        let message = r#"{"@type":"updateNewMessage","message":{"@type":"message","id":1048576,"sender_id":{"@type":"messageSenderChat","chat_id":-5},"chat_id":77}}"#;
        let probe = Probe::of(message);
        assert_eq!(probe.chat_id(), Some(77));
        assert_eq!(
            update_id("a", "s", 9, "updateNewMessage", &probe),
            "a:message:77:1048576"
        );
        let read = Probe::of(r#"{"@type":"updateChatReadInbox","chat_id":-100,"unread_count":0}"#);
        assert_eq!(read.chat_id(), Some(-100));
        assert_eq!(
            update_id("a", "s", 9, "updateChatReadInbox", &read),
            "a:s:9"
        );
        let option = Probe::of(r#"{"@type":"updateOption","name":"x"}"#);
        assert_eq!(option.chat_id(), None);
        assert_eq!(Probe::of("not json").chat_id(), None);
    }
}
