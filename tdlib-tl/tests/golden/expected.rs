// Generated from td_api.tl by tdlib-tl; do not edit.

/// One struct per TDLib constructor (object type).
pub mod types {
    #![allow(clippy::large_enum_variant, clippy::too_many_arguments)]
    #[allow(unused_imports)] // which are used depends on the schema
    use crate::codec::{Decode, DecodeError, Encode, Reader, Seq, TlObject, Writer};

    /// An error
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct Error {
        /// Error code
        pub code: i32,
        /// Error message
        pub message: String,
    }

    impl TlObject for Error {
        const TYPE: &'static str = "error";
        fn decode_fields(r: &mut Reader<'_>, seq: &mut Seq) -> ::core::result::Result<Self, DecodeError> {
            let mut v = Self::default();
            while let Some(key) = r.next_key(seq)? {
                match &*key {
                    "code" => v.code = r.i32()?,
                    "message" => v.message = r.owned_string()?,
                    _ => r.skip()?,
                }
            }
            ::core::result::Result::Ok(v)
        }
        fn encode_fields(&self, w: &mut Writer) {
            w.field("code"); w.i64_number(i64::from(self.code));
            w.field("message"); w.string(&self.message);
        }
    }

    /// A reference outside the class prefix
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct LinkPreviewText {
        /// Address
        pub url: String,
        /// Title; may be null
        pub title: Option<crate::types::RichTextPlain>,
    }

    impl TlObject for LinkPreviewText {
        const TYPE: &'static str = "linkPreviewText";
        fn decode_fields(r: &mut Reader<'_>, seq: &mut Seq) -> ::core::result::Result<Self, DecodeError> {
            let mut v = Self::default();
            while let Some(key) = r.next_key(seq)? {
                match &*key {
                    "url" => v.url = r.owned_string()?,
                    "title" => v.title = r.nullable(Decode::decode)?,
                    _ => r.skip()?,
                }
            }
            ::core::result::Result::Ok(v)
        }
        fn encode_fields(&self, w: &mut Writer) {
            w.field("url"); w.string(&self.url);
            if let Some(value) = &self.title { w.field("title"); Encode::encode(value, w); }
        }
    }

    /// A message
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct Message {
        /// Identifier
        pub id: i64,
        /// Content; may be null
        pub content: Option<crate::enums::RichText>,
        /// Identifiers of replied-to messages
        pub reply_to_ids: Vec<i64>,
        /// Photo bytes
        pub photo: Vec<u8>,
        /// Aspect ratio
        pub ratio: f64,
        /// Message kind
        pub r#type: String,
        /// Rows of keyboard button labels
        pub rows: Vec<Vec<String>>,
    }

    impl TlObject for Message {
        const TYPE: &'static str = "message";
        fn decode_fields(r: &mut Reader<'_>, seq: &mut Seq) -> ::core::result::Result<Self, DecodeError> {
            let mut v = Self::default();
            while let Some(key) = r.next_key(seq)? {
                match &*key {
                    "id" => v.id = r.i64()?,
                    "content" => v.content = r.nullable(Decode::decode)?,
                    "reply_to_ids" => v.reply_to_ids = r.vec(|r| r.i64())?,
                    "photo" => v.photo = r.bytes_base64()?,
                    "ratio" => v.ratio = r.f64()?,
                    "type" => v.r#type = r.owned_string()?,
                    "rows" => v.rows = r.vec(|r| r.vec(|r| r.owned_string()))?,
                    _ => r.skip()?,
                }
            }
            ::core::result::Result::Ok(v)
        }
        fn encode_fields(&self, w: &mut Writer) {
            w.field("id"); w.i64_number(self.id);
            if let Some(value) = &self.content { w.field("content"); Encode::encode(value, w); }
            w.field("reply_to_ids"); w.vec(&self.reply_to_ids, |w, x| w.i64_string(*x));
            w.field("photo"); w.bytes_base64(&self.photo);
            w.field("ratio"); w.f64(self.ratio);
            w.field("type"); w.string(&self.r#type);
            w.field("rows"); w.vec(&self.rows, |w, x| w.vec(x, |w, x| w.string(x)));
        }
    }

