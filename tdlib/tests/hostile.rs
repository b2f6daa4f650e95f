//! Hostile input through every public entry point: `send`, `send_timeout`, `send_json`,
//! `execute`, `raw::execute`, the builder, subscriptions, and the authenticators. Malformed,
//! oversized, deeply nested and non-UTF-8-derived inputs, and the inputs known to make TDLib
//! kill the process.
//!
//! Each case runs in a child process of its own (this test binary again, selecting the case
//! with an environment variable), so that an abort or a stack overflow is seen as what it is; a
//! watchdog kills a child that hangs. A case passes when it returns normally within the limit:
//! every outcome it sees is a value or a typed error, checked inside the case.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tdlib::codec::UnknownObject;
use tdlib::{Client, CloseOnExit, Event, enums, functions, raw, types};

const CASE: &str = "TDLIB_HOSTILE_CASE";
/// How long one case may take before it counts as a hang.
const LIMIT: Duration = Duration::from_secs(60);

type Case = (&'static str, fn());

fn cases() -> Vec<Case> {
    vec![
        ("send_json_malformed", send_json_malformed),
        ("send_json_deep", send_json_deep),
        ("send_json_oversized", send_json_oversized),
        ("send_json_odd_values", send_json_odd_values),
        ("send_json_process_killers", send_json_process_killers),
        ("send_typed_deep", send_typed_deep),
        ("send_typed_raw_json", send_typed_raw_json),
        ("send_typed_oversized", send_typed_oversized),
        ("send_typed_odd_values", send_typed_odd_values),
        ("send_typed_process_killers", send_typed_process_killers),
        (
            "send_after_close_and_concurrent_closes",
            send_after_close_and_concurrent_closes,
        ),
        ("execute_typed_hostile", execute_typed_hostile),
        ("raw_execute_hostile", raw_execute_hostile),
        ("builder_extremes", builder_extremes),
        (
            "start_with_hostile_parameters",
            start_with_hostile_parameters,
        ),
        ("subscriptions_hostile", subscriptions_hostile),
        ("bot_authenticator_hostile", bot_authenticator_hostile),
        ("custom_authenticator_hostile", custom_authenticator_hostile),
    ]
}

#[test]
fn hostile_inputs_end_with_values_or_typed_errors_and_never_abort_or_hang() {
    if let Ok(name) = std::env::var(CASE) {
        let (_, case) = cases()
            .into_iter()
            .find(|(case, _)| *case == name)
            .expect("a known case");
        case();
        println!("CASE DONE {name}");
        return;
    }
    let mut failures = Vec::new();
    // Two at a time: each child runs TDLib, and the machine may be small.
    for pair in cases().chunks(2) {
        let children: Vec<_> = pair
            .iter()
            .map(|(name, _)| {
                let child = Command::new(std::env::current_exe().unwrap())
                    .args([
                        "--exact",
                        "hostile_inputs_end_with_values_or_typed_errors_and_never_abort_or_hang",
                        "--nocapture",
                        "--test-threads",
                        "1",
                    ])
                    .env(CASE, name)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                (*name, child, Instant::now())
            })
            .collect();
        for (name, mut child, started) in children {
            let status = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break Some(status);
                }
                if started.elapsed() > LIMIT {
                    let _ = child.kill();
                    break None;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            let output = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            match status {
                None => failures.push(format!("{name}: hung (killed after {LIMIT:?})\n{stderr}")),
                Some(status)
                    if !status.success() || !stdout.contains(&format!("CASE DONE {name}")) =>
                {
                    failures.push(format!("{name}: {status:?}\n{stdout}\n{stderr}"))
                }
                Some(_) => eprintln!("{name}: ok in {:?}", started.elapsed()),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---------------------------------------------------------------------------------------------
// Helpers of the cases (they run in the child).

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `body` with a fresh client, closed afterwards (and by a guard if `body` panics).
fn with_client<F: std::future::Future<Output = ()>>(body: impl FnOnce(Client) -> F) {
    let _closer = CloseOnExit::new();
    tdlib::set_log_verbosity(0).unwrap();
    runtime().block_on(async {
        let client = Client::new().unwrap();
        body(client.clone()).await;
        client.close().await.unwrap();
    });
}

/// Every request ends: the future must finish within 20 s.
async fn ends<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), future)
        .await
        .expect("a request that never ended")
}

/// A `serde_json` value nested `depth` arrays deep, built without recursion.
fn deep_json(depth: usize) -> Value {
    let mut value = json!(1);
    for _ in 0..depth {
        value = Value::Array(vec![value]);
    }
    value
}

fn object(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn deep_json_value(depth: usize) -> enums::JsonValue {
    let mut value = enums::JsonValue::Null(types::JsonValueNull {});
    for _ in 0..depth {
        value = enums::JsonValue::Array(types::JsonValueArray {
            values: vec![value],
        });
    }
    value
}

fn assert_invalid<T: std::fmt::Debug>(result: Result<T, tdlib::Error>, what: &str) {
    match result {
        Err(error) if error.is_invalid_request() => {}
        other => panic!("{what}: expected a refused request, got {other:?}"),
    }
}

fn assert_tdlib_error<T: std::fmt::Debug>(result: Result<T, tdlib::Error>, what: &str) {
    match result {
        Err(error) if error.is_tdlib() => {}
        other => panic!("{what}: expected TDLib's error, got {other:?}"),
    }
}

/// Text made from bytes that are not UTF-8, as a program gets it from `from_utf8_lossy`.
fn lossy() -> String {
    String::from_utf8_lossy(b"a\xff\xfe\xed\xa0\x80\xc0\x80b\0").into_owned()
}

// ---------------------------------------------------------------------------------------------
// The cases.

fn send_json_malformed() {
    with_client(|client| async move {
        for bad in [
            json!(null),
            json!(1),
            json!("getMe"),
            json!([{"@type": "getMe"}]),
            json!({}),
            json!({"@type": null}),
            json!({"@type": 60135024}),
            json!({"@type": ["testCallEmpty"]}),
            json!({"@type": {"@type": "testCallEmpty"}}),
        ] {
            assert_invalid(ends(client.send_json(bad.clone())).await, &bad.to_string());
        }
        for unknown in [
            "",
            "a\0b",
            "😀",
            "testCallEmpty\u{0}x",
            &"x".repeat(1 << 20),
        ] {
            let answer = ends(client.send_json(json!({"@type": unknown}))).await;
            assert_tdlib_error(answer, "an unknown function");
        }
    });
}

fn send_json_deep() {
    with_client(|client| async move {
        for depth in [tdlib::MAX_REQUEST_DEPTH, 1_000, 1_000_000] {
            let request = object(vec![
                ("@type", json!("testCallEmpty")),
                ("x", deep_json(depth)),
            ]);
            assert_invalid(ends(client.send_json(request)).await, "deep arrays");
            let request = object(vec![
                ("@type", json!("testCallEmpty")),
                ("@extra", deep_json(depth)),
            ]);
            assert_invalid(ends(client.send_json(request)).await, "a deep @extra");
        }
        let mut deep_object = json!(1);
        for _ in 0..1_000_000 {
            deep_object = object(vec![("a", deep_object)]);
        }
        let request = object(vec![("@type", json!("testCallEmpty")), ("x", deep_object)]);
        assert_invalid(ends(client.send_json(request)).await, "deep objects");
        // Within the limit, TDLib answers.
        let fits = object(vec![
            ("@type", json!("testCallEmpty")),
            ("x", deep_json(tdlib::MAX_REQUEST_DEPTH - 2)),
        ]);
        ends(client.send_json(fits)).await.unwrap();
    });
}

fn send_json_oversized() {
    with_client(|client| async move {
        let big = "é".repeat(10 << 20);
        let answer = ends(client.send_json(json!({"@type": "testCallString", "x": big}))).await;
        assert_eq!(
            answer.unwrap()["value"].as_str().map(str::len),
            Some(20 << 20)
        );
        let many_keys: serde_json::Map<String, Value> =
            (0..100_000).map(|i| (format!("k{i}"), json!(i))).collect();
        let mut request = many_keys;
        request.insert("@type".into(), json!("testCallEmpty"));
        ends(client.send_json(Value::Object(request)))
            .await
            .unwrap();
        let long = vec![json!(7); 1_000_000];
        let answer = ends(client.send_json(json!({"@type": "testCallVectorInt", "x": long}))).await;
        assert_eq!(
            answer.unwrap()["value"].as_array().map(Vec::len),
            Some(1_000_000)
        );
    });
}

fn send_json_odd_values() {
    with_client(|client| async move {
        for x in [
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1e308),
            json!(-0.0),
            json!("1e5"),
            json!(true),
            json!(null),
        ] {
            let answer = ends(client.send_json(json!({"@type": "testSquareInt", "x": x}))).await;
            match answer {
                Ok(value) => assert_eq!(value["@type"], "testInt"),
                Err(error) => assert!(error.is_tdlib(), "{error}"),
            }
        }
        let echoed = ends(client.send_json(json!({"@type": "testCallString", "x": lossy()}))).await;
        assert_eq!(echoed.unwrap()["value"], lossy());
        let keys = json!({"@type": "testCallEmpty", "": 1, "\u{0}": 2, "\\ud800": 3, "😀": 4});
        ends(client.send_json(keys)).await.unwrap();
        // The caller's @extra comes back whatever it is.
        for extra in [
            json!(null),
            json!(""),
            json!(u64::MAX),
            json!({"a": [1, {"b": "\u{0}"}]}),
        ] {
            let answer =
                ends(client.send_json(json!({"@type": "testCallEmpty", "@extra": extra}))).await;
            assert_eq!(answer.unwrap()["@extra"], extra);
        }
    });
}

fn send_json_process_killers() {
    with_client(|client| async move {
        for killer in [
            json!({"@type": "addLogMessage", "text": "x"}),
            json!({"@type": "addLogMessage", "verbosity_level": 0, "text": "x"}),
            json!({"@type": "addLogMessage", "verbosity_level": -5}),
            json!({"@type": "addLogMessage", "verbosity_level": "0"}),
            json!({"@type": "addLogMessage", "verbosity_level": null}),
            json!({"@type": "getThemeParametersJsonString"}),
            json!({"@type": "getThemeParametersJsonString", "theme": null}),
            json!({"@type": "getJsonValue", "json": "\"\\ud800\""}),
            json!({"@type": "getJsonValue", "json": "{\"\\udfff\":1}"}),
        ] {
            assert_invalid(
                ends(client.send_json(killer.clone())).await,
                &killer.to_string(),
            );
        }
        let fine = ends(
            client.send_json(json!({"@type": "addLogMessage", "verbosity_level": 1, "text": "ok"})),
        )
        .await;
        fine.unwrap();
    });
}

fn send_typed_deep() {
    with_client(|client| async move {
        for depth in [tdlib::MAX_REQUEST_DEPTH, 100_000, 1_000_000] {
            let request = functions::GetJsonString {
                json_value: deep_json_value(depth),
            };
            assert_invalid(ends(client.send(request)).await, "a deep JsonValue");
        }
        let request = functions::GetJsonString {
            json_value: deep_json_value(10),
        };
        let timed = client.send_timeout(request, Duration::from_secs(5));
        assert!(ends(timed).await.is_ok());
    });
}

fn send_typed_raw_json() {
    with_client(|client| async move {
        let deep = "[".repeat(1_000_000);
        // (An empty one is the absent object, written as `null`: not hostile.)
        for raw in [
            " ",
            "{",
            "nul",
            "inf",
            "01",
            r#"{"@type":"x"} {"@type":"y"}"#,
            r#"{"@type":"jsonValueNull"},"@extra":"stolen""#,
            r#""\ud800""#,
            "\"a\u{1}b\"",
            deep.as_str(),
        ] {
            let request = functions::GetJsonString {
                json_value: enums::JsonValue::Unrecognized(UnknownObject {
                    type_name: "jsonValueFuture".into(),
                    json: raw.into(),
                }),
            };
            assert_invalid(ends(client.send(request)).await, raw);
        }
    });
}

fn send_typed_oversized() {
    with_client(|client| async move {
        let text = "😀\u{0}\"\\".repeat(2 << 20);
        let echoed = ends(client.send(functions::TestCallString { x: text.clone() })).await;
        assert_eq!(echoed.unwrap().value, text);
        let bytes: Vec<u8> = (0..10u32 << 20)
            .map(|i| i.wrapping_mul(7919) as u8)
            .collect();
        let echoed = ends(client.send(functions::TestCallBytes { x: bytes.clone() })).await;
        assert_eq!(echoed.unwrap().value, bytes);
        let many = vec![i32::MIN; 1_000_000];
        let echoed = ends(client.send(functions::TestCallVectorInt { x: many.clone() })).await;
        assert_eq!(echoed.unwrap().value, many);
    });
}

fn send_typed_odd_values() {
    with_client(|client| async move {
        for x in [i32::MIN, i32::MAX, 0, -1] {
            ends(client.send(functions::TestSquareInt { x }))
                .await
                .unwrap();
        }
        for seconds in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            -1.0,
            1e-300,
        ] {
            let answer =
                ends(client.send_timeout(functions::SetAlarm { seconds }, Duration::from_secs(5)))
                    .await;
            match answer {
                Ok(_) => {}
                Err(error) => assert!(error.is_tdlib() || error.is_timeout(), "{seconds}: {error}"),
            }
        }
        let echoed = ends(client.send(functions::TestCallString { x: lossy() })).await;
        assert_eq!(echoed.unwrap().value, lossy());
        // Absent objects where TDLib needs one: TDLib's own error, never a crash.
        let nothing = functions::ParseTextEntities {
            text: "x".into(),
            parse_mode: enums::TextParseMode::default(),
        };
        assert_tdlib_error(ends(client.send(nothing)).await, "no parse mode");
        let error = functions::TestReturnError {
            error: types::Error {
                code: i32::MIN,
                message: lossy(),
            },
        };
        let returned = ends(client.send(error)).await.unwrap_err();
        assert_eq!(returned.message(), Some(lossy().as_str()));
    });
}

fn send_typed_process_killers() {
    with_client(|client| async move {
        for verbosity_level in [0, -1, i32::MIN] {
            let request = functions::AddLogMessage {
                verbosity_level,
                text: "x".into(),
            };
            assert_invalid(ends(client.send(request)).await, "a fatal log message");
        }
        for json in [r#""\ud800""#, r#"["\udc00"]"#, r#"{"\ud83d":1}"#] {
            let request = functions::GetJsonValue { json: json.into() };
            assert_invalid(ends(client.send(request)).await, json);
        }
        let theme = functions::GetThemeParametersJsonString::default();
        assert!(
            ends(client.send(theme)).await.is_ok(),
            "a typed theme is always there"
        );
    });
}

fn send_after_close_and_concurrent_closes() {
    with_client(|client| async move {
        let waiting: Vec<_> = (0..100)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(
                    async move { client.send(functions::SetAlarm { seconds: 30.0 }).await },
                )
            })
            .collect();
        let closes: Vec<_> = (0..10)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move { client.close().await })
            })
            .collect();
        for close in closes {
            ends(close).await.unwrap().unwrap();
        }
        for request in waiting {
            assert!(ends(request).await.unwrap().unwrap_err().is_closed());
        }
        assert!(
            ends(client.send(functions::TestCallEmpty {}))
                .await
                .unwrap_err()
                .is_closed()
        );
        let json = client.send_json(json!({"@type": "testCallEmpty"}));
        assert!(ends(json).await.unwrap_err().is_closed());
        let mut updates = client.updates();
        assert!(
            ends(updates.recv()).await.is_none(),
            "a subscription of a closed client ends"
        );
        assert!(client.authorization_states().changed().await.is_none());
    });
}

