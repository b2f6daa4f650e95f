//! `tdlib-nats`: runs a node, administers accounts, logs accounts in, and shows a work queue
//! at work. `tdlib-nats --help` lists the commands.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use tdlib_nats::consumer::WorkQueue;
use tdlib_nats::lease::Leases;
use tdlib_nats::node::{self, NodeConfig};
use tdlib_nats::registry::{self, Login, Registration, Registry, SecretKey};
use tdlib_nats::{BoxError, subjects};

/// TDLib accounts served over NATS by a group of nodes.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    nats: NatsOptions,
    #[command(subcommand)]
    command: Command,
}

/// How to reach NATS (the server's URL, credentials and TLS are passed to the NATS client).
#[derive(Args)]
struct NatsOptions {
    /// The NATS server(s), comma-separated.
    #[arg(
        long,
        env = "NATS_URL",
        default_value = "nats://127.0.0.1:4222",
        global = true
    )]
    nats: String,
    /// A NATS credentials file (JWT and NKey seed).
    #[arg(long, env = "NATS_CREDS", global = true)]
    creds: Option<PathBuf>,
    /// A CA certificate (PEM) to verify the server with; implies TLS.
    #[arg(long, env = "NATS_CA", global = true)]
    tls_ca: Option<PathBuf>,
    /// A client certificate (PEM) for TLS authentication (with --tls-key).
    #[arg(long, env = "NATS_CERT", global = true, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The client certificate's key (PEM).
    #[arg(long, env = "NATS_KEY", global = true, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The prefix of this client's reply subjects (e.g. `_INBOX_alice`), for subject
    /// permissions that keep others' answers out of reach.
    #[arg(long, env = "NATS_INBOX_PREFIX", global = true)]
    inbox_prefix: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a node: serves registered accounts, sharing them with the other nodes.
    Serve {
        /// The folder of the accounts' databases (the same for all nodes: shared on several
        /// machines).
        #[arg(long)]
        data: PathBuf,
        /// The registration key file.
        #[arg(long, env = "TDLIB_NATS_KEY_FILE")]
        key_file: PathBuf,
        /// This node's name, unique among the nodes (default: host name and process id).
        #[arg(long)]
        name: Option<String>,
        /// Seconds a lease lives without renewal (if this node creates the leases bucket).
        #[arg(long, default_value_t = 10)]
        lease_time: u64,
        /// Copies of the update stream and the buckets, if this node creates them (on a NATS
        /// cluster; 1 on a single server).
        #[arg(long, default_value_t = 1)]
        replicas: usize,
    },
    /// Creates a registration key file (readable by its owner only).
    Key {
        /// Where to write it; must not exist.
        file: PathBuf,
    },
    /// Registers, removes and lists accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Logs an account in from this terminal (the code, and the password if there is one),
    /// through a remote client.
    Login {
        /// The account.
        account: String,
    },
    /// Sends one request (TDLib's JSON) to an account and prints the answer.
    Call {
        /// The account.
        account: String,
        /// The request, e.g. '{"@type":"getMe"}'.
        request: String,
    },
    /// A worker of a work queue: prints each update's account, type and id (each chat's in
    /// order) and acknowledges it.
    Work {
        /// The work queue group (workers of one group share its updates).
        #[arg(long)]
        group: String,
        /// The account (default: every account).
        #[arg(long, default_value = "*")]
        account: String,
    },
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Registers an account. Secrets come from the environment, never from the command line
    /// (which other users of the machine can see): TDLIB_API_HASH, then TDLIB_BOT_TOKEN or
    /// TDLIB_PHONE_NUMBER, and optionally TDLIB_DATABASE_KEY.
    Add {
        /// The account's name (letters, digits, - and _).
        account: String,
        /// The registration key file.
        #[arg(long, env = "TDLIB_NATS_KEY_FILE")]
        key_file: PathBuf,
        /// The application's API id (my.telegram.org).
        #[arg(long, env = "TDLIB_API_ID")]
        api_id: i32,
        /// Use Telegram's test servers.
        #[arg(long)]
        test_dc: bool,
    },
    /// Removes an account's registration; its node stops serving it.
    Remove {
        /// The account.
        account: String,
    },
    /// Lists the accounts with their node, authorization state and lag (updates the node has
    /// not stored in the stream yet).
    List,
}

/// Prints a line on standard output; a closed output (`| head`) ends the command quietly.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write;
        writeln!(std::io::stdout().lock(), $($arg)*)?;
    }};
}

fn main() -> ExitCode {
    // TDLib clients still open when main returns are closed first (TDLib may abort a process
    // that exits with open clients).
    let _closer = tdlib::CloseOnExit::new();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "tdlib_nats=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("tdlib-nats: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error)
            if error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|error| error.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("tdlib-nats: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn connect(options: &NatsOptions) -> Result<async_nats::Client, BoxError> {
    let mut connect = async_nats::ConnectOptions::new().name("tdlib-nats");
    if let Some(prefix) = &options.inbox_prefix {
        connect = connect.custom_inbox_prefix(prefix);
    }
    if let Some(creds) = &options.creds {
        connect = connect.credentials_file(creds).await?;
    }
    if let Some(ca) = &options.tls_ca {
        connect = connect.add_root_certificates(ca.clone()).require_tls(true);
    }
    if let (Some(cert), Some(key)) = (&options.tls_cert, &options.tls_key) {
        connect = connect
            .add_client_certificate(cert.clone(), key.clone())
            .require_tls(true);
    }
    connect
        .connect(options.nats.as_str())
        .await
        .map_err(|error| format!("cannot connect to NATS at {}: {error}", options.nats).into())
}

