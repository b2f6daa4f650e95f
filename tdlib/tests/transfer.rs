//! File transfers against the scripted fake libtdjson (which downloads and uploads in steps, as
//! TDLib does), through both faces: progress, the end, cancellation on drop, one TDLib download
//! for concurrent downloads of one file, and sent messages followed to their server id.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;
use tdlib::transfer::{Downloaded, Progress, TransferEvent};
use tdlib::{Error, auth, blocking, enums, functions, types};

mod common;
use common::on_fake;

const PHOTO: i32 = 5;
const PHOTO_SIZE: u64 = 300_000;
const READY: i32 = 6;
const CHAT: i64 = 77;

fn script() -> serde_json::Value {
    json!({
        "login": {"bot_token": "1:files"},
        "files": [
            {"id": PHOTO, "size": PHOTO_SIZE, "name": "photo.jpg"},
            {"id": READY, "size": 1000, "name": "ready.txt", "downloaded": true}
        ],
        "download": {"steps": 5, "step_ms": 40},
        "upload": {"steps": 4, "step_ms": 40},
        "chats": [{"id": CHAT, "title": "Alice", "type": {"@type": "chatTypePrivate", "user_id": CHAT},
                   "available_reactions": {"@type": "chatAvailableReactionsAll"}}]
    })
}

fn parameters() -> functions::SetTdlibParameters {
    // One database (and downloads folder) per test process: the tests run at once.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("transfer-db-{}", std::process::id()));
    auth::parameters(
        1,
        "0123456789abcdef0123456789abcdef",
        dir.display().to_string(),
    )
}

/// What the test bodies need of a face: start transfers, and read their events to the end.
trait Face {
    type Download;
    type Outgoing;
    fn download(&self, file_id: i32) -> Self::Download;
    fn events(&self, download: &mut Self::Download) -> Vec<TransferEvent<Downloaded>>;
    fn send(&self, request: functions::SendMessage) -> Self::Outgoing;
    fn sent_events(&self, outgoing: &mut Self::Outgoing) -> Vec<TransferEvent<types::Message>>;
    fn pending_id(&self, outgoing: &Self::Outgoing) -> Option<i64>;
    /// Any other request, its answer ignored (the fake checks it).
    fn request<F: tdlib::codec::Function>(&self, request: F);
    fn close(&self);
}

struct Async(tdlib::Client, tokio::runtime::Runtime);

impl Face for Async {
    type Download = tdlib::transfer::Download;
    type Outgoing = tdlib::transfer::OutgoingMessage;
    fn download(&self, file_id: i32) -> Self::Download {
        self.0.download_file(file_id)
    }
    fn events(&self, download: &mut Self::Download) -> Vec<TransferEvent<Downloaded>> {
        use futures_util::StreamExt;
        self.1.block_on(async {
            tokio::time::timeout(Duration::from_secs(20), download.collect::<Vec<_>>())
                .await
                .expect("no hang")
        })
    }
    fn send(&self, request: functions::SendMessage) -> Self::Outgoing {
        self.0.send_message(request)
    }
    fn sent_events(&self, outgoing: &mut Self::Outgoing) -> Vec<TransferEvent<types::Message>> {
        use futures_util::StreamExt;
        self.1.block_on(async {
            tokio::time::timeout(Duration::from_secs(20), outgoing.collect::<Vec<_>>())
                .await
                .expect("no hang")
        })
    }
    fn pending_id(&self, outgoing: &Self::Outgoing) -> Option<i64> {
        outgoing.pending_message_id()
    }
    fn request<F: tdlib::codec::Function>(&self, request: F) {
        self.1.block_on(self.0.send(request)).unwrap();
    }
    fn close(&self) {
        self.1.block_on(self.0.close()).unwrap();
    }
}

struct Blocking(blocking::Client);

/// Every event of a blocking transfer's channel, until it disconnects (bounded).
fn drain<T>(events: &blocking::crossbeam_channel::Receiver<T>) -> Vec<T> {
    let mut all = Vec::new();
    loop {
        match events.recv_timeout(Duration::from_secs(20)) {
            Ok(event) => all.push(event),
            Err(blocking::crossbeam_channel::RecvTimeoutError::Disconnected) => return all,
            Err(error) => panic!("no hang: {error}"),
        }
    }
}

