//! A desktop Telegram client in one window: log in (phone and code, password, or a QR code
//! drawn in the window), the chat list, the last messages of a chat with their photos, and
//! sending a text. It uses the blocking face of `tdlib` (no async runtime of its own): the GUI
//! drains the client's channels on a timer tick (see `session`). Drawn with iced's software
//! renderer, so it needs no GPU driver.
//!
//! ```text
//! TDLIB_API_ID=... TDLIB_API_HASH=... cargo run -p tdlib-desktop-example
//! ```
//! `TDLIB_BOT_TOKEN` logs in as a bot instead; `TDLIB_DATA_DIR` (default `tdlib-data`) holds
//! the database. Ctrl+Q quits. See the crate's README for a single-binary build.

mod session;

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use iced::widget::{
    Column, button, column, container, image, row, rule, scrollable, text, text_input,
};
use iced::{Center, Element, Fill, Length, Subscription, Task, Theme, keyboard};
use session::{Account, Login, Session};

/// How often the GUI drains the client's channels.
const TICK: Duration = Duration::from_millis(50);
const LOGIN_FIELD: &str = "login";
const MESSAGE_FIELD: &str = "message";

fn main() -> ExitCode {
    let _closer = tdlib::CloseOnExit::new();
    let account = match Account::from_env() {
        Ok(account) => account,
        Err(problem) => {
            eprintln!(
                "tdlib-desktop: {problem}\n\nGet an API id and hash at https://my.telegram.org \
                 (API development tools), then run\n  TDLIB_API_ID=<id> TDLIB_API_HASH=<hash> \
                 cargo run -p tdlib-desktop-example"
            );
            return ExitCode::from(2);
        }
    };
    let session = match Session::start(account) {
        Ok(session) => session,
        Err(problem) => {
            eprintln!("tdlib-desktop: {problem}");
            return ExitCode::FAILURE;
        }
    };
    // iced builds the state in its own boot function; the session is handed over once.
    let session = Mutex::new(Some(session));
    let boot = move || {
        let session = session.lock().ok().and_then(|mut slot| slot.take());
        App::new(session.expect("iced boots the app once"))
    };
    let ran = iced::application(boot, App::update, App::view)
        .title("TDLib desktop")
        .window_size((960.0, 640.0))
        .theme(App::theme)
        .subscription(App::subscription)
        .run();
    match ran {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tdlib-desktop: cannot open a window: {error}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Debug, Clone)]
enum Message {
    Tick,
    LoginTyped(String),
    LoginEntered,
    QrInstead,
    Open(i64),
    DraftTyped(String),
    Send,
    Quit,
}

struct App {
    session: Session,
    login_input: String,
    message_input: String,
    /// The login step the window shows, to focus its field when it changes.
    shown_login: Option<Login>,
    qr: Option<(String, image::Handle)>,
    photos: HashMap<i32, Option<image::Handle>>,
}

impl App {
    fn new(session: Session) -> App {
        App {
            session,
            login_input: String::new(),
            message_input: String::new(),
            shown_login: None,
            qr: None,
            photos: HashMap::new(),
        }
    }

    fn theme(&self) -> Theme {
        Theme::Light
    }

    fn subscription(&self) -> Subscription<Message> {
        let quit = iced::event::listen_with(|event, _, _| match event {
            iced::Event::Keyboard(keyboard::Event::KeyPressed { key, modifiers, .. })
                if modifiers.control() && key == keyboard::Key::Character("q".into()) =>
            {
                Some(Message::Quit)
            }
            _ => None,
        });
        Subscription::batch([iced::time::every(TICK).map(|_| Message::Tick), quit])
    }

    fn update(&mut self, message: Message) -> Task<Message> {
        match message {
            Message::Tick => {
                self.session.poll();
                self.load_pictures();
                if self.shown_login.as_ref() != Some(&self.session.login) {
                    // A new login step: its field gets the keyboard.
                    self.shown_login = Some(self.session.login.clone());
                    self.login_input.clear();
                    return iced::widget::operation::focus(LOGIN_FIELD);
                }
            }
            Message::LoginTyped(typed) => self.login_input = typed,
            Message::LoginEntered => {
                let input = std::mem::take(&mut self.login_input);
                if !input.trim().is_empty() {
                    match self.session.login {
                        Login::Phone => self.session.submit_phone(&input),
                        Login::Code => self.session.submit_code(&input),
                        Login::Password { .. } => self.session.submit_password(&input),
                        _ => {}
                    }
                }
            }
            Message::QrInstead => self.session.request_qr(),
            Message::Open(chat_id) => {
                if self.session.open_chat != Some(chat_id) {
                    self.session.open(chat_id);
                }
                return iced::widget::operation::focus(MESSAGE_FIELD);
            }
            Message::DraftTyped(typed) => self.message_input = typed,
            Message::Send => {
                let typed = std::mem::take(&mut self.message_input);
                self.session.send_text(&typed);
            }
            Message::Quit => return iced::exit(),
        }
        Task::none()
    }

    /// Decodes downloaded photos and the login QR code into pictures, once each.
    fn load_pictures(&mut self) {
        for (file_id, path) in &self.session.photos {
            self.photos.entry(*file_id).or_insert_with(|| {
                // A picture that cannot be read shows as text.
                let picture = ::image::open(path).ok()?.into_rgba8();
                let (width, height) = picture.dimensions();
                Some(image::Handle::from_rgba(width, height, picture.into_raw()))
            });
        }
        if let Login::Qr { link } = &self.session.login
            && self.qr.as_ref().is_none_or(|(shown, _)| shown != link)
        {
            self.qr = qr_picture(link).map(|picture| (link.clone(), picture));
        }
    }