async fn run(cli: Cli) -> Result<(), BoxError> {
    match cli.command {
        Command::Key { file } => write_key(&file),
        Command::Serve {
            data,
            key_file,
            name,
            lease_time,
            replicas,
        } => {
            let config = NodeConfig {
                name: name.unwrap_or_else(default_name),
                data,
                key: SecretKey::load(&key_file)?,
                lease_time: Duration::from_secs(lease_time),
                replicas,
            };
            let nats = connect(&cli.nats).await?;
            node::run(nats, config, shutdown()).await
        }
        Command::Account(AccountCommand::Add {
            account,
            key_file,
            api_id,
            test_dc,
        }) => {
            let secret = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
            let api_hash = secret("TDLIB_API_HASH").ok_or("TDLIB_API_HASH is not set")?;
            let login = match (secret("TDLIB_BOT_TOKEN"), secret("TDLIB_PHONE_NUMBER")) {
                (Some(token), None) => Login::BotToken(token),
                (None, Some(phone)) => Login::PhoneNumber(phone),
                _ => return Err("set exactly one of TDLIB_BOT_TOKEN and TDLIB_PHONE_NUMBER".into()),
            };
            let mut registration = Registration::new(api_id, api_hash, login);
            registration.use_test_dc = test_dc;
            registration.database_encryption_key = secret("TDLIB_DATABASE_KEY").unwrap_or_default();
            let key = SecretKey::load(&key_file)?;
            let nats = connect(&cli.nats).await?;
            Registry::open(&nats, key)
                .await?
                .add(&account, &registration)
                .await?;
            out!("registered {account}");
            Ok(())
        }
        Command::Account(AccountCommand::Remove { account }) => {
            let nats = connect(&cli.nats).await?;
            // Removing needs no key: the value is not read.
            let registry = Registry::open(&nats, SecretKey::generate()?).await?;
            registry.remove(&account).await?;
            out!("removed {account}");
            Ok(())
        }
        Command::Account(AccountCommand::List) => list(&connect(&cli.nats).await?).await,
        Command::Login { account } => {
            let nats = connect(&cli.nats).await?;
            let remote = tdlib_nats::connect(nats, &account).await?;
            // The node sends the parameters and the phone number or token from the
            // registration; the terminal is asked only for what a person must give.
            let mut terminal =
                tdlib::auth::Terminal::new(tdlib::functions::SetTdlibParameters::default());
            tdlib::auth::authorize(&remote, &mut terminal).await?;
            out!("{account} is logged in");
            Ok(())
        }
        Command::Call { account, request } => {
            let request: serde_json::Value = serde_json::from_str(&request)
                .map_err(|error| format!("the request is not JSON: {error}"))?;
            let nats = connect(&cli.nats).await?;
            let remote = tdlib_nats::connect(nats, &account).await?;
            let answer = remote.send_json(request).await?;
            out!("{answer}");
            Ok(())
        }
        Command::Work { group, account } => {
            let nats = connect(&cli.nats).await?;
            let mut queue = WorkQueue::join(nats, &group, &account).await?;
            let mut stop = std::pin::pin!(shutdown());
            loop {
                let delivered = tokio::select! {
                    () = &mut stop => return Ok(()),
                    delivered = queue.next() => delivered,
                };
                let Some(delivered) = delivered else {
                    return Err("the connection to NATS ended".into());
                };
                // One bad message (reported and set aside) or a missed heartbeat does not end
                // the worker.
                let delivered = match delivered {
                    Ok(delivered) => delivered,
                    Err(error) => {
                        tracing::warn!(target: "tdlib_nats", %error, "an update could not be read");
                        continue;
                    }
                };
                let json = tdlib::codec::Encode::to_json(&delivered.update);
                let kind = json.split('"').nth(3).unwrap_or("?");
                out!("{} {kind} {}", delivered.account, delivered.id);
                delivered.ack().await?;
            }
        }
    }
}

async fn list(nats: &async_nats::Client) -> Result<(), BoxError> {
    let accounts = registry::registered_accounts(nats).await?;
    // Listing creates nothing: the leases bucket is the nodes' to create, with their settings.
    let leases = Leases::open_existing(nats).await?;
    out!(
        "{:<24} {:<24} {:<22} {:>6} {:>10}",
        "ACCOUNT",
        "NODE",
        "STATE",
        "LAG",
        "REPEATED"
    );
    for account in accounts {
        let holder = match &leases {
            Some(leases) => leases.holder(&account).await?,
            None => None,
        };
        match holder {
            Some(holder) => out!(
                "{account:<24} {:<24} {:<22} {:>6} {:>10}",
                holder.node,
                holder.state,
                holder.received.saturating_sub(holder.stored),
                holder.repeated
            ),
            None => out!(
                "{account:<24} {:<24} {:<22} {:>6} {:>10}",
                "-",
                "(not served)",
                "-",
                "-"
            ),
        }
    }
    Ok(())
}

fn write_key(file: &std::path::Path) -> Result<(), BoxError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let key = SecretKey::generate()?;
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
        .map_err(|error| format!("cannot create {}: {error}", file.display()))?;
    writeln!(out, "{}", key.to_hex())?;
    out!("wrote a new key to {}", file.display());
    Ok(())
}

fn default_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_default();
    let host: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    let name = format!("{host}-{}", std::process::id());
    if subjects::is_valid_account(&name) {
        name
    } else {
        format!("node-{}", std::process::id())
    }
}

/// Completes at Ctrl-C or SIGTERM.
async fn shutdown() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(terminate) => terminate,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
