//! Writes objects the way TDLib does, driven by the schema rather than by the key order of a
//! JSON map: compact, `@type` first, fields in schema order, `int64` (and `vector<int64>`) as
//! strings, `int32`/`int53` as numbers, doubles with six decimals, absent objects left out,
//! every non-ASCII character escaped as `\uXXXX`, and `@extra` then `@client_id` at the end.
//!
//! A program under test must cope with exactly this shape, so the fake does not use a generic
//! JSON serializer for its output.

use std::fmt::Write as _;

use serde_json::Value;
use tdlib_tl::Type;

use crate::schema::Schema;

/// Writes a complete object (as returned by [`Schema::check`]) without any envelope.
pub fn object(schema: &Schema, value: &Value) -> String {
    let mut out = String::with_capacity(128);
    write_object(schema, value, &mut out);
    out
}

/// Adds the envelope to an object written by [`object`]: `@extra` (already JSON text) and
/// `@client_id` (when non-zero) before the closing brace, and a NUL terminator for C.
pub fn envelope(body: &str, extra: Option<&str>, client_id: i32) -> String {
    let mut out = String::with_capacity(body.len() + 32);
    out.push_str(body.strip_suffix('}').unwrap_or(body));
    if let Some(extra) = extra {
        out.push_str(",\"@extra\":");
        out.push_str(extra);
    }
    if client_id != 0 {
        let _ = write!(out, ",\"@client_id\":{client_id}");
    }
    out.push_str("}\0");
    out
}

fn write_object(schema: &Schema, value: &Value, out: &mut String) {
    let name = value
        .get("@type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    out.push_str("{\"@type\":");
    string(name, out);
    if let Some(def) = schema.constructor(name) {
        for param in &def.params {
            match value.get(&param.name) {
                None | Some(Value::Null) => {}
                Some(field) => {
                    out.push_str(",\"");
                    out.push_str(&param.name);
                    out.push_str("\":");
                    write_value(schema, field, &param.ty, out);
                }
            }
        }
    }
    out.push('}');
}

fn write_value(schema: &Schema, value: &Value, ty: &Type, out: &mut String) {
    match ty {
        Type::Int32 | Type::Int53 => {
            let _ = write!(out, "{}", integer(value));
        }
        Type::Int64 => {
            let _ = write!(out, "\"{}\"", integer(value));
        }
        Type::Double => double(value.as_f64().unwrap_or_default(), out),
        Type::String | Type::Bytes => string(value.as_str().unwrap_or_default(), out),
        Type::Bool => out.push_str(if value.as_bool().unwrap_or_default() {
            "true"
        } else {
            "false"
        }),
        Type::Vector(inner) => {
            out.push('[');
            for (index, element) in value
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                if index > 0 {
                    out.push(',');
                }
                if element.is_null() {
                    out.push_str("null");
                } else {
                    write_value(schema, element, inner, out);
                }
            }
            out.push(']');
        }
        Type::Named(_) => write_object(schema, value, out),
    }
}

/// An integer field of a normalized object (a number; a decimal string is tolerated).
fn integer(value: &Value) -> i64 {
    match value {
        Value::Number(number) => number.as_i64().unwrap_or_default(),
        Value::String(text) => text.parse().unwrap_or_default(),
        _ => 0,
    }
}

/// A double as TDLib writes it: six fixed decimals, bare `inf`/`-inf`/`nan` otherwise.
fn double(value: f64, out: &mut String) {
    if value.is_nan() {
        out.push_str("nan");
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 { "inf" } else { "-inf" });
    } else {
        let _ = write!(out, "{value:.6}");
    }
}

/// A JSON string as TDLib writes it: control characters as `\n`-style or `\u00XX` escapes,
/// every non-ASCII character as `\uXXXX` (surrogate pairs above U+FFFF), `/` unescaped.
pub fn string(text: &str, out: &mut String) {
    out.push('"');
    let mut run = 0;
    for (index, c) in text.char_indices() {
        let simple = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\t' => Some("\\t"),
            '\r' => Some("\\r"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            ' '..='~' => continue,
            _ => None,
        };
        out.push_str(&text[run..index]);
        run = index + c.len_utf8();
        match simple {
            Some(escape) => out.push_str(escape),
            None => {
                let mut units = [0; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push_str(&text[run..]);
    out.push('"');
}

/// The raw text of the first top-level value under `key` in the JSON object `text` (which has
/// already been parsed successfully), e.g. the `@extra` of a request, as written.
pub fn raw_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let bytes = text.as_bytes();
    let mut at = skip_space(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    at += 1;
    loop {
        at = skip_space(bytes, at);
        if bytes.get(at) != Some(&b'"') {
            return None;
        }
        let key_end = skip_value(bytes, at)?;
        let name: String = serde_json::from_str(text.get(at..key_end)?).ok()?;
        at = skip_space(bytes, key_end);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        let start = skip_space(bytes, at + 1);
        let end = skip_value(bytes, start)?;
        if name == key {
            return text.get(start..end);
        }
        at = skip_space(bytes, end);
        if bytes.get(at) != Some(&b',') {
            return None;
        }
        at += 1;
    }
}

/// Valid JSON text made compact the way TDLib re-serializes `@extra`: whitespace outside
/// strings removed, non-ASCII characters inside strings escaped; number text kept as written.
pub fn compact(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in raw.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            if c.is_ascii() {
                out.push(c);
            } else {
                let mut units = [0; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        } else if !c.is_ascii_whitespace() {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// Where a byte-by-byte scan of JSON text is: inside a string or not.
#[derive(Debug, Default)]
pub struct StringScan {
    in_string: bool,
    escaped: bool,
}

impl StringScan {
    /// Takes the next byte; true if it is part of a string (its quotes included).
    pub fn step(&mut self, byte: u8) -> bool {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if byte == b'\\' {
                self.escaped = true;
            } else if byte == b'"' {
                self.in_string = false;
            }
            return true;
        }
        self.in_string = byte == b'"';
        self.in_string
    }
}

/// The end of the JSON value starting at `at` (the text is known to be valid JSON).
fn skip_value(bytes: &[u8], at: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut index = at;
    let mut scan = StringScan::default();
    loop {
        let byte = *bytes.get(index)?;
        index += 1;
        if scan.step(byte) {
            // A string's closing quote ends a value at the top.
            if byte == b'"' && !scan.in_string && depth == 0 {
                return Some(index);
            }
            continue;
        }
        match byte {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(index);
                }
            }
            b',' | b' ' | b'\t' | b'\n' | b'\r' if depth == 0 => return Some(index - 1),
            _ if depth == 0
                && bytes
                    .get(index)
                    .is_none_or(|next| b",}] \t\n\r".contains(next)) =>
            {
                return Some(index);
            }
            _ => {}
        }
    }
}
