//! Reading the update stream: durable consumers that catch up after a stop, and work queues
//! that share the updates among workers while keeping each chat's order.
//!
//! A plain NATS subscription to [`subjects::updates`] is the third way (fan-out: every
//! subscriber gets every update published while it listens, nothing is kept for it).

use std::time::Duration;

use async_nats::jetstream::consumer::{self, AckPolicy, DeliverPolicy};
use async_nats::jetstream::{self, AckKind};
use futures_util::StreamExt;
use tdlib::codec::Decode;
use tdlib::enums::Update;

use crate::{BoxError, serving, subjects};

/// How long a delivered update may stay unacknowledged before it is delivered again.
pub const ACK_WAIT: Duration = Duration::from_secs(30);

/// How long a worker's request for more updates stays valid at the server.
pub const PULL_EXPIRES: Duration = Duration::from_secs(2);

/// A durable consumer of one account's updates (or of every account's, with `*`): it keeps its
/// place in the stream while it is stopped, and continues from there. Workers that open it
/// under the same name share its updates (each goes to one of them).
pub struct Durable {
    messages: consumer::pull::Stream,
}

impl std::fmt::Debug for Durable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Durable").finish_non_exhaustive()
    }
}

/// One update from the stream; acknowledge it once handled ([`Delivered::ack`]), or it comes
/// again.
pub struct Delivered {
    /// The id the node gave it: `<account>:message:<chat>:<message id>` for a new message,
    /// `<account>:<session>:<sequence>` for other updates. The same id twice is one update
    /// delivered twice (a redelivery, or a new message TDLib handed out again after its account
    /// moved, if that happened after the stream's duplicate window): skip it.
    pub id: String,
    /// The account it is of.
    pub account: String,
    /// Its place in the stream.
    pub stream_sequence: u64,
    /// Whether it was delivered before (and not acknowledged in time).
    pub redelivered: bool,
    /// The update.
    pub update: Update,
    message: jetstream::Message,
}

impl std::fmt::Debug for Delivered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivered")
            .field("id", &self.id)
            .field("account", &self.account)
            .field("stream_sequence", &self.stream_sequence)
            .field("redelivered", &self.redelivered)
            .finish_non_exhaustive()
    }
}

impl Delivered {
    /// Acknowledges it: it is not delivered again.
    pub async fn ack(&self) -> Result<(), BoxError> {
        self.message.ack().await
    }

    /// Says it is still being handled: its acknowledgement wait ([`ACK_WAIT`]) starts again,
    /// so that it is not delivered to another worker meanwhile. Call it every
    /// [`ACK_WAIT`] / 3 or so during work that may last longer than that.
    pub async fn in_progress(&self) -> Result<(), BoxError> {
        self.message.ack_with(AckKind::Progress).await
    }

    /// Hands it back for another delivery (after a failure to handle it).
    pub async fn retry(&self) -> Result<(), BoxError> {
        self.message.ack_with(AckKind::Nak(None)).await
    }
}

impl Durable {
    /// Opens (or creates) the durable consumer `name` of `account`'s updates (`*`: every
    /// account). A new one starts at the beginning of the stream.
    pub async fn open(
        nats: async_nats::Client,
        name: &str,
        account: &str,
    ) -> Result<Durable, BoxError> {
        subjects::check_name("consumer", name)?;
        check_account(account)?;
        let stream = serving::update_stream(&nats).await?;
        let consumer = durable(
            &stream,
            consumer::pull::Config {
                durable_name: Some(name.to_owned()),
                filter_subject: subjects::updates(account),
                deliver_policy: DeliverPolicy::All,
                ack_policy: AckPolicy::Explicit,
                ack_wait: ACK_WAIT,
                ..Default::default()
            },
        )
        .await?;
        // A batch at a time, so that workers sharing the consumer share the load.
        let messages = consumer
            .stream()
            .max_messages_per_batch(100)
            .expires(PULL_EXPIRES)
            .messages()
            .await?;
        Ok(Durable { messages })
    }

    /// The next update; `None` when the stream ended (the connection closed for good).
    pub async fn next(&mut self) -> Option<Result<Delivered, BoxError>> {
        let message = match self.messages.next().await? {
            Ok(message) => message,
            Err(error) => return Some(Err(error.into())),
        };
        Some(delivered(message).await)
    }
}

/// Opens the durable consumer `config` describes, creating it if needed; one of that name made
/// for other updates (another account) is refused, not read.
async fn durable(
    stream: &async_nats::jetstream::stream::Stream,
    config: consumer::pull::Config,
) -> Result<consumer::PullConsumer, BoxError> {
    let name = config.durable_name.clone().unwrap_or_default();
    let wanted = config.filter_subject.clone();
    let mut consumer: consumer::PullConsumer = stream.get_or_create_consumer(&name, config).await?;
    let filter = consumer.info().await?.config.filter_subject.clone();
    if filter != wanted {
        return Err(format!(
            "the consumer {name} exists for {filter}, not {wanted}: choose another name, or \
             delete it"
        )
        .into());
    }
    Ok(consumer)
}

