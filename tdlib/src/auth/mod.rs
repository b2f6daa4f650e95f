//! Logging in: [`authorize`] walks TDLib's authorization state machine and asks an
//! [`Authenticator`] for whatever TDLib needs at each step.
//!
//! ```no_run
//! use tdlib::Client;
//! use tdlib::auth::{self, Bot};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let parameters = auth::parameters(12345, "0123456789abcdef0123456789abcdef", "bot-db");
//! let client = Client::new()?;
//! auth::authorize(&client, &mut Bot::new(parameters, "123456:token-from-BotFather")).await?;
//! // ... the client is logged in ...
//! client.close().await?;
//! # Ok(())
//! # }
//! ```
//!
//! How it works, and why:
//! - The helper reads the client's lossless update stream, which starts exactly where the
//!   client's current state snapshot ends, so no state change is missed or seen twice. It runs
//!   on the caller's task: the receive thread and other clients never wait for it (or for a
//!   user typing a code).
//! - It acts on the latest state only: states that TDLib has already replaced are skipped, so
//!   an answer is never sent to a question TDLib no longer asks.
//! - When TDLib refuses an answer (a wrong code or password, an invalid phone number or bot
//!   token), the authenticator is asked again and told why; it decides whether to try again
//!   or give up. After [`MAX_ATTEMPTS`] refusals in a row the helper gives up itself. If TDLib
//!   has moved to another state meanwhile (an expired code sends it back to the phone number),
//!   the helper follows that state instead of asking the old question again.
//! - Changes of the connection state are passed to [`Authenticator::connection_state`] while
//!   the helper waits, so a program can say "connecting..." instead of appearing to hang:
//!   TDLib never fails network-bound requests on its own, it just waits for the network.

use std::fmt;
use std::future::Future;
use std::mem::Discriminant;
use std::pin::Pin;
use std::task::Poll;

use futures_core::Stream;
use tdlib_types::enums::{AuthorizationState, ConnectionState, EmailAddressAuthentication, Update};
use tdlib_types::{functions, types};

use crate::request::Body;
use crate::{Client, Error, Event, Subscription};

mod bot;
#[cfg(feature = "terminal")]
mod input;
#[cfg(feature = "terminal")]
mod terminal;

pub use bot::Bot;
#[cfg(feature = "terminal")]
pub use terminal::Terminal;

/// How many refusals in a row end the login with [`AuthError::Refused`], whatever the
/// authenticator says.
pub const MAX_ATTEMPTS: u32 = 5;

/// How to log in, chosen when TDLib waits for a phone number.
#[derive(Clone, PartialEq, Eq)]
pub enum Login {
    /// A bot, with the token @BotFather gave (`123456:ABC...`).
    BotToken(String),
    /// A user, by phone number in international format; TDLib then asks for a code.
    PhoneNumber(String),
    /// A user, by confirming a `tg://login?token=...` link (usually shown as a QR code) in an
    /// app where the account is already logged in.
    QrCode,
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Login::BotToken(_) => f.write_str("BotToken(<redacted>)"),
            Login::PhoneNumber(_) => f.write_str("PhoneNumber(<redacted>)"),
            Login::QrCode => f.write_str("QrCode"),
        }
    }
}

/// A new user's name, asked when the phone number has no account yet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Registration {
    /// First name (must not be empty).
    pub first_name: String,
    /// Last name (may be empty).
    pub last_name: String,
}

/// The step of the login an error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthStep {
    /// `setTdlibParameters`.
    Parameters,
    /// `checkAuthenticationBotToken`.
    BotToken,
    /// `setAuthenticationPhoneNumber`.
    PhoneNumber,
    /// `requestQrCodeAuthentication`.
    QrCode,
    /// `checkAuthenticationCode`.
    Code,
    /// `checkAuthenticationPassword`.
    Password,
    /// `setAuthenticationEmailAddress`.
    EmailAddress,
    /// `checkAuthenticationEmailCode`.
    EmailCode,
    /// `registerUser`.
    Registration,
}

