//! The JSON reader and writer. The reader works on `&str` (valid UTF-8 by construction) and never panics on any input; every
//! error carries the byte offset where it was found.

use std::borrow::Cow;
use std::fmt;

/// Nesting deeper than this is refused, so hostile input cannot overflow the stack of the
/// recursive generated decoders. TDLib itself refuses requests deeper than 101 levels.
pub const MAX_DEPTH: usize = 256;

/// Why a JSON text could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset in the input where the problem was found.
    pub offset: usize,
    /// What went wrong.
    pub kind: DecodeErrorKind,
}

/// The kinds of [`DecodeError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended inside a value.
    UnexpectedEnd,
    /// Another character was expected here.
    Expected(&'static str),
    /// A number that does not fit the field's type, or is not a number.
    InvalidNumber(&'static str),
    /// A malformed string escape, or a lone UTF-16 surrogate.
    InvalidEscape,
    /// A `bytes` field that is not standard base64.
    InvalidBase64,
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
    /// An object without `@type` where the type is not fixed by the field.
    MissingType,
    /// An object of another type than the field allows (the name is the `@type` found).
    UnexpectedType(String),
    /// A field the type requires is absent (type name, field name).
    MissingField(&'static str, &'static str),
    /// Non-whitespace after the value.
    TrailingCharacters,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            DecodeErrorKind::UnexpectedEnd => write!(f, "unexpected end of JSON")?,
            DecodeErrorKind::Expected(what) => write!(f, "expected {what}")?,
            DecodeErrorKind::InvalidNumber(what) => write!(f, "invalid {what}")?,
            DecodeErrorKind::InvalidEscape => write!(f, "invalid string escape")?,
            DecodeErrorKind::InvalidBase64 => write!(f, "invalid base64 in a bytes field")?,
            DecodeErrorKind::TooDeep => write!(f, "JSON nested deeper than {MAX_DEPTH} levels")?,
            DecodeErrorKind::MissingType => write!(f, "object without \"@type\"")?,
            DecodeErrorKind::UnexpectedType(name) => write!(f, "unexpected object type {name:?}")?,
            DecodeErrorKind::MissingField(ty, field) => {
                write!(f, "{ty} is missing its field {field:?}")?
            }
            DecodeErrorKind::TrailingCharacters => write!(f, "characters after the JSON value")?,
        }
        write!(f, " at byte {}", self.offset)
    }
}

impl std::error::Error for DecodeError {}

/// Where the reader is inside an object or array: whether a `,` must come before the next item.
#[derive(Debug)]
#[must_use]
pub struct Seq {
    first: bool,
}

impl Seq {
    /// At the start of an object or array whose opening bracket was consumed.
    pub fn new() -> Seq {
        Seq { first: true }
    }
}

impl Default for Seq {
    fn default() -> Seq {
        Seq::new()
    }
}

