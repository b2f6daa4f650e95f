//! Every function TDLib documents as callable synchronously, called on the real TDLib with a
//! typed request: TDLib must accept the encoding, and its answer must decode into the
//! function's `Output` with nothing unrecognised and nothing lost.

use std::collections::BTreeSet;
use std::ffi::{CStr, CString};
use std::fmt::Debug;

use tdlib_types::codec::{Decode, Encode, Synchronous};
use tdlib_types::{enums, functions, types};

/// What a synchronous call gave: the typed answer, or TDLib's error.
type Answer<T> = Result<T, types::Error>;

/// Runs `request` with td_execute, checks TDLib parsed it, decodes the answer, and checks the
/// decoded value re-encodes to the same JSON (no field lost, no unknown object).
fn execute<F: Synchronous + Debug>(request: &F) -> Answer<F::Output>
where
    F::Output: Encode + Debug,
{
    let json = CString::new(request.to_json()).unwrap();
    // SAFETY: a valid request string; the answer is copied before any other TDLib call here.
    let answer = unsafe { CStr::from_ptr(tdlib_sys::td_execute(json.as_ptr())) }
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        !answer.contains("Failed to parse"),
        "TDLib could not parse {request:?}: {answer}"
    );
    if answer.starts_with(r#"{"@type":"error""#) {
        let error = types::Error::from_json(&answer).unwrap();
        assert_lossless(&answer, &error);
        return Err(error);
    }
    let output = F::Output::from_json(&answer)
        .unwrap_or_else(|error| panic!("{} answer {answer}: {error}", F::TYPE));
    assert!(
        !format!("{output:?}").contains("Unrecognized"),
        "{answer} decoded with an unknown object: {output:?}"
    );
    assert_lossless(&answer, &output);
    Ok(output)
}

fn assert_lossless<T: Encode>(answer: &str, decoded: &T) {
    let original: serde_json::Value = serde_json::from_str(answer).unwrap();
    let again: serde_json::Value = serde_json::from_str(&decoded.to_json()).unwrap();
    assert_eq!(
        original, again,
        "decoding and re-encoding changed the answer"
    );
}

fn text(text: &str) -> types::FormattedText {
    types::FormattedText {
        text: text.into(),
        entities: Vec::new(),
    }
}

fn bold(offset: i32, length: i32) -> types::TextEntity {
    types::TextEntity {
        offset,
        length,
        r#type: enums::TextEntityType::Bold(types::TextEntityTypeBold {}),
    }
}