fn check_account(account: &str) -> Result<(), BoxError> {
    if account == "*" {
        Ok(())
    } else {
        subjects::check_name("account", account)
    }
}

/// An update from its message. A message that is not a TDLib update (not published by a node)
/// is set aside for good (terminated, so it does not come back after every wait) and reported.
async fn delivered(message: jetstream::Message) -> Result<Delivered, BoxError> {
    let info = message.info()?;
    let stream_sequence = info.stream_sequence;
    let redelivered = info.delivered > 1;
    let update = match std::str::from_utf8(&message.payload)
        .map_err(BoxError::from)
        .and_then(|text| Update::from_json(text).map_err(BoxError::from))
    {
        Ok(update) => update,
        Err(error) => {
            let subject = message.subject.to_string();
            message.ack_with(AckKind::Term).await?;
            return Err(format!(
                "message {stream_sequence} of the stream ({subject}) is not a TDLib update and \
                 was set aside: {error}"
            )
            .into());
        }
    };
    let id = message
        .headers
        .as_ref()
        .and_then(|headers| headers.get("Nats-Msg-Id"))
        .map(|id| id.as_str().to_owned())
        .unwrap_or_default();
    let account = message
        .subject
        .split('.')
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    Ok(Delivered {
        id,
        account,
        stream_sequence,
        redelivered,
        update,
        message,
    })
}

/// How many updates a work queue worker holds ready at once.
const WORKER_BUFFER: usize = 64;

/// A worker of a work queue: the workers that join one group share the group's updates, and
/// each chat's updates are handled one at a time, in order. A worker handles what it got in
/// the order it got it; one that works longer than [`ACK_WAIT`] on an update says so with
/// [`Delivered::in_progress`] (updates still waiting for it are kept by the worker itself).
///
/// The group is one durable consumer per partition ([`subjects::PARTITIONS`];
/// `<group>-<partition>`) that lets one update at a time be unacknowledged: the next update of
/// a partition (so of a chat) is delivered, to whichever worker asks first, once the one before
/// was acknowledged. A worker that stops without acknowledging gives its update back after
/// [`ACK_WAIT`]. Up to [`subjects::PARTITIONS`] chats are handled at once, by as many workers.
pub struct WorkQueue {
    updates: tokio::sync::mpsc::Receiver<Result<Delivered, BoxError>>,
    pulls: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for WorkQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkQueue").finish_non_exhaustive()
    }
}

impl Drop for WorkQueue {
    fn drop(&mut self) {
        for pull in &self.pulls {
            pull.abort();
        }
    }
}

impl WorkQueue {
    /// Joins work queue `group` of `account`'s updates (`*`: every account's), creating it if
    /// needed (a new group starts at the beginning of the stream).
    pub async fn join(
        nats: async_nats::Client,
        group: &str,
        account: &str,
    ) -> Result<WorkQueue, BoxError> {
        subjects::check_name("group", group)?;
        check_account(account)?;
        let stream = serving::update_stream(&nats).await?;
        let (sender, updates) = tokio::sync::mpsc::channel(WORKER_BUFFER);
        let mut pulls = Vec::new();
        for partition in 0..subjects::PARTITIONS {
            let name = format!("{group}-{partition}");
            let consumer = durable(
                &stream,
                consumer::pull::Config {
                    durable_name: Some(name.clone()),
                    filter_subject: subjects::partition_updates(account, partition),
                    deliver_policy: DeliverPolicy::All,
                    ack_policy: AckPolicy::Explicit,
                    ack_wait: ACK_WAIT,
                    // One at a time per partition: each chat's order is kept across workers.
                    max_ack_pending: 1,
                    ..Default::default()
                },
            )
            .await?;
            let mut messages = consumer
                .stream()
                .max_messages_per_batch(1)
                .expires(PULL_EXPIRES)
                .messages()
                .await?;
            let sender = sender.clone();
            pulls.push(tokio::spawn(async move {
                while let Some(message) = messages.next().await {
                    let delivered = match message {
                        Ok(message) => delivered(message).await,
                        Err(error) => Err(error.into()),
                    };
                    // Waiting for the worker to take it (it handles one at a time): its
                    // acknowledgement wait must not run out meanwhile, or another worker
                    // would get it while this one still holds it.
                    let permit = loop {
                        tokio::select! {
                            permit = sender.reserve() => break permit,
                            () = tokio::time::sleep(ACK_WAIT / 3) => {
                                if let Ok(delivered) = &delivered {
                                    let _ = delivered.in_progress().await;
                                }
                            }
                        }
                    };
                    let Ok(permit) = permit else {
                        return;
                    };
                    permit.send(delivered);
                }
            }));
        }
        Ok(WorkQueue { updates, pulls })
    }

    /// The next update for this worker; acknowledge it once handled ([`Delivered::ack`]): the
    /// next update of its chat waits for that.
    pub async fn next(&mut self) -> Option<Result<Delivered, BoxError>> {
        self.updates.recv().await
    }
}
