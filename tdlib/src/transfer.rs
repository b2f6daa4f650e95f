//! File transfers: downloads with progress ([`Client::download_file`]), and sent messages
//! followed until the server has them, with upload progress for files
//! ([`Client::send_message`]).
//!
//! A transfer is followed on the receive thread: the answer to its first request (a callback
//! in the pending table) and the updates that concern it (`updateFile`,
//! `updateMessageSendSucceeded`, `updateMessageSendFailed`, taken by a sink of the client's
//! hub) go through one tracker, which turns them into [`TransferEvent`]s. The answer is routed
//! before any later output of TDLib, so no update of the transfer can come before the tracker
//! knows what to look for. The events go to a queue the async face reads ([`Download`],
//! [`OutgoingMessage`]), or to a channel the blocking face reads.
//!
//! Downloads of one file share TDLib's download, as TDLib has one per file: the first starts
//! it (`downloadFile`), the others join it while it runs (`getFile` for the current state; a
//! download that ended is not joined, a new one starts), and the last one dropped before the
//! download completed cancels it (`cancelDownloadFile`), unless a newer download of the file
//! runs by then.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};

use futures_core::Stream;
use tdlib_types::enums::{MessageContent, MessageSendingState, Update};
use tdlib_types::{functions, types};

use crate::dispatcher::{Callback, ClientEntry, Responder, dispatcher};
use crate::request::Body;
use crate::subscription::{End, Filter, Sink, Subscriber};
use crate::{Client, Error, answer, ffi};

/// How far a transfer is: bytes done of the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Bytes downloaded or uploaded so far.
    pub done: u64,
    /// The file's size; its expected size while TDLib does not know it exactly; 0 when it
    /// knows neither.
    pub total: u64,
}

impl Progress {
    /// `done / total` between 0 and 1; `None` while the total is unknown.
    pub fn fraction(&self) -> Option<f64> {
        (self.total > 0).then(|| (self.done as f64 / self.total as f64).min(1.0))
    }
}

/// What a transfer reports: progress, then its end, once.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TransferEvent<T> {
    /// More bytes are done (never fewer than the last progress reported).
    Progress(Progress),
    /// The transfer completed; always the last event.
    Done(T),
    /// The transfer ended without completing (TDLib's error, the client closed, the download
    /// was cancelled elsewhere); always the last event.
    Failed(Error),
}

/// A completed download.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Downloaded {
    /// Where TDLib put the file.
    pub path: PathBuf,
    /// The file as TDLib last reported it.
    pub file: types::File,
}

/// Where a tracker's events go.
pub(crate) trait Output<T>: Send + Sync {
    /// Queues an event; false once the reader is gone.
    fn send(&self, event: TransferEvent<T>) -> bool;
    /// No more events will come.
    fn close(&self) {}
}

/// Turns what TDLib says about one transfer into events.
trait Tracker: Send + 'static {
    type Done: Send + 'static;
    /// The answer to the transfer's first request.
    fn on_answer(&mut self, answer: &str, events: &mut Vec<TransferEvent<Self::Done>>);
    /// An update the transfer's filter let through (only after the answer).
    fn on_update(&mut self, update: &Update, events: &mut Vec<TransferEvent<Self::Done>>);
}

/// A tracker on the receive thread: the sink of its updates, and what its answer callback feeds.
struct Follow<K: Tracker> {
    state: Mutex<FollowState<K>>,
    output: Box<dyn Output<K::Done>>,
    /// False once the transfer ended or its reader is gone: the hub forgets it.
    wanted: AtomicBool,
}

struct FollowState<K> {
    tracker: K,
    /// Whether the first answer was seen: updates before it predate the request.
    answered: bool,
    ended: bool,
}

impl<K: Tracker> Follow<K> {
    fn new(tracker: K, output: Box<dyn Output<K::Done>>) -> Arc<Follow<K>> {
        Arc::new(Follow {
            state: Mutex::new(FollowState {
                tracker,
                answered: false,
                ended: false,
            }),
            output,
            wanted: AtomicBool::new(true),
        })
    }

