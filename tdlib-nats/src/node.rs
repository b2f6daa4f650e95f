//! A node: serves the registered accounts it holds leases on, and shares them with the other
//! nodes.
//!
//! Every lease time / 3 a node:
//! 1. announces itself (`node.<name>` in the leases bucket);
//! 2. renews its leases, all at once, each renewal given lease time / 6. A lease found taken by
//!    another node stops its account;
//! 3. stops accounts that were unregistered or whose TDLib client closed (a log out), releasing
//!    their leases;
//! 4. takes its fair share: with M accounts and N nodes it holds at most ⌈M / N⌉, counting the
//!    nodes that hold accounts or started less than 3 lease times ago (a node that cannot start
//!    any account does not keep a share from the others); above that it releases one account per
//!    round (another node takes it), below it claims free accounts for at most lease time / 6.
//!
//! **A fence, apart from the rounds.** Each account has a deadline: 2/3 of the lease time after
//! the last renewal that was *sent* and stored. A task of the account cuts its requests and
//! updates off at the deadline, whatever the rounds are doing (waiting for NATS, starting other
//! accounts), so a node never serves an account after it can no longer prove its lease, while
//! other nodes wait for the whole lease time before they may claim it.
//!
//! Starting an account: its folder `<data>/<account>` is locked (`lock`, an advisory file lock
//! held until its TDLib client has closed, so that two processes never open one TDLib database
//! even if their leases disagree), a TDLib client is created, its updates are published from the
//! start, the registration's parameters and login (bot token or phone number) are sent by the
//! node itself, and then its requests are answered. The authorization states the node answers
//! itself (`WaitTdlibParameters`, `WaitPhoneNumber`) and those of its stops (`Closing`,
//! `Closed`: the account moves, it does not end) are not published. Stopping closes the TDLib
//! client (in the background: rounds go on); one that does not close in time keeps its folder
//! locked and its lease unreleased (it expires) until it does.
//!
//! A node that dies loses its leases one lease time after its last renewal; the others claim
//! its accounts within one more round. The data folder must be the same for all nodes (a shared
//! directory on several machines, with working file locks: a local disk, NFSv4, CephFS).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use tdlib::enums::{AuthorizationState, Update};
use tdlib::{Client, functions};
use tokio::task::{AbortHandle, JoinHandle, JoinSet};

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

/// How long a stopping account may take to close its TDLib client and store its last updates,
/// and a starting one to have its parameters accepted.
const STOP_LIMIT: Duration = Duration::from_secs(10);

/// How long a node leaves an account alone after failing to start it (a registration TDLib
/// refuses, a folder another process holds), rather than trying every round.
const START_RETRY: Duration = Duration::from_secs(30);

/// What a folder held by another process is said to be.
const LOCKED: &str = "is locked by another process";

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
        started: unix_now(),
        held: BTreeMap::new(),
        failed: HashMap::new(),
        stopping: JoinSet::new(),
    };
    tokio::pin!(shutdown);
    let mut rounds = 0u64;
    loop {
        // The first round only announces: nodes started together see each other before any
        // of them takes its share. A round waits for NATS, which may be gone: the shutdown
        // does not wait for it (an account being started then is dropped, its lease expires).
        // A round that NATS keeps waiting (a listing that never completes) is given up after
        // two lease times; the fences protect the accounts meanwhile, the next round retries.
        tokio::select! {
            () = &mut shutdown => break,
            finished = tokio::time::timeout(round * 6, node.round(rounds > 0)) => {
                if finished.is_err() {
                    tracing::warn!(target: "tdlib_nats", "a round took longer than two lease times; starting the next");
                }
            }
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
            node.stop(&name, true);
        }
        while node.stopping.join_next().await.is_some() {}
        if let Err(error) = node.leases.retire(&node.config.name).await {
            tracing::warn!(target: "tdlib_nats", %error, "the node could not say it stopped");
        }
    };
    // Accounts stop at once, each within 2 × STOP_LIMIT; NATS may not answer at all.
    if tokio::time::timeout(STOP_LIMIT * 3, stopping)
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
    started: u64,
    held: BTreeMap<String, Held>,
    /// Accounts this node failed to start, and when.
    failed: HashMap<String, Instant>,
    /// Accounts being stopped in the background.
    stopping: JoinSet<()>,
}

/// An account this node holds.
struct Held {
    account: Account,
    revision: u64,
    since: u64,
    token: String,
}

impl Node {
    fn holder(&self, held: Option<&Held>, token: &str) -> Holder {
        let counter =
            |read: fn(&Publisher) -> u64| held.map_or(0, |held| read(&held.account.publisher));
        Holder {
            node: self.config.name.clone(),
            since: held.map_or_else(unix_now, |held| held.since),
            state: held.map_or_else(|| "Starting".to_owned(), |held| held.account.state()),
            received: counter(|publisher| publisher.counters.received.load(Ordering::Relaxed)),
            stored: counter(|publisher| publisher.counters.stored.load(Ordering::Relaxed)),
            repeated: counter(|publisher| publisher.counters.repeated.load(Ordering::Relaxed)),
            token: token.to_owned(),
        }
    }