    /// A list of messages
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct Messages {
        /// Total count
        pub total_count: i32,
        /// The messages; messages may be null
        pub messages: Vec<Option<crate::types::Message>>,
    }

    impl TlObject for Messages {
        const TYPE: &'static str = "messages";
        fn decode_fields(r: &mut Reader<'_>, seq: &mut Seq) -> ::core::result::Result<Self, DecodeError> {
            let mut v = Self::default();
            while let Some(key) = r.next_key(seq)? {
                match &*key {
                    "total_count" => v.total_count = r.i32()?,
                    "messages" => v.messages = r.vec(|r| r.nullable(Decode::decode))?,
                    _ => r.skip()?,
                }
            }
            ::core::result::Result::Ok(v)
        }
        fn encode_fields(&self, w: &mut Writer) {
            w.field("total_count"); w.i64_number(i64::from(self.total_count));
            w.field("messages"); w.vec(&self.messages, |w, x| match x { Some(x) => Encode::encode(x, w), None => w.null() });
        }
    }

    /// Success
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct Ok {
    }

    impl TlObject for Ok {
        const TYPE: &'static str = "ok";
        fn decode_fields(_r: &mut Reader<'_>, seq: &mut Seq) -> ::core::result::Result<Self, DecodeError> {
            _r.skip_fields(seq)?;
            ::core::result::Result::Ok(Self {})
        }
        fn encode_fields(&self, _w: &mut Writer) {
        }
    }

    /// Bold text
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct RichTextBold {
        /// The text, which may itself be formatted
        pub text: Box<crate::enums::RichText>,
    }

    impl TlObject for RichTextBold {
        const TYPE: &'static str = "richTextBold";
        fn decode_fields(r: &mut Reader<'_>, seq: &mut Seq) -> ::core::result::Result<Self, DecodeError> {
            let mut v = Self::default();
            while let Some(key) = r.next_key(seq)? {
                match &*key {
                    "text" => v.text = Box::new(Decode::decode(r)?),
                    _ => r.skip()?,
                }
            }
            ::core::result::Result::Ok(v)
        }
        fn encode_fields(&self, w: &mut Writer) {
            w.field("text"); Encode::encode(&*self.text, w);
        }
    }

    /// Plain text
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct RichTextPlain {
        /// The text
        pub text: String,
    }

    impl TlObject for RichTextPlain {
        const TYPE: &'static str = "richTextPlain";
        fn decode_fields(r: &mut Reader<'_>, seq: &mut Seq) -> ::core::result::Result<Self, DecodeError> {
            let mut v = Self::default();
            while let Some(key) = r.next_key(seq)? {
                match &*key {
                    "text" => v.text = r.owned_string()?,
                    _ => r.skip()?,
                }
            }
            ::core::result::Result::Ok(v)
        }
        fn encode_fields(&self, w: &mut Writer) {
            w.field("text"); w.string(&self.text);
        }
    }

    /// A new message arrived
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct UpdateNewMessage {
        /// The message
        pub message: Box<crate::types::Message>,
    }

    impl TlObject for UpdateNewMessage {
        const TYPE: &'static str = "updateNewMessage";
        fn decode_fields(r: &mut Reader<'_>, seq: &mut Seq) -> ::core::result::Result<Self, DecodeError> {
            let mut v = Self::default();
            while let Some(key) = r.next_key(seq)? {
                match &*key {
                    "message" => v.message = Box::new(Decode::decode(r)?),
                    _ => r.skip()?,
                }
            }
            ::core::result::Result::Ok(v)
        }
        fn encode_fields(&self, w: &mut Writer) {
            w.field("message"); Encode::encode(&*self.message, w);
        }
    }

