//! One contract, two faces: the same test bodies run against the async client and the blocking
//! one, on the real TDLib 1.8.65, offline. Every request ends; only updates reach subscribers;
//! closing ends the requests in flight, the subscriptions and the state watches.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tdlib::blocking::crossbeam_channel;
use tdlib::enums::{AuthorizationState, Update};
use tdlib::{Error, Event, blocking, functions, types};

/// What the test bodies need of a face.
trait Face: Clone + Send + Sync + 'static {
    fn create() -> Self;
    fn square(&self, x: i32) -> Result<i32, Error>;
    /// A request that waits for the network: offline, only closing ends it.
    fn test_network(&self) -> Result<(), Error>;
    fn set_parameters(&self, parameters: functions::SetTdlibParameters) -> Result<(), Error>;
    fn close(&self) -> Result<(), Error>;
    fn is_closed(&self) -> bool;
    /// A lossless subscription to every update, read until it ends (each read bounded).
    fn all_updates(&self) -> Box<dyn FnMut() -> Option<Event<Update>> + Send>;
    /// Waits (bounded) for an authorization state `accept` accepts; `None` if the client's
    /// states ended first.
    fn wait_for_state(&self, accept: fn(&AuthorizationState) -> bool)
    -> Option<AuthorizationState>;
}

const LIMIT: Duration = Duration::from_secs(20);

#[derive(Clone)]
struct Async(tdlib::Client);

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    })
}

impl Face for Async {
    fn create() -> Self {
        Async(tdlib::Client::new().unwrap())
    }
    fn square(&self, x: i32) -> Result<i32, Error> {
        let client = self.0.clone();
        runtime().block_on(async move {
            tokio::time::timeout(LIMIT, client.send(functions::TestSquareInt { x }))
                .await
                .expect("no hang")
                .map(|square| square.value)
        })
    }
    fn test_network(&self) -> Result<(), Error> {
        let client = self.0.clone();
        runtime().block_on(async move { client.send(functions::TestNetwork {}).await.map(drop) })
    }
    fn set_parameters(&self, parameters: functions::SetTdlibParameters) -> Result<(), Error> {
        let client = self.0.clone();
        runtime().block_on(async move { client.send(parameters).await.map(drop) })
    }
    fn close(&self) -> Result<(), Error> {
        let client = self.0.clone();
        runtime().block_on(async move {
            tokio::time::timeout(LIMIT, client.close())
                .await
                .expect("no hang")
        })
    }
    fn is_closed(&self) -> bool {
        self.0.is_closed()
    }
    fn all_updates(&self) -> Box<dyn FnMut() -> Option<Event<Update>> + Send> {
        let mut updates = self.0.subscription::<Update>().lossless().subscribe();
        Box::new(move || {
            runtime().block_on(async {
                tokio::time::timeout(LIMIT, updates.recv())
                    .await
                    .expect("no hang")
            })
        })
    }
    fn wait_for_state(
        &self,
        accept: fn(&AuthorizationState) -> bool,
    ) -> Option<AuthorizationState> {
        let mut states = self.0.authorization_states();
        runtime().block_on(async move {
            tokio::time::timeout(LIMIT, states.wait_for(accept))
                .await
                .expect("no hang")
        })
    }
}

#[derive(Clone)]
struct Blocking(blocking::Client);

impl Face for Blocking {
    fn create() -> Self {
        Blocking(blocking::Client::new().unwrap())
    }
    fn square(&self, x: i32) -> Result<i32, Error> {
        self.0
            .send_timeout(functions::TestSquareInt { x }, LIMIT)
            .map(|square| square.value)
    }
    fn test_network(&self) -> Result<(), Error> {
        self.0.send(functions::TestNetwork {}).map(drop)
    }
    fn set_parameters(&self, parameters: functions::SetTdlibParameters) -> Result<(), Error> {
        self.0.send(parameters).map(drop)
    }
    fn close(&self) -> Result<(), Error> {
        self.0.close()
    }
    fn is_closed(&self) -> bool {
        self.0.is_closed()
    }
    fn all_updates(&self) -> Box<dyn FnMut() -> Option<Event<Update>> + Send> {
        let updates = self.0.subscription::<Update>().lossless().channel();
        Box::new(move || match updates.recv_timeout(LIMIT) {
            Ok(event) => Some(event),
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => None,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => panic!("no hang"),
        })
    }
    fn wait_for_state(
        &self,
        accept: fn(&AuthorizationState) -> bool,
    ) -> Option<AuthorizationState> {
        let states = self.0.authorization_states();
        loop {
            match states.recv_timeout(LIMIT) {
                Ok(state) if accept(&state) => return Some(state),
                Ok(_) => {}
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return None,
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => panic!("no hang"),
            }
        }
    }
}