    fn lock(&self) -> MutexGuard<'_, FollowState<K>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Feeds the tracker and forwards its events; the first `Done` or `Failed` ends it. The
    /// events are handed over after the lock is released: handing over wakes a waiting task,
    /// whose waker is users' code and may drop the transfer (which takes the lock).
    fn feed(&self, step: impl FnOnce(&mut FollowState<K>, &mut Vec<TransferEvent<K::Done>>)) {
        let mut events = Vec::new();
        {
            let mut state = self.lock();
            if state.ended {
                return;
            }
            step(&mut state, &mut events);
            if let Some(last) = events
                .iter()
                .position(|event| !matches!(event, TransferEvent::Progress(_)))
            {
                events.truncate(last + 1);
                state.ended = true;
                self.wanted.store(false, Ordering::Release);
            }
        }
        let ended = self.is_ended();
        for event in events {
            if !self.output.send(event) {
                self.abandon();
                return;
            }
        }
        if ended {
            self.output.close();
        }
    }

    fn answer(&self, answer: Result<&str, Error>) {
        self.feed(|state, events| match answer {
            Ok(text) => {
                state.answered = true;
                state.tracker.on_answer(text, events);
            }
            Err(error) => events.push(TransferEvent::Failed(error)),
        });
    }

    fn fail(&self, error: Error) {
        self.feed(|_, events| events.push(TransferEvent::Failed(error)));
    }

    /// The reader is gone: nothing more to follow.
    fn abandon(&self) {
        self.lock().ended = true;
        self.wanted.store(false, Ordering::Release);
        self.output.close();
    }

    fn is_ended(&self) -> bool {
        self.lock().ended
    }
}

impl<K: Tracker> Sink for Follow<K> {
    fn push(&self, update: &Arc<Update>) {
        self.feed(|state, events| {
            if state.answered {
                state.tracker.on_update(update, events);
            }
        });
    }

    fn end(&self, end: End) {
        let error = match end {
            End::Closed => Error::closed(),
            End::Failed(error) => error,
        };
        self.fail(error);
        self.wanted.store(false, Ordering::Release);
    }

    fn is_wanted(&self) -> bool {
        self.wanted.load(Ordering::Acquire)
    }
}

/// Subscribes `follow` with `filter`, then sends `request`, whose answer it takes on the
/// receive thread. A request that cannot be made ends the transfer with the reason.
fn start<K: Tracker>(
    entry: &Arc<ClientEntry>,
    follow: &Arc<Follow<K>>,
    filter: Filter,
    request: Result<Body, Error>,
) {
    if entry.remote.is_some() {
        return follow.fail(Error::invalid_request(
            "file transfers are not carried through a remote client yet",
        ));
    }
    entry
        .hub
        .add(Subscriber::sink::<Update>(Some(filter), follow.clone()));
    let request = request.and_then(|body| {
        let dispatcher = dispatcher();
        let extra = dispatcher.next_extra();
        Ok((extra, body.with_extra(extra)?))
    });
    let (extra, request) = match request {
        Ok(made) => made,
        Err(error) => return follow.fail(error),
    };
    let taker = follow.clone();
    let owner = entry.clone();
    let callback = move |answer: Option<&str>| match answer {
        Some(text) => taker.answer(Ok(text)),
        None => taker.answer(Err(owner.end_error())),
    };
    // A client that is not open calls the callback (with `None`) at once.
    if dispatcher()
        .register_responder(entry, extra, Responder::Callback(Callback::new(callback)))
        .is_ok()
    {
        ffi::send(entry.id, &request);
    }
}

/// The progress a file's state shows.
fn download_progress(file: &types::File) -> Progress {
    Progress {
        done: file.local.downloaded_size.max(0) as u64,
        total: file_total(file),
    }
}

fn file_total(file: &types::File) -> u64 {
    if file.size > 0 {
        file.size as u64
    } else {
        file.expected_size.max(0) as u64
    }
}

/// Follows one download by the file's states.
struct DownloadTracker {
    file_id: i32,
    /// The lease's flags (not the lease: the receive thread must never drop one, see `Lease`).
    flags: Arc<LeaseFlags>,
    last: Progress,
}

impl DownloadTracker {
    fn on_file(&mut self, file: &types::File, events: &mut Vec<TransferEvent<Downloaded>>) {
        let progress = download_progress(file);
        if file.local.is_downloading_completed {
            self.flags.completed.store(true, Ordering::Release);
            self.flags.running.store(false, Ordering::Release);
            let done = Progress {
                done: progress.done.max(progress.total),
                total: progress.total,
            };
            if done != self.last {
                events.push(TransferEvent::Progress(done));
            }
            events.push(TransferEvent::Done(Downloaded {
                path: PathBuf::from(&file.local.path),
                file: file.clone(),
            }));
            return;
        }
        if !file.local.is_downloading_active {
            self.flags.running.store(false, Ordering::Release);
            events.push(TransferEvent::Failed(Error::download_stopped(
                self.file_id,
                progress.done,
                progress.total,
            )));
            return;
        }
        let progress = Progress {
            done: progress.done.max(self.last.done),
            total: progress.total,
        };
        if progress != self.last {
            self.last = progress;
            events.push(TransferEvent::Progress(progress));
        }
    }
}