    /// An option changed
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct UpdateOption {
        /// The option's name
        pub name: String,
        /// Its new value
        pub value: i32,
    }

    impl TlObject for UpdateOption {
        const TYPE: &'static str = "updateOption";
        fn decode_fields(r: &mut Reader<'_>, seq: &mut Seq) -> ::core::result::Result<Self, DecodeError> {
            let mut v = Self::default();
            while let Some(key) = r.next_key(seq)? {
                match &*key {
                    "name" => v.name = r.owned_string()?,
                    "value" => v.value = r.i32()?,
                    _ => r.skip()?,
                }
            }
            ::core::result::Result::Ok(v)
        }
        fn encode_fields(&self, w: &mut Writer) {
            w.field("name"); w.string(&self.name);
            w.field("value"); w.i64_number(i64::from(self.value));
        }
    }

}

/// One enum per TDLib abstract class.
pub mod enums {
    #![allow(clippy::large_enum_variant)]
    use crate::codec::{Encode, UnknownObject, Writer};

    /// Text with formatting; see <https://core.telegram.org/api> (with \*stars\* and \[brackets\])
    #[derive(Debug, Clone, PartialEq)]
    pub enum RichText {
        /// A reference outside the class prefix
        LinkPreviewText(crate::types::LinkPreviewText),
        /// Bold text
        Bold(crate::types::RichTextBold),
        /// Plain text
        Plain(crate::types::RichTextPlain),
        /// An object this version of the schema does not know, kept as TDLib sent it.
        Unrecognized(UnknownObject),
    }

    impl Default for RichText {
        /// `Unrecognized` with no content: stands for an absent object, and is written as `null`.
        fn default() -> Self {
            Self::Unrecognized(UnknownObject::default())
        }
    }

    impl crate::codec::Decode for RichText {
        fn decode(r: &mut crate::codec::Reader<'_>) -> ::core::result::Result<Self, crate::codec::DecodeError> {
            static DECODERS: &[(&str, crate::codec::VariantDecoder<RichText>)] = &[
                ("linkPreviewText", |r, seq| crate::codec::decode_variant(r, seq).map(RichText::LinkPreviewText)),
                ("richTextBold", |r, seq| crate::codec::decode_variant(r, seq).map(RichText::Bold)),
                ("richTextPlain", |r, seq| crate::codec::decode_variant(r, seq).map(RichText::Plain)),
            ];
            crate::codec::decode_enum(r, DECODERS, Self::Unrecognized)
        }
    }

    impl Encode for RichText {
        fn encode(&self, w: &mut Writer) {
            match self {
                Self::LinkPreviewText(value) => value.encode(w),
                Self::Bold(value) => value.encode(w),
                Self::Plain(value) => value.encode(w),
                Self::Unrecognized(value) => value.encode(w),
            }
        }
    }

    /// An update; its constructors get typed views
    #[derive(Debug, Clone, PartialEq)]
    pub enum Update {
        /// A new message arrived
        NewMessage(crate::types::UpdateNewMessage),
        /// An option changed
        Option(crate::types::UpdateOption),
        /// An object this version of the schema does not know, kept as TDLib sent it.
        Unrecognized(UnknownObject),
    }

    impl Default for Update {
        /// `Unrecognized` with no content: stands for an absent object, and is written as `null`.
        fn default() -> Self {
            Self::Unrecognized(UnknownObject::default())
        }
    }

    impl crate::codec::Decode for Update {
        fn decode(r: &mut crate::codec::Reader<'_>) -> ::core::result::Result<Self, crate::codec::DecodeError> {
            static DECODERS: &[(&str, crate::codec::VariantDecoder<Update>)] = &[
                ("updateNewMessage", |r, seq| crate::codec::decode_variant(r, seq).map(Update::NewMessage)),
                ("updateOption", |r, seq| crate::codec::decode_variant(r, seq).map(Update::Option)),
            ];
            crate::codec::decode_enum(r, DECODERS, Self::Unrecognized)
        }
    }

