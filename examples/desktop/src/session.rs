//! The Telegram side of the app, without any GUI type: a blocking client, a worker thread for
//! requests that may wait on the network, and channels the GUI drains once per frame.
//!
//! Nothing here blocks the GUI thread: requests go to the worker (their results come back
//! through a channel), updates arrive in channels of the blocking face, and transfers
//! (downloads, sent messages) report through their own channels. [`Session::poll`] takes
//! whatever is ready with `try_recv`.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use tdlib::blocking::{self, Download, OutgoingMessage, crossbeam_channel};
use tdlib::enums::{AuthorizationState, InputMessageContent, MessageContent};
use tdlib::transfer::TransferEvent;
use tdlib::{Error, Event, functions, types};

use crossbeam_channel::{Receiver, Sender, TryRecvError};

/// What the app needs to log in, from the environment.
pub struct Account {
    api_id: i32,
    api_hash: String,
    bot_token: Option<String>,
    database: PathBuf,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("api_id", &self.api_id)
            .field("bot", &self.bot_token.is_some())
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

impl Account {
    /// `TDLIB_API_ID`, `TDLIB_API_HASH`, optionally `TDLIB_BOT_TOKEN` and `TDLIB_DATA_DIR`.
    pub fn from_env() -> Result<Account, String> {
        let api_id = std::env::var("TDLIB_API_ID")
            .map_err(|_| "TDLIB_API_ID is not set".to_owned())?
            .parse()
            .map_err(|_| "TDLIB_API_ID is not a number".to_owned())?;
        let api_hash =
            std::env::var("TDLIB_API_HASH").map_err(|_| "TDLIB_API_HASH is not set".to_owned())?;
        let bot_token = std::env::var("TDLIB_BOT_TOKEN").ok().filter(|token| !token.is_empty());
        let data = std::env::var_os("TDLIB_DATA_DIR").unwrap_or_else(|| "tdlib-data".into());
        Ok(Account { api_id, api_hash, bot_token, database: PathBuf::from(data).join("desktop") })
    }
}

/// Where the login is.
#[derive(Debug, Clone, PartialEq)]
pub enum Login {
    Starting,
    Phone,
    Code,
    Password {
        hint: String,
    },
    Qr {
        link: String,
    },
    /// A step this example leaves to other clients (registration, e-mail).
    Unsupported(String),
    Ready,
    Closed,
}

/// A chat in the list.
#[derive(Debug, Clone)]
pub struct Chat {
    pub id: i64,
    pub title: String,
}

/// A message as the app shows it.
#[derive(Debug, Clone)]
pub struct Message {
    /// 0 while it is being sent by this app.
    pub id: i64,
    pub outgoing: bool,
    pub text: String,
    /// The file of a small size of its photo.
    pub photo: Option<i32>,
}

impl Message {
    fn from(message: &types::Message) -> Message {
        let (text, photo) = match &*message.content {
            MessageContent::MessageText(text) => (text.text.text.clone(), None),
            MessageContent::MessagePhoto(photo) => {
                // The smallest size: a thumbnail is what a chat view shows.
                (photo.caption.text.clone(), photo.photo.sizes.first().map(|size| size.photo.id))
            }
            MessageContent::MessageDocument(document) => {
                (format!("[file {}]", document.document.file_name), None)
            }
            _ => ("[a message this example does not show]".to_owned(), None),
        };
        Message { id: message.id, outgoing: message.is_outgoing, text, photo }
    }
}

/// A request for the worker thread, and what it gives the GUI back.
type Job = Box<dyn FnOnce(&blocking::Client) -> Outcome + Send>;

enum Outcome {
    Done,
    Failed(String),
    ChatOrder(Vec<i64>),
    History { chat_id: i64, messages: Vec<types::Message> },
}

/// The app's Telegram session.
pub struct Session {
    client: blocking::Client,
    account: Account,
    jobs: Sender<Job>,
    outcomes: Receiver<Outcome>,
    states: Receiver<AuthorizationState>,
    new_chats: Receiver<Event<types::UpdateNewChat>>,
    new_messages: Receiver<Event<types::UpdateNewMessage>>,
    titles: HashMap<i64, String>,
    order: Vec<i64>,
    downloads: HashMap<i32, Download>,
    sending: Vec<OutgoingMessage>,
    pub login: Login,
    pub open_chat: Option<i64>,
    pub messages: Vec<Message>,
    /// Downloaded photos, by file id.
    pub photos: HashMap<i32, PathBuf>,
    /// The last thing that went wrong, for the status line.
    pub problem: Option<String>,
}

impl Session {
    /// Creates the client and the worker; the login starts with the first [`Session::poll`].
    pub fn start(account: Account) -> Result<Session, String> {
        let client =
            blocking::Client::new().map_err(|error| format!("cannot start TDLib: {error}"))?;
        let (jobs, work) = crossbeam_channel::unbounded::<Job>();
        let (results, outcomes) = crossbeam_channel::unbounded();
        let worker = client.clone();
        std::thread::Builder::new()
            .name("telegram-worker".into())
            .spawn(move || {
                for job in work {
                    if results.send(job(&worker)).is_err() {
                        return;
                    }
                }
            })
            .map_err(|error| format!("cannot start the worker thread: {error}"))?;
        Ok(Session {
            states: client.authorization_states(),
            new_chats: client.subscription::<types::UpdateNewChat>().lossless().channel(),
            new_messages: client.subscribe::<types::UpdateNewMessage>(),
            client,
            account,
            jobs,
            outcomes,
            titles: HashMap::new(),
            order: Vec::new(),
            downloads: HashMap::new(),
            sending: Vec::new(),
            login: Login::Starting,
            open_chat: None,
            messages: Vec::new(),
            photos: HashMap::new(),
            problem: None,
        })
    }