impl Tracker for DownloadTracker {
    type Done = Downloaded;

    fn on_answer(&mut self, text: &str, events: &mut Vec<TransferEvent<Downloaded>>) {
        match answer::decode::<types::File>(text) {
            Ok(file) => self.on_file(&file, events),
            Err(error) => {
                self.flags.running.store(false, Ordering::Release);
                events.push(TransferEvent::Failed(error));
            }
        }
    }

    fn on_update(&mut self, update: &Update, events: &mut Vec<TransferEvent<Downloaded>>) {
        if let Update::File(update) = update {
            self.on_file(&update.file, events);
        }
    }
}

/// A client's share in TDLib's download of one file: the last one dropped before the download
/// completed cancels it. Only the users' handles hold leases: dropping one takes the client's
/// download table lock, which is taken before the hub's lock, never under it.
pub(crate) struct Lease {
    entry: Arc<ClientEntry>,
    file_id: i32,
    flags: Arc<LeaseFlags>,
}

/// What the trackers of a download tell its lease.
#[derive(Default)]
struct LeaseFlags {
    /// The file is complete: nothing to cancel.
    completed: AtomicBool,
    /// TDLib's download runs (false once a tracker saw it end): a new download of the file
    /// starts a new one instead of joining it.
    running: AtomicBool,
}

/// The downloads of a client that run, by file id.
pub(crate) type Leases = Mutex<HashMap<i32, Weak<Lease>>>;

