//! Checks the parser against the real `td_api.tl` of the pinned TDLib release.
//!
//! The schema is not in the repository: set `TDLIB_SCHEMA`, or run `scripts/setup`, which puts
//! it into the cache. Without it these tests fail.

mod common;

use std::collections::HashMap;
use std::time::Instant;

use tdlib_tl::{Schema, Type, parse, validate};

fn schema() -> Schema {
    let text = common::real_schema();
    let start = Instant::now();
    let schema = parse(&text).unwrap_or_else(|err| panic!("the real schema does not parse: {err}"));
    // Informational only: `cargo test --release -p tdlib-tl -- --nocapture` shows it.
    eprintln!("parsed td_api.tl in {:?}", start.elapsed());
    schema
}

/// Counts declarations with simple line rules, independent of the parser: every non-blank
/// line that is not a comment and ends in `;`, split at `---functions---`, without the nine
/// built-ins.
fn count_declarations(text: &str) -> (usize, usize) {
    let mut types = 0;
    let mut functions = 0;
    let mut in_functions = false;
    for line in text.lines() {
        let line = line.trim();
        if line == "---functions---" {
            in_functions = true;
        } else if !line.starts_with("//") && line.ends_with(';') {
            if in_functions {
                functions += 1;
            } else {
                types += 1;
            }
        }
    }
    (types - 9, functions)
}

#[test]
fn declaration_counts_match_the_text() {
    let text = common::real_schema();
    let schema = parse(&text).unwrap_or_else(|err| panic!("the real schema does not parse: {err}"));
    let (types, functions) = count_declarations(&text);
    assert_eq!(schema.types.len(), types);
    assert_eq!(schema.functions.len(), functions);
}

#[test]
fn counts_of_tdlib_1_8_65() {
    let schema = schema();
    assert_eq!(schema.types.len(), 2117);
    assert_eq!(schema.functions.len(), 1001);
    assert_eq!(schema.classes.len(), 209);
    assert_eq!(schema.constructors_of("Update").count(), 182);
    assert!(
        schema
            .constructors_of("Update")
            .all(|def| def.name.starts_with("update"))
    );
    let in_classes = schema
        .types
        .iter()
        .filter(|def| schema.class(&def.result).is_some())
        .count();
    assert_eq!(in_classes, 1599);
    assert_eq!(schema.types.len() - in_classes, 518);
    let returning_ok = schema
        .functions
        .iter()
        .filter(|def| def.result == "Ok")
        .count();
    assert_eq!(returning_ok, 469);
    assert_eq!(
        schema.constructor("chat").map(|def| def.params.len()),
        Some(43)
    );
    assert_eq!(
        schema
            .function("setTdlibParameters")
            .map(|def| def.params.len()),
        Some(14)
    );
    let no_fields = schema
        .types
        .iter()
        .filter(|def| def.params.is_empty())
        .count();
    assert_eq!(no_fields, 556);
    let no_params = schema
        .functions
        .iter()
        .filter(|def| def.params.is_empty())
        .count();
    assert_eq!(no_params, 107);
}

#[test]
fn field_types() {
    let schema = schema();
    // Base type of every field and parameter, looking through `vector<...>`.
    let mut by_base: HashMap<&str, usize> = HashMap::new();
    let mut nested_vectors = Vec::new();
    for def in schema.types.iter().chain(&schema.functions) {
        for param in &def.params {
            let mut ty = &param.ty;
            let mut depth = 0;
            while let Type::Vector(inner) = ty {
                ty = inner;
                depth += 1;
            }
            if depth == 2 {
                nested_vectors.push(format!("{}.{}", def.name, param.name));
            }
            assert!(
                depth <= 2,
                "{}.{} has a triple vector",
                def.name,
                param.name
            );
            let base = match ty {
                Type::Int32 => "int32",
                Type::Int53 => "int53",
                Type::Int64 => "int64",
                Type::Double => "double",
                Type::String => "string",
                Type::Bytes => "bytes",
                Type::Bool => "Bool",
                Type::Named(_) => "object",
                Type::Vector(_) => unreachable!("vectors were unwrapped above"),
            };
            *by_base.entry(base).or_default() += 1;
        }
    }
    let expected = [
        ("string", 1258),
        ("int32", 1173),
        ("int53", 1153),
        ("Bool", 1065),
        ("object", 1843),
        ("int64", 197),
        ("bytes", 55),
        ("double", 41),
    ];
    for (base, count) in expected {
        assert_eq!(
            by_base.get(base),
            Some(&count),
            "fields of base type {base}"
        );
    }
    assert_eq!(
        nested_vectors,
        [
            "replyMarkupShowKeyboard.rows",
            "replyMarkupInlineKeyboard.rows",
            "pageBlockTable.cells"
        ]
    );
    let entities = schema
        .constructor("formattedText")
        .and_then(|def| def.param("entities"))
        .map(|param| param.ty.to_string());
    assert_eq!(entities.as_deref(), Some("vector<textEntity>"));
    let entity_type = schema
        .constructor("textEntity")
        .and_then(|def| def.param("type"))
        .map(|param| param.ty.clone());
    assert_eq!(entity_type, Some(Type::Named("TextEntityType".to_owned())));
}

