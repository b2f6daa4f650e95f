//! Throughput of `testSquareInt` with up to 1,000 requests in flight: the raw C interface (a
//! loop over `td_send`/`td_receive` with a minimal scan of each answer) against the typed
//! client. Prints one table; `cargo bench -p tdlib --bench throughput`.
//!
//! This is the first of the client benchmarks; the full set (latency, many clients, update
//! fan-out, memory) belongs in the same place.

use std::ffi::{CStr, CString};
use std::time::{Duration, Instant};

use tdlib::{Client, functions};

const REQUESTS: usize = 200_000;
const IN_FLIGHT: usize = 1_000;
const ROUNDS: usize = 5;

fn raw_round() -> Duration {
    // SAFETY: no client exists, so no other thread receives; this function is the only one.
    let client_id = unsafe { tdlib_sys::td_create_client_id() };
    let send = |i: usize| {
        let request = CString::new(format!(
            r#"{{"@type":"testSquareInt","x":{},"@extra":{i}}}"#,
            i % 1000
        ))
        .unwrap();
        // SAFETY: a valid request string.
        unsafe { tdlib_sys::td_send(client_id, request.as_ptr()) };
    };
    let started = Instant::now();
    let (mut sent, mut received) = (0, 0);
    while sent < IN_FLIGHT {
        send(sent);
        sent += 1;
    }
    while received < REQUESTS {
        // SAFETY: only this thread receives.
        let answer = unsafe { tdlib_sys::td_receive(1.0) };
        if answer.is_null() {
            continue;
        }
        // SAFETY: valid until the next call; scanned at once.
        let text = unsafe { CStr::from_ptr(answer) }.to_bytes();
        if text.starts_with(br#"{"@type":"testInt""#) {
            received += 1;
            if sent < REQUESTS {
                send(sent);
                sent += 1;
            }
        }
    }
    let elapsed = started.elapsed();
    let close = CString::new(r#"{"@type":"close"}"#).unwrap();
    // SAFETY: as above; the client is drained until it reports Closed.
    unsafe { tdlib_sys::td_send(client_id, close.as_ptr()) };
    loop {
        // SAFETY: as above.
        let answer = unsafe { tdlib_sys::td_receive(1.0) };
        if !answer.is_null() {
            // SAFETY: as above.
            let text = unsafe { CStr::from_ptr(answer) }.to_string_lossy();
            if text.contains("authorizationStateClosed") {
                break;
            }
        }
    }
    elapsed
}

async fn typed_round() -> Duration {
    let client = Client::new().unwrap();
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..IN_FLIGHT {
        let client = client.clone();
        workers.push(tokio::spawn(async move {
            for i in (worker..REQUESTS).step_by(IN_FLIGHT) {
                let x = (i % 1000) as i32;
                let answer = client.send(functions::TestSquareInt { x }).await.unwrap();
                assert_eq!(answer.value, x * x);
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    let elapsed = started.elapsed();
    client.close().await.unwrap();
    elapsed
}

fn rate(durations: &mut [Duration]) -> (f64, f64, f64) {
    durations.sort();
    let per_second = |d: &Duration| REQUESTS as f64 / d.as_secs_f64();
    (
        per_second(&durations[durations.len() / 2]),
        per_second(&durations[durations.len() - 1]),
        per_second(&durations[0]),
    )
}

fn main() {
    tdlib::set_log_verbosity(1).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // Warm-up, excluded.
    raw_round();
    runtime.block_on(typed_round());
    let mut raw = Vec::new();
    let mut typed = Vec::new();
    for _ in 0..ROUNDS {
        raw.push(raw_round());
        // The receive thread of the typed client stops after its close; wait for that before
        // the raw loop receives again.
        typed.push(runtime.block_on(typed_round()));
        while tdlib::dispatcher_stats().1 {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let (raw_median, raw_min, raw_max) = rate(&mut raw);
    let (typed_median, typed_min, typed_max) = rate(&mut typed);
    println!("| B2: {REQUESTS} testSquareInt, {IN_FLIGHT} in flight | median req/s | min | max |");
    println!("|---|---|---|---|");
    println!("| raw td_send/td_receive | {raw_median:.0} | {raw_min:.0} | {raw_max:.0} |");
    println!("| typed Client::send | {typed_median:.0} | {typed_min:.0} | {typed_max:.0} |");
    println!(
        "| typed / raw (medians) | {:.2} | | |",
        typed_median / raw_median
    );
}
