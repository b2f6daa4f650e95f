//! [`Terminal`]: asks a person at the terminal.

use std::fmt;
use std::io::BufRead;

use tdlib_types::enums::{AuthenticationCodeType, ConnectionState};
use tdlib_types::{functions, types};
use tokio::sync::oneshot;

use super::{AuthError, Authenticator, Login, Registration};
use crate::Error;

/// An interactive [`Authenticator`]: questions go to standard error, answers come from
/// standard input, and passwords are read from the terminal without echo.
///
/// The login question accepts a phone number (`+15551234567`), a bot token (`123456:ABC...`)
/// or `qr` for a QR-code login. Input is read on a separate thread, so a waiting prompt blocks
/// neither the async runtime nor TDLib. Closed input ends the login with
/// [`AuthError::Cancelled`].
#[derive(Clone)]
pub struct Terminal {
    parameters: functions::SetTdlibParameters,
    login: Option<Login>,
}

impl Terminal {
    /// Asks everything but the parameters.
    pub fn new(parameters: functions::SetTdlibParameters) -> Terminal {
        Terminal {
            parameters,
            login: None,
        }
    }

    /// Uses `login` as the first answer to the login question (asking only if it is refused).
    pub fn with_login(mut self, login: Login) -> Terminal {
        self.login = Some(login);
        self
    }
}

impl fmt::Debug for Terminal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Terminal")
            .field("parameters", &self.parameters)
            .field("login", &self.login)
            .finish()
    }
}

/// Reads one line (or a password, without echo) on a thread of its own.
async fn ask(prompt: String, hidden: bool) -> Result<String, AuthError> {
    let (sender, receiver) = oneshot::channel();
    std::thread::Builder::new()
        .name("tdlib-prompt".into())
        .spawn(move || {
            let answer = if hidden {
                rpassword::prompt_password(prompt).map_err(|error| error.to_string())
            } else {
                eprint!("{prompt}");
                let mut line = String::new();
                match std::io::stdin().lock().read_line(&mut line) {
                    Ok(0) => Err("standard input is closed".to_owned()),
                    Ok(_) => Ok(line),
                    Err(error) => Err(error.to_string()),
                }
            };
            let _ = sender.send(answer);
        })
        .map_err(|error| AuthError::Cancelled(format!("cannot read input: {error}")))?;
    match receiver.await {
        Ok(Ok(line)) => Ok(line.trim().to_owned()),
        Ok(Err(why)) => Err(AuthError::Cancelled(why)),
        Err(_) => Err(AuthError::Cancelled("the input thread stopped".into())),
    }
}

fn show_refusal(previous: Option<&Error>) {
    if let Some(error) = previous {
        eprintln!("Telegram refused that: {error}");
    }
}

/// Reads a login answer: `qr`, a bot token (digits, a colon, more), or a phone number.
pub(crate) fn parse_login(answer: &str) -> Option<Login> {
    let answer = answer.trim();
    if answer.eq_ignore_ascii_case("qr") {
        return Some(Login::QrCode);
    }
    if let Some((id, secret)) = answer.split_once(':') {
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !secret.is_empty() {
            return Some(Login::BotToken(answer.to_owned()));
        }
        return None;
    }
    let digits = answer.bytes().filter(u8::is_ascii_digit).count();
    let allowed = answer
        .bytes()
        .all(|b| b.is_ascii_digit() || b"+ -()".contains(&b));
    (allowed && digits >= 5).then(|| Login::PhoneNumber(answer.to_owned()))
}

fn delivery(kind: &AuthenticationCodeType) -> &'static str {
    match kind {
        AuthenticationCodeType::TelegramMessage(_) => "in a Telegram message to your other devices",
        AuthenticationCodeType::Sms(_)
        | AuthenticationCodeType::SmsWord(_)
        | AuthenticationCodeType::SmsPhrase(_) => "by SMS",
        AuthenticationCodeType::Call(_) => "by a phone call",
        AuthenticationCodeType::FlashCall(_) | AuthenticationCodeType::MissedCall(_) => {
            "as the number of an incoming call"
        }
        AuthenticationCodeType::Fragment(_) => "on fragment.com",
        _ => "by Telegram",
    }
}

