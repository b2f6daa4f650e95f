//! An echo client: logs in as a bot (or a user) and answers every new message it is meant to
//! answer with a copy of it.
//!
//! ```text
//! TDLIB_API_ID=... TDLIB_API_HASH=... TDLIB_BOT_TOKEN=... cargo run --example echo
//! ```
//!
//! Without credentials it explains how to get them, runs the offline demo to show that TDLib
//! works, and exits with code 2. What it answers:
//! - messages in private chats, and in groups only those addressed to it (a mention of its
//!   username, a bot command for it, or a reply to one of its messages);
//! - never its own outgoing messages, and never messages dated before it was ready (those were
//!   already there; TDLib may still deliver some of them as new after a restart);
//! - text with its formatting; other content as a copy where Telegram allows copying it.
//!
//! A request refused with FLOOD_WAIT is retried after the wait TDLib names, and a message whose
//! sending failed that way is resent after its `retry_after`. Updates are read from the lossless
//! subscription, so nothing is skipped while the client waits. Ctrl-C closes the client cleanly.

#[path = "common/mod.rs"]
mod common;
#[path = "offline_demo/mod.rs"]
mod offline_demo;

use std::collections::{HashMap, HashSet};
use std::process::ExitCode;
use std::time::Duration;

use tdlib::enums::{
    ChatType, InputMessageContent, InputMessageReplyTo, MessageContent, MessageReplyTo,
    MessageSender, OptionValue, TextEntityType, Update,
};
use tdlib::{Client, Error, functions, types};

/// How often one reply is retried after FLOOD_WAIT before it is given up (and reported).
const FLOOD_RETRIES: u32 = 5;

#[tokio::main]
async fn main() -> ExitCode {
    // Whatever happens below, no client is left open when the process exits.
    let _closer = tdlib::CloseOnExit::new();
    let (credentials, client) = match common::start("echo") {
        Ok(started) => started,
        Err(code) => {
            if code == ExitCode::from(2) {
                // No credentials: still show that TDLib works here, without an account.
                println!("Meanwhile, TDLib offline (what `cargo run --example offline` shows):");
                if let Err(error) = offline_demo::run().await {
                    eprintln!("echo: the offline demo failed: {error}");
                }
            }
            return code;
        }
    };
    // Subscribed before logging in, so that no message after the login is missed.
    let mut updates = client.lossless_updates();

    let outcome = tokio::select! {
        outcome = run(&client, &credentials, &mut updates) => outcome,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("echo: Ctrl-C, closing");
            Ok(())
        }
    };
    let code = match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("echo: {why}");
            ExitCode::FAILURE
        }
    };
    if let Err(error) = client.close().await {
        eprintln!("echo: close failed: {error}");
        return ExitCode::FAILURE;
    }
    println!("echo: closed");
    code
}

/// Logs in, then answers messages until the client closes.
async fn run(
    client: &Client,
    credentials: &common::Credentials,
    updates: &mut tokio::sync::mpsc::UnboundedReceiver<std::sync::Arc<Update>>,
) -> Result<(), String> {
    credentials
        .log_in(client)
        .await
        .map_err(|error| format!("login failed: {error}"))?;
    let me = client
        .send(functions::GetMe {})
        .await
        .map_err(|error| format!("getMe failed: {error}"))?;
    let started = server_time(client).await;
    let mut echo = Echo {
        client: client.clone(),
        usernames: me
            .usernames
            .as_ref()
            .map(|names| names.active_usernames.clone())
            .unwrap_or_default(),
        me: me.id,
        started,
        chats: HashMap::new(),
        sent: HashSet::new(),
    };
    let shown = echo
        .usernames
        .first()
        .map_or(String::new(), |name| format!(" @{name}"));
    println!(
        "echo: logged in as{shown} (user {}); answering new messages, Ctrl-C stops",
        me.id
    );
    while let Some(update) = updates.recv().await {
        if let Err(error) = echo.handle(&update).await {
            if error.is_closed() {
                break;
            }
            eprintln!("echo: {error}");
        }
    }
    Ok(())
}

