//! The runtime the generated types are decoded and encoded with: a JSON [`Reader`] and
//! [`Writer`] that follow TDLib's encoding rules, and the traits the generated code implements.
//!
//! Why not serde: TDLib's JSON has its own rules (64-bit integers as strings, `bytes` as
//! base64, doubles that may be written as a bare `inf`, which is not JSON); TDLib writes `@type`
//! first, so an object of an abstract class is dispatched without buffering it; and about 3,300
//! generated types compile much faster as plain functions than as serde visitors that every
//! dependent crate would monomorphize again.

mod json;

use std::borrow::Cow;

pub use json::{
    DecodeError, DecodeErrorKind, EncodeError, MAX_DEPTH, Reader, Seq, Writer, check_json,
};

/// A TDLib object or function: its `@type` name and its fields' codecs.
pub trait TlObject: Sized + Default {
    /// The `@type` name, e.g. `"formattedText"` or `"getChat"`.
    const TYPE: &'static str;
    /// Decodes the fields of an object whose `{` has been read, up to and including its `}`.
    /// Unknown fields and `@type` are skipped.
    fn decode_fields(r: &mut Reader<'_>, seq: &mut Seq) -> Result<Self, DecodeError>;
    /// Encodes the fields, each preceded by its comma.
    fn encode_fields(&self, w: &mut Writer);

    /// [`TlObject::TYPE`] of a value.
    fn type_name(&self) -> &'static str {
        Self::TYPE
    }
}

/// A value that can be read from TDLib's JSON.
pub trait Decode: Sized {
    /// Reads one value.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Reads a whole JSON text holding one value.
    fn from_json(json: &str) -> Result<Self, DecodeError> {
        let mut r = Reader::new(json);
        let value = Self::decode(&mut r)?;
        r.finish()?;
        Ok(value)
    }
}

/// A value that can be written as TDLib's JSON.
pub trait Encode {
    /// Writes the value.
    fn encode(&self, w: &mut Writer);

    /// The value as a JSON text.
    fn to_json(&self) -> String {
        let mut w = Writer::new();
        self.encode(&mut w);
        w.finish()
    }
}

/// A TDLib function (a request). Its answer decodes as [`Function::Output`].
pub trait Function: TlObject + Encode {
    /// What TDLib answers on success.
    type Output: Decode;
}

/// A function TDLib documents as "can be called synchronously": it may be run with
/// `td_execute`, without a client. A typed `execute` takes only these:
///
/// ```
/// fn execute<F: tdlib_types::codec::Synchronous>(_: F) {}
/// execute(tdlib_types::functions::GetTextEntities { text: "see https://example.org".into() });
/// ```
///
/// ```compile_fail
/// fn execute<F: tdlib_types::codec::Synchronous>(_: F) {}
/// execute(tdlib_types::functions::GetMe {}); // needs a client
/// ```
pub trait Synchronous: Function {}

/// `Self` is one constructor of the abstract class `E` (its struct, e.g.
/// [`types::UpdateNewMessage`](crate::types::UpdateNewMessage) for
/// [`enums::Update`](crate::enums::Update)), or `E` itself: a typed view into a value of the
/// class's enum, without copying. Generated for [`enums::Update`](crate::enums::Update), whose
/// subscriptions are typed by it.
///
/// ```
/// use tdlib_types::codec::Variant;
/// use tdlib_types::{enums, types};
///
/// let update = enums::Update::Option(types::UpdateOption {
///     name: "version".into(),
///     value: Default::default(),
/// });
/// assert_eq!(types::UpdateOption::view(&update).map(|option| option.name.as_str()), Some("version"));
/// assert!(types::UpdateNewMessage::view(&update).is_none());
/// assert!(enums::Update::view(&update).is_some(), "the class views every variant");
/// assert_eq!(types::UpdateOption::view(&update).cloned().map(Variant::into_enum), Some(update));
/// ```
pub trait Variant<E>: Sized + 'static {
    /// `Self` inside `value`, if `value` holds a `Self`.
    fn view(value: &E) -> Option<&Self>;
    /// `Self` as a value of the enum.
    fn into_enum(self) -> E;
}

impl<T: TlObject> Decode for T {
    /// `null` reads as the default value, as TDLib reads it ("no object").
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if r.null() {
            return Ok(T::default());
        }
        let mut seq = r.begin_object()?;
        T::decode_fields(r, &mut seq)
    }
}

