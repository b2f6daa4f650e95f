//! A node: serves the registered accounts it holds leases on, and shares them with the other
//! nodes.
//!
//! Every lease time / 3 a node:
//! 1. announces itself (`node.<name>` in the leases bucket);
//! 2. renews its leases; a lease found taken by another node, or not renewed for 2/3 of the
//!    lease time (NATS out of reach), stops its account at once: the node never serves an
//!    account it cannot prove it still holds;
//! 3. stops accounts that were unregistered or whose TDLib client closed (a log out), releasing
//!    their leases;
//! 4. takes its fair share: with M accounts and N live nodes it holds at most ⌈M / N⌉; above
//!    that it releases one account per round (another node takes it), below it claims free
//!    accounts.
//!
//! Starting an account: its folder `<data>/<account>` is locked (`lock`, an advisory file lock
//! held while the account runs, so that two processes never open one TDLib database even if
//! their leases disagree), a TDLib client is created, its updates are published from the
//! start, the registration's parameters and login (bot token or phone number) are sent by the
//! node itself, and then its requests are answered. The authorization states the node answers
//! itself (`WaitTdlibParameters`, `WaitPhoneNumber`) and those of its stops (`Closing`,
//! `Closed`: the account moves, it does not end) are not published.
//!
//! A node that dies loses its leases one lease time after its last renewal; the others claim
//! its accounts within one more round. The data folder must be the same for all nodes (a shared
//! directory on several machines, with working file locks: a local disk, NFSv4, CephFS).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tdlib::enums::{AuthorizationState, Update};
use tdlib::{Client, functions};
use tokio::task::JoinHandle;

use crate::lease::{Holder, Leases, Renewal, unix_now};
use crate::registry::{Login, Registration, Registry, SecretKey};
use crate::secrets::Scrubber;
use crate::serving::{self, Publisher, Publishing};
use crate::{BoxError, subjects};

/// How a node runs.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The node's name, unique among the nodes (letters, digits, `-` and `_`).
    pub name: String,
    /// The folder of the accounts' databases, `<data>/<account>`, shared by all nodes.
    pub data: PathBuf,
    /// The registration bucket's key.
    pub key: SecretKey,
    /// How long a lease lives without renewal, if this node creates the leases bucket (else the
    /// bucket's own lease time applies).
    pub lease_time: Duration,
    /// Copies of the stream and buckets, if this node creates them (3 on a NATS cluster of
    /// three; 1 on a single server).
    pub replicas: usize,
}

/// How long a stopping account may take to close its TDLib client and store its last updates.
const STOP_LIMIT: Duration = Duration::from_secs(10);

/// How long a node leaves an account alone after failing to start it (a registration TDLib
/// refuses, a folder another process holds), rather than trying every round.
const START_RETRY: Duration = Duration::from_secs(30);

/// Runs a node until `shutdown` completes, then stops its accounts (closing their TDLib
/// clients) and releases their leases, so that other nodes take them at once.
pub async fn run(
    nats: async_nats::Client,
    config: NodeConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), BoxError> {
    subjects::check_name("node", &config.name)?;
    std::fs::create_dir_all(&config.data).map_err(|error| {
        format!(
            "cannot create the data folder {}: {error}",
            config.data.display()
        )
    })?;
    serving::update_stream_with_replicas(&nats, config.replicas).await?;
    let registry = Registry::open_with_replicas(&nats, config.key.clone(), config.replicas).await?;
    let leases = Leases::open_with_replicas(&nats, config.lease_time, config.replicas).await?;
    if leases.ttl() != config.lease_time {
        tracing::warn!(target: "tdlib_nats", bucket = ?leases.ttl(), configured = ?config.lease_time,
            "the leases bucket has another lease time, which applies");
    }
    let round = leases.ttl() / 3;
    tracing::info!(target: "tdlib_nats", node = %config.name, lease_time = ?leases.ttl(), "node started");
    let mut node = Node {
        nats,
        registry,
        leases,
        config,
        held: BTreeMap::new(),
        failed: HashMap::new(),
    };
    tokio::pin!(shutdown);
    let mut rounds = 0u64;
    loop {
        // The first round only announces: nodes started together see each other before any
        // of them takes its share. A round waits for NATS, which may be gone: the shutdown
        // does not wait for it (an account being claimed then is dropped, its lease expires).
        tokio::select! {
            () = &mut shutdown => break,
            () = node.round(rounds > 0) => {}
        }
        rounds += 1;
        tokio::select! {
            () = &mut shutdown => break,
            () = tokio::time::sleep(round) => {}
        }
    }
    let name = node.config.name.clone();
    let stopping = async {
        let names: Vec<String> = node.held.keys().cloned().collect();
        for name in names {
            node.stop(&name, true).await;
        }
        if let Err(error) = node.leases.retire(&node.config.name).await {
            tracing::warn!(target: "tdlib_nats", %error, "the node could not say it stopped");
        }
    };
    // Each account's TDLib closes within STOP_LIMIT; NATS may not answer at all.
    if tokio::time::timeout(STOP_LIMIT * 2, stopping)
        .await
        .is_err()
    {
        tracing::warn!(target: "tdlib_nats", node = %name,
            "stopping took too long (NATS out of reach?); the leases left expire on their own");
    }
    tracing::info!(target: "tdlib_nats", node = %name, "node stopped");
    Ok(())
}