    fn view(&self) -> Element<'_, Message> {
        if self.session.login == Login::Ready { self.chats_view() } else { self.login_view() }
    }

    fn login_view(&self) -> Element<'_, Message> {
        let mut page = Column::new().spacing(14).align_x(Center).padding(40);
        page = page.push(text("Log in to Telegram").size(28));
        let prompt: Option<Element<'_, Message>> = match &self.session.login {
            Login::Starting => Some(text("Starting…").size(20).into()),
            Login::Closed => Some(text("The session is closed.").size(20).into()),
            Login::Unsupported(step) => Some(
                text(format!(
                    "This example cannot do the login step {step}; log in once with another client."
                ))
                .into(),
            ),
            Login::Ready => None,
            Login::Qr { .. } => {
                page = page.push(text(
                    "Scan this code with Telegram on your phone (Settings › Devices › Link Desktop Device)",
                ));
                self.qr
                    .as_ref()
                    .map(|(_, picture)| image(picture.clone()).width(280).height(280).into())
            }
            step @ (Login::Phone | Login::Code | Login::Password { .. }) => {
                let (label, hint) = match step {
                    Login::Phone => ("Phone number", ""),
                    Login::Code => ("The code Telegram sent", ""),
                    Login::Password { hint } => ("Password", hint.as_str()),
                    _ => ("", ""),
                };
                page = page.push(text(label).size(20));
                let field = text_input(hint, &self.login_input)
                    .id(LOGIN_FIELD)
                    .on_input(Message::LoginTyped)
                    .on_submit(Message::LoginEntered)
                    .secure(matches!(step, Login::Password { .. }))
                    .size(20)
                    .padding(8)
                    .width(320);
                page = page
                    .push(field)
                    .push(button(text("Next").size(18)).on_press(Message::LoginEntered));
                (*step == Login::Phone).then(|| {
                    button(text("Log in with a QR code instead").size(18))
                        .style(button::secondary)
                        .on_press(Message::QrInstead)
                        .into()
                })
            }
        };
        if let Some(prompt) = prompt {
            page = page.push(prompt);
        }
        if let Some(problem) = &self.session.problem {
            page = page.push(text(problem.as_str()).style(text::danger));
        }
        container(page).center_x(Fill).into()
    }

    fn chats_view(&self) -> Element<'_, Message> {
        let mut list = Column::new().spacing(4).padding(8).push(text("Chats").size(24));
        for chat in self.session.chats() {
            let open = self.session.open_chat == Some(chat.id);
            let style = if open { button::primary } else { button::text };
            list = list.push(
                button(text(chat.title).size(20))
                    .width(Fill)
                    .style(style)
                    .on_press(Message::Open(chat.id)),
            );
        }
        let mut messages = Column::new().spacing(8).padding(10);
        for message in &self.session.messages {
            if let Some(file_id) = message.photo {
                let photo: Element<'_, Message> = match self.photos.get(&file_id) {
                    Some(Some(picture)) => image(picture.clone()).width(128).height(128).into(),
                    Some(None) => text("[a photo that cannot be shown]").into(),
                    None => text("[photo: downloading…]").into(),
                };
                messages = messages.push(photo);
            }
            if !message.text.is_empty() || message.photo.is_none() {
                let who = if message.outgoing { "You" } else { "They" };
                let sending = if message.id == 0 { " (sending…)" } else { "" };
                messages =
                    messages.push(text(format!("{who}: {}{sending}", message.text)).size(18));
            }
        }
        let mut right = column![scrollable(messages).anchor_bottom().height(Fill).width(Fill)];
        if let Some(problem) = &self.session.problem {
            right = right.push(text(problem.as_str()).style(text::danger));
        }
        right = if self.session.open_chat.is_some() {
            right.push(
                row![
                    text_input("Write a message…", &self.message_input)
                        .id(MESSAGE_FIELD)
                        .on_input(Message::DraftTyped)
                        .on_submit(Message::Send)
                        .size(18)
                        .padding(8)
                        .width(Fill),
                    button(text("Send").size(18)).on_press(Message::Send),
                ]
                .spacing(8)
                .align_y(Center),
            )
        } else {
            right.push(text("Choose a chat.").size(18))
        };
        row![
            container(scrollable(list)).width(Length::Fixed(260.0)).height(Fill),
            rule::vertical(1),
            right.padding(10).width(Fill),
        ]
        .into()
    }
}

/// The login link as a QR code picture: black modules on white, with a quiet zone.
fn qr_picture(link: &str) -> Option<image::Handle> {
    const SCALE: usize = 6;
    let code = qrcode::QrCode::new(link.as_bytes()).ok()?;
    let width = code.width();
    let side = (width + 4) * SCALE;
    let mut pixels = vec![255u8; side * side * 4];
    for (index, color) in code.to_colors().into_iter().enumerate() {
        if color != qrcode::Color::Dark {
            continue;
        }
        let (column, line) = (index % width + 2, index / width + 2);
        for y in line * SCALE..(line + 1) * SCALE {
            for x in column * SCALE..(column + 1) * SCALE {
                pixels[(y * side + x) * 4..(y * side + x) * 4 + 3].fill(0);
            }
        }
    }
    Some(image::Handle::from_rgba(side as u32, side as u32, pixels))
}
