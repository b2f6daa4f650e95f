//! The wrapper against the raw C interface, side by side in one run:
//! `cargo bench -p tdlib --bench wrapper` prints one table (unpinned, then pinned to one CPU
//! with `taskset -c 0`).
//!
//! - **raw**: `tdlib-sys` alone: `td_send` of preformatted JSON, `td_receive`, and a minimal
//!   scan of each answer (its `@extra` and value), which is checked. The physical limit.
//! - **typed**: [`Client::send`] with typed requests and answers.
//! - **json**: [`Client::send_json`], the client's raw-JSON path.
//!
//! Workloads (every answer checked, one warm-up round excluded, median of [`ROUNDS`] rounds with
//! the slowest and fastest): B1 latency (sequential `testSquareInt`), B2 throughput (up to 1,000
//! in flight), B2w the same in windows of 1,000 (one task sends a window and awaits it with
//! `join_all`, as most programs batch requests; the raw loop sends a window of preformatted
//! requests and receives its 1,000 answers), B3 sequential `testCallString` with 10 KiB, B4
//! eight clients with 1,000 in flight in total, all against the real libtdjson 1.8.65; B5 update
//! fan-out of a 1,000,000-update burst from the scripted fake libtdjson (a child process with
//! the fake first on the loader path) to 1, 8 and 64 subscribers and to the lossless
//! subscription, each beside the raw receive loop of the same run (a `tdlib-sys` client logged
//! in with raw JSON that scans each update's `@type` and counts the burst); and memory per idle
//! client and per 10,000 pending requests.

use std::ffi::{CStr, CString};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tdlib::enums::{OptionValue, Update};
use tdlib::{Client, Event, functions};

const ROUNDS: usize = 5;
const B1_REQUESTS: usize = 20_000;
const B2_REQUESTS: usize = 200_000;
const IN_FLIGHT: usize = 1_000;
const B2W_REQUESTS: usize = 200_000;
const B2W_WINDOW: usize = 1_000;
const B3_REQUESTS: usize = 20_000;
const B3_SIZE: usize = 10 * 1024;
const B4_CLIENTS: usize = 8;
const B4_PER_CLIENT: usize = 50_000;
const B5_UPDATES: usize = 1_000_000;
const IDLE_CLIENTS: usize = 20;
const PENDING: usize = 10_000;

// ---------------------------------------------------------------------------------------------
// Measuring.

/// Operations per second over several rounds.
struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

fn stats(operations: usize, mut durations: Vec<Duration>) -> Stats {
    durations.sort();
    let rate = |d: &Duration| operations as f64 / d.as_secs_f64();
    Stats {
        median: rate(&durations[durations.len() / 2]),
        min: rate(&durations[durations.len() - 1]),
        max: rate(&durations[0]),
    }
}

/// Runs `round` once to warm up and then [`ROUNDS`] times.
fn rounds(operations: usize, mut round: impl FnMut() -> Duration) -> Stats {
    round();
    stats(operations, (0..ROUNDS).map(|_| round()).collect())
}

/// The receive thread of the client stops after the last close; the raw loop must not receive
/// before that (two receivers abort the process).
fn wait_for_receive_thread_to_stop() {
    while tdlib::health().receiving {
        std::thread::sleep(Duration::from_millis(5));
    }
}

// ---------------------------------------------------------------------------------------------
// Raw: tdlib-sys alone.

/// Raw clients, closed (and drained until Closed) on drop.
struct RawClients(Vec<i32>);

impl RawClients {
    fn new(count: usize) -> RawClients {
        wait_for_receive_thread_to_stop();
        // SAFETY: no preconditions.
        RawClients(
            (0..count)
                .map(|_| unsafe { tdlib_sys::td_create_client_id() })
                .collect(),
        )
    }

    fn send(&self, client: usize, request: &CStr) {
        // SAFETY: a valid NUL-terminated request.
        unsafe { tdlib_sys::td_send(self.0[client], request.as_ptr()) };
    }

