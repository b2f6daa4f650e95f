//! Unit tests of the fake's parts, called as Rust functions (the C ABI is exercised end to end
//! by the harness crate's tests).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::engine::{Engine, GLOBAL_QUEUE, Request};
use crate::log::RequestLog;
use crate::queue::Queue;
use crate::schema::schema;
use crate::script;
use crate::state::{Client, Sink};
use crate::write;

/// The error message of a request that does not fit the schema.
fn rejected(request: Value) -> String {
    match schema().check_request(&request) {
        Ok(_) => panic!("accepted: {request}"),
        Err(message) => message,
    }
}

fn accepted(request: Value) -> Value {
    match schema().check_request(&request) {
        Ok((_, normalized)) => normalized,
        Err(message) => panic!("rejected: {request}: {message}"),
    }
}

const PREFIX: &str = "Failed to parse JSON object as TDLib request: ";

fn text_message(chat_id: i64, text: &str) -> Value {
    json!({
        "@type": "sendMessage",
        "chat_id": chat_id,
        "input_message_content": {
            "@type": "inputMessageText",
            "text": {"@type": "formattedText", "text": text, "entities": []},
            "clear_draft": false,
        },
    })
}

#[test]
fn unknown_and_missing_types_are_rejected() {
    assert_eq!(
        rejected(json!({"@type": "noSuchMethod"})),
        format!("{PREFIX}Unknown class \"noSuchMethod\"")
    );
    // A constructor is not a function.
    assert_eq!(
        rejected(json!({"@type": "ok"})),
        format!("{PREFIX}Unknown class \"ok\"")
    );
    assert_eq!(
        rejected(json!({"x": 1})),
        format!("{PREFIX}Can't find field \"@type\"")
    );
    assert_eq!(
        rejected(json!({"@type": true})),
        format!("{PREFIX}Expected String or Integer, but receive Boolean")
    );
    assert_eq!(rejected(json!([1])), "Expected a JSON object");
}

#[test]
fn missing_parameters_are_rejected_unless_nullable() {
    assert_eq!(
        rejected(json!({"@type": "getChat"})),
        format!("{PREFIX}Can't find field \"chat_id\"")
    );
    // Scalars and vectors must be given too (TDLib would take defaults).
    let mut request = text_message(1, "hi");
    request["input_message_content"]["text"]
        .as_object_mut()
        .unwrap()
        .remove("entities");
    assert_eq!(
        rejected(request),
        format!("{PREFIX}Can't find field \"entities\"")
    );
    // topic_id, reply_to, options, reply_markup and link_preview_options are nullable.
    let normalized = accepted(text_message(1, "hi"));
    assert!(normalized.get("reply_to").is_none());
    // Unknown keys are ignored, like TDLib does, and dropped.
    let mut request = text_message(1, "hi");
    request["no_such_field"] = json!(5);
    assert!(accepted(request).get("no_such_field").is_none());
}

#[test]
fn null_is_only_for_nullable_objects() {
    let mut request = text_message(1, "hi");
    request["reply_to"] = Value::Null;
    accepted(request);
    let mut request = text_message(1, "hi");
    request["input_message_content"] = Value::Null;
    assert_eq!(
        rejected(request),
        format!("{PREFIX}Field \"input_message_content\" must not be null")
    );
    assert_eq!(
        rejected(json!({"@type": "getChat", "chat_id": null})),
        format!("{PREFIX}Expected String or Number, but receive Null")
    );
    assert_eq!(
        rejected(json!({"@type": "testCallVectorInt", "x": [1, null]})),
        format!("{PREFIX}Expected Number, but receive Null")
    );
}

#[test]
fn wrong_kinds_get_tdlib_messages() {
    let square = |x: Value| json!({"@type": "testSquareInt", "x": x});
    assert_eq!(
        rejected(square(json!(true))),
        format!("{PREFIX}Expected Number, but receive Boolean")
    );
    assert_eq!(
        rejected(square(json!([1]))),
        format!("{PREFIX}Expected Number, but receive Array")
    );
    assert_eq!(
        rejected(square(json!(1.5))),
        format!("{PREFIX}Can't parse as an integer string \"1.5\"")
    );
    assert_eq!(
        rejected(square(json!("12a"))),
        format!("{PREFIX}Can't parse as an integer string \"12a\"")
    );
    assert_eq!(
        rejected(square(json!("007"))),
        format!("{PREFIX}Can't parse as an integer string \"007\"")
    );
    assert_eq!(
        rejected(square(json!(3_000_000_000_i64))),
        format!("{PREFIX}Can't parse as an integer string \"3000000000\"")
    );
    assert_eq!(accepted(square(json!("-12")))["x"], json!(-12));
    assert_eq!(
        rejected(json!({"@type": "getChat", "chat_id": true})),
        format!("{PREFIX}Expected String or Number, but receive Boolean")
    );
    // int53 and int64 accept decimal strings and come out as numbers.
    assert_eq!(
        accepted(json!({"@type": "getChat", "chat_id": "-100123"}))["chat_id"],
        json!(-100123)
    );
    assert_eq!(
        rejected(json!({"@type": "testCallString", "x": 5})),
        format!("{PREFIX}Expected String, but receive Number")
    );
    assert_eq!(
        rejected(json!({"@type": "setAlarm", "seconds": "1.5"})),
        format!("{PREFIX}Expected Number, but receive String")
    );
    assert_eq!(
        rejected(json!({"@type": "testCallVectorInt", "x": 5})),
        format!("{PREFIX}Expected Array, but receive Number")
    );
    assert_eq!(
        rejected(json!({"@type": "testCallVectorIntObject", "x": [5]})),
        format!("{PREFIX}Expected Object, but receive Number")
    );
    let mut request = text_message(1, "hi");
    request["input_message_content"]["clear_draft"] = json!("true");
    assert_eq!(
        rejected(request),
        format!("{PREFIX}Expected Boolean, but receive String")
    );
}

#[test]
fn abstract_objects_need_a_constructor_of_their_class() {
    let mut request = text_message(1, "hi");
    request["input_message_content"] = json!({"@type": "testInt", "value": 1});
    assert_eq!(
        rejected(request),
        format!("{PREFIX}Unknown class \"testInt\"")
    );
    let mut request = text_message(1, "hi");
    request["input_message_content"]
        .as_object_mut()
        .unwrap()
        .remove("@type");
    assert_eq!(
        rejected(request),
        format!("{PREFIX}Can't find field \"@type\"")
    );
    // The @type of a single-constructor object may be left out, but must not be wrong.
    let mut request = text_message(1, "hi");
    request["input_message_content"]["text"]
        .as_object_mut()
        .unwrap()
        .remove("@type");
    accepted(request);
    let mut request = text_message(1, "hi");
    request["input_message_content"]["text"]["@type"] = json!("bogus");
    assert!(rejected(request).contains("\"formattedText\""));
}

#[test]
fn bytes_are_padded_standard_base64() {
    let bytes = |x: &str| json!({"@type": "testCallBytes", "x": x});
    accepted(bytes("aGVsbG8="));
    accepted(bytes(""));
    accepted(bytes("a+/="));
    assert_eq!(
        rejected(bytes("aGVsbG8")),
        format!("{PREFIX}Wrong padding length")
    );
    assert_eq!(
        rejected(bytes("a$b=")),
        format!("{PREFIX}Wrong character in the string")
    );
    assert_eq!(
        rejected(bytes("-_-_")),
        format!("{PREFIX}Wrong character in the string")
    );
}

#[test]
fn completion_fills_defaults_and_nested_objects() {
    let user = schema()
        .complete(
            &json!({"id": 5, "first_name": "A", "status": {"@type": "userStatusEmpty"}, "type": {"@type": "userTypeRegular"}}),
            "user",
            "me",
        )
        .unwrap();
    assert_eq!(user["@type"], "user");
    assert_eq!(user["last_name"], "");
    assert_eq!(user["is_contact"], false);
    assert_eq!(user["background_custom_emoji_id"], 0);
    assert_eq!(user["accent_color_id"], 0);
    // Nullable objects are left out.
    assert!(user.get("profile_photo").is_none());
    assert!(user.get("usernames").is_none());

    let chat = schema()
        .complete(
            &json!({
                "id": 7,
                "type": {"@type": "chatTypePrivate", "user_id": 7},
                "available_reactions": {"@type": "chatAvailableReactionsAll"},
            }),
            "chat",
            "chats[0]",
        )
        .unwrap();
    // Missing single-constructor objects are built with their @type, recursively.
    assert_eq!(chat["permissions"]["@type"], "chatPermissions");
    assert_eq!(chat["permissions"]["can_send_basic_messages"], false);
    assert_eq!(
        chat["notification_settings"]["@type"],
        "chatNotificationSettings"
    );
    assert_eq!(chat["video_chat"]["@type"], "videoChat");
    assert_eq!(chat["positions"], json!([]));
    assert_eq!(chat["available_reactions"]["max_reaction_count"], 0);
    assert!(chat.get("last_message").is_none());
}