impl Drop for Lease {
    fn drop(&mut self) {
        let mut leases = lock(&self.entry.downloads);
        // A new download of the file may have started meanwhile (this one had ended, or its
        // last handle was being dropped): it is not cancelled.
        if leases
            .get(&self.file_id)
            .is_some_and(|lease| lease.strong_count() > 0)
        {
            return;
        }
        leases.remove(&self.file_id);
        if !self.flags.completed.load(Ordering::Acquire)
            && self.entry.is_open()
            && self.entry.remote.is_none()
        {
            // Under the lock: a new download of the file is sent after the cancellation.
            if let Ok(body) = Body::typed(functions::CancelDownloadFile {
                file_id: self.file_id,
                only_if_pending: false,
            }) {
                dispatcher().send_detached(self.entry.id, body);
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts (or joins) the download of `file_id`, its events going to `output`.
pub(crate) fn download(
    client: &Client,
    file_id: i32,
    priority: i32,
    output: Box<dyn Output<Downloaded>>,
) -> Transfer {
    let entry = client.entry();
    let mut leases = lock(&entry.downloads);
    let running = leases
        .get(&file_id)
        .and_then(Weak::upgrade)
        .filter(|lease| lease.flags.running.load(Ordering::Acquire));
    let (lease, request) = match running {
        Some(lease) => (lease, Body::typed(functions::GetFile { file_id })),
        None => {
            let lease = Arc::new(Lease {
                entry: entry.clone(),
                file_id,
                flags: Arc::new(LeaseFlags {
                    completed: AtomicBool::new(false),
                    running: AtomicBool::new(true),
                }),
            });
            leases.insert(file_id, Arc::downgrade(&lease));
            let request = Body::typed(functions::DownloadFile {
                file_id,
                priority: priority.clamp(1, 32),
                offset: 0,
                limit: 0,
                synchronous: false,
            });
            (lease, request)
        }
    };
    let tracker = DownloadTracker {
        file_id,
        flags: lease.flags.clone(),
        last: Progress::default(),
    };
    let follow = Follow::new(tracker, output);
    let filter: Filter = Arc::new(
        move |update: &Update| matches!(update, Update::File(update) if update.file.id == file_id),
    );
    // Sent under the lock, so that TDLib sees the joining `getFile` after the `downloadFile`
    // it joins, and a new `downloadFile` after the cancellation of an earlier one. A download
    // that ended (completed, failed, cancelled elsewhere) is not joined: a new one starts.
    start(entry, &follow, filter, request);
    drop(leases);
    Transfer {
        follow,
        _lease: Some(lease),
        pending_id: None,
    }
}

/// The file a message's content is made of, if it has one: a photo's largest size, a document,
/// a video, an audio, an animation, a voice or video note. (The one a sent message uploads, and
/// the one to give [`Client::download_file`] for a message.)
pub fn file_of(content: &MessageContent) -> Option<&types::File> {
    Some(match content {
        MessageContent::MessagePhoto(photo) => &photo.photo.sizes.last()?.photo,
        MessageContent::MessageDocument(document) => &document.document.document,
        MessageContent::MessageVideo(video) => &video.video.video,
        MessageContent::MessageAudio(audio) => &audio.audio.audio,
        MessageContent::MessageAnimation(animation) => &animation.animation.animation,
        MessageContent::MessageVoiceNote(voice) => &voice.voice_note.voice,
        MessageContent::MessageVideoNote(note) => &note.video_note.video,
        _ => return None,
    })
}

/// Follows a message from `sendMessage`'s answer (a temporary id) to
/// `updateMessageSendSucceeded`, `updateMessageSendFailed` or its deletion (which cancels it),
/// and its file's upload.
struct SendTracker {
    /// The temporary id, from the answer.
    pending_id: i64,
    /// The same, for the user's handle ([`OutgoingMessage::pending_message_id`]).
    shown_id: Arc<AtomicI64>,
    /// The file being uploaded, if any.
    file_id: Option<i32>,
    last: Progress,
}

impl Tracker for SendTracker {
    type Done = types::Message;

    fn on_answer(&mut self, text: &str, events: &mut Vec<TransferEvent<types::Message>>) {
        let message = match answer::decode::<types::Message>(text) {
            Ok(message) => message,
            Err(error) => return events.push(TransferEvent::Failed(error)),
        };
        match &message.sending_state {
            None => events.push(TransferEvent::Done(message)),
            Some(MessageSendingState::Failed(failed)) => events.push(TransferEvent::Failed(
                Error::tdlib(failed.error.code, failed.error.message.clone()),
            )),
            Some(_) => {
                self.pending_id = message.id;
                self.shown_id.store(message.id, Ordering::Release);
                self.file_id = file_of(&message.content).map(|file| file.id);
            }
        }
    }

    fn on_update(&mut self, update: &Update, events: &mut Vec<TransferEvent<types::Message>>) {
        match update {
            Update::MessageSendSucceeded(sent) if sent.old_message_id == self.pending_id => {
                if let (Some(file), Some(_)) = (file_of(&sent.message.content), self.file_id) {
                    let total = file_total(file);
                    if self.last.done < total {
                        events.push(TransferEvent::Progress(Progress { done: total, total }));
                    }
                }
                events.push(TransferEvent::Done((*sent.message).clone()));
            }
            Update::MessageSendFailed(failed) if failed.old_message_id == self.pending_id => {
                events.push(TransferEvent::Failed(Error::tdlib(
                    failed.error.code,
                    failed.error.message.clone(),
                )));
            }
            // Deleting a message being sent is how it is cancelled: TDLib then sends neither
            // success nor failure.
            Update::DeleteMessages(deleted)
                if deleted.is_permanent && deleted.message_ids.contains(&self.pending_id) =>
            {
                events.push(TransferEvent::Failed(Error::message_deleted(
                    deleted.chat_id,
                    self.pending_id,
                )));
            }
            Update::File(update) if Some(update.file.id) == self.file_id => {
                let progress = Progress {
                    done: (update.file.remote.uploaded_size.max(0) as u64).max(self.last.done),
                    total: file_total(&update.file),
                };
                if progress != self.last {
                    self.last = progress;
                    events.push(TransferEvent::Progress(progress));
                }
            }
            _ => {}
        }
    }
}

/// Sends `request` and follows the message until the server has it.
pub(crate) fn send_message(
    client: &Client,
    request: functions::SendMessage,
    output: Box<dyn Output<types::Message>>,
) -> Transfer {
    let chat_id = request.chat_id;
    let shown_id = Arc::new(AtomicI64::new(0));
    let tracker = SendTracker {
        pending_id: 0,
        shown_id: shown_id.clone(),
        file_id: None,
        last: Progress::default(),
    };
    let follow = Follow::new(tracker, output);
    // Cheap on the receive thread: the outcome updates of this chat, and file updates (the
    // tracker keeps those of its file).
    let filter: Filter = Arc::new(move |update: &Update| match update {
        Update::MessageSendSucceeded(sent) => sent.message.chat_id == chat_id,
        Update::MessageSendFailed(failed) => failed.message.chat_id == chat_id,
        Update::DeleteMessages(deleted) => {
            deleted.chat_id == chat_id && deleted.is_permanent && !deleted.from_cache
        }
        Update::File(update) => {
            update.file.remote.is_uploading_active || update.file.remote.is_uploading_completed
        }
        _ => false,
    });
    start(client.entry(), &follow, filter, Body::typed(request));
    Transfer {
        follow,
        _lease: None,
        pending_id: Some(shown_id),
    }
}

/// A running transfer, as its faces hold it: dropping it stops following it (and, for the last
/// download of a file, cancels the download).
pub(crate) struct Transfer {
    follow: Arc<dyn Abandon>,
    _lease: Option<Arc<Lease>>,
    /// A sent message's temporary id, once TDLib has answered.
    pending_id: Option<Arc<AtomicI64>>,
}

impl Transfer {
    pub(crate) fn is_ended(&self) -> bool {
        self.follow.is_ended()
    }

    /// The temporary id of a message being sent, once TDLib has given it.
    pub(crate) fn pending_message_id(&self) -> Option<i64> {
        let id = self.pending_id.as_ref()?.load(Ordering::Acquire);
        (id != 0).then_some(id)
    }
}

impl Drop for Transfer {
    fn drop(&mut self) {
        self.follow.abandon();
    }
}

/// What a [`Transfer`] needs of its tracker, whatever its kind.
trait Abandon: Send + Sync {
    fn abandon(&self);
    fn is_ended(&self) -> bool;
}

impl<K: Tracker> Abandon for Follow<K> {
    fn abandon(&self) {
        Follow::abandon(self);
    }

    fn is_ended(&self) -> bool {
        Follow::is_ended(self)
    }
}

/// The queue the async face reads: events, and the waker of the task that waits.
pub(crate) struct EventQueue<T> {
    state: Mutex<QueueState<T>>,
}

struct QueueState<T> {
    events: VecDeque<TransferEvent<T>>,
    waker: Option<Waker>,
}

impl<T> EventQueue<T> {
    fn new() -> Arc<EventQueue<T>> {
        Arc::new(EventQueue {
            state: Mutex::new(QueueState {
                events: VecDeque::new(),
                waker: None,
            }),
        })
    }

    fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<TransferEvent<T>>> {
        let mut state = lock(&self.state);
        if let Some(event) = state.events.pop_front() {
            return Poll::Ready(Some(event));
        }
        match &mut state.waker {
            Some(stored) if stored.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T: Send> Output<T> for Arc<EventQueue<T>> {
    fn send(&self, event: TransferEvent<T>) -> bool {
        let mut state = lock(&self.state);
        state.events.push_back(event);
        let waker = state.waker.take();
        drop(state);
        if let Some(waker) = waker {
            // A waker is users' code; its panic must not reach the receive thread.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
        }
        true
    }
}

/// A download (async): a [`Stream`] of [`TransferEvent`]s, ending after the first `Done` or
/// `Failed`. Dropping it stops following the download; the last one of a file dropped before
/// the download completed cancels it (`cancelDownloadFile`).
///
/// ```no_run
/// # async fn example(client: tdlib::Client, file_id: i32) -> Result<(), tdlib::Error> {
/// use futures_util::StreamExt;
/// use tdlib::transfer::TransferEvent;
///
/// let mut download = client.download_file(file_id);
/// while let Some(event) = download.next().await {
///     match event {
///         TransferEvent::Progress(progress) => println!("{} of {} bytes", progress.done, progress.total),
///         TransferEvent::Done(file) => println!("saved at {}", file.path.display()),
///         TransferEvent::Failed(error) => return Err(error),
///         _ => {}
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub struct Download {
    file_id: i32,
    queue: Arc<EventQueue<Downloaded>>,
    finished: bool,
    _transfer: Transfer,
}

impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("file_id", &self.file_id)
            .field("finished", &self.finished)
            .finish()
    }
}

impl Download {
    /// The file being downloaded.
    pub fn file_id(&self) -> i32 {
        self.file_id
    }

    /// Waits for the end, skipping progress: the downloaded file, or why not.
    pub async fn finish(mut self) -> Result<Downloaded, Error> {
        finish(&mut self).await
    }
}

impl Stream for Download {
    type Item = TransferEvent<Downloaded>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        poll_transfer(&this.queue, &mut this.finished, cx)
    }
}

/// A message being sent (async): a [`Stream`] of [`TransferEvent`]s (upload progress for a
/// file) that ends with the message as the server has it (`Done`, with its final id) or with
/// why it was not sent (`Failed`: TDLib's error, with [`Error::retry_after`] for flood waits; or
/// [`ErrorKind::TransferStopped`](crate::ErrorKind::TransferStopped) if the message was deleted
/// before it was sent, which is how a send is cancelled).
pub struct OutgoingMessage {
    queue: Arc<EventQueue<types::Message>>,
    finished: bool,
    _transfer: Transfer,
}

impl fmt::Debug for OutgoingMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingMessage")
            .field("finished", &self.finished)
            .finish()
    }
}

impl OutgoingMessage {
    /// The message's temporary id while it is being sent, once TDLib has answered the request
    /// (it also comes in `updateNewMessage`). Deleting the message with it (`deleteMessages`)
    /// cancels the send; this then ends with
    /// [`ErrorKind::TransferStopped`](crate::ErrorKind::TransferStopped).
    pub fn pending_message_id(&self) -> Option<i64> {
        self._transfer.pending_message_id()
    }

    /// Waits for the end, skipping progress: the sent message, or why it was not sent.
    pub async fn finish(mut self) -> Result<types::Message, Error> {
        finish(&mut self).await
    }
}

impl Stream for OutgoingMessage {
    type Item = TransferEvent<types::Message>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        poll_transfer(&this.queue, &mut this.finished, cx)
    }
}

fn poll_transfer<T>(
    queue: &EventQueue<T>,
    finished: &mut bool,
    cx: &mut Context<'_>,
) -> Poll<Option<TransferEvent<T>>> {
    if *finished {
        return Poll::Ready(None);
    }
    let event = std::task::ready!(queue.poll_next(cx));
    *finished = !matches!(event, Some(TransferEvent::Progress(_)));
    Poll::Ready(event)
}

async fn finish<T, S>(stream: &mut S) -> Result<T, Error>
where
    S: Stream<Item = TransferEvent<T>> + Unpin,
{
    use futures_util::StreamExt;
    while let Some(event) = stream.next().await {
        match event {
            TransferEvent::Done(done) => return Ok(done),
            TransferEvent::Failed(error) => return Err(error),
            TransferEvent::Progress(_) => {}
        }
    }
    // Only after a `Done` or `Failed`, which were returned above.
    Err(Error::closed())
}

impl Client {
    /// Downloads a file (priority 1, the lowest; see [`Client::download_file_with_priority`]):
    /// progress from `updateFile`, then the path or why not. Downloads of one file share one
    /// download of TDLib; dropping the last one before it completed cancels it.
    pub fn download_file(&self, file_id: i32) -> Download {
        self.download_file_with_priority(file_id, 1)
    }

