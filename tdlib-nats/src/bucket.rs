//! Key-value buckets, created the way every JetStream server since 2.9 accepts.
//!
//! `async_nats`'s own bucket creation asks for settings that servers before 2.10 refuse, so a
//! bucket's stream is created here with the settings a key-value bucket needs (one value per key
//! kept, roll-ups allowed, direct reads) and then opened as a bucket.

use std::time::Duration;

use async_nats::jetstream::{self, kv, stream};

use crate::BoxError;

/// Opens bucket `name`, creating it if it does not exist. `max_age` (zero: forever) is how long
/// a value lives after it was written; it applies to the whole bucket and is fixed by whoever
/// creates it, like `replicas` (copies on a NATS cluster). Returns the bucket and its `max_age`.
pub async fn open(
    js: &jetstream::Context,
    name: &str,
    max_age: Duration,
    replicas: usize,
) -> Result<(kv::Store, Duration), BoxError> {
    for _ in 0..3 {
        if let Some(opened) = open_existing(js, name).await? {
            return Ok(opened);
        }
        let created = js
            .create_stream(stream::Config {
                name: format!("KV_{name}"),
                subjects: vec![format!("$KV.{name}.>")],
                max_messages_per_subject: 1,
                max_age,
                storage: stream::StorageType::File,
                allow_rollup: true,
                deny_delete: true,
                allow_direct: true,
                discard: stream::DiscardPolicy::New,
                num_replicas: replicas,
                ..Default::default()
            })
            .await;
        match created {
            Ok(_) => return Ok((js.get_key_value(name).await?, max_age)),
            // Another process created it meanwhile: open theirs.
            Err(_) => continue,
        }
    }
    Err(format!("the key-value bucket {name} can be neither opened nor created").into())
}

/// Opens bucket `name` if it exists (`None` if not), with its `max_age`; creates nothing.
pub async fn open_existing(
    js: &jetstream::Context,
    name: &str,
) -> Result<Option<(kv::Store, Duration)>, BoxError> {
    let Ok(mut stream) = js.get_stream(format!("KV_{name}")).await else {
        return Ok(None);
    };
    let max_age = stream.info().await?.config.max_age;
    Ok(Some((js.get_key_value(name).await?, max_age)))
}
