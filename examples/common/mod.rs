//! What the examples that log in share: credentials from the environment, the explanation
//! shown when they are missing, a database folder per account, and the login itself.

use std::path::PathBuf;
use std::process::ExitCode;

use tdlib::Client;
use tdlib::auth::{self, AuthError, Bot, Login, Terminal};

/// Where the credentials come from.
pub const API_ID: &str = "TDLIB_API_ID";
pub const API_HASH: &str = "TDLIB_API_HASH";
pub const BOT_TOKEN: &str = "TDLIB_BOT_TOKEN";
/// Base folder of the per-account databases (default `tdlib-data`).
pub const DATA_DIR: &str = "TDLIB_DATA_DIR";

/// The start every logging-in example shares: the credentials and a client, or the exit code
/// after saying what is wrong (2: credentials missing, with how to get them).
pub fn start(example: &str) -> Result<(Credentials, Client), ExitCode> {
    let credentials = Credentials::from_env().map_err(|problem| {
        eprintln!("{problem}\n\n{}", how_to_get_credentials(example));
        ExitCode::from(2)
    })?;
    let client = Client::new().map_err(|error| {
        eprintln!("{example}: cannot start TDLib: {error}");
        ExitCode::FAILURE
    })?;
    Ok((credentials, client))
}

/// API id and hash, and a bot token if there is one. `Debug` hides the secrets.
pub struct Credentials {
    pub api_id: i32,
    api_hash: String,
    bot_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
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
     phone number (or \"qr\"), the code Telegram sends, and your password if you have one.

Then run, with your values:

  {API_ID}=12345 {API_HASH}=0123456789abcdef0123456789abcdef \\
  {BOT_TOKEN}=123456789:AAE... cargo run --example {example}

Nothing at hand? `cargo run --example offline` shows the library working without an account."
    )
}

impl Credentials {
    /// Reads the credentials, or says what is missing or wrong.
    pub fn from_env() -> Result<Credentials, String> {
        let read = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let (Some(api_id), Some(api_hash)) = (read(API_ID), read(API_HASH)) else {
            let missing: Vec<&str> = [API_ID, API_HASH]
                .into_iter()
                .filter(|name| read(name).is_none())
                .collect();
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
        Ok(Credentials {
            api_id,
            api_hash,
            bot_token: read(BOT_TOKEN),
        })
    }

    /// Logs `client` in: as the bot if there is a token, else as a user asked on the terminal.
    /// Each account gets its own database folder.
    pub async fn log_in(&self, client: &Client) -> Result<(), LoginError> {
        let base = std::env::var_os(DATA_DIR).map_or_else(|| "tdlib-data".into(), PathBuf::from);
        match &self.bot_token {
            Some(token) => {
                // The part before the colon is the bot's user id: not secret, and stable.
                let bot_id = token.split(':').next().unwrap_or_default();
                let directory = base.join(format!("bot-{bot_id}"));
                let parameters = self.parameters(&directory);
                auth::authorize(client, &mut Bot::new(parameters, token.clone())).await?;
            }
            None => {
                if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                    return Err(LoginError::NoBotTokenAndNoTerminal);
                }
                eprintln!("{BOT_TOKEN} is not set: logging in as a user.");
                let answer =
                    prompt("Phone number (international format), or \"qr\" for a QR-code login: ")?;
                let (login, account) = if answer.eq_ignore_ascii_case("qr") {
                    (Login::QrCode, "user-qr".to_owned())
                } else {
                    let account = format!("user-{:016x}", fnv1a(digits(&answer).as_bytes()));
                    (Login::PhoneNumber(answer), account)
                };
                let parameters = self.parameters(&base.join(account));
                auth::authorize(client, &mut Terminal::new(parameters).with_login(login)).await?;
            }
        }
        Ok(())
    }

    fn parameters(&self, directory: &std::path::Path) -> tdlib::functions::SetTdlibParameters {
        auth::parameters(
            self.api_id,
            self.api_hash.clone(),
            directory.display().to_string(),
        )
    }
}

/// Why an example could not log in.
#[derive(Debug)]
pub enum LoginError {
    Auth(AuthError),
    NoBotTokenAndNoTerminal,
    Input(std::io::Error),
}

impl From<AuthError> for LoginError {
    fn from(error: AuthError) -> Self {
        LoginError::Auth(error)
    }
}

impl std::fmt::Display for LoginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoginError::Auth(error) => error.fmt(f),
            LoginError::NoBotTokenAndNoTerminal => write!(
                f,
                "{BOT_TOKEN} is not set and standard input is not a terminal to log in as a user"
            ),
            LoginError::Input(error) => write!(f, "cannot read the answer: {error}"),
        }
    }
}

/// One line from the terminal (before the client needs it, so blocking is fine here).
fn prompt(question: &str) -> Result<String, LoginError> {
    eprint!("{question}");
    let mut line = String::new();
    match std::io::stdin().read_line(&mut line) {
        Ok(0) => Err(LoginError::Input(std::io::ErrorKind::UnexpectedEof.into())),
        Ok(_) => Ok(line.trim().to_owned()),
        Err(error) => Err(LoginError::Input(error)),
    }
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// A folder name for a phone number that does not show the number.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
