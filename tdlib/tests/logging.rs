//! TDLib's log reaches `tracing`, and TDLib's own stderr output is off. Its own test binary:
//! TDLib's logging is global to the process.

use std::sync::{Arc, Mutex};

use tracing::Level;

mod common;
use common::OnEvent;

/// Collects (level, target, message) of every event, and with `print` also writes each to
/// stderr at once (unbuffered, so it survives an abort).
#[derive(Clone, Default)]
struct Collect {
    events: Arc<Mutex<Vec<(Level, String, String)>>>,
    print: bool,
}

impl Collect {
    fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + 'static {
        let collect = self.clone();
        OnEvent(move |level: Level, target: &str, message: String| {
            if collect.print {
                eprintln!("EVENT {level} {target} {message}");
            }
            let event = (level, target.to_owned(), message);
            collect.events.lock().unwrap().push(event);
        })
    }
}

#[test]
fn tdlib_messages_go_to_tracing_at_their_level() {
    let collect = Collect::default();
    tracing::subscriber::with_default(collect.subscriber(), || {
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
    let events = collect.events.lock().unwrap().clone();
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

#[test]
fn a_fatal_message_is_logged_before_tdlib_aborts() {
    const CHILD: &str = "TDLIB_RS_TEST_FATAL_CHILD";
    if std::env::var_os(CHILD).is_some() {
        // The child: TDLib aborts the process after logging at level 0.
        let collect = Collect {
            print: true,
            ..Collect::default()
        };
        tracing::subscriber::set_global_default(collect.subscriber()).unwrap();
        // The crate refuses to ask TDLib for a fatal message; the library is called directly
        // (after the crate has set up logging) to see what happens when TDLib dies anyway.
        tdlib::set_log_verbosity(1).unwrap();
        let fatal =
            c"{\"@type\":\"addLogMessage\",\"verbosity_level\":0,\"text\":\"the end is near\"}";
        // SAFETY: a valid NUL-terminated request; the process ends inside this call.
        unsafe { tdlib_sys::td_execute(fatal.as_ptr()) };
        unreachable!("TDLib aborts after a fatal message");
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_fatal_message_is_logged_before_tdlib_aborts",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        output.status.signal(),
        Some(6),
        "TDLib aborted the child: {:?}\n{stderr}",
        output.status
    );
    assert!(
        stderr
            .lines()
            .any(|line| line.starts_with("EVENT ERROR tdlib") && line.ends_with("the end is near")),
        "{stderr}"
    );
}
