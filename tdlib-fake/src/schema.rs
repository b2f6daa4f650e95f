//! The schema of the pinned TDLib, and the two walks over JSON that it drives.
//!
//! The fake is only useful if it is strict: a test must not pass against it with requests the
//! real TDLib would reject or misread. So every request is checked against `td_api.tl` field by
//! field ([`Schema::check_request`]), with TDLib's own error texts, and on purpose stricter than
//! TDLib where a lenient TDLib hides bugs: a missing parameter is an error unless the schema
//! documents it as nullable, and `null` is accepted only for nullable objects.
//!
//! The same walk, in [`Mode::Complete`], turns the partial objects of a script (and those the
//! fake builds itself) into complete TDLib objects: missing scalars get their defaults, missing
//! single-constructor objects are built recursively, and a missing abstract-class object that
//! the schema does not allow to be null is an error naming where it is. Both walks return
//! normalized JSON: only schema fields, every object with its `@type`, integers as numbers
//! (the writer in [`crate::write`] turns `int64` into strings).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use serde_json::{Map, Value};
use tdlib_tl::generate::{nullable, nullable_elements};
use tdlib_tl::{Definition, Param, Type};

/// The text of `td_api.tl`, copied into `OUT_DIR` by the build script.
const SCHEMA_TEXT: &str = include_str!(concat!(env!("OUT_DIR"), "/td_api.tl"));

/// Objects nested deeper than this are rejected (TDLib's own limit is 101 levels).
const MAX_DEPTH: usize = 100;

/// The parsed schema with its name indexes.
#[derive(Debug)]
pub struct Schema {
    tl: tdlib_tl::Schema,
    constructors: HashMap<String, usize>,
    functions: HashMap<String, usize>,
}

/// The schema, parsed on first use (the build script has already checked that it parses).
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let tl =
            tdlib_tl::parse(SCHEMA_TEXT).expect("the build script checked that td_api.tl parses");
        let index = |defs: &[Definition]| {
            defs.iter()
                .enumerate()
                .map(|(position, def)| (def.name.clone(), position))
                .collect()
        };
        Schema {
            constructors: index(&tl.types),
            functions: index(&tl.functions),
            tl,
        }
    })
}

/// How [`Schema::check`] treats missing and `null` fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A request: a missing field is an error unless it is a nullable object; `null` only for
    /// nullable objects. Unknown keys are ignored, like TDLib does.
    Request,
    /// An object the fake emits: missing fields get defaults, missing non-nullable abstract
    /// objects are an error, unknown keys are an error (they are typos in a script).
    Complete,
}

/// Why a value does not fit the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckError {
    /// Where, e.g. `update.message.sender_id` (empty at the top).
    pub path: String,
    /// What, in TDLib's words where TDLib has some, e.g. `Expected Number, but receive Boolean`.
    pub message: String,
}

impl CheckError {
    /// `path: message`, for script errors.
    pub fn with_path(&self) -> String {
        if self.path.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.path, self.message)
        }
    }
}

/// A path in a JSON value, built while walking it and rendered only for errors.
#[derive(Debug, Default)]
struct Path(Vec<Segment>);

#[derive(Debug)]
enum Segment {
    Field(String),
    Index(usize),
}

impl Path {
    fn render(&self) -> String {
        let mut out = String::new();
        for segment in &self.0 {
            match segment {
                Segment::Field(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                Segment::Index(index) => {
                    let _ = write!(out, "[{index}]");
                }
            }
        }
        out
    }
}

/// The name TDLib uses for the kind of a JSON value in its error messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(_) => "Number",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    }
}

/// Whether a type name is an abstract class (`TextEntityType`) rather than a single constructor
/// (`formattedText`): the schema capitalizes classes and writes constructors in lower case.
pub fn is_class(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
}

impl Schema {
    /// The constructor called `name`.
    pub fn constructor(&self, name: &str) -> Option<&Definition> {
        self.constructors
            .get(name)
            .map(|&index| &self.tl.types[index])
    }

    /// A hint for script writers: `give one of chatAvailableReactionsAll, ...`.
    fn some_constructors(&self, class: &str) -> String {
        let names: Vec<&str> = self
            .tl
            .constructors_of(class)
            .map(|def| def.name.as_str())
            .collect();
        let shown = names.iter().take(3).copied().collect::<Vec<_>>().join(", ");
        let more = if names.len() > 3 { ", ..." } else { "" };
        format!("give one of {shown}{more}")
    }

    /// The function called `name`.
    pub fn function(&self, name: &str) -> Option<&Definition> {
        self.functions
            .get(name)
            .map(|&index| &self.tl.functions[index])
    }

