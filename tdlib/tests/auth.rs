//! The authorization helper: against the real TDLib offline (up to the network step), and
//! against the scripted fake libtdjson for every path to `Ready`.
//!
//! A fake test runs twice: in this process it writes the fake's script and re-runs this test
//! binary for that one test with the fake in front of the real library on the loader path (the
//! same way a user's program would pick up another libtdjson); in that child it logs in. The
//! parent then checks the child's exit and the fake's request log.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tdlib::auth::{self, AuthError, AuthStep, Authenticator, Bot, Login, Registration};
use tdlib::enums::{AuthorizationState, ConnectionState};
use tdlib::{Client, Error, functions, types};
use tdlib_fake_harness::{Fake, in_child};

mod common;
use common::on_fake;

fn parameters(directory: &std::path::Path) -> functions::SetTdlibParameters {
    auth::parameters(
        94575,
        "0123456789abcdef0123456789abcdef",
        directory.display().to_string(),
    )
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tdlib-auth-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An authenticator that answers from lists and writes down every question it gets.
#[derive(Default)]
struct Scripted {
    parameters: functions::SetTdlibParameters,
    logins: VecDeque<Login>,
    codes: VecDeque<&'static str>,
    passwords: VecDeque<&'static str>,
    email_addresses: VecDeque<&'static str>,
    email_codes: VecDeque<&'static str>,
    names: VecDeque<Registration>,
    /// The questions, in order, with TDLib's refusal of the previous answer if any.
    asked: Arc<Mutex<Vec<String>>>,
}

impl Scripted {
    fn new(parameters: functions::SetTdlibParameters) -> Scripted {
        Scripted {
            parameters,
            ..Default::default()
        }
    }

    fn note(&self, question: &str, previous: Option<&Error>) {
        let entry = match previous {
            Some(error) => match error.message() {
                Some(message) => format!("{question} after {message}"),
                None => format!("{question} after {error}"),
            },
            None => question.to_owned(),
        };
        self.asked.lock().unwrap().push(entry);
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

/// `error` is TDLib's refusal (400, `message`) of `step`.
fn assert_refused(error: &AuthError, step: AuthStep, message: &str) {
    match error {
        AuthError::Refused {
            step: refused,
            error,
        } if *refused == step && error.code() == Some(400) && error.message() == Some(message) => {}
        other => panic!("expected {step:?} refused with {message}, got {other:?}"),
    }
}

fn next<T>(list: &mut VecDeque<T>, what: &str) -> Result<T, AuthError> {
    list.pop_front()
        .ok_or_else(|| AuthError::Cancelled(format!("no more {what} in the test")))
}

impl Authenticator for Scripted {
    async fn parameters(&mut self) -> Result<functions::SetTdlibParameters, AuthError> {
        self.note("parameters", None);
        Ok(self.parameters.clone())
    }

    async fn login(&mut self, previous: Option<&Error>) -> Result<Login, AuthError> {
        self.note("login", previous);
        next(&mut self.logins, "logins")
    }

    async fn code(
        &mut self,
        info: &types::AuthenticationCodeInfo,
        previous: Option<&Error>,
    ) -> Result<String, AuthError> {
        self.note(&format!("code for {}", info.phone_number), previous);
        next(&mut self.codes, "codes").map(str::to_owned)
    }

    async fn password(
        &mut self,
        state: &types::AuthorizationStateWaitPassword,
        previous: Option<&Error>,
    ) -> Result<String, AuthError> {
        self.note(
            &format!("password with hint {}", state.password_hint),
            previous,
        );
        next(&mut self.passwords, "passwords").map(str::to_owned)
    }

    async fn email_address(&mut self, previous: Option<&Error>) -> Result<String, AuthError> {
        self.note("email address", previous);
        next(&mut self.email_addresses, "e-mail addresses").map(str::to_owned)
    }

    async fn email_code(
        &mut self,
        info: &types::EmailAddressAuthenticationCodeInfo,
        previous: Option<&Error>,
    ) -> Result<String, AuthError> {
        self.note(
            &format!("email code for {}", info.email_address_pattern),
            previous,
        );
        next(&mut self.email_codes, "e-mail codes").map(str::to_owned)
    }

    async fn registration(
        &mut self,
        terms: &types::TermsOfService,
        previous: Option<&Error>,
    ) -> Result<Registration, AuthError> {
        let shown = if terms.text.text.is_empty() {
            "no terms"
        } else {
            "terms"
        };
        self.note(&format!("registration with {shown}"), previous);
        next(&mut self.names, "names")
    }

    async fn show_qr_link(&mut self, link: &str) {
        let scheme = link.split('=').next().unwrap_or_default();
        self.note(&format!("qr link {scheme}="), None);
    }

    fn connection_state(&mut self, state: &ConnectionState) {
        let name = format!("{state:?}");
        let name = name.split('(').next().unwrap_or_default();
        self.note(&format!("connection {name}"), None);
    }
}

// ---------------------------------------------------------------------------------------------
// The real TDLib, offline.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_tdlib_offline_reaches_the_login_question_and_reports_connecting() {
    if in_child() {
        return; // this test is about the real library
    }
    let directory = scratch("real-offline");
    let client = Client::new().unwrap();
    let mut authenticator = Scripted::new(parameters(&directory));
    authenticator
        .logins
        .push_back(Login::BotToken("123456:not-a-real-token".into()));
    // TDLib never fails a network-bound request offline: the bot token check just waits.
    let outcome = tokio::time::timeout(
        Duration::from_secs(3),
        auth::authorize(&client, &mut authenticator),
    )
    .await;
    assert!(outcome.is_err(), "no network, so no verdict: {outcome:?}");
    let asked = authenticator.asked();
    assert_eq!(asked[0], "parameters", "{asked:?}");
    assert!(asked.contains(&"login".to_owned()), "{asked:?}");
    assert!(
        asked.contains(&"connection Connecting".to_owned()),
        "the connection state is reported while the helper waits: {asked:?}"
    );
    assert!(
        !asked.iter().any(|entry| entry == "connection Ready"),
        "{asked:?}"
    );
    assert!(matches!(
        client.authorization_state(),
        Some(AuthorizationState::WaitPhoneNumber(_))
    ));
    assert!(matches!(
        client.connection_state(),
        Some(ConnectionState::Connecting(_))
    ));
    client.close().await.unwrap();
    let _ = std::fs::remove_dir_all(directory);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_tdlib_refused_parameters_end_the_login_with_a_typed_error() {
    if in_child() {
        return;
    }
    let directory = scratch("real-refused");
    let client = Client::new().unwrap();
    let mut refused = parameters(&directory);
    refused.api_id = 0;
    let error = auth::authorize(&client, &mut Bot::new(refused, "1:x"))
        .await
        .unwrap_err();
    match &error {
        AuthError::Refused {
            step: AuthStep::Parameters,
            error,
        } if error.code() == Some(400) => {
            assert!(error.message().unwrap().contains("api_id"), "{error}")
        }
        other => panic!("{other:?}"),
    }
    assert!(error.to_string().contains("TDLib parameters"), "{error}");
    client.close().await.unwrap();
    // After close the helper says so instead of waiting.
    let again = auth::authorize(&client, &mut Bot::new(parameters(&directory), "1:x")).await;
    assert!(matches!(again, Err(AuthError::Closed)), "{again:?}");
    let _ = std::fs::remove_dir_all(directory);
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let mut with_secrets = parameters(std::path::Path::new("db"));
    with_secrets.api_hash = "feedfacefeedfacefeedfacefeedface".into();
    let bot = Bot::new(with_secrets, "777000:SECRET-TOKEN");
    let shown = format!("{bot:?}");
    assert!(!shown.contains("SECRET-TOKEN"), "{shown}");
    assert!(!shown.contains("feedface"), "{shown}");
    let login = format!("{:?}", Login::PhoneNumber("+15550001234".into()));
    assert!(!login.contains("5550001234"), "{login}");
}

// ---------------------------------------------------------------------------------------------
// The fake libtdjson. Each test body runs in the child; the parent checks the request log.

/// The request types the fake received from clients, in order (without the logging setup
/// and version checks that `td_execute` handles).
fn client_requests(fake: &Fake) -> Vec<String> {
    fake.requests()
        .iter()
        .filter(|logged| logged.client_id != 0)
        .map(|logged| logged.request_type().to_owned())
        .filter(|name| name != "getOption")
        .collect()
}

/// The fake keeps nothing on disk; the name only has to be valid.
fn child_directory() -> String {
    "fake-db".into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fake_bot_token_reaches_ready() {
    let script = json!({"login": {"bot_token": "4242:good-token"}, "me": {"id": 4242, "first_name": "Echo"}});
    if let Some(fake) = on_fake("fake_bot_token_reaches_ready", script) {
        assert_eq!(
            client_requests(&fake),
            [
                "setTdlibParameters",
                "checkAuthenticationBotToken",
                "getMe",
                "close"
            ]
        );
        return;
    }
    let client = Client::new().unwrap();
    let parameters = parameters(std::path::Path::new(&child_directory()));
    auth::authorize(&client, &mut Bot::new(parameters, "4242:good-token"))
        .await
        .unwrap();
    assert!(matches!(
        client.authorization_state(),
        Some(AuthorizationState::Ready(_))
    ));
    let me = client.send(functions::GetMe {}).await.unwrap();
    assert_eq!((me.id, me.first_name.as_str()), (4242, "Echo"));
    // Already ready: returns at once.
    auth::authorize(&client, &mut Bot::new(Default::default(), "unused"))
        .await
        .unwrap();
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fake_bad_bot_token_is_a_typed_error() {
    let script = json!({"login": {"bot_token": "4242:good-token"}});
    if let Some(fake) = on_fake("fake_bad_bot_token_is_a_typed_error", script) {
        assert_eq!(
            client_requests(&fake),
            ["setTdlibParameters", "checkAuthenticationBotToken", "close"]
        );
        return;
    }
    let client = Client::new().unwrap();
    let parameters = parameters(std::path::Path::new(&child_directory()));
    let error = auth::authorize(&client, &mut Bot::new(parameters, "4242:wrong"))
        .await
        .unwrap_err();
    assert_refused(&error, AuthStep::BotToken, "ACCESS_TOKEN_INVALID");
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fake_phone_code_wrong_code_and_password_reach_ready() {
    let script = json!({
        "login": {"phone_number": "+15550001234", "code": "24680",
                  "password": "correct horse", "password_hint": "battery"}
    });
    if let Some(fake) = on_fake(
        "fake_phone_code_wrong_code_and_password_reach_ready",
        script,
    ) {
        assert_eq!(
            client_requests(&fake),
            [
                "setTdlibParameters",
                "setAuthenticationPhoneNumber",
                "setAuthenticationPhoneNumber",
                "checkAuthenticationCode",
                "checkAuthenticationCode",
                "checkAuthenticationPassword",
                "checkAuthenticationPassword",
                "close"
            ]
        );
        return;
    }
    let client = Client::new().unwrap();
    let mut authenticator = Scripted::new(parameters(std::path::Path::new(&child_directory())));
    authenticator.logins.extend([
        Login::PhoneNumber("+15559999999".into()),
        Login::PhoneNumber("+15550001234".into()),
    ]);
    authenticator.codes.extend(["13579", "24680"]);
    authenticator
        .passwords
        .extend(["incorrect horse", "correct horse"]);
    auth::authorize(&client, &mut authenticator).await.unwrap();
    let asked: Vec<String> = authenticator
        .asked()
        .into_iter()
        .filter(|entry| !entry.starts_with("connection"))
        .collect();
    assert_eq!(
        asked,
        [
            "parameters",
            "login",
            "login after PHONE_NUMBER_INVALID",
            "code for +15550001234",
            "code for +15550001234 after PHONE_CODE_INVALID",
            "password with hint battery",
            "password with hint battery after PASSWORD_HASH_INVALID",
        ]
    );
    assert!(
        authenticator
            .asked()
            .contains(&"connection Ready".to_owned()),
        "{:?}",
        authenticator.asked()
    );
    client.close().await.unwrap();
}

/// A refused answer while TDLib has moved on (the code came too late, and TDLib went back to
/// the phone number): the helper follows TDLib's newest state, and does not ask for a code
/// TDLib no longer wants.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fake_a_refusal_with_a_new_state_follows_the_new_state() {
    let script = json!({
        "login": {"phone_number": "+15550001234", "code": "24680", "expired_code": "11111"}
    });
    if let Some(fake) = on_fake(
        "fake_a_refusal_with_a_new_state_follows_the_new_state",
        script,
    ) {
        assert_eq!(
            client_requests(&fake),
            [
                "setTdlibParameters",
                "setAuthenticationPhoneNumber",
                "checkAuthenticationCode",
                "setAuthenticationPhoneNumber",
                "checkAuthenticationCode",
                "close"
            ]
        );
        return;
    }
    let client = Client::new().unwrap();
    let mut authenticator = Scripted::new(parameters(std::path::Path::new(&child_directory())));
    authenticator.logins.extend([
        Login::PhoneNumber("+15550001234".into()),
        Login::PhoneNumber("+15550001234".into()),
    ]);
    authenticator.codes.extend(["11111", "24680"]);
    auth::authorize(&client, &mut authenticator).await.unwrap();
    let asked: Vec<String> = authenticator
        .asked()
        .into_iter()
        .filter(|entry| !entry.starts_with("connection"))
        .collect();
    assert_eq!(
        asked,
        [
            "parameters",
            "login",
            "code for +15550001234",
            // Not "code ... after PHONE_CODE_EXPIRED": TDLib asks for the phone number again.
            "login",
            "code for +15550001234",
        ]
    );
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fake_wrong_codes_give_up_after_max_attempts() {
    let script = json!({"login": {"phone_number": "+15550001234", "code": "24680"}});
    if let Some(fake) = on_fake("fake_wrong_codes_give_up_after_max_attempts", script) {
        let codes = client_requests(&fake)
            .iter()
            .filter(|name| *name == "checkAuthenticationCode")
            .count();
        assert_eq!(codes, auth::MAX_ATTEMPTS as usize);
        return;
    }
    let client = Client::new().unwrap();
    let mut authenticator = Scripted::new(parameters(std::path::Path::new(&child_directory())));
    authenticator
        .logins
        .push_back(Login::PhoneNumber("+15550001234".into()));
    authenticator.codes.extend(["1", "2", "3", "4", "5", "6"]);
    let error = auth::authorize(&client, &mut authenticator)
        .await
        .unwrap_err();
    assert_refused(&error, AuthStep::Code, "PHONE_CODE_INVALID");
    assert_eq!(authenticator.codes, ["6"], "the sixth code is never asked");
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fake_registration_reaches_ready() {
    let script =
        json!({"login": {"phone_number": "+15550001234", "code": "24680", "register": true}});
    if let Some(fake) = on_fake("fake_registration_reaches_ready", script) {
        let requests = fake.requests();
        let registrations: Vec<_> = requests
            .iter()
            .filter(|logged| logged.request_type() == "registerUser")
            .collect();
        assert_eq!(registrations.len(), 2, "{registrations:#?}");
        assert_eq!(registrations[0].request["first_name"], "");
        assert_eq!(registrations[0].answer["message"], "FIRSTNAME_INVALID");
        assert_eq!(registrations[1].request["first_name"], "Ada");
        assert_eq!(registrations[1].request["last_name"], "Lovelace");
        assert_eq!(registrations[1].answer["@type"], "ok");
        return;
    }
    let client = Client::new().unwrap();
    let mut authenticator = Scripted::new(parameters(std::path::Path::new(&child_directory())));
    authenticator
        .logins
        .push_back(Login::PhoneNumber("+15550001234".into()));
    authenticator.codes.push_back("24680");
    authenticator.names.extend([
        Registration::default(),
        Registration {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
        },
    ]);
    auth::authorize(&client, &mut authenticator).await.unwrap();
    let asked = authenticator.asked();
    assert!(
        asked.contains(&"registration with terms".to_owned())
            && asked.contains(&"registration with terms after FIRSTNAME_INVALID".to_owned()),
        "{asked:?}"
    );
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fake_qr_code_reaches_ready() {
    let script = json!({"login": {"qr": true, "qr_confirm_ms": 50}});
    if let Some(fake) = on_fake("fake_qr_code_reaches_ready", script) {
        assert_eq!(
            client_requests(&fake),
            ["setTdlibParameters", "requestQrCodeAuthentication", "close"]
        );
        return;
    }
    let client = Client::new().unwrap();
    let mut authenticator = Scripted::new(parameters(std::path::Path::new(&child_directory())));
    authenticator.logins.push_back(Login::QrCode);
    auth::authorize(&client, &mut authenticator).await.unwrap();
    assert!(
        authenticator
            .asked()
            .contains(&"qr link tg://login?token=".to_owned()),
        "{:?}",
        authenticator.asked()
    );
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fake_email_address_and_code_reach_ready() {
    let script = json!({"login": {"phone_number": "+15550001234", "code": "24680",
                                  "email_address": "ada@example.org", "email_code": "777"}});
    if on_fake("fake_email_address_and_code_reach_ready", script).is_some() {
        return;
    }
    let client = Client::new().unwrap();
    let mut authenticator = Scripted::new(parameters(std::path::Path::new(&child_directory())));
    authenticator
        .logins
        .push_back(Login::PhoneNumber("+15550001234".into()));
    authenticator.email_addresses.push_back("ada@example.org");
    authenticator.email_codes.extend(["000", "777"]);
    authenticator.codes.push_back("24680");
    auth::authorize(&client, &mut authenticator).await.unwrap();
    let asked = authenticator.asked();
    assert!(
        asked
            .iter()
            .any(|entry| entry.starts_with("email code for"))
            && asked
                .iter()
                .any(|entry| entry.ends_with("after EMAIL_CODE_INVALID")),
        "{asked:?}"
    );
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fake_authenticator_without_an_answer_is_cancelled() {
    let script = json!({"login": {"phone_number": "+15550001234", "code": "24680"}});
    if on_fake("fake_authenticator_without_an_answer_is_cancelled", script).is_some() {
        return;
    }
    let client = Client::new().unwrap();
    // A bot authenticator is asked for a code: it has none.
    let mut authenticator = Scripted::new(parameters(std::path::Path::new(&child_directory())));
    authenticator
        .logins
        .push_back(Login::PhoneNumber("+15550001234".into()));
    let error = auth::authorize(&client, &mut authenticator)
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::Cancelled(_)), "{error:?}");
    client.close().await.unwrap();
}