    /// The next answer's bytes, handed to `scan` before the next TDLib call on this thread.
    fn receive<T>(&self, scan: impl FnOnce(&[u8]) -> T) -> Option<T> {
        // SAFETY: this benchmark's only receiver while no `Client` exists.
        let answer = unsafe { tdlib_sys::td_receive(1.0) };
        if answer.is_null() {
            return None;
        }
        // SAFETY: valid until this thread's next TDLib call; `scan` finishes before that.
        Some(scan(unsafe { CStr::from_ptr(answer) }.to_bytes()))
    }
}

impl Drop for RawClients {
    fn drop(&mut self) {
        let close = CString::new(r#"{"@type":"close"}"#).unwrap();
        for client in 0..self.0.len() {
            self.send(client, &close);
        }
        let mut open = self.0.len();
        while open > 0 {
            if self.receive(|text| contains(text, b"authorizationStateClosed")) == Some(true) {
                open -= 1;
            }
        }
    }
}

fn contains(text: &[u8], pattern: &[u8]) -> bool {
    text.windows(pattern.len()).any(|window| window == pattern)
}

/// The integer after `key` (e.g. `"value":`), scanned without parsing the JSON.
fn number_after(text: &[u8], key: &[u8]) -> Option<i64> {
    let at = text.windows(key.len()).rposition(|window| window == key)? + key.len();
    let rest = &text[at..];
    let end = rest
        .iter()
        .position(|b| !(b.is_ascii_digit() || *b == b'-'))
        .unwrap_or(rest.len());
    std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
}

fn square_request(i: usize) -> CString {
    CString::new(format!(
        r#"{{"@type":"testSquareInt","x":{},"@extra":{i}}}"#,
        i % 1000
    ))
    .unwrap()
}

/// Checks a `testInt` answer against its request (by `@extra`); false for anything else.
fn square_answer(text: &[u8]) -> bool {
    if !text.starts_with(br#"{"@type":"testInt""#) {
        return false;
    }
    let extra = number_after(text, br#""@extra":"#).expect("@extra") as usize;
    let value = number_after(text, br#""value":"#).expect("value");
    let x = (extra % 1000) as i64;
    assert_eq!(value, x * x, "wrong answer");
    true
}

/// `total` testSquareInt over `clients`, up to `in_flight` at once.
fn raw_squares(clients: usize, total: usize, in_flight: usize) -> Duration {
    let raw = RawClients::new(clients);
    let started = Instant::now();
    let (mut sent, mut received) = (0, 0);
    while sent < in_flight.min(total) {
        raw.send(sent % clients, &square_request(sent));
        sent += 1;
    }
    while received < total {
        if raw.receive(square_answer) == Some(true) {
            received += 1;
            if sent < total {
                raw.send(sent % clients, &square_request(sent));
                sent += 1;
            }
        }
    }
    started.elapsed()
}

/// `total` testSquareInt in windows of `window`: a whole window sent, then received until all
/// its answers are in, then the next. The requests are formatted once, before the clock starts,
/// and sent again in every window: their `@extra` is their place in the window, which is all
/// [`square_answer`] needs to check them (a window is complete before the next is sent).
fn raw_square_windows(total: usize, window: usize) -> Duration {
    assert_eq!(total % window, 0, "whole windows only");
    let requests: Vec<CString> = (0..window).map(square_request).collect();
    let raw = RawClients::new(1);
    let started = Instant::now();
    for _ in 0..total / window {
        for request in &requests {
            raw.send(0, request);
        }
        let mut received = 0;
        while received < window {
            if raw.receive(square_answer) == Some(true) {
                received += 1;
            }
        }
    }
    started.elapsed()
}

fn raw_strings(payload: &str) -> Duration {
    let raw = RawClients::new(1);
    let expected = format!(r#""value":"{payload}""#);
    let started = Instant::now();
    for i in 0..B3_REQUESTS {
        let request = CString::new(format!(
            r#"{{"@type":"testCallString","x":"{payload}","@extra":{i}}}"#
        ))
        .unwrap();
        raw.send(0, &request);
        loop {
            let done = raw.receive(|text| {
                if !text.starts_with(br#"{"@type":"testString""#) {
                    return false;
                }
                assert!(contains(text, expected.as_bytes()), "wrong answer");
                assert_eq!(number_after(text, br#""@extra":"#), Some(i as i64));
                true
            });
            if done == Some(true) {
                break;
            }
        }
    }
    started.elapsed()
}

// ---------------------------------------------------------------------------------------------
// The client: typed and JSON.

#[derive(Clone, Copy, PartialEq)]
enum Path {
    Typed,
    Json,
}

async fn square(client: &Client, path: Path, x: i32) {
    match path {
        Path::Typed => {
            let answer = client.send(functions::TestSquareInt { x }).await.unwrap();
            assert_eq!(answer.value, x * x);
        }
        Path::Json => {
            let request = serde_json::json!({"@type": "testSquareInt", "x": x});
            let answer = client.send_json(request).await.unwrap();
            assert_eq!(answer["value"].as_i64(), Some(i64::from(x) * i64::from(x)));
        }
    }
}

async fn client_squares(path: Path, clients: usize, total: usize, in_flight: usize) -> Duration {
    let clients: Vec<Client> = (0..clients).map(|_| Client::new().unwrap()).collect();
    let started = Instant::now();
    let workers: Vec<_> = (0..in_flight.min(total))
        .map(|worker| {
            let client = clients[worker % clients.len()].clone();
            tokio::spawn(async move {
                for i in (worker..total).step_by(in_flight) {
                    square(&client, path, (i % 1000) as i32).await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let elapsed = started.elapsed();
    for client in clients {
        client.close().await.unwrap();
    }
    elapsed
}

/// `total` requests in windows of `window`, the way most programs batch: one task sends a window
/// and awaits all of it with `join_all`, then the next. The caller runs it as the `block_on`
/// future itself (no spawned task), so one task polls the whole batch.
async fn client_square_windows(path: Path, total: usize, window: usize) -> Duration {
    assert_eq!(total % window, 0, "whole windows only");
    let client = Client::new().unwrap();
    let started = Instant::now();
    for first in (0..total).step_by(window) {
        let requests = (first..first + window).map(|i| square(&client, path, (i % 1000) as i32));
        futures_util::future::join_all(requests).await;
    }
    let elapsed = started.elapsed();
    client.close().await.unwrap();
    elapsed
}

/// The blocking face: `in_flight` threads, each sending its share of the requests one after
/// another (a blocking request holds its thread: threads are how it has requests in flight).
fn blocking_squares(total: usize, in_flight: usize) -> Duration {
    let client = tdlib::blocking::Client::new().unwrap();
    let start = std::sync::Arc::new(std::sync::Barrier::new(in_flight + 1));
    let workers: Vec<_> = (0..in_flight)
        .map(|worker| {
            let client = client.clone();
            let start = start.clone();
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    start.wait();
                    for i in (worker..total).step_by(in_flight) {
                        let x = (i % 1000) as i32;
                        let answer = client.send(functions::TestSquareInt { x }).unwrap();
                        assert_eq!(answer.value, x * x);
                    }
                })
                .unwrap()
        })
        .collect();
    start.wait();
    let started = Instant::now();
    for worker in workers {
        worker.join().unwrap();
    }
    let elapsed = started.elapsed();
    client.close().unwrap();
    elapsed
}

async fn client_strings(path: Path, payload: &str) -> Duration {
    let client = Client::new().unwrap();
    let started = Instant::now();
    for _ in 0..B3_REQUESTS {
        match path {
            Path::Typed => {
                let request = functions::TestCallString { x: payload.into() };
                let answer = client.send(request).await.unwrap();
                assert_eq!(answer.value, payload);
            }
            Path::Json => {
                let request = serde_json::json!({"@type": "testCallString", "x": payload});
                let answer = client.send_json(request).await.unwrap();
                assert_eq!(answer["value"].as_str(), Some(payload));
            }
        }
    }
    let elapsed = started.elapsed();
    client.close().await.unwrap();
    elapsed
}

// ---------------------------------------------------------------------------------------------
// The table.

struct Table {
    rows: Vec<String>,
}

impl Table {
    fn row(
        &mut self,
        workload: &str,
        unit: &str,
        raw: &Stats,
        [typed, json]: [&Stats; 2],
        blocking: Option<&Stats>,
    ) {
        let cell = |s: &Stats| format!("{:.0} ({:.0}–{:.0})", s.median, s.min, s.max);
        let (blocking_cell, blocking_ratio) = match blocking {
            Some(stats) => (cell(stats), format!("{:.2}", stats.median / raw.median)),
            None => ("–".to_owned(), "–".to_owned()),
        };
        self.rows.push(format!(
            "| {workload} | {unit} | {} | {} | {} | {blocking_cell} | **{:.2}** | {:.2} | {blocking_ratio} |",
            cell(raw),
            cell(typed),
            cell(json),
            typed.median / raw.median,
            json.median / raw.median
        ));
    }
}

/// Whether `workload` (b1, b2, b2w, b3, b4, b5, memory) is selected: all, unless `TDLIB_BENCH_ONLY` lists
/// some (comma-separated), e.g. for profiling one of them.
fn selected(workload: &str) -> bool {
    std::env::var("TDLIB_BENCH_ONLY").map_or(true, |only| {
        only.split(',')
            .any(|name| name.trim().eq_ignore_ascii_case(workload))
    })
}

fn request_benchmarks(runtime: &tokio::runtime::Runtime, table: &mut Table) {
    if selected("b1") {
        b1(runtime, table);
    }
    if selected("b2") {
        b2(runtime, table);
    }
    if selected("b2w") {
        b2w(runtime, table);
    }
    if selected("b3") {
        b3(runtime, table);
    }
    if selected("b4") {
        b4(runtime, table);
    }
}

fn b1(runtime: &tokio::runtime::Runtime, table: &mut Table) {
    let b1_raw = rounds(B1_REQUESTS, || raw_squares(1, B1_REQUESTS, 1));
    let b1 = |path| {
        rounds(B1_REQUESTS, || {
            runtime.block_on(client_squares(path, 1, B1_REQUESTS, 1))
        })
    };
    let (b1_typed, b1_json) = (b1(Path::Typed), b1(Path::Json));
    let b1_blocking = rounds(B1_REQUESTS, || blocking_squares(B1_REQUESTS, 1));
    table.row(
        "B1 latency: 20,000 sequential testSquareInt",
        "round trips/s",
        &b1_raw,
        [&b1_typed, &b1_json],
        Some(&b1_blocking),
    );
}

fn b2(runtime: &tokio::runtime::Runtime, table: &mut Table) {
    let b2_raw = rounds(B2_REQUESTS, || raw_squares(1, B2_REQUESTS, IN_FLIGHT));
    let b2 = |path| {
        rounds(B2_REQUESTS, || {
            runtime.block_on(client_squares(path, 1, B2_REQUESTS, IN_FLIGHT))
        })
    };
    let (b2_typed, b2_json) = (b2(Path::Typed), b2(Path::Json));
    let b2_blocking = rounds(B2_REQUESTS, || blocking_squares(B2_REQUESTS, IN_FLIGHT));
    table.row(
        "B2 throughput: 200,000 testSquareInt, 1,000 in flight",
        "requests/s",
        &b2_raw,
        [&b2_typed, &b2_json],
        Some(&b2_blocking),
    );
}

fn b2w(runtime: &tokio::runtime::Runtime, table: &mut Table) {
    let b2w_raw = rounds(B2W_REQUESTS, || {
        raw_square_windows(B2W_REQUESTS, B2W_WINDOW)
    });
    let b2w = |path| {
        rounds(B2W_REQUESTS, || {
            runtime.block_on(client_square_windows(path, B2W_REQUESTS, B2W_WINDOW))
        })
    };
    let (b2w_typed, b2w_json) = (b2w(Path::Typed), b2w(Path::Json));
    // No blocking column: a blocking request holds its thread, so one thread cannot await a
    // window; with a thread per request it would be B2 again.
    table.row(
        "B2w: 200,000 testSquareInt in windows of 1,000, one task awaiting each with join_all",
        "requests/s",
        &b2w_raw,
        [&b2w_typed, &b2w_json],
        None,
    );
}

fn b3(runtime: &tokio::runtime::Runtime, table: &mut Table) {
    let payload: String = (0..B3_SIZE)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let b3_raw = rounds(B3_REQUESTS, || raw_strings(&payload));
    let b3 = |path| {
        rounds(B3_REQUESTS, || {
            runtime.block_on(client_strings(path, &payload))
        })
    };
    let (b3_typed, b3_json) = (b3(Path::Typed), b3(Path::Json));
    table.row(
        "B3: 20,000 sequential testCallString, 10 KiB",
        "round trips/s",
        &b3_raw,
        [&b3_typed, &b3_json],
        None,
    );
}

fn b4(runtime: &tokio::runtime::Runtime, table: &mut Table) {
    let b4_total = B4_CLIENTS * B4_PER_CLIENT;
    let b4_raw = rounds(b4_total, || raw_squares(B4_CLIENTS, b4_total, IN_FLIGHT));
    let b4 = |path| {
        rounds(b4_total, || {
            runtime.block_on(client_squares(path, B4_CLIENTS, b4_total, IN_FLIGHT))
        })
    };
    let (b4_typed, b4_json) = (b4(Path::Typed), b4(Path::Json));
    table.row(
        "B4: 8 clients × 50,000 testSquareInt, 1,000 in flight",
        "requests/s",
        &b4_raw,
        [&b4_typed, &b4_json],
        None,
    );
}

// ---------------------------------------------------------------------------------------------
// Memory.

/// (current, peak) resident set size of this process, in KiB.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn memory_benchmarks(runtime: &tokio::runtime::Runtime) -> Vec<String> {
    let mut lines = Vec::new();
    runtime.block_on(async {
        // Idle clients: started (TDLib instance up), no parameters.
        let (before, _) = rss_kib();
        let clients: Vec<Client> = (0..IDLE_CLIENTS).map(|_| Client::new().unwrap()).collect();
        for client in &clients {
            let mut states = client.authorization_states();
            let _ = states.wait_for(|_| true).await;
        }
        let (_, peak) = rss_kib();
        for client in clients {
            client.close().await.unwrap();
        }
        lines.push(format!(
            "| peak RSS per idle client (TDLib's instance and threads included), {IDLE_CLIENTS} clients | {:.0} KiB |",
            (peak.saturating_sub(before)) as f64 / IDLE_CLIENTS as f64
        ));

        // Pending requests: testNetwork never gets an answer offline.
        let client = Client::new().unwrap();
        let _ = client.send(functions::TestCallEmpty {}).await;
        let (before, _) = rss_kib();
        let pending: Vec<_> = (0..PENDING)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move { client.send(functions::TestNetwork {}).await })
            })
            .collect();
        while tdlib::health().pending_requests < PENDING {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (after, peak) = rss_kib();
        client.close().await.unwrap();
        for request in pending {
            assert!(request.await.unwrap().is_err());
        }
        lines.push(format!(
            "| RSS growth for 10,000 pending requests (TDLib's own share included) | {} KiB (peak RSS of the process then: {peak} KiB) |",
            after.saturating_sub(before)
        ));
    });
    lines
}

// ---------------------------------------------------------------------------------------------
// B5: update fan-out, in a child process running on the fake libtdjson.

const B5_CHILD: &str = "--b5-child";
/// The login of both the client and the raw loop (the fake takes any API id and hash).
const B5_BOT_TOKEN: &str = "1:bench";
const B5_API_HASH: &str = "0123456789abcdef0123456789abcdef";
const B5_DATABASE: &str = "bench-db";
/// The `@extra` of the raw loop's `testCallEmpty`, which starts the burst.
const B5_START_EXTRA: i64 = 3;

fn b5_script() -> serde_json::Value {
    serde_json::json!({
        "login": {"bot_token": B5_BOT_TOKEN},
        "conversation": [
            {"wait_for": {"request": "testCallEmpty", "count": 1, "timeout_ms": 60000}},
            {"burst": {"count": B5_UPDATES, "update": {"@type": "updateOption", "name": "bench",
                "value": {"@type": "optionValueInteger", "value": "42"}}}},
            {"update": {"@type": "updateOption", "name": "bench_end",
                "value": {"@type": "optionValueEmpty"}}}
        ]
    })
}

fn is_end(update: &Update) -> bool {
    matches!(update, Update::Option(option) if option.name == "bench_end"
        && matches!(option.value, OptionValue::Empty(_)))
}

/// What one fan-out round measured.
struct FanOut {
    elapsed: Duration,
    /// Updates received per subscriber (average), and lag events over all subscribers.
    received: f64,
    lag_events: u64,
}

async fn fan_out_round(subscribers: usize, lossless: bool) -> FanOut {
    let client = Client::new().unwrap();
    let parameters = tdlib::auth::parameters(1, B5_API_HASH, B5_DATABASE);
    tdlib::auth::authorize(
        &client,
        &mut tdlib::auth::Bot::new(parameters, B5_BOT_TOKEN),
    )
    .await
    .unwrap();
    let mut tasks = Vec::new();
    if lossless {
        let mut updates = client.subscription::<Update>().lossless().subscribe();
        tasks.push(tokio::spawn(async move {
            let mut received = 0u64;
            while let Some(event) = updates.recv().await {
                match event {
                    Event::Update(update) if is_end(update.update()) => break,
                    Event::Update(_) => received += 1,
                    _ => panic!("a lossless subscription has only updates"),
                }
            }
            (received, 0u64)
        }));
    }
    for _ in 0..subscribers {
        let mut updates = client.updates();
        tasks.push(tokio::spawn(async move {
            let (mut received, mut lags) = (0u64, 0u64);
            while let Some(event) = updates.recv().await {
                match event {
                    Event::Update(update) if is_end(update.update()) => break,
                    Event::Update(update) => {
                        std::hint::black_box(Arc::as_ptr(update.update()));
                        received += 1;
                    }
                    Event::Missed(_) => lags += 1,
                    _ => break,
                }
            }
            (received, lags)
        }));
    }
    let started = Instant::now();
    client.send(functions::TestCallEmpty {}).await.unwrap();
    let (mut received, mut lag_events) = (0u64, 0u64);
    let count = tasks.len();
    for task in tasks {
        let (r, l) = task.await.unwrap();
        received += r;
        lag_events += l;
    }
    let elapsed = started.elapsed();
    client.close().await.unwrap();
    if lossless {
        assert_eq!(
            received, B5_UPDATES as u64,
            "the lossless subscription lost updates"
        );
    }
    FanOut {
        elapsed,
        received: received as f64 / count as f64,
        lag_events,
    }
}

/// One step of the raw login: sends `request` (whose `@extra` is `extra`) and receives until it
/// is answered `ok` and the authorization state `state` was announced, in either order (TDLib
/// announces the new state before it answers). An error answer fails the benchmark.
fn raw_login_step(raw: &RawClients, request: &str, extra: i64, state: &str) {
    raw.send(0, &CString::new(request).unwrap());
    let state = format!(r#""@type":"{state}""#);
    let (mut answered, mut reached) = (false, false);
    while !(answered && reached) {
        raw.receive(|text| {
            assert!(
                !text.starts_with(br#"{"@type":"error""#),
                "the raw login failed: {}",
                String::from_utf8_lossy(text)
            );
            if text.starts_with(br#"{"@type":"ok""#) {
                assert_eq!(number_after(text, br#""@extra":"#), Some(extra));
                answered = true;
            } else if text.starts_with(br#"{"@type":"updateAuthorizationState""#)
                && contains(text, state.as_bytes())
            {
                reached = true;
            }
        });
    }
}

/// The `@type` of a TDLib object and the text after it, scanned without parsing: TDLib (and the
/// fake) writes `@type` first.
fn object_type(text: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = text.strip_prefix(br#"{"@type":""#)?;
    let end = rest.iter().position(|&b| b == b'"')?;
    Some((&rest[..end], &rest[end + 1..]))
}

/// What the raw loop makes of one object during the burst.
enum BurstItem {
    Update,
    /// The `bench_end` option: the burst is over.
    End,
    /// The answer to the `testCallEmpty` that started the burst.
    Started,
}

fn burst_item(text: &[u8]) -> BurstItem {
    let Some((kind, rest)) = object_type(text) else {
        panic!("no @type first: {}", String::from_utf8_lossy(text));
    };
    if !kind.starts_with(b"update") {
        assert!(
            kind == b"ok" && number_after(text, br#""@extra":"#) == Some(B5_START_EXTRA),
            "unexpected during the burst: {}",
            String::from_utf8_lossy(text)
        );
        return BurstItem::Started;
    }
    // `name` is the first field of updateOption (fields come in schema order), so the end is
    // told from a burst update by a prefix, not by a search through every update.
    if kind == b"updateOption" && rest.starts_with(br#","name":"bench_end""#) {
        return BurstItem::End;
    }
    BurstItem::Update
}

/// The raw receive loop: what delivery needs at the least. A `tdlib-sys` client logs in with raw
/// JSON, sends `testCallEmpty` (which starts the burst) and counts the updates by their `@type`
/// until `bench_end`, timed like [`fan_out_round`]. Only while no [`Client`] exists (two
/// receivers abort the process): `RawClients::new` waits for the receive thread to stop.
fn raw_fan_out_round() -> Duration {
    let raw = RawClients::new(1);
    // All fields of TDLib 1.8.65's setTdlibParameters (the fake refuses a missing one), with
    // the values of `tdlib::auth::parameters`. As the first request it also starts the client,
    // which is then in authorizationStateWaitTdlibParameters.
    let parameters = serde_json::json!({
        "@type": "setTdlibParameters",
        "use_test_dc": false,
        "database_directory": B5_DATABASE,
        "files_directory": "",
        "database_encryption_key": "",
        "use_file_database": true,
        "use_chat_info_database": true,
        "use_message_database": true,
        "use_secret_chats": false,
        "api_id": 1,
        "api_hash": B5_API_HASH,
        "system_language_code": "en",
        "device_model": "Rust tdlib",
        "system_version": "",
        "application_version": env!("CARGO_PKG_VERSION"),
        "@extra": 1,
    });
    raw_login_step(
        &raw,
        &parameters.to_string(),
        1,
        "authorizationStateWaitPhoneNumber",
    );
    let token = serde_json::json!({
        "@type": "checkAuthenticationBotToken",
        "token": B5_BOT_TOKEN,
        "@extra": 2,
    });
    raw_login_step(&raw, &token.to_string(), 2, "authorizationStateReady");

    let start = CString::new(format!(
        r#"{{"@type":"testCallEmpty","@extra":{B5_START_EXTRA}}}"#
    ))
    .unwrap();
    let started = Instant::now();
    raw.send(0, &start);
    let (mut updates, mut answered) = (0usize, false);
    loop {
        match raw.receive(burst_item) {
            Some(BurstItem::Update) => updates += 1,
            Some(BurstItem::Started) => answered = true,
            Some(BurstItem::End) => break,
            None => {}
        }
    }
    let elapsed = started.elapsed();
    assert!(answered, "testCallEmpty was not answered before bench_end");
    assert_eq!(updates, B5_UPDATES, "the raw loop lost updates");
    // Dropping `raw` closes the client and receives until authorizationStateClosed.
    elapsed
}

/// The runtime of the typed and JSON paths: tokio's multi-threaded one with 2 workers (one per
/// CPU here), or a single-threaded one with `TDLIB_BENCH_RUNTIME=current_thread`.
fn runtime() -> tokio::runtime::Runtime {
    if std::env::var("TDLIB_BENCH_RUNTIME").is_ok_and(|flavor| flavor == "current_thread") {
        return tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs in the child: prints the B5 rows, the raw receive loop first and each configuration
/// with its ratio to it.
fn b5_child() {
    // The raw loop before any `Client` exists: two receivers abort the process.
    let raw = rounds(B5_UPDATES, raw_fan_out_round);
    println!(
        "| B5 raw: td_receive loop over tdlib-sys scanning each update's @type, {B5_UPDATES} updates | {:.0} ({:.0}–{:.0}) updates/s | {:.0} received/s | {B5_UPDATES} of {B5_UPDATES} received | 1.000 |",
        raw.median, raw.min, raw.max, raw.median,
    );
    let runtime = runtime();
    let configurations: [(&str, usize, bool); 4] = [
        ("1 subscriber", 1, false),
        ("8 subscribers", 8, false),
        ("64 subscribers", 64, false),
        ("lossless subscription", 0, true),
    ];
    for (name, subscribers, lossless) in configurations {
        runtime.block_on(fan_out_round(subscribers, lossless)); // warm-up
        let mut results: Vec<FanOut> = Vec::new();
        for _ in 0..ROUNDS {
            results.push(runtime.block_on(fan_out_round(subscribers, lossless)));
        }
        results.sort_by_key(|result| result.elapsed);
        let median = &results[results.len() / 2];
        let rate = |result: &FanOut| B5_UPDATES as f64 / result.elapsed.as_secs_f64();
        let delivered = median.received / median.elapsed.as_secs_f64();
        println!(
            "| B5 fan-out of {B5_UPDATES} updates: {name} | {:.0} ({:.0}–{:.0}) updates/s | {:.0} delivered per subscriber/s | {:.0} of {B5_UPDATES} received each, {} lag events | {:.3} |",
            rate(median),
            rate(&results[results.len() - 1]),
            rate(&results[0]),
            delivered,
            median.received,
            median.lag_events,
            delivered / raw.median,
        );
    }
}

fn b5_rows(pinned: bool) -> Vec<String> {
    let fake = tdlib_fake_harness::Fake::new_release("bench-b5", &b5_script());
    let exe = std::env::current_exe().unwrap();
    let mut command = if pinned {
        let mut command = Command::new("taskset");
        command.args(["-c", "0"]).arg(&exe);
        command
    } else {
        Command::new(&exe)
    };
    command.arg(B5_CHILD);
    fake.configure(&mut command);
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "B5 child failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

// ---------------------------------------------------------------------------------------------

const PINNED_CHILD: &str = "--pinned-child";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|arg| arg == B5_CHILD) {
        b5_child();
        return;
    }
    let pinned = args.iter().any(|arg| arg == PINNED_CHILD);
    tdlib::set_log_verbosity(1).unwrap();
    let runtime = runtime();
    // Memory first, while the peak RSS is still the process's start-up figure.
    let memory = if selected("memory") {
        memory_benchmarks(&runtime)
    } else {
        Vec::new()
    };
    let mut table = Table { rows: Vec::new() };
    request_benchmarks(&runtime, &mut table);
    let b5 = if selected("b5") {
        b5_rows(pinned)
    } else {
        Vec::new()
    };

    let title = if pinned {
        "pinned to one CPU (taskset -c 0)"
    } else {
        "unpinned (2 CPUs)"
    };
    println!("\n### {title}\n");
    println!(
        "| workload | unit | raw median (min–max) | typed | json | blocking | typed/raw | json/raw | blocking/raw |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for row in &table.rows {
        println!("{row}");
    }
    println!(
        "\n| B5 (scripted fake libtdjson, release) | all subscribers done | each subscriber | lag | ÷ raw |"
    );
    println!("|---|---|---|---|---|");
    for row in &b5 {
        println!("{row}");
    }
    println!("\n| memory | |");
    println!("|---|---|");
    for row in &memory {
        println!("{row}");
    }

    if !pinned {
        // The same again on one CPU, where cross-core wake-ups inside TDLib no longer dominate.
        let status = Command::new("taskset")
            .args(["-c", "0"])
            .arg(std::env::current_exe().unwrap())
            .arg(PINNED_CHILD)
            .status();
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => panic!("the pinned run failed: {status}"),
            Err(error) => println!("\n(no pinned run: taskset is not available: {error})"),
        }
    }
}
