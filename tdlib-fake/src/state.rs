//! One client of the fake: TDLib 1.8.65's authorization state machine, a few chat, message and
//! file functions, and the script's conversation.
//!
//! Everything a client emits (answers and updates) is produced while its state lock is held,
//! and pushed to the queue in that order, so that a program sees the same ordering on every run:
//! for example the update to `authorizationStateWaitPhoneNumber` before the `ok` of
//! `setTdlibParameters`, as TDLib does. Background work (the conversation, the "other device"
//! that confirms a QR login, file downloads and uploads) runs on threads of the client that take
//! the same lock; `close` wakes them up and they stop.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::engine::{self, Answer, COMMIT, GLOBAL_QUEUE, Request, VERSION, answer_body};
use crate::files::{self, FileState};
use crate::log::RequestLog;
use crate::queue::Queue;
use crate::schema::schema;
use crate::script::{Messages, Script, SendError, SendFailure, Step};
use crate::write;

/// The first temporary id of a message being sent; far from the ids a script would use.
/// The file in the database folder where a persistent script keeps its progress.
const PROGRESS_FILE: &str = "fake-tdlib-progress.json";

const FIRST_TEMPORARY_ID: i64 = 1_000_000_001;

/// The first permanent id of a sent message.
const FIRST_MESSAGE_ID: i64 = 2_000_000_001;

/// Where a client's output goes.
#[derive(Debug)]
pub enum Sink {
    /// The process-wide queue read by `td_receive`.
    Global,
    /// A queue of the client's own (the old `td_json_client_*` API, and unit tests).
    Own(Queue),
}

/// A client, shared by the threads that send to it and its background threads.
#[derive(Debug)]
pub struct Client {
    id: i32,
    script: Arc<Script>,
    log: Option<Arc<RequestLog>>,
    sink: Sink,
    /// Whether output carries `@client_id` (not for the old API).
    tag_client_id: bool,
    state: Mutex<State>,
    /// Notified when the request counts change and when the client closes.
    changed: Condvar,
}

/// The authorization state.
#[derive(Debug, Clone, PartialEq)]
enum Auth {
    WaitTdlibParameters,
    WaitPhoneNumber,
    WaitEmailAddress,
    WaitEmailCode,
    WaitCode,
    WaitRegistration,
    WaitPassword,
    WaitOtherDeviceConfirmation(String),
    Ready,
    LoggingOut,
    Closing,
    Closed,
}

#[derive(Debug)]
struct State {
    /// Whether the first request has arrived (it starts the client, like in TDLib).
    started: bool,
    auth: Auth,
    /// After `close` or `logOut`: every request gets "Request aborted".
    closed: bool,
    me: Value,
    /// Valid requests received so far, by function name (for `wait_for`).
    requests: HashMap<String, u64>,
    /// Messages by `(chat_id, id)`: those the script announced and those sent.
    messages: HashMap<(i64, i64), Value>,
    send_errors: VecDeque<SendError>,
    send_failures: VecDeque<SendFailure>,
    /// Until then, every send in that chat gets 429 (the program did not wait out a flood
    /// wait). Telegram's flood waits for sending are per chat.
    flood_until: HashMap<i64, Instant>,
    next_temporary_id: i64,
    next_message_id: i64,
    /// Messages whose file is being uploaded, by `(chat_id, temporary id)`: deleting one
    /// cancels its upload.
    uploading: std::collections::HashSet<(i64, i64)>,
    chats_loaded: bool,
    options: HashMap<String, Value>,
    /// The files the client knows: the script's and those it sent.
    files: HashMap<i32, FileState>,
    next_file_id: i32,
    /// Where downloads are written (`files_directory`, else `database_directory`, else the
    /// current directory), once `setTdlibParameters` gave it.
    files_directory: Option<PathBuf>,
    /// The database folder `setTdlibParameters` gave (where a persistent script's progress is
    /// kept).
    database_directory: Option<PathBuf>,
    /// Tokens that tell downloads apart, so that a cancelled download's thread stops.
    next_download: u64,
    /// Synchronous `downloadFile` requests waiting for their file, in arrival order.
    download_waiters: Vec<(i32, Deferred)>,
}

/// A request answered later than it was handled (a synchronous `downloadFile`).
#[derive(Debug)]
struct Deferred {
    /// The request for the log.
    request: String,
    /// Its `@extra`, as JSON text.
    extra: Option<String>,
}

impl State {
    /// Remembers a flood wait of `seconds` announced for sends to `chat_id`.
    fn start_flood_wait(&mut self, chat_id: i64, seconds: f64) {
        if seconds > 0.0 && seconds.is_finite() {
            let until = Instant::now() + Duration::from_secs_f64(seconds);
            self.flood_until.insert(chat_id, until);
        }
    }

