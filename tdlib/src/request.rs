//! Requests on their way to TDLib: encoded once, and checked for what TDLib could not answer.
//!
//! TDLib matches an answer to its request only through the request's `@extra`, and it loses
//! `@extra` whenever its JSON parser refuses the text: invalid JSON, a text that is not an
//! object, or objects and arrays nested more than [`MAX_REQUEST_DEPTH`] deep (checked against
//! TDLib 1.8.65: a value inside 101 containers is refused with "Too big object depth"). Such an
//! answer cannot reach the request that caused it, so the request would wait forever. Every
//! request is therefore checked here, before `td_send`, for exactly those cases, and refused
//! with [`Error`] (`is_invalid_request`).
//!
//! Other checks keep the process alive. TDLib 1.8.65 kills the process (checked against it):
//! - on `addLogMessage` with a verbosity level of 0 or less, or none (a "fatal" log message:
//!   SIGABRT);
//! - on `getThemeParametersJsonString` without `theme` (SIGSEGV);
//! - on `getJsonValue` whose JSON text holds an unpaired UTF-16 surrogate escape such as
//!   `"\ud800"`: TDLib makes an invalid string of it and aborts when it writes it back;
//! - on any string with invalid UTF-8 or a lone surrogate escape that it writes back (in
//!   `@extra`, an unknown `@type`, an echoed value).
//!
//! - on `getDatabaseStatistics` in a client initialized without any database (SIGSEGV); that
//!   depends on the client, so the client checks it ([`Special::GetDatabaseStatistics`]).
//!
//! Each request's function is sorted once into [`Special`]; the first three are refused by
//! their arguments ([`refuse_process_killers`]). Typed requests and
//! `serde_json` values are valid UTF-8 JSON by construction, which rules out the last; raw
//! text (an [`UnknownObject`](tdlib_types::codec::UnknownObject)'s, or
//! [`raw::execute`](crate::raw)'s) is checked with [`check_json`], which refuses lone
//! surrogates.

use std::ffi::CString;
use std::fmt::Write as _;

use tdlib_types::codec::{Function, MAX_DEPTH, Reader, Writer, check_json};

use crate::Error;

/// The deepest nesting of objects and arrays TDLib accepts in a request (the request object
/// itself is the first level).
pub const MAX_REQUEST_DEPTH: usize = 100;

/// A checked request: a JSON object, without its closing brace, so that `@extra` can be
/// appended without copying. Its `Debug` shows no content (it can hold a password).
pub(crate) struct Body {
    text: String,
    function: Special,
}

/// The functions this crate must look at more closely (see the module docs): those whose
/// arguments can make TDLib kill the process, and those whose safety depends on the client
/// they go to (TDLib 1.8.65 crashes on `getDatabaseStatistics` in a client initialized without
/// any database, so the client notes what `setTdlibParameters` asked for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    AddLogMessage,
    GetJsonValue,
    GetThemeParametersJsonString,
    SetTdlibParameters,
    GetDatabaseStatistics,
    Other,
}

impl Special {
    fn of(name: &str) -> Special {
        match name {
            "addLogMessage" => Special::AddLogMessage,
            "getJsonValue" => Special::GetJsonValue,
            "getThemeParametersJsonString" => Special::GetThemeParametersJsonString,
            "setTdlibParameters" => Special::SetTdlibParameters,
            "getDatabaseStatistics" => Special::GetDatabaseStatistics,
            _ => Special::Other,
        }
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body")
            .field("function", &self.function)
            .field("bytes", &self.text.len())
            .finish_non_exhaustive()
    }
}

impl Body {
    /// Encodes a typed request.
    pub(crate) fn typed<F: Function>(request: F) -> Result<Body, Error> {
        let mut writer = Writer::with_buffer(String::with_capacity(64));
        request.encode(&mut writer);
        if writer.max_depth() > MAX_DEPTH {
            // The writer stopped there, but the value may go on for millions of levels, and
            // dropping it would recurse that deep and overflow the stack: it is leaked instead.
            std::mem::forget(request);
        }
        if let Some(problem) = writer.problem() {
            return Err(Error::unencodable(problem.clone()));
        }
        check_depth(writer.max_depth())?;
        let text = writer.finish();
        let function = Special::of(F::TYPE);
        refuse_process_killers(function, &text)?;
        Body::object(text, function)
    }