fn execute_typed_hostile() {
    tdlib::set_log_verbosity(0).unwrap();
    assert_invalid(
        tdlib::execute(functions::GetJsonString {
            json_value: deep_json_value(1_000_000),
        }),
        "deep",
    );
    assert_invalid(
        tdlib::execute(functions::AddLogMessage {
            verbosity_level: 0,
            text: lossy(),
        }),
        "fatal",
    );
    assert_invalid(
        tdlib::execute(functions::GetJsonValue {
            json: r#""\ud800""#.into(),
        }),
        "surrogate",
    );
    let deep_text = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_tdlib_error(
        tdlib::execute(functions::GetJsonValue { json: deep_text }),
        "deep text",
    );
    let markdown = "**_".repeat(100_000);
    let _ = tdlib::execute(functions::ParseMarkdown {
        text: types::FormattedText {
            text: markdown,
            entities: vec![],
        },
    });
    let entity = |offset, length| types::TextEntity {
        offset,
        length,
        r#type: enums::TextEntityType::Bold(types::TextEntityTypeBold {}),
    };
    let entities = vec![
        entity(i32::MIN, i32::MAX),
        entity(-1, 5),
        entity(3, i32::MAX),
    ];
    let marked = tdlib::execute(functions::GetMarkdownText {
        text: types::FormattedText {
            text: lossy(),
            entities,
        },
    });
    assert_tdlib_error(marked, "bad entities");
    let _ = tdlib::execute(functions::SearchStringsByPrefix {
        strings: vec![lossy(); 1000],
        query: lossy(),
        limit: i32::MIN,
        return_none_for_empty_query: true,
    });
    let _ = tdlib::execute(functions::CleanFileName {
        file_name: lossy().repeat(10_000),
    });
    let _ = tdlib::execute(functions::GetPhoneNumberInfoSync {
        language_code: lossy(),
        phone_number_prefix: "+".repeat(100_000),
    });
    let _ = tdlib::execute(functions::GetThemeParametersJsonString::default());
    let _ = tdlib::execute(functions::GetCountryFlagEmoji {
        country_code: lossy(),
    });
    let _ = tdlib::execute(functions::SetLogVerbosityLevel {
        new_verbosity_level: i32::MIN,
    });
    let _ = tdlib::execute(functions::GetLogTagVerbosityLevel { tag: lossy() });
    let _ = tdlib::execute(functions::SetLogTagVerbosityLevel {
        tag: "actor".into(),
        new_verbosity_level: i32::MIN,
    });
}