impl<T: TlObject> Encode for T {
    fn encode(&self, w: &mut Writer) {
        if w.begin_object(T::TYPE) {
            self.encode_fields(w);
        }
        w.end_object();
    }
}

/// An object whose `@type` this schema does not know (a newer TDLib), kept as TDLib sent it so
/// that nothing is lost and it can be sent back unchanged.
///
/// The default value (no type, no JSON) stands for an absent object: it is what an enum field
/// holds when TDLib left the field out, and what `Default` gives for an enum. It is written as
/// `null`, which TDLib reads as "no object".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnknownObject {
    /// Its `@type`.
    pub type_name: String,
    /// The whole object as JSON.
    pub json: String,
}

impl UnknownObject {
    /// Whether this stands for an absent object (the default value).
    pub fn is_absent(&self) -> bool {
        self.json.is_empty()
    }
}

impl Encode for UnknownObject {
    fn encode(&self, w: &mut Writer) {
        if self.json.is_empty() {
            w.null();
        } else {
            w.raw(&self.json);
        }
    }
}

/// Stands in for a secret (API hash, token, password, key) in `Debug` output.
#[derive(Clone, Copy)]
pub struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Decodes the rest of one constructor of an enum, after its `@type`.
pub type VariantDecoder<T> = for<'r, 'a> fn(&'r mut Reader<'a>, &mut Seq) -> Result<T, DecodeError>;

/// Decodes the rest of an object whose `@type` was read.
///
/// Never inlined: each enum's table holds one decoder per constructor, and inlining every
/// struct's decoder into those costs compile time for no measurable speed.
#[inline(never)]
pub fn decode_variant<T: TlObject>(r: &mut Reader<'_>, seq: &mut Seq) -> Result<T, DecodeError> {
    T::decode_fields(r, seq)
}

/// Decodes an object of an abstract class: reads its `@type`, finds the constructor's decoder
/// by binary search in `decoders` (sorted by name; a `match` over 2,000 strings compiles slowly
/// and runs as a linear scan), or keeps an unknown object as it came. `null` reads as absent.
pub fn decode_enum<T>(
    r: &mut Reader<'_>,
    decoders: &[(&str, VariantDecoder<T>)],
    unknown: fn(UnknownObject) -> T,
) -> Result<T, DecodeError> {
    if r.null() {
        return Ok(unknown(UnknownObject::default()));
    }
    let (type_name, start, mut seq) = r.begin_tagged_object()?;
    match decoders.binary_search_by(|(name, _)| (*name).cmp(&*type_name)) {
        Ok(index) => (decoders[index].1)(r, &mut seq),
        Err(_) => r.unknown_object(type_name, start, &mut seq).map(unknown),
    }
}

impl<'a> Reader<'a> {
    /// Reads the `{` and the `@type` of an object. TDLib writes `@type` first; for other
    /// writers it is looked up and the reader rewinds to the first field. Returns the type
    /// name, the object's start offset, and the position among its fields.
    pub fn begin_tagged_object(&mut self) -> Result<(Cow<'a, str>, usize, Seq), DecodeError> {
        self.peek();
        let start = self.offset();
        let mut seq = self.begin_object()?;
        let after_brace = self.clone();
        let mut first = true;
        while let Some(key) = self.next_key(&mut seq)? {
            if key == "@type" {
                let name = self.string()?;
                if first {
                    return Ok((name, start, seq));
                }
                *self = after_brace;
                return Ok((name, start, Seq::new()));
            }
            first = false;
            self.skip()?;
        }
        Err(DecodeError {
            offset: start,
            kind: DecodeErrorKind::MissingType,
        })
    }

    /// Skips the remaining fields of an object of an unknown type and returns it whole.
    pub fn unknown_object(
        &mut self,
        type_name: Cow<'a, str>,
        start: usize,
        seq: &mut Seq,
    ) -> Result<UnknownObject, DecodeError> {
        self.skip_fields(seq)?;
        Ok(UnknownObject {
            type_name: type_name.into_owned(),
            json: self.slice(start, self.offset()).to_owned(),
        })
    }

    /// Skips the remaining fields of an object, up to and including its `}`.
    pub fn skip_fields(&mut self, seq: &mut Seq) -> Result<(), DecodeError> {
        while self.next_key(seq)?.is_some() {
            self.skip()?;
        }
        Ok(())
    }
}