/// A pull reader over one JSON text.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `text`.
    pub fn new(text: &'a str) -> Reader<'a> {
        Reader {
            text,
            pos: 0,
            depth: 0,
        }
    }

    /// The input between two offsets this reader has passed.
    pub fn slice(&self, start: usize, end: usize) -> &'a str {
        self.text.get(start..end).unwrap_or_default()
    }

    /// The byte offset of the next unread character.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// An error of `kind` at the current offset.
    pub fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            offset: self.pos,
            kind,
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The next non-whitespace byte, not consumed.
    pub fn peek(&mut self) -> Option<u8> {
        while let Some(&byte) = self.bytes().get(self.pos) {
            if !matches!(byte, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(byte);
            }
            self.pos += 1;
        }
        None
    }

    fn eat(&mut self, byte: u8, what: &'static str) -> Result<(), DecodeError> {
        match self.peek() {
            Some(found) if found == byte => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(self.error(DecodeErrorKind::Expected(what))),
            None => Err(self.error(DecodeErrorKind::UnexpectedEnd)),
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        self.peek();
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    /// Checks that only whitespace follows.
    pub fn finish(&mut self) -> Result<(), DecodeError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error(DecodeErrorKind::TrailingCharacters)),
        }
    }

    /// Consumes `null` if it comes next.
    pub fn null(&mut self) -> bool {
        self.eat_word("null")
    }

    /// Consumes `{`.
    pub fn begin_object(&mut self) -> Result<Seq, DecodeError> {
        self.eat(b'{', "'{'")?;
        self.enter()?;
        Ok(Seq { first: true })
    }

    /// The next key of the object, or `None` after its `}`.
    pub fn next_key(&mut self, seq: &mut Seq) -> Result<Option<Cow<'a, str>>, DecodeError> {
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(None);
        }
        if !std::mem::replace(&mut seq.first, false) {
            self.eat(b',', "',' or '}'")?;
        }
        let key = self.string()?;
        self.eat(b':', "':'")?;
        Ok(Some(key))
    }

    /// Consumes `[`.
    pub fn begin_array(&mut self) -> Result<Seq, DecodeError> {
        self.eat(b'[', "'['")?;
        self.enter()?;
        Ok(Seq { first: true })
    }

    /// Whether another element follows (consuming the `,` before it), or the `]` came.
    pub fn next_element(&mut self, seq: &mut Seq) -> Result<bool, DecodeError> {
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(false);
        }
        if !std::mem::replace(&mut seq.first, false) {
            self.eat(b',', "',' or ']'")?;
        }
        Ok(true)
    }

    fn enter(&mut self) -> Result<(), DecodeError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(DecodeErrorKind::TooDeep));
        }
        Ok(())
    }

    /// A JSON string, borrowed from the input when it has no escapes.
    pub fn string(&mut self) -> Result<Cow<'a, str>, DecodeError> {
        self.eat(b'"', "a string")?;
        let start = self.pos;
        let bytes = self.bytes();
        // Fast path: no escapes. One SIMD search (memchr2) for the first quote or backslash,
        // which matters for long strings (a byte loop here cost a 10 KiB answer microseconds).
        // '"' and '\\' are ASCII, so the slice ends on a char boundary.
        match memchr::memchr2(b'"', b'\\', &bytes[self.pos..]) {
            Some(offset) if bytes[self.pos + offset] == b'"' => {
                self.pos += offset + 1;
                return Ok(Cow::Borrowed(&self.text[start..self.pos - 1]));
            }
            Some(offset) => self.pos += offset,
            None => self.pos = bytes.len(),
        }
        let mut owned = String::from(&self.text[start..self.pos]);
        loop {
            let Some(&byte) = bytes.get(self.pos) else {
                return Err(self.error(DecodeErrorKind::UnexpectedEnd));
            };
            match byte {
                b'"' => {
                    self.pos += 1;
                    return Ok(Cow::Owned(owned));
                }
                b'\\' => {
                    self.pos += 1;
                    let escaped = self.escape()?;
                    owned.push(escaped);
                }
                _ => {
                    // Copy the run up to the next quote or backslash in one go.
                    let run = self.pos;
                    self.pos = memchr::memchr2(b'"', b'\\', &bytes[run..])
                        .map_or(bytes.len(), |offset| run + offset);
                    owned.push_str(&self.text[run..self.pos]);
                }
            }
        }
    }

    fn escape(&mut self) -> Result<char, DecodeError> {
        let Some(&byte) = self.bytes().get(self.pos) else {
            return Err(self.error(DecodeErrorKind::UnexpectedEnd));
        };
        self.pos += 1;
        Ok(match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                match unit {
                    0xD800..=0xDBFF => {
                        if !self.text[self.pos..].starts_with("\\u") {
                            return Err(self.error(DecodeErrorKind::InvalidEscape));
                        }
                        self.pos += 2;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(self.error(DecodeErrorKind::InvalidEscape));
                        }
                        let code = 0x10000
                            + ((u32::from(unit) - 0xD800) << 10)
                            + (u32::from(low) - 0xDC00);
                        char::from_u32(code)
                            .ok_or_else(|| self.error(DecodeErrorKind::InvalidEscape))?
                    }
                    0xDC00..=0xDFFF => return Err(self.error(DecodeErrorKind::InvalidEscape)),
                    _ => char::from_u32(u32::from(unit))
                        .ok_or_else(|| self.error(DecodeErrorKind::InvalidEscape))?,
                }
            }
            _ => return Err(self.error(DecodeErrorKind::InvalidEscape)),
        })
    }

    fn hex4(&mut self) -> Result<u16, DecodeError> {
        let value = hex4(self.bytes(), self.pos).map_err(|kind| self.error(kind))?;
        self.pos += 4;
        Ok(value)
    }

    /// The text of a JSON number (`-?digits(.digits)?([eE][+-]?digits)?`), not converted.
    fn number_text(&mut self, what: &'static str) -> Result<&'a str, DecodeError> {
        self.peek();
        let start = self.pos;
        let bytes = self.bytes();
        let digits = |pos: &mut usize| {
            let from = *pos;
            while bytes.get(*pos).is_some_and(u8::is_ascii_digit) {
                *pos += 1;
            }
            *pos > from
        };
        let mut pos = self.pos;
        if bytes.get(pos) == Some(&b'-') {
            pos += 1;
        }
        if !digits(&mut pos) {
            return Err(self.error(DecodeErrorKind::InvalidNumber(what)));
        }
        if bytes.get(pos) == Some(&b'.') {
            pos += 1;
            if !digits(&mut pos) {
                return Err(DecodeError {
                    offset: pos,
                    kind: DecodeErrorKind::InvalidNumber(what),
                });
            }
        }
        if matches!(bytes.get(pos), Some(b'e' | b'E')) {
            pos += 1;
            if matches!(bytes.get(pos), Some(b'+' | b'-')) {
                pos += 1;
            }
            if !digits(&mut pos) {
                return Err(DecodeError {
                    offset: pos,
                    kind: DecodeErrorKind::InvalidNumber(what),
                });
            }
        }
        self.pos = pos;
        Ok(&self.text[start..pos])
    }

    /// An integer written as a number or as a string holding one (TDLib writes `int64` as a
    /// string and accepts both).
    fn integer<T: std::str::FromStr>(&mut self, what: &'static str) -> Result<T, DecodeError> {
        let start = self.peek().map(|_| self.pos);
        let parsed = if self.peek() == Some(b'"') {
            let text = self.string()?;
            text.parse::<T>().ok()
        } else {
            self.number_text(what)?.parse::<T>().ok()
        };
        parsed.ok_or(DecodeError {
            offset: start.unwrap_or(self.pos),
            kind: DecodeErrorKind::InvalidNumber(what),
        })
    }

    /// A JSON string as an owned `String` (a TL `string`).
    pub fn owned_string(&mut self) -> Result<String, DecodeError> {
        self.string().map(Cow::into_owned)
    }

    /// `null` as `None`, else the value `read` reads.
    pub fn nullable<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Option<T>, DecodeError> {
        if self.null() {
            Ok(None)
        } else {
            read(self).map(Some)
        }
    }

    /// A TL `int32`.
    pub fn i32(&mut self) -> Result<i32, DecodeError> {
        self.integer("int32")
    }

    /// A TL `int53` or `int64`.
    pub fn i64(&mut self) -> Result<i64, DecodeError> {
        self.integer("int64")
    }

    /// A TL `double`: a JSON number, or TDLib's bare `inf`, `-inf` and `nan`.
    pub fn f64(&mut self) -> Result<f64, DecodeError> {
        for (word, value) in [
            ("inf", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("nan", f64::NAN),
            ("-nan", f64::NAN),
        ] {
            if self.eat_word(word) {
                return Ok(value);
            }
        }
        let start = self.pos;
        let text = self.number_text("double")?;
        text.parse().map_err(|_| DecodeError {
            offset: start,
            kind: DecodeErrorKind::InvalidNumber("double"),
        })
    }

    /// A TL `Bool`.
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        if self.eat_word("true") {
            Ok(true)
        } else if self.eat_word("false") {
            Ok(false)
        } else {
            Err(self.error(DecodeErrorKind::Expected("true or false")))
        }
    }

    /// A TL `bytes`: standard base64 with padding.
    pub fn bytes_base64(&mut self) -> Result<Vec<u8>, DecodeError> {
        let start = self.peek().map(|_| self.pos).unwrap_or(self.pos);
        let text = self.string()?;
        base64_decode(&text).ok_or(DecodeError {
            offset: start,
            kind: DecodeErrorKind::InvalidBase64,
        })
    }

    /// A JSON array, each element read by `element`.
    pub fn vec<T>(
        &mut self,
        mut element: impl FnMut(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let mut seq = self.begin_array()?;
        let mut out = Vec::new();
        while self.next_element(&mut seq)? {
            out.push(element(self)?);
        }
        Ok(out)
    }

    /// Skips one value of any kind, checking its syntax.
    pub fn skip(&mut self) -> Result<(), DecodeError> {
        match self.peek() {
            None => Err(self.error(DecodeErrorKind::UnexpectedEnd)),
            Some(b'{') => {
                let mut seq = self.begin_object()?;
                while self.next_key(&mut seq)?.is_some() {
                    self.skip()?;
                }
                Ok(())
            }
            Some(b'[') => {
                let mut seq = self.begin_array()?;
                while self.next_element(&mut seq)? {
                    self.skip()?;
                }
                Ok(())
            }
            Some(b'"') => self.string().map(drop),
            Some(b't' | b'f') => self.bool().map(drop),
            Some(b'n') if self.null() => Ok(()),
            Some(_) => self.f64().map(drop),
        }
    }

    /// The raw text of the next value (skipped, syntax-checked).
    pub fn raw_value(&mut self) -> Result<&'a str, DecodeError> {
        self.peek();
        let start = self.pos;
        self.skip()?;
        Ok(&self.text[start..self.pos])
    }
}

