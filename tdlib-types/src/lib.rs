//! TDLib's whole API as Rust types, generated at build time from the `td_api.tl` of the
//! TDLib that `tdlib-sys` links, so types and library always match.
//!
//! - [`types`]: a struct per TDLib constructor (object), e.g. [`types::FormattedText`];
//! - [`enums`]: an enum per abstract class, e.g. [`enums::TextEntityType`], [`enums::Update`];
//!   each has an `Unrecognized` variant that keeps an object of a newer TDLib as raw JSON;
//! - [`functions`]: a struct per TDLib function; [`codec::Function::Output`] is its answer's
//!   type, and [`codec::Synchronous`] marks the functions that may run without a client;
//! - [`Object`]: any TDLib object.
//!
//! The JSON mapping follows TDLib: `int64` ↔ `i64` written as a JSON string, `int53` ↔ `i64` as
//! a number, `bytes` ↔ `Vec<u8>` as base64, `vector<T>` ↔ `Vec<T>`, and an object field that
//! TDLib documents as possibly null ↔ `Option`. Field names are the schema's (`type` is
//! `r#type`); recursive fields are boxed.
//!
//! ```
//! use tdlib_types::codec::{Decode, Encode};
//! use tdlib_types::{enums, functions, types};
//!
//! let request = functions::ParseTextEntities {
//!     text: "<b>bold</b>".into(),
//!     parse_mode: enums::TextParseMode::HTML(types::TextParseModeHTML {}),
//! };
//! assert_eq!(
//!     request.to_json(),
//!     r#"{"@type":"parseTextEntities","text":"<b>bold</b>","parse_mode":{"@type":"textParseModeHTML"}}"#
//! );
//!
//! let answer = r#"{"@type":"formattedText","text":"bold","entities":[{"@type":"textEntity","offset":0,"length":4,"type":{"@type":"textEntityTypeBold"}}]}"#;
//! let text = types::FormattedText::from_json(answer).unwrap();
//! assert_eq!(text.entities[0].r#type, enums::TextEntityType::Bold(types::TextEntityTypeBold {}));
//! ```

pub mod codec;

include!(concat!(env!("OUT_DIR"), "/td_api.rs"));
