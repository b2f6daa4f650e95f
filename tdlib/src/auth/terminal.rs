//! [`Terminal`]: asks a person at the terminal.

use std::fmt;

use tdlib_types::enums::{AuthenticationCodeType, ConnectionState};
use tdlib_types::{functions, types};

use super::{AuthError, Authenticator, Login, Registration};
use crate::Error;

/// An interactive [`Authenticator`]: questions go to standard error, answers come from
/// standard input, and passwords are read from the terminal without echo.
///
/// The login question accepts a phone number (`+15551234567`), a bot token (`123456:ABC...`)
/// or `qr` for a QR-code login (the code is then drawn in the terminal). Input is read by one
/// thread of the process that reads only while a prompt waits, so a waiting prompt blocks
/// neither the async runtime nor TDLib, and a cancelled prompt never takes the line typed for
/// the next one. Passwords are read with the terminal's echo off (on Unix). Closed input ends
/// the login with [`AuthError::Cancelled`]. Mixing this with reads of `std::io::stdin` that
/// buffer input may hide typed-ahead lines from it.
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

/// Asks at the terminal (see [`super::input`]).
async fn ask(prompt: String, hidden: bool) -> Result<String, AuthError> {
    match super::input::read_line(prompt, hidden).await {
        Ok(line) => Ok(line.trim().to_owned()),
        Err(why) => Err(AuthError::Cancelled(why)),
    }
}

/// `link` as a QR code drawn with Unicode half blocks (two rows of modules per line of text),
/// dark on light as scanners expect, with the quiet zone around it.
pub(crate) fn qr_code(link: &str) -> Option<String> {
    let code = qrcode::QrCode::new(link.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
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
             Link Desktop Device, and scan this QR code:"
        );
        if let Some(code) = qr_code(link) {
            eprintln!("{code}");
        }
        eprintln!("(the same as a link: {link})");
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

    #[test]
    fn qr_codes_are_drawn_in_text() {
        let code = qr_code("tg://login?token=AQID").unwrap();
        let lines: Vec<&str> = code.lines().collect();
        assert!(lines.len() > 10, "{code}");
        assert!(
            lines
                .iter()
                .all(|line| line.chars().count() == lines[0].chars().count())
        );
        assert!(code.contains('█') || code.contains('▀') || code.contains('▄'));
    }
}