/// Writes TDLib JSON into a `String`.
///
/// It keeps track of how deep the text nests, and of what it could not write faithfully (see
/// [`Writer::problem`]): a value nested deeper than [`MAX_DEPTH`] is cut off there, so that
/// encoding a hostile, deeply nested value cannot overflow the stack, and raw JSON that is not
/// one valid JSON value is recorded as a problem.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    out: String,
    depth: usize,
    max_depth: usize,
    problem: Option<EncodeError>,
}

/// Why a [`Writer`]'s text does not faithfully hold the value given to it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The value nests deeper than [`MAX_DEPTH`] objects and arrays; the text was cut off.
    TooDeep,
    /// Raw JSON (an [`UnknownObject`](crate::codec::UnknownObject)'s) that is not exactly one
    /// valid JSON value.
    InvalidRaw(DecodeError),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::TooDeep => write!(f, "the value nests deeper than {MAX_DEPTH} levels"),
            EncodeError::InvalidRaw(error) => {
                write!(f, "an unrecognized object holds invalid JSON: {error}")
            }
        }
    }
}

impl std::error::Error for EncodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EncodeError::InvalidRaw(error) => Some(error),
            EncodeError::TooDeep => None,
        }
    }
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Writer {
        Writer::default()
    }

    /// A writer that appends to `out`.
    pub fn with_buffer(out: String) -> Writer {
        Writer {
            out,
            ..Writer::default()
        }
    }

    /// The text written.
    pub fn finish(self) -> String {
        self.out
    }

    /// The deepest nesting of objects and arrays written so far (a top-level object is 1).
    pub fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// The first thing the text could not hold faithfully, if any.
    pub fn problem(&self) -> Option<&EncodeError> {
        self.problem.as_ref()
    }

    fn report(&mut self, problem: EncodeError) {
        self.problem.get_or_insert(problem);
    }

    /// Enters an object or array: false, with the problem recorded, past [`MAX_DEPTH`].
    fn enter(&mut self) -> bool {
        self.depth += 1;
        self.max_depth = self.max_depth.max(self.depth);
        if self.depth > MAX_DEPTH {
            self.report(EncodeError::TooDeep);
            return false;
        }
        true
    }

    /// Starts an object whose first key is `"@type"`. Returns whether its fields should be
    /// written: false past [`MAX_DEPTH`] (the problem is recorded; end the object anyway).
    pub fn begin_object(&mut self, type_name: &str) -> bool {
        self.out.push_str("{\"@type\":\"");
        self.out.push_str(type_name);
        self.out.push('"');
        self.enter()
    }

    /// Starts the value of field `name` (always after `@type`, so always after a comma).
    pub fn field(&mut self, name: &str) {
        self.out.push_str(",\"");
        self.out.push_str(name);
        self.out.push_str("\":");
    }

    /// Ends an object.
    pub fn end_object(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.out.push('}');
    }

    /// A TL `int32`, or an `int53` (written as a number).
    pub fn i64_number(&mut self, value: i64) {
        self.out.push_str(itoa(value, &mut [0; 20]));
    }

    /// A TL `int64`, written as a string so that no JSON reader loses precision.
    pub fn i64_string(&mut self, value: i64) {
        self.out.push('"');
        self.i64_number(value);
        self.out.push('"');
    }

    /// A TL `double`. TDLib reads numbers only, and JSON has no infinity: infinities are written
    /// as out-of-range numbers (which TDLib reads as infinities) and NaN as 0.
    pub fn f64(&mut self, value: f64) {
        use std::fmt::Write;
        if value.is_finite() {
            // `{:?}` is Rust's shortest round-trip form, always a valid JSON number here.
            let _ = write!(self.out, "{value:?}");
        } else if value.is_nan() {
            self.out.push('0');
        } else if value > 0.0 {
            self.out.push_str("1e999");
        } else {
            self.out.push_str("-1e999");
        }
    }

    /// A TL `Bool`.
    pub fn bool(&mut self, value: bool) {
        self.out.push_str(if value { "true" } else { "false" });
    }

    /// `null`.
    pub fn null(&mut self) {
        self.out.push_str("null");
    }

    /// A TL `string`, escaped. Rust strings are valid UTF-8, which is what TDLib requires.
    pub fn string(&mut self, value: &str) {
        self.out.push('"');
        let bytes = value.as_bytes();
        // Most strings need no escape; this check runs at memory speed, the loop below does not.
        if !needs_escape(bytes) {
            self.out.push_str(value);
            self.out.push('"');
            return;
        }
        let mut run = 0;
        for (index, &byte) in bytes.iter().enumerate() {
            let escape = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..=0x1f => "",
                _ => continue,
            };
            self.out.push_str(&value[run..index]);
            if escape.is_empty() {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                self.out.push_str("\\u00");
                self.out.push(HEX[usize::from(byte >> 4)] as char);
                self.out.push(HEX[usize::from(byte & 15)] as char);
            } else {
                self.out.push_str(escape);
            }
            run = index + 1;
        }
        self.out.push_str(&value[run..]);
        self.out.push('"');
    }

    /// A TL `bytes`: standard base64 with padding.
    pub fn bytes_base64(&mut self, value: &[u8]) {
        self.out.push('"');
        base64_encode(value, &mut self.out);
        self.out.push('"');
    }

    /// A JSON array, each element written by `element`.
    pub fn vec<T>(&mut self, values: &[T], mut element: impl FnMut(&mut Self, &T)) {
        self.out.push('[');
        if self.enter() {
            for (index, value) in values.iter().enumerate() {
                if index > 0 {
                    self.out.push(',');
                }
                element(self, value);
            }
        }
        self.depth -= 1;
        self.out.push(']');
    }

    /// Appends already-encoded JSON, which must be exactly one JSON value (checked with
    /// [`check_json`]; anything else is recorded as a problem and written as `null`).
    pub fn raw(&mut self, json: &str) {
        match check_json(json) {
            Ok(depth) => {
                self.max_depth = self.max_depth.max(self.depth + depth);
                if self.depth + depth > MAX_DEPTH {
                    self.report(EncodeError::TooDeep);
                }
                self.out.push_str(json);
            }
            Err(error) => {
                self.report(EncodeError::InvalidRaw(error));
                self.out.push_str("null");
            }
        }
    }
}