    impl Encode for Update {
        fn encode(&self, w: &mut Writer) {
            match self {
                Self::NewMessage(value) => value.encode(w),
                Self::Option(value) => value.encode(w),
                Self::Unrecognized(value) => value.encode(w),
            }
        }
    }

    impl crate::codec::Variant<Update> for Update {
        fn view(value: &Update) -> ::core::option::Option<&Self> {
            ::core::option::Option::Some(value)
        }
        fn into_enum(self) -> Update {
            self
        }
    }

    impl crate::codec::Variant<Update> for crate::types::UpdateNewMessage {
        fn view(value: &Update) -> ::core::option::Option<&Self> {
            match value {
                Update::NewMessage(value) => ::core::option::Option::Some(value),
                _ => ::core::option::Option::None,
            }
        }
        fn into_enum(self) -> Update {
            Update::NewMessage(self)
        }
    }

    impl crate::codec::Variant<Update> for crate::types::UpdateOption {
        fn view(value: &Update) -> ::core::option::Option<&Self> {
            match value {
                Update::Option(value) => ::core::option::Option::Some(value),
                _ => ::core::option::Option::None,
            }
        }
        fn into_enum(self) -> Update {
            Update::Option(self)
        }
    }

}

/// One struct per TDLib function (request); `Function::Output` is its answer.
pub mod functions {
    #![allow(clippy::too_many_arguments)]
    #[allow(unused_imports)] // which are used depends on the schema
    use crate::codec::{Decode, DecodeError, Encode, Function, Reader, Seq, Synchronous, TlObject, Writer};

    /// Checks a code
    #[derive(Clone, PartialEq, Default)]
    pub struct CheckCode {
        /// The code
        pub code: String,
    }

    impl ::core::fmt::Debug for CheckCode {
        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
            f.debug_struct("CheckCode")
                .field("code", &crate::codec::Redacted)
                .finish()
        }
    }

    impl TlObject for CheckCode {
        const TYPE: &'static str = "checkCode";
        fn decode_fields(r: &mut Reader<'_>, seq: &mut Seq) -> ::core::result::Result<Self, DecodeError> {
            let mut v = Self::default();
            while let Some(key) = r.next_key(seq)? {
                match &*key {
                    "code" => v.code = r.owned_string()?,
                    _ => r.skip()?,
                }
            }
            ::core::result::Result::Ok(v)
        }
        fn encode_fields(&self, w: &mut Writer) {
            w.field("code"); w.string(&self.code);
        }
    }

    impl Function for CheckCode {
        type Output = crate::types::Ok;
    }

    /// Checks a bot token. Can be called synchronously
    #[derive(Clone, PartialEq, Default)]
    pub struct CheckToken {
        /// The token
        pub token: String,
        /// A flag
        pub flag: bool,
    }

