//! Logs in and prints who the account is: the smallest example of a typed request after login.
//!
//! ```text
//! TDLIB_API_ID=... TDLIB_API_HASH=... TDLIB_BOT_TOKEN=... cargo run --example get_me
//! ```
//! Without a bot token it logs in as a user, asking on the terminal.

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;

use tdlib::enums::UserType;
use tdlib::functions;

#[tokio::main]
async fn main() -> ExitCode {
    let _closer = tdlib::CloseOnExit::new(); // no client is left open when the process exits
    let (account, client) = match common::start("get_me").await {
        Ok(started) => started,
        Err(code) => return code,
    };
    let outcome = async {
        account.log_in(&client).await?;
        let me = client.send(functions::GetMe {}).await.map_err(|e| format!("getMe: {e}"))?;
        let username = me.usernames.as_ref().and_then(|names| names.active_usernames.first());
        let kind = if matches!(me.r#type, UserType::Bot(_)) { "a bot" } else { "a user" };
        println!(
            "logged in as {} {}{} (user {}, {kind})",
            me.first_name,
            me.last_name,
            username.map_or(String::new(), |name| format!(" @{name}")),
            me.id
        );
        Ok(())
    };
    let outcome = outcome.await;
    common::finish("get_me", &client, outcome).await
}