    /// A request given as a `serde_json` value: an object with a string `@type`. Its `@extra`,
    /// if any, is taken out and returned (the caller gets it back in the answer).
    pub(crate) fn json(
        request: serde_json::Value,
    ) -> Result<(Body, Option<serde_json::Value>), Error> {
        // Measured without recursion: a value can be built millions of levels deep, and
        // serde_json's writer would overflow the stack on it (as would its drop).
        let depth = json_depth(&request);
        if depth > MAX_REQUEST_DEPTH {
            drop_deep(request);
            return Err(too_deep(depth));
        }
        let serde_json::Value::Object(mut object) = request else {
            return Err(Error::invalid_request("a request must be a JSON object"));
        };
        let Some(name) = object.get("@type").and_then(serde_json::Value::as_str) else {
            return Err(Error::invalid_request(
                "a request needs a string \"@type\" (the name of a TDLib function)",
            ));
        };
        let function = Special::of(name);
        let extra = object.remove("@extra");
        // serde_json writes valid JSON from Rust strings, which hold no lone surrogate.
        let text = serde_json::Value::Object(object).to_string();
        refuse_process_killers(function, &text)?;
        Ok((Body::object(text, function)?, extra))
    }

    /// A request given as JSON text, for `td_execute`: checked strictly (TDLib aborts on some
    /// malformed strings), and held to the same depth as every other request.
    pub(crate) fn text(request: &str) -> Result<Body, Error> {
        let depth = check_json(request)
            .map_err(|error| Error::invalid_json("the request is not valid JSON", error))?;
        check_depth(depth)?;
        let mut reader = Reader::new(request);
        if reader.peek() != Some(b'{') {
            return Err(Error::invalid_request("a request must be a JSON object"));
        }
        // Compared as TDLib reads it: with escapes decoded (`"addLog\u004dessage"` is
        // addLogMessage to TDLib).
        let Some(name) = top_level_field(request, "@type").and_then(decoded_string) else {
            return Err(Error::invalid_request(
                "a request needs a string \"@type\" (the name of a TDLib function)",
            ));
        };
        let function = Special::of(&name);
        refuse_process_killers(function, request)?;
        Body::object(request.trim_end().to_owned(), function)
    }

    fn object(mut text: String, function: Special) -> Result<Body, Error> {
        if text.pop() != Some('}') {
            return Err(Error::invalid_request("a request must be a JSON object"));
        }
        Ok(Body { text, function })
    }

    /// Which of the [`Special`] functions this is.
    pub(crate) fn function(&self) -> Special {
        self.function
    }

    /// For `setTdlibParameters`: whether it asks for any database (TDLib reads `true`, or a
    /// non-zero number or numeric string, as true).
    pub(crate) fn asks_for_a_database(&self) -> bool {
        // The text lacks its closing brace, which the field lookup does not need.
        let text = &self.text;
        [
            "use_file_database",
            "use_chat_info_database",
            "use_message_database",
        ]
        .iter()
        .any(|name| match top_level_field(text, name) {
            Some("true") => true,
            Some(raw) => raw
                .trim_matches('"')
                .parse::<f64>()
                .is_ok_and(|number| number != 0.0),
            None => false,
        })
    }

    /// The text for `td_send`, with `@extra` as its last key.
    pub(crate) fn with_extra(self, extra: u64) -> Result<CString, Error> {
        let mut text = self.text;
        // Room for the key, the number, the brace and the NUL, so nothing reallocates.
        text.reserve(32);
        let _ = write!(text, ",\"@extra\":{extra}}}");
        c_string(text)
    }

    /// The request as JSON text, without `@extra`: for a transport to another process.
    pub(crate) fn into_text(self) -> String {
        let mut text = self.text;
        text.push('}');
        text
    }

    /// The text as it is, for `td_execute`.
    pub(crate) fn into_c_string(self) -> Result<CString, Error> {
        let mut text = self.text;
        text.push('}');
        c_string(text)
    }
}

/// JSON writers escape NUL, so only raw text can hold one; TDLib would stop reading there.
fn c_string(text: String) -> Result<CString, Error> {
    CString::new(text).map_err(|_| Error::invalid_request("a request must not contain a NUL byte"))
}

fn check_depth(depth: usize) -> Result<(), Error> {
    if depth > MAX_REQUEST_DEPTH {
        return Err(too_deep(depth));
    }
    Ok(())
}

