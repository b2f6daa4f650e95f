//! The JSON mapping of every built-in TL type, of enums and of the unknown-object fallback,
//! checked both ways on generated types.

use std::fmt::Debug;

use tdlib_types::codec::{Decode, DecodeErrorKind, Encode, Function};
use tdlib_types::{Object, enums, functions, types};

/// `json` decodes to `value`, and `value` encodes to exactly `json`.
fn round_trip<T: Decode + Encode + PartialEq + Debug>(json: &str, value: T) {
    assert_eq!(T::from_json(json).unwrap(), value, "decoding {json}");
    assert_eq!(value.to_json(), json, "encoding {value:?}");
}

#[test]
fn int32_and_bool() {
    round_trip(
        r#"{"@type":"testInt","value":-7}"#,
        types::TestInt { value: -7 },
    );
    round_trip(
        r#"{"@type":"stickerFullTypeCustomEmoji","custom_emoji_id":"5","needs_repainting":true}"#,
        types::StickerFullTypeCustomEmoji {
            custom_emoji_id: 5,
            needs_repainting: true,
        },
    );
    assert!(types::TestInt::from_json(r#"{"@type":"testInt","value":3000000000}"#).is_err());
}

#[test]
fn int64_is_a_json_string_and_accepted_as_a_number() {
    for id in [0, -1, 1234567890123456789, i64::MAX, i64::MIN] {
        round_trip(
            &format!(r#"{{"@type":"chatPhotoStickerTypeCustomEmoji","custom_emoji_id":"{id}"}}"#),
            types::ChatPhotoStickerTypeCustomEmoji {
                custom_emoji_id: id,
            },
        );
    }
    let decoded = types::ChatPhotoStickerTypeCustomEmoji::from_json(
        r#"{"custom_emoji_id":9007199254740993}"#,
    )
    .unwrap();
    assert_eq!(decoded.custom_emoji_id, 9007199254740993);
    round_trip(
        r#"{"@type":"emojiStatusCustomEmojis","custom_emoji_ids":["1","-9223372036854775808"]}"#,
        types::EmojiStatusCustomEmojis {
            custom_emoji_ids: vec![1, i64::MIN],
        },
    );
}

#[test]
fn int53_is_a_json_number() {
    round_trip(
        r#"{"@type":"storageStatisticsFast","files_size":5000000000,"file_count":2,"database_size":12288,"language_pack_database_size":0,"log_size":0}"#,
        types::StorageStatisticsFast {
            files_size: 5_000_000_000,
            file_count: 2,
            database_size: 12288,
            ..Default::default()
        },
    );
}

#[test]
fn doubles_in_tdlib_format() {
    let location = types::Location::from_json(r#"{"@type":"location","latitude":1.500000,"longitude":-0.000000,"horizontal_accuracy":inf}"#).unwrap();
    assert_eq!(
        (
            location.latitude,
            location.longitude,
            location.horizontal_accuracy
        ),
        (1.5, -0.0, f64::INFINITY)
    );
    round_trip(
        r#"{"@type":"location","latitude":0.1,"longitude":-2.5e-300,"horizontal_accuracy":1e21}"#,
        types::Location {
            latitude: 0.1,
            longitude: -2.5e-300,
            horizontal_accuracy: 1e21,
        },
    );
}

#[test]
fn bytes_are_base64() {
    round_trip(
        r#"{"@type":"testBytes","value":"aGVsbG8="}"#,
        types::TestBytes {
            value: b"hello".to_vec(),
        },
    );
    round_trip(
        r#"{"@type":"testBytes","value":""}"#,
        types::TestBytes { value: Vec::new() },
    );
    let error =
        types::TestBytes::from_json(r#"{"@type":"testBytes","value":"aGVsbG8"}"#).unwrap_err();
    assert_eq!(error.kind, DecodeErrorKind::InvalidBase64);
}

#[test]
fn strings_are_utf8_with_escapes() {
    round_trip(
        r#"{"@type":"testString","value":"h\"é\\😀\n\u0001"}"#,
        types::TestString {
            value: "h\"é\\😀\n\u{1}".into(),
        },
    );
    // TDLib's own output escapes all non-ASCII.
    let decoded =
        types::TestString::from_json(r#"{"@type":"testString","value":"h\u00e9llo \ud83d\ude00"}"#)
            .unwrap();
    assert_eq!(decoded.value, "héllo 😀");
}

#[test]
fn vectors_nested_vectors_and_null_elements() {
    round_trip(
        r#"{"@type":"testVectorInt","value":[1,-2,3]}"#,
        types::TestVectorInt {
            value: vec![1, -2, 3],
        },
    );
    round_trip(
        r#"{"@type":"testVectorStringObject","value":[{"@type":"testString","value":"a"},{"@type":"testString","value":""}]}"#,
        types::TestVectorStringObject {
            value: vec![
                types::TestString { value: "a".into() },
                types::TestString::default(),
            ],
        },
    );
    let button = |text: &str| types::InlineKeyboardButton {
        text: text.into(),
        r#type: enums::InlineKeyboardButtonType::Callback(
            types::InlineKeyboardButtonTypeCallback { data: vec![1] },
        ),
        ..Default::default()
    };
    let keyboard = types::ReplyMarkupInlineKeyboard {
        rows: vec![vec![button("a"), button("b")], vec![], vec![button("c")]],
    };
    let json = keyboard.to_json();
    assert_eq!(
        types::ReplyMarkupInlineKeyboard::from_json(&json).unwrap(),
        keyboard
    );
    assert!(json.starts_with(r#"{"@type":"replyMarkupInlineKeyboard","rows":[[{"@type":"inlineKeyboardButton","text":"a","#), "{json}");
    // `messages.messages` documents null elements.
    round_trip(
        r#"{"@type":"messages","total_count":2,"messages":[null]}"#,
        types::Messages {
            total_count: 2,
            messages: vec![None],
        },
    );
}

#[test]
fn nullable_objects_are_options() {
    let info = types::AuthenticationCodeInfo {
        phone_number: "+1".into(),
        r#type: enums::AuthenticationCodeType::Sms(types::AuthenticationCodeTypeSms { length: 5 }),
        next_type: None,
        timeout: 30,
    };
    let json = r#"{"@type":"authenticationCodeInfo","phone_number":"+1","type":{"@type":"authenticationCodeTypeSms","length":5},"timeout":30}"#;
    round_trip(json, info.clone());
    let with_null = json.replace(r#","timeout""#, r#","next_type":null,"timeout""#);
    assert_eq!(
        types::AuthenticationCodeInfo::from_json(&with_null).unwrap(),
        info
    );
}

#[test]
fn enums_are_tagged_by_type_and_unknown_objects_are_kept() {
    round_trip(
        r#"{"@type":"textEntityTypeBold"}"#,
        enums::TextEntityType::Bold(types::TextEntityTypeBold {}),
    );
    // Another writer may put @type anywhere.
    let late =
        enums::TextEntityType::from_json(r#"{"url":"https://x","@type":"textEntityTypeTextUrl"}"#)
            .unwrap();
    assert_eq!(
        late,
        enums::TextEntityType::TextUrl(types::TextEntityTypeTextUrl {
            url: "https://x".into()
        })
    );
    // A type from a newer TDLib: kept whole, and written back unchanged.
    let future = r#"{"@type":"textEntityTypeFromTheFuture","level":3,"nested":{"a":[1,2]}}"#;
    let decoded = enums::TextEntityType::from_json(future).unwrap();
    let enums::TextEntityType::Unrecognized(unknown) = &decoded else {
        panic!("{decoded:?}")
    };
    assert_eq!(unknown.type_name, "textEntityTypeFromTheFuture");
    assert_eq!(decoded.to_json(), future);
    // Inside a known object, it does not fail the message.
    let entity = types::TextEntity::from_json(&format!(
        r#"{{"@type":"textEntity","offset":1,"length":2,"type":{future}}}"#
    ))
    .unwrap();
    assert_eq!(entity.length, 2);
    let missing = enums::TextEntityType::from_json(r#"{"url":"x"}"#).unwrap_err();
    assert_eq!(missing.kind, DecodeErrorKind::MissingType);
}

#[test]
fn an_absent_enum_field_is_visible_and_written_as_null() {
    let entity =
        types::TextEntity::from_json(r#"{"@type":"textEntity","offset":1,"length":2}"#).unwrap();
    let enums::TextEntityType::Unrecognized(absent) = &entity.r#type else {
        panic!("{entity:?}")
    };
    assert!(absent.is_absent());
    assert_eq!(entity.r#type, enums::TextEntityType::default());
    assert_eq!(
        entity.to_json(),
        r#"{"@type":"textEntity","offset":1,"length":2,"type":null}"#
    );
    let request = functions::ParseTextEntities {
        text: "x".into(),
        ..Default::default()
    };
    assert_eq!(
        request.to_json(),
        r#"{"@type":"parseTextEntities","text":"x","parse_mode":null}"#
    );
}

#[test]
fn any_object_and_updates() {
    assert_eq!(
        Object::from_json(r#"{"value":5,"@type":"testInt"}"#).unwrap(),
        Object::TestInt(types::TestInt { value: 5 })
    );
    let update = enums::Update::from_json(
        r#"{"@type":"updateOption","name":"version","value":{"@type":"optionValueString","value":"1.8.65"},"@client_id":1}"#,
    )
    .unwrap();
    let enums::Update::Option(option) = update else {
        panic!("{update:?}")
    };
    assert_eq!(
        option.value,
        enums::OptionValue::String(types::OptionValueString {
            value: "1.8.65".into()
        })
    );
}

#[test]
fn recursive_types_are_boxed() {
    let rich = enums::RichText::Bold(types::RichTextBold {
        text: Box::new(enums::RichText::Plain(types::RichTextPlain {
            text: "x".into(),
        })),
    });
    round_trip(
        r#"{"@type":"richTextBold","text":{"@type":"richTextPlain","text":"x"}}"#,
        rich,
    );
}

#[test]
fn requests_name_their_answer_type() {
    fn answer_of<F: Function>(_: &F) -> std::marker::PhantomData<F::Output> {
        std::marker::PhantomData
    }
    let _: std::marker::PhantomData<types::Chat> = answer_of(&functions::GetChat { chat_id: 1 });
    let _: std::marker::PhantomData<types::Ok> = answer_of(&functions::Close {});
    let _: std::marker::PhantomData<enums::AuthorizationState> =
        answer_of(&functions::GetAuthorizationState {});
    assert_eq!(
        functions::GetChat { chat_id: -100 }.to_json(),
        r#"{"@type":"getChat","chat_id":-100}"#
    );
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let parameters = functions::SetTdlibParameters {
        api_id: 94575,
        api_hash: "0123456789abcdef-secret-hash".into(),
        database_encryption_key: b"secret-key".to_vec(),
        ..Default::default()
    };
    let debug = format!("{parameters:?}");
    assert!(
        debug.contains("94575") && debug.contains("<redacted>"),
        "{debug}"
    );
    assert!(
        !debug.contains("secret-hash") && !debug.contains("secret-key"),
        "{debug}"
    );
    let token = format!(
        "{:?}",
        functions::CheckAuthenticationBotToken {
            token: "123:secret-token".into()
        }
    );
    assert!(!token.contains("secret-token"), "{token}");
    // Secrets under harmless names, or inside nested objects.
    let shown = [
        format!(
            "{:?}",
            functions::CheckAuthenticationEmailCode {
                code: enums::EmailAddressAuthentication::Code(
                    types::EmailAddressAuthenticationCode {
                        code: "secret-code".into()
                    }
                )
            }
        ),
        format!(
            "{:?}",
            types::AuthorizationStateWaitOtherDeviceConfirmation {
                link: "tg://login?token=secret-login".into()
            }
        ),
        format!(
            "{:?}",
            types::ProxyTypeMtproto {
                secret: "secret-proxy".into()
            }
        ),
        format!(
            "{:?}",
            functions::CheckAuthenticationPasswordRecoveryCode {
                recovery_code: "secret-recovery".into()
            }
        ),
        format!(
            "{:?}",
            types::RtmpUrl {
                url: "rtmp://x".into(),
                stream_key: "secret-stream".into()
            }
        ),
        format!(
            "{:?}",
            types::InputCredentialsNew {
                data: "secret-card".into(),
                allow_save: false
            }
        ),
    ];
    for debug in shown {
        assert!(
            !debug.contains("secret-") && debug.contains("<redacted>"),
            "{debug}"
        );
    }
}

#[test]
fn large_values_are_boxed_so_every_type_stays_small() {
    // Held inline, an Update would be 26 KB: copied on every move, allocated whole per update.
    for (name, size) in [
        ("Update", size_of::<enums::Update>()),
        ("Object", size_of::<Object>()),
        ("MessageContent", size_of::<enums::MessageContent>()),
        ("Message", size_of::<types::Message>()),
        ("Chat", size_of::<types::Chat>()),
    ] {
        assert!(size <= 1024, "{name} is {size} bytes");
    }
    assert!(size_of::<enums::Update>() <= 256);
}