impl fmt::Display for AuthStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthStep::Parameters => "TDLib parameters",
            AuthStep::BotToken => "bot token",
            AuthStep::PhoneNumber => "phone number",
            AuthStep::QrCode => "QR-code login",
            AuthStep::Code => "login code",
            AuthStep::Password => "password",
            AuthStep::EmailAddress => "e-mail address",
            AuthStep::EmailCode => "e-mail code",
            AuthStep::Registration => "registration",
        })
    }
}

/// Why [`authorize`] did not reach `authorizationStateReady`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AuthError {
    /// TDLib refused what was given for `step` and the authenticator gave up (or
    /// [`MAX_ATTEMPTS`] were used up). `error` is TDLib's last refusal, e.g.
    /// `ACCESS_TOKEN_INVALID` or `PHONE_CODE_INVALID`.
    Refused {
        /// The step that failed.
        step: AuthStep,
        /// TDLib's refusal.
        error: Error,
    },
    /// The authenticator stopped without an answer (no input, the user cancelled, ...).
    Cancelled(String),
    /// TDLib asks for something this helper or this authenticator cannot provide (for
    /// example an e-mail address to a bot authenticator, or a Telegram Premium purchase).
    Unsupported(String),
    /// The client was closed or logged out before it was ready.
    Closed,
    /// A request failed for another reason than a refusal of the answer.
    Client(Error),
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Refused { step, error } => write!(f, "the {step} was refused: {error}"),
            AuthError::Cancelled(why) => write!(f, "login cancelled: {why}"),
            AuthError::Unsupported(what) => write!(f, "cannot log in: {what}"),
            AuthError::Closed => f.write_str("the client was closed before the login finished"),
            AuthError::Client(error) => write!(f, "login failed: {error}"),
        }
    }
}

impl std::error::Error for AuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AuthError::Refused { error, .. } | AuthError::Client(error) => Some(error),
            _ => None,
        }
    }
}

/// Supplies what TDLib asks for during login. Each question gets TDLib's refusal of the
/// previous answer to the same question, if there was one (`previous`), so that an
/// implementation can show it and ask again, or give up by returning an error.
///
/// Only [`parameters`](Authenticator::parameters) and [`login`](Authenticator::login) are
/// required; the other questions answer [`AuthError::Unsupported`] unless implemented (a bot
/// never gets them). The methods return futures, so an implementation may wait for a user, a
/// file or a network service without blocking anything else.
pub trait Authenticator: Send {
    /// TDLib's parameters (API id and hash, database directory, ...); see [`parameters`].
    fn parameters(
        &mut self,
    ) -> impl Future<Output = Result<functions::SetTdlibParameters, AuthError>> + Send;

    /// How to log in: a bot token, a phone number, or a QR code.
    fn login(
        &mut self,
        previous: Option<&Error>,
    ) -> impl Future<Output = Result<Login, AuthError>> + Send;

    /// The code Telegram sent (`info` says where to and how long it is).
    fn code(
        &mut self,
        info: &types::AuthenticationCodeInfo,
        previous: Option<&Error>,
    ) -> impl Future<Output = Result<String, AuthError>> + Send {
        let _ = (info, previous);
        async { Err(AuthError::Unsupported("a login code is asked for".into())) }
    }

    /// The account's two-step verification password (`state.password_hint` is the hint).
    fn password(
        &mut self,
        state: &types::AuthorizationStateWaitPassword,
        previous: Option<&Error>,
    ) -> impl Future<Output = Result<String, AuthError>> + Send {
        let _ = (state, previous);
        async { Err(AuthError::Unsupported("a password is asked for".into())) }
    }

    /// An e-mail address to receive login codes (asked by Telegram for some new logins).
    fn email_address(
        &mut self,
        previous: Option<&Error>,
    ) -> impl Future<Output = Result<String, AuthError>> + Send {
        let _ = previous;
        async {
            Err(AuthError::Unsupported(
                "an e-mail address is asked for".into(),
            ))
        }
    }