impl Authenticator for Terminal {
    async fn parameters(&mut self) -> Result<functions::SetTdlibParameters, AuthError> {
        Ok(self.parameters.clone())
    }

    async fn login(&mut self, previous: Option<&Error>) -> Result<Login, AuthError> {
        show_refusal(previous);
        if previous.is_none() {
            if let Some(login) = self.login.take() {
                return Ok(login);
            }
        }
        loop {
            let answer = ask(
                "Phone number (international format), bot token, or \"qr\" for a QR-code login: "
                    .into(),
                false,
            )
            .await?;
            match parse_login(&answer) {
                Some(login) => return Ok(login),
                None => eprintln!("That is neither a phone number, a bot token, nor \"qr\"."),
            }
        }
    }

    async fn code(
        &mut self,
        info: &types::AuthenticationCodeInfo,
        previous: Option<&Error>,
    ) -> Result<String, AuthError> {
        show_refusal(previous);
        eprintln!("Telegram sent a login code {}.", delivery(&info.r#type));
        ask("Code: ".into(), false).await
    }

    async fn password(
        &mut self,
        state: &types::AuthorizationStateWaitPassword,
        previous: Option<&Error>,
    ) -> Result<String, AuthError> {
        show_refusal(previous);
        let hint = if state.password_hint.is_empty() {
            String::new()
        } else {
            format!(" (hint: {})", state.password_hint)
        };
        ask(format!("Two-step verification password{hint}: "), true).await
    }

    async fn email_address(&mut self, previous: Option<&Error>) -> Result<String, AuthError> {
        show_refusal(previous);
        ask("E-mail address for login codes: ".into(), false).await
    }

    async fn email_code(
        &mut self,
        info: &types::EmailAddressAuthenticationCodeInfo,
        previous: Option<&Error>,
    ) -> Result<String, AuthError> {
        show_refusal(previous);
        ask(
            format!("Code sent to {}: ", info.email_address_pattern),
            false,
        )
        .await
    }

    async fn registration(
        &mut self,
        terms: &types::TermsOfService,
        previous: Option<&Error>,
    ) -> Result<Registration, AuthError> {
        show_refusal(previous);
        eprintln!(
            "This phone number has no Telegram account yet. Telegram's terms of service:\n{}\n",
            terms.text.text
        );
        eprintln!("Entering a name creates the account and accepts these terms.");
        let first_name = ask("First name: ".into(), false).await?;
        let last_name = ask("Last name (may be empty): ".into(), false).await?;
        Ok(Registration {
            first_name,
            last_name,
        })
    }

    async fn show_qr_link(&mut self, link: &str) {
        eprintln!(
            "Open Telegram on a device where you are logged in, go to Settings > Devices > \
             Link Desktop Device, and scan this link as a QR code (any QR generator renders it):\n{link}"
        );
    }

    fn connection_state(&mut self, state: &ConnectionState) {
        let text = match state {
            ConnectionState::WaitingForNetwork(_) => "waiting for the network",
            ConnectionState::ConnectingToProxy(_) => "connecting to the proxy",
            ConnectionState::Connecting(_) => "connecting to Telegram",
            ConnectionState::Updating(_) => "updating",
            ConnectionState::Ready(_) => "connected",
            ConnectionState::Unrecognized(_) => return,
        };
        eprintln!("[{text}]");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_answers_are_told_apart() {
        assert_eq!(parse_login(" qr "), Some(Login::QrCode));
        assert_eq!(
            parse_login("123456:AAE-x_y"),
            Some(Login::BotToken("123456:AAE-x_y".into()))
        );
        assert_eq!(
            parse_login("+1 555 000-1234"),
            Some(Login::PhoneNumber("+1 555 000-1234".into()))
        );
        assert_eq!(parse_login("abc:def"), None);
        assert_eq!(parse_login("hello"), None);
        assert_eq!(parse_login("12"), None);
        assert_eq!(parse_login(""), None);
    }
}