#[test]
fn script_errors_name_the_path() {
    let update = json!({
        "@type": "updateNewMessage",
        "message": {"id": 1, "chat_id": 7, "content": {"@type": "messageText", "text": {"text": "x"}}},
    });
    let script = json!({"conversation": [{"sleep_ms": 1}, {"sleep_ms": 1}, {"sleep_ms": 1}, {"update": update}]});
    let error = script::load(&script, schema()).unwrap_err();
    assert!(
        error.starts_with("conversation[3].update.message.sender_id: "),
        "{error}"
    );

    let error = script::load(&json!({"chats": [{"id": 1, "available_reactions": {"@type": "chatAvailableReactionsAll"}}]}), schema())
        .unwrap_err();
    assert!(error.starts_with("chats[0].type: "), "{error}");
    let error = script::load(&json!({"me": {"frist_name": "typo"}}), schema()).unwrap_err();
    assert!(error.starts_with("me.frist_name: "), "{error}");
    let error = script::load(&json!({"logn": {}}), schema()).unwrap_err();
    assert!(error.contains("unknown key \"logn\""), "{error}");
    let error = script::load(
        &json!({"conversation": [{"wait_for": {"request": "sendMesage"}}]}),
        schema(),
    )
    .unwrap_err();
    assert!(error.contains("not a function"), "{error}");
    let error = script::load(
        &json!({"conversation": [{"update": {"@type": "message"}}]}),
        schema(),
    )
    .unwrap_err();
    assert!(error.contains("Unknown class \"message\""), "{error}");
}