fn raw_execute_hostile() {
    tdlib::set_log_verbosity(0).unwrap();
    let deep = format!(
        "{{\"@type\":\"getOption\",\"x\":{}}}",
        "[".repeat(1_000_000)
    );
    let big = format!(
        r#"{{"@type":"getTextEntities","text":"{}"}}"#,
        "a".repeat(50 << 20)
    );
    for refused in [
        "",
        "null",
        "[]",
        "{}",
        "{\"@type\":\"getOption\"",
        r#"{"@type":60135024}"#,
        r#"{"@type":null}"#,
        "{\"@type\":\"getOption\",\"name\":\"a\0b\"}",
        r#"{"@type":"cleanFileName","file_name":"\ud800"}"#,
        r#"{"@type":"cleanFileName","file_name":"\udc00\ud800"}"#,
        r#"{"@type":"getOption","name":"version"} trailing"#,
        "\u{feff}{\"@type\":\"getOption\",\"name\":\"version\"}",
        "{\"@type\":\"getOption\",\"name\":\"version\"\u{b}}",
        r#"{"@type":"getOption","name":NaN}"#,
        r#"{"@type":"addLogMessage","text":"x"}"#,
        r#"{"@type":"addLogMessage","verbosity_level":"0","verbosity_level":1}"#,
        r#"{"@type":"getThemeParametersJsonString"}"#,
        r#"{"@type":"getJsonValue","json":"\"\\ud800\""}"#,
        // Names with escapes are the same names to TDLib.
        r#"{"@type":"addLog\u004dessage","verbosity_level":0,"text":"x"}"#,
        r#"{"@type":"getThemeParameters\u004asonString"}"#,
        r#"{"\u0040type":"addLogMessage"}"#,
        deep.as_str(),
    ] {
        assert_invalid(
            raw::execute(refused),
            &refused.chars().take(80).collect::<String>(),
        );
    }
    for answered in [
        r#"{"@type":"getOption","name":"version","@extra":{"a":[1,2]}}"#,
        r#"{"@type":"noSuchFunction"}"#,
        r#"{"@type":"getOption","name":5}"#,
        r#"{"@type":"testReturnError","error":{"@type":"error","code":-1,"message":"\u00e9"}}"#,
        big.as_str(),
    ] {
        let answer = raw::execute(answered).unwrap();
        assert!(
            answer.starts_with("{\"@type\":"),
            "{}",
            &answer[..answer.len().min(200)]
        );
    }
}