    /// Runs `request` on the worker; an error becomes the status line's problem.
    fn request<F: tdlib::codec::Function + Send + 'static>(&self, request: F) {
        let job: Job = Box::new(move |client| match client.send(request) {
            Ok(_) => Outcome::Done,
            Err(error) => Outcome::Failed(error.to_string()),
        });
        let _ = self.jobs.send(job);
    }

    fn job(&self, job: impl FnOnce(&blocking::Client) -> Result<Outcome, Error> + Send + 'static) {
        let job: Job =
            Box::new(move |client| job(client).unwrap_or_else(|e| Outcome::Failed(e.to_string())));
        let _ = self.jobs.send(job);
    }

    /// Takes everything that is ready, without waiting; whether anything changed.
    pub fn poll(&mut self) -> bool {
        let mut changed = false;
        while let Ok(state) = self.states.try_recv() {
            self.on_state(state);
            changed = true;
        }
        while let Ok(event) = self.new_chats.try_recv() {
            if let Event::Update(new) = event {
                self.titles.insert(new.chat.id, new.chat.title.clone());
                if !self.order.contains(&new.chat.id) {
                    self.order.push(new.chat.id);
                }
                changed = true;
            }
        }
        while let Ok(event) = self.new_messages.try_recv() {
            if let Event::Update(new) = event {
                // This app's own messages are shown from their send, not their first update.
                let own = new.message.is_outgoing && new.message.sending_state.is_some();
                if Some(new.message.chat_id) == self.open_chat && !own {
                    self.add_message(&new.message);
                    changed = true;
                }
            }
        }
        while let Ok(outcome) = self.outcomes.try_recv() {
            self.on_outcome(outcome);
            changed = true;
        }
        changed |= self.poll_transfers();
        changed
    }

    fn on_state(&mut self, state: AuthorizationState) {
        self.login = match state {
            AuthorizationState::WaitTdlibParameters(_) => {
                let mut parameters = tdlib::auth::parameters(
                    self.account.api_id,
                    self.account.api_hash.clone(),
                    self.account.database.display().to_string(),
                );
                parameters.application_version = env!("CARGO_PKG_VERSION").into();
                self.request(parameters);
                Login::Starting
            }
            AuthorizationState::WaitPhoneNumber(_) => match &self.account.bot_token {
                Some(token) => {
                    self.request(functions::CheckAuthenticationBotToken { token: token.clone() });
                    Login::Starting
                }
                None => Login::Phone,
            },
            AuthorizationState::WaitCode(_) => Login::Code,
            AuthorizationState::WaitPassword(password) => {
                Login::Password { hint: password.password_hint.clone() }
            }
            AuthorizationState::WaitOtherDeviceConfirmation(qr) => {
                Login::Qr { link: qr.link.clone() }
            }
            AuthorizationState::Ready(_) => {
                self.job(|client| {
                    // Every chat comes as updateNewChat; getChats gives their order.
                    let limit = 50;
                    match client.send(functions::LoadChats { chat_list: None, limit }) {
                        Ok(_) => {}
                        // 404: all chats are loaded already.
                        Err(error) if error.code() == Some(404) => {}
                        Err(error) => return Err(error),
                    }
                    let chats = client.send(functions::GetChats { chat_list: None, limit })?;
                    Ok(Outcome::ChatOrder(chats.chat_ids))
                });
                Login::Ready
            }
            AuthorizationState::Closing(_)
            | AuthorizationState::Closed(_)
            | AuthorizationState::LoggingOut(_) => Login::Closed,
            other => Login::Unsupported(
                format!("{other:?}").split('(').next().unwrap_or_default().to_owned(),
            ),
        };
    }

