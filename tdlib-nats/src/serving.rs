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
/// [`Delivered::id`](crate::consumer::Delivered::id)).
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// How long a node waits for TDLib's answer to a request it carries.
const ANSWER_LIMIT: Duration = Duration::from_secs(60);

/// Requests of one account a node carries at once; more are refused at once with 429.
const MAX_CARRIED: usize = 4096;

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
    let publishing = Publishing::start(&nats, account, &client, Scrubber::default(), None, |_| {
        false
    });
    if let Some(state) = client.authorization_state() {
        let update = Update::AuthorizationState(types::UpdateAuthorizationState {
            authorization_state: state,
        });
        publishing.publisher.publish(&update).await?;
    }
    let answering = answer_requests(&nats, account, client, Scrubber::default(), None).await?;
    Ok(Served {
        tasks: vec![publishing.task, answering],
    })
}

/// Until when a node has proven its lease on an account (see [`crate::node`]); shared by the
/// account's fence, its publishing and its answering.
pub(crate) type Deadline = Arc<std::sync::Mutex<std::time::Instant>>;

/// Whether `deadline` (if any) has passed: the node may no longer act for the account.
fn expired(deadline: Option<&Deadline>) -> bool {
    deadline.is_some_and(|deadline| {
        std::time::Instant::now()
            >= *deadline
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
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
        deadline: Option<Deadline>,
        hidden: impl Fn(&Update) -> bool + Send + 'static,
    ) -> Publishing {
        let updates = client.subscription::<Update>().lossless().subscribe();
        let publisher = Publisher::new(nats.clone(), account, scrubber, deadline);
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
    deadline: Option<Deadline>,
    pub counters: Counters,
}

impl Publisher {
    fn new(
        nats: async_nats::Client,
        account: &str,
        scrubber: Scrubber,
        deadline: Option<Deadline>,
    ) -> Arc<Publisher> {
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
            deadline,
            counters: Counters::default(),
        })
    }

    pub async fn publish(&self, update: &Update) -> Result<(), BoxError> {
        let prepared = self.prepare(update);
        self.send(&prepared).await?.await?;
        Ok(())
    }

    /// The subject, id and text of an update (numbered now: a retry keeps its id).
    fn prepare(&self, update: &Update) -> Prepared {
        let mut writer = Writer::with_buffer(String::new());
        update.encode(&mut writer);
        let text = self.scrubber.scrub(writer.finish());
        let probe = Probe::of(&text);
        let kind = type_name(&text).unwrap_or("unknown").to_owned();
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
        let id = update_id(&self.account, &self.session, sequence, &kind, &probe);
        let partition = subjects::partition(probe.chat_id());
        Prepared {
            subject: subjects::update(&self.account, &kind, partition),
            id,
            text: text.into(),
        }
    }

    /// Publishes without waiting for the stream's acknowledgement (the returned future).
    async fn send(&self, prepared: &Prepared) -> Result<PublishAckFuture, BoxError> {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", prepared.id.as_str());
        Ok(self
            .js
            .publish_with_headers(prepared.subject.clone(), headers, prepared.text.clone())
            .await?)
    }

    /// Publishes `prepared` until the stream has it (the same id each time, so a publish that
    /// was stored but whose acknowledgement was lost is not stored twice).
    async fn send_until_stored(&self, prepared: &Prepared) {
        let mut pause = Duration::from_millis(100);
        loop {
            if expired(self.deadline.as_ref()) {
                return;
            }
            let stored = match self.send(prepared).await {
                Ok(ack) => ack.await.map_err(BoxError::from),
                Err(error) => Err(error),
            };
            match stored {
                Ok(ack) => {
                    self.counters.stored.fetch_add(1, Ordering::Relaxed);
                    if ack.duplicate {
                        self.counters.repeated.fetch_add(1, Ordering::Relaxed);
                    }
                    return;
                }
                Err(error) => {
                    tracing::warn!(target: "tdlib_nats", account = %self.account, %error,
                        "an update could not be stored; trying again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
            }
        }
    }
}

/// An update ready to publish.
pub(crate) struct Prepared {
    subject: String,
    id: String,
    text: bytes::Bytes,
}

/// What the subject and the id of an update need from it: the chat it is about (`chat_id`,
/// else `message.chat_id`, else `chat.id` as in `updateNewChat`) and a new message's id. Every
/// field optional, so that an unexpected shape of one does not hide the others.
#[derive(Deserialize, Default)]
struct Probe {
    chat_id: Option<i64>,
    message: Option<MessageProbe>,
    chat: Option<ChatProbe>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MessageProbe {
    chat_id: Option<i64>,
    id: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChatProbe {
    id: Option<i64>,
}

impl Probe {
    fn of(json: &str) -> Probe {
        serde_json::from_str(json).unwrap_or_default()
    }

    /// The chat the update is about, if any.
    fn chat_id(&self) -> Option<i64> {
        self.chat_id
            .or_else(|| self.message.as_ref().and_then(|message| message.chat_id))
            .or_else(|| self.chat.as_ref().and_then(|chat| chat.id))
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
        Some(MessageProbe {
            chat_id: Some(chat_id),
            id: Some(id),
        }) if kind == "updateNewMessage" => format!("{account}:message:{chat_id}:{id}"),
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
    // Published, acknowledgement awaited later, in order.
    let mut in_flight: VecDeque<(Prepared, Option<PublishAckFuture>)> = VecDeque::new();
    while let Some(event) = updates.recv().await {
        if expired(publisher.deadline.as_ref()) {
            // The lease is no longer proven: another node may serve the account now.
            return;
        }
        if let Event::Update(update) = event {
            publisher.counters.received.fetch_add(1, Ordering::Relaxed);
            if hidden(update.update()) {
                publisher.counters.stored.fetch_add(1, Ordering::Relaxed);
            } else {
                let prepared = publisher.prepare(update.update());
                // After a failure, everything goes through the retry below, in order.
                let ack = if in_flight.iter().any(|(_, ack)| ack.is_none()) {
                    None
                } else {
                    publisher.send(&prepared).await.ok()
                };
                in_flight.push_back((prepared, ack));
            }
        }
        // Waits for the oldest acknowledgement when many are out, or when nothing else is
        // queued (so that each update is stored before the node idles).
        while in_flight.len() > IN_FLIGHT || (!in_flight.is_empty() && updates.is_empty()) {
            let Some((prepared, ack)) = in_flight.pop_front() else {
                break;
            };
            let stored = match ack {
                Some(ack) => ack.await.ok(),
                None => None,
            };
            match stored {
                Some(ack) => {
                    publisher.counters.stored.fetch_add(1, Ordering::Relaxed);
                    if ack.duplicate {
                        publisher.counters.repeated.fetch_add(1, Ordering::Relaxed);
                    }
                }
                None => {
                    // Not stored (or not known to be): it and every later one in flight again,
                    // in order, each until stored. Ids make the ones already stored harmless.
                    publisher.send_until_stored(&prepared).await;
                    for (later, _) in std::mem::take(&mut in_flight) {
                        publisher.send_until_stored(&later).await;
                    }
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
    deadline: Option<Deadline>,
) -> Result<JoinHandle<()>, BoxError> {
    let mut requests = nats
        .queue_subscribe(subjects::rpc(account), NODES.to_owned())
        .await?;
    nats.flush().await?;
    let nats = nats.clone();
    Ok(tokio::spawn(async move {
        // The requests being carried: aborted with this task (when the account stops).
        let mut carried = tokio::task::JoinSet::new();
        while let Some(message) = requests.next().await {
            while carried.try_join_next().is_some() {}
            let Some(reply) = message.reply.clone() else {
                continue;
            };
            if expired(deadline.as_ref()) {
                // Not carried: another node may hold the account now.
                let moving = error(503, "the account is moving to another node; try again");
                if let Err(error) = nats.publish(reply, moving.into()).await {
                    tracing::warn!(target: "tdlib_nats", %error, "an answer could not be sent");
                }
                continue;
            }
            if carried.len() >= MAX_CARRIED {
                let busy = error(
                    429,
                    "Too Many Requests: the node carries too many for this account",
                );
                if let Err(error) = nats.publish(reply, busy.into()).await {
                    tracing::warn!(target: "tdlib_nats", %error, "an answer could not be sent");
                }
                continue;
            }
            let client = client.clone();
            let nats = nats.clone();
            let scrubber = scrubber.clone();
            carried.spawn(async move {
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
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(request) else {
        return error(400, "the request is not JSON");
    };
    // Judged on the decoded value, which is what TDLib is sent.
    let function = request.get("@type").and_then(serde_json::Value::as_str);
    if let Some(function) = function.and_then(secrets::secret_name) {
        return error(
            400,
            &format!(
                "{function} carries a secret and is not taken over NATS: it is done by the node \
                 from the account's registration"
            ),
        );
    }
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
        let chat = Probe::of(r#"{"@type":"updateNewChat","chat":{"@type":"chat","id":-7}}"#);
        assert_eq!(chat.chat_id(), Some(-7));
        let odd = Probe::of(r#"{"@type":"updateX","chat_id":5,"message":"not an object"}"#);
        assert_eq!(odd.chat_id(), None, "not readable: no partition");
        let partial = Probe::of(r#"{"@type":"updateX","message":{"chat_id":9,"id":"s"}}"#);
        assert_eq!(partial.chat_id(), None);
        let option = Probe::of(r#"{"@type":"updateOption","name":"x"}"#);
        assert_eq!(option.chat_id(), None);
        assert_eq!(Probe::of("not json").chat_id(), None);
    }
}
