//! A parser for TDLib's `td_api.tl`, the TL schema that describes the objects and functions of
//! TDLib's JSON interface, and a generator that writes the Rust source of the typed API from it
//! ([`generate`]). Plain std-only library code, run by the build script of `tdlib-types`.
//!
//! [`parse`](fn@parse) turns the text of the schema into a [`Schema`]: the abstract classes
//! (`//@class ...`), the constructors (before `---functions---`) and the functions, each with
//! the documentation from its `//@` comments. The built-in declarations at the top of the file
//! (`int32 = Int32;`, `vector {t:Type} # [ t ] = Vector t;`, ...) are recognised and left out;
//! field types that use them become [`Type::Int32`], [`Type::Vector`] and so on.
//!
//! [`parse`](fn@parse) checks only the syntax. [`validate`] then checks that the names refer to each
//! other correctly, so that code can be generated from the schema. [`diff::diff`] compares two
//! schemas (what changed from one TDLib release to the next).
//!
//! ```
//! let schema = tdlib_tl::parse(
//!     "//@description A text with entities @text The text @entities The entities\n\
//!      formattedText text:string entities:vector<textEntity> = FormattedText;\n",
//! )?;
//! assert_eq!(schema.types[0].params[1].ty.to_string(), "vector<textEntity>");
//! # Ok::<(), tdlib_tl::ParseError>(())
//! ```

pub mod ast;
pub mod diff;
pub mod generate;
pub mod parse;

pub use ast::{Class, Definition, Param, Schema, Type};
pub use parse::{ParseError, ValidationError, ValidationErrorKind, parse, validate};