/// Checks that `text` is exactly one strict JSON value (RFC 8259: no raw control characters in
/// strings, no lone UTF-16 surrogate escapes, no `inf`/`nan`, only space, tab, CR and LF as
/// whitespace) and returns how deeply its objects and arrays nest (`0` for a scalar, `1` for
/// `{}` or `[1]`).
///
/// It does not recurse, so any depth is checked without risk to the stack. What it accepts,
/// TDLib's own JSON parser accepts too, except that TDLib also refuses nesting deeper than it
/// allows (which the caller compares with the returned depth).
///
/// ```
/// use tdlib_types::codec::check_json;
/// assert_eq!(check_json(r#"{"a":[1,{"b":null}]}"#), Ok(3));
/// assert!(check_json(r#""\ud800""#).is_err(), "a lone surrogate");
/// assert!(check_json("[1] [2]").is_err(), "two values");
/// assert!(check_json(&"[".repeat(1_000_000)).is_err());
/// ```
pub fn check_json(text: &str) -> Result<usize, DecodeError> {
    let mut checker = Checker {
        bytes: text.as_bytes(),
        pos: 0,
    };
    checker.run()
}

/// The state of [`check_json`]: a position and, in `run`, a stack of open containers.
struct Checker<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Checker<'_> {
    fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            offset: self.pos,
            kind,
        }
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.bytes.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Result<u8, DecodeError> {
        self.skip_whitespace();
        self.bytes
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.error(DecodeErrorKind::UnexpectedEnd))
    }

    fn eat(&mut self, byte: u8, what: &'static str) -> Result<(), DecodeError> {
        if self.peek()? != byte {
            return Err(self.error(DecodeErrorKind::Expected(what)));
        }
        self.pos += 1;
        Ok(())
    }

    fn run(&mut self) -> Result<usize, DecodeError> {
        // `true` for an object, `false` for an array; the length is the depth.
        let mut open: Vec<bool> = Vec::new();
        let mut deepest = 0;
        'value: loop {
            // A value starts here.
            match self.peek()? {
                b'{' | b'[' => {
                    let object = self.bytes[self.pos] == b'{';
                    self.pos += 1;
                    open.push(object);
                    deepest = deepest.max(open.len());
                    let close = if object { b'}' } else { b']' };
                    if self.peek()? == close {
                        self.pos += 1;
                        open.pop();
                    } else {
                        if object {
                            self.key()?;
                        }
                        continue 'value;
                    }
                }
                b'"' => self.string()?,
                b't' => self.word("true")?,
                b'f' => self.word("false")?,
                b'n' => self.word("null")?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return Err(self.error(DecodeErrorKind::Expected("a JSON value"))),
            }
            // A value ended: close containers until one continues.
            loop {
                let Some(&object) = open.last() else {
                    self.skip_whitespace();
                    if self.pos != self.bytes.len() {
                        return Err(self.error(DecodeErrorKind::TrailingCharacters));
                    }
                    return Ok(deepest);
                };
                let close = if object { b'}' } else { b']' };
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        if object {
                            self.key()?;
                        }
                        continue 'value;
                    }
                    byte if byte == close => {
                        self.pos += 1;
                        open.pop();
                    }
                    _ => {
                        let what = if object { "',' or '}'" } else { "',' or ']'" };
                        return Err(self.error(DecodeErrorKind::Expected(what)));
                    }
                }
            }
        }
    }

    /// A key and its colon.
    fn key(&mut self) -> Result<(), DecodeError> {
        if self.peek()? != b'"' {
            return Err(self.error(DecodeErrorKind::Expected("a string")));
        }
        self.string()?;
        self.eat(b':', "':'")
    }

    fn word(&mut self, word: &'static str) -> Result<(), DecodeError> {
        if !self.bytes[self.pos..].starts_with(word.as_bytes()) {
            return Err(self.error(DecodeErrorKind::Expected(word)));
        }
        self.pos += word.len();
        Ok(())
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.bytes.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Result<(), DecodeError> {
        let invalid = |checker: &Self| checker.error(DecodeErrorKind::InvalidNumber("number"));
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        match self.bytes.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(invalid(self)),
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(invalid(self));
            }
        }
        if matches!(self.bytes.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.bytes.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(invalid(self));
            }
        }
        Ok(())
    }

    /// A string from its opening quote: no raw control characters, valid escapes, surrogate
    /// escapes in pairs. (The text is a `&str`, so its bytes are valid UTF-8.)
    fn string(&mut self) -> Result<(), DecodeError> {
        self.pos += 1;
        loop {
            let rest = &self.bytes[self.pos..];
            let run = rest
                .iter()
                .position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)
                .ok_or(DecodeError {
                    offset: self.bytes.len(),
                    kind: DecodeErrorKind::UnexpectedEnd,
                })?;
            self.pos += run;
            match self.bytes[self.pos] {
                b'"' => {
                    self.pos += 1;
                    return Ok(());
                }
                b'\\' => {
                    self.pos += 1;
                    self.escape()?;
                }
                _ => {
                    return Err(self.error(DecodeErrorKind::Expected(
                        "no control character in a string",
                    )));
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u16, DecodeError> {
        let value = hex4(self.bytes, self.pos).map_err(|kind| self.error(kind))?;
        self.pos += 4;
        Ok(value)
    }

    fn escape(&mut self) -> Result<(), DecodeError> {
        let Some(&byte) = self.bytes.get(self.pos) else {
            return Err(self.error(DecodeErrorKind::UnexpectedEnd));
        };
        self.pos += 1;
        match byte {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(()),
            b'u' => match self.hex4()? {
                0xD800..=0xDBFF => {
                    if !self.bytes[self.pos..].starts_with(b"\\u") {
                        return Err(self.error(DecodeErrorKind::InvalidEscape));
                    }
                    self.pos += 2;
                    match self.hex4()? {
                        0xDC00..=0xDFFF => Ok(()),
                        _ => Err(self.error(DecodeErrorKind::InvalidEscape)),
                    }
                }
                0xDC00..=0xDFFF => Err(self.error(DecodeErrorKind::InvalidEscape)),
                _ => Ok(()),
            },
            _ => Err(self.error(DecodeErrorKind::InvalidEscape)),
        }
    }
}

/// The four hexadecimal digits of a `\u` escape at `at`.
fn hex4(bytes: &[u8], at: usize) -> Result<u16, DecodeErrorKind> {
    let digits = bytes
        .get(at..at + 4)
        .ok_or(DecodeErrorKind::UnexpectedEnd)?;
    let mut value = 0u16;
    for digit in digits {
        let nibble = (*digit as char)
            .to_digit(16)
            .ok_or(DecodeErrorKind::InvalidEscape)?;
        value = (value << 4) | nibble as u16;
    }
    Ok(value)
}

/// Formats an integer without going through `fmt` (this runs for every integer field).
/// 20 bytes hold the longest one, `-9223372036854775808`.
fn itoa(value: i64, buffer: &mut [u8; 20]) -> &str {
    let mut magnitude = value.unsigned_abs();
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if value < 0 {
        start -= 1;
        buffer[start] = b'-';
    }
    // Only ASCII digits and '-' were written.
    std::str::from_utf8(&buffer[start..]).unwrap_or_default()
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(input: &[u8], out: &mut String) {
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(BASE64[(n >> 18) as usize & 63] as char);
        out.push(BASE64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            BASE64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            BASE64[n as usize & 63] as char
        } else {
            '='
        });
    }
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if bytes.len() % 4 != 0 {
        return None;
    }
    let value = |byte: u8| -> Option<u32> {
        Some(match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let chunks = bytes.chunks(4);
    let count = chunks.len();
    for (index, chunk) in chunks.enumerate() {
        let padding = chunk.iter().rev().take_while(|byte| **byte == b'=').count();
        if padding > 2 || (padding > 0 && index + 1 != count) {
            return None;
        }
        let mut n = 0u32;
        for &byte in &chunk[..4 - padding] {
            n = (n << 6) | value(byte)?;
        }
        n <<= 6 * padding as u32;
        out.push((n >> 16) as u8);
        if padding < 2 {
            out.push((n >> 8) as u8);
        }
        if padding < 1 {
            out.push(n as u8);
        }
    }
    Some(out)
}
/// Whether a string holds a byte JSON must escape (a control character, `"` or `\\`).
///
/// Blocks of 32 bytes are tested without an early exit inside the block, a shape the compiler
/// turns into SIMD compares (an `any` over the bytes stops at each byte and stays scalar): a
/// 10 KiB string is checked in a few hundred nanoseconds.
fn needs_escape(bytes: &[u8]) -> bool {
    let escaped = |byte: u8| (byte < 0x20) | (byte == b'"') | (byte == b'\\');
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        if block.iter().fold(false, |hit, &byte| hit | escaped(byte)) {
            return true;
        }
    }
    blocks.remainder().iter().any(|&byte| escaped(byte))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_escapes() {
        let mut r = Reader::new(r#""h\u00e9llo \ud83d\ude00 \n\t\"q\" \\ \u0001 " "plain""#);
        assert_eq!(r.string().unwrap(), "héllo 😀 \n\t\"q\" \\ \u{1} ");
        assert!(matches!(r.string().unwrap(), Cow::Borrowed("plain")));
        assert!(Reader::new(r#""\ud800""#).string().is_err());
        assert!(Reader::new(r#""\udc00x""#).string().is_err());
        assert!(Reader::new(r#""\q""#).string().is_err());
        assert!(Reader::new(r#""abc"#).string().is_err());
        assert!(Reader::new(r#""\u12""#).string().is_err());
        let mut w = Writer::new();
        w.string("héllo 😀 \n\t\"q\" \\ \u{1} \u{7f}");
        let text = w.finish();
        assert_eq!(
            Reader::new(&text).string().unwrap(),
            "héllo 😀 \n\t\"q\" \\ \u{1} \u{7f}"
        );
    }

    #[test]
    fn strings_scanned_in_blocks_find_every_escape() {
        // Every byte position of strings up to past two scan blocks, for each byte that needs
        // an escape, among ASCII only and among multi-byte characters too.
        for special in ['"', '\\', '\n', '\u{1}', '\u{1f}'] {
            for (len, wide) in [0, 1, 31, 32, 33, 64, 65, 100]
                .into_iter()
                .flat_map(|len| [(len, false), (len, true)])
            {
                for at in 0..len {
                    let text: String = (0..len)
                        .map(|index| {
                            if index == at {
                                special
                            } else if wide && index % 7 == 0 {
                                'é'
                            } else {
                                'a'
                            }
                        })
                        .collect();
                    assert!(
                        needs_escape(text.as_bytes()),
                        "{special:?} at {at} of {len}"
                    );
                    let mut w = Writer::new();
                    w.string(&text);
                    let json = w.finish();
                    assert_eq!(Reader::new(&json).string().unwrap(), text);
                }
                let plain: String = "aé".repeat(len);
                assert!(!needs_escape(plain.as_bytes()));
                let json = format!("\"{plain}\"");
                assert!(
                    matches!(Reader::new(&json).string().unwrap(), Cow::Borrowed(text) if text == plain)
                );
            }
        }
        // 0x7f and non-ASCII need no escape; a string without its closing quote is an error
        // whether or not it has escapes.
        assert!(!needs_escape("\u{7f}ÿ€😀".as_bytes()));
        assert!(Reader::new("\"abc\\\"").string().is_err());
        assert!(
            Reader::new(&format!("\"{}", "x".repeat(100)))
                .string()
                .is_err()
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(Reader::new("144").i32().unwrap(), 144);
        assert_eq!(Reader::new("\"12\"").i32().unwrap(), 12);
        assert!(Reader::new("3000000000").i32().is_err());
        assert!(Reader::new("1.5").i32().is_err());
        assert_eq!(
            Reader::new("\"-9223372036854775808\"").i64().unwrap(),
            i64::MIN
        );
        assert_eq!(
            Reader::new("9007199254740993").i64().unwrap(),
            9007199254740993
        );
        assert_eq!(Reader::new("1.500000").f64().unwrap(), 1.5);
        assert_eq!(Reader::new("inf").f64().unwrap(), f64::INFINITY);
        assert_eq!(Reader::new("-inf").f64().unwrap(), f64::NEG_INFINITY);
        assert!(Reader::new("nan").f64().unwrap().is_nan());
        assert!(Reader::new("-").f64().is_err());
        assert!(Reader::new("1.").f64().is_err());
        assert!(Reader::new("1e").f64().is_err());
        for value in [0, 1, -1, i64::MAX, i64::MIN, 1234567890123] {
            let mut string = Writer::new();
            string.i64_string(value);
            let mut number = Writer::new();
            number.i64_number(value);
            let text = format!("{} {}", string.finish(), number.finish());
            let mut r = Reader::new(&text);
            assert_eq!(r.i64().unwrap(), value);
            assert_eq!(r.i64().unwrap(), value);
        }
        for value in [0.1, -2.5e-300, 1e21, f64::MAX] {
            let mut w = Writer::new();
            w.f64(value);
            assert_eq!(Reader::new(&w.finish()).f64().unwrap(), value);
        }
    }

    #[test]
    fn base64() {
        for input in [&b""[..], b"h", b"he", b"hel", b"hello", &[0, 255, 128, 7]] {
            let mut w = Writer::new();
            w.bytes_base64(input);
            let text = w.finish();
            assert_eq!(Reader::new(&text).bytes_base64().unwrap(), input, "{text}");
        }
        assert_eq!(
            Reader::new("\"aGVsbG8=\"").bytes_base64().unwrap(),
            b"hello"
        );
        assert!(Reader::new("\"aGVsbG8\"").bytes_base64().is_err());
        assert!(Reader::new("\"a$b=\"").bytes_base64().is_err());
        assert!(Reader::new("\"a===\"").bytes_base64().is_err());
        assert!(Reader::new("\"aG==aGVs\"").bytes_base64().is_err());
    }

    #[test]
    fn objects_arrays_skip() {
        let text = r#" {"@type":"x","a":[1,2,{"b":null}],"c":"d", "e" : true } "#;
        let mut r = Reader::new(text);
        let mut seq = r.begin_object().unwrap();
        let mut keys = Vec::new();
        while let Some(key) = r.next_key(&mut seq).unwrap() {
            keys.push(key.into_owned());
            r.skip().unwrap();
        }
        r.finish().unwrap();
        assert_eq!(keys, ["@type", "a", "c", "e"]);
        for bad in [
            "{,\"a\":1}",
            "{\"a\":1,}",
            "[1,]",
            "[,1]",
            "{\"a\" 1}",
            "{\"a\":1",
            "[1 2]",
            "{\"a\":1}x",
        ] {
            let mut r = Reader::new(bad);
            assert!(r.skip().and_then(|()| r.finish()).is_err(), "{bad}");
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(
            Reader::new(&deep).skip().unwrap_err().kind,
            DecodeErrorKind::TooDeep
        );
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        Reader::new(&ok).skip().unwrap();
        assert_eq!(
            Reader::new(r#"{"a":[1, {"b":"}"}]} tail"#)
                .raw_value()
                .unwrap(),
            r#"{"a":[1, {"b":"}"}]}"#
        );
    }

    #[test]
    fn never_panics() {
        let text = r#"{"@type":"x","a":[1,-2.5e3,{"b":null,"s":"h\u00e9\ud83d\ude00"}],"c":"aGVsbG8=","e":true,"f":inf}"#;
        for end in 0..=text.len() {
            let mut r = Reader::new(&text[..end]);
            let _ = r.skip();
        }
        let mut seed = 0x2545F4914F6CDD1Du64;
        for _ in 0..20000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut bytes = text.as_bytes().to_vec();
            let at = (seed % bytes.len() as u64) as usize;
            let alphabet = b"{}[]\":,\\u0-e.";
            bytes[at] = alphabet[(seed >> 32) as usize % alphabet.len()];
            if let Ok(s) = std::str::from_utf8(&bytes) {
                let _ = Reader::new(s).skip();
                let _ = Reader::new(s).string();
                let _ = Reader::new(s).f64();
            }
        }
    }

    #[test]
    fn check_json_is_strict_and_measures_depth() {
        for (text, depth) in [
            ("0", 0),
            ("-0.5e+3", 0),
            (r#""a\u00e9\ud83d\ude00\/""#, 0),
            ("{}", 1),
            (" [ 1 , [ ] ] ", 2),
            (r#"{"a":{"b":[null,true,false]}}"#, 3),
        ] {
            assert_eq!(check_json(text), Ok(depth), "{text}");
        }
        for bad in [
            "",
            " ",
            "01",
            "1.",
            ".5",
            "+1",
            "1e",
            "-",
            "inf",
            "nan",
            "NaN",
            "tru",
            "[1,]",
            r#"{"a":1,}"#,
            "{'a':1}",
            r#"{"a"}"#,
            r#"{1:2}"#,
            "[1] 2",
            "\u{feff}{}",
            "[\u{b}]",
            "\"a\u{1}b\"",
            "\"a\tb\"",
            r#""\ud800""#,
            r#""\udc00""#,
            r#""\ud800\u0041""#,
            r#""\q""#,
            r#""\u12""#,
            "\"abc",
            "[[[",
            "{\"a\":",
        ] {
            assert!(check_json(bad).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(1_000_000) + &"]".repeat(1_000_000);
        assert_eq!(check_json(&deep), Ok(1_000_000), "no recursion, any depth");
    }

    #[test]
    fn writer_tracks_depth_and_cuts_recursion() {
        let mut w = Writer::new();
        assert!(w.begin_object("a"));
        w.field("v");
        w.vec(&[1, 2], |w, v| w.i64_number(*v));
        w.end_object();
        assert_eq!((w.max_depth(), w.problem()), (2, None));
        let mut w = Writer::new();
        for _ in 0..MAX_DEPTH {
            assert!(w.begin_object("x"));
            w.field("y");
        }
        assert!(!w.begin_object("x"), "past the limit");
        assert_eq!(w.problem(), Some(&EncodeError::TooDeep));
        let mut w = Writer::new();
        w.raw(r#"{"@type":"x","a":[[1]]}"#);
        assert_eq!((w.max_depth(), w.problem()), (3, None));
        w.raw("{\"@type\":\"x\"} ,\"@extra\":1");
        assert!(matches!(w.problem(), Some(EncodeError::InvalidRaw(_))));
        assert!(
            w.finish().ends_with("null"),
            "invalid raw JSON is not written"
        );
    }
}
