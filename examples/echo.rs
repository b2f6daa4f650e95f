//! An echo bot: answers each new message with a copy of it. Chats are answered concurrently and
//! each chat in order, so a FLOOD_WAIT in one chat holds up only that chat.
//!
//! ```text
//! TDLIB_API_ID=... TDLIB_API_HASH=... TDLIB_BOT_TOKEN=... cargo run --example echo
//! ```
//!
//! As a bot it answers private chats, and in groups the messages addressed to it (a mention, a
//! command for it, a reply to its message): text with its formatting, anything else as a copy;
//! never its own messages, channel posts, or messages from before it started. Without a bot
//! token it logs in as a user (asking at the terminal) and, to leave a personal account's chats
//! alone, answers only messages in Saved Messages that start with `/echo `, with the rest.
//! Without credentials it explains how to get them, shows TDLib offline, and exits with code 2.

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use tdlib::enums::{ChatType, InputMessageContent as Content, InputMessageReplyTo, OptionValue};
use tdlib::enums::{MessageContent, MessageReplyTo, MessageSendingState, TextEntityType, Update};
use tdlib::{Client, Error, Event, functions, types};

#[tokio::main]
async fn main() -> ExitCode {
    let _closer = tdlib::CloseOnExit::new(); // no client is left open when the process exits
    let (account, client) = match common::start("echo").await {
        Ok(started) => started,
        Err(code) => return code,
    };
    let outcome = tokio::select! {
        outcome = run(&client, &account) => outcome,
        _ = tokio::signal::ctrl_c() => Ok(()),
    };
    let code = common::finish("echo", &client, outcome).await;
    println!("echo: closed");
    code
}

async fn run(client: &Client, account: &common::Account) -> Result<(), String> {
    // Subscribed before the login, so that no message after it is missed; lossless, so that
    // none is dropped while a chat waits; only the two kinds it handles reach its queue.
    let kinds =
        |update: &Update| matches!(update, Update::NewMessage(_) | Update::MessageSendFailed(_));
    let updates = client.subscription::<Update>().lossless().filter(kinds).subscribe();
    account.log_in(client).await?;
    let me = client.send(functions::GetMe {}).await.map_err(|e| format!("getMe: {e}"))?;
    let names = me.usernames.map(|names| names.active_usernames).unwrap_or_default();
    println!("echo: logged in as @{} (user {}); Ctrl-C stops", names.join(" @"), me.id);
    let clock = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |t| t.as_secs());
    let started = match client.send(functions::GetOption { name: "unix_time".into() }).await {
        Ok(OptionValue::Integer(time)) => time.value, // Telegram's clock
        _ => clock as i64,
    };
    let echo = Echo { client, me: me.id, names, started, bot: account.is_bot() };
    let chat = |event: &Event<Update>| match event {
        Event::Update(update) => match &**update.update() {
            Update::NewMessage(new) => new.message.chat_id,
            Update::MessageSendFailed(failed) => failed.message.chat_id,
            _ => 0,
        },
        _ => 0,
    };
    tdlib::ordered::for_each_by_key(updates, chat, |event| echo.handle(event)).await;
    Ok(())
}

struct Echo<'a> {
    client: &'a Client,
    me: i64,
    names: Vec<String>,
    started: i64,
    bot: bool,
}

