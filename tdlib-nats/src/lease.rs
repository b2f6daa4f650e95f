//! Leases: which node holds which account, and which nodes are alive, in a key-value bucket
//! whose values expire.
//!
//! A node claims an account by creating its key (`account.<name>`; only one create of a key
//! succeeds) and renews it by updating it at the revision it last wrote (an update at a stale
//! revision fails, so a node that lost its lease learns it at its next renewal). Values live
//! for the bucket's `max_age`, the lease time: a node that stops renewing (killed, cut off)
//! loses its accounts that long after its last renewal, and the other nodes claim them. Nodes
//! announce themselves under `node.<name>` the same way.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_nats::jetstream::{self, kv};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};

use crate::{BoxError, bucket, subjects};

/// What a lease says about its account (no secret: anyone who may read the bucket sees it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The node holding it.
    pub node: String,
    /// When the node claimed it (Unix seconds).
    pub since: u64,
    /// The account's authorization state, as TDLib names it without `authorizationState`
    /// (`Ready`, `WaitCode`, ...), or `Starting`.
    pub state: String,
    /// Updates TDLib handed the node so far.
    pub received: u64,
    /// Of those, updates stored in the stream (or that are not for it).
    pub stored: u64,
    /// Of those, updates the stream already had (new messages TDLib handed out again after the
    /// account moved, recognized by their ids and stored once).
    #[serde(default)]
    pub repeated: u64,
    /// A random token of this claim: a node whose renewal was stored but whose answer was lost
    /// recognizes its own lease by it.
    #[serde(default)]
    pub token: String,
}

/// A live node, as it announces itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Its name.
    pub node: String,
    /// How many accounts it holds.
    pub accounts: usize,
    /// When it started (Unix seconds).
    #[serde(default)]
    pub started: u64,
}

/// What a renewal found.
#[derive(Debug, PartialEq, Eq)]
pub enum Renewal {
    /// Still held; the lease's new revision.
    Renewed(u64),
    /// Another node holds it now (or it expired and was claimed): stop serving it at once.
    Lost,
}

/// The leases bucket.
#[derive(Clone)]
pub struct Leases {
    kv: kv::Store,
    ttl: Duration,
}

impl std::fmt::Debug for Leases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leases").field("ttl", &self.ttl).finish()
    }
}

fn account_key(account: &str) -> String {
    format!("account.{account}")
}

fn node_key(node: &str) -> String {
    format!("node.{node}")
}

/// Now, in Unix seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

impl Leases {
    /// Opens the bucket; if it does not exist, creates it with leases of `ttl`. The lease time
    /// is the bucket's: a bucket made earlier with another one keeps it (see
    /// [`Leases::ttl`]).
    pub async fn open(nats: &async_nats::Client, ttl: Duration) -> Result<Leases, BoxError> {
        Leases::open_with_replicas(nats, ttl, 1).await
    }

    /// Like [`Leases::open`], creating the bucket with `replicas` copies if needed.
    pub async fn open_with_replicas(
        nats: &async_nats::Client,
        ttl: Duration,
        replicas: usize,
    ) -> Result<Leases, BoxError> {
        if ttl < Duration::from_secs(1) {
            return Err("the lease time must be at least 1 s".into());
        }
        let js = jetstream::new(nats.clone());
        let (kv, ttl) = bucket::open(&js, subjects::LEASES_BUCKET, ttl, replicas).await?;
        if ttl.is_zero() {
            return Err(format!(
                "the bucket {} exists without a lease time; remove it (nats kv rm) and start again",
                subjects::LEASES_BUCKET
            )
            .into());
        }
        Ok(Leases { kv, ttl })
    }

    /// Opens the bucket if a node created it (`None` if none has run yet).
    pub async fn open_existing(nats: &async_nats::Client) -> Result<Option<Leases>, BoxError> {
        let js = jetstream::new(nats.clone());
        let opened = bucket::open_existing(&js, subjects::LEASES_BUCKET).await?;
        Ok(opened.map(|(kv, ttl)| Leases { kv, ttl }))
    }

    /// How long a lease lives without renewal.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Claims `account`: its lease's revision, or `None` if another node holds it.
    pub async fn claim(&self, account: &str, holder: &Holder) -> Result<Option<u64>, BoxError> {
        let value = serde_json::to_vec(holder)?;
        match self.kv.create(account_key(account), value.into()).await {
            Ok(revision) => Ok(Some(revision)),
            Err(error) if error.kind() == kv::CreateErrorKind::AlreadyExists => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Renews the lease on `account` last written at `revision` (`holder.token` is the claim's).
    pub async fn renew(
        &self,
        account: &str,
        holder: &Holder,
        revision: u64,
    ) -> Result<Renewal, BoxError> {
        let value: bytes::Bytes = serde_json::to_vec(holder)?.into();
        let key = account_key(account);
        match self.kv.update(&key, value.clone(), revision).await {
            Ok(revision) => Ok(Renewal::Renewed(revision)),
            Err(error) if error.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                // Our last renewal may have been stored with its answer lost: the lease is
                // still ours if it carries our token.
                let Some(entry) = self.kv.entry(&key).await? else {
                    return Ok(Renewal::Lost);
                };
                let ours = entry.operation == kv::Operation::Put
                    && serde_json::from_slice::<Holder>(&entry.value)
                        .is_ok_and(|current| current.token == holder.token);
                if !ours {
                    return Ok(Renewal::Lost);
                }
                match self.kv.update(&key, value, entry.revision).await {
                    Ok(revision) => Ok(Renewal::Renewed(revision)),
                    Err(error) if error.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                        Ok(Renewal::Lost)
                    }
                    Err(error) => Err(error.into()),
                }
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Gives up the lease on `account` (if it is still at `revision`, that is, still ours).
    pub async fn release(&self, account: &str, revision: u64) -> Result<(), BoxError> {
        self.kv
            .delete_expect_revision(account_key(account), Some(revision))
            .await?;
        Ok(())
    }

    /// Who holds `account`, if anyone.
    pub async fn holder(&self, account: &str) -> Result<Option<Holder>, BoxError> {
        let Some(value) = self.kv.get(account_key(account)).await? else {
            return Ok(None);
        };
        Ok(serde_json::from_slice(&value).ok())
    }

    /// Says that `node` (started at `started`, Unix seconds) is alive and holds `accounts`
    /// accounts.
    pub async fn announce(
        &self,
        node: &str,
        accounts: usize,
        started: u64,
    ) -> Result<(), BoxError> {
        let info = NodeInfo {
            node: node.to_owned(),
            accounts,
            started,
        };
        self.kv
            .put(node_key(node), serde_json::to_vec(&info)?.into())
            .await?;
        Ok(())
    }

    /// Says that `node` stopped.
    pub async fn retire(&self, node: &str) -> Result<(), BoxError> {
        self.kv.delete(node_key(node)).await?;
        Ok(())
    }

    /// The nodes alive (announced within the lease time).
    pub async fn nodes(&self) -> Result<Vec<NodeInfo>, BoxError> {
        let keys: Vec<String> = self.kv.keys().await?.try_collect().await?;
        // A key written while the listing runs can be listed twice: a set.
        let names: std::collections::BTreeSet<String> = keys
            .into_iter()
            .filter(|key| key.starts_with("node."))
            .collect();
        let mut nodes = Vec::new();
        for key in names {
            // Gone meanwhile, or not ours to read: not alive.
            if let Ok(Some(value)) = self.kv.get(&key).await
                && let Ok(info) = serde_json::from_slice::<NodeInfo>(&value)
            {
                nodes.push(info);
            }
        }
        Ok(nodes)
    }
}