    /// The code sent to the e-mail address.
    fn email_code(
        &mut self,
        info: &types::EmailAddressAuthenticationCodeInfo,
        previous: Option<&Error>,
    ) -> impl Future<Output = Result<String, AuthError>> + Send {
        let _ = (info, previous);
        async { Err(AuthError::Unsupported("an e-mail code is asked for".into())) }
    }

    /// A name for a new account; answering accepts `terms` (Telegram's terms of service).
    fn registration(
        &mut self,
        terms: &types::TermsOfService,
        previous: Option<&Error>,
    ) -> impl Future<Output = Result<Registration, AuthError>> + Send {
        let _ = (terms, previous);
        async {
            Err(AuthError::Unsupported(
                "the phone number has no account and registration is asked for".into(),
            ))
        }
    }

    /// Shows the `tg://login?token=...` link of a QR-code login; it is confirmed by scanning
    /// it as a QR code in an app where the account is logged in (Settings, Devices). TDLib
    /// may replace the link while waiting; each new one is shown.
    fn show_qr_link(&mut self, link: &str) -> impl Future<Output = ()> + Send {
        let _ = link;
        async {}
    }

    /// Called when the connection state changes during the login (and once at the start if
    /// it is known). Without a network, TDLib stays `Connecting` and network-bound steps wait.
    fn connection_state(&mut self, state: &ConnectionState) {
        let _ = state;
    }
}

/// Sensible TDLib parameters for a program: message and chat databases on, files in
/// `database_directory/files`, language `en`, this crate as the application. Adjust fields as
/// needed; `api_id` and `api_hash` come from <https://my.telegram.org> ("API development tools").
pub fn parameters(
    api_id: i32,
    api_hash: impl Into<String>,
    database_directory: impl Into<String>,
) -> functions::SetTdlibParameters {
    functions::SetTdlibParameters {
        database_directory: database_directory.into(),
        use_file_database: true,
        use_chat_info_database: true,
        use_message_database: true,
        api_id,
        api_hash: api_hash.into(),
        system_language_code: "en".into(),
        device_model: "Rust tdlib".into(),
        application_version: env!("CARGO_PKG_VERSION").into(),
        ..Default::default()
    }
}