/// Telegram's time (TDLib's `unix_time` option), or the local clock if TDLib has none.
async fn server_time(client: &Client) -> i64 {
    let name = "unix_time".to_owned();
    match client.send(functions::GetOption { name }).await {
        Ok(OptionValue::Integer(time)) if time.value > 0 => time.value,
        _ => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs() as i64),
    }
}

struct Echo {
    client: Client,
    me: i64,
    usernames: Vec<String>,
    /// Messages dated before this were there before the echo started.
    started: i64,
    /// Whether a chat is one to answer in, and how (cached per chat).
    chats: HashMap<i64, ChatKind>,
    /// Temporary ids of the replies being sent, to resend those that fail with a wait.
    sent: HashSet<i64>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ChatKind {
    Private,
    Group,
    Other,
}

impl Echo {
    async fn handle(&mut self, update: &Update) -> Result<(), Error> {
        match update {
            Update::NewMessage(new) => {
                let message = &new.message;
                if self.should_answer(message).await? {
                    self.answer(message).await?;
                }
            }
            Update::MessageSendSucceeded(done) => {
                self.sent.remove(&done.old_message_id);
            }
            // Only replies of this run are resent.
            Update::MessageSendFailed(failed) if self.sent.remove(&failed.old_message_id) => {
                self.resend(&failed.message).await?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn should_answer(&mut self, message: &types::Message) -> Result<bool, Error> {
        if message.is_outgoing
            || matches!(&message.sender_id, MessageSender::User(user) if user.user_id == self.me)
            || i64::from(message.date) < self.started
        {
            return Ok(false);
        }
        Ok(match self.chat_kind(message.chat_id).await? {
            ChatKind::Private => true,
            ChatKind::Group => self.is_addressed(message).await?,
            ChatKind::Other => false,
        })
    }

    async fn chat_kind(&mut self, chat_id: i64) -> Result<ChatKind, Error> {
        if let Some(kind) = self.chats.get(&chat_id) {
            return Ok(*kind);
        }
        let chat = self.client.send(functions::GetChat { chat_id }).await?;
        let kind = match chat.r#type {
            ChatType::Private(_) => ChatKind::Private,
            ChatType::BasicGroup(_) => ChatKind::Group,
            ChatType::Supergroup(group) if !group.is_channel => ChatKind::Group,
            _ => ChatKind::Other,
        };
        self.chats.insert(chat_id, kind);
        Ok(kind)
    }

    /// In a group: a mention of this account, a command for it, or a reply to its message.
    async fn is_addressed(&self, message: &types::Message) -> Result<bool, Error> {
        if let Some(text) = text_of(&message.content) {
            for entity in &text.entities {
                let covered = utf16_slice(&text.text, entity.offset, entity.length);
                let names_me = |mention: &str| {
                    self.usernames
                        .iter()
                        .any(|name| mention.eq_ignore_ascii_case(&format!("@{name}")))
                };
                let addressed = match &entity.r#type {
                    TextEntityType::Mention(_) => names_me(&covered),
                    TextEntityType::MentionName(mention) => mention.user_id == self.me,
                    TextEntityType::BotCommand(_) => covered
                        .split_once('@')
                        .is_some_and(|(_, name)| names_me(&format!("@{name}"))),
                    _ => false,
                };
                if addressed {
                    return Ok(true);
                }
            }
        }
        if let Some(MessageReplyTo::Message(reply)) = &message.reply_to {
            if reply.chat_id == message.chat_id {
                let request = functions::GetMessage {
                    chat_id: reply.chat_id,
                    message_id: reply.message_id,
                };
                match self.client.send(request).await {
                    Ok(replied) => return Ok(replied.is_outgoing),
                    // A deleted or inaccessible message: not a reply to us that we can see.
                    Err(Error::Tdlib { code: 404, .. }) => {}
                    Err(error) => return Err(error),
                }
            }
        }
        Ok(false)
    }

    async fn answer(&mut self, message: &types::Message) -> Result<(), Error> {
        let content = match &*message.content {
            MessageContent::MessageText(text) => {
                InputMessageContent::InputMessageText(types::InputMessageText {
                    text: text.text.clone(),
                    link_preview_options: text.link_preview_options.clone(),
                    clear_draft: false,
                })
            }
            _ => InputMessageContent::InputMessageForwarded(types::InputMessageForwarded {
                from_chat_id: message.chat_id,
                message_id: message.id,
                copy_options: Some(types::MessageCopyOptions {
                    send_copy: true,
                    ..Default::default()
                }),
                ..Default::default()
            }),
        };
        let request = functions::SendMessage {
            chat_id: message.chat_id,
            topic_id: message.topic_id.clone(),
            reply_to: Some(InputMessageReplyTo::Message(Box::new(
                types::InputMessageReplyToMessage {
                    message_id: message.id,
                    ..Default::default()
                },
            ))),
            options: None,
            reply_markup: None,
            input_message_content: Box::new(content),
        };
        let sent = retry_after_flood_wait(|| self.client.send(request.clone())).await?;
        self.sent.insert(sent.id);
        println!(
            "echo: answered message {} in chat {}",
            message.id, message.chat_id
        );
        Ok(())
    }

    /// A reply whose sending failed: resent after the wait Telegram asked for, if it can be.
    async fn resend(&mut self, failed: &types::Message) -> Result<(), Error> {
        let Some(tdlib::enums::MessageSendingState::Failed(state)) = &failed.sending_state else {
            return Ok(());
        };
        if !state.can_retry {
            eprintln!(
                "echo: a reply in chat {} failed for good: {}",
                failed.chat_id, state.error.message
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs_f64(state.retry_after.max(0.0))).await;
        let request = functions::ResendMessages {
            chat_id: failed.chat_id,
            message_ids: vec![failed.id],
            quote: None,
            paid_message_star_count: 0,
        };
        let resent = retry_after_flood_wait(|| self.client.send(request.clone())).await?;
        self.sent
            .extend(resent.messages.iter().flatten().map(|message| message.id));
        println!(
            "echo: resent a reply in chat {} after waiting {:.1} s",
            failed.chat_id, state.retry_after
        );
        Ok(())
    }
}

/// Runs `request`, waiting and trying again as long as TDLib answers FLOOD_WAIT (or "retry
/// after N"), up to [`FLOOD_RETRIES`] times.
async fn retry_after_flood_wait<T, F, Fut>(mut request: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let mut retries = 0;
    loop {
        match request().await {
            Err(error) if retries < FLOOD_RETRIES && error.retry_after().is_some() => {
                let wait = error.retry_after().unwrap_or(1);
                eprintln!("echo: Telegram asks to wait {wait} s ({error})");
                tokio::time::sleep(Duration::from_secs(wait)).await;
                retries += 1;
            }
            other => return other,
        }
    }
}

/// The text of a message, or the caption of a media message.
fn text_of(content: &MessageContent) -> Option<&types::FormattedText> {
    match content {
        MessageContent::MessageText(text) => Some(&text.text),
        MessageContent::MessagePhoto(photo) => Some(&photo.caption),
        MessageContent::MessageVideo(video) => Some(&video.caption),
        MessageContent::MessageDocument(document) => Some(&document.caption),
        MessageContent::MessageAudio(audio) => Some(&audio.caption),
        MessageContent::MessageAnimation(animation) => Some(&animation.caption),
        MessageContent::MessageVoiceNote(note) => Some(&note.caption),
        _ => None,
    }
}

/// The part of `text` an entity covers: TDLib counts offsets in UTF-16 code units.
fn utf16_slice(text: &str, offset: i32, length: i32) -> String {
    let units: Vec<u16> = text.encode_utf16().collect();
    let start = usize::try_from(offset).unwrap_or(0).min(units.len());
    let end = start
        .saturating_add(usize::try_from(length).unwrap_or(0))
        .min(units.len());
    String::from_utf16_lossy(&units[start..end])
}