    impl ::core::fmt::Debug for CheckToken {
        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
            f.debug_struct("CheckToken")
                .field("token", &crate::codec::Redacted)
                .field("flag", &self.flag)
                .finish()
        }
    }

    impl TlObject for CheckToken {
        const TYPE: &'static str = "checkToken";
        fn decode_fields(r: &mut Reader<'_>, seq: &mut Seq) -> ::core::result::Result<Self, DecodeError> {
            let mut v = Self::default();
            while let Some(key) = r.next_key(seq)? {
                match &*key {
                    "token" => v.token = r.owned_string()?,
                    "flag" => v.flag = r.bool()?,
                    _ => r.skip()?,
                }
            }
            ::core::result::Result::Ok(v)
        }
        fn encode_fields(&self, w: &mut Writer) {
            w.field("token"); w.string(&self.token);
            w.field("flag"); w.bool(self.flag);
        }
    }

    impl Function for CheckToken {
        type Output = crate::types::Ok;
    }

    impl Synchronous for CheckToken {}

    /// Formats text
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct FormatText {
        /// The text to format; pass null to use an empty text
        pub text: Option<crate::enums::RichText>,
    }

    impl TlObject for FormatText {
        const TYPE: &'static str = "formatText";
        fn decode_fields(r: &mut Reader<'_>, seq: &mut Seq) -> ::core::result::Result<Self, DecodeError> {
            let mut v = Self::default();
            while let Some(key) = r.next_key(seq)? {
                match &*key {
                    "text" => v.text = r.nullable(Decode::decode)?,
                    _ => r.skip()?,
                }
            }
            ::core::result::Result::Ok(v)
        }
        fn encode_fields(&self, w: &mut Writer) {
            if let Some(value) = &self.text { w.field("text"); Encode::encode(value, w); }
        }
    }

    impl Function for FormatText {
        type Output = crate::enums::RichText;
    }

    /// Returns a message
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct GetMessage {
        /// Identifier of the message
        pub message_id: i64,
    }

    impl TlObject for GetMessage {
        const TYPE: &'static str = "getMessage";
        fn decode_fields(r: &mut Reader<'_>, seq: &mut Seq) -> ::core::result::Result<Self, DecodeError> {
            let mut v = Self::default();
            while let Some(key) = r.next_key(seq)? {
                match &*key {
                    "message_id" => v.message_id = r.i64()?,
                    _ => r.skip()?,
                }
            }
            ::core::result::Result::Ok(v)
        }
        fn encode_fields(&self, w: &mut Writer) {
            w.field("message_id"); w.i64_number(self.message_id);
        }
    }

    impl Function for GetMessage {
        type Output = crate::types::Message;
    }

    /// The `@type` names of the functions TDLib documents as callable synchronously.
    pub const SYNCHRONOUS: &[&str] = &[
        "checkToken",
    ];
}

/// Any TDLib object.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    /// `error`
    Error(crate::types::Error),
    /// `linkPreviewText`
    LinkPreviewText(crate::types::LinkPreviewText),
    /// `message`
    Message(Box<crate::types::Message>),
    /// `messages`
    Messages(crate::types::Messages),
    /// `ok`
    Ok(crate::types::Ok),
    /// `richTextBold`
    RichTextBold(crate::types::RichTextBold),
    /// `richTextPlain`
    RichTextPlain(crate::types::RichTextPlain),
    /// `updateNewMessage`
    UpdateNewMessage(crate::types::UpdateNewMessage),
    /// `updateOption`
    UpdateOption(crate::types::UpdateOption),
    /// An object this version of the schema does not know, kept as TDLib sent it.
    Unrecognized(crate::codec::UnknownObject),
}

impl crate::codec::Decode for Object {
    fn decode(r: &mut crate::codec::Reader<'_>) -> ::core::result::Result<Self, crate::codec::DecodeError> {
        static DECODERS: &[(&str, crate::codec::VariantDecoder<Object>)] = &[
            ("error", |r, seq| crate::codec::decode_variant(r, seq).map(Object::Error)),
            ("linkPreviewText", |r, seq| crate::codec::decode_variant(r, seq).map(Object::LinkPreviewText)),
            ("message", |r, seq| crate::codec::decode_variant(r, seq).map(|value| Object::Message(Box::new(value)))),
            ("messages", |r, seq| crate::codec::decode_variant(r, seq).map(Object::Messages)),
            ("ok", |r, seq| crate::codec::decode_variant(r, seq).map(Object::Ok)),
            ("richTextBold", |r, seq| crate::codec::decode_variant(r, seq).map(Object::RichTextBold)),
            ("richTextPlain", |r, seq| crate::codec::decode_variant(r, seq).map(Object::RichTextPlain)),
            ("updateNewMessage", |r, seq| crate::codec::decode_variant(r, seq).map(Object::UpdateNewMessage)),
            ("updateOption", |r, seq| crate::codec::decode_variant(r, seq).map(Object::UpdateOption)),
        ];
        crate::codec::decode_enum(r, DECODERS, Self::Unrecognized)
    }
}