struct Node {
    nats: async_nats::Client,
    registry: Registry,
    leases: Leases,
    config: NodeConfig,
    held: BTreeMap<String, Held>,
    /// Accounts this node failed to start, and when.
    failed: HashMap<String, Instant>,
}

/// An account this node holds.
struct Held {
    account: Account,
    revision: u64,
    renewed: Instant,
    since: u64,
}

impl Node {
    fn holder(&self, held: Option<&Held>) -> Holder {
        Holder {
            node: self.config.name.clone(),
            since: held.map_or_else(unix_now, |held| held.since),
            state: held.map_or_else(|| "Starting".to_owned(), |held| held.account.state()),
            received: held.map_or(0, |held| {
                held.account
                    .publisher
                    .counters
                    .received
                    .load(Ordering::Relaxed)
            }),
            stored: held.map_or(0, |held| {
                held.account
                    .publisher
                    .counters
                    .stored
                    .load(Ordering::Relaxed)
            }),
            repeated: held.map_or(0, |held| {
                held.account
                    .publisher
                    .counters
                    .repeated
                    .load(Ordering::Relaxed)
            }),
        }
    }

    async fn round(&mut self, may_claim: bool) {
        if let Err(error) = self
            .leases
            .announce(&self.config.name, self.held.len())
            .await
        {
            tracing::warn!(target: "tdlib_nats", %error, "the node could not announce itself");
        }
        self.renew().await;
        if !may_claim {
            return;
        }
        let registered = match self.registry.accounts().await {
            Ok(registered) => registered,
            Err(error) => {
                tracing::warn!(target: "tdlib_nats", %error, "the registered accounts could not be read");
                return;
            }
        };
        let gone: Vec<String> = self
            .held
            .iter()
            .filter(|(name, held)| !registered.contains(name) || held.account.client.is_closed())
            .map(|(name, _)| name.clone())
            .collect();
        for name in gone {
            tracing::info!(target: "tdlib_nats", account = %name, "the account was unregistered or closed");
            self.stop(&name, true).await;
        }
        let nodes = match self.leases.nodes().await {
            Ok(nodes) => nodes.len().max(1),
            Err(error) => {
                tracing::warn!(target: "tdlib_nats", %error, "the live nodes could not be read");
                return;
            }
        };
        let share = registered.len().div_ceil(nodes);
        tracing::debug!(target: "tdlib_nats", accounts = registered.len(), nodes, share, held = self.held.len(), "round");
        if self.held.len() > share {
            // The one taken last moves: one per round, so that shares settle without swings.
            if let Some(name) = self
                .held
                .iter()
                .max_by_key(|(_, held)| held.since)
                .map(|(name, _)| name.clone())
            {
                tracing::info!(target: "tdlib_nats", account = %name, share, accounts = registered.len(), nodes,
                    "handing an account over");
                self.stop(&name, true).await;
            }
            return;
        }
        self.failed
            .retain(|_, failed| failed.elapsed() < START_RETRY);
        let mut free: Vec<&String> = registered
            .iter()
            .filter(|name| !self.held.contains_key(*name) && !self.failed.contains_key(*name))
            .collect();
        // Each node tries the free accounts in its own order, so that nodes claiming at once
        // rarely want the same one.
        free.sort_by_key(|name| fnv(&format!("{}/{name}", self.config.name)));
        for name in free {
            if self.held.len() >= share {
                break;
            }
            self.try_claim(name).await;
        }
    }