fn builder_extremes() {
    let _closer = CloseOnExit::new();
    tdlib::set_log_verbosity(0).unwrap();
    runtime().block_on(async {
        for capacity in [0, 1, usize::MAX] {
            let client = Client::builder()
                .update_capacity(capacity)
                .lossless_warning(0)
                .build()
                .unwrap();
            let mut updates = client.updates();
            let mut lossless = client
                .subscription::<enums::Update>()
                .lossless()
                .warn_at(0)
                .subscribe();
            ends(client.send(functions::TestCallEmpty {}))
                .await
                .unwrap();
            client.close().await.unwrap();
            while let Some(event) = ends(updates.recv()).await {
                assert!(
                    matches!(event, Event::Update(_) | Event::Missed(_)),
                    "{event:?}"
                );
            }
            while ends(lossless.recv()).await.is_some() {}
        }
    });
}

fn start_with_hostile_parameters() {
    let _closer = CloseOnExit::new();
    tdlib::set_log_verbosity(0).unwrap();
    let scratch = std::env::temp_dir().join(format!("tdlib-hostile-{}", std::process::id()));
    runtime().block_on(async {
        // Each with a database folder of its own in the scratch folder (an empty one would be
        // the current directory).
        let folder = scratch.join("base").display().to_string();
        let base = tdlib::auth::parameters(94575, "0123456789abcdef0123456789abcdef", folder);
        let variants: Vec<functions::SetTdlibParameters> = vec![
            functions::SetTdlibParameters {
                api_id: i32::MIN,
                ..base.clone()
            },
            functions::SetTdlibParameters {
                api_hash: "h".repeat(1 << 20),
                ..base.clone()
            },
            functions::SetTdlibParameters {
                api_hash: lossy(),
                ..base.clone()
            },
            functions::SetTdlibParameters {
                database_directory: scratch.join("x".repeat(5000)).display().to_string(),
                ..base.clone()
            },
            functions::SetTdlibParameters {
                database_directory: "/proc/self/no/such/place".into(),
                ..base.clone()
            },
            functions::SetTdlibParameters {
                database_directory: scratch.join("ok").display().to_string(),
                system_language_code: lossy(),
                device_model: "😀".repeat(10_000),
                database_encryption_key: vec![0xff; 1 << 16],
                ..base.clone()
            },
        ];
        for parameters in variants {
            let started = Client::builder().start(parameters);
            match tokio::time::timeout(Duration::from_secs(30), started).await {
                Ok(Ok(client)) => client.close().await.unwrap(),
                Ok(Err(error)) => assert!(error.is_tdlib(), "{error}"),
                Err(_) => panic!("start did not end"),
            }
        }
    });
    let _ = std::fs::remove_dir_all(scratch);
}

