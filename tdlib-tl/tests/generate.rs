//! The generator: its naming rules, and a golden file of its whole output for a small schema
//! that has every construct (classes, recursion, nullable fields and elements, nested vectors,
//! each scalar, a keyword field name, a secret, a synchronous function).
//!
//! After an intended change of the output, refresh the golden file with
//! `UPDATE_GOLDEN=1 cargo test -p tdlib-tl --test generate` and review its diff.

mod common;

use std::path::Path;

use tdlib_tl::Type;
use tdlib_tl::generate::{
    field_ident, generate, markdown, nullable, nullable_elements, pascal, variant_name,
    variant_names,
};

#[test]
fn output_matches_the_golden_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let schema = tdlib_tl::parse(&std::fs::read_to_string(dir.join("schema.tl")).unwrap()).unwrap();
    tdlib_tl::validate(&schema).unwrap();
    let generated = generate(&schema).source;
    assert_eq!(
        generate(&schema).source,
        generated,
        "the output is deterministic"
    );
    let golden = dir.join("expected.rs");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &generated).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap();
    assert!(
        expected == generated,
        "generated code differs from tests/golden/expected.rs; see the file's header"
    );
}

#[test]
fn golden_output_has_the_decisions_it_should() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let source = std::fs::read_to_string(dir.join("expected.rs")).unwrap();
    // Recursion through a non-vector field is boxed; elsewhere not.
    assert!(source.contains("pub text: Box<crate::enums::RichText>,"));
    assert!(
        source.contains("pub content: Option<crate::enums::RichText>,"),
        "may be null → Option"
    );
    assert!(source.contains("pub title: Option<crate::types::RichTextPlain>,"));
    assert!(
        source.contains("pub messages: Vec<Option<crate::types::Message>>,"),
        "null elements"
    );
    assert!(source.contains("pub rows: Vec<Vec<String>>,"));
    assert!(source.contains("pub r#type: String,"));
    assert!(source.contains("pub reply_to_ids: Vec<i64>,") && source.contains("w.i64_string(*x)"));
    assert!(
        source.contains("pub text: Option<crate::enums::RichText>,"),
        "pass null → Option"
    );
    // Variants: class prefix stripped where present, full name otherwise.
    assert!(source.contains("Plain(crate::types::RichTextPlain),"));
    assert!(source.contains("LinkPreviewText(crate::types::LinkPreviewText),"));
    assert!(source.contains("Unrecognized(UnknownObject),"));
    // Answers and markers.
    assert!(
        source.contains(
            "impl Function for GetMessage {\n        type Output = crate::types::Message;"
        )
    );
    assert!(source.contains("impl Synchronous for CheckToken {}"));
    assert!(!source.contains("impl Synchronous for GetMessage"));
    assert!(
        source.contains(r#".field("token", &crate::codec::Redacted)"#),
        "secrets are redacted"
    );
    assert!(
        source.contains(r#".field("code", &crate::codec::Redacted)"#),
        "a code in a request is a secret"
    );
    assert!(
        source.contains("#[derive(Debug, Clone, PartialEq, Default)]\n    pub struct Error {"),
        "error.code is not"
    );
    assert!(
        source.contains("<https://core.telegram.org/api>"),
        "URLs are links"
    );
}

#[test]
fn naming_rules() {
    assert_eq!(pascal("formattedText"), "FormattedText");
    assert_eq!(pascal(""), "");
    assert_eq!(variant_name("TextEntityType", "textEntityTypeBold"), "Bold");
    assert_eq!(variant_name("MessageContent", "messageText"), "MessageText");
    assert_eq!(variant_name("ProxyType", "proxyTypeSocks5"), "Socks5");
    // A prefix that does not end at a word boundary is not stripped.
    assert_eq!(variant_name("Chat", "chatsList"), "ChatsList");
    // Names that would clash with each other or with the catch-all keep their full form.
    let schema = tdlib_tl::parse(
        "//@class Kind @description K\n\n//@description A\nkindUnrecognized = Kind;\n//@description B\nkindOther = Kind;\n",
    )
    .unwrap();
    let constructors: Vec<_> = schema.types.iter().collect();
    let names: Vec<String> = variant_names("Kind", &constructors)
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    assert_eq!(names, ["KindUnrecognized", "KindOther"]);
    assert_eq!(field_ident("type"), "r#type");
    assert_eq!(field_ident("chat_id"), "chat_id");
    assert_eq!(
        markdown("a_b *c* [d] <e> `f`"),
        r"a\_b \*c\* \[d\] &lt;e&gt; \`f\`"
    );
    assert_eq!(
        markdown("see (https://x.org/a_b). Then"),
        "see (<https://x.org/a_b>). Then"
    );
}

#[test]
fn the_real_schema_generates() {
    let schema = tdlib_tl::parse(&common::real_schema()).unwrap();
    let source = generate(&schema).source;
    // Every constructor and function became an item; every class an enum.
    assert_eq!(
        source.matches("\n    pub struct ").count(),
        schema.types.len() + schema.functions.len()
    );
    assert_eq!(
        source.matches("\n    pub enum ").count(),
        schema.classes.len()
    );
    assert_eq!(source.matches("impl Synchronous for ").count(), 28);
    assert_eq!(
        source.matches("\n    impl Function for ").count(),
        schema.functions.len()
    );
}

#[test]
fn every_mention_of_null_in_the_real_schema_is_classified() {
    let schema = tdlib_tl::parse(&common::real_schema()).unwrap();
    let mut option_fields = 0;
    let mut others = Vec::new();
    for def in schema.types.iter().chain(&schema.functions) {
        for param in &def.params {
            if !param.description.to_ascii_lowercase().contains("null") {
                continue;
            }
            if nullable(def, param) {
                option_fields += 1;
                continue;
            }
            let kind = if nullable_elements(param) {
                "null elements"
            } else if matches!(param.ty, Type::Named(_)) {
                "required object"
            } else {
                "not an object"
            };
            others.push(format!("{}.{}: {kind}", def.name, param.name));
        }
    }
    // Object fields documented with "may be null", and parameters with "pass null" / "If null".
    assert_eq!(option_fields, 566, "Option fields");
    assert_eq!(
        others,
        [
            "animatedEmoji.sticker_width: not an object",
            "animatedEmoji.sticker_height: not an object",
            "messages.messages: null elements",
            "quickReplyMessages.messages: null elements",
            // "must be valid and not null"
            "setChatLocation.location: required object",
        ]
    );
}