    async fn renew(&mut self) {
        let ttl = self.leases.ttl();
        let mut lost = Vec::new();
        let names: Vec<String> = self.held.keys().cloned().collect();
        for name in names {
            let holder = self.holder(self.held.get(&name));
            let Some(held) = self.held.get_mut(&name) else {
                continue;
            };
            match self.leases.renew(&name, &holder, held.revision).await {
                Ok(Renewal::Renewed(revision)) => {
                    held.revision = revision;
                    held.renewed = Instant::now();
                }
                Ok(Renewal::Lost) => {
                    tracing::warn!(target: "tdlib_nats", account = %name, "the lease was lost; stopping the account");
                    lost.push(name);
                }
                Err(error) if held.renewed.elapsed() > ttl * 2 / 3 => {
                    tracing::warn!(target: "tdlib_nats", account = %name, %error,
                        "the lease could not be renewed in time; stopping the account");
                    lost.push(name);
                }
                Err(error) => {
                    tracing::warn!(target: "tdlib_nats", account = %name, %error, "a lease renewal failed; trying again");
                }
            }
        }
        for name in lost {
            self.stop(&name, false).await;
        }
    }

    async fn try_claim(&mut self, name: &str) {
        match self.leases.holder(name).await {
            Ok(None) => {}
            Ok(Some(_)) => return,
            Err(error) => {
                tracing::warn!(target: "tdlib_nats", account = %name, %error, "the lease could not be read");
                return;
            }
        }
        let registration = match self.registry.get(name).await {
            Ok(Some(registration)) => registration,
            Ok(None) => return,
            Err(error) => {
                tracing::error!(target: "tdlib_nats", account = %name, %error, "the registration could not be read");
                return;
            }
        };
        let revision = match self.leases.claim(name, &self.holder(None)).await {
            Ok(Some(revision)) => revision,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(target: "tdlib_nats", account = %name, %error, "the account could not be claimed");
                return;
            }
        };
        let claimed = Instant::now();
        let directory = self.config.data.join(name);
        match Account::start(&self.nats, name, &registration, &directory).await {
            Ok(account) => {
                tracing::info!(target: "tdlib_nats", account = %name, node = %self.config.name, "serving the account");
                self.held.insert(
                    name.to_owned(),
                    Held {
                        account,
                        revision,
                        renewed: claimed,
                        since: unix_now(),
                    },
                );
            }
            Err(error) => {
                tracing::error!(target: "tdlib_nats", account = %name, %error,
                    "the account could not be started; trying again in {} s", START_RETRY.as_secs());
                self.failed.insert(name.to_owned(), Instant::now());
                if let Err(error) = self.leases.release(name, revision).await {
                    tracing::warn!(target: "tdlib_nats", account = %name, %error, "the lease could not be released");
                }
            }
        }
    }

    /// Stops serving `name`; with `release`, gives its lease up for another node.
    async fn stop(&mut self, name: &str, release: bool) {
        let Some(held) = self.held.remove(name) else {
            return;
        };
        held.account.stop().await;
        if release && let Err(error) = self.leases.release(name, held.revision).await {
            tracing::warn!(target: "tdlib_nats", account = %name, %error, "the lease could not be released");
        }
    }
}

/// FNV-1a: a stable spread of names.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// An account being served by this node.
struct Account {
    client: Client,
    publisher: Arc<Publisher>,
    pump: JoinHandle<()>,
    tasks: Vec<JoinHandle<()>>,
    _lock: File,
}