impl Echo<'_> {
    async fn handle(&self, event: Event<Update>) {
        let outcome = match event {
            Event::Update(update) => match &**update.update() {
                Update::NewMessage(new) => self.answer(&new.message).await,
                // Only this client's own sends fail this way: its replies.
                Update::MessageSendFailed(failed) => self.resend(&failed.message).await,
                _ => Ok(()),
            },
            Event::Failed(error) => Err(error),
            _ => Ok(()),
        };
        match outcome {
            Err(error) if !error.is_closed() => eprintln!("echo: {error}"),
            _ => {}
        }
    }

    async fn answer(&self, message: &types::Message) -> Result<(), Error> {
        let Some(content) = self.reply(message).await? else {
            return Ok(());
        };
        let to = types::InputMessageReplyToMessage { message_id: message.id, ..Default::default() };
        let request = functions::SendMessage {
            chat_id: message.chat_id,
            topic_id: message.topic_id.clone(),
            reply_to: Some(InputMessageReplyTo::Message(Box::new(to))),
            input_message_content: Box::new(content),
            ..Default::default()
        };
        retrying_floods(|| self.client.send(request.clone())).await?;
        println!("echo: answered message {} in chat {}", message.id, message.chat_id);
        Ok(())
    }

    /// What to answer `message` with, if anything.
    async fn reply(&self, message: &types::Message) -> Result<Option<Content>, Error> {
        let text = match &*message.content {
            MessageContent::MessageText(text) => Some(&text.text),
            _ => None,
        };
        if i64::from(message.date) < self.started || message.sending_state.is_some() {
            return Ok(None); // from before the start, or a reply of its own on its way
        }
        if !self.bot {
            let rest = text.and_then(|text| text.text.strip_prefix("/echo "));
            return Ok(rest.filter(|_| message.chat_id == self.me).map(|rest| {
                text_of(types::FormattedText { text: rest.into(), entities: Vec::new() })
            }));
        }
        if message.is_outgoing || !self.addressed(message).await? {
            return Ok(None);
        }
        let copy = types::MessageCopyOptions { send_copy: true, ..Default::default() };
        Ok(Some(match text {
            Some(text) => text_of(text.clone()),
            None => Content::InputMessageForwarded(types::InputMessageForwarded {
                from_chat_id: message.chat_id,
                message_id: message.id,
                copy_options: Some(copy),
                ..Default::default()
            }),
        }))
    }

    /// A private chat, or in a group a mention, a command for it, or a reply to its message.
    async fn addressed(&self, message: &types::Message) -> Result<bool, Error> {
        match self.client.send(functions::GetChat { chat_id: message.chat_id }).await?.r#type {
            ChatType::Private(_) => return Ok(true),
            ChatType::Supergroup(group) if group.is_channel => return Ok(false),
            ChatType::BasicGroup(_) | ChatType::Supergroup(_) => {}
            _ => return Ok(false),
        }
        let me = |name: &str| self.names.iter().any(|mine| name.eq_ignore_ascii_case(mine));
        if let MessageContent::MessageText(text) = &*message.content {
            let mentions_me = text.text.entities.iter().any(|entity| {
                let covered = covered(&text.text.text, entity);
                match &entity.r#type {
                    TextEntityType::Mention(_) => me(covered.trim_start_matches('@')),
                    TextEntityType::MentionName(mention) => mention.user_id == self.me,
                    TextEntityType::BotCommand(_) => {
                        covered.split_once('@').is_some_and(|(_, name)| me(name))
                    }
                    _ => false,
                }
            });
            if mentions_me {
                return Ok(true);
            }
        }
        let Some(MessageReplyTo::Message(to)) = &message.reply_to else {
            return Ok(false);
        };
        let replied = functions::GetMessage { chat_id: to.chat_id, message_id: to.message_id };
        Ok(self.client.send(replied).await.is_ok_and(|replied| replied.is_outgoing))
    }

    /// A reply whose sending failed: sent again after the wait Telegram asked for.
    async fn resend(&self, failed: &types::Message) -> Result<(), Error> {
        let Some(MessageSendingState::Failed(state)) = &failed.sending_state else {
            return Ok(());
        };
        let wait =
            Duration::try_from_secs_f64(state.retry_after.clamp(0.0, 3600.0)).unwrap_or_default();
        tokio::time::sleep(wait).await;
        let ids = vec![failed.id];
        let request = functions::ResendMessages {
            chat_id: failed.chat_id,
            message_ids: ids,
            ..Default::default()
        };
        retrying_floods(|| self.client.send(request.clone())).await?;
        println!("echo: resent a reply in chat {} after {wait:?}", failed.chat_id);
        Ok(())
    }
}

fn text_of(text: types::FormattedText) -> Content {
    Content::InputMessageText(types::InputMessageText { text, ..Default::default() })
}

/// The part of `text` an entity covers (TDLib counts in UTF-16 code units).
fn covered(text: &str, entity: &types::TextEntity) -> String {
    let units: Vec<u16> = text.encode_utf16().collect();
    let start = usize::try_from(entity.offset).unwrap_or(0).min(units.len());
    let end = start.saturating_add(usize::try_from(entity.length).unwrap_or(0));
    String::from_utf16_lossy(&units[start..end.min(units.len())])
}

/// Runs `request` again after each FLOOD_WAIT, as long as Telegram asks (5 times at most).
async fn retrying_floods<T, F: Future<Output = Result<T, Error>>>(
    mut request: impl FnMut() -> F,
) -> Result<T, Error> {
    for _ in 0..5 {
        match request().await {
            Err(error) if error.retry_after().is_some() => {
                eprintln!("echo: Telegram asks to wait ({error})");
                tokio::time::sleep(error.retry_after().unwrap_or_default()).await;
            }
            other => return other,
        }
    }
    request().await
}
