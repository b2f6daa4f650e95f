//! Nodes as real processes (the `tdlib-nats` binary on the fake libtdjson) sharing registered
//! accounts over a real `nats-server`: every account claimed once, a node killed with SIGKILL
//! in the middle of a burst and its accounts taken over, no update lost or doubled for a
//! durable consumer, requests during the move answered or refused clearly; secrets never on a
//! subject; a user account logged in through a remote client.

mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use support::{NatsServer, runtime};
use tdlib::enums::{MessageContent, Update};
use tdlib::{auth, functions, types};
use tdlib_fake_harness::Fake;
use tdlib_nats::consumer::Durable;
use tdlib_nats::lease::Leases;
use tdlib_nats::registry::{Login, Registration, Registry, SecretKey};

const TOKEN: &str = "4242:cluster-token-secret";
const API_HASH: &str = "api-hash-s3cret-0123";
const DATABASE_KEY: &str = "database-key-s3cret";
const PHONE: &str = "+1 555 0100";
const PHONE_AS_TDLIB_WRITES_IT: &str = "+15550100";
const CODE: &str = "24680";

/// Lease time of the test's nodes, in seconds.
const LEASE: u64 = 3;

/// Tests that start node processes take this first: on two CPUs, a burst through two debug
/// nodes beside another test's nodes can starve one of them past a request's 10 s.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A scratch folder of the test, removed at its end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("cluster-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Scratch(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A node process; killed when dropped.
struct Node {
    child: Child,
    log: PathBuf,
}