    async fn round(&mut self, may_claim: bool) {
        let started = Instant::now();
        if let Err(error) = self
            .leases
            .announce(&self.config.name, self.held.len(), self.started)
            .await
        {
            tracing::warn!(target: "tdlib_nats", %error, "the node could not announce itself");
        }
        self.renew().await;
        // Reap background stops that ended.
        while self.stopping.try_join_next().is_some() {}
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
            .filter(|(name, held)| {
                !registered.contains(name)
                    || held.account.client.is_closed()
                    || held.account.fenced.load(Ordering::Relaxed)
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in gone {
            tracing::info!(target: "tdlib_nats", account = %name,
                "the account was unregistered, closed, or fenced off; stopping it");
            self.stop(&name, true);
        }
        let ttl = self.leases.ttl();
        let nodes = match self.leases.nodes().await {
            Ok(nodes) => nodes
                .iter()
                .filter(|node| {
                    node.node == self.config.name
                        || node.accounts > 0
                        || unix_now().saturating_sub(node.started) < 3 * ttl.as_secs().max(1)
                })
                .count()
                .max(1),
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
                self.stop(&name, true);
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
            // Claiming has a budget, so that the next round's renewals come in time.
            if self.held.len() >= share || started.elapsed() > ttl / 6 {
                break;
            }
            self.try_claim(name).await;
        }
    }

    /// Renews every lease at once, each within lease time / 6.
    async fn renew(&mut self) {
        let ttl = self.leases.ttl();
        let renewals = self.held.iter().map(|(name, held)| {
            let holder = self.holder(Some(held), &held.token);
            let leases = self.leases.clone();
            let name = name.clone();
            let revision = held.revision;
            async move {
                let sent = Instant::now();
                let renewed = tokio::time::timeout(ttl / 6, leases.renew(&name, &holder, revision))
                    .await
                    .unwrap_or_else(|_| Err("no answer in time".into()));
                (name, sent, renewed)
            }
        });
        let renewed = join_all(renewals).await;
        let mut lost = Vec::new();
        for (name, sent, renewed) in renewed {
            let Some(held) = self.held.get_mut(&name) else {
                continue;
            };
            match renewed {
                Ok(Renewal::Renewed(revision)) => {
                    held.revision = revision;
                    held.account.extend_deadline(sent + ttl * 2 / 3);
                }
                Ok(Renewal::Lost) => {
                    tracing::warn!(target: "tdlib_nats", account = %name, "the lease was lost; stopping the account");
                    lost.push(name);
                }
                Err(error) => {
                    tracing::warn!(target: "tdlib_nats", account = %name, %error,
                        "a lease renewal failed; the account is fenced off if none succeeds in time");
                }
            }
        }
        for name in lost {
            self.stop(&name, false);
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
                self.failed.insert(name.to_owned(), Instant::now());
                return;
            }
        };
        let token = match random_token() {
            Ok(token) => token,
            Err(error) => {
                tracing::error!(target: "tdlib_nats", %error, "no token for a claim");
                return;
            }
        };
        let sent = Instant::now();
        let revision = match self.leases.claim(name, &self.holder(None, &token)).await {
            Ok(Some(revision)) => revision,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(target: "tdlib_nats", account = %name, %error, "the account could not be claimed");
                return;
            }
        };
        let deadline = sent + self.leases.ttl() * 2 / 3;
        let directory = self.config.data.join(name);
        match Account::start(&self.nats, name, &registration, &directory, deadline).await {
            Ok(account) => {
                tracing::info!(target: "tdlib_nats", account = %name, node = %self.config.name, "serving the account");
                self.held.insert(
                    name.to_owned(),
                    Held {
                        account,
                        revision,
                        since: unix_now(),
                        token,
                    },
                );
            }
            Err(error) if error.to_string().contains(LOCKED) => {
                // Its last node is still closing it (or paused): next round.
                tracing::info!(target: "tdlib_nats", account = %name, %error, "the account's folder is still held");
                if let Err(error) = self.leases.release(name, revision).await {
                    tracing::warn!(target: "tdlib_nats", account = %name, %error, "the lease could not be released");
                }
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

    /// Stops serving `name` in the background; with `release`, gives its lease up for another
    /// node once its TDLib client has closed.
    fn stop(&mut self, name: &str, release: bool) {
        let Some(held) = self.held.remove(name) else {
            return;
        };
        let leases = self.leases.clone();
        let name = name.to_owned();
        self.stopping.spawn(async move {
            let closed = held.account.stop().await;
            if release
                && closed
                && let Err(error) = leases.release(&name, held.revision).await
            {
                tracing::warn!(target: "tdlib_nats", account = %name, %error, "the lease could not be released");
            }
        });
    }
}

/// FNV-1a: a stable spread of names.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn random_token() -> Result<String, BoxError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|error| format!("no randomness: {error}"))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Tasks aborted when dropped (a start cancelled half-way leaves nothing running).
struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// An account being served by this node.
struct Account {
    client: Client,
    publisher: Arc<Publisher>,
    /// The publishing of its updates (awaited at a stop, so that the last ones are stored).
    pump: Option<JoinHandle<()>>,
    /// Answering requests, logging in, and the fence.
    tasks: Tasks,
    /// Until when the lease is proven (see the module's documentation).
    deadline: Arc<Mutex<Instant>>,
    /// Whether the fence cut the account off.
    fenced: Arc<AtomicBool>,
    lock: File,
}

impl Account {
    async fn start(
        nats: &async_nats::Client,
        name: &str,
        registration: &Registration,
        directory: &Path,
        deadline: Instant,
    ) -> Result<Account, BoxError> {
        std::fs::create_dir_all(directory)
            .map_err(|error| format!("cannot create {}: {error}", directory.display()))?;
        let lock = lock(directory)?;
        let client = Client::new()?;
        let scrubber = Scrubber::new(registration.secrets());
        let deadline = Arc::new(Mutex::new(deadline));
        let publishing = Publishing::start(
            nats,
            name,
            &client,
            scrubber.clone(),
            Some(deadline.clone()),
            |update| {
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
            },
        );
        let pump = Tasks(vec![publishing.task]);
        let mut tasks = Tasks(Vec::new());
        let fenced = Arc::new(AtomicBool::new(false));
        let started = async {
            tokio::time::timeout(STOP_LIMIT, client.send(registration.parameters(directory)))
                .await
                .map_err(|_| "TDLib did not accept the account's parameters in time".to_owned())?
                .map_err(|error| format!("TDLib refused the account's parameters: {error}"))?;
            tasks.0.push(tokio::spawn(log_in(
                client.clone(),
                name.to_owned(),
                registration.login.clone(),
            )));
            let answering = tokio::time::timeout(
                STOP_LIMIT,
                serving::answer_requests(
                    nats,
                    name,
                    client.clone(),
                    scrubber,
                    Some(deadline.clone()),
                ),
            )
            .await
            .map_err(|_| "NATS did not take the request subscription in time".to_owned())??;
            let cut = vec![answering.abort_handle(), pump.0[0].abort_handle()];
            tasks.0.push(answering);
            tasks.0.push(tokio::spawn(fence(
                name.to_owned(),
                deadline.clone(),
                fenced.clone(),
                cut,
            )));
            Ok::<_, BoxError>(())
        };
        match started.await {
            Ok(()) => {
                let mut pump = pump;
                Ok(Account {
                    client,
                    publisher: publishing.publisher,
                    pump: pump.0.pop(),
                    tasks,
                    deadline,
                    fenced,
                    lock,
                })
            }
            Err(error) => {
                drop(tasks);
                let _ = tokio::time::timeout(STOP_LIMIT, client.close()).await;
                drop(pump);
                Err(error)
            }
        }
    }

    /// Moves the fence's deadline (a renewal was stored).
    fn extend_deadline(&self, until: Instant) {
        let mut deadline = self.deadline.lock().unwrap_or_else(PoisonError::into_inner);
        if until > *deadline {
            *deadline = until;
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

    /// Stops answering, closes the TDLib client, stores its last updates, unlocks the folder.
    /// Returns whether TDLib closed; if it did not in time, the folder stays locked by a task
    /// that waits for it, and the lease must not be released.
    async fn stop(self) -> bool {
        let Account {
            client,
            pump,
            tasks,
            lock,
            ..
        } = self;
        drop(tasks);
        let closed = tokio::time::timeout(STOP_LIMIT, client.close())
            .await
            .is_ok();
        if !closed {
            tracing::warn!(target: "tdlib_nats", "TDLib did not close in time; its folder stays locked until it does");
            tokio::spawn(async move {
                let _ = client.close().await;
                drop(lock);
            });
        }
        // The pump ends with the client's updates, once each is stored.
        if let Some(mut pump) = pump
            && tokio::time::timeout(STOP_LIMIT, &mut pump).await.is_err()
        {
            pump.abort();
        }
        closed
    }
}

/// Cuts the account's requests and updates off when its deadline passes without renewal.
async fn fence(
    name: String,
    deadline: Arc<Mutex<Instant>>,
    fenced: Arc<AtomicBool>,
    cut: Vec<AbortHandle>,
) {
    loop {
        let until = *deadline.lock().unwrap_or_else(PoisonError::into_inner);
        if Instant::now() >= until {
            break;
        }
        tokio::time::sleep_until(until.into()).await;
    }
    fenced.store(true, Ordering::Relaxed);
    for task in cut {
        task.abort();
    }
    tracing::warn!(target: "tdlib_nats", account = %name,
        "the lease was not renewed in time: requests and updates are cut off");
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
            "{} {LOCKED}: a node that lost its lease still runs the account; it is taken once \
             that node lets go",
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