/// Logs `client` in, asking `authenticator` for each piece TDLib needs, and returns when the
/// client is ready (`authorizationStateReady`). A client that is already ready returns at once.
///
/// Cancel-safe in the sense that dropping the future leaves the client in whatever state TDLib
/// reached; [`authorize`] can be called again later and continues from there. Wrap it in a
/// timeout when the network may be missing: TDLib waits for it without failing.
pub async fn authorize<A: Authenticator + ?Sized>(
    client: &Client,
    authenticator: &mut A,
) -> Result<(), AuthError> {
    let (state, connection, updates) = client.subscribe_with_states();
    let mut flow = Flow {
        client,
        updates,
        last_state: state.clone(),
        pending: state,
        last_connection: None,
    };
    if let Some(connection) = connection {
        flow.report(authenticator, connection);
    }
    // TDLib's last refusal: of which question, in which step, and how many in a row.
    let mut refused: Option<(Discriminant<AuthorizationState>, AuthStep, Error, u32)> = None;
    loop {
        let state = flow.next_state(authenticator).await?;
        let question = std::mem::discriminant(&state);
        let previous = refused
            .as_ref()
            .filter(|(asked, ..)| *asked == question)
            .map(|(_, _, error, _)| error.clone());
        let previous = previous.as_ref();
        let (step, request) = match &state {
            AuthorizationState::Ready(_) => return Ok(()),
            AuthorizationState::WaitTdlibParameters(_) => {
                let parameters = authenticator.parameters().await?;
                if let Err(refusal) = flow.answer(authenticator, Body::typed(parameters)).await {
                    return Err(refusal.into_error(AuthStep::Parameters));
                }
                continue;
            }
            AuthorizationState::WaitPhoneNumber(_) => {
                let login = authenticator.login(previous).await?;
                (login.step(), login.into_request())
            }
            AuthorizationState::WaitCode(state) => {
                let code = authenticator.code(&state.code_info, previous).await?;
                let request = functions::CheckAuthenticationCode { code };
                (AuthStep::Code, Body::typed(request))
            }
            AuthorizationState::WaitPassword(state) => {
                let password = authenticator.password(state, previous).await?;
                let request = functions::CheckAuthenticationPassword { password };
                (AuthStep::Password, Body::typed(request))
            }
            AuthorizationState::WaitEmailAddress(_) => {
                let email_address = authenticator.email_address(previous).await?;
                let request = functions::SetAuthenticationEmailAddress { email_address };
                (AuthStep::EmailAddress, Body::typed(request))
            }
            AuthorizationState::WaitEmailCode(state) => {
                let code = authenticator.email_code(&state.code_info, previous).await?;
                let request = functions::CheckAuthenticationEmailCode {
                    code: EmailAddressAuthentication::Code(types::EmailAddressAuthenticationCode {
                        code,
                    }),
                };
                (AuthStep::EmailCode, Body::typed(request))
            }
            AuthorizationState::WaitRegistration(state) => {
                let name = authenticator
                    .registration(&state.terms_of_service, previous)
                    .await?;
                let request = functions::RegisterUser {
                    first_name: name.first_name,
                    last_name: name.last_name,
                    disable_notification: false,
                };
                (AuthStep::Registration, Body::typed(request))
            }
            AuthorizationState::WaitOtherDeviceConfirmation(state) => {
                // Nothing to send: the other device confirms, and TDLib moves on.
                authenticator.show_qr_link(&state.link).await;
                continue;
            }
            AuthorizationState::LoggingOut(_)
            | AuthorizationState::Closing(_)
            | AuthorizationState::Closed(_) => return Err(AuthError::Closed),
            AuthorizationState::WaitPremiumPurchase(_) => {
                return Err(AuthError::Unsupported(
                    "Telegram asks for a Telegram Premium purchase before this login; \
                     log in with an official app first"
                        .into(),
                ));
            }
            AuthorizationState::Unrecognized(unknown) => {
                return Err(AuthError::Unsupported(format!(
                    "unknown authorization state {}",
                    unknown.type_name
                )));
            }
        };
        match flow.answer(authenticator, request).await {
            Ok(()) => refused = None,
            Err(refusal) => {
                let error = refusal.retry()?;
                let count = match &refused {
                    Some((asked, _, _, count)) if *asked == question => count + 1,
                    _ => 1,
                };
                if count >= MAX_ATTEMPTS {
                    return Err(AuthError::Refused { step, error });
                }
                refused = Some((question, step, error, count));
                // TDLib announces no new state after a refusal: the same question is asked
                // again, unless TDLib has moved on meanwhile (a code that expired sends it back
                // to the phone number, for instance); then its newest state is followed.
                if flow.pending.is_none() {
                    flow.pending = Some(state);
                }
            }
        }
    }
}

impl Login {
    /// The request this login sends (its answer is `ok` whichever it is).
    fn into_request(self) -> Result<Body, Error> {
        match self {
            Login::BotToken(token) => Body::typed(functions::CheckAuthenticationBotToken { token }),
            Login::PhoneNumber(phone_number) => {
                Body::typed(functions::SetAuthenticationPhoneNumber {
                    phone_number,
                    settings: None,
                })
            }
            Login::QrCode => Body::typed(functions::RequestQrCodeAuthentication {
                other_user_ids: Vec::new(),
            }),
        }
    }

    fn step(&self) -> AuthStep {
        match self {
            Login::BotToken(_) => AuthStep::BotToken,
            Login::PhoneNumber(_) => AuthStep::PhoneNumber,
            Login::QrCode => AuthStep::QrCode,
        }
    }
}