#[test]
fn every_synchronous_function_on_the_real_tdlib() {
    let mut covered = BTreeSet::new();
    macro_rules! call {
        ($request:expr) => {{
            let request = $request;
            covered.insert(tdlib_types::codec::TlObject::type_name(&request));
            execute(&request)
        }};
    }

    // Logging first, so the rest runs quietly.
    call!(functions::SetLogVerbosityLevel {
        new_verbosity_level: 1
    })
    .unwrap();
    let level = call!(functions::GetLogVerbosityLevel {}).unwrap();
    assert_eq!(level.verbosity_level, 1);
    call!(functions::SetLogStream {
        log_stream: enums::LogStream::Empty(types::LogStreamEmpty {})
    })
    .unwrap();
    assert_eq!(
        call!(functions::GetLogStream {}).unwrap(),
        enums::LogStream::Empty(types::LogStreamEmpty {})
    );
    let tags = call!(functions::GetLogTags {}).unwrap();
    assert!(tags.tags.iter().any(|tag| tag == "td_requests"), "{tags:?}");
    call!(functions::SetLogTagVerbosityLevel {
        tag: "td_requests".into(),
        new_verbosity_level: 1
    })
    .unwrap();
    assert_eq!(
        call!(functions::GetLogTagVerbosityLevel {
            tag: "td_requests".into()
        })
        .unwrap()
        .verbosity_level,
        1
    );
    assert_eq!(
        call!(functions::GetLogTagVerbosityLevel { tag: "nope".into() })
            .unwrap_err()
            .code,
        400
    );
    call!(functions::AddLogMessage {
        verbosity_level: 1,
        text: "typed addLogMessage".into()
    })
    .unwrap();

    let version = call!(functions::GetOption {
        name: "version".into()
    })
    .unwrap();
    assert_eq!(
        version,
        enums::OptionValue::String(types::OptionValueString {
            value: tdlib_sys::TDLIB_VERSION.into()
        })
    );

    let found = call!(functions::SearchQuote {
        text: text("Hello brave new world"),
        quote: text("new world"),
        quote_position: 0
    });
    assert_eq!(found.unwrap().position, 12);

    let entities = call!(functions::GetTextEntities {
        text: "see https://example.org and @username #tag".into()
    })
    .unwrap();
    assert!(entities.entities.len() >= 3, "{entities:?}");

    let html = call!(functions::ParseTextEntities {
        text: "<b>bold</b> and <i>italic</i>".into(),
        parse_mode: enums::TextParseMode::HTML(types::TextParseModeHTML {}),
    })
    .unwrap();
    assert_eq!(html.text, "bold and italic");
    assert_eq!(html.entities[0], bold(0, 4));

    let markdown = call!(functions::ParseMarkdown {
        text: text("**bold** text")
    })
    .unwrap();
    assert_eq!(markdown.text, "bold text");
    let back = call!(functions::GetMarkdownText {
        text: types::FormattedText {
            text: "bold".into(),
            entities: vec![bold(0, 4)]
        }
    });
    assert_eq!(back.unwrap().text, "**bold**");

    let positions = call!(functions::SearchStringsByPrefix {
        strings: vec!["apple".into(), "banana".into(), "apricot".into()],
        query: "ap".into(),
        limit: 10,
        return_none_for_empty_query: false,
    })
    .unwrap();
    assert_eq!(
        (positions.total_count, positions.positions),
        (2, vec![0, 2])
    );

    call!(functions::CheckQuickReplyShortcutName {
        name: "hello".into()
    })
    .unwrap();
    assert_eq!(
        call!(functions::CheckQuickReplyShortcutName {
            name: "bad name!".into()
        })
        .unwrap_err()
        .code,
        200
    );

    assert_eq!(
        call!(functions::GetCountryFlagEmoji {
            country_code: "DE".into()
        })
        .unwrap()
        .text,
        "\u{1f1e9}\u{1f1ea}"
    );
    assert_eq!(
        call!(functions::GetFileMimeType {
            file_name: "a.png".into()
        })
        .unwrap()
        .text,
        "image/png"
    );
    assert_eq!(
        call!(functions::GetFileExtension {
            mime_type: "image/jpeg".into()
        })
        .unwrap()
        .text,
        "jpg"
    );
    assert_eq!(
        call!(functions::CleanFileName {
            file_name: "a/b:c?.txt".into()
        })
        .unwrap()
        .text,
        "b c.txt"
    );

    // No language pack database exists offline: TDLib answers 404, which must still decode.
    let missing = call!(functions::GetLanguagePackString {
        language_pack_database_path: String::new(),
        localization_target: "android".into(),
        language_pack_id: "en".into(),
        key: "Hello".into(),
    });
    assert_eq!(missing.unwrap_err().code, 404);

    let info = call!(functions::GetPhoneNumberInfoSync {
        language_code: "en".into(),
        phone_number_prefix: "+1555".into()
    })
    .unwrap();
    assert_eq!(
        info.country
            .as_ref()
            .map(|country| country.country_code.as_str()),
        Some("US")
    );

    let icon = call!(functions::GetChatFolderDefaultIconName {
        folder: Box::default()
    })
    .unwrap();
    assert!(!icon.name.is_empty());

    let value = call!(functions::GetJsonValue {
        json: r#"{"a":[1,true,null,"s",2.5]}"#.into()
    })
    .unwrap();
    let enums::JsonValue::Object(object) = &value else {
        panic!("{value:?}")
    };
    assert_eq!(object.members[0].key, "a");
    let json = call!(functions::GetJsonString {
        json_value: value.clone()
    })
    .unwrap();
    // TDLib writes every double with six decimals.
    assert_eq!(json.text, r#"{"a":[1.000000,true,null,"s",2.500000]}"#);

    let theme = call!(functions::GetThemeParametersJsonString {
        theme: types::ThemeParameters {
            text_color: 0x112233,
            ..Default::default()
        }
    });
    assert!(theme.unwrap().text.contains("\"text_color\":\"#112233\""));

    let push = call!(functions::GetPushReceiverId {
        payload: r#"{"p":"x"}"#.into()
    });
    assert_eq!(push.unwrap_err().code, 400);

    let error = call!(functions::TestReturnError {
        error: types::Error {
            code: 42,
            message: "boom".into()
        }
    });
    // Its answer is an `error` object, which is how every failure looks.
    assert_eq!(
        error,
        Err(types::Error {
            code: 42,
            message: "boom".into()
        })
    );

    let expected: BTreeSet<&str> = functions::SYNCHRONOUS.iter().copied().collect();
    assert_eq!(covered, expected, "every synchronous function is covered");
    assert_eq!(covered.len(), 28);
}
