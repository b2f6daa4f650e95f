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
        let mut request = request;
        request["@extra"] = json!("t");
        self.client.handle(&Request::parse(&request.to_string()));
        self.drain()
    }

    fn drain(&self) -> Vec<Value> {
        std::iter::from_fn(|| self.queue().pop(Duration::ZERO))
            .map(|text| serde_json::from_str(text.json()).unwrap())
            .collect()
    }

    /// The next output, waiting for it.
    fn next(&self) -> Value {
        let text = self.queue().pop(Duration::from_secs(5)).expect("an output");
        serde_json::from_str(text.json()).unwrap()
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
        let outputs = self.exchange(json!({"@type": "getOption", "name": "version"}));
        assert_eq!(outputs.len(), 4, "{outputs:?}");
        let outputs = self.exchange(tdlib_parameters());
        assert_eq!(outputs.len(), 3, "{outputs:?}");
    }

    fn log_in_as_bot(&self) {
        self.start();
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
            "fake TDLib: only inputMessageText and inputMessageForwarded can be sent".to_owned()
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