/// The state of one [`authorize`] call.
struct Flow<'a> {
    client: &'a Client,
    updates: Subscription<Update>,
    /// A state seen but not acted on yet.
    pending: Option<AuthorizationState>,
    /// The last state seen: the same state again right after it is a repeat, not a new
    /// question (a remote client's transport may deliver an update twice; TDLib itself never
    /// announces a state twice in a row), and answering it again would be refused.
    last_state: Option<AuthorizationState>,
    last_connection: Option<ConnectionState>,
}

/// TDLib refused an answer (or the request failed otherwise).
struct Refusal(Error);

impl Refusal {
    /// The error to hand back to the authenticator, or the end of the login when the failure
    /// is not a refusal of the answer.
    fn retry(self) -> Result<Error, AuthError> {
        if self.0.is_closed() {
            Err(AuthError::Closed)
        } else if self.0.is_tdlib() {
            Ok(self.0)
        } else {
            Err(AuthError::Client(self.0))
        }
    }

    fn into_error(self, step: AuthStep) -> AuthError {
        match self.retry() {
            Ok(error) => AuthError::Refused { step, error },
            Err(error) => error,
        }
    }
}

impl Flow<'_> {
    /// The latest authorization state: a state already replaced by a newer one is skipped.
    async fn next_state<A: Authenticator + ?Sized>(
        &mut self,
        authenticator: &mut A,
    ) -> Result<AuthorizationState, AuthError> {
        // Take whatever has arrived already, keeping only the newest state.
        while let Ok(event) = self.updates.try_recv() {
            self.absorb(authenticator, event)?;
        }
        loop {
            if let Some(state) = self.pending.take() {
                return Ok(state);
            }
            match self.updates.recv().await {
                Some(event) => self.absorb(authenticator, event)?,
                // The subscription ends when the client is closed.
                None => return Err(AuthError::Closed),
            }
        }
    }

    fn absorb<A: Authenticator + ?Sized>(
        &mut self,
        authenticator: &mut A,
        event: Event<Update>,
    ) -> Result<(), AuthError> {
        match event {
            Event::Update(update) => match &**update.update() {
                Update::AuthorizationState(state) => {
                    let state = &state.authorization_state;
                    if self.last_state.as_ref() != Some(state) {
                        self.last_state = Some(state.clone());
                        self.pending = Some(state.clone());
                    }
                }
                Update::ConnectionState(state) => {
                    self.report(authenticator, state.state.clone());
                }
                _ => {}
            },
            Event::Failed(error) => return Err(AuthError::Client(error)),
            // A lossless subscription misses nothing.
            _ => {}
        }
        Ok(())
    }

    fn report<A: Authenticator + ?Sized>(&mut self, authenticator: &mut A, state: ConnectionState) {
        if self.last_connection.as_ref() != Some(&state) {
            authenticator.connection_state(&state);
            self.last_connection = Some(state);
        }
    }

    /// Sends an answer and waits for TDLib's verdict, reporting connection changes meanwhile
    /// and keeping authorization states for [`Flow::next_state`].
    async fn answer<A: Authenticator + ?Sized>(
        &mut self,
        authenticator: &mut A,
        request: Result<Body, Error>,
    ) -> Result<(), Refusal> {
        let client = self.client;
        let answer = async move {
            let text = client.round_trip(request?).await?;
            crate::answer::decode::<types::Ok>(&text)
        };
        let mut answer = std::pin::pin!(answer);
        loop {
            let next = std::future::poll_fn(|cx| {
                if let Poll::Ready(result) = answer.as_mut().poll(cx) {
                    return Poll::Ready(Ok(result));
                }
                match Pin::new(&mut self.updates).poll_next(cx) {
                    Poll::Ready(event) => Poll::Ready(Err(event)),
                    Poll::Pending => Poll::Pending,
                }
            })
            .await;
            match next {
                Ok(result) => return result.map(drop).map_err(Refusal),
                Err(Some(event)) => {
                    if let Err(AuthError::Client(error)) = self.absorb(authenticator, event) {
                        return Err(Refusal(error));
                    }
                }
                // Closed: the answer will say so.
                Err(None) => return answer.await.map(drop).map_err(Refusal),
            }
        }
    }
}