fn subscriptions_hostile() {
    with_client(|client| async move {
        let mut panicky = client
            .subscription::<types::UpdateOption>()
            .filter(|_| panic!("a filter with a bug"))
            .subscribe();
        let mut fine = client
            .subscription::<types::UpdateOption>()
            .capacity(0)
            .subscribe();
        let dropped = client.updates();
        drop(dropped);
        let parameters = tdlib::auth::parameters(
            94575,
            "0123456789abcdef0123456789abcdef",
            std::env::temp_dir()
                .join(format!("tdlib-hostile-sub-{}", std::process::id()))
                .display()
                .to_string(),
        );
        ends(client.send(parameters)).await.unwrap();
        // The filter panics on the first option: the subscription's only event is its end.
        let last = match ends(panicky.recv()).await {
            Some(Event::Failed(error)) => error,
            other => panic!("{other:?}"),
        };
        assert!(last.is_receive_failed());
        assert!(ends(panicky.recv()).await.is_none());
        assert!(
            matches!(ends(fine.recv()).await, Some(Event::Missed(_))),
            "capacity 0 is 1"
        );
        ends(client.send(functions::TestCallEmpty {}))
            .await
            .unwrap();
        assert_eq!(
            tdlib::health().receive_failures,
            0,
            "a filter's panic is the subscription's own"
        );
    });
}