    /// Checks a parsed request: `@type` names a function, and every parameter fits. Returns the
    /// function and the normalized request (with `@type`, without unknown keys), or the error
    /// message TDLib would give (without the common prefix, see [`request_error`]).
    pub fn check_request(&self, request: &Value) -> Result<(&Definition, Value), String> {
        let Value::Object(object) = request else {
            return Err("Expected a JSON object".to_owned());
        };
        let name = match object.get("@type") {
            None => return Err(request_error("Can't find field \"@type\"")),
            Some(Value::String(name)) => name,
            Some(Value::Number(number)) => {
                // TDLib also accepts the numeric constructor id; the fake does not know the ids.
                let id = number.as_i64().unwrap_or_default() as u32;
                return Err(request_error(&format!("Unknown constructor 0x{id:08x}")));
            }
            Some(other) => {
                return Err(request_error(&format!(
                    "Expected String or Integer, but receive {}",
                    kind(other)
                )));
            }
        };
        let Some(function) = self.function(name) else {
            return Err(request_error(&format!("Unknown class \"{name}\"")));
        };
        let mut path = Path::default();
        let normalized = self
            .check_fields(function, object, Mode::Request, &mut path, 1)
            .map_err(|message| request_error(&message))?;
        Ok((function, normalized))
    }

    /// Completes (or checks, in [`Mode::Request`]) `value` as a value of type `ty`. `path` names
    /// the value in errors (e.g. `conversation[3].update`).
    pub fn check(
        &self,
        value: &Value,
        ty: &Type,
        mode: Mode,
        path: &str,
    ) -> Result<Value, CheckError> {
        let mut walk = Path::default();
        if !path.is_empty() {
            walk.0.push(Segment::Field(path.to_owned()));
        }
        self.check_value(value, ty, mode, &mut walk, 0, false)
            .map_err(|message| CheckError {
                path: walk.render(),
                message,
            })
    }

    /// Completes a partial object of type `ty` (a constructor or class name).
    pub fn complete(&self, value: &Value, ty: &str, path: &str) -> Result<Value, CheckError> {
        self.check(value, &Type::Named(ty.to_owned()), Mode::Complete, path)
    }

    /// Checks one value against `ty`. On error, `path` is left pointing at the culprit.
    fn check_value(
        &self,
        value: &Value,
        ty: &Type,
        mode: Mode,
        path: &mut Path,
        depth: usize,
        null_elements: bool,
    ) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err("Too big object depth".to_owned());
        }
        let wrong = || {
            format!(
                "Expected {}, but receive {}",
                expected_kind(ty),
                kind(value)
            )
        };
        match ty {
            Type::Int32 => match value {
                Value::Number(number) => {
                    match number.as_i64().and_then(|n| i32::try_from(n).ok()) {
                        Some(n) => Ok(Value::from(n)),
                        None => Err(format!("Can't parse as an integer string \"{number}\"")),
                    }
                }
                Value::String(text) => {
                    match parse_decimal(text).and_then(|n| i32::try_from(n).ok()) {
                        Some(n) => Ok(Value::from(n)),
                        None => Err(format!("Can't parse as an integer string \"{text}\"")),
                    }
                }
                _ => Err(wrong()),
            },
            Type::Int53 | Type::Int64 => match value {
                Value::Number(number) => match number.as_i64() {
                    Some(n) => Ok(Value::from(n)),
                    None => Err(format!("Can't parse as an integer string \"{number}\"")),
                },
                Value::String(text) => match parse_decimal(text) {
                    Some(n) => Ok(Value::from(n)),
                    None => Err(format!("Can't parse as an integer string \"{text}\"")),
                },
                _ => Err(wrong()),
            },
            Type::Double => match value {
                Value::Number(number) => Ok(Value::from(number.as_f64().unwrap_or_default())),
                _ => Err(wrong()),
            },
            Type::String => match value {
                Value::String(_) => Ok(value.clone()),
                _ => Err(wrong()),
            },
            Type::Bytes => match value {
                Value::String(text) => check_base64(text).map(|()| value.clone()),
                _ => Err(wrong()),
            },
            Type::Bool => match value {
                Value::Bool(_) => Ok(value.clone()),
                _ => Err(wrong()),
            },
            Type::Vector(inner) => {
                let Value::Array(elements) = value else {
                    return Err(wrong());
                };
                let mut out = Vec::with_capacity(elements.len());
                for (index, element) in elements.iter().enumerate() {
                    if element.is_null() && null_elements {
                        out.push(Value::Null);
                        continue;
                    }
                    path.0.push(Segment::Index(index));
                    out.push(self.check_value(element, inner, mode, path, depth + 1, false)?);
                    path.0.pop();
                }
                Ok(Value::Array(out))
            }
            Type::Named(name) => {
                let Value::Object(object) = value else {
                    return Err(wrong());
                };
                let def = self.constructor_for(name, object)?;
                self.check_fields(def, object, mode, path, depth + 1)
            }
        }
    }

    /// The constructor of an object expected to be of type `name`.
    fn constructor_for(
        &self,
        name: &str,
        object: &Map<String, Value>,
    ) -> Result<&Definition, String> {
        if is_class(name) {
            let given = match object.get("@type") {
                None => return Err("Can't find field \"@type\"".to_owned()),
                Some(Value::String(given)) => given,
                Some(other) => {
                    return Err(format!(
                        "Expected String or Integer, but receive {}",
                        kind(other)
                    ));
                }
            };
            match self.constructor(given) {
                Some(def) if def.result == name => Ok(def),
                _ => Err(format!("Unknown class \"{given}\"")),
            }
        } else {
            let def = self
                .constructor(name)
                .ok_or_else(|| format!("the schema has no constructor \"{name}\""))?;
            // TDLib ignores a wrong `@type` here; the fake rejects it, since it is a bug.
            match object.get("@type") {
                None => Ok(def),
                Some(Value::String(given)) if given == name => Ok(def),
                Some(other) => Err(format!(
                    "Expected an object of type \"{name}\", but receive @type {other}"
                )),
            }
        }
    }

    /// Checks or completes the fields of `def` given in `object`.
    fn check_fields(
        &self,
        def: &Definition,
        object: &Map<String, Value>,
        mode: Mode,
        path: &mut Path,
        depth: usize,
    ) -> Result<Value, String> {
        if mode == Mode::Complete {
            if let Some(key) = object
                .keys()
                .find(|key| *key != "@type" && def.param(key).is_none())
            {
                path.0.push(Segment::Field(key.clone()));
                return Err(format!("\"{}\" has no field \"{key}\"", def.name));
            }
        }
        let mut out = Map::new();
        out.insert("@type".to_owned(), Value::String(def.name.clone()));
        for param in &def.params {
            path.0.push(Segment::Field(param.name.clone()));
            if let Some(value) =
                self.check_field(def, param, object.get(&param.name), mode, path, depth)?
            {
                out.insert(param.name.clone(), value);
            }
            path.0.pop();
        }
        Ok(Value::Object(out))
    }

    /// One field: `None` when it is left out (an absent nullable object).
    fn check_field(
        &self,
        def: &Definition,
        param: &Param,
        value: Option<&Value>,
        mode: Mode,
        path: &mut Path,
        depth: usize,
    ) -> Result<Option<Value>, String> {
        let may_be_null = nullable(def, param);
        let null_elements = nullable_elements(param);
        match (value, mode) {
            (Some(value), _) if !value.is_null() => self
                .check_value(value, &param.ty, mode, path, depth, null_elements)
                .map(Some),
            (_, _) if may_be_null => Ok(None),
            (None, Mode::Request) => Err(format!("Can't find field \"{}\"", param.name)),
            (Some(_), Mode::Request) => match param.ty {
                Type::Named(_) => Err(format!("Field \"{}\" must not be null", param.name)),
                // A scalar or vector: TDLib would take the default; the fake wants the value.
                _ => Err(format!(
                    "Expected {}, but receive Null",
                    expected_kind(&param.ty)
                )),
            },
            (_, Mode::Complete) => match &param.ty {
                Type::Named(name) if is_class(name) => Err(format!(
                    "missing, and \"{}.{}\" is a {name} that must not be null ({})",
                    def.name,
                    param.name,
                    self.some_constructors(name)
                )),
                Type::Named(name) => {
                    let empty = Value::Object(Map::new());
                    self.check_value(&empty, &Type::Named(name.clone()), mode, path, depth, false)
                        .map(Some)
                }
                scalar => Ok(Some(default(scalar))),
            },
        }
    }
}