impl Face for Blocking {
    type Download = blocking::Download;
    type Outgoing = blocking::OutgoingMessage;
    fn download(&self, file_id: i32) -> Self::Download {
        self.0.download_file(file_id)
    }
    fn events(&self, download: &mut Self::Download) -> Vec<TransferEvent<Downloaded>> {
        drain(download.events())
    }
    fn send(&self, request: functions::SendMessage) -> Self::Outgoing {
        self.0.send_message(request)
    }
    fn sent_events(&self, outgoing: &mut Self::Outgoing) -> Vec<TransferEvent<types::Message>> {
        drain(outgoing.events())
    }
    fn pending_id(&self, outgoing: &Self::Outgoing) -> Option<i64> {
        outgoing.pending_message_id()
    }
    fn request<F: tdlib::codec::Function>(&self, request: F) {
        self.0.send(request).unwrap();
    }
    fn close(&self) {
        self.0.close().unwrap();
    }
}

fn logged_in_async() -> Async {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let client = tdlib::Client::new().unwrap();
    runtime
        .block_on(auth::authorize(
            &client,
            &mut auth::Bot::new(parameters(), "1:files"),
        ))
        .unwrap();
    Async(client, runtime)
}

fn logged_in_blocking() -> Blocking {
    let client = blocking::Client::new().unwrap();
    client
        .authorize(&mut auth::Bot::new(parameters(), "1:files"))
        .unwrap();
    Blocking(client)
}

/// The progress events, checked: never fewer bytes than before; then the end.
fn progress_then_end<T>(events: Vec<TransferEvent<T>>) -> (Vec<Progress>, Result<T, Error>) {
    let mut progress = Vec::new();
    let mut end = None;
    for event in events {
        assert!(end.is_none(), "an event after the end");
        match event {
            TransferEvent::Progress(step) => {
                if let Some(last) = progress.last() {
                    let last: &Progress = last;
                    assert!(step.done >= last.done, "{progress:?} then {step:?}");
                }
                progress.push(step);
            }
            TransferEvent::Done(done) => end = Some(Ok(done)),
            TransferEvent::Failed(error) => end = Some(Err(error)),
            _ => panic!("unknown event"),
        }
    }
    (progress, end.expect("the transfer ended"))
}

fn downloads<F: Face>(face: F) {
    // A download: progress in steps, then the file, complete, where TDLib put it.
    let mut download = face.download(PHOTO);
    let (progress, end) = progress_then_end(face.events(&mut download));
    let file = end.unwrap();
    assert!(progress.len() >= 3, "progress in steps: {progress:?}");
    assert!(progress.iter().all(|step| step.total == PHOTO_SIZE));
    assert_eq!(progress.last().unwrap().done, PHOTO_SIZE);
    assert_eq!(std::fs::metadata(&file.path).unwrap().len(), PHOTO_SIZE);
    assert!(file.file.local.is_downloading_completed);
    // A file already there: at once.
    let mut ready = face.download(READY);
    let (_, end) = progress_then_end(face.events(&mut ready));
    assert!(PathBuf::from(&end.unwrap().path).exists());
    // An unknown file: TDLib's error.
    let mut unknown = face.download(999);
    let (_, end) = progress_then_end(face.events(&mut unknown));
    assert_eq!(end.unwrap_err().code(), Some(400));
    face.close();
}

fn concurrent_downloads_share_one_and_drop_cancels<F: Face>(face: F) {
    std::fs::remove_dir_all(
        std::path::Path::new(&parameters().database_directory).join("documents"),
    )
    .ok();
    // Two downloads of one file: one TDLib download, both see it complete.
    let mut first = face.download(PHOTO);
    let mut second = face.download(PHOTO);
    let (first_progress, first_end) = progress_then_end(face.events(&mut first));
    let (_, second_end) = progress_then_end(face.events(&mut second));
    assert_eq!(first_end.unwrap().path, second_end.unwrap().path);
    assert_eq!(first_progress.last().unwrap().done, PHOTO_SIZE);
    drop((first, second));
    face.close();
}

fn dropped_download<F: Face>(face: F) {
    let download = face.download(PHOTO);
    std::thread::sleep(Duration::from_millis(60));
    drop(download); // cancels: the parent checks the fake's log
    std::thread::sleep(Duration::from_millis(100));
    face.close();
}

