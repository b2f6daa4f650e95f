//! Remote requests and updates through a real `nats-server` (JetStream on a temporary folder,
//! loopback), against the local client; prints a Markdown table.
//!
//! `cargo bench -p tdlib-nats --bench nats`
//!
//! - Requests: `testSquareInt` on the real TDLib (offline), served in this process with
//!   [`tdlib_nats::serve`] and called through a remote client, beside the same calls on the
//!   local client: 1,000 in flight at a time (`join_all` in one task), and one at a time.
//! - Updates (a child process on the scripted fake libtdjson, release): a burst of new
//!   messages in 64 chats through a served client into the stream, then read by one durable
//!   consumer, then by four workers of a work queue (each chat in order).
//!
//! Beside each figure, the CPU the NATS server used in that phase (its user + system time over
//! the phase's wall time; 2.0 would be both CPUs of this machine).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::json;
use support::NatsServer;
use tdlib::{Client, functions};
use tdlib_nats::consumer::{Durable, WorkQueue};

const WINDOW: usize = 1_000;
const WINDOWS: usize = 20;
const SEQUENTIAL: usize = 2_000;
const UPDATES: u64 = 100_000;
const CHATS: i64 = 64;
const UPDATES_CHILD: &str = "--updates-child";
const TOKEN: &str = "1:bench";

/// CPU seconds (user + system) a process has used so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: f64 = fields
        .get(11..13)
        .map(|times| times.iter().filter_map(|t| t.parse::<f64>().ok()).sum())
        .unwrap_or_default();
    ticks / 100.0
}

/// Runs `phase`, returning its result, its wall time and the server's CPU share over it.
async fn measured<T>(
    server: u32,
    phase: impl std::future::Future<Output = T>,
) -> (T, Duration, f64) {
    let cpu = cpu_seconds(server);
    let started = Instant::now();
    let result = phase.await;
    let elapsed = started.elapsed();
    (
        result,
        elapsed,
        (cpu_seconds(server) - cpu) / elapsed.as_secs_f64(),
    )
}

async fn windows(client: &Client) {
    for window in 0..WINDOWS {
        let answers = join_all((0..WINDOW).map(|index| {
            client.send(functions::TestSquareInt {
                x: (window * WINDOW + index) as i32 % 40_000,
            })
        }))
        .await;
        for (index, answer) in answers.into_iter().enumerate() {
            let x = (window * WINDOW + index) as i32 % 40_000;
            assert_eq!(answer.unwrap().value, x * x);
        }
    }
}

/// Each round trip, in microseconds, sorted.
async fn one_at_a_time(client: &Client) -> Vec<f64> {
    let mut times = Vec::with_capacity(SEQUENTIAL);
    for x in 0..SEQUENTIAL as i32 {
        let started = Instant::now();
        let square = client.send(functions::TestSquareInt { x }).await.unwrap();
        times.push(started.elapsed().as_secs_f64() * 1e6);
        assert_eq!(square.value, x * x);
    }
    times.sort_by(f64::total_cmp);
    times
}

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * fraction) as usize]
}

fn requests(rows: &mut Vec<String>) {
    let server = NatsServer::start("bench-requests");
    let pid = server.child.id();
    let runtime = support::runtime();
    runtime.block_on(async {
        // The local client alone first: the baseline of this runtime, nothing else running.
        let alone = Client::new().unwrap();
        one_at_a_time(&alone).await;
        let alone_times = one_at_a_time(&alone).await;
        rows.push(format!(
            "| one request at a time ({SEQUENTIAL}), median round trip, local client alone (no NATS) | {:.1} µs | | | |",
            percentile(&alone_times, 0.5)
        ));
        alone.close().await.unwrap();
        let nats = async_nats::connect(&server.url).await.unwrap();
        let local = Client::new().unwrap();
        let _served = tdlib_nats::serve(nats.clone(), "bench", local.clone())
            .await
            .unwrap();
        let remote = tdlib_nats::connect(nats.clone(), "bench").await.unwrap();
        // Warm-up of both paths.
        windows(&local).await;
        windows(&remote).await;
        let total = (WINDOW * WINDOWS) as f64;
        let ((), local_time, _) = measured(pid, windows(&local)).await;
        let ((), remote_time, server_cpu) = measured(pid, windows(&remote)).await;
        rows.push(format!(
            "| requests, {WINDOW} in flight (join_all, {WINDOWS} windows) | {:.0} requests/s | {:.0} requests/s | {:.3} | {server_cpu:.2} |",
            total / local_time.as_secs_f64(),
            total / remote_time.as_secs_f64(),
            local_time.as_secs_f64() / remote_time.as_secs_f64(),
        ));
        let (local_times, _, _) = measured(pid, one_at_a_time(&local)).await;
        let (remote_times, _, server_cpu) = measured(pid, one_at_a_time(&remote)).await;
        for (name, fraction) in [("median", 0.5), ("p99", 0.99)] {
            rows.push(format!(
                "| one request at a time ({SEQUENTIAL}), {name} round trip | {:.1} µs | {:.1} µs | {:.3} | {} |",
                percentile(&local_times, fraction),
                percentile(&remote_times, fraction),
                percentile(&local_times, fraction) / percentile(&remote_times, fraction),
                if fraction == 0.5 { format!("{server_cpu:.2}") } else { String::new() },
            ));
        }
        remote.close().await.unwrap();
        local.close().await.unwrap();
    });
}