    /// Where downloads are written.
    fn files_directory(&self) -> PathBuf {
        self.files_directory
            .clone()
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// `value` with every file it names in its current state.
    fn with_current_files(&self, mut value: Value) -> Value {
        if !self.files.is_empty() {
            files::refresh(&mut value, &self.files);
        }
        value
    }
}

impl Client {
    /// A client that has not started yet.
    pub fn new(
        id: i32,
        script: Arc<Script>,
        log: Option<Arc<RequestLog>>,
        sink: Sink,
        tag_client_id: bool,
    ) -> Arc<Client> {
        let files: HashMap<i32, FileState> = script
            .files
            .iter()
            .map(|file| (file.id, FileState::from_script(file)))
            .collect();
        let messages = script
            .history
            .iter()
            .filter_map(|message| {
                let key = (message["chat_id"].as_i64()?, message["id"].as_i64()?);
                Some((key, message.clone()))
            })
            .collect();
        let state = State {
            started: false,
            auth: Auth::WaitTdlibParameters,
            closed: false,
            me: script.me.clone(),
            requests: HashMap::new(),
            messages,
            send_errors: script.send_errors.iter().cloned().collect(),
            send_failures: script.send_failures.iter().cloned().collect(),
            flood_until: HashMap::new(),
            next_temporary_id: FIRST_TEMPORARY_ID,
            uploading: Default::default(),
            next_message_id: FIRST_MESSAGE_ID,
            chats_loaded: false,
            options: HashMap::new(),
            next_file_id: files.keys().max().map_or(1, |id| id.saturating_add(1)),
            files,
            files_directory: None,
            database_directory: None,
            next_download: 1,
            download_waiters: Vec::new(),
        };
        Arc::new(Client {
            id,
            script,
            log,
            sink,
            tag_client_id,
            state: Mutex::new(state),
            changed: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn queue(&self) -> &Queue {
        match &self.sink {
            Sink::Global => &GLOBAL_QUEUE,
            Sink::Own(queue) => queue,
        }
    }

    /// The client's own queue, for the old API (and tests).
    pub fn own_queue(&self) -> Option<&Queue> {
        match &self.sink {
            Sink::Global => None,
            Sink::Own(queue) => Some(queue),
        }
    }

    fn client_id_tag(&self) -> i32 {
        if self.tag_client_id { self.id } else { 0 }
    }

    /// Logs and pushes an answer written by the engine (a script error), in order with the
    /// client's other output.
    pub fn push_raw(&self, request: &Request<'_>, body: &str) {
        let _state = self.lock();
        if let Some(log) = &self.log {
            log.request(self.id, &request.log_json(), body);
        }
        let text = write::envelope(body, request.extra.as_deref(), self.client_id_tag());
        self.queue().push(text);
    }

    /// Closes the client without any output (`td_json_client_destroy`).
    pub fn shut_down(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.auth = Auth::Closed;
        self.changed.notify_all();
    }

    /// Emits a complete update, with the files it names in their current state.
    fn emit_complete(&self, state: &State, update: &Value) {
        let body = if state.files.is_empty() {
            write::object(schema(), update)
        } else {
            write::object(schema(), &state.with_current_files(update.clone()))
        };
        self.queue()
            .push(write::envelope(&body, None, self.client_id_tag()));
    }

    /// Completes and emits an update built by the fake.
    fn emit(&self, state: &State, update: Value) {
        match schema().complete(&update, "Update", "update") {
            Ok(update) => self.emit_complete(state, &update),
            Err(error) => self.script_error(&format!(
                "fake TDLib: internal error: {}",
                error.with_path()
            )),
        }
    }

    /// Logs and pushes the answer to a request whose answer was deferred.
    fn answer_deferred(&self, deferred: Deferred, answer: Answer) {
        let body = answer_body(schema(), answer);
        if let Some(log) = &self.log {
            log.request(self.id, &deferred.request, &body);
        }
        let text = write::envelope(&body, deferred.extra.as_deref(), self.client_id_tag());
        self.queue().push(text);
    }

    fn emit_auth(&self, state: &State) {
        let auth = self.auth_object(&state.auth);
        self.emit(
            state,
            json!({"@type": "updateAuthorizationState", "authorization_state": auth}),
        );
    }

    fn script_error(&self, message: &str) {
        if let Some(log) = &self.log {
            log.script_error(Some(self.id), message);
        }
    }

    /// Handles one `td_send`.
    pub fn handle(self: &Arc<Self>, request: &Request<'_>) {
        let mut state = self.lock();
        if !state.started {
            state.started = true;
            for (name, value) in [("version", VERSION), ("commit_hash", COMMIT)] {
                self.emit(
                    &state,
                    json!({
                        "@type": "updateOption",
                        "name": name,
                        "value": {"@type": "optionValueString", "value": value},
                    }),
                );
            }
            self.emit_auth(&state);
        }
        let mut call = Call {
            client: self,
            state,
            request,
            answered: false,
        };
        match &request.parsed {
            Err(error) => call.answer(Err((400, error.clone()))),
            Ok(value) => match schema().check_request(value) {
                Err(message) => call.answer(Err((400, message))),
                Ok((function, request)) => {
                    *call
                        .state
                        .requests
                        .entry(function.name.clone())
                        .or_default() += 1;
                    self.changed.notify_all();
                    if call.state.closed {
                        call.answer(Err((500, "Request aborted".to_owned())));
                    } else {
                        call.dispatch(&function.name, &request);
                    }
                }
            },
        }
        if !call.answered {
            call.answer(Err((
                500,
                "fake TDLib: internal error: no answer".to_owned(),
            )));
        }
    }

    fn auth_object(&self, auth: &Auth) -> Value {
        let login = &self.script.login;
        match auth {
            Auth::WaitTdlibParameters => json!({"@type": "authorizationStateWaitTdlibParameters"}),
            Auth::WaitPhoneNumber => json!({"@type": "authorizationStateWaitPhoneNumber"}),
            Auth::WaitEmailAddress => json!({"@type": "authorizationStateWaitEmailAddress"}),
            Auth::WaitEmailCode => json!({
                "@type": "authorizationStateWaitEmailCode",
                "code_info": {
                    "email_address_pattern": email_pattern(login.email_address.as_deref().unwrap_or_default()),
                    "length": login.email_code.chars().count(),
                },
            }),
            Auth::WaitCode => json!({
                "@type": "authorizationStateWaitCode",
                "code_info": {
                    "phone_number": login.phone_number.as_deref().unwrap_or_default(),
                    "type": {"@type": "authenticationCodeTypeSms", "length": login.code.chars().count()},
                    "timeout": 60,
                },
            }),
            Auth::WaitRegistration => json!({
                "@type": "authorizationStateWaitRegistration",
                "terms_of_service": {
                    "text": {"text": "Terms of service of the fake TDLib: nothing here is real."},
                    "min_user_age": 0,
                    "show_popup": false,
                },
            }),
            Auth::WaitPassword => json!({
                "@type": "authorizationStateWaitPassword",
                "password_hint": login.password_hint,
                "has_recovery_email_address": false,
                "has_passport_data": false,
            }),
            Auth::WaitOtherDeviceConfirmation(link) => json!({
                "@type": "authorizationStateWaitOtherDeviceConfirmation",
                "link": link,
            }),
            Auth::Ready => json!({"@type": "authorizationStateReady"}),
            Auth::LoggingOut => json!({"@type": "authorizationStateLoggingOut"}),
            Auth::Closing => json!({"@type": "authorizationStateClosing"}),
            Auth::Closed => json!({"@type": "authorizationStateClosed"}),
        }
    }

    /// Logs in: `updateUser`, `updateOption my_id`, `authorizationStateReady`, then the
    /// conversation starts on its own thread.
    fn become_ready(self: &Arc<Self>, state: &mut State) {
        state.auth = Auth::Ready;
        self.emit(state, json!({"@type": "updateUser", "user": state.me}));
        self.emit(
            state,
            json!({
                "@type": "updateOption",
                "name": "my_id",
                "value": {"@type": "optionValueInteger", "value": state.me["id"]},
            }),
        );
        self.emit_auth(state);
        if self.script.persistent && self.saved_progress(state).is_none() {
            self.save_progress(state, 0, 0);
        }
        if !self.script.conversation.is_empty() {
            self.spawn("conversation", Client::converse);
        }
    }

    /// Runs `work` on a thread of its own; a panic there is logged, not propagated.
    fn spawn(
        self: &Arc<Self>,
        what: &'static str,
        work: impl FnOnce(&Arc<Client>) + Send + 'static,
    ) {
        let client = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name(format!("fake-tdlib-{what}-{}", self.id))
            .spawn(move || {
                let outcome =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&client)));
                if outcome.is_err() {
                    client.script_error(&format!(
                        "fake TDLib: internal error: the {what} thread panicked"
                    ));
                }
            });
        if let Err(error) = spawned {
            self.script_error(&format!(
                "fake TDLib: cannot start the {what} thread: {error}"
            ));
        }
    }