fn uploads<F: Face>(face: F) {
    // One file per test process: the two faces' tests run at once.
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("upload-{}.txt", std::process::id()));
    std::fs::write(&path, vec![b'x'; 50_000]).unwrap();
    let mut outgoing = face.send(upload(&path));
    let (progress, end) = progress_then_end(face.sent_events(&mut outgoing));
    let message = end.unwrap();
    assert!(progress.len() >= 2, "upload progress: {progress:?}");
    assert_eq!(progress.last().unwrap().done, 50_000);
    assert!(
        message.id >= 2_000_000_001,
        "the server's id: {}",
        message.id
    );
    assert!(message.sending_state.is_none());
    // Plain text resolves when the server has it, too.
    let text = enums::InputMessageContent::InputMessageText(types::InputMessageText {
        text: types::FormattedText {
            text: "hello".into(),
            ..Default::default()
        },
        ..Default::default()
    });
    let mut outgoing = face.send(functions::SendMessage {
        chat_id: CHAT,
        input_message_content: Box::new(text.clone()),
        ..Default::default()
    });
    let (progress, end) = progress_then_end(face.sent_events(&mut outgoing));
    assert!(progress.is_empty());
    assert!(end.unwrap().id > message.id);
    // A chat the account does not have: TDLib's error, as the end.
    let mut outgoing = face.send(functions::SendMessage {
        chat_id: 12345,
        input_message_content: Box::new(text),
        ..Default::default()
    });
    let (_, end) = progress_then_end(face.sent_events(&mut outgoing));
    assert!(end.unwrap_err().is_tdlib());
    face.close();
}

