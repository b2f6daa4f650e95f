//! Reading the update stream: durable consumers that catch up after a stop, shared by several
//! workers when they use one name.

use std::time::Duration;

use async_nats::jetstream::consumer::{self, AckPolicy, DeliverPolicy};
use async_nats::jetstream::{self, AckKind};
use futures_util::StreamExt;
use tdlib::codec::Decode;
use tdlib::enums::Update;

use crate::{BoxError, node, subjects};

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
    /// The id the node gave it (`<account>:<session>:<sequence>`): the same id twice is one
    /// update delivered twice.
    pub id: String,
    /// The account it is of.
    pub account: String,
    /// Its place in the stream.
    pub stream_sequence: u64,
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
            .finish_non_exhaustive()
    }
}

impl Delivered {
    /// Acknowledges it: it is not delivered again.
    pub async fn ack(&self) -> Result<(), BoxError> {
        self.message.ack().await
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
        if !subjects::is_valid_account(name) {
            return Err(format!("not a valid consumer name: {name:?}").into());
        }
        if account != "*" && !subjects::is_valid_account(account) {
            return Err(format!("not a valid account name: {account:?}").into());
        }
        let stream = node::update_stream(&nats).await?;
        let consumer: consumer::PullConsumer = stream
            .get_or_create_consumer(
                name,
                consumer::pull::Config {
                    durable_name: Some(name.to_owned()),
                    filter_subject: format!("tdlib.{account}.update.>"),
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
        Some(delivered(message))
    }
}

fn delivered(message: jetstream::Message) -> Result<Delivered, BoxError> {
    let stream_sequence = message.info()?.stream_sequence;
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
    let text = std::str::from_utf8(&message.payload)?;
    let update = Update::from_json(text)?;
    Ok(Delivered {
        id,
        account,
        stream_sequence,
        update,
        message,
    })
}