fn too_deep(depth: usize) -> Error {
    Error::invalid_request(format!(
        "the request nests {depth} levels deep; TDLib refuses more than {MAX_REQUEST_DEPTH} \
         (and its refusal could not be matched to the request)"
    ))
}

/// The raw text of the first top-level field `name` of an object, as TDLib reads it (the
/// first occurrence of a key wins). The text must have passed [`check_json`].
fn top_level_field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let mut reader = Reader::new(text);
    let mut seq = reader.begin_object().ok()?;
    while let Some(key) = reader.next_key(&mut seq).ok()? {
        let value = reader.raw_value().ok()?;
        if key == name {
            return Some(value);
        }
    }
    None
}

/// Refuses the requests that would make TDLib kill the process (see the module docs). `text`
/// is a JSON object that passed [`check_json`], a request for `function`.
pub(crate) fn refuse_process_killers(function: Special, text: &str) -> Result<(), Error> {
    match function {
        Special::AddLogMessage => {
            // TDLib reads a number, or a string holding one; missing or null means 0.
            let level = top_level_field(text, "verbosity_level").and_then(|raw| {
                let digits = if raw.starts_with('"') {
                    decoded_string(raw)?
                } else {
                    raw.to_owned()
                };
                digits.parse::<i64>().ok()
            });
            match level {
                Some(level) if level >= 1 => Ok(()),
                _ => Err(Error::invalid_request(
                    "addLogMessage needs a verbosity_level of at least 1: TDLib aborts the \
                     process on a fatal (0) log message",
                )),
            }
        }
        Special::GetThemeParametersJsonString => match top_level_field(text, "theme") {
            Some(theme) if theme.starts_with('{') => Ok(()),
            _ => Err(Error::invalid_request(
                "getThemeParametersJsonString needs a theme: TDLib crashes without one",
            )),
        },
        Special::GetJsonValue => {
            let json = top_level_field(text, "json")
                .and_then(decoded_string)
                .unwrap_or_default();
            if has_unpaired_surrogate_escape(&json) {
                return Err(Error::invalid_request(
                    "getJsonValue's text has an unpaired UTF-16 surrogate escape (such as \
                     \\ud800): TDLib aborts the process on it",
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The content of a raw JSON string value, escapes decoded; `None` if `raw` is not a string.
fn decoded_string(raw: &str) -> Option<String> {
    Reader::new(raw).owned_string().ok()
}

/// Whether `text` holds a `\uXXXX` escape of a UTF-16 surrogate that is not a high surrogate
/// directly followed by an escaped low one.
fn has_unpaired_surrogate_escape(text: &str) -> bool {
    let bytes = text.as_bytes();
    let unit = |at: usize| -> Option<u16> {
        let digits = bytes.get(at..at + 6)?;
        if !digits.starts_with(b"\\u") {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(&digits[2..]).ok()?, 16).ok()
    };
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'\\' {
            at += 1;
            continue;
        }
        match unit(at) {
            Some(0xD800..=0xDBFF) => match unit(at + 6) {
                Some(0xDC00..=0xDFFF) => at += 12,
                _ => return true,
            },
            Some(0xDC00..=0xDFFF) => return true,
            Some(_) => at += 6,
            // Any other escape is two characters: `\\` must not start a new one.
            None => at += 2,
        }
    }
    false
}

/// The deepest nesting of arrays and objects in `value`, without recursion.
fn json_depth(value: &serde_json::Value) -> usize {
    let is_container = |value: &serde_json::Value| value.is_array() || value.is_object();
    // Most requests are a flat object: no walk needed.
    if let serde_json::Value::Object(members) = value {
        if !members.values().any(is_container) {
            return 1;
        }
    }
    let mut deepest = 0;
    let mut stack = vec![(value, 1usize)];
    while let Some((value, depth)) = stack.pop() {
        match value {
            serde_json::Value::Array(items) => {
                deepest = deepest.max(depth);
                stack.extend(items.iter().map(|item| (item, depth + 1)));
            }
            serde_json::Value::Object(members) => {
                deepest = deepest.max(depth);
                stack.extend(members.values().map(|member| (member, depth + 1)));
            }
            _ => {}
        }
    }
    deepest
}

/// Drops a value without recursion (serde_json's own drop recurses once per level).
fn drop_deep(value: serde_json::Value) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            serde_json::Value::Array(items) => stack.extend(items),
            serde_json::Value::Object(members) => stack.extend(members.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tdlib_types::codec::UnknownObject;
    use tdlib_types::{enums, functions, types};

    use super::*;

    fn nested_json_value(depth: usize) -> enums::JsonValue {
        let mut value = enums::JsonValue::Null(types::JsonValueNull {});
        for _ in 0..depth {
            value = enums::JsonValue::Array(types::JsonValueArray {
                values: vec![value],
            });
        }
        value
    }

    #[test]
    fn typed_requests_up_to_the_limit_pass_and_deeper_ones_are_refused() {
        // The request object is level 1, each jsonValueArray two more (object and array).
        let fits = functions::GetJsonString {
            json_value: nested_json_value((MAX_REQUEST_DEPTH - 2) / 2),
        };
        let body = Body::typed(fits).unwrap();
        assert!(
            body.with_extra(7)
                .unwrap()
                .to_str()
                .unwrap()
                .ends_with(",\"@extra\":7}")
        );
        let too_deep = functions::GetJsonString {
            json_value: nested_json_value(MAX_REQUEST_DEPTH / 2),
        };
        let error = Body::typed(too_deep).unwrap_err();
        assert!(error.is_invalid_request(), "{error}");
        assert!(error.to_string().contains("levels deep"), "{error}");
    }

    #[test]
    fn a_typed_value_millions_of_levels_deep_is_refused_without_overflowing_the_stack() {
        let mut deep = enums::JsonValue::Null(types::JsonValueNull {});
        for _ in 0..1_000_000 {
            deep = enums::JsonValue::Array(types::JsonValueArray { values: vec![deep] });
        }
        // Encoding stops at the writer's limit, and the value is leaked rather than dropped
        // (its drop would recurse a million levels).
        let error = Body::typed(functions::GetJsonString { json_value: deep }).unwrap_err();
        assert!(error.is_invalid_request(), "{error}");
    }

    #[test]
    fn raw_json_inside_a_typed_request_is_checked() {
        let with_raw = |json: &str| functions::GetJsonString {
            json_value: enums::JsonValue::Unrecognized(UnknownObject {
                type_name: "jsonValueFuture".into(),
                json: json.into(),
            }),
        };
        assert!(Body::typed(with_raw(r#"{"@type":"jsonValueFuture","x":[1]}"#)).is_ok());
        for bad in [
            "{",
            r#"{"@type":"x"},"@extra":"stolen""#,
            r#"{"@type":"x","s":"\ud800"}"#,
            "inf",
        ] {
            let error = Body::typed(with_raw(bad)).unwrap_err();
            assert!(error.is_invalid_request(), "{bad}: {error}");
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(Body::typed(with_raw(&deep)).is_err());
    }

    #[test]
    fn fatal_log_messages_are_refused_on_every_path() {
        let typed = |level| functions::AddLogMessage {
            verbosity_level: level,
            text: "x".into(),
        };
        assert!(Body::typed(typed(1)).is_ok());
        for level in [0, -1, i32::MIN] {
            assert!(Body::typed(typed(level)).is_err(), "{level}");
        }
        for (request, fine) in [
            (
                json!({"@type": "addLogMessage", "verbosity_level": 2, "text": "x"}),
                true,
            ),
            (
                json!({"@type": "addLogMessage", "verbosity_level": "2"}),
                true,
            ),
            (json!({"@type": "addLogMessage", "text": "x"}), false),
            (
                json!({"@type": "addLogMessage", "verbosity_level": null}),
                false,
            ),
            (
                json!({"@type": "addLogMessage", "verbosity_level": "0"}),
                false,
            ),
            (
                json!({"@type": "addLogMessage", "verbosity_level": ""}),
                false,
            ),
            (
                json!({"@type": "addLogMessage", "verbosity_level": 0.5}),
                false,
            ),
        ] {
            assert_eq!(Body::json(request.clone()).is_ok(), fine, "{request}");
            assert_eq!(Body::text(&request.to_string()).is_ok(), fine, "{request}");
        }
        assert!(
            Body::text(r#"{"@type":"addLogMessage","verbosity_level":0,"verbosity_level":5}"#)
                .is_err(),
            "TDLib reads the first of duplicate keys"
        );
    }

    #[test]
    fn escaped_names_are_read_as_tdlib_reads_them() {
        for killer in [
            r#"{"@type":"addLog\u004dessage","verbosity_level":0,"text":"x"}"#,
            r#"{"@type":"addLogMessage","verbosity_level":"\u0030"}"#,
            r#"{"@type":"getThemeParameters\u004asonString"}"#,
            r#"{"@type":"getJson\u0056alue","json":"\"\\ud800\""}"#,
            r#"{"\u0040type":"addLogMessage"}"#,
        ] {
            assert!(Body::text(killer).is_err(), "{killer}");
        }
        assert!(Body::text(r#"{"@type":"addLogMessage","verbosity_level":"\u0031"}"#).is_ok());
    }

    #[test]
    fn the_other_process_killers_are_refused() {
        assert!(Body::json(json!({"@type": "getThemeParametersJsonString"})).is_err());
        assert!(
            Body::json(json!({"@type": "getThemeParametersJsonString", "theme": null})).is_err()
        );
        assert!(Body::json(json!({"@type": "getThemeParametersJsonString", "theme": {}})).is_ok());
        assert!(Body::typed(functions::GetThemeParametersJsonString::default()).is_ok());
        let value = |json: &str| functions::GetJsonValue { json: json.into() };
        for bad in [
            r#""\ud800""#,
            r#"["ok","\udc00"]"#,
            r#"{"\ud800x":1}"#,
            r#""\ud800\u0041""#,
        ] {
            assert!(Body::typed(value(bad)).is_err(), "{bad}");
            assert!(
                Body::json(json!({"@type": "getJsonValue", "json": bad})).is_err(),
                "{bad}"
            );
        }
        for fine in [
            r#""\ud83d\ude00""#,
            r#""\\ud800""#,
            r#""a\"b""#,
            "[1,2]",
            "\\",
        ] {
            assert!(Body::typed(value(fine)).is_ok(), "{fine}");
        }
    }

    #[test]
    fn json_values_are_checked_without_recursion() {
        // Built by hand: `json!` would serialize a nested value recursively.
        let mut deep = serde_json::Value::from(1);
        for _ in 0..1_000_000 {
            deep = serde_json::Value::Array(vec![deep]);
        }
        let mut request = serde_json::Map::new();
        request.insert("@type".into(), "testCallEmpty".into());
        request.insert("x".into(), deep);
        let error = Body::json(serde_json::Value::Object(request)).unwrap_err();
        assert!(error.is_invalid_request());
        let (_, extra) = Body::json(json!({"@type": "testCallEmpty", "@extra": [1]})).unwrap();
        assert_eq!(extra, Some(json!([1])));
        for bad in [
            json!([1]),
            json!({"x": 1}),
            json!({"@type": 5}),
            json!(null),
        ] {
            assert!(Body::json(bad).is_err());
        }
    }

    #[test]
    fn database_parameters_are_read_as_tdlib_reads_them() {
        let asks =
            |request: serde_json::Value| Body::json(request).unwrap().0.asks_for_a_database();
        assert!(!asks(json!({"@type": "setTdlibParameters"})));
        assert!(!asks(
            json!({"@type": "setTdlibParameters", "use_file_database": false, "use_message_database": 0})
        ));
        assert!(asks(
            json!({"@type": "setTdlibParameters", "use_message_database": true})
        ));
        assert!(asks(
            json!({"@type": "setTdlibParameters", "use_chat_info_database": "1"})
        ));
        let typed = |parameters: functions::SetTdlibParameters| Body::typed(parameters).unwrap();
        let body = typed(functions::SetTdlibParameters::default());
        assert_eq!(body.function(), Special::SetTdlibParameters);
        assert!(!body.asks_for_a_database());
        let with_files = functions::SetTdlibParameters {
            use_file_database: true,
            ..Default::default()
        };
        assert!(typed(with_files).asks_for_a_database());
        let statistics = Body::typed(functions::GetDatabaseStatistics {}).unwrap();
        assert_eq!(statistics.function(), Special::GetDatabaseStatistics);
    }

    #[test]
    fn raw_text_is_checked_strictly() {
        assert!(Body::text(r#" {"@type":"getOption","name":"version"} "#).is_ok());
        for bad in [
            "",
            "[]",
            "{",
            r#"{"@type":1}"#,
            r#"{"name":"version"}"#,
            r#"{"@type":"cleanFileName","file_name":"\ud800"}"#,
            "{\"@type\":\"getOption\",\"name\":\"a\u{1}\"}",
            r#"{"@type":"getOption"} {}"#,
        ] {
            assert!(Body::text(bad).is_err(), "{bad:?}");
        }
    }
}