fn upload(path: &std::path::Path) -> functions::SendMessage {
    let document = enums::InputMessageContent::InputMessageDocument(types::InputMessageDocument {
        document: Box::new(types::InputDocument {
            document: enums::InputFile::Local(types::InputFileLocal {
                path: path.display().to_string(),
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    functions::SendMessage {
        chat_id: CHAT,
        input_message_content: Box::new(document),
        ..Default::default()
    }
}

/// Deleting a message being sent cancels it (TDLib then sends neither success nor failure):
/// the send ends with `TransferStopped`, not never.
fn cancelled_send<F: Face>(face: F) {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cancelled-{}.txt", std::process::id()));
    std::fs::write(&path, vec![b'y'; 20_000]).unwrap();
    let mut outgoing = face.send(upload(&path));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let pending = loop {
        if let Some(id) = face.pending_id(&outgoing) {
            break id;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "TDLib answered with a temporary id"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    face.request(functions::DeleteMessages {
        chat_id: CHAT,
        message_ids: vec![pending],
        revoke: true,
    });
    let (_, end) = progress_then_end(face.sent_events(&mut outgoing));
    let error = end.unwrap_err();
    assert_eq!(error.kind(), tdlib::ErrorKind::TransferStopped, "{error}");
    face.close();
}

/// A download that ended (cancelled elsewhere) is not joined by a new one while its handle is
/// kept: the new one starts TDLib's download again and completes.
fn a_new_download_after_an_ended_one<F: Face>(face: F) {
    let mut first = face.download(PHOTO);
    std::thread::sleep(Duration::from_millis(50));
    face.request(functions::CancelDownloadFile {
        file_id: PHOTO,
        only_if_pending: false,
    });
    let (_, end) = progress_then_end(face.events(&mut first));
    assert_eq!(end.unwrap_err().kind(), tdlib::ErrorKind::TransferStopped);
    let mut second = face.download(PHOTO);
    let (_, end) = progress_then_end(face.events(&mut second));
    assert_eq!(
        std::fs::metadata(end.unwrap().path).unwrap().len(),
        PHOTO_SIZE
    );
    drop((first, second));
    face.close();
}

fn count(fake: &tdlib_fake_harness::Fake, function: &str) -> usize {
    fake.requests()
        .iter()
        .filter(|logged| logged.request_type() == function)
        .count()
}

macro_rules! on_both_faces {
    ($($name:ident: $body:ident, $check:expr;)*) => {$(
        mod $name {
            use super::*;

            #[test]
            fn async_face() {
                let test = concat!(stringify!($name), "::async_face");
                match on_fake(test, script()) {
                    Some(fake) => ($check)(&fake),
                    None => $body(logged_in_async()),
                }
            }

            #[test]
            fn blocking_face() {
                let test = concat!(stringify!($name), "::blocking_face");
                match on_fake(test, script()) {
                    Some(fake) => ($check)(&fake),
                    None => $body(logged_in_blocking()),
                }
            }
        }
    )*};
}

on_both_faces! {
    download_progress_ends_with_the_file: downloads, |fake| {
        assert_eq!(count(fake, "downloadFile"), 3);
        assert_eq!(count(fake, "cancelDownloadFile"), 0, "completed downloads are not cancelled");
    };
    two_downloads_of_one_file_make_one_tdlib_download: concurrent_downloads_share_one_and_drop_cancels, |fake| {
        assert_eq!(count(fake, "downloadFile"), 1, "one TDLib download");
        assert_eq!(count(fake, "getFile"), 1, "the second joined it");
    };
    a_dropped_download_is_cancelled: dropped_download, |fake| {
        assert_eq!(count(fake, "downloadFile"), 1);
        assert_eq!(count(fake, "cancelDownloadFile"), 1);
    };
    sent_messages_end_with_the_server_id: uploads, |fake| {
        assert_eq!(count(fake, "sendMessage"), 3);
    };
    a_send_cancelled_by_deleting_its_message_ends: cancelled_send, |fake| {
        assert_eq!(count(fake, "deleteMessages"), 1);
    };
    an_ended_download_is_not_joined: a_new_download_after_an_ended_one, |fake| {
        assert_eq!(count(fake, "downloadFile"), 2, "the second started a new download");
        assert_eq!(count(fake, "getFile"), 0);
    };
}

/// Hostile readers of a download: a waker that panics, and a waker that drops the download it
/// wakes (it takes the tracker's lock on the receive thread). Neither stops the receive loop
/// or hangs the client, and a blocking wait inside a filter is refused.
#[test]
fn hostile_wakers_and_waits_leave_the_client_working() {
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Wake, Waker};

    if on_fake(
        "hostile_wakers_and_waits_leave_the_client_working",
        script(),
    )
    .is_some()
    {
        return;
    }
    let Blocking(client) = logged_in_blocking();

    struct Panics;
    impl Wake for Panics {
        fn wake(self: Arc<Self>) {
            panic!("a waker that panics");
        }
    }
    /// Drops the download it holds when woken.
    struct Drops(Mutex<Option<tdlib::transfer::Download>>);
    impl Wake for Drops {
        fn wake(self: Arc<Self>) {
            drop(self.0.lock().unwrap().take());
        }
    }
    // Polls until the download waits, so that the waker is what it will wake (events already
    // queued are taken first).
    let poll_once = |download: &mut tdlib::transfer::Download, waker: &Waker| {
        use futures_util::Stream;
        let mut cx = Context::from_waker(waker);
        while let std::task::Poll::Ready(Some(_)) =
            std::pin::Pin::new(&mut *download).poll_next(&mut cx)
        {}
    };

    let mut panicking = client.as_async().download_file(PHOTO);
    poll_once(&mut panicking, &Waker::from(Arc::new(Panics)));
    let dropping = Arc::new(Drops(Mutex::new(None)));
    // The waker holds the download before it is polled (a wake-up may come at once; it then
    // waits for this lock, on the receive thread, and drops the download).
    *dropping.0.lock().unwrap() = Some(client.as_async().download_file(PHOTO));
    {
        let mut slot = dropping.0.lock().unwrap();
        poll_once(slot.as_mut().unwrap(), &Waker::from(dropping.clone()));
    }

    // A filter that waits for a download on the receive thread is refused.
    let refused = Arc::new(Mutex::new(None));
    let seen = refused.clone();
    let inner = client.clone();
    let _filtered = client
        .subscription::<types::UpdateFile>()
        .filter(move |_| {
            let mut seen = seen.lock().unwrap();
            if seen.is_none() {
                *seen = Some(inner.download_file(READY).finish());
            }
            true
        })
        .channel();

    // The download goes on, and so does the client.
    let mut watched = client.download_file(PHOTO);
    let (_, end) = progress_then_end(Blocking(client.clone()).events(&mut watched));
    assert!(end.is_ok());
    assert_eq!(
        client
            .send(functions::TestSquareInt { x: 9 })
            .unwrap()
            .value,
        81
    );
    let refused = refused.lock().unwrap().take().expect("the filter ran");
    assert_eq!(refused.unwrap_err().kind(), tdlib::ErrorKind::Deadlock);
    assert_eq!(tdlib::health().receive_failures, 0);
    assert!(
        dropping.0.lock().unwrap().is_none(),
        "the waker ran and dropped its download"
    );
    drop(panicking);
    client.close().unwrap();
}