fn updates_script() -> serde_json::Value {
    json!({
        "login": {"bot_token": TOKEN},
        "conversation": [
            {"wait_for": {"request": "testCallEmpty", "count": 1, "timeout_ms": 600000}},
            {"messages": {"chats": (1..=CHATS).collect::<Vec<_>>(), "count": UPDATES}},
        ]
    })
}

/// In the child (on the fake): the burst into the stream, then the two ways of reading it.
fn updates_child() {
    tdlib::set_log_verbosity(1).unwrap();
    let server = NatsServer::start("bench-updates");
    let pid = server.child.id();
    let runtime = support::runtime();
    runtime.block_on(async {
        let nats = async_nats::connect(&server.url).await.unwrap();
        let (local, _served) = support::served_bot(&nats, "bench", TOKEN).await;
        let stream = tdlib_nats::serving::update_stream(&nats).await.unwrap();
        let first = stream.clone().info().await.unwrap().state.last_sequence;
        let ((), elapsed, server_cpu) = measured(pid, async {
            local.send(functions::TestCallEmpty {}).await.unwrap();
            let mut stream = stream.clone();
            while stream.info().await.unwrap().state.last_sequence < first + UPDATES {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        println!(
            "| {UPDATES} new messages: TDLib → node → stream (stored, acknowledged) | {:.0} updates/s | {server_cpu:.2} |",
            UPDATES as f64 / elapsed.as_secs_f64()
        );
        let (read, elapsed, server_cpu) = measured(pid, async {
            let mut durable = Durable::open(nats.clone(), "bench", "bench").await.unwrap();
            let mut read = 0;
            while read < first + UPDATES {
                let delivered = durable.next().await.unwrap().unwrap();
                delivered.ack().await.unwrap();
                read += 1;
            }
            read
        })
        .await;
        println!(
            "| stream → one durable consumer ({read} updates, each acknowledged) | {:.0} updates/s | {server_cpu:.2} |",
            read as f64 / elapsed.as_secs_f64()
        );
        let (read, elapsed, server_cpu) = measured(pid, async {
            let counted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
            let mut workers = Vec::new();
            for _ in 0..4 {
                // Each worker on its own connection, as separate processes would be.
                let nats = async_nats::connect(&server.url).await.unwrap();
                let mut queue = WorkQueue::join(nats, "bench-workers", "bench").await.unwrap();
                let counted = counted.clone();
                workers.push(tokio::spawn(async move {
                    while let Some(delivered) = queue.next().await {
                        delivered.unwrap().ack().await.unwrap();
                        counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }));
            }
            while counted.load(std::sync::atomic::Ordering::Relaxed) < first + UPDATES {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            for worker in workers {
                worker.abort();
            }
            counted.load(std::sync::atomic::Ordering::Relaxed)
        })
        .await;
        println!(
            "| stream → work queue, 4 workers, {CHATS} chats in order ({read} updates) | {:.0} updates/s | {server_cpu:.2} |",
            read as f64 / elapsed.as_secs_f64()
        );
        local.close().await.unwrap();
    });
}

fn main() {
    if std::env::args().any(|arg| arg == UPDATES_CHILD) {
        updates_child();
        return;
    }
    tdlib::set_log_verbosity(1).unwrap();
    let mut rows = Vec::new();
    requests(&mut rows);
    println!(
        "\n| requests (real TDLib, offline `testSquareInt`) | local | remote over NATS | remote/local | NATS server CPU |"
    );
    println!("|---|---|---|---|---|");
    for row in &rows {
        println!("{row}");
    }

    let fake = tdlib_fake_harness::Fake::new_release("bench-nats-updates", &updates_script());
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command.arg(UPDATES_CHILD);
    fake.configure(&mut command);
    println!("\n| updates (scripted fake libtdjson, release) | throughput | NATS server CPU |");
    println!("|---|---|---|");
    let status = command.status().unwrap();
    assert!(status.success(), "the updates child failed");
}