    fn on_outcome(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Done => {}
            Outcome::Failed(problem) => self.problem = Some(problem),
            Outcome::ChatOrder(ids) => {
                let rest: Vec<i64> =
                    self.order.iter().copied().filter(|id| !ids.contains(id)).collect();
                self.order = ids.into_iter().chain(rest).collect();
            }
            Outcome::History { chat_id, messages } if Some(chat_id) == self.open_chat => {
                self.messages.clear();
                for message in messages.iter().rev() {
                    self.add_message(message);
                }
            }
            Outcome::History { .. } => {}
        }
    }

    fn add_message(&mut self, message: &types::Message) {
        if self.messages.iter().any(|shown| shown.id == message.id && message.id != 0) {
            return;
        }
        let shown = Message::from(message);
        if let Some(file) = tdlib::transfer::file_of(&message.content)
            && file.local.is_downloading_completed
        {
            self.photos.insert(file.id, PathBuf::from(&file.local.path));
        }
        if let Some(photo) = shown.photo
            && !self.photos.contains_key(&photo)
            && !self.downloads.contains_key(&photo)
        {
            // Higher than the default: what is on screen comes first.
            self.downloads.insert(photo, self.client.download_file_with_priority(photo, 16));
        }
        self.messages.push(shown);
    }

    /// Progress of downloads and sends; whether anything changed.
    fn poll_transfers(&mut self) -> bool {
        let mut changed = false;
        let mut finished = Vec::new();
        for (file_id, download) in &self.downloads {
            loop {
                match download.events().try_recv() {
                    Ok(TransferEvent::Done(file)) => {
                        self.photos.insert(*file_id, file.path);
                        changed = true;
                    }
                    Ok(TransferEvent::Failed(error)) => {
                        self.problem = Some(format!("download of file {file_id}: {error}"));
                        changed = true;
                    }
                    Ok(_) => {}
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        finished.push(*file_id);
                        break;
                    }
                }
            }
        }
        for file_id in finished {
            self.downloads.remove(&file_id);
        }
        let mut index = 0;
        while index < self.sending.len() {
            match self.sending[index].events().try_recv() {
                Ok(TransferEvent::Done(message)) => {
                    // The message in its final state replaces the one shown as sending.
                    if let Some(shown) = self.messages.iter_mut().find(|shown| shown.id == 0) {
                        *shown = Message::from(&message);
                    }
                    changed = true;
                }
                Ok(TransferEvent::Failed(error)) => {
                    self.messages.retain(|shown| shown.id != 0);
                    self.problem = Some(format!("not sent: {error}"));
                    changed = true;
                }
                Ok(_) => continue,
                Err(TryRecvError::Empty) => index += 1,
                Err(TryRecvError::Disconnected) => {
                    self.sending.remove(index);
                }
            }
        }
        changed
    }

    /// The chats, in the order Telegram gives them.
    pub fn chats(&self) -> Vec<Chat> {
        self.order
            .iter()
            .filter_map(|id| Some(Chat { id: *id, title: self.titles.get(id)?.clone() }))
            .collect()
    }

    pub fn submit_phone(&mut self, phone: &str) {
        self.problem = None;
        self.request(functions::SetAuthenticationPhoneNumber {
            phone_number: phone.trim().to_owned(),
            settings: None,
        });
    }

    pub fn submit_code(&mut self, code: &str) {
        self.problem = None;
        self.request(functions::CheckAuthenticationCode { code: code.trim().to_owned() });
    }

    pub fn submit_password(&mut self, password: &str) {
        self.problem = None;
        self.request(functions::CheckAuthenticationPassword { password: password.to_owned() });
    }

    pub fn request_qr(&mut self) {
        self.problem = None;
        self.request(functions::RequestQrCodeAuthentication { other_user_ids: Vec::new() });
    }

    /// Opens a chat: its last messages come from the worker.
    pub fn open(&mut self, chat_id: i64) {
        self.open_chat = Some(chat_id);
        self.messages.clear();
        self.job(move |client| {
            let history = client.send(functions::GetChatHistory {
                chat_id,
                from_message_id: 0,
                offset: 0,
                limit: 30,
                only_local: false,
            })?;
            Ok(Outcome::History {
                chat_id,
                messages: history.messages.into_iter().flatten().collect(),
            })
        });
    }

    /// Sends a text to the open chat; it shows as sending until the server has it.
    pub fn send_text(&mut self, text: &str) {
        let (Some(chat_id), false) = (self.open_chat, text.trim().is_empty()) else {
            return;
        };
        let content = InputMessageContent::InputMessageText(types::InputMessageText {
            text: types::FormattedText { text: text.to_owned(), ..Default::default() },
            ..Default::default()
        });
        let request = functions::SendMessage {
            chat_id,
            input_message_content: Box::new(content),
            ..Default::default()
        };
        self.sending.push(self.client.send_message(request));
        self.messages.push(Message { id: 0, outgoing: true, text: text.to_owned(), photo: None });
    }
}

impl Drop for Session {
    /// Closes the client when the window is gone (blocking until TDLib has closed it).
    fn drop(&mut self) {
        if let Err(error) = self.client.close() {
            eprintln!("tdlib-desktop: close failed: {error}");
        }
    }
}