impl Node {
    fn start(name: &str, fake: &Fake, server: &NatsServer, scratch: &Path) -> Node {
        let log = scratch.join(format!("{name}.log"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_tdlib-nats"));
        command
            .args([
                "--nats",
                &server.url,
                "serve",
                "--name",
                name,
                "--lease-time",
            ])
            .arg(LEASE.to_string())
            .arg("--data")
            .arg(scratch.join("data"))
            .arg("--key-file")
            .arg(scratch.join("key"))
            .env("RUST_LOG", "tdlib_nats=debug,warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        fake.configure(&mut command);
        Node {
            child: command.spawn().unwrap(),
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops it with SIGTERM and returns whether it exited with 0 (printing its log if not).
    fn terminate(mut self) -> bool {
        let clean = self.stop();
        if !clean {
            eprintln!("{}", self.log());
        }
        clean
    }

    fn stop(&mut self) -> bool {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            assert!(Instant::now() < deadline, "the node stops within 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_key(scratch: &Path) -> SecretKey {
    let key = SecretKey::generate().unwrap();
    std::fs::write(scratch.join("key"), key.to_hex()).unwrap();
    key
}

fn bot(token: &str) -> Registration {
    let mut registration = Registration::new(7, API_HASH, Login::BotToken(token.into()));
    registration.database_encryption_key = DATABASE_KEY.into();
    registration
}

/// Waits until `done` says yes (checking every 50 ms), panicking with `what` after `limit`.
async fn until<F: std::future::Future<Output = bool>>(
    limit: Duration,
    what: &str,
    mut done: impl FnMut() -> F,
) {
    let deadline = Instant::now() + limit;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn holders(leases: &Leases, accounts: &[String]) -> BTreeMap<String, Option<String>> {
    let mut holders = BTreeMap::new();
    for account in accounts {
        let holder = leases.holder(account).await.unwrap();
        holders.insert(
            account.clone(),
            holder
                .filter(|holder| holder.state == "Ready")
                .map(|holder| holder.node),
        );
    }
    holders
}

const ACCOUNTS: usize = 6;
const MESSAGES: u64 = 3_000;
const CHATS: [i64; 3] = [101, 102, 103];

/// What the durable consumer saw: per account, the new messages' (id, chat, number) in the
/// order delivered, and whether the burst's end was seen.
#[derive(Default)]
struct Seen {
    messages: HashMap<String, Vec<(String, i64, u64)>>,
    ends: HashSet<String>,
    deliveries: u64,
}

impl Seen {
    fn total(&self) -> usize {
        self.messages.values().map(Vec::len).sum()
    }
}

#[test]
fn a_killed_nodes_accounts_move_and_no_update_is_lost_or_doubled() {
    let _alone = one_at_a_time();
    let scratch = Scratch::new("failover");
    let server = NatsServer::start("failover");
    let script = json!({
        "login": {"bot_token": TOKEN},
        "persistent": true,
        "conversation": [
            {"wait_for": {"request": "testCallEmpty", "count": 1, "timeout_ms": 120000}},
            {"messages": {"chats": CHATS, "count": MESSAGES, "pause_every": 20, "pause_ms": 20,
                          "replay": 1000}},
            {"update": {"@type": "updateOption", "name": "end",
                        "value": {"@type": "optionValueBoolean", "value": true}}},
        ]
    });
    let fakes = [
        Fake::new("cluster-failover-a", &script),
        Fake::new("cluster-failover-b", &script),
    ];
    let key = write_key(&scratch.0);
    let accounts: Vec<String> = (0..ACCOUNTS).map(|index| format!("acct-{index}")).collect();
    let runtime = runtime();
    runtime.block_on(async {
        let nats = async_nats::connect(&server.url).await.unwrap();
        let registry = Registry::open(&nats, key).await.unwrap();
        let node_a = Node::start("node-a", &fakes[0], &server, &scratch.0);
        let node_b = Node::start("node-b", &fakes[1], &server, &scratch.0);
        let leases = Leases::open(&nats, Duration::from_secs(LEASE)).await.unwrap();
        // Registered once both nodes run (a node that starts later gets its share from the
        // others, which moves accounts: not what this part checks).
        until(Duration::from_secs(60), "both nodes announced", || async {
            leases.nodes().await.unwrap().len() == 2
        })
        .await;
        for account in &accounts {
            registry.add(account, &bot(TOKEN)).await.unwrap();
        }

        // Every account claimed, logged in, by exactly one node, in fair shares.
        until(Duration::from_secs(60), "all accounts served", || async {
            holders(&leases, &accounts).await.values().all(Option::is_some)
        })
        .await;
        let before = holders(&leases, &accounts).await;
        let on_a: Vec<String> = before
            .iter()
            .filter(|(_, node)| node.as_deref() == Some("node-a"))
            .map(|(account, _)| account.clone())
            .collect();
        assert_eq!(on_a.len(), ACCOUNTS / 2, "fair shares: {before:?}");
        for account in &accounts {
            let starts: usize = fakes
                .iter()
                .map(|fake| {
                    fake.requests()
                        .iter()
                        .filter(|logged| {
                            logged.request_type() == "setTdlibParameters"
                                && logged.request["database_directory"]
                                    .as_str()
                                    .unwrap_or_default()
                                    .contains(&format!("/{account}/"))
                        })
                        .count()
                })
                .sum();
            assert_eq!(starts, 1, "{account} was started once");
        }

        // A durable consumer of every account's updates, reading all along.
        let seen = Arc::new(Mutex::new(Seen::default()));
        let reader = {
            let mut durable = Durable::open(nats.clone(), "audit", "*").await.unwrap();
            let seen = seen.clone();
            tokio::spawn(async move {
                while let Some(delivered) = durable.next().await {
                    let delivered = delivered.unwrap();
                    {
                        let mut seen = seen.lock().unwrap();
                        seen.deliveries += 1;
                        match &delivered.update {
                            Update::NewMessage(new) => {
                                let MessageContent::MessageText(text) = &*new.message.content
                                else {
                                    panic!("a text message");
                                };
                                let number = text.text.text.parse().unwrap();
                                seen.messages
                                    .entry(delivered.account.clone())
                                    .or_default()
                                    .push((delivered.id.clone(), new.message.chat_id, number));
                            }
                            Update::Option(option) if option.name == "end" => {
                                seen.ends.insert(delivered.account.clone());
                            }
                            _ => {}
                        }
                    }
                    delivered.ack().await.unwrap();
                }
            })
        };

        // Requests all along, to every account: each ends, answered or refused clearly.
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut requesters = Vec::new();
        for account in &accounts {
            let remote = tdlib_nats::connect(nats.clone(), account).await.unwrap();
            let stop = stop.clone();
            requesters.push(tokio::spawn(async move {
                let mut outcomes = Vec::new();
                let mut x = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    x += 1;
                    let answer = tokio::time::timeout(
                        Duration::from_secs(60),
                        remote.send(functions::TestSquareInt { x }),
                    )
                    .await
                    .expect("a request during the move hung");
                    outcomes.push(match answer {
                        Ok(square) => {
                            assert_eq!(square.value, x * x);
                            Ok(())
                        }
                        Err(error) => Err(error),
                    });
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                outcomes
            }));
        }

        // The bursts start (each lasts at least 3 s); node A is killed early in them.
        for account in &accounts {
            let remote = tdlib_nats::connect(nats.clone(), account).await.unwrap();
            remote.send(functions::TestCallEmpty {}).await.unwrap();
        }
        let total = ACCOUNTS * MESSAGES as usize;
        until(Duration::from_secs(60), "a tenth of the burst", || async {
            seen.lock().unwrap().total() >= total / 10
        })
        .await;
        let mut node_a = node_a;
        node_a.child.kill().unwrap();
        let killed = Instant::now();
        node_a.child.wait().unwrap();
        let at_kill = seen.lock().unwrap().total();
        // The premise: node A died in the middle of its accounts' bursts (their ends are not in
        // the stream; the consumer may lag behind it, the stream does not).
        let stream = tdlib_nats::serving::update_stream(&nats).await.unwrap();
        let mut ended_on_a = 0;
        for account in &on_a {
            let last_option = stream
                .direct_get_last_for_subject(tdlib_nats::subjects::update(account, "updateOption", 0))
                .await;
            if last_option.is_ok_and(|message| String::from_utf8_lossy(&message.payload).contains("\"end\"")) {
                ended_on_a += 1;
            }
        }
        assert!(ended_on_a < on_a.len(), "node A was killed after its bursts ended");

        // Its accounts move to node B.
        until(Duration::from_secs(60), "node B serves every account", || async {
            holders(&leases, &accounts)
                .await
                .values()
                .all(|node| node.as_deref() == Some("node-b"))
        })
        .await;
        let failover = killed.elapsed();
        println!(
            "failover: {:.2} s after SIGKILL (lease time {LEASE} s); {at_kill} of {total} messages seen at the kill",
            failover.as_secs_f64()
        );
        assert!(
            failover < Duration::from_secs(LEASE + 2 * LEASE / 3 + 3),
            "failover took {failover:?}"
        );

        // The bursts end; the consumer has every message once, each chat in order.
        until(Duration::from_secs(120), "every burst ended", || async {
            seen.lock().unwrap().ends.len() == ACCOUNTS
        })
        .await;
        // TDLib on node B handed out again the messages after its last saved point; the stream
        // recognized them by id (renewals report it every round).
        tokio::time::sleep(Duration::from_secs(LEASE)).await;
        let mut repeated = 0;
        let mut moved = Vec::new();
        for account in &on_a {
            let holder = leases.holder(account).await.unwrap().unwrap();
            repeated += holder.repeated;
            moved.push(holder);
        }
        println!("messages TDLib handed out again after the move, stored once: {repeated}");
        assert!(
            repeated > 0,
            "the replay after the move was exercised: {moved:?}\n{}",
            node_b.log()
        );
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut failed = Vec::new();
        let mut made = 0;
        for requester in requesters {
            let outcomes = requester.await.unwrap();
            made += outcomes.len();
            failed.extend(outcomes.into_iter().filter_map(Result::err));
        }
        // A request sent to node A just before the kill cannot be answered; it fails when NATS
        // gives up waiting, saying it may or may not have been carried out. Requests sent while
        // no node served the account waited for node B.
        for error in &failed {
            assert_eq!(error.kind(), tdlib::ErrorKind::Transport, "{error}");
            assert!(error.to_string().contains("may or may not"), "{error}");
        }
        println!(
            "{made} requests during the test, {} failed clearly ({:?})",
            failed.len(),
            failed.first().map(ToString::to_string)
        );
        for account in &accounts {
            let remote = tdlib_nats::connect(nats.clone(), account).await.unwrap();
            let square = remote.send(functions::TestSquareInt { x: 12 }).await.unwrap();
            assert_eq!(square.value, 144, "{account} answers after the move");
        }
        reader.abort();
        let seen = std::mem::take(&mut *seen.lock().unwrap());
        let mut repeated = 0;
        for account in &accounts {
            let mut ids = HashSet::new();
            let mut numbers = Vec::new();
            let mut last_in_chat: HashMap<i64, u64> = HashMap::new();
            for (id, chat, number) in &seen.messages[account] {
                if !ids.insert(id.clone()) {
                    repeated += 1;
                    continue;
                }
                let last = last_in_chat.entry(*chat).or_default();
                assert!(*number > *last, "{account}: chat {chat} in order");
                *last = *number;
                numbers.push(*number);
            }
            numbers.sort_unstable();
            assert_eq!(
                numbers,
                (1..=MESSAGES).collect::<Vec<_>>(),
                "{account}: every message once"
            );
        }
        println!(
            "{} deliveries, {repeated} messages delivered again (recognized by id)",
            seen.deliveries
        );
        // Node B never found a database folder held by another process, and kept its leases.
        for trouble in ["locked by another process", "lease was lost", "could not be renewed"] {
            assert!(!node_b.log().contains(trouble), "{}", node_b.log());
        }
        // A node that is told to stop hands its accounts back at once.
        assert!(node_b.terminate(), "node B exits cleanly");
        let after = holders(&leases, &accounts).await;
        assert!(after.values().all(Option::is_none), "{after:?}");
        for fake in &fakes {
            assert_eq!(fake.script_errors(), Vec::<String>::new());
        }
    });
}

/// A node paused (SIGSTOP) past its lease time: when it runs again it has cut the account off
/// by itself (its fence), lets go of it, and the account is served again, by one node.
#[test]
fn a_paused_node_cuts_its_account_off_and_the_account_is_served_again() {
    let _alone = one_at_a_time();
    let scratch = Scratch::new("pause");
    let server = NatsServer::start("pause");
    let script = json!({"login": {"bot_token": TOKEN}, "persistent": true});
    let fakes = [
        Fake::new("cluster-pause-a", &script),
        Fake::new("cluster-pause-b", &script),
    ];
    let key = write_key(&scratch.0);
    runtime().block_on(async {
        let nats = async_nats::connect(&server.url).await.unwrap();
        let registry = Registry::open(&nats, key).await.unwrap();
        let nodes = [
            Node::start("node-a", &fakes[0], &server, &scratch.0),
            Node::start("node-b", &fakes[1], &server, &scratch.0),
        ];
        let leases = Leases::open(&nats, Duration::from_secs(LEASE))
            .await
            .unwrap();
        until(Duration::from_secs(60), "both nodes announced", || async {
            leases.nodes().await.unwrap().len() == 2
        })
        .await;
        let accounts = vec!["solo".to_owned()];
        registry.add("solo", &bot(TOKEN)).await.unwrap();
        until(Duration::from_secs(60), "the account served", || async {
            holders(&leases, &accounts).await["solo"].is_some()
        })
        .await;
        let holder = holders(&leases, &accounts).await["solo"].clone().unwrap();
        let paused = if holder == "node-a" {
            &nodes[0]
        } else {
            &nodes[1]
        };
        let signal = |name: &str| {
            let pid = paused.child.id().to_string();
            assert!(
                Command::new("kill")
                    .args([name, &pid])
                    .status()
                    .unwrap()
                    .success()
            );
        };
        signal("-STOP");
        tokio::time::sleep(Duration::from_secs(LEASE + 1)).await;
        signal("-CONT");
        // Served again (by either node), answering.
        until(
            Duration::from_secs(60),
            "the account served again",
            || async {
                let holder = leases.holder("solo").await.unwrap();
                holder.is_some_and(|holder| holder.state == "Ready" && holder.since > 0)
            },
        )
        .await;
        let remote = tdlib_nats::connect(nats.clone(), "solo").await.unwrap();
        let square = tokio::time::timeout(
            Duration::from_secs(60),
            remote.send(functions::TestSquareInt { x: 9 }),
        )
        .await
        .expect("no hang")
        .unwrap();
        assert_eq!(square.value, 81);
        let log = paused.log();
        assert!(log.contains("cut off"), "{log}");
        // Exactly one TDLib client of the account is open: the paused node closed its own.
        let opened: usize = fakes
            .iter()
            .map(|fake| {
                fake.requests()
                    .iter()
                    .filter(|logged| logged.request_type() == "setTdlibParameters")
                    .count()
            })
            .sum();
        let closed: usize = fakes
            .iter()
            .map(|fake| {
                fake.requests()
                    .iter()
                    .filter(|logged| logged.request_type() == "close")
                    .count()
            })
            .sum();
        assert_eq!(
            opened,
            closed + 1,
            "one client open: {opened} opened, {closed} closed"
        );
    });
}

/// An authenticator for the rest of a user login: the code, from a person at a terminal in
/// real use.
struct Operator;

impl auth::Authenticator for Operator {
    async fn parameters(&mut self) -> Result<functions::SetTdlibParameters, auth::AuthError> {
        Err(auth::AuthError::Unsupported("the node sends them".into()))
    }

    async fn login(
        &mut self,
        _previous: Option<&tdlib::Error>,
    ) -> Result<auth::Login, auth::AuthError> {
        Err(auth::AuthError::Unsupported("the node sends it".into()))
    }

    async fn code(
        &mut self,
        _info: &types::AuthenticationCodeInfo,
        _previous: Option<&tdlib::Error>,
    ) -> Result<String, auth::AuthError> {
        Ok(CODE.into())
    }
}

/// Everything published on the server (subject, headers, payload), from a subscriber on `>`.
fn sniff(nats: async_nats::Client) -> (Arc<Mutex<Vec<String>>>, tokio::task::JoinHandle<()>) {
    let captured = Arc::new(Mutex::new(Vec::new()));
    let task = {
        let captured = captured.clone();
        tokio::spawn(async move {
            let mut all = nats.subscribe(">").await.unwrap();
            while let Some(message) = all.next().await {
                let headers = message
                    .headers
                    .as_ref()
                    .map(|headers| format!("{headers:?}"))
                    .unwrap_or_default();
                captured.lock().unwrap().push(format!(
                    "{} {headers} {}",
                    message.subject,
                    String::from_utf8_lossy(&message.payload)
                ));
            }
        })
    };
    (captured, task)
}

#[test]
fn secrets_never_travel_on_a_subject_and_a_user_logs_in_remotely() {
    let _alone = one_at_a_time();
    let scratch = Scratch::new("secrets");
    let server = NatsServer::start("secrets");
    let key = write_key(&scratch.0);
    let bot_fake = Fake::new(
        "cluster-secrets-bot",
        &json!({"login": {"bot_token": TOKEN}}),
    );
    let user_fake = Fake::new(
        "cluster-secrets-user",
        &json!({
            "login": {"phone_number": PHONE_AS_TDLIB_WRITES_IT, "code": CODE},
            "me": {"id": 77, "first_name": "Ann", "phone_number": "15550100",
                   "type": {"@type": "userTypeRegular"}},
        }),
    );
    let runtime = runtime();
    runtime.block_on(async {
        let nats = async_nats::connect(&server.url).await.unwrap();
        let (captured, sniffer) = sniff(async_nats::connect(&server.url).await.unwrap());
        let registry = Registry::open(&nats, key).await.unwrap();

        // A bot: registered, served, used.
        registry.add("bot", &bot(TOKEN)).await.unwrap();
        assert!(
            registry.add("bot", &bot(TOKEN)).await.is_err(),
            "registered once"
        );
        let node = Node::start("node-s1", &bot_fake, &server, &scratch.0);
        let remote = tdlib_nats::connect(nats.clone(), "bot").await.unwrap();
        tokio::time::timeout(
            Duration::from_secs(60),
            auth::authorize(&remote, &mut Operator),
        )
        .await
        .expect("no hang")
        .unwrap();
        let me = remote
            .send(functions::GetMe {})
            .await
            .unwrap_or_else(|error| panic!("{error}\n{}", node.log()));
        assert_eq!(me.first_name, "Fake");
        let refused = remote
            .send(functions::CheckAuthenticationBotToken {
                token: TOKEN.into(),
            })
            .await
            .unwrap_err();
        assert_eq!(refused.kind(), tdlib::ErrorKind::Transport);
        assert!(node.terminate());
        registry.remove("bot").await.unwrap();

        // A user: the node sends the phone number; the code comes through the remote client.
        let mut user = Registration::new(7, API_HASH, Login::PhoneNumber(PHONE.into()));
        user.database_encryption_key = DATABASE_KEY.into();
        registry.add("ann", &user).await.unwrap();
        let node = Node::start("node-s2", &user_fake, &server, &scratch.0);
        // The operator's command: `tdlib-nats login ann`, the code typed at the terminal.
        let mut login = Command::new(env!("CARGO_BIN_EXE_tdlib-nats"))
            .args(["--nats", &server.url, "login", "ann"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut stdin = login.stdin.take().unwrap();
            writeln!(stdin, "{CODE}").unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while login.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "the login command ends\n{}",
                node.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let output = login.wait_with_output().unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
        assert!(output.status.success(), "{stdout}{stderr}\n{}", node.log());
        assert!(stdout.contains("ann is logged in"), "{stdout}");
        // It asked for the code, and shows no secret.
        assert!(stderr.to_lowercase().contains("code"), "{stderr}");
        assert!(
            !stderr.contains("15550100") && !stderr.contains(API_HASH),
            "{stderr}"
        );
        let remote = tdlib_nats::connect(nats.clone(), "ann").await.unwrap();
        // Already logged in: the login helper returns at once.
        tokio::time::timeout(
            Duration::from_secs(60),
            auth::authorize(&remote, &mut Operator),
        )
        .await
        .expect("no hang")
        .unwrap_or_else(|error| panic!("{error}\n{}", node.log()));
        // A typed request through NATS returns what TDLib returns locally, the phone number
        // replaced.
        let me = remote.send(functions::GetMe {}).await.unwrap();
        assert_eq!((me.id, me.first_name.as_str()), (77, "Ann"));
        assert_eq!(me.phone_number, tdlib_nats::secrets::REDACTED);
        let local = user_fake
            .requests()
            .into_iter()
            .find(|logged| logged.request_type() == "getMe")
            .expect("the node asked TDLib");
        assert_eq!(local.answer["phone_number"], "15550100");
        let echoed = remote
            .send(functions::TestCallString {
                x: "traffic".into(),
            })
            .await
            .unwrap();
        assert_eq!(echoed.value, "traffic");
        // The login happened once, with the registration's phone number and the code.
        let logins: Vec<Value> = user_fake
            .requests()
            .into_iter()
            .filter(|logged| {
                logged.request_type().starts_with("setAuthentication")
                    || logged.request_type().starts_with("checkAuthentication")
            })
            .map(|logged| logged.request)
            .collect();
        assert_eq!(logins.len(), 2, "{logins:?}");
        assert!(node.terminate());
        tokio::time::sleep(Duration::from_millis(500)).await;
        sniffer.abort();

        let captured = captured.lock().unwrap();
        assert!(
            captured.iter().any(|line| line.contains("tdlib.ann.rpc")),
            "the sniffer saw the traffic"
        );
        assert!(
            captured
                .iter()
                .any(|line| line.contains("$KV.tdlib_accounts.ann"))
        );
        for secret in [TOKEN, API_HASH, DATABASE_KEY, PHONE, "15550100", "555 0100"] {
            let leaks: Vec<&String> = captured
                .iter()
                .filter(|line| line.contains(secret))
                .collect();
            assert!(
                leaks.is_empty(),
                "{secret:?} seen on NATS: {:?}",
                &leaks[..1]
            );
        }
        println!("{} messages on NATS, none with a secret", captured.len());
    });
}

/// The binary's answers to bad input: a message and exit code 1, never a panic or a hang.
#[test]
fn the_command_line_refuses_bad_input_with_a_message() {
    let scratch = Scratch::new("cli");
    let server = NatsServer::start("cli");
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let output = Command::new(env!("CARGO_BIN_EXE_tdlib-nats"))
            .args(args)
            .env_remove("TDLIB_API_HASH")
            .env_remove("TDLIB_BOT_TOKEN")
            .env_remove("TDLIB_PHONE_NUMBER")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        (output.status.code(), stderr)
    };
    let key = scratch.0.join("key");
    let bad_key = scratch.0.join("bad-key");
    std::fs::write(&bad_key, "not a key").unwrap();
    let key = key.to_str().unwrap();
    let url = server.url.as_str();
    assert_eq!(run(&["key", key], &[]).0, Some(0));
    let (code, message) = run(&["key", key], &[]);
    assert_eq!(code, Some(1));
    assert!(message.contains("cannot create"), "{message}");
    let words = |line: &str| -> Vec<String> { line.split(' ').map(str::to_owned).collect() };
    let bad_key = bad_key.to_str().unwrap();
    let add = format!("--nats {url} account add x --key-file {key} --api-id 1");
    for (args, env, expected) in [
        (
            words("--nats nats://127.0.0.1:1 account list"),
            vec![],
            "cannot connect to NATS",
        ),
        (
            words(&format!("--nats {url} serve --data d --key-file {bad_key}")),
            vec![],
            "64 hexadecimal digits",
        ),
        (words(&add), vec![], "TDLIB_API_HASH is not set"),
        (
            words(&add),
            vec![("TDLIB_API_HASH", "h")],
            "exactly one of TDLIB_BOT_TOKEN and TDLIB_PHONE_NUMBER",
        ),
        (
            words(&add.replace(" x ", " a.b ")),
            vec![("TDLIB_API_HASH", "h"), ("TDLIB_BOT_TOKEN", "1:t")],
            "not a valid account name",
        ),
        (
            words(&format!("--nats {url} account remove nobody")),
            vec![],
            "not registered",
        ),
        (
            vec![
                "--nats".into(),
                url.into(),
                "call".into(),
                "x".into(),
                "{not json".into(),
            ],
            vec![],
            "not JSON",
        ),
        (
            words(&format!(
                r#"--nats {url} call x {{"@type":"setTdlibParameters"}}"#
            )),
            vec![],
            "carries a secret",
        ),
        (
            words(&format!("--nats {url} work --group a.b")),
            vec![],
            "not a valid group name",
        ),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, message) = run(&args, &env);
        assert_eq!(code, Some(1), "{args:?}: {message}");
        assert!(message.contains(expected), "{args:?}: {message}");
    }
    // Registered twice: refused the second time, the secret not in the message.
    let env = [
        ("TDLIB_API_HASH", "hash-secret-1"),
        ("TDLIB_BOT_TOKEN", "1:token-secret"),
    ];
    let add = [
        "--nats",
        url,
        "account",
        "add",
        "bot",
        "--key-file",
        key,
        "--api-id",
        "1",
    ];
    assert_eq!(run(&add, &env).0, Some(0));
    let (code, message) = run(&add, &env);
    assert_eq!(code, Some(1));
    assert!(message.contains("registered already"), "{message}");
    assert!(!message.contains("secret"), "{message}");
    let listed = Command::new(env!("CARGO_BIN_EXE_tdlib-nats"))
        .args(["--nats", url, "account", "list"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("bot") && listed.contains("(not served)"),
        "{listed}"
    );
}