    /// Waits on the state lock until `deadline` or until the client closes. Returns the guard
    /// and whether the client is still open.
    fn sleep_until<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        deadline: Instant,
    ) -> (MutexGuard<'a, State>, bool) {
        loop {
            if state.closed {
                return (state, false);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return (state, true);
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// The script's conversation, step by step (on the client's conversation thread).
    fn converse(self: &Arc<Self>) {
        let (first_step, delivered) = self.saved_progress(&self.lock()).unwrap_or((0, 0));
        for (index, step) in self.script.conversation.iter().enumerate().skip(first_step) {
            let mut state = self.lock();
            if state.closed {
                return;
            }
            match step {
                Step::Update(update) => {
                    remember_message(&mut state, update);
                    self.emit_complete(&state, update);
                }
                Step::Sleep(duration) => {
                    let deadline = Instant::now() + *duration;
                    let (guard, open) = self.sleep_until(state, deadline);
                    if !open {
                        return;
                    }
                    state = guard;
                }
                Step::WaitFor {
                    request,
                    count,
                    timeout,
                } => {
                    let deadline = Instant::now() + *timeout;
                    loop {
                        if state.closed {
                            return;
                        }
                        let received = state.requests.get(request).copied().unwrap_or_default();
                        if received >= *count {
                            break;
                        }
                        let left = deadline.saturating_duration_since(Instant::now());
                        if left.is_zero() {
                            self.script_error(&format!(
                                "conversation[{index}]: wait_for {request} (count {count}) timed out after {} ms with {received} received",
                                timeout.as_millis()
                            ));
                            break;
                        }
                        state = self
                            .changed
                            .wait_timeout(state, left)
                            .unwrap_or_else(PoisonError::into_inner)
                            .0;
                    }
                }
                Step::Burst { update, count } => {
                    remember_message(&mut state, update);
                    let update = state.with_current_files(update.clone());
                    let body = write::object(schema(), &update);
                    let text = write::envelope(&body, None, self.client_id_tag());
                    self.queue().push_repeat(Arc::from(text), *count);
                }
                Step::Messages(messages) => {
                    let first = if index == first_step {
                        delivered + 1
                    } else {
                        1
                    };
                    drop(state);
                    if !self.emit_messages(index, messages, first) {
                        return;
                    }
                    state = self.lock();
                }
            }
            if self.script.persistent {
                self.save_progress(&state, index + 1, 0);
            }
        }
    }

    /// Emits messages `first..=count` of a `messages` step (the conversation's step `index`);
    /// false when the client closed meanwhile.
    fn emit_messages(&self, index: usize, messages: &Messages, first: u64) -> bool {
        let mut state = self.lock();
        for number in first..=messages.count {
            if state.closed {
                return false;
            }
            let chats = messages.chats.len() as u64;
            let mut update = messages.template.clone();
            let message = &mut update["message"];
            message["id"] = json!(number << 20);
            message["chat_id"] = json!(messages.chats[((number - 1) % chats) as usize]);
            message["date"] = json!(self.script.unix_time);
            message["content"]["text"]["text"] = json!(number.to_string());
            self.emit_complete(&state, &update);
            if number % messages.pause_every == 0 {
                if self.script.persistent {
                    let saved = number.saturating_sub(messages.replay);
                    self.save_progress(&state, index, saved);
                }
                let deadline = Instant::now() + messages.pause;
                let (guard, open) = self.sleep_until(state, deadline);
                if !open {
                    return false;
                }
                state = guard;
            }
        }
        true
    }

    /// Where a persistent script keeps its progress.
    fn progress_file(state: &State) -> Option<PathBuf> {
        Some(state.database_directory.as_ref()?.join(PROGRESS_FILE))
    }

    /// The saved progress (next conversation step, messages of it already delivered), if the
    /// script is persistent and the database folder has one.
    fn saved_progress(&self, state: &State) -> Option<(usize, u64)> {
        if !self.script.persistent {
            return None;
        }
        let text = std::fs::read_to_string(Self::progress_file(state)?).ok()?;
        let value: Value = serde_json::from_str(&text).ok()?;
        Some((
            usize::try_from(value["step"].as_u64()?).ok()?,
            value["delivered"].as_u64()?,
        ))
    }

    /// Saves the progress (written aside and renamed, so that a kill leaves the old or the new
    /// one).
    fn save_progress(&self, state: &State, step: usize, delivered: u64) {
        let Some(file) = Self::progress_file(state) else {
            return;
        };
        let aside = file.with_extension("json.new");
        let text = json!({"step": step, "delivered": delivered}).to_string();
        let saved = std::fs::create_dir_all(file.parent().unwrap_or(Path::new(".")))
            .and_then(|()| std::fs::write(&aside, text))
            .and_then(|()| std::fs::rename(&aside, &file));
        if let Err(error) = saved {
            self.script_error(&format!(
                "fake TDLib: cannot save the progress in {}: {error}",
                file.display()
            ));
        }
    }

    /// The "other device" of a QR login confirms after the script's delay.
    fn confirm_qr(self: &Arc<Self>) {
        let deadline = Instant::now() + self.script.login.qr_confirm;
        let (mut state, open) = self.sleep_until(self.lock(), deadline);
        if !open || !matches!(state.auth, Auth::WaitOtherDeviceConfirmation(_)) {
            return;
        }
        if self.script.login.password.is_some() {
            state.auth = Auth::WaitPassword;
            self.emit_auth(&state);
        } else {
            self.become_ready(&mut state);
        }
    }

    /// Downloads a file in the script's steps, each announced with `updateFile`, until it is
    /// complete, the download is cancelled (its token is gone) or the client closes.
    fn run_download(self: &Arc<Self>, file_id: i32, token: u64) {
        let pacing = self.script.download;
        let mut state = self.lock();
        let Some(start) = state.files.get(&file_id).map(|file| file.downloaded_size) else {
            return;
        };
        for step in 1..=pacing.steps {
            let (guard, open) = self.sleep_until(state, Instant::now() + pacing.step);
            state = guard;
            let Some(file) = state.files.get_mut(&file_id) else {
                return;
            };
            if !open || file.download != Some(token) {
                return;
            }
            if step == pacing.steps {
                return self.finish_download(&mut state, file_id);
            }
            let size = part(start, file.size, step, pacing.steps);
            if size != file.downloaded_size {
                file.downloaded_size = size;
                let update = file.update();
                self.emit(&state, update);
            }
        }
    }

    /// The end of a download: the local copy is written, the final `updateFile` announces it,
    /// and the synchronous requests waiting for it get the file. If the copy cannot be written,
    /// the download fails as in TDLib (no local part, the waiting requests get an error).
    fn finish_download(&self, state: &mut State, file_id: i32) {
        let directory = state.files_directory();
        let Some(file) = state.files.get_mut(&file_id) else {
            return;
        };
        file.download = None;
        let answer = match self.write_local_copy(&directory, file) {
            Ok(path) => {
                file.local_path = path;
                file.downloaded_size = file.size;
                Ok(file.object())
            }
            Err(problem) => {
                self.script_error(&format!(
                    "fake TDLib: the download of file {file_id} failed: {problem}"
                ));
                file.downloaded_size = 0;
                error(400, "File download has failed or was canceled")
            }
        };
        let update = file.update();
        self.emit(state, update);
        for waiter in take_waiters(state, file_id) {
            self.answer_deferred(waiter, answer.clone());
        }
    }

    /// Writes the local copy of a downloaded file (see [`files::write_local_copy`]); returns its
    /// path.
    fn write_local_copy(&self, directory: &Path, file: &FileState) -> Result<String, String> {
        let part_tag = format!("{}-{}-{}", std::process::id(), self.id, file.id);
        files::write_local_copy(
            directory,
            &file.name,
            file.size,
            file.source.as_deref(),
            &part_tag,
        )
    }

    /// Uploads a file being sent in the script's steps, each announced with `updateFile`, then
    /// finishes sending `message`; stops if the client closes or the message is deleted.
    fn run_upload(self: &Arc<Self>, file_id: i32, message: Value) {
        let pacing = self.script.upload;
        let key = (
            message["chat_id"].as_i64().unwrap_or_default(),
            message["id"].as_i64().unwrap_or_default(),
        );
        let mut state = self.lock();
        for step in 1..=pacing.steps {
            let (guard, open) = self.sleep_until(state, Instant::now() + pacing.step);
            state = guard;
            if !open || !state.uploading.contains(&key) {
                return;
            }
            let Some(file) = state.files.get_mut(&file_id) else {
                return;
            };
            if step == pacing.steps {
                file.finish_upload(self.id);
                let update = file.update();
                self.emit(&state, update);
                state.uploading.remove(&key);
                return self.finish_send(&mut state, message);
            }
            let size = part(0, file.size, step, pacing.steps);
            if size != file.uploaded_size {
                file.uploaded_size = size;
                let update = file.update();
                self.emit(&state, update);
            }
        }
    }

    /// A sent message reaches the server: it fails (if the script has a failure left) with
    /// `updateMessageSendFailed` and a new temporary id, or succeeds with
    /// `updateMessageSendSucceeded` and a new server id.
    fn finish_send(&self, state: &mut State, pending: Value) {
        let chat_id = pending["chat_id"].as_i64().unwrap_or_default();
        let old_id = pending["id"].clone();
        let mut message = state.with_current_files(pending);
        if let Some(failure) = state.send_failures.pop_front() {
            let id = state.next_temporary_id;
            state.next_temporary_id += 1;
            message["id"] = Value::from(id);
            message["sending_state"] = json!({
                "@type": "messageSendingStateFailed",
                "error": failure.error,
                "can_retry": true,
                "retry_after": failure.retry_after,
            });
            let message = complete_message(message);
            state.messages.insert((chat_id, id), message.clone());
            state.start_flood_wait(chat_id, failure.retry_after);
            self.emit(
                state,
                json!({
                    "@type": "updateMessageSendFailed",
                    "message": message,
                    "old_message_id": old_id,
                    "error": failure.error,
                }),
            );
        } else {
            let id = state.next_message_id;
            state.next_message_id += 1;
            message["id"] = Value::from(id);
            if let Some(fields) = message.as_object_mut() {
                fields.remove("sending_state");
            }
            // The server's photo replaces the local one ("i") that TDLib shows while sending.
            if let Some(sizes) = message
                .pointer_mut("/content/photo/sizes")
                .and_then(Value::as_array_mut)
            {
                for size in sizes.iter_mut().filter(|size| size["type"] == "i") {
                    size["type"] = Value::from("x");
                }
            }
            state.messages.insert((chat_id, id), message.clone());
            self.emit(
                state,
                json!({
                    "@type": "updateMessageSendSucceeded",
                    "message": message,
                    "old_message_id": old_id,
                }),
            );
        }
    }
}

/// The size reached after `step` of `steps` equal parts of the way from `start` to `size`.
fn part(start: i64, size: i64, step: u64, steps: u64) -> i64 {
    let done = i128::from(size - start) * i128::from(step) / i128::from(steps.max(1));
    start + i64::try_from(done).unwrap_or_default()
}

/// Removes and returns the synchronous `downloadFile` requests waiting for `file_id`, in
/// arrival order.
fn take_waiters(state: &mut State, file_id: i32) -> Vec<Deferred> {
    let (waiting, others) = std::mem::take(&mut state.download_waiters)
        .into_iter()
        .partition(|(id, _)| *id == file_id);
    state.download_waiters = others;
    waiting.into_iter().map(|(_, waiter)| waiter).collect()
}

/// Puts the message of an `updateNewMessage` into the store.
fn remember_message(state: &mut State, update: &Value) {
    if update["@type"] == "updateNewMessage" {
        let message = &update["message"];
        if let (Some(chat_id), Some(id)) = (message["chat_id"].as_i64(), message["id"].as_i64()) {
            state.messages.insert((chat_id, id), message.clone());
        }
    }
}

/// `a***@example.com` for `alice@example.com`.
fn email_pattern(address: &str) -> String {
    match address.split_once('@') {
        Some((user, domain)) => {
            let first: String = user.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

/// Digits only: TDLib ignores the formatting of phone numbers.
fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

fn ok() -> Answer {
    Ok(json!({"@type": "ok"}))
}

fn error(code: i32, message: impl Into<String>) -> Answer {
    Err((code, message.into()))
}

fn unexpected(function: &str) -> Answer {
    error(400, format!("Call to {function} unexpected"))
}

/// Functions that work before `setTdlibParameters`.
fn works_before_init(function: &str) -> bool {
    matches!(
        function,
        "getOption" | "setOption" | "close" | "getAuthorizationState"
    ) || function.starts_with("test")
}

/// One request being handled, with the client's state locked.
struct Call<'a> {
    client: &'a Arc<Client>,
    state: MutexGuard<'a, State>,
    request: &'a Request<'a>,
    /// Whether the answer was sent.
    answered: bool,
}

impl Call<'_> {
    /// Logs and sends the answer (exactly once per request). The log line is written first, so
    /// that it exists once the program has the answer.
    fn answer(&mut self, answer: Answer) {
        if self.answered {
            return;
        }
        self.answered = true;
        let answer = answer.map(|value| self.state.with_current_files(value));
        let body = answer_body(schema(), answer);
        if let Some(log) = &self.client.log {
            log.request(self.client.id, &self.request.log_json(), &body);
        }
        let text = write::envelope(
            &body,
            self.request.extra.as_deref(),
            self.client.client_id_tag(),
        );
        self.client.queue().push(text);
    }

    /// Takes the request out of the immediate answer: it is answered later, with
    /// [`Client::answer_deferred`].
    fn defer(&mut self) -> Deferred {
        self.answered = true;
        Deferred {
            request: self.request.log_json(),
            extra: self.request.extra.clone(),
        }
    }

    fn emit(&self, update: Value) {
        self.client.emit(&self.state, update);
    }

    /// Moves to `auth` and announces it.
    fn set_auth(&mut self, auth: Auth) {
        self.state.auth = auth;
        self.client.emit_auth(&self.state);
    }

    fn login(&self) -> &crate::script::Login {
        &self.client.script.login
    }

    fn dispatch(&mut self, function: &str, request: &Value) {
        let text = |key: &str| request[key].as_str().unwrap_or_default().to_owned();
        if let Some(answer) = engine::log_function(function, request) {
            return self.answer(answer);
        }
        if self.state.auth == Auth::WaitTdlibParameters && !works_before_init(function) {
            if function == "setTdlibParameters" {
                return self.set_tdlib_parameters(request);
            }
            return self.answer(error(
                400,
                "Initialization parameters are needed: call setTdlibParameters first",
            ));
        }
        let answer = match function {
            "getAuthorizationState" => Ok(self.client.auth_object(&self.state.auth)),
            "getOption" => Ok(self.option(&text("name"))),
            "setOption" => {
                let name = text("name");
                match request.get("value") {
                    Some(value) => self.state.options.insert(name, value.clone()),
                    None => self.state.options.remove(&name),
                };
                ok()
            }
            "close" => return self.close(),
            "logOut" => return self.log_out(),
            "setTdlibParameters" => error(400, "Unexpected setTdlibParameters"),
            "checkAuthenticationBotToken" => return self.check_bot_token(&text("token")),
            "setAuthenticationPhoneNumber" => return self.set_phone_number(&text("phone_number")),
            "setAuthenticationEmailAddress" => {
                return self.set_email_address(&text("email_address"));
            }
            "checkAuthenticationEmailCode" => return self.check_email_code(&request["code"]),
            "checkAuthenticationCode" => return self.check_code(&text("code")),
            "registerUser" => return self.register_user(request),
            "checkAuthenticationPassword" => return self.check_password(&text("password")),
            "requestQrCodeAuthentication" => return self.request_qr_code(),
            _ if function.starts_with("test") => test_function(function, request),
            "getMe" | "getChat" | "getMessage" | "getChatHistory" | "loadChats" | "getChats"
            | "sendMessage" | "resendMessages" | "deleteMessages"
                if self.state.auth != Auth::Ready =>
            {
                error(401, "Unauthorized")
            }
            "getMe" => Ok(self.state.me.clone()),
            "getChat" => match self.chat(request["chat_id"].as_i64().unwrap_or_default()) {
                Some(chat) => Ok(chat.clone()),
                None => error(400, "Chat not found"),
            },
            "getMessage" => {
                let key = (
                    request["chat_id"].as_i64().unwrap_or_default(),
                    request["message_id"].as_i64().unwrap_or_default(),
                );
                match self.state.messages.get(&key) {
                    Some(message) => Ok(message.clone()),
                    None => error(404, "Not Found"),
                }
            }
            "getChatHistory" => self.chat_history(request),
            "loadChats" => return self.load_chats(),
            "getChats" => {
                let limit = usize::try_from(request["limit"].as_i64().unwrap_or_default())
                    .unwrap_or_default();
                let ids: Vec<Value> = self
                    .client
                    .script
                    .chats
                    .iter()
                    .map(|chat| chat["id"].clone())
                    .collect();
                Ok(json!({
                    "@type": "chats",
                    "total_count": ids.len(),
                    "chat_ids": ids.into_iter().take(limit).collect::<Vec<_>>(),
                }))
            }
            "sendMessage" => return self.send_message(request),
            "resendMessages" => return self.resend_messages(request),
            "deleteMessages" => return self.delete_messages(request),
            // TDLib answers null, that is 404, for a file it does not know.
            "getFile" => match self.state.files.get(&file_id(request)) {
                Some(file) => Ok(file.object()),
                None => error(404, "Not Found"),
            },
            "downloadFile" => return self.download_file(request),
            "cancelDownloadFile" => return self.cancel_download_file(request),
            _ => error(400, format!("fake TDLib: {function} is not implemented")),
        };
        self.answer(answer);
    }

    fn option(&self, name: &str) -> Value {
        match name {
            "version" => json!({"@type": "optionValueString", "value": VERSION}),
            "commit_hash" => json!({"@type": "optionValueString", "value": COMMIT}),
            "unix_time" => {
                json!({"@type": "optionValueInteger", "value": self.client.script.unix_time})
            }
            "my_id" if self.state.auth == Auth::Ready => {
                json!({"@type": "optionValueInteger", "value": self.state.me["id"]})
            }
            "fake_tdlib" => json!({"@type": "optionValueBoolean", "value": true}),
            _ => self
                .state
                .options
                .get(name)
                .cloned()
                .unwrap_or_else(|| json!({"@type": "optionValueEmpty"})),
        }
    }

    fn chat(&self, chat_id: i64) -> Option<&Value> {
        self.client
            .script
            .chats
            .iter()
            .find(|chat| chat["id"].as_i64() == Some(chat_id))
    }

    fn set_tdlib_parameters(&mut self, request: &Value) {
        let non_empty = |key: &str| request[key].as_str().is_some_and(|text| !text.is_empty());
        let problem = if request["api_id"].as_i64().unwrap_or_default() <= 0 {
            Some("Valid api_id must be provided. Can be obtained at https://my.telegram.org")
        } else if !non_empty("api_hash") {
            Some("Valid api_hash must be provided. Can be obtained at https://my.telegram.org")
        } else if !non_empty("system_language_code") {
            Some("System language code must be non-empty")
        } else if !non_empty("device_model") {
            Some("Device model must be non-empty")
        } else if !non_empty("application_version") {
            Some("Application version must be non-empty")
        } else {
            None
        };
        if let Some(problem) = problem {
            return self.answer(error(400, problem));
        }
        let directory = ["files_directory", "database_directory"]
            .into_iter()
            .find(|key| non_empty(key))
            .map_or(".", |key| request[key].as_str().unwrap_or_default());
        self.state.files_directory = Some(PathBuf::from(directory));
        self.state.database_directory = Some(PathBuf::from(
            request["database_directory"]
                .as_str()
                .filter(|text| !text.is_empty())
                .unwrap_or(directory),
        ));
        self.write_downloaded_files();
        if self.client.saved_progress(&self.state).is_some() {
            // A database that is logged in: TDLib goes straight to Ready.
            self.client.become_ready(&mut self.state);
        } else {
            self.set_auth(Auth::WaitPhoneNumber);
        }
        self.answer(ok());
        let connection = if self.client.script.connection_ready {
            "connectionStateReady"
        } else {
            "connectionStateConnecting"
        };
        self.emit(json!({"@type": "updateConnectionState", "state": {"@type": connection}}));
    }

    fn close(&mut self) {
        self.answer(ok());
        self.set_auth(Auth::Closing);
        self.finish_closing();
    }

    fn log_out(&mut self) {
        // TDLib destroys the database at log out.
        if let Some(file) = Client::progress_file(&self.state) {
            let _ = std::fs::remove_file(file);
        }
        self.set_auth(Auth::LoggingOut);
        self.answer(ok());
        self.finish_closing();
    }

    /// Gives the script's files that are `downloaded` their local copies, now that the files
    /// directory is known.
    fn write_downloaded_files(&mut self) {
        let directory = self.state.files_directory();
        for script_file in self
            .client
            .script
            .files
            .iter()
            .filter(|file| file.downloaded)
        {
            let Some(file) = self.state.files.get_mut(&script_file.id) else {
                continue;
            };
            match self.client.write_local_copy(&directory, file) {
                Ok(path) => {
                    file.local_path = path;
                    file.downloaded_size = file.size;
                }
                Err(problem) => self.client.script_error(&format!(
                    "fake TDLib: file {} cannot be downloaded from the start: {problem}",
                    file.id
                )),
            }
        }
    }

    /// After `Closing` or `LoggingOut`: the requests still waiting are aborted (downloads stop
    /// with the client's threads), then `Closed`.
    fn finish_closing(&mut self) {
        for (_, waiter) in std::mem::take(&mut self.state.download_waiters) {
            self.client
                .answer_deferred(waiter, error(500, "Request aborted"));
        }
        self.set_auth(Auth::Closed);
        self.state.closed = true;
        self.client.changed.notify_all();
    }

    fn check_bot_token(&mut self, token: &str) {
        if self.state.auth != Auth::WaitPhoneNumber {
            return self.answer(unexpected("checkAuthenticationBotToken"));
        }
        if self.login().bot_token.as_deref() != Some(token) {
            return self.answer(error(400, "ACCESS_TOKEN_INVALID"));
        }
        self.client.become_ready(&mut self.state);
        self.answer(ok());
    }

    fn set_phone_number(&mut self, phone: &str) {
        if self.state.auth != Auth::WaitPhoneNumber {
            return self.answer(unexpected("setAuthenticationPhoneNumber"));
        }
        let expected = self.login().phone_number.as_deref().map(digits);
        if expected.is_none() || expected != Some(digits(phone)) || digits(phone).is_empty() {
            return self.answer(error(400, "PHONE_NUMBER_INVALID"));
        }
        let next = if self.login().email_address.is_some() {
            Auth::WaitEmailAddress
        } else {
            Auth::WaitCode
        };
        self.set_auth(next);
        self.answer(ok());
    }

    fn set_email_address(&mut self, address: &str) {
        if self.state.auth != Auth::WaitEmailAddress {
            return self.answer(unexpected("setAuthenticationEmailAddress"));
        }
        if self.login().email_address.as_deref() != Some(address) {
            return self.answer(error(400, "EMAIL_ADDRESS_INVALID"));
        }
        self.set_auth(Auth::WaitEmailCode);
        self.answer(ok());
    }

    fn check_email_code(&mut self, code: &Value) {
        if self.state.auth != Auth::WaitEmailCode {
            return self.answer(unexpected("checkAuthenticationEmailCode"));
        }
        let right = code["@type"] == "emailAddressAuthenticationCode"
            && code["code"].as_str() == Some(self.login().email_code.as_str());
        if !right {
            return self.answer(error(400, "EMAIL_CODE_INVALID"));
        }
        self.set_auth(Auth::WaitCode);
        self.answer(ok());
    }

    fn check_code(&mut self, code: &str) {
        if self.state.auth != Auth::WaitCode {
            return self.answer(unexpected("checkAuthenticationCode"));
        }
        if self.login().expired_code.as_deref() == Some(code) {
            self.set_auth(Auth::WaitPhoneNumber);
            return self.answer(error(400, "PHONE_CODE_EXPIRED"));
        }
        if code != self.login().code {
            return self.answer(error(400, "PHONE_CODE_INVALID"));
        }
        if self.login().register {
            self.set_auth(Auth::WaitRegistration);
        } else {
            self.after_code();
        }
        self.answer(ok());
    }

    /// After the code (and registration): the password if there is one, else logged in.
    fn after_code(&mut self) {
        if self.login().password.is_some() {
            self.set_auth(Auth::WaitPassword);
        } else {
            self.client.become_ready(&mut self.state);
        }
    }

    fn register_user(&mut self, request: &Value) {
        if self.state.auth != Auth::WaitRegistration {
            return self.answer(unexpected("registerUser"));
        }
        let first_name = request["first_name"].as_str().unwrap_or_default();
        if first_name.trim().is_empty() {
            return self.answer(error(400, "FIRSTNAME_INVALID"));
        }
        self.state.me["first_name"] = Value::from(first_name);
        self.state.me["last_name"] = request["last_name"].clone();
        self.after_code();
        self.answer(ok());
    }

    fn check_password(&mut self, password: &str) {
        if self.state.auth != Auth::WaitPassword {
            return self.answer(unexpected("checkAuthenticationPassword"));
        }
        if self.login().password.as_deref() != Some(password) {
            return self.answer(error(400, "PASSWORD_HASH_INVALID"));
        }
        self.client.become_ready(&mut self.state);
        self.answer(ok());
    }

    fn request_qr_code(&mut self) {
        if self.state.auth != Auth::WaitPhoneNumber {
            return self.answer(unexpected("requestQrCodeAuthentication"));
        }
        if !self.login().qr {
            return self.answer(error(400, "QR login is not enabled in the fake script"));
        }
        let link = format!(
            "tg://login?token=ZmFrZS10ZGxpYi1xci10b2tlbi0{}",
            self.client.id
        );
        self.set_auth(Auth::WaitOtherDeviceConfirmation(link));
        self.answer(ok());
        self.client.spawn("qr", Client::confirm_qr);
    }

    /// `getChatHistory` from the stored messages (scripted history, updates, sent messages),
    /// newest first, from `from_message_id` (0: the newest) on, as TDLib with `offset` 0 does.
    fn chat_history(&self, request: &Value) -> Answer {
        let chat_id = request["chat_id"].as_i64().unwrap_or_default();
        if self.chat(chat_id).is_none() {
            return error(400, "Chat not found");
        }
        let limit = request["limit"].as_i64().unwrap_or_default();
        if limit <= 0 {
            return error(400, "Parameter limit must be positive");
        }
        if request["offset"].as_i64().unwrap_or_default() != 0 {
            return error(
                400,
                "fake TDLib: getChatHistory with an offset is not implemented",
            );
        }
        let from = match request["from_message_id"].as_i64().unwrap_or_default() {
            0 => i64::MAX,
            id => id,
        };
        let mut messages: Vec<&Value> = self
            .state
            .messages
            .iter()
            .filter(|((chat, id), _)| *chat == chat_id && *id <= from)
            .map(|(_, message)| message)
            .collect();
        messages.sort_by_key(|message| std::cmp::Reverse(message["id"].as_i64()));
        messages.truncate(usize::try_from(limit.min(100)).unwrap_or_default());
        Ok(json!({
            "@type": "messages",
            "total_count": messages.len(),
            "messages": messages,
        }))
    }

    fn load_chats(&mut self) {
        if self.state.chats_loaded {
            return self.answer(error(404, "Not Found"));
        }
        self.state.chats_loaded = true;
        for chat in &self.client.script.chats {
            self.emit(json!({"@type": "updateNewChat", "chat": chat}));
        }
        self.answer(ok());
    }

    /// 429 while a flood wait announced earlier for `chat_id` has not passed.
    fn flood_wait(&self, chat_id: i64) -> Option<Answer> {
        let left = self
            .state
            .flood_until
            .get(&chat_id)?
            .saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        let seconds = left.as_secs_f64().ceil().max(1.0);
        Some(error(
            429,
            format!("Too Many Requests: retry after {seconds}"),
        ))
    }

    fn send_message(&mut self, request: &Value) {
        let chat_id = request["chat_id"].as_i64().unwrap_or_default();
        if self.chat(chat_id).is_none() {
            return self.answer(error(400, "Chat not found"));
        }
        let input = &request["input_message_content"];
        let content = match input["@type"].as_str().unwrap_or_default() {
            "inputMessageText" => {
                let mut content = json!({"@type": "messageText", "text": input["text"]});
                if let Some(options) = input.get("link_preview_options") {
                    content["link_preview_options"] = options.clone();
                }
                content
            }
            "inputMessageForwarded" => {
                let key = (
                    input["from_chat_id"].as_i64().unwrap_or_default(),
                    input["message_id"].as_i64().unwrap_or_default(),
                );
                match self.state.messages.get(&key) {
                    Some(message) => message["content"].clone(),
                    None => return self.answer(error(400, "Message not found")),
                }
            }
            "inputMessagePhoto" | "inputMessageDocument" => match self.file_content(input) {
                Ok(content) => content,
                Err(answer) => return self.answer(Err(answer)),
            },
            _ => {
                return self.answer(error(
                    400,
                    "fake TDLib: only inputMessageText, inputMessageForwarded, inputMessagePhoto and inputMessageDocument can be sent",
                ));
            }
        };
        if let Some(answer) = self.flood_wait(chat_id) {
            return self.answer(answer);
        }
        let for_this_chat = self
            .state
            .send_errors
            .iter()
            .position(|error| error.chat_id.is_none_or(|chat| chat == chat_id));
        if let Some(send_error) = for_this_chat.and_then(|at| self.state.send_errors.remove(at)) {
            if let Some(seconds) = send_error.retry_after {
                self.state.start_flood_wait(chat_id, seconds);
            }
            return self.answer(Ok(send_error.error));
        }
        let reply_to = match request.get("reply_to") {
            Some(reply) if reply["@type"] == "inputMessageReplyToMessage" => Some(json!({
                "@type": "messageReplyToMessage",
                "chat_id": chat_id,
                "message_id": reply["message_id"],
            })),
            Some(reply) if reply["@type"] == "inputMessageReplyToExternalMessage" => Some(json!({
                "@type": "messageReplyToMessage",
                "chat_id": reply["chat_id"],
                "message_id": reply["message_id"],
            })),
            _ => None,
        };
        let pending = self.pending_message(chat_id, content, reply_to);
        self.answer(Ok(pending.clone()));
        self.deliver(pending);
    }

    /// The content of a photo or document being sent, holding a new file that is about to be
    /// uploaded from the path it names.
    fn file_content(&mut self, input: &Value) -> Result<Value, (i32, String)> {
        let is_photo = input["@type"] == "inputMessagePhoto";
        let media = if is_photo {
            &input["photo"]
        } else {
            &input["document"]
        };
        let input_file = if is_photo {
            &media["photo"]
        } else {
            &media["document"]
        };
        if input_file["@type"] != "inputFileLocal" {
            return Err((
                400,
                "fake TDLib: only files given by inputFileLocal can be sent".to_owned(),
            ));
        }
        let (path, size) = files::local_file(input_file["path"].as_str().unwrap_or_default())
            .map_err(|message| (400, message))?;
        let id = self.state.next_file_id;
        self.state.next_file_id = id.saturating_add(1);
        let file = FileState::sent(id, path, size);
        let content = if is_photo {
            let dimension = |key: &str| media[key].as_i64().unwrap_or_default().max(0);
            let stickers = media["added_sticker_file_ids"]
                .as_array()
                .is_some_and(|ids| !ids.is_empty());
            json!({
                "@type": "messagePhoto",
                "photo": {
                    "has_stickers": stickers,
                    // TDLib's type for the local photo of a message being sent.
                    "sizes": [{
                        "type": "i",
                        "photo": file.object(),
                        "width": dimension("width"),
                        "height": dimension("height"),
                    }],
                },
                "caption": input["caption"],
                "show_caption_above_media": input["show_caption_above_media"],
                "has_spoiler": input["has_spoiler"],
            })
        } else {
            json!({
                "@type": "messageDocument",
                "document": {
                    "file_name": file.name,
                    "mime_type": files::mime_type(&file.name),
                    "document": file.object(),
                },
                "caption": input["caption"],
            })
        };
        self.state.files.insert(id, file);
        Ok(content)
    }

    /// A message being sent, as TDLib answers it.
    fn pending_message(&mut self, chat_id: i64, content: Value, reply_to: Option<Value>) -> Value {
        let id = self.state.next_temporary_id;
        self.state.next_temporary_id += 1;
        let mut message = json!({
            "@type": "message",
            "id": id,
            "sender_id": {"@type": "messageSenderUser", "user_id": self.state.me["id"]},
            "chat_id": chat_id,
            "sending_state": {"@type": "messageSendingStatePending"},
            "is_outgoing": true,
            "can_be_saved": true,
            "date": self.client.script.unix_time,
            "content": content,
        });
        if let Some(reply_to) = reply_to {
            message["reply_to"] = reply_to;
        }
        complete_message(message)
    }

    /// After a pending message was answered: `updateNewMessage`, then the upload of its file
    /// (if it has one), then it fails or succeeds.
    fn deliver(&mut self, pending: Value) {
        self.emit(json!({"@type": "updateNewMessage", "message": pending}));
        match files::uploading_file(&pending["content"], &self.state.files) {
            Some(file_id) => {
                let key = (
                    pending["chat_id"].as_i64().unwrap_or_default(),
                    pending["id"].as_i64().unwrap_or_default(),
                );
                self.state.uploading.insert(key);
                self.client
                    .spawn("upload", move |client| client.run_upload(file_id, pending));
            }
            None => self.client.finish_send(&mut self.state, pending),
        }
    }

    /// `downloadFile`: TDLib's checks in its order; then the complete file at once, or a
    /// download (one per file: a second request joins the running one) whose progress comes as
    /// `updateFile`. A synchronous request is answered when the download ends.
    fn download_file(&mut self, request: &Value) {
        let int = |key: &str| request[key].as_i64().unwrap_or_default();
        if !(1..=32).contains(&int("priority")) {
            return self.answer(error(400, "Download priority must be between 1 and 32"));
        }
        if int("offset") < 0 {
            return self.answer(error(400, "Download offset must be non-negative"));
        }
        if int("limit") < 0 {
            return self.answer(error(400, "Download limit must be non-negative"));
        }
        let file_id = file_id(request);
        // A download that starts keeps this token, so that its thread can tell when it was
        // cancelled; numbers left unused cost nothing.
        let token = self.state.next_download;
        self.state.next_download += 1;
        let Some(file) = self.state.files.get_mut(&file_id) else {
            return self.answer(error(400, "Invalid file identifier"));
        };
        if int("offset") != 0 || int("limit") != 0 {
            return self.answer(error(
                400,
                "fake TDLib: downloadFile with an offset or a limit is not implemented",
            ));
        }
        if file.is_downloaded() {
            let object = file.object();
            return self.answer(Ok(object));
        }
        let start = file.download.is_none();
        if start {
            file.download = Some(token);
        }
        let (object, update) = (file.object(), file.update());
        if request["synchronous"] == true {
            let waiter = self.defer();
            self.state.download_waiters.push((file_id, waiter));
        } else {
            self.answer(Ok(object));
        }
        if start {
            self.emit(update);
            self.client.spawn("download", move |client| {
                client.run_download(file_id, token)
            });
        }
    }

    /// `cancelDownloadFile`: stops the running download (TDLib's `only_if_pending` stops only
    /// downloads that have not reached the server, and the fake's reach it at once), announces
    /// the partial file, and fails the synchronous requests waiting for it.
    fn cancel_download_file(&mut self, request: &Value) {
        let file_id = file_id(request);
        let Some(file) = self.state.files.get_mut(&file_id) else {
            // TDLib answers `ok` here; a program that cancels a file it never had has a bug.
            return self.answer(error(400, "Invalid file identifier"));
        };
        if file.download.is_some() && request["only_if_pending"] != true {
            file.download = None;
            let update = file.update();
            self.emit(update);
            for waiter in take_waiters(&mut self.state, file_id) {
                self.client.answer_deferred(
                    waiter,
                    error(400, "File download has failed or was canceled"),
                );
            }
        }
        self.answer(ok());
    }

    /// `deleteMessages`: the messages are gone (`updateDeleteMessages`, permanent); a message
    /// whose file is being uploaded is not sent (deleting it is how TDLib cancels a send).
    fn delete_messages(&mut self, request: &Value) {
        let chat_id = request["chat_id"].as_i64().unwrap_or_default();
        if self.chat(chat_id).is_none() {
            return self.answer(error(400, "Chat not found"));
        }
        let deleted: Vec<i64> = request["message_ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_i64)
            .filter(|id| {
                let stored = self.state.messages.remove(&(chat_id, *id)).is_some();
                self.state.uploading.remove(&(chat_id, *id)) || stored
            })
            .collect();
        if !deleted.is_empty() {
            self.emit(json!({
                "@type": "updateDeleteMessages",
                "chat_id": chat_id,
                "message_ids": deleted,
                "is_permanent": true,
                "from_cache": false,
            }));
        }
        self.answer(ok());
    }

    fn resend_messages(&mut self, request: &Value) {
        let chat_id = request["chat_id"].as_i64().unwrap_or_default();
        if self.chat(chat_id).is_none() {
            return self.answer(error(400, "Chat not found"));
        }
        if let Some(answer) = self.flood_wait(chat_id) {
            return self.answer(answer);
        }
        let ids: Vec<i64> = request["message_ids"]
            .as_array()
            .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default();
        let resendable = |id: &i64| {
            self.state
                .messages
                .get(&(chat_id, *id))
                .is_some_and(|message| {
                    message["sending_state"]["@type"] == "messageSendingStateFailed"
                })
        };
        if ids.is_empty() || !ids.iter().all(resendable) {
            return self.answer(error(400, "Message can't be resent"));
        }
        let mut pending = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(failed) = self.state.messages.remove(&(chat_id, id)) else {
                continue;
            };
            let reply_to = failed.get("reply_to").cloned();
            pending.push(self.pending_message(chat_id, failed["content"].clone(), reply_to));
        }
        self.answer(Ok(json!({
            "@type": "messages",
            "total_count": pending.len(),
            "messages": pending,
        })));
        for message in pending {
            self.deliver(message);
        }
    }
}

/// The `file_id` parameter of a request.
fn file_id(request: &Value) -> i32 {
    request["file_id"]
        .as_i64()
        .and_then(|id| i32::try_from(id).ok())
        .unwrap_or_default()
}

/// Completes a message built by the fake (all its parts come from complete objects).
fn complete_message(message: Value) -> Value {
    schema()
        .complete(&message, "message", "message")
        .unwrap_or(message)
}

/// The `test*` functions (they work in any state).
fn test_function(function: &str, request: &Value) -> Answer {
    let x = request.get("x").cloned().unwrap_or(Value::Null);
    let wrap = |type_name: &str| Ok(json!({"@type": type_name, "value": x}));
    match function {
        "testCallEmpty" => ok(),
        "testSquareInt" => {
            let x = request["x"]
                .as_i64()
                .and_then(|x| i32::try_from(x).ok())
                .unwrap_or_default();
            Ok(json!({"@type": "testInt", "value": x.wrapping_mul(x)}))
        }
        "testCallString" => wrap("testString"),
        "testCallBytes" => wrap("testBytes"),
        "testCallVectorInt" => wrap("testVectorInt"),
        "testCallVectorIntObject" => wrap("testVectorIntObject"),
        "testCallVectorString" => wrap("testVectorString"),
        "testCallVectorStringObject" => wrap("testVectorStringObject"),
        "testReturnError" => Ok(engine::test_return_error(request)),
        "testUseUpdate" => error(404, "Not Found"),
        _ => error(400, format!("fake TDLib: {function} is not implemented")),
    }
}