#[test]
fn output_is_shaped_like_tdlib() {
    let update = schema()
        .complete(
            &json!({"@type": "updateOption", "name": "x", "value": {"@type": "optionValueInteger", "value": "123"}}),
            "Update",
            "",
        )
        .unwrap();
    assert_eq!(
        write::object(schema(), &update),
        r#"{"@type":"updateOption","name":"x","value":{"@type":"optionValueInteger","value":"123"}}"#
    );
    let body = write::object(
        schema(),
        &json!({"@type": "testString", "value": "h\u{e9}llo \u{1F600} \n\"q\" / \u{1}"}),
    );
    assert_eq!(
        body,
        r#"{"@type":"testString","value":"h\u00e9llo \ud83d\ude00 \n\"q\" / \u0001"}"#
    );
    assert_eq!(
        write::envelope(&body, Some("{\"a\":1}"), 3),
        format!(
            "{}{}",
            body.strip_suffix('}').unwrap(),
            ",\"@extra\":{\"a\":1},\"@client_id\":3}\0"
        )
    );
    assert_eq!(
        write::envelope(r#"{"@type":"ok"}"#, None, 0),
        "{\"@type\":\"ok\"}\0"
    );
    // Fields in schema order, whatever the map order; doubles with six decimals.
    let state = schema()
        .complete(
            &json!({"retry_after": 1.5, "error": {"message": "m", "code": 429}, "@type": "messageSendingStateFailed"}),
            "MessageSendingState",
            "",
        )
        .unwrap();
    assert_eq!(
        write::object(schema(), &state),
        r#"{"@type":"messageSendingStateFailed","error":{"@type":"error","code":429,"message":"m"},"can_retry":false,"need_another_sender":false,"need_another_reply_quote":false,"need_drop_reply":false,"required_paid_message_star_count":0,"retry_after":1.500000}"#
    );
}

#[test]
fn extra_is_echoed_as_written() {
    let request = Request::parse(
        r#"{"@type":"testCallEmpty","@extra":[1, "a" ,{"b" : [ ]}, 1.50, "caf\u00e9 é"]}"#,
    );
    assert_eq!(
        request.extra.as_deref(),
        Some(r#"[1,"a",{"b":[]},1.50,"caf\u00e9 \u00e9"]"#)
    );
    let request = Request::parse(r#"{ "x" : {"@extra": 1}, "@extra" : 12345678901234567890123 }"#);
    assert_eq!(request.extra.as_deref(), Some("12345678901234567890123"));
    let request = Request::parse(r#"{"@type":"testCallEmpty"}"#);
    assert_eq!(request.extra, None);
    let request = Request::parse("");
    assert_eq!(
        request.parsed.unwrap_err(),
        "Failed to parse request as JSON object: Unexpected string end"
    );
    let request = Request::parse(r#"{"@type":"testCallEmpty"} trailing"#);
    assert_eq!(
        request.parsed.unwrap_err(),
        "Failed to parse request as JSON object: Expected string end"
    );
}

#[test]
fn requests_nested_deeper_than_tdlib_allows_lose_their_extra_as_in_tdlib() {
    // Levels as TDLib 1.8.65 counts them: the request object is 1; a scalar counts too.
    let with_junk =
        |junk: String| format!(r#"{{"@extra":12345,"@type":"testSquareInt","x":3,"junk":{junk}}}"#);
    let arrays =
        |count: usize, inner: &str| format!("{}{inner}{}", "[".repeat(count), "]".repeat(count));
    // 99 arrays around a number: the number is at level 101.
    let text = with_junk(arrays(99, "1"));
    let fits = Request::parse(&text);
    assert!(fits.parsed.is_ok());
    assert_eq!(fits.extra.as_deref(), Some("12345"));
    // 100 empty arrays: the innermost is at level 101.
    assert!(Request::parse(&with_junk(arrays(100, ""))).parsed.is_ok());
    for too_deep in [arrays(100, "1"), arrays(101, ""), arrays(100_000, "")] {
        let text = with_junk(too_deep);
        let request = Request::parse(&text);
        assert_eq!(
            request.parsed.unwrap_err(),
            "Failed to parse request as JSON object: Too big object depth"
        );
        assert_eq!(request.extra, None, "TDLib answers without @extra");
    }
    let in_a_string = with_junk(format!("\"{}\"", "[".repeat(1000)));
    assert!(
        Request::parse(&in_a_string).parsed.is_ok(),
        "brackets in strings do not count"
    );
}

/// A client with its own queue, driven like a program would.
struct TestClient {
    client: Arc<Client>,
}

impl TestClient {
    fn new(script: Value) -> TestClient {
        TestClient::with_log(script, None)
    }

    fn with_log(script: Value, log: Option<RequestLog>) -> TestClient {
        let script = script::load(&script, schema()).expect("valid script");
        TestClient {
            client: Client::new(
                1,
                Arc::new(script),
                log.map(Arc::new),
                Sink::Own(Queue::new()),
                true,
            ),
        }
    }

    fn queue(&self) -> &Queue {
        self.client.own_queue().unwrap()
    }

    /// Sends a request and returns everything emitted until now.
    fn exchange(&self, request: Value) -> Vec<Value> {
        self.send(request);
        self.drain()
    }

    /// Sends a request (with `@extra` "t"); its outputs are taken with [`TestClient::next`],
    /// for requests followed by output of background threads.
    fn send(&self, request: Value) {
        let mut request = request;
        request["@extra"] = json!("t");
        self.client.handle(&Request::parse(&request.to_string()));
    }

    /// The next `count` outputs, waiting for them.
    fn take(&self, count: usize) -> Vec<Value> {
        (0..count).map(|_| self.next()).collect()
    }

    fn drain(&self) -> Vec<Value> {
        std::iter::from_fn(|| self.queue().pop(Duration::ZERO))
            .map(|text| serde_json::from_str(text.json()).unwrap())
            .collect()
    }

    /// The next output, waiting for it.
    fn next(&self) -> Value {
        serde_json::from_str(&self.next_text()).unwrap()
    }

    /// The next output as written, waiting for it.
    fn next_text(&self) -> String {
        let text = self.queue().pop(Duration::from_secs(5)).expect("an output");
        text.json().to_owned()
    }

    /// Sends a request and returns its answer, checking that nothing else was emitted.
    fn answer(&self, request: Value) -> Value {
        let mut outputs = self.exchange(request);
        assert_eq!(outputs.len(), 1, "{outputs:?}");
        let answer = outputs.remove(0);
        assert_eq!(answer["@extra"], "t");
        answer
    }

    fn error(&self, request: Value) -> (i64, String) {
        let answer = self.answer(request);
        assert_eq!(answer["@type"], "error", "{answer}");
        (
            answer["code"].as_i64().unwrap(),
            answer["message"].as_str().unwrap().to_owned(),
        )
    }

    fn start(&self) {
        self.start_with(tdlib_parameters());
    }

    fn start_with(&self, parameters: Value) {
        let outputs = self.exchange(json!({"@type": "getOption", "name": "version"}));
        assert_eq!(outputs.len(), 4, "{outputs:?}");
        let outputs = self.exchange(parameters);
        assert_eq!(outputs.len(), 3, "{outputs:?}");
    }

    fn log_in_as_bot(&self) {
        self.start();
        self.check_bot_token();
    }

    /// Logs in as a bot, with downloads going into `directory`.
    fn log_in_with_files_in(&self, directory: &TempDir) {
        let mut parameters = tdlib_parameters();
        parameters["files_directory"] = json!(directory.0.to_str().unwrap());
        self.start_with(parameters);
        self.check_bot_token();
    }

    fn check_bot_token(&self) {
        // The conversation may start right after the answer: take exactly four outputs.
        let request =
            json!({"@type": "checkAuthenticationBotToken", "token": script::DEFAULT_BOT_TOKEN});
        self.client.handle(&Request::parse(&request.to_string()));
        let outputs: Vec<Value> = (0..4).map(|_| self.next()).collect();
        assert_eq!(
            types(&outputs),
            [
                "updateUser",
                "updateOption",
                "updateAuthorizationState",
                "ok"
            ]
        );
    }
}

fn tdlib_parameters() -> Value {
    json!({
        "@type": "setTdlibParameters",
        "use_test_dc": false,
        "database_directory": "db",
        "files_directory": "",
        "database_encryption_key": "",
        "use_file_database": false,
        "use_chat_info_database": false,
        "use_message_database": false,
        "use_secret_chats": false,
        "api_id": 94575,
        "api_hash": "0123456789abcdef0123456789abcdef",
        "system_language_code": "en",
        "device_model": "test",
        "system_version": "",
        "application_version": "0.1",
    })
}

fn types(outputs: &[Value]) -> Vec<&str> {
    outputs
        .iter()
        .map(|output| output["@type"].as_str().unwrap_or_default())
        .collect()
}

fn auth_state(output: &Value) -> &str {
    assert_eq!(output["@type"], "updateAuthorizationState", "{output}");
    output["authorization_state"]["@type"].as_str().unwrap()
}

#[test]
fn bot_login_and_close() {
    let fake = TestClient::new(json!({}));
    let outputs = fake.exchange(json!({"@type": "getOption", "name": "version"}));
    assert_eq!(outputs[0]["name"], "version");
    assert_eq!(outputs[0]["value"]["value"], crate::engine::VERSION);
    assert_eq!(outputs[1]["name"], "commit_hash");
    assert_eq!(outputs[1]["value"]["value"], crate::engine::COMMIT);
    assert_eq!(
        auth_state(&outputs[2]),
        "authorizationStateWaitTdlibParameters"
    );
    assert_eq!(outputs[3]["@type"], "optionValueString");
    assert_eq!(outputs[3]["@client_id"], 1);
    assert_eq!(outputs[3]["@extra"], "t");

    assert_eq!(
        fake.error(json!({"@type": "getMe"})),
        (
            400,
            "Initialization parameters are needed: call setTdlibParameters first".to_owned()
        )
    );
    assert_eq!(
        fake.answer(json!({"@type": "testSquareInt", "x": 65536}))["value"],
        0
    );
    assert_eq!(
        fake.answer(json!({"@type": "getOption", "name": "fake_tdlib"}))["value"],
        true
    );
    let mut parameters = tdlib_parameters();
    parameters["api_id"] = json!(0);
    assert_eq!(
        fake.error(parameters),
        (
            400,
            "Valid api_id must be provided. Can be obtained at https://my.telegram.org".to_owned()
        )
    );
    let mut parameters = tdlib_parameters();
    parameters["device_model"] = json!("");
    assert_eq!(
        fake.error(parameters),
        (400, "Device model must be non-empty".to_owned())
    );

    let outputs = fake.exchange(tdlib_parameters());
    assert_eq!(auth_state(&outputs[0]), "authorizationStateWaitPhoneNumber");
    assert_eq!(outputs[1]["@type"], "ok");
    assert_eq!(outputs[2]["state"]["@type"], "connectionStateReady");
    assert_eq!(
        fake.error(tdlib_parameters()),
        (400, "Unexpected setTdlibParameters".to_owned())
    );
    assert_eq!(
        fake.error(json!({"@type": "getMe"})),
        (401, "Unauthorized".to_owned())
    );
    assert_eq!(
        fake.answer(json!({"@type": "getOption", "name": "my_id"}))["@type"],
        "optionValueEmpty"
    );
    assert_eq!(
        fake.error(json!({"@type": "checkAuthenticationBotToken", "token": "nope"})),
        (400, "ACCESS_TOKEN_INVALID".to_owned())
    );
    assert_eq!(
        fake.error(json!({"@type": "checkAuthenticationCode", "code": "1"})),
        (400, "Call to checkAuthenticationCode unexpected".to_owned())
    );

    let outputs = fake
        .exchange(json!({"@type": "checkAuthenticationBotToken", "token": "123456:fake-token"}));
    assert_eq!(
        types(&outputs),
        [
            "updateUser",
            "updateOption",
            "updateAuthorizationState",
            "ok"
        ]
    );
    assert_eq!(outputs[0]["user"]["id"], 1000001);
    assert_eq!(outputs[0]["user"]["type"]["@type"], "userTypeBot");
    assert_eq!(outputs[1]["value"]["value"], "1000001");
    assert_eq!(auth_state(&outputs[2]), "authorizationStateReady");
    assert_eq!(
        fake.answer(json!({"@type": "getMe"}))["usernames"]["active_usernames"],
        json!(["fake_bot"])
    );
    assert_eq!(
        fake.answer(json!({"@type": "getOption", "name": "my_id"}))["value"],
        "1000001"
    );
    assert_eq!(
        fake.error(json!({"@type": "getChat", "chat_id": 5})),
        (400, "Chat not found".to_owned())
    );
    assert_eq!(
        fake.error(json!({"@type": "searchPublicChat", "username": "x"})),
        (
            400,
            "fake TDLib: searchPublicChat is not implemented".to_owned()
        )
    );

    let outputs = fake.exchange(json!({"@type": "close"}));
    assert_eq!(outputs[0]["@type"], "ok");
    assert_eq!(auth_state(&outputs[1]), "authorizationStateClosing");
    assert_eq!(auth_state(&outputs[2]), "authorizationStateClosed");
    assert_eq!(
        fake.error(json!({"@type": "getMe"})),
        (500, "Request aborted".to_owned())
    );
}

#[test]
fn phone_login_with_wrong_code_and_password() {
    let fake = TestClient::new(json!({
        "login": {"phone_number": "+1 555 000 1234", "code": "22222", "password": "secret", "password_hint": "pet"},
    }));
    fake.start();
    assert_eq!(
        fake.error(
            json!({"@type": "setAuthenticationPhoneNumber", "phone_number": "+15550009999"})
        ),
        (400, "PHONE_NUMBER_INVALID".to_owned())
    );
    let outputs = fake
        .exchange(json!({"@type": "setAuthenticationPhoneNumber", "phone_number": "+15550001234"}));
    assert_eq!(auth_state(&outputs[0]), "authorizationStateWaitCode");
    let code_info = &outputs[0]["authorization_state"]["code_info"];
    assert_eq!(
        code_info["type"],
        json!({"@type": "authenticationCodeTypeSms", "length": 5})
    );
    assert_eq!(code_info["timeout"], 60);
    assert_eq!(outputs[1]["@type"], "ok");
    // A wrong code changes nothing and announces nothing.
    assert_eq!(
        fake.error(json!({"@type": "checkAuthenticationCode", "code": "11111"})),
        (400, "PHONE_CODE_INVALID".to_owned())
    );
    let outputs = fake.exchange(json!({"@type": "checkAuthenticationCode", "code": "22222"}));
    assert_eq!(auth_state(&outputs[0]), "authorizationStateWaitPassword");
    assert_eq!(outputs[0]["authorization_state"]["password_hint"], "pet");
    assert_eq!(
        fake.error(json!({"@type": "checkAuthenticationPassword", "password": "guess"})),
        (400, "PASSWORD_HASH_INVALID".to_owned())
    );
    let outputs =
        fake.exchange(json!({"@type": "checkAuthenticationPassword", "password": "secret"}));
    assert_eq!(
        types(&outputs),
        [
            "updateUser",
            "updateOption",
            "updateAuthorizationState",
            "ok"
        ]
    );
    assert_eq!(auth_state(&outputs[2]), "authorizationStateReady");
}

#[test]
fn email_then_registration() {
    let fake = TestClient::new(json!({
        "login": {"phone_number": "+15550001234", "email_address": "alice@example.com", "email_code": "777", "register": true},
    }));
    fake.start();
    let outputs = fake
        .exchange(json!({"@type": "setAuthenticationPhoneNumber", "phone_number": "+15550001234"}));
    assert_eq!(
        auth_state(&outputs[0]),
        "authorizationStateWaitEmailAddress"
    );
    assert_eq!(
        fake.error(
            json!({"@type": "setAuthenticationEmailAddress", "email_address": "bob@example.com"})
        ),
        (400, "EMAIL_ADDRESS_INVALID".to_owned())
    );
    let outputs = fake.exchange(
        json!({"@type": "setAuthenticationEmailAddress", "email_address": "alice@example.com"}),
    );
    assert_eq!(auth_state(&outputs[0]), "authorizationStateWaitEmailCode");
    assert_eq!(
        outputs[0]["authorization_state"]["code_info"],
        json!({"@type": "emailAddressAuthenticationCodeInfo", "email_address_pattern": "a***@example.com", "length": 3})
    );
    let code = |code: &str| json!({"@type": "checkAuthenticationEmailCode", "code": {"@type": "emailAddressAuthenticationCode", "code": code}});
    assert_eq!(
        fake.error(code("000")),
        (400, "EMAIL_CODE_INVALID".to_owned())
    );
    let outputs = fake.exchange(code("777"));
    assert_eq!(auth_state(&outputs[0]), "authorizationStateWaitCode");
    let outputs =
        fake.exchange(json!({"@type": "checkAuthenticationCode", "code": script::DEFAULT_CODE}));
    assert_eq!(
        auth_state(&outputs[0]),
        "authorizationStateWaitRegistration"
    );
    let terms = &outputs[0]["authorization_state"]["terms_of_service"];
    assert!(!terms["text"]["text"].as_str().unwrap().is_empty());
    let register = |name: &str| json!({"@type": "registerUser", "first_name": name, "last_name": "L", "disable_notification": false});
    assert_eq!(
        fake.error(register(" ")),
        (400, "FIRSTNAME_INVALID".to_owned())
    );
    let outputs = fake.exchange(register("Alice"));
    assert_eq!(outputs[0]["user"]["first_name"], "Alice");
    assert_eq!(auth_state(&outputs[2]), "authorizationStateReady");
}

#[test]
fn qr_login_is_confirmed_by_the_other_device() {
    let request = json!({"@type": "requestQrCodeAuthentication", "other_user_ids": []});
    let disabled = TestClient::new(json!({}));
    disabled.start();
    assert_eq!(
        disabled.error(request.clone()),
        (400, "QR login is not enabled in the fake script".to_owned())
    );

    let fake = TestClient::new(json!({"login": {"qr": true, "qr_confirm_ms": 50}}));
    fake.start();
    let started = Instant::now();
    let outputs = fake.exchange(request);
    assert_eq!(
        auth_state(&outputs[0]),
        "authorizationStateWaitOtherDeviceConfirmation"
    );
    assert!(
        outputs[0]["authorization_state"]["link"]
            .as_str()
            .unwrap()
            .starts_with("tg://login?token=")
    );
    assert_eq!(outputs[1]["@type"], "ok");
    assert_eq!(fake.next()["@type"], "updateUser");
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert_eq!(fake.next()["@type"], "updateOption");
    assert_eq!(auth_state(&fake.next()), "authorizationStateReady");
}

fn chat_script(extra: Value) -> Value {
    let mut script = json!({
        "chats": [{
            "id": 10,
            "title": "Friend",
            "type": {"@type": "chatTypePrivate", "user_id": 10},
            "available_reactions": {"@type": "chatAvailableReactionsAll"},
        }],
    });
    if let (Some(script), Some(extra)) = (script.as_object_mut(), extra.as_object()) {
        script.extend(extra.clone());
    }
    script
}

#[test]
fn send_errors_flood_guard_and_failures() {
    let fake = TestClient::new(chat_script(json!({
        "send_errors": [{"code": 429, "message": "Too Many Requests: retry after 1"}],
        "send_failures": [{"error": {"code": 429, "message": "Too Many Requests: retry after 1"}, "retry_after": 1.5}],
    })));
    fake.log_in_as_bot();
    assert_eq!(
        fake.error(text_message(11, "x")),
        (400, "Chat not found".to_owned())
    );
    let dice = json!({"@type": "sendMessage", "chat_id": 10, "input_message_content": {"@type": "inputMessageDice", "emoji": "🎲", "clear_draft": false}});
    assert_eq!(
        fake.error(dice),
        (
            400,
            "fake TDLib: only inputMessageText, inputMessageForwarded, inputMessagePhoto and inputMessageDocument can be sent".to_owned()
        )
    );
    // The scripted error, then the flood guard for a program that does not wait.
    assert_eq!(
        fake.error(text_message(10, "a")),
        (429, "Too Many Requests: retry after 1".to_owned())
    );
    assert_eq!(
        fake.error(text_message(10, "b")),
        (429, "Too Many Requests: retry after 1".to_owned())
    );
    std::thread::sleep(Duration::from_millis(1010));

    // The scripted failure.
    let mut request = text_message(10, "c");
    request["reply_to"] = json!({"@type": "inputMessageReplyToMessage", "message_id": 5, "checklist_task_id": 0, "poll_option_id": ""});
    let outputs = fake.exchange(request);
    assert_eq!(
        types(&outputs),
        ["message", "updateNewMessage", "updateMessageSendFailed"]
    );
    let pending = &outputs[0];
    assert_eq!(pending["id"], 1_000_000_001);
    assert_eq!(
        pending["sender_id"],
        json!({"@type": "messageSenderUser", "user_id": 1000001})
    );
    assert_eq!(
        pending["sending_state"]["@type"],
        "messageSendingStatePending"
    );
    assert_eq!(pending["is_outgoing"], true);
    assert_eq!(pending["date"], 1_700_000_000);
    assert_eq!(pending["content"]["text"]["text"], "c");
    assert_eq!(pending["reply_to"]["message_id"], 5);
    assert_eq!(pending["reply_to"]["chat_id"], 10);
    assert_eq!(outputs[1]["message"], {
        let mut pending = pending.clone();
        pending.as_object_mut().unwrap().remove("@extra");
        pending.as_object_mut().unwrap().remove("@client_id");
        pending
    });
    let failed = &outputs[2];
    assert_eq!(failed["old_message_id"], 1_000_000_001);
    let failed_id = failed["message"]["id"].as_i64().unwrap();
    assert_ne!(failed_id, 1_000_000_001);
    assert_eq!(
        failed["message"]["sending_state"]["@type"],
        "messageSendingStateFailed"
    );
    assert_eq!(failed["message"]["sending_state"]["can_retry"], true);
    assert_eq!(failed["message"]["sending_state"]["retry_after"], 1.5);
    assert_eq!(failed["error"]["code"], 429);
    assert_eq!(
        fake.error(text_message(10, "d")),
        (429, "Too Many Requests: retry after 2".to_owned()),
        "1.5 s left, rounded up"
    );
    let resend = json!({"@type": "resendMessages", "chat_id": 10, "message_ids": [failed_id], "paid_message_star_count": 0});
    assert_eq!(fake.error(resend.clone()).0, 429);
    std::thread::sleep(Duration::from_millis(1550));
    let mut wrong = resend.clone();
    wrong["message_ids"] = json!([1_000_000_001]);
    assert_eq!(
        fake.error(wrong),
        (400, "Message can't be resent".to_owned())
    );

    let outputs = fake.exchange(resend);
    assert_eq!(
        types(&outputs),
        ["messages", "updateNewMessage", "updateMessageSendSucceeded"]
    );
    assert_eq!(outputs[0]["total_count"], 1);
    assert_eq!(outputs[0]["messages"][0]["content"]["text"]["text"], "c");
    let sent = &outputs[2]["message"];
    assert_eq!(sent["id"], 2_000_000_001);
    assert!(sent.get("sending_state").is_none());
    assert_eq!(
        outputs[2]["old_message_id"],
        outputs[0]["messages"][0]["id"]
    );
    let stored =
        fake.answer(json!({"@type": "getMessage", "chat_id": 10, "message_id": 2_000_000_001}));
    assert_eq!(stored["content"]["text"]["text"], "c");

    // Forwarding needs a stored message.
    let forward = |id: i64| {
        json!({"@type": "sendMessage", "chat_id": 10, "input_message_content": {
            "@type": "inputMessageForwarded", "from_chat_id": 10, "message_id": id, "in_game_share": false,
            "replace_video_start_timestamp": false, "new_video_start_timestamp": 0,
        }})
    };
    assert_eq!(
        fake.error(forward(3)),
        (400, "Message not found".to_owned())
    );
    let outputs = fake.exchange(forward(2_000_000_001));
    assert_eq!(
        types(&outputs),
        ["message", "updateNewMessage", "updateMessageSendSucceeded"]
    );
    assert_eq!(outputs[2]["message"]["id"], 2_000_000_002);
    assert_eq!(outputs[2]["message"]["content"]["text"]["text"], "c");
}

#[test]
fn chats_are_loaded_once() {
    let fake = TestClient::new(chat_script(json!({})));
    fake.log_in_as_bot();
    let request = json!({"@type": "loadChats", "limit": 10});
    let outputs = fake.exchange(request.clone());
    assert_eq!(types(&outputs), ["updateNewChat", "ok"]);
    assert_eq!(outputs[0]["chat"]["title"], "Friend");
    assert_eq!(fake.error(request), (404, "Not Found".to_owned()));
    let chats = fake.answer(json!({"@type": "getChats", "limit": 10}));
    assert_eq!(
        chats,
        json!({"@type": "chats", "total_count": 1, "chat_ids": [10], "@extra": "t", "@client_id": 1})
    );
    assert_eq!(
        fake.answer(json!({"@type": "getChat", "chat_id": 10}))["id"],
        10
    );
}

#[test]
fn conversation_runs_after_login() {
    let log_path = std::env::temp_dir().join(format!(
        "tdlib-fake-unit-{}-conversation.jsonl",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&log_path);
    let incoming = json!({
        "@type": "updateNewMessage",
        "message": {
            "id": 100, "chat_id": 10, "date": 5,
            "sender_id": {"@type": "messageSenderUser", "user_id": 10},
            "content": {"@type": "messageText", "text": {"text": "hello"}},
        },
    });
    let fake = TestClient::with_log(
        chat_script(json!({"conversation": [
            {"update": incoming},
            {"wait_for": {"request": "sendMessage", "count": 1, "timeout_ms": 5000}},
            {"burst": {"update": {"@type": "updateConnectionState", "state": {"@type": "connectionStateUpdating"}}, "count": 1000}},
            {"wait_for": {"request": "getMe", "count": 1, "timeout_ms": 10}},
            {"sleep_ms": 10},
            {"update": {"@type": "updateConnectionState", "state": {"@type": "connectionStateReady"}}},
        ]})),
        Some(RequestLog::open(&log_path).unwrap()),
    );
    fake.log_in_as_bot();
    let update = fake.next();
    assert_eq!(update["@type"], "updateNewMessage");
    assert_eq!(update["message"]["content"]["text"]["text"], "hello");
    // The message is in the store, so it can be fetched and forwarded.
    assert_eq!(
        fake.answer(json!({"@type": "getMessage", "chat_id": 10, "message_id": 100}))["id"],
        100
    );
    assert_eq!(fake.queue().len(), 0);
    // The conversation goes on as soon as the request is counted: take the answer and its two
    // updates one by one.
    fake.client
        .handle(&Request::parse(&text_message(10, "echo").to_string()));
    assert_eq!(fake.next()["@type"], "message");
    assert_eq!(fake.next()["@type"], "updateNewMessage");
    assert_eq!(fake.next()["@type"], "updateMessageSendSucceeded");
    for _ in 0..1000 {
        assert_eq!(fake.next()["state"]["@type"], "connectionStateUpdating");
    }
    assert_eq!(fake.next()["state"]["@type"], "connectionStateReady");

    let lines: Vec<Value> = std::fs::read_to_string(&log_path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let _ = std::fs::remove_file(&log_path);
    let errors: Vec<&Value> = lines
        .iter()
        .filter(|line| line.get("script_error").is_some())
        .collect();
    assert_eq!(errors.len(), 1, "{lines:?}");
    assert!(
        errors[0]["script_error"]
            .as_str()
            .unwrap()
            .contains("wait_for getMe")
    );
    let sent = lines
        .iter()
        .find(|line| line["request"]["@type"] == "sendMessage")
        .unwrap();
    assert_eq!(sent["client_id"], 1);
    assert_eq!(sent["answer"]["@type"], "message");
    assert!(sent["answer"].get("@extra").is_none());
    assert!(sent["ms"].as_f64().unwrap() >= 0.0);
}

#[test]
fn close_stops_the_conversation() {
    let fake = TestClient::new(json!({"conversation": [
        {"sleep_ms": 60000},
        {"update": {"@type": "updateConnectionState", "state": {"@type": "connectionStateReady"}}},
    ]}));
    fake.log_in_as_bot();
    let started = Instant::now();
    let outputs = fake.exchange(json!({"@type": "close"}));
    assert_eq!(outputs.len(), 3);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(fake.queue().len(), 0);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn parse_errors_keep_no_extra() {
    let fake = TestClient::new(json!({}));
    fake.client.handle(&Request::parse("{\"@extra\":1,"));
    let outputs = fake.drain();
    assert_eq!(outputs.len(), 4);
    assert_eq!(
        outputs[3]["message"],
        "Failed to parse request as JSON object: Unexpected string end"
    );
    assert!(outputs[3].get("@extra").is_none());
    fake.client.handle(&Request::parse(
        r#"{"@type":"getChat","chat_id":true,"@extra":7}"#,
    ));
    let outputs = fake.drain();
    assert_eq!(outputs[0]["@extra"], 7);
    assert_eq!(outputs[0]["code"], 400);
}

#[test]
fn execute_answers_synchronous_functions_only() {
    let engine = Engine::new(Ok(script::default_script(schema())), None);
    let execute = |request: &str| -> Value {
        let text = engine.execute(request, true);
        serde_json::from_str(text.strip_suffix('\0').unwrap()).unwrap()
    };
    let answer = execute(r#"{"@type":"getOption","name":"version","@extra":5}"#);
    assert_eq!(
        answer,
        json!({"@type": "optionValueString", "value": crate::engine::VERSION, "@extra": 5})
    );
    assert_eq!(
        execute(r#"{"@type":"getOption","name":"unix_time"}"#)["message"],
        "The option can't be get synchronously"
    );
    assert_eq!(
        execute(r#"{"@type":"setLogVerbosityLevel","new_verbosity_level":1}"#)["@type"],
        "ok"
    );
    assert_eq!(
        execute(r#"{"@type":"setLogVerbosityLevel","new_verbosity_level":2000}"#)["message"],
        "Wrong new verbosity level specified"
    );
    assert_eq!(
        execute(r#"{"@type":"getLogVerbosityLevel"}"#)["verbosity_level"],
        1
    );
    assert_eq!(
        execute(r#"{"@type":"setLogStream","log_stream":{"@type":"logStreamEmpty"}}"#)["@type"],
        "ok"
    );
    assert_eq!(
        execute(r#"{"@type":"getChat","chat_id":1}"#)["message"],
        "The method can't be executed synchronously"
    );
    assert_eq!(
        execute(r#"{"@type":"cleanFileName","file_name":"a"}"#)["message"],
        "fake TDLib: cleanFileName is not implemented"
    );
    assert_eq!(
        execute(
            r#"{"@type":"testReturnError","error":{"@type":"error","code":42,"message":"boom"}}"#
        ),
        json!({"@type": "error", "code": 42, "message": "boom"})
    );
    assert_eq!(
        execute("")["message"],
        "Failed to parse request as JSON object: Unexpected string end"
    );
}

#[test]
fn unknown_ids_and_broken_scripts() {
    let engine = Engine::new(Ok(script::default_script(schema())), None);
    engine.send(987_654, r#"{"@type":"testCallEmpty","@extra":"bad"}"#, true);
    let text = GLOBAL_QUEUE.pop(Duration::from_secs(1)).unwrap();
    assert_eq!(
        text.json(),
        r#"{"@type":"error","code":400,"message":"Invalid TDLib instance specified","@extra":"bad","@client_id":987654}"#
    );

    let broken = Engine::new(Err("chats[0].type: missing".to_owned()), None);
    let answer = broken.execute(r#"{"@type":"getOption","name":"version"}"#, true);
    assert!(
        answer.contains("fake TDLib: script error: chats[0].type: missing"),
        "{answer}"
    );
}

/// A directory of a test's own, removed at its end.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path =
            std::env::temp_dir().join(format!("tdlib-fake-unit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    /// The canonical path of `name` in it, as TDLib reports paths.
    fn canonical(&self, name: &str) -> String {
        let directory = std::fs::canonicalize(&self.0).unwrap();
        directory.join(name).to_str().unwrap().to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A script with a chat, two files (7 on the server, 3 downloaded from the start) and fast
/// transfers, merged with `extra`.
fn files_script(extra: Value) -> Value {
    let mut script = json!({
        "files": [
            {"id": 7, "size": 1000, "name": "report.pdf"},
            {"id": 3, "size": 10, "name": "small.txt", "downloaded": true},
        ],
        "download": {"steps": 4, "step_ms": 20},
        "upload": {"steps": 4, "step_ms": 20},
    });
    if let (Some(script), Some(extra)) = (script.as_object_mut(), extra.as_object()) {
        script.extend(extra.clone());
    }
    chat_script(script)
}

fn download(file_id: i64, synchronous: bool) -> Value {
    json!({"@type": "downloadFile", "file_id": file_id, "priority": 1, "offset": 0, "limit": 0, "synchronous": synchronous})
}

/// Checks that an output is written exactly as TDLib writes the complete object: completing it
/// against the schema and writing it again changes nothing.
fn assert_complete(text: &str) {
    let mut value: Value = serde_json::from_str(text).unwrap();
    let fields = value.as_object_mut().unwrap();
    let extra = fields.remove("@extra").map(|extra| extra.to_string());
    let client_id = fields
        .remove("@client_id")
        .and_then(|id| id.as_i64())
        .unwrap_or_default();
    let name = value["@type"].as_str().unwrap().to_owned();
    let complete = schema().complete(&value, &name, "").unwrap();
    let body = write::object(schema(), &complete);
    let written = write::envelope(&body, extra.as_deref(), i32::try_from(client_id).unwrap());
    assert_eq!(written.strip_suffix('\0').unwrap(), text);
}

fn local(output: &Value) -> &Value {
    let file = if output["@type"] == "updateFile" {
        &output["file"]
    } else {
        output
    };
    &file["local"]
}

#[test]
fn a_file_with_a_source_is_downloaded_with_its_bytes() {
    let directory = TempDir::new("download-source");
    let source = std::env::temp_dir().join(format!("fake-source-{}.bin", std::process::id()));
    let bytes: Vec<u8> = (0..=255u8).cycle().take(777).collect();
    std::fs::write(&source, &bytes).unwrap();
    let files = json!([{"id": 7, "name": "picture.png", "source": source.to_str().unwrap()}]);
    let fake = TestClient::new(files_script(json!({"files": files})));
    fake.log_in_with_files_in(&directory);
    assert_eq!(
        fake.answer(json!({"@type": "getFile", "file_id": 7}))["size"],
        777
    );
    fake.send(download(7, true));
    let done = loop {
        let output: Value = serde_json::from_str(&fake.next_text()).unwrap();
        if output["@type"] == "file" {
            break output;
        }
    };
    assert_eq!(
        std::fs::read(done["local"]["path"].as_str().unwrap()).unwrap(),
        bytes
    );
    // A size that disagrees with the source, or a source that is not there: script errors.
    let wrong =
        json!({"files": [{"id": 1, "name": "a", "size": 5, "source": source.to_str().unwrap()}]});
    let error = script::load(&wrong, schema()).unwrap_err();
    assert!(
        error.starts_with("files[0].source: the file has 777 bytes"),
        "{error}"
    );
    let missing = json!({"files": [{"id": 1, "name": "a", "source": "/nonexistent/x.png"}]});
    let error = script::load(&missing, schema()).unwrap_err();
    assert!(
        error.starts_with("files[0].source: /nonexistent/x.png: "),
        "{error}"
    );
    std::fs::remove_file(source).unwrap();
}

#[test]
fn download_progress_is_monotonic_and_ends_with_a_real_file() {
    let directory = TempDir::new("download");
    let fake = TestClient::new(files_script(json!({})));
    fake.log_in_with_files_in(&directory);
    let before = fake.answer(json!({"@type": "getFile", "file_id": 7}));
    assert_eq!(before["size"], 1000);
    assert_eq!(before["expected_size"], 1000);
    assert_eq!(before["remote"]["id"], "fake-remote-file-7");
    assert_eq!(before["remote"]["is_uploading_completed"], true);
    assert_eq!(before["remote"]["uploaded_size"], 1000);
    assert_eq!(local(&before)["path"], "");
    assert_eq!(local(&before)["can_be_downloaded"], true);
    assert_eq!(local(&before)["is_downloading_completed"], false);

    // The answer is the file as the download starts, then the updates follow.
    fake.send(download(7, false));
    let outputs = fake.take(2);
    assert_eq!(types(&outputs), ["file", "updateFile"]);
    for output in &outputs {
        assert_eq!(local(output)["is_downloading_active"], true);
        assert_eq!(local(output)["downloaded_size"], 0);
    }
    let mut sizes = Vec::new();
    let last = loop {
        let text = fake.next_text();
        assert_complete(&text);
        let update: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(update["@type"], "updateFile");
        if local(&update)["is_downloading_completed"] == true {
            break update;
        }
        assert_eq!(local(&update)["is_downloading_active"], true);
        sizes.push(local(&update)["downloaded_size"].as_i64().unwrap());
    };
    assert_eq!(sizes, [250, 500, 750]);
    let done = local(&last);
    assert_eq!(done["is_downloading_active"], false);
    assert_eq!(done["downloaded_size"], 1000);
    assert_eq!(done["downloaded_prefix_size"], 1000);
    assert_eq!(done["can_be_deleted"], true);
    let path = done["path"].as_str().unwrap();
    assert_eq!(path, directory.canonical("documents/report.pdf"));
    assert_eq!(std::fs::metadata(path).unwrap().len(), 1000);

    // Complete now: answered at once, nothing else.
    assert_eq!(fake.answer(download(7, false))["local"], *done);
    assert_eq!(
        fake.answer(json!({"@type": "getFile", "file_id": 7}))["local"],
        *done
    );
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(fake.queue().len(), 0);

    // A file downloaded from the start has its copy as soon as the directory is known.
    let small = fake.answer(json!({"@type": "getFile", "file_id": 3}));
    let path = local(&small)["path"].as_str().unwrap();
    assert_eq!(path, directory.canonical("documents/small.txt"));
    assert_eq!(std::fs::metadata(path).unwrap().len(), 10);
    assert_eq!(fake.answer(download(3, true))["local"], small["local"]);
}

#[test]
fn synchronous_download_is_answered_when_complete() {
    let directory = TempDir::new("synchronous");
    let fake = TestClient::new(files_script(json!({})));
    fake.log_in_with_files_in(&directory);
    fake.send(download(7, true));
    let mut outputs = Vec::new();
    let answer = loop {
        let output = fake.next();
        if output["@type"] == "file" {
            break output;
        }
        outputs.push(output);
    };
    // Started, three steps, complete: the answer comes last.
    assert_eq!(outputs.len(), 5);
    assert_eq!(local(&outputs[0])["is_downloading_active"], true);
    assert_eq!(local(&outputs[4])["is_downloading_completed"], true);
    assert_eq!(answer["@extra"], "t");
    assert_eq!(answer["local"], outputs[4]["file"]["local"]);
}

#[test]
fn cancel_stops_the_download() {
    let directory = TempDir::new("cancel");
    let fake = TestClient::new(files_script(
        json!({"download": {"steps": 10, "step_ms": 30}}),
    ));
    fake.log_in_with_files_in(&directory);
    fake.send(download(7, false));
    assert_eq!(types(&fake.take(2)), ["file", "updateFile"]);
    fake.send(download(7, true));
    assert_eq!(local(&fake.next())["downloaded_size"], 100);
    let cancel = json!({"@type": "cancelDownloadFile", "file_id": 7, "only_if_pending": false});
    let outputs = fake.exchange(cancel.clone());
    // Progress made before the cancel, then the partial file, the waiting request, the ok.
    let at = outputs.len() - 3;
    assert!(
        outputs[..at]
            .iter()
            .all(|output| local(output)["is_downloading_active"] == true)
    );
    assert_eq!(outputs[at]["@type"], "updateFile");
    assert_eq!(local(&outputs[at])["is_downloading_active"], false);
    assert_eq!(local(&outputs[at])["is_downloading_completed"], false);
    let partial = local(&outputs[at])["downloaded_size"].as_i64().unwrap();
    assert!((100..1000).contains(&partial), "{partial}");
    assert_eq!(outputs[at + 1]["@type"], "error");
    assert_eq!(
        outputs[at + 1]["message"],
        "File download has failed or was canceled"
    );
    assert_eq!(outputs[at + 2]["@type"], "ok");
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(fake.queue().len(), 0, "no progress after the cancel");
    assert_eq!(
        local(&fake.answer(json!({"@type": "getFile", "file_id": 7})))["downloaded_size"],
        partial
    );
    // Nothing to stop now.
    assert_eq!(fake.answer(cancel)["@type"], "ok");
    // A new download goes on from the partial file.
    let outputs = fake.exchange(download(7, false));
    assert_eq!(local(&outputs[0])["downloaded_size"], partial);
    assert!(local(&fake.next())["downloaded_size"].as_i64().unwrap() > partial);
}

#[test]
fn two_requests_for_one_file_run_one_download() {
    let directory = TempDir::new("join");
    let fake = TestClient::new(files_script(json!({})));
    fake.log_in_with_files_in(&directory);
    fake.send(download(7, false));
    fake.send(download(7, false));
    let mut outputs = Vec::new();
    loop {
        let output = fake.next();
        let done = local(&output)["is_downloading_completed"] == true;
        outputs.push(output);
        if done {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(150));
    outputs.extend(fake.drain());
    let sizes: Vec<i64> = outputs
        .iter()
        .filter(|output| output["@type"] == "updateFile")
        .map(|update| local(update)["downloaded_size"].as_i64().unwrap())
        .collect();
    assert_eq!(sizes, [0, 250, 500, 750, 1000], "one series of updates");
    let answers = outputs.iter().filter(|output| output["@type"] == "file");
    assert_eq!(answers.count(), 2);
}

#[test]
fn sent_files_are_uploaded_before_the_message_is_sent() {
    let directory = TempDir::new("upload");
    let picture = directory.0.join("picture.jpg");
    std::fs::write(&picture, vec![7u8; 1000]).unwrap();
    let notes = directory.0.join("notes.txt");
    std::fs::write(&notes, "twelve bytes").unwrap();
    let fake = TestClient::new(files_script(json!({})));
    fake.log_in_with_files_in(&directory);
    let photo = json!({
        "@type": "sendMessage", "chat_id": 10,
        "input_message_content": {
            "@type": "inputMessagePhoto",
            "photo": {"photo": {"@type": "inputFileLocal", "path": picture.to_str().unwrap()},
                      "added_sticker_file_ids": [], "width": 640, "height": 480},
            "show_caption_above_media": false, "has_spoiler": false,
        },
    });
    fake.send(photo);
    let outputs = fake.take(2);
    assert_eq!(types(&outputs), ["message", "updateNewMessage"]);
    let size = &outputs[0]["content"]["photo"]["sizes"][0];
    assert_eq!(size["type"], "i");
    assert_eq!(
        (size["width"].as_i64(), size["height"].as_i64()),
        (Some(640), Some(480))
    );
    let file = &size["photo"];
    assert_eq!(file["id"], 8, "after the script's largest id");
    assert_eq!(file["size"], 1000);
    assert_eq!(file["local"]["path"], directory.canonical("picture.jpg"));
    assert_eq!(file["local"]["is_downloading_completed"], true);
    assert_eq!(file["local"]["can_be_deleted"], false);
    assert_eq!(file["remote"]["is_uploading_active"], true);
    assert_eq!(file["remote"]["is_uploading_completed"], false);
    assert_eq!(file["remote"]["uploaded_size"], 0);
    assert_eq!(file["remote"]["id"], "");
    let mut uploaded = Vec::new();
    let sent = loop {
        let text = fake.next_text();
        assert_complete(&text);
        let output: Value = serde_json::from_str(&text).unwrap();
        if output["@type"] != "updateFile" {
            break output;
        }
        uploaded.push(output["file"]["remote"].clone());
    };
    let sizes: Vec<&Value> = uploaded
        .iter()
        .map(|remote| &remote["uploaded_size"])
        .collect();
    assert_eq!(sizes, [250, 500, 750, 1000]);
    let last = uploaded.last().unwrap();
    assert_eq!(last["is_uploading_active"], false);
    assert_eq!(last["is_uploading_completed"], true);
    assert!(!last["id"].as_str().unwrap().is_empty());
    assert_eq!(sent["@type"], "updateMessageSendSucceeded");
    assert_eq!(sent["old_message_id"], 1_000_000_001);
    assert_eq!(sent["message"]["id"], 2_000_000_001);
    let size = &sent["message"]["content"]["photo"]["sizes"][0];
    assert_eq!(size["type"], "x");
    assert_eq!(size["photo"]["remote"], *last);

    fake.send(send_document(notes.to_str().unwrap()));
    let outputs = fake.take(2);
    let content = &outputs[0]["content"];
    assert_eq!(content["document"]["file_name"], "notes.txt");
    assert_eq!(content["document"]["mime_type"], "text/plain");
    assert_eq!(content["document"]["document"]["id"], 9);
    assert_eq!(content["document"]["document"]["size"], 12);
    let sent = loop {
        let output = fake.next();
        if output["@type"] != "updateFile" {
            break output;
        }
    };
    assert_eq!(sent["message"]["id"], 2_000_000_002);
    assert_eq!(
        sent["message"]["content"]["document"]["document"]["remote"]["is_uploading_completed"],
        true
    );

    // Text keeps working, with a new id.
    let outputs = fake.exchange(text_message(10, "plain"));
    assert_eq!(outputs[2]["message"]["id"], 2_000_000_003);

    let missing = directory.0.join("missing.jpg");
    let missing = missing.to_str().unwrap();
    assert_eq!(
        fake.error(send_document(missing)),
        (400, format!("Realpath failed for \"{missing}\""))
    );
    std::fs::write(directory.0.join("empty.txt"), "").unwrap();
    assert_eq!(
        fake.error(send_document(
            directory.0.join("empty.txt").to_str().unwrap()
        )),
        (400, "File must be non-empty".to_owned())
    );
    assert_eq!(
        fake.error(send_document(directory.0.to_str().unwrap())),
        (400, "File must be a regular file".to_owned())
    );
    assert_eq!(
        fake.error(send_document("")),
        (400, "File must have non-empty path".to_owned())
    );
}

fn send_document(path: &str) -> Value {
    json!({
        "@type": "sendMessage", "chat_id": 10,
        "input_message_content": {
            "@type": "inputMessageDocument",
            "document": {"document": {"@type": "inputFileLocal", "path": path},
                         "disable_content_type_detection": false},
        },
    })
}

#[test]
fn a_failed_send_is_resent_without_a_new_upload() {
    let directory = TempDir::new("resend");
    let notes = directory.0.join("notes.txt");
    std::fs::write(&notes, "twelve bytes").unwrap();
    let fake = TestClient::new(files_script(json!({
        "send_failures": [{"error": {"code": 500, "message": "Internal"}, "retry_after": 0}],
    })));
    fake.log_in_with_files_in(&directory);
    fake.send(send_document(notes.to_str().unwrap()));
    assert_eq!(types(&fake.take(2)), ["message", "updateNewMessage"]);
    let failed = loop {
        let output = fake.next();
        if output["@type"] != "updateFile" {
            break output;
        }
    };
    assert_eq!(failed["@type"], "updateMessageSendFailed");
    let resend = json!({"@type": "resendMessages", "chat_id": 10, "message_ids": [failed["message"]["id"]], "paid_message_star_count": 0});
    let outputs = fake.exchange(resend);
    assert_eq!(
        types(&outputs),
        ["messages", "updateNewMessage", "updateMessageSendSucceeded"]
    );
    assert_eq!(outputs[2]["message"]["id"], 2_000_000_001);
    assert_eq!(
        outputs[2]["message"]["content"]["document"]["document"]["id"],
        8
    );
}

#[test]
fn file_requests_get_tdlib_errors() {
    let directory = TempDir::new("errors");
    let fake = TestClient::new(files_script(json!({})));
    fake.log_in_with_files_in(&directory);
    assert_eq!(
        fake.error(json!({"@type": "getFile", "file_id": 99})),
        (404, "Not Found".to_owned())
    );
    assert_eq!(
        fake.error(download(99, false)),
        (400, "Invalid file identifier".to_owned())
    );
    assert_eq!(
        fake.error(json!({"@type": "cancelDownloadFile", "file_id": 99, "only_if_pending": false})),
        (400, "Invalid file identifier".to_owned())
    );
    for priority in [0, 33] {
        let mut request = download(7, false);
        request["priority"] = json!(priority);
        assert_eq!(
            fake.error(request),
            (400, "Download priority must be between 1 and 32".to_owned())
        );
    }
    let mut request = download(99, false);
    request["offset"] = json!(-1);
    assert_eq!(
        fake.error(request),
        (400, "Download offset must be non-negative".to_owned())
    );
    let mut request = download(7, false);
    request["limit"] = json!(10);
    assert_eq!(
        fake.error(request),
        (
            400,
            "fake TDLib: downloadFile with an offset or a limit is not implemented".to_owned()
        )
    );
    assert_eq!(fake.queue().len(), 0);
}

#[test]
fn scripts_name_files_by_id() {
    let directory = TempDir::new("script");
    let photo = |file: Value| {
        json!({"@type": "updateNewMessage", "message": {
            "id": 5, "chat_id": 10, "sender_id": {"@type": "messageSenderUser", "user_id": 10},
            "content": {"@type": "messagePhoto", "photo": {"sizes": [
                {"type": "m", "photo": file, "width": 320, "height": 240},
            ]}},
        }})
    };
    let document = json!({
        "id": 6, "chat_id": 10, "sender_id": {"@type": "messageSenderUser", "user_id": 10},
        "content": {"@type": "messageDocument", "document": {"file_name": "report.pdf", "document": {"id": 7}}},
    });
    let fake = TestClient::new(files_script(json!({
        "conversation": [{"update": photo(json!({"id": 3}))}],
        "history": [document],
    })));
    fake.log_in_with_files_in(&directory);
    let text = fake.next_text();
    assert_complete(&text);
    let update: Value = serde_json::from_str(&text).unwrap();
    let file = &update["message"]["content"]["photo"]["sizes"][0]["photo"];
    assert_eq!(file["size"], 10);
    assert_eq!(file["remote"]["id"], "fake-remote-file-3");
    // Emitted in its current state: downloaded since setTdlibParameters.
    assert_eq!(
        file["local"]["path"],
        directory.canonical("documents/small.txt")
    );
    let message = fake.answer(json!({"@type": "getMessage", "chat_id": 10, "message_id": 6}));
    assert_eq!(message["content"]["document"]["document"]["size"], 1000);
    // The chat's history: newest first, from a message on, the limit checked.
    let history = |from: i64, limit: i64| {
        fake.answer(
            json!({"@type": "getChatHistory", "chat_id": 10, "from_message_id": from,
                           "offset": 0, "limit": limit, "only_local": false}),
        )
    };
    let ids = |answer: Value| -> Vec<i64> {
        answer["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids(history(0, 10)), [6, 5]);
    assert_eq!(ids(history(5, 10)), [5]);
    assert_eq!(ids(history(0, 1)), [6]);
    assert_eq!(history(0, 0)["message"], "Parameter limit must be positive");
    assert_eq!(
        message["content"]["document"]["document"]["local"]["path"],
        ""
    );

    let error = |extra: Value| script::load(&files_script(extra), schema()).unwrap_err();
    let unknown = error(json!({"conversation": [{"update": photo(json!({"id": 9}))}]}));
    assert!(
        unknown.starts_with("conversation[0].update.message.content.photo.sizes[0].photo: file 9 is not in the script's files"),
        "{unknown}"
    );
    let more = error(json!({"conversation": [{"update": photo(json!({"id": 7, "size": 5}))}]}));
    assert!(more.contains("give a file by its id only"), "{more}");
    let same_name = error(json!({"files": [
        {"id": 1, "size": 1, "name": "a"},
        {"id": 2, "size": 1, "name": "a"},
    ]}));
    assert!(
        same_name.starts_with("files[1]: files[0] has the same id or name"),
        "{same_name}"
    );
    let bad_name = error(json!({"files": [{"id": 1, "size": 1, "name": "../a"}]}));
    assert!(bad_name.starts_with("files[0].name: "), "{bad_name}");
    let typo = error(json!({"files": [{"id": 1, "size": 1, "name": "a", "downloded": true}]}));
    assert!(typo.contains("unknown key \"downloded\""), "{typo}");
    let steps = error(json!({"download": {"steps": 0}}));
    assert!(steps.starts_with("download.steps: "), "{steps}");
}

#[test]
fn close_aborts_waiting_downloads_and_stops_transfers() {
    let directory = TempDir::new("close");
    let log_path = directory.0.join("log.jsonl");
    let fake = TestClient::with_log(
        files_script(json!({"download": {"steps": 4, "step_ms": 200}})),
        Some(RequestLog::open(&log_path).unwrap()),
    );
    fake.log_in_with_files_in(&directory);
    fake.answer(json!({"@type": "getFile", "file_id": 7}));
    fake.exchange(download(7, true));
    fake.answer(json!({"@type": "cancelDownloadFile", "file_id": 3, "only_if_pending": false}));
    let outputs = fake.exchange(json!({"@type": "close"}));
    assert_eq!(
        types(&outputs),
        [
            "ok",
            "updateAuthorizationState",
            "error",
            "updateAuthorizationState"
        ]
    );
    assert_eq!(outputs[2]["message"], "Request aborted");
    assert_eq!(outputs[2]["@extra"], "t");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(fake.queue().len(), 0);

    // Every request is in the log, the synchronous download with its late answer.
    let lines: Vec<Value> = std::fs::read_to_string(&log_path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let answer = |function: &str| {
        lines
            .iter()
            .find(|line| line["request"]["@type"] == function)
            .map(|line| line["answer"]["@type"].clone())
    };
    assert_eq!(answer("getFile"), Some(json!("file")));
    assert_eq!(answer("cancelDownloadFile"), Some(json!("ok")));
    assert_eq!(answer("downloadFile"), Some(json!("error")));
}

#[test]
fn the_readme_example_script_is_valid() {
    let readme = include_str!("../README.md");
    let (_, after) = readme.split_once("## Script").unwrap();
    let (_, block) = after.split_once("```json\n").unwrap();
    let (example, _) = block.split_once("```").unwrap();
    let example: Value = serde_json::from_str(example).unwrap();
    let script = script::load(&example, schema()).unwrap();
    assert_eq!(script.files.len(), 2);
    assert_eq!(script.history.len(), 1);
}

/// The texts of the `updateNewMessage`s among `outputs`, as numbers, with their chats.
fn new_messages(outputs: &[Value]) -> Vec<(i64, u64)> {
    outputs
        .iter()
        .filter(|output| output["@type"] == "updateNewMessage")
        .map(|output| {
            let message = &output["message"];
            assert_eq!(
                message["id"].as_i64().unwrap() >> 20,
                message["content"]["text"]["text"]
                    .as_str()
                    .unwrap()
                    .parse::<i64>()
                    .unwrap()
            );
            (
                message["chat_id"].as_i64().unwrap(),
                message["content"]["text"]["text"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_persistent_database_keeps_the_login_and_replays_from_its_saved_point() {
    let directory = TempDir::new("persistent");
    let script = json!({
        "persistent": true,
        "conversation": [
            {"messages": {"chats": [10, 20], "count": 10, "pause_every": 4, "pause_ms": 0, "replay": 1}},
            {"update": {"@type": "updateOption", "name": "done", "value": {"@type": "optionValueBoolean", "value": true}}},
        ],
    });
    let mut parameters = tdlib_parameters();
    parameters["database_directory"] = json!(directory.0.to_str().unwrap());
    let first = TestClient::new(script.clone());
    first.start_with(parameters.clone());
    first.check_bot_token();
    // Ten messages, alternating chats, then the option.
    let outputs = first.take(11);
    let messages = new_messages(&outputs);
    assert_eq!(
        messages,
        (1..=10)
            .map(|n| (if n % 2 == 1 { 10 } else { 20 }, n))
            .collect::<Vec<_>>()
    );
    assert_eq!(outputs[10]["name"], "done");
    std::thread::sleep(Duration::from_millis(50));
    // The whole conversation is done: a restart logs in at once and emits nothing more.
    let second = TestClient::new(script.clone());
    second.exchange(json!({"@type": "getOption", "name": "version"}));
    let outputs = second.exchange(parameters.clone());
    assert!(
        outputs
            .iter()
            .any(|output| output["@type"] == "updateAuthorizationState"
                && auth_state(output) == "authorizationStateReady"),
        "{outputs:?}"
    );
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(new_messages(&second.drain()), []);

    // Killed after message 8 was saved (as 8 - replay = 7): a restart emits 8, 9 and 10.
    std::fs::write(
        directory.0.join("fake-tdlib-progress.json"),
        r#"{"step": 0, "delivered": 7}"#,
    )
    .unwrap();
    let third = TestClient::new(script);
    third.exchange(json!({"@type": "getOption", "name": "version"}));
    third.send(parameters);
    let outputs = third.take(3 + 2 + 4);
    assert_eq!(new_messages(&outputs), [(20, 8), (10, 9), (20, 10)]);
    // Logging out forgets it all.
    third.exchange(json!({"@type": "logOut"}));
    assert!(!directory.0.join("fake-tdlib-progress.json").exists());
}
