//! What the test binaries share: running a test on the fake libtdjson, and reading `tracing`
//! events.

#![allow(dead_code)] // each test binary uses a part

use tdlib_fake_harness::{Fake, in_child};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Level, Metadata};

/// The `message` of a `tracing` event, as text.
#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

/// A `tracing` subscriber that hands every event's level, target and message to a function.
pub struct OnEvent<F>(pub F);

impl<F: Fn(Level, &str, String) + Send + Sync + 'static> tracing::Subscriber for OnEvent<F> {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut message = Message::default();
        event.record(&mut message);
        let metadata = event.metadata();
        (self.0)(*metadata.level(), metadata.target(), message.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Runs `test` in a child process against the fake with `script`; returns the fake (for its
/// request log) in the parent, or `None` in the child after running `body`.
pub fn on_fake(test: &str, script: serde_json::Value) -> Option<Fake> {
    if in_child() {
        return None;
    }
    let fake = Fake::new(test, &script);
    let output = fake.run_test_in_child(test);
    assert!(
        output.status.success(),
        "the test failed against the fake:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // The child's test really ran (a filter that matches nothing also succeeds).
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("1 passed"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(fake.script_errors(), Vec::<String>::new());
    Some(fake)
}
