//! Decode and encode speed of the generated types against parsing the same JSON into an untyped
//! `serde_json::Value` (the least a wrapper that parses TDLib's answers at all must do).
//! Prints one table; run with `cargo bench -p tdlib-types --bench decode`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use tdlib_types::codec::{Decode, Encode};
use tdlib_types::{enums, types};

const UPDATE_OPTION: &str = r#"{"@type":"updateOption","name":"version","value":{"@type":"optionValueString","value":"1.8.65"},"@client_id":1}"#;
const AUTHORIZATION: &str = r#"{"@type":"updateAuthorizationState","authorization_state":{"@type":"authorizationStateWaitPhoneNumber"},"@client_id":1}"#;
const TEST_INT: &str = r#"{"@type":"testInt","value":144,"@extra":12345,"@client_id":1}"#;
const FORMATTED: &str = r#"{"@type":"formattedText","text":"bold and italic, see https:\/\/example.org and caf\u00e9 \ud83d\ude00","entities":[{"@type":"textEntity","offset":0,"length":4,"type":{"@type":"textEntityTypeBold"}},{"@type":"textEntity","offset":9,"length":6,"type":{"@type":"textEntityTypeItalic"}},{"@type":"textEntity","offset":21,"length":19,"type":{"@type":"textEntityTypeUrl"}}]}"#;

/// Median time per call over several rounds, in nanoseconds.
fn time(mut f: impl FnMut()) -> f64 {
    let mut rounds = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        let mut calls = 0u64;
        while started.elapsed() < Duration::from_millis(150) {
            for _ in 0..100 {
                f();
            }
            calls += 100;
        }
        rounds.push(started.elapsed().as_nanos() as f64 / calls as f64);
    }
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}

fn row<T: Decode + Encode>(name: &str, json: &str) {
    let typed = time(|| {
        black_box(T::from_json(black_box(json)).unwrap());
    });
    let value = time(|| {
        black_box(serde_json::from_str::<serde_json::Value>(black_box(json)).unwrap());
    });
    let decoded = T::from_json(json).unwrap();
    let encode = time(|| {
        black_box(black_box(&decoded).to_json());
    });
    println!(
        "| {name:<28} | {:>5} B | {typed:>8.0} ns | {value:>8.0} ns | {:>5.2} | {encode:>8.0} ns |",
        json.len(),
        value / typed
    );
}

fn main() {
    println!(
        "| message                      |  size   | typed decode | serde_json::Value | speed-up | typed encode |"
    );
    println!(
        "|------------------------------|---------|--------------|-------------------|----------|--------------|"
    );
    row::<enums::Update>("updateOption", UPDATE_OPTION);
    row::<enums::Update>("updateAuthorizationState", AUTHORIZATION);
    row::<types::TestInt>("testInt (an answer)", TEST_INT);
    row::<enums::OptionValue>(
        "optionValueString",
        r#"{"@type":"optionValueString","value":"1.8.65"}"#,
    );
    row::<types::UpdateOption>("updateOption as struct", UPDATE_OPTION);
    row::<types::FormattedText>("formattedText, 3 entities", FORMATTED);
}
