//! Shared by the tests: a real `nats-server`, and running test bodies on the fake libtdjson.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tdlib_fake_harness::{Fake, in_child};

/// A `nats-server` with JetStream, on a free loopback port; killed when dropped.
pub struct NatsServer {
    pub child: Child,
    pub url: String,
    _store: PathBuf,
}

impl NatsServer {
    pub fn start(name: &str) -> NatsServer {
        NatsServer::start_with(name, None, &[])
    }

    /// A server with the configuration file `config`, `env` in its environment.
    pub fn start_with(
        name: &str,
        config: Option<&std::path::Path>,
        env: &[(&str, &str)],
    ) -> NatsServer {
        let store = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("nats-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&store);
        let ports_dir = store.join("ports");
        std::fs::create_dir_all(&ports_dir).unwrap();
        let mut command = Command::new("nats-server");
        if let Some(config) = config {
            command.arg("-c").arg(config);
        }
        // `-p -1`: the server picks a free port itself and writes it to a ports file. Picking
        // one here and passing it on raced with tests starting servers in parallel: two could
        // be handed the same port, one server failed to bind, and its test talked to the
        // other's server until that one went away.
        let mut child = command
            .args(["-js", "-a", "127.0.0.1", "-p", "-1", "--ports_file_dir"])
            .arg(&ports_dir)
            .arg("-sd")
            .arg(store.join("jetstream"))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server is needed (Debian: nats-server; scripts/setup installs it)");
        let ports_file = ports_dir.join(format!("nats-server_{}.ports", child.id()));
        let deadline = Instant::now() + Duration::from_secs(10);
        let port = loop {
            // {"nats":["nats://127.0.0.1:45271"]}, written once the server listens.
            let port = std::fs::read_to_string(&ports_file).ok().and_then(|text| {
                let (_, rest) = text.split_once("127.0.0.1:")?;
                rest.split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse::<u16>()
                    .ok()
            });
            if let Some(port) = port
                && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            {
                break port;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("nats-server exited at start: {status}");
            }
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        NatsServer {
            child,
            url: format!("nats://127.0.0.1:{port}"),
            _store: store,
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._store);
    }
}

/// Runs `test` in a child process on the fake library with `script`; returns the fake (for
/// its request log) in the parent once the child passed, `None` in the child.
pub fn on_fake(test: &str, script: serde_json::Value) -> Option<Fake> {
    if in_child() {
        return None;
    }
    let fake = Fake::new(test, &script);
    let output = fake.run_test_in_child(test);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert_eq!(fake.script_errors(), Vec::<String>::new());
    Some(fake)
}

/// A runtime for the child's part, and its NATS server.
pub fn runtime_and_server(name: &str) -> (tokio::runtime::Runtime, NatsServer) {
    tdlib::set_log_verbosity(1).unwrap();
    let server = NatsServer::start(name);
    (runtime(), server)
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A local client on the fake, logged in as the bot `token`, served as `account`.
pub async fn served_bot(
    nats: &async_nats::Client,
    account: &str,
    token: &str,
) -> (tdlib::Client, tdlib_nats::serving::Served) {
    let local = tdlib::Client::new().unwrap();
    let parameters = tdlib::auth::parameters(
        1,
        "0123456789abcdef0123456789abcdef",
        format!("{account}-db"),
    );
    tdlib::auth::authorize(&local, &mut tdlib::auth::Bot::new(parameters, token))
        .await
        .unwrap();
    let served = tdlib_nats::serve(nats.clone(), account, local.clone())
        .await
        .unwrap();
    (local, served)
}