fn quiet() {
    tdlib::set_log_verbosity(1).unwrap();
}

fn scratch(name: &str) -> std::path::PathBuf {
    // Per process too: a database folder is TDLib's alone.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("contract")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn parameters(directory: &std::path::Path) -> functions::SetTdlibParameters {
    tdlib::auth::parameters(
        94575,
        "0123456789abcdef0123456789abcdef",
        directory.display().to_string(),
    )
}

/// Requests from many threads at once all end with their own answer.
fn every_request_ends_with_its_answer<F: Face>() {
    let client = F::create();
    let threads: Vec<_> = (0..4)
        .map(|thread| {
            let client = client.clone();
            thread::spawn(move || {
                for x in 0..500 {
                    let x = thread * 1000 + x;
                    assert_eq!(client.square(x).unwrap(), x * x);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    client.close().unwrap();
}

/// A subscription's events are updates only, starting with TDLib's first (`version`) and ending
/// with `Closed`; then it ends.
fn subscribers_get_updates_only<F: Face>() {
    let client = F::create();
    let mut next = client.all_updates();
    client.close().unwrap();
    let mut names = Vec::new();
    while let Some(event) = next() {
        let Event::Update(update) = event else {
            panic!("{event:?}")
        };
        assert!(
            !matches!(**update.update(), Update::Unrecognized(_)),
            "{update:?}"
        );
        names.push(format!("{:?}", update.update()));
    }
    // TDLib's first updates (its version options, then the first state), the first of which
    // may come before the subscription.
    assert!(
        names[0].starts_with("Option(") || names[0].starts_with("AuthorizationState("),
        "{names:?}"
    );
    assert!(names.last().unwrap().contains("Closed"), "{names:?}");
}

/// Closing ends the requests in flight (offline, `testNetwork` waits forever), the
/// subscriptions (after `Closing` and `Closed`) and the state watches; later requests fail at
/// once.
fn close_resolves_everything<F: Face>(name: &str) {
    let client = F::create();
    assert!(
        client
            .wait_for_state(|state| matches!(state, AuthorizationState::WaitTdlibParameters(_)))
            .is_some()
    );
    client.set_parameters(parameters(&scratch(name))).unwrap();
    assert!(
        client
            .wait_for_state(|state| matches!(state, AuthorizationState::WaitPhoneNumber(_)))
            .is_some()
    );
    let in_flight: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            thread::spawn(move || client.test_network())
        })
        .collect();
    thread::sleep(Duration::from_millis(100));
    let mut next = client.all_updates();
    let watcher = {
        let client = client.clone();
        thread::spawn(move || {
            client.wait_for_state(|state| matches!(state, AuthorizationState::Closed(_)))
        })
    };
    client.close().unwrap();
    for request in in_flight {
        assert!(request.join().unwrap().unwrap_err().is_closed());
    }
    assert!(client.is_closed());
    assert!(client.square(2).unwrap_err().is_closed());
    assert!(watcher.join().unwrap().is_some());
    let mut states = Vec::new();
    while let Some(event) = next() {
        if let Event::Update(update) = event {
            if let Update::AuthorizationState(state) = &**update.update() {
                let name = format!("{:?}", state.authorization_state);
                states.push(name.split('(').next().unwrap_or_default().to_owned());
            }
        }
    }
    assert_eq!(states, ["Closing", "Closed"]);
    // A watch taken after the end returns at once.
    assert!(
        client
            .wait_for_state(|state| matches!(state, AuthorizationState::Ready(_)))
            .is_none()
    );
}

#[test]
fn async_every_request_ends_with_its_answer() {
    quiet();
    every_request_ends_with_its_answer::<Async>();
}

#[test]
fn blocking_every_request_ends_with_its_answer() {
    quiet();
    every_request_ends_with_its_answer::<Blocking>();
}

#[test]
fn async_subscribers_get_updates_only() {
    quiet();
    subscribers_get_updates_only::<Async>();
}

#[test]
fn blocking_subscribers_get_updates_only() {
    quiet();
    subscribers_get_updates_only::<Blocking>();
}

#[test]
fn async_close_resolves_everything() {
    quiet();
    close_resolves_everything::<Async>("async");
}

#[test]
fn blocking_close_resolves_everything() {
    quiet();
    close_resolves_everything::<Blocking>("blocking");
}

/// The blocking face's own: channels in `select!` with the program's other channels, a state
/// channel that starts with the current state, and blocking calls refused where they would wait
/// for themselves.
#[test]
fn blocking_channels_select_with_others_and_calls_in_filters_are_refused() {
    quiet();
    let client = blocking::Client::new().unwrap();
    let (ui_sender, ui) = crossbeam_channel::unbounded::<&str>();
    // The current state first (whenever TDLib reports it), then every change.
    let states = client.authorization_states();
    // A filter runs on the receive thread: a blocking request there is refused, not a hang.
    let refused = Arc::new(std::sync::Mutex::new(None));
    let filter_client = client.clone();
    let seen = refused.clone();
    let _filtered = client
        .subscription::<types::UpdateAuthorizationState>()
        .filter(move |_| {
            let mut seen = seen.lock().unwrap();
            if seen.is_none() {
                *seen = Some(filter_client.send(functions::TestSquareInt { x: 3 }));
            }
            true
        })
        .channel();
    ui_sender.send("redraw").unwrap();
    let mut got_state = false;
    let mut got_ui = false;
    let deadline = Instant::now() + LIMIT;
    while !(got_state && got_ui) {
        crossbeam_channel::select! {
            recv(states) -> state => {
                assert!(matches!(state, Ok(AuthorizationState::WaitTdlibParameters(_))), "{state:?}");
                got_state = true;
            }
            recv(ui) -> message => {
                assert_eq!(message.unwrap(), "redraw");
                got_ui = true;
            }
            recv(crossbeam_channel::at(deadline)) -> _ => panic!("no hang"),
        }
    }
    // A channel taken later starts with the state as it is now.
    let late = client.authorization_states();
    assert!(matches!(
        late.recv_timeout(LIMIT).unwrap(),
        AuthorizationState::WaitTdlibParameters(_)
    ));
    // A state change runs the filter.
    client.send(parameters(&scratch("select"))).unwrap();
    assert!(matches!(
        late.recv_timeout(LIMIT).unwrap(),
        AuthorizationState::WaitPhoneNumber(_)
    ));
    let refused = refused.lock().unwrap().take().expect("the filter ran");
    assert_eq!(refused.unwrap_err().kind(), tdlib::ErrorKind::Deadlock);
    // The client still works.
    assert_eq!(
        client
            .send(functions::TestSquareInt { x: 5 })
            .unwrap()
            .value,
        25
    );
    client.close().unwrap();
    // After the close: Closing, Closed, then the channel disconnects.
    let rest: Vec<_> = late.iter().map(|state| format!("{state:?}")).collect();
    assert_eq!(rest.len(), 2, "{rest:?}");
    assert!(rest[1].starts_with("Closed"), "{rest:?}");
}

/// Transfers started on a closed client end at once, with `is_closed`, in both faces.
#[test]
fn transfers_on_a_closed_client_end_at_once() {
    use futures_util::StreamExt;
    use tdlib::transfer::TransferEvent;
    quiet();
    let client = blocking::Client::new().unwrap();
    client.close().unwrap();
    let download = client.download_file(1);
    let events: Vec<_> = download.events().iter().collect();
    assert!(
        matches!(&events[..], [TransferEvent::Failed(error)] if error.is_closed()),
        "{events:?}"
    );
    let request = functions::SendMessage {
        chat_id: 1,
        ..Default::default()
    };
    assert!(
        client
            .send_message(request.clone())
            .finish()
            .unwrap_err()
            .is_closed()
    );
    let events: Vec<_> =
        futures_executor::block_on(client.as_async().download_file(1).collect::<Vec<_>>());
    assert!(
        matches!(&events[..], [TransferEvent::Failed(error)] if error.is_closed()),
        "{events:?}"
    );
    let sent = futures_executor::block_on(client.as_async().send_message(request).finish());
    assert!(sent.unwrap_err().is_closed());
}
