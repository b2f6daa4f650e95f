//! What the examples that log in share: the account from the environment (or, without one,
//! how to get it and the offline demo), the login, and a clean end.

#![allow(dead_code)] // not every example uses every part

#[path = "../offline_demo/mod.rs"]
mod offline_demo;

use std::path::PathBuf;
use std::process::ExitCode;

use tdlib::Client;
use tdlib::auth::{self, AuthError, Bot, Terminal};

/// Where the credentials come from.
pub const API_ID: &str = "TDLIB_API_ID";
pub const API_HASH: &str = "TDLIB_API_HASH";
pub const BOT_TOKEN: &str = "TDLIB_BOT_TOKEN";
/// Base folder of the per-account databases (default `tdlib-data`).
pub const DATA_DIR: &str = "TDLIB_DATA_DIR";

/// The start every logging-in example shares: the account and a client, or the exit code after
/// saying what is wrong (2: credentials missing, with how to get them, and the offline demo to
/// show that TDLib works meanwhile).
pub async fn start(example: &str) -> Result<(Account, Client), ExitCode> {
    let account = match Account::from_env() {
        Ok(account) => account,
        Err(problem) => {
            eprintln!("{problem}\n\n{}", how_to_get_credentials(example));
            println!("Meanwhile, TDLib offline (what `cargo run --example offline` shows):");
            if let Err(error) = offline_demo::run().await {
                eprintln!("{example}: the offline demo failed: {error}");
            }
            return Err(ExitCode::from(2));
        }
    };
    match Client::new() {
        Ok(client) => Ok((account, client)),
        Err(error) => {
            eprintln!("{example}: cannot start TDLib: {error}");
            Err(ExitCode::FAILURE)
        }
    }
}

/// The end every example shares: says what went wrong, if anything, and closes the client.
pub async fn finish(example: &str, client: &Client, outcome: Result<(), String>) -> ExitCode {
    let mut code = ExitCode::SUCCESS;
    if let Err(why) = outcome {
        eprintln!("{example}: {why}");
        code = ExitCode::FAILURE;
    }
    if let Err(error) = client.close().await {
        eprintln!("{example}: close failed: {error}");
        return ExitCode::FAILURE;
    }
    code
}

/// API id and hash, and a bot token if there is one. `Debug` hides the secrets.
pub struct Account {
    pub api_id: i32,
    api_hash: String,
    bot_token: Option<String>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("api_id", &self.api_id)
            .field("api_hash", &"<redacted>")
            .field("bot_token", &self.bot_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// How to get what is missing, for a person reading a terminal.
pub fn how_to_get_credentials(example: &str) -> String {
    format!(
        "\
This example logs in to Telegram, which needs credentials that only you can get:

  1. {API_ID} and {API_HASH}: log in at https://my.telegram.org with your phone number,
     open \"API development tools\", create an application (any name), and copy
     \"App api_id\" (a number) and \"App api_hash\" (32 hexadecimal characters).
  2. {BOT_TOKEN}: in Telegram, open a chat with @BotFather, send /newbot, choose a name and
     a username ending in \"bot\"; it answers with a token like 123456789:AAE...
     Without a bot token, the example logs in as a user and asks on this terminal for your
     phone number (or \"qr\" to scan a QR code), the code Telegram sends, and your password
     if you have one.

Then run, with your values:

  {API_ID}=12345 {API_HASH}=0123456789abcdef0123456789abcdef \\
  {BOT_TOKEN}=123456789:AAE... cargo run --example {example}

Nothing at hand? `cargo run --example offline` shows the library working without an account."
    )
}

impl Account {
    /// Reads the credentials, or says what is missing or wrong.
    pub fn from_env() -> Result<Account, String> {
        let read = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let (Some(api_id), Some(api_hash)) = (read(API_ID), read(API_HASH)) else {
            let missing: Vec<&str> =
                [API_ID, API_HASH].into_iter().filter(|name| read(name).is_none()).collect();
            return Err(format!("{} not set.", missing.join(" and ")));
        };
        let api_id = api_id
            .parse::<i32>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| format!("{API_ID} must be a positive number, not {api_id:?}."))?;
        if api_hash.len() != 32 || !api_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "{API_HASH} must be 32 hexadecimal characters (it has {}).",
                api_hash.len()
            ));
        }
        Ok(Account { api_id, api_hash, bot_token: read(BOT_TOKEN) })
    }

    /// Whether this is a bot (there is a bot token).
    pub fn is_bot(&self) -> bool {
        self.bot_token.is_some()
    }

    /// Logs `client` in: as the bot if there is a token, else as a user asked on the terminal.
    /// Each account gets its own database folder under [`DATA_DIR`].
    pub async fn log_in(&self, client: &Client) -> Result<(), String> {
        let base = std::env::var_os(DATA_DIR).map_or_else(|| "tdlib-data".into(), PathBuf::from);
        let parameters = |folder: String| {
            let directory = base.join(folder).display().to_string();
            auth::parameters(self.api_id, self.api_hash.clone(), directory)
        };
        let outcome = match &self.bot_token {
            Some(token) => {
                // The part before the colon is the bot's user id: not secret, and stable.
                let bot_id = token.split(':').next().unwrap_or_default();
                let mut bot = Bot::new(parameters(format!("bot-{bot_id}")), token.clone());
                auth::authorize(client, &mut bot).await
            }
            None if !std::io::IsTerminal::is_terminal(&std::io::stdin()) => {
                return Err(format!(
                    "{BOT_TOKEN} is not set and standard input is not a terminal to log in as a user"
                ));
            }
            None => {
                eprintln!("{BOT_TOKEN} is not set: logging in as a user.");
                auth::authorize(client, &mut Terminal::new(parameters("user".into()))).await
            }
        };
        outcome.map_err(|error: AuthError| format!("login failed: {error}"))
    }
}