#[test]
fn every_class_has_at_least_two_constructors() {
    let schema = schema();
    for class in &schema.classes {
        let count = schema.constructors_of(&class.name).count();
        assert!(count >= 2, "class {} has {count} constructors", class.name);
    }
    // And every result with several constructors is a class.
    let mut per_result: HashMap<&str, usize> = HashMap::new();
    for def in &schema.types {
        *per_result.entry(&def.result).or_default() += 1;
    }
    for (result, count) in per_result {
        assert!(
            count == 1 || schema.class(result).is_some(),
            "{result} has {count} constructors but no @class"
        );
    }
}

#[test]
fn validates() {
    let schema = schema();
    if let Err(err) = validate(&schema) {
        panic!("the real schema does not validate: {err}");
    }
}

#[test]
fn everything_is_documented() {
    let schema = schema();
    let mut undocumented = Vec::new();
    for class in &schema.classes {
        if class.description.is_empty() {
            undocumented.push(class.name.clone());
        }
    }
    for def in schema.types.iter().chain(&schema.functions) {
        if def.description.is_empty() {
            undocumented.push(def.name.clone());
        }
        for param in &def.params {
            if param.description.is_empty() {
                undocumented.push(format!("{}.{}", def.name, param.name));
            }
        }
    }
    assert_eq!(undocumented, Vec::<String>::new());
}

#[test]
fn param_description_documents_the_description_field() {
    let schema = schema();
    let fields: Vec<_> = schema
        .types
        .iter()
        .chain(&schema.functions)
        .filter_map(|def| def.param("description").map(|param| (def, param)))
        .collect();
    assert_eq!(fields.len(), 26);
    for (def, param) in fields {
        assert!(!param.description.is_empty(), "{}.description", def.name);
        assert_ne!(param.description, def.description, "{}", def.name);
    }
}

#[test]
fn continuation_lines_are_joined() {
    let schema = schema();
    let formatted_text = schema.constructor("formattedText").expect("formattedText");
    assert_eq!(formatted_text.description, "A text with some entities");
    assert_eq!(
        formatted_text
            .param("text")
            .map(|param| param.description.as_str()),
        Some("The text")
    );
    assert_eq!(
        formatted_text
            .param("entities")
            .map(|param| param.description.as_str()),
        Some(
            "Entities contained in the text. Entities can be nested, but must not mutually \
             intersect with each other. Pre, Code, PreCode, and DateTime entities can't contain \
             other entities. BlockQuote entities can't contain other BlockQuote entities. Bold, \
             Italic, Underline, Strikethrough, and Spoiler entities can contain and can be part \
             of any other entities. All other entities can't contain each other"
        )
    );
    // The one class whose description has a continuation line.
    let device_token = schema.class("DeviceToken").expect("DeviceToken");
    assert!(device_token.description.starts_with(
        "Represents a data needed to subscribe for push notifications through registerDevice \
         method. To use specific push notification service,"
    ));
    assert!(
        device_token
            .description
            .ends_with("must be uploaded at https://my.telegram.org")
    );
}

#[test]
fn order_and_lines() {
    let schema = schema();
    let first = &schema.types[0];
    assert_eq!(
        (first.name.as_str(), first.result.as_str()),
        ("error", "Error")
    );
    assert_eq!(schema.types[1].name, "ok");
    let text = common::real_schema();
    let lines: Vec<&str> = text.lines().collect();
    for def in schema.types.iter().chain(&schema.functions) {
        let line = lines[def.line - 1];
        assert!(
            line.starts_with(&format!("{} ", def.name))
                || line.starts_with(&format!("{} =", def.name)),
            "line {} is not the declaration of {}",
            def.line,
            def.name
        );
    }
    for class in &schema.classes {
        assert!(lines[class.line - 1].starts_with(&format!("//@class {} ", class.name)));
    }
    let separator = lines
        .iter()
        .position(|line| *line == "---functions---")
        .map(|index| index + 1)
        .expect("---functions---");
    assert!(schema.types.iter().all(|def| def.line < separator));
    assert!(schema.functions.iter().all(|def| def.line > separator));
    assert!(
        schema
            .types
            .windows(2)
            .all(|pair| pair[0].line < pair[1].line)
    );
    assert!(
        schema
            .functions
            .windows(2)
            .all(|pair| pair[0].line < pair[1].line)
    );
}