/// `Failed to parse JSON object as TDLib request: <message>`.
pub fn request_error(message: &str) -> String {
    format!("Failed to parse JSON object as TDLib request: {message}")
}

/// The JSON kind(s) TDLib expects for a type, as its error messages name them.
fn expected_kind(ty: &Type) -> &'static str {
    match ty {
        Type::Int32 | Type::Double => "Number",
        Type::Int53 | Type::Int64 => "String or Number",
        Type::String | Type::Bytes => "String",
        Type::Bool => "Boolean",
        Type::Vector(_) => "Array",
        Type::Named(_) => "Object",
    }
}

/// The default of a scalar or vector type.
fn default(ty: &Type) -> Value {
    match ty {
        Type::Int32 | Type::Int53 | Type::Int64 => Value::from(0),
        Type::Double => Value::from(0.0),
        Type::String | Type::Bytes => Value::from(""),
        Type::Bool => Value::Bool(false),
        Type::Vector(_) => Value::Array(Vec::new()),
        Type::Named(_) => Value::Null,
    }
}

/// A decimal integer as TDLib reads it from a string: an optional `-`, no `+`, no leading zeros.
fn parse_decimal(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let well_formed = !digits.is_empty()
        && digits.bytes().all(|byte| byte.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if well_formed { text.parse().ok() } else { None }
}

/// Standard base64 with padding, with TDLib's error texts.
fn check_base64(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    if bytes.len() % 4 != 0 {
        return Err("Wrong padding length".to_owned());
    }
    let padding = bytes.iter().rev().take_while(|&&byte| byte == b'=').count();
    if padding > 2 {
        return Err("Wrong padding length".to_owned());
    }
    let body = &bytes[..bytes.len() - padding];
    if body
        .iter()
        .all(|&byte| byte.is_ascii_alphanumeric() || byte == b'+' || byte == b'/')
    {
        Ok(())
    } else {
        Err("Wrong character in the string".to_owned())
    }
}
