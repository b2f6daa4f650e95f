//! Logs in and prints who the account is: the smallest example of a typed request after login.
//!
//! ```text
//! TDLIB_API_ID=... TDLIB_API_HASH=... TDLIB_BOT_TOKEN=... cargo run --example get_me
//! ```
//! Without a bot token it logs in as a user, asking on the terminal.

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;

use tdlib::functions;

#[tokio::main]
async fn main() -> ExitCode {
    // Whatever happens below, no client is left open when the process exits.
    let _closer = tdlib::CloseOnExit::new();
    let (credentials, client) = match common::start("get_me") {
        Ok(started) => started,
        Err(code) => return code,
    };
    let outcome = async {
        credentials
            .log_in(&client)
            .await
            .map_err(|error| format!("login failed: {error}"))?;
        client
            .send(functions::GetMe {})
            .await
            .map_err(|error| format!("getMe failed: {error}"))
    }
    .await;
    let code = match outcome {
        Ok(me) => {
            let username = me
                .usernames
                .as_ref()
                .and_then(|names| names.active_usernames.first())
                .map_or(String::new(), |name| format!(" @{name}"));
            println!(
                "logged in as {} {}{username} (user {}, {})",
                me.first_name,
                me.last_name,
                me.id,
                if matches!(me.r#type, tdlib::enums::UserType::Bot(_)) {
                    "a bot"
                } else {
                    "a user"
                }
            );
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("get_me: {why}");
            ExitCode::FAILURE
        }
    };
    if let Err(error) = client.close().await {
        eprintln!("get_me: close failed: {error}");
    }
    code
}