    /// [`Client::download_file`] with TDLib's priority, 1 to 32 (higher first; clamped). A file
    /// already downloading keeps the priority it was started with.
    pub fn download_file_with_priority(&self, file_id: i32, priority: i32) -> Download {
        let queue = EventQueue::new();
        let transfer = download(self, file_id, priority, Box::new(queue.clone()));
        Download {
            file_id,
            queue,
            finished: false,
            _transfer: transfer,
        }
    }

    /// Sends a message and follows it until the server has it: upload progress if it has a
    /// local file, then the message with its final id (`updateMessageSendSucceeded`), or
    /// TDLib's error (the request's, or `updateMessageSendFailed`'s).
    ///
    /// ```no_run
    /// # async fn example(client: tdlib::Client, chat_id: i64) -> Result<(), tdlib::Error> {
    /// use tdlib::{enums, functions, types};
    ///
    /// let text = types::FormattedText { text: "hello".into(), ..Default::default() };
    /// let content = Box::new(enums::InputMessageContent::InputMessageText(types::InputMessageText {
    ///     text,
    ///     ..Default::default()
    /// }));
    /// let request = functions::SendMessage { chat_id, input_message_content: content, ..Default::default() };
    /// let sent = client.send_message(request).finish().await?;
    /// println!("message {} is on the server", sent.id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_message(&self, request: functions::SendMessage) -> OutgoingMessage {
        let queue = EventQueue::new();
        let transfer = send_message(self, request, Box::new(queue.clone()));
        OutgoingMessage {
            queue,
            finished: false,
            _transfer: transfer,
        }
    }
}
