//! A live chat list: logs in, loads the main chat list, prints each chat as TDLib announces it,
//! then keeps printing new messages and title changes until Ctrl-C.
//!
//! ```text
//! TDLIB_API_ID=... TDLIB_API_HASH=... TDLIB_BOT_TOKEN=... cargo run --example chat_list
//! ```
//! Shows a subscription that keeps only the kinds it wants (a filter applied before anything
//! is queued for it), and what a subscriber that falls behind is told.

#[path = "common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::process::ExitCode;

use tdlib::enums::{ChatList, Update};
use tdlib::{Client, Error, Event, functions, types};

#[tokio::main]
async fn main() -> ExitCode {
    let _closer = tdlib::CloseOnExit::new(); // no client is left open when the process exits
    let (account, client) = match common::start("chat_list").await {
        Ok(started) => started,
        Err(code) => return code,
    };
    let mut updates = client
        .subscription::<Update>()
        .filter(|update| {
            matches!(update, Update::NewChat(_) | Update::ChatTitle(_) | Update::NewMessage(_))
        })
        .subscribe();
    let outcome = tokio::select! {
        outcome = async {
            account.log_in(&client).await?;
            load_chats(&client).await.map_err(|error| format!("loadChats failed: {error}"))?;
            let mut titles = HashMap::new();
            while let Some(event) = updates.recv().await {
                show(&mut titles, event);
            }
            Ok::<(), String>(())
        } => outcome,
        _ = tokio::signal::ctrl_c() => Ok(()),
    };
    common::finish("chat_list", &client, outcome).await
}

/// Asks TDLib for the main chat list until it has no more; the chats come as `updateNewChat`.
async fn load_chats(client: &Client) -> Result<(), Error> {
    loop {
        let request = functions::LoadChats {
            chat_list: Some(ChatList::Main(types::ChatListMain {})),
            limit: 100,
        };
        match client.send(request).await {
            Ok(_) => {}
            // 404: every chat is loaded.
            Err(error) if error.code() == Some(404) => return Ok(()),
            Err(error) => return Err(error),
        }
    }
}

fn show(titles: &mut HashMap<i64, String>, event: Event<Update>) {
    let update = match event {
        Event::Update(update) => update,
        Event::Missed(count) => {
            println!("(fell behind: {count} updates skipped)");
            return;
        }
        Event::Failed(error) => {
            eprintln!("chat_list: updates stopped: {error}");
            return;
        }
        _ => return,
    };
    match &**update.update() {
        Update::NewChat(new) => {
            println!("chat {}: {}", new.chat.id, new.chat.title);
            titles.insert(new.chat.id, new.chat.title.clone());
        }
        Update::ChatTitle(change) => {
            println!("chat {} is now called {}", change.chat_id, change.title);
            titles.insert(change.chat_id, change.title.clone());
        }
        Update::NewMessage(new) => {
            let title = titles.get(&new.message.chat_id).map_or("an unknown chat", String::as_str);
            println!("new message {} in {title}", new.message.id);
        }
        _ => {}
    }
}