fn bot_authenticator_hostile() {
    with_client(|client| async move {
        let directory =
            std::env::temp_dir().join(format!("tdlib-hostile-bot-{}", std::process::id()));
        let parameters = tdlib::auth::parameters(
            94575,
            "0123456789abcdef0123456789abcdef",
            directory.display().to_string(),
        );
        for token in [
            String::new(),
            "\0".into(),
            ":".into(),
            lossy(),
            "1:".repeat(1 << 19),
        ] {
            let mut bot = tdlib::auth::Bot::new(parameters.clone(), token);
            // Offline, a token TDLib accepts to check waits for the network: bounded here.
            let outcome = tokio::time::timeout(
                Duration::from_secs(3),
                tdlib::auth::authorize(&client, &mut bot),
            )
            .await;
            if let Ok(result) = outcome {
                assert!(result.is_err(), "no login offline");
            }
        }
        let _ = std::fs::remove_dir_all(directory);
    });
}

/// An authenticator that answers everything with hostile text.
struct Hostile(usize);

impl tdlib::auth::Authenticator for Hostile {
    async fn parameters(
        &mut self,
    ) -> Result<functions::SetTdlibParameters, tdlib::auth::AuthError> {
        Ok(tdlib::auth::parameters(1, lossy(), "fake-db"))
    }
    async fn login(
        &mut self,
        _: Option<&tdlib::Error>,
    ) -> Result<tdlib::auth::Login, tdlib::auth::AuthError> {
        self.0 += 1;
        Ok(match self.0 {
            1 => tdlib::auth::Login::PhoneNumber("\0".repeat(1 << 20)),
            2 => tdlib::auth::Login::BotToken(lossy()),
            _ => tdlib::auth::Login::PhoneNumber("+15550001234".into()),
        })
    }
    async fn code(
        &mut self,
        _: &types::AuthenticationCodeInfo,
        _: Option<&tdlib::Error>,
    ) -> Result<String, tdlib::auth::AuthError> {
        self.0 += 1;
        Ok(if self.0 % 2 == 0 {
            lossy()
        } else {
            "9".repeat(1 << 20)
        })
    }
}

fn custom_authenticator_hostile() {
    // On the fake, which answers the login steps offline. The child of this case runs with the
    // fake first on the loader path.
    if std::env::var_os("TDLIB_FAKE_CHILD").is_none() {
        let script = json!({"login": {"phone_number": "+15550001234", "code": "24680"}});
        let fake = tdlib_fake_harness::Fake::new("hostile-authenticator", &script);
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "--exact",
                "hostile_inputs_end_with_values_or_typed_errors_and_never_abort_or_hang",
                "--nocapture",
            ])
            .env(CASE, "custom_authenticator_hostile")
            .env("TDLIB_FAKE_CHILD", "1");
        fake.configure(&mut command);
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{:?}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        return;
    }
    with_client(|client| async move {
        let result = ends(tdlib::auth::authorize(&client, &mut Hostile(0))).await;
        match result {
            Err(tdlib::auth::AuthError::Refused { error, .. }) => assert!(error.is_tdlib()),
            other => panic!("{other:?}"),
        }
    });
}