impl Account {
    async fn start(
        nats: &async_nats::Client,
        name: &str,
        registration: &Registration,
        directory: &Path,
    ) -> Result<Account, BoxError> {
        std::fs::create_dir_all(directory)
            .map_err(|error| format!("cannot create {}: {error}", directory.display()))?;
        let lock = lock(directory)?;
        let client = Client::new()?;
        let scrubber = Scrubber::new(registration.secrets());
        let publishing = Publishing::start(nats, name, &client, scrubber.clone(), |update| {
            matches!(
                update,
                Update::AuthorizationState(update) if matches!(
                    update.authorization_state,
                    AuthorizationState::WaitTdlibParameters(_)
                        | AuthorizationState::WaitPhoneNumber(_)
                        | AuthorizationState::Closing(_)
                        | AuthorizationState::Closed(_)
                )
            )
        });
        let started = async {
            client
                .send(registration.parameters(directory))
                .await
                .map_err(|error| format!("TDLib refused the account's parameters: {error}"))?;
            let login = tokio::spawn(log_in(
                client.clone(),
                name.to_owned(),
                registration.login.clone(),
            ));
            let answering = serving::answer_requests(nats, name, client.clone(), scrubber).await?;
            Ok::<_, BoxError>(vec![login, answering])
        };
        match started.await {
            Ok(tasks) => Ok(Account {
                client,
                publisher: publishing.publisher,
                pump: publishing.task,
                tasks,
                _lock: lock,
            }),
            Err(error) => {
                let _ = tokio::time::timeout(STOP_LIMIT, client.close()).await;
                publishing.task.abort();
                Err(error)
            }
        }
    }

    /// The authorization state, as a lease shows it.
    fn state(&self) -> String {
        match self.client.authorization_state() {
            None => "Starting".to_owned(),
            Some(state) => {
                let name = format!("{state:?}");
                name.split('(').next().unwrap_or_default().to_owned()
            }
        }
    }

    /// Closes the TDLib client, stores its last updates, stops answering, unlocks the folder.
    async fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        if tokio::time::timeout(STOP_LIMIT, self.client.close())
            .await
            .is_err()
        {
            tracing::warn!(target: "tdlib_nats", "TDLib did not close in time");
        }
        // The pump ends with the client's updates, once each is stored.
        let mut pump = self.pump;
        if tokio::time::timeout(STOP_LIMIT, &mut pump).await.is_err() {
            pump.abort();
        }
    }
}

/// Locks the account's folder for this process; refused if another process holds it.
fn lock(directory: &Path) -> Result<File, BoxError> {
    let path = directory.join("lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|error| format!("cannot open {}: {error}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "{} is locked by another process: a node that lost its lease still runs the \
             account; it is taken once that node lets go",
            directory.display()
        )
        .into()),
        Err(std::fs::TryLockError::Error(error)) => {
            Err(format!("cannot lock {}: {error}", path.display()).into())
        }
    }
}

/// Logs the account in with the registration's credentials whenever TDLib asks for a phone
/// number or a bot token; the rest of a user login (the code, a password) comes from an
/// operator through a remote client.
async fn log_in(client: Client, name: String, login: Login) {
    let mut states = client.authorization_states();
    loop {
        let waiting = states
            .wait_for(|state| matches!(state, AuthorizationState::WaitPhoneNumber(_)))
            .await;
        if waiting.is_none() {
            return;
        }
        let sent = match &login {
            Login::BotToken(token) => client
                .send(functions::CheckAuthenticationBotToken {
                    token: token.clone(),
                })
                .await
                .map(drop),
            Login::PhoneNumber(phone) => client
                .send(functions::SetAuthenticationPhoneNumber {
                    phone_number: phone.clone(),
                    settings: None,
                })
                .await
                .map(drop),
        };
        if let Err(error) = sent {
            tracing::error!(target: "tdlib_nats", account = %name, %error, "the registered login was refused");
            // Not again until TDLib asks anew.
        }
        let moved_on = states
            .wait_for(|state| !matches!(state, AuthorizationState::WaitPhoneNumber(_)))
            .await;
        if moved_on.is_none() {
            return;
        }
    }
}
