//! TDLib's log reaches `tracing`, and TDLib's own stderr output is off. Its own test binary:
//! TDLib's logging is global to the process.

use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata};

/// Collects (level, target, message) of every event.
#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<(Level, String, String)>>>);

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl tracing::Subscriber for Collect {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut message = Message(String::new());
        event.record(&mut message);
        let metadata = event.metadata();
        self.0
            .lock()
            .unwrap()
            .push((*metadata.level(), metadata.target().to_owned(), message.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn tdlib_messages_go_to_tracing_at_their_level() {
    let collect = Collect::default();
    tracing::subscriber::with_default(collect.clone(), || {
        tdlib::set_log_verbosity(2).unwrap();
        // addLogMessage logs on the calling thread, where this subscriber is the default.
        tdlib::execute(tdlib::functions::AddLogMessage {
            verbosity_level: 1,
            text: "an error line".into(),
        })
        .unwrap();
        tdlib::execute(tdlib::functions::AddLogMessage {
            verbosity_level: 2,
            text: "a warning line".into(),
        })
        .unwrap();
        tdlib::execute(tdlib::functions::AddLogMessage {
            verbosity_level: 3,
            text: "above the verbosity".into(),
        })
        .unwrap();
    });
    let events = collect.0.lock().unwrap().clone();
    let ours: Vec<_> = events
        .iter()
        .filter(|(_, target, _)| target == "tdlib")
        .collect();
    assert_eq!(ours.len(), 2, "{events:?}");
    assert_eq!(ours[0].0, Level::ERROR);
    assert!(ours[0].2.ends_with("an error line"), "{:?}", ours[0].2);
    assert_eq!(ours[1].0, Level::WARN);
    let stream = tdlib::raw::execute(r#"{"@type":"getLogStream"}"#).unwrap();
    assert_eq!(
        stream, r#"{"@type":"logStreamEmpty"}"#,
        "TDLib's own stderr output is off"
    );
}
