//! Parsing `td_api.tl` text into a [`Schema`], and checking the parsed schema with [`validate`].
//!
//! # What the parser accepts
//!
//! The file is read line by line (`\n` or `\r\n`). Blank lines are ignored everywhere, also
//! between a doc comment and its declaration. Any other line is one of:
//!
//! * a declaration, `name field:type ... = Result;`, on one line. A field is `name:type` with
//!   no space around the `:`; a type is `int32`, `int53`, `int64`, `double`, `string`, `bytes`,
//!   `Bool`, `vector<type>` or any other name (kept as written).
//! * one of the nine built-in declarations (`double ? = Double;`, ..., `vector {t:Type} # [ t ]
//!   = Vector t;`). They are recognised by their tokens wherever they are and left out of the
//!   [`Schema`]. A line that starts with a built-in name but is not exactly a built-in
//!   declaration is an error.
//! * `---functions---` or `---types---`, which switch between constructors and functions.
//! * a comment line: `//@tag text` starts a tag, `//-text` continues the previous tag (joined
//!   with one space). The comment lines before a declaration document it.
//!
//! A `//@class Name @description ...` line, with the `//-` lines after it, declares an abstract
//! class and documents nothing else; the next `//@` line starts a new doc comment.
//!
//! # Tags
//!
//! In a declaration's doc comment, `@description` documents the declaration, `@name` documents
//! the field `name`, and `@param_name` documents the field `name` too (TDLib writes
//! `@param_description` for fields called `description`, whose plain tag would be taken for
//! the declaration's description).
//!
//! A tag at the start of a comment line (`//@name`) must be one of those; anything else is an
//! error at the tag. Later on a line, `@name` starts a tag only if it follows whitespace, `name`
//! matches `[a-z_][a-z0-9_]*` and is followed by whitespace or the end of the line, and it is a
//! tag of the declaration being documented. Otherwise it is prose, so that `@BotFather`,
//! `user@example.com` or "mention @username" in a description stay text. (TDLib's 1.8.65
//! schema has no `@` in prose at all: every `@` there is a tag of the declaration below it.)

use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::fmt;

use crate::ast::{Class, Definition, Param, Schema, Type};

/// A syntax error in the schema text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The 1-based line of the error.
    pub line: usize,
    /// The 1-based column of the error, counted in characters.
    pub column: usize,
    /// What the parser expected, e.g. "`:` after a field name".
    pub expected: String,
    /// What it found instead: a quoted token such as "`=`", or "whitespace", "end of line" or
    /// "end of file".
    pub found: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: expected {}, found {}",
            self.line, self.column, self.expected, self.found
        )
    }
}

impl Error for ParseError {}

/// Parses the text of a `td_api.tl` schema.
///
/// Only the syntax is checked (and that no name is declared twice); use [`validate`] to check
/// that the names refer to each other correctly.
pub fn parse(text: &str) -> Result<Schema, ParseError> {
    // An editor may have saved the file with a byte order mark; it is not part of the schema.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser::default();
    for (index, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        parser.line(index + 1, line)?;
    }
    parser.finish()
}

/// `vector<...>` nesting deeper than this is rejected, so that hostile input cannot overflow
/// the stack of the recursive type parser (the real schema nests two levels deep).
const MAX_VECTOR_DEPTH: usize = 32;

/// The built-in declarations as tokens, with the canonical text for error messages.
const BUILTINS: [(&[&str], &str); 9] = [
    (&["double", "?", "=", "Double", ";"], "double ? = Double;"),
    (&["string", "?", "=", "String", ";"], "string ? = String;"),
    (&["int32", "=", "Int32", ";"], "int32 = Int32;"),
    (&["int53", "=", "Int53", ";"], "int53 = Int53;"),
    (&["int64", "=", "Int64", ";"], "int64 = Int64;"),
    (&["bytes", "=", "Bytes", ";"], "bytes = Bytes;"),
    (&["boolFalse", "=", "Bool", ";"], "boolFalse = Bool;"),
    (&["boolTrue", "=", "Bool", ";"], "boolTrue = Bool;"),
    (
        &[
            "vector", "{", "t", ":", "Type", "}", "#", "[", "t", "]", "=", "Vector", "t", ";",
        ],
        "vector {t:Type} # [ t ] = Vector t;",
    ),
];

/// One `//` line, kept until we know what it documents (tags can only be told from prose once
/// the declaration's fields are known).
#[derive(Debug, Clone, Copy)]
struct CommentLine<'a> {
    /// 1-based line number.
    number: usize,
    /// The whole line without trailing whitespace, so that byte offsets give columns.
    line: &'a str,
    /// Byte offset of the character after `//` (`@` or `-`).
    at: usize,
}

/// Consecutive comment lines (blank lines in between are ignored).
#[derive(Debug)]
struct Block<'a> {
    /// Whether the block starts with `//@class`.
    is_class: bool,
    /// Never empty.
    lines: Vec<CommentLine<'a>>,
}

#[derive(Debug, Default)]
struct Parser<'a> {
    schema: Schema,
    in_functions: bool,
    /// The comment block waiting for its declaration (or, for a class block, for its end).
    pending: Option<Block<'a>>,
    /// Line of each constructor and function name, to report duplicates. Constructors and
    /// functions share one namespace because TDLib's JSON `@type` names both.
    names: HashMap<&'a str, usize>,
    /// Line of each class name.
    class_names: HashMap<&'a str, usize>,
}

fn is_space(c: char) -> bool {
    c.is_ascii_whitespace()
}

impl<'a> Parser<'a> {
    fn line(&mut self, number: usize, line: &'a str) -> Result<(), ParseError> {
        let line = line.trim_end_matches(is_space);
        let start = line.len() - line.trim_start_matches(is_space).len();
        let content = &line[start..];
        if content.is_empty() {
            return Ok(());
        }
        if content.starts_with("//") {
            return self.comment(CommentLine {
                number,
                line,
                at: start + 2,
            });
        }
        // Any other line ends a class block (which is the `//@class` line and its `//-` lines).
        self.finish_class()?;
        if content.starts_with("---") {
            self.separator(number, line, start)
        } else {
            self.declaration(number, line, start)
        }
    }

    fn comment(&mut self, comment: CommentLine<'a>) -> Result<(), ParseError> {
        let body = &comment.line[comment.at..];
        if let Some(after_at) = body.strip_prefix('@') {
            let name_len = tag_name_len(after_at);
            let name_end = comment.at + 1 + name_len;
            if name_len == 0 {
                return Err(error_at(
                    comment.number,
                    comment.line,
                    comment.at + 1,
                    "a tag name (`[a-z_][a-z0-9_]*`) after `//@`",
                ));
            }
            if !comment.line[name_end..]
                .chars()
                .next()
                .is_none_or(char::is_whitespace)
            {
                return Err(error_at(
                    comment.number,
                    comment.line,
                    name_end,
                    format!("whitespace after the tag `@{}`", &after_at[..name_len]),
                ));
            }
            if &after_at[..name_len] == "class" {
                if let Some(block) = self.pending.as_ref().filter(|block| !block.is_class) {
                    return Err(orphan_doc(
                        block,
                        comment.number,
                        comment.line,
                        comment.at - 2,
                        "`//@class`".to_owned(),
                    ));
                }
                self.finish_class()?;
                self.pending = Some(Block {
                    is_class: true,
                    lines: vec![comment],
                });
            } else {
                // A tag line after a class block starts the doc comment of a declaration.
                self.finish_class()?;
                match &mut self.pending {
                    Some(block) => block.lines.push(comment),
                    None => {
                        self.pending = Some(Block {
                            is_class: false,
                            lines: vec![comment],
                        })
                    }
                }
            }
            Ok(())
        } else if body.starts_with('-') {
            match &mut self.pending {
                Some(block) => {
                    block.lines.push(comment);
                    Ok(())
                }
                None => Err(ParseError {
                    line: comment.number,
                    column: column(comment.line, comment.at - 2),
                    expected: "a `//@` tag line before a `//-` continuation line".to_owned(),
                    found: "`//-`".to_owned(),
                }),
            }
        } else {
            Err(error_at(
                comment.number,
                comment.line,
                comment.at,
                "`@` (a tag) or `-` (a continuation line) after `//`",
            ))
        }
    }

    /// Turns a pending class block into a [`Class`]; does nothing if no class block is pending.
    fn finish_class(&mut self) -> Result<(), ParseError> {
        if !self.pending.as_ref().is_some_and(|block| block.is_class) {
            return Ok(());
        }
        let Some(block) = self.pending.take() else {
            return Ok(());
        };
        let Some(first) = block.lines.first() else {
            return Ok(());
        };
        let mut cursor = Cursor {
            line: first.line,
            pos: first.at + "@class".len(),
            number: first.number,
        };
        cursor.skip_space();
        let name_pos = cursor.pos;
        let name = cursor.ident();
        if name.is_empty() {
            return Err(cursor.error(name_pos, "a class name after `@class`"));
        }
        if !starts_with_upper(name) {
            return Err(cursor.error(
                name_pos,
                "a class name that starts with a capital letter after `@class`",
            ));
        }
        if let Some(&line) = self.class_names.get(name) {
            return Err(cursor.error(
                name_pos,
                format!("a class name not declared before (`{name}` is declared on line {line})"),
            ));
        }
        self.class_names.insert(name, first.number);
        let context = DocContext {
            owner: name,
            params: &[],
        };
        let docs = context.resolve(&block.lines, Some(cursor.pos))?;
        self.schema.classes.push(Class {
            name: name.to_owned(),
            description: docs.description,
            line: first.number,
        });
        Ok(())
    }

    fn separator(&mut self, number: usize, line: &'a str, start: usize) -> Result<(), ParseError> {
        let content = &line[start..];
        if let Some(block) = &self.pending {
            return Err(orphan_doc(block, number, line, start, quote(content)));
        }
        match content {
            "---functions---" => self.in_functions = true,
            "---types---" => self.in_functions = false,
            _ => {
                return Err(ParseError {
                    line: number,
                    column: column(line, start),
                    expected: "`---functions---` or `---types---`".to_owned(),
                    found: quote(content),
                });
            }
        }
        Ok(())
    }

    fn declaration(
        &mut self,
        number: usize,
        line: &'a str,
        start: usize,
    ) -> Result<(), ParseError> {
        let mut cursor = Cursor {
            line,
            pos: start,
            number,
        };
        let Some(decl) = parse_declaration(&mut cursor)? else {
            // A built-in: nothing to keep, not even a doc comment someone wrote for it.
            self.pending = None;
            return Ok(());
        };
        if let Some(&first) = self.names.get(decl.name) {
            return Err(cursor.error(
                decl.name_pos,
                format!(
                    "a declaration name not used before (`{}` is declared on line {first})",
                    decl.name
                ),
            ));
        }
        self.names.insert(decl.name, number);
        let field_names: Vec<&str> = decl.params.iter().map(|(name, _)| *name).collect();
        let docs = match self.pending.take() {
            Some(block) => DocContext {
                owner: decl.name,
                params: &field_names,
            }
            .resolve(&block.lines, None)?,
            None => Docs {
                description: String::new(),
                params: vec![String::new(); field_names.len()],
            },
        };
        let params = decl
            .params
            .into_iter()
            .zip(docs.params)
            .map(|((name, ty), description)| Param {
                name: name.to_owned(),
                ty,
                description,
            })
            .collect();
        let definition = Definition {
            name: decl.name.to_owned(),
            description: docs.description,
            params,
            result: decl.result.to_owned(),
            line: number,
        };
        if self.in_functions {
            self.schema.functions.push(definition);
        } else {
            self.schema.types.push(definition);
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Schema, ParseError> {
        self.finish_class()?;
        if let Some(first) = self.pending.as_ref().and_then(|block| block.lines.first()) {
            return Err(ParseError {
                line: first.number,
                column: column(first.line, first.at - 2),
                expected: "a declaration after this doc comment".to_owned(),
                found: "end of file".to_owned(),
            });
        }
        Ok(self.schema)
    }
}

/// The error for a doc comment that is followed by something other than a declaration.
fn orphan_doc(
    block: &Block<'_>,
    number: usize,
    line: &str,
    at: usize,
    found: String,
) -> ParseError {
    let start = block.lines.first().map_or(number, |first| first.number);
    ParseError {
        line: number,
        column: column(line, at),
        expected: format!("a declaration after the doc comment that starts on line {start}"),
        found,
    }
}

/// A declaration's parts, borrowed from the line.
#[derive(Debug)]
struct DeclSyntax<'a> {
    name: &'a str,
    name_pos: usize,
    params: Vec<(&'a str, Type)>,
    result: &'a str,
}

/// Parses one declaration line; `None` for a built-in declaration.
fn parse_declaration<'a>(cursor: &mut Cursor<'a>) -> Result<Option<DeclSyntax<'a>>, ParseError> {
    cursor.skip_space();
    let name_pos = cursor.pos;
    let name = cursor.ident();
    if name.is_empty() {
        return Err(cursor.error(name_pos, "a declaration name"));
    }
    if let Some((tokens, text)) = BUILTINS
        .iter()
        .find(|(tokens, _)| tokens.first() == Some(&name))
    {
        check_builtin(cursor, name_pos, tokens, text)?;
        return Ok(None);
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(cursor.error(
            name_pos,
            "a declaration name that starts with a lower-case letter",
        ));
    }
    let mut params: Vec<(&str, Type)> = Vec::new();
    loop {
        cursor.skip_space();
        match cursor.peek() {
            Some(b'=') => {
                cursor.pos += 1;
                break;
            }
            Some(byte) if byte.is_ascii_lowercase() || byte == b'_' => {
                let field_pos = cursor.pos;
                let field = cursor.ident();
                if cursor.peek() != Some(b':') {
                    let after_name = cursor.pos;
                    cursor.skip_space();
                    // `a : int32`: point at the space, since "expected `:`, found `:`" would
                    // be confusing.
                    let at = if cursor.peek() == Some(b':') {
                        after_name
                    } else {
                        cursor.pos
                    };
                    return Err(cursor.error(at, "`:` after a field name"));
                }
                cursor.pos += 1;
                let ty = parse_type(cursor, 0, "a field type after `:`")?;
                // `=` may follow directly (`a:int32= Foo;` is valid TL); anything else would
                // glue the next token to this field.
                if cursor
                    .peek()
                    .is_some_and(|byte| !byte.is_ascii_whitespace() && byte != b'=')
                {
                    return Err(cursor.error(
                        cursor.pos,
                        format!("whitespace or `=` after the type of field `{field}`"),
                    ));
                }
                if params.iter().any(|(other, _)| *other == field) {
                    return Err(cursor.error(
                        field_pos,
                        format!("a field name not used before in `{name}`"),
                    ));
                }
                params.push((field, ty));
            }
            _ => return Err(cursor.error(cursor.pos, "a field (`name:type`) or `=`")),
        }
    }
    cursor.skip_space();
    let result_pos = cursor.pos;
    let result = cursor.ident();
    if result.is_empty() {
        return Err(cursor.error(result_pos, "a result type after `=`"));
    }
    if !starts_with_upper(result) {
        return Err(cursor.error(
            result_pos,
            "a result type that starts with a capital letter",
        ));
    }
    cursor.skip_space();
    if cursor.peek() != Some(b';') {
        return Err(cursor.error(cursor.pos, "`;` after the result type"));
    }
    cursor.pos += 1;
    cursor.skip_space();
    if cursor.peek().is_some() {
        return Err(cursor.error(cursor.pos, "end of line after `;`"));
    }
    Ok(Some(DeclSyntax {
        name,
        name_pos,
        params,
        result,
    }))
}

/// Checks that the line from `start` has exactly the tokens of a built-in declaration.
fn check_builtin(
    cursor: &Cursor<'_>,
    start: usize,
    expected: &[&str],
    text: &str,
) -> Result<(), ParseError> {
    let mut tokens = Tokens {
        line: cursor.line,
        pos: start,
    };
    for want in expected {
        match tokens.next() {
            Some((_, token)) if token == *want => {}
            Some((pos, _)) => {
                return Err(cursor.error(
                    pos,
                    format!("`{want}` (the built-in declaration is `{text}`)"),
                ));
            }
            None => {
                return Err(cursor.error(
                    cursor.line.len(),
                    format!("`{want}` (the built-in declaration is `{text}`)"),
                ));
            }
        }
    }
    match tokens.next() {
        Some((pos, _)) => Err(cursor.error(
            pos,
            format!("end of line (the built-in declaration is `{text}`)"),
        )),
        None => Ok(()),
    }
}

/// Parses a field type at the cursor.
fn parse_type(cursor: &mut Cursor<'_>, depth: usize, what: &str) -> Result<Type, ParseError> {
    let pos = cursor.pos;
    let word = cursor.ident();
    Ok(match word {
        "" => return Err(cursor.error(pos, what)),
        "int32" => Type::Int32,
        "int53" => Type::Int53,
        "int64" => Type::Int64,
        "double" => Type::Double,
        "string" => Type::String,
        "bytes" => Type::Bytes,
        "Bool" => Type::Bool,
        "vector" => {
            if cursor.peek() != Some(b'<') {
                return Err(cursor.error(cursor.pos, "`<` after `vector`"));
            }
            if depth >= MAX_VECTOR_DEPTH {
                return Err(cursor.error(
                    pos,
                    format!("at most {MAX_VECTOR_DEPTH} nested `vector<...>` types"),
                ));
            }
            let open = cursor.pos;
            cursor.pos += 1;
            let inner = parse_type(cursor, depth + 1, "a type after `vector<`")?;
            if cursor.peek() != Some(b'>') {
                return Err(cursor.error(
                    cursor.pos,
                    format!(
                        "`>` to close the `vector<` at column {}",
                        column(cursor.line, open)
                    ),
                ));
            }
            cursor.pos += 1;
            Type::Vector(Box::new(inner))
        }
        // Names of built-ins that are not field types: the boxed forms of the scalars, and
        // spellings a typo could produce. Taken as type names they would only fail later, in
        // `validate`, with a less helpful message.
        "Int32" | "Int53" | "Int64" | "Double" | "String" | "Bytes" | "Vector" | "bool"
        | "boolFalse" | "boolTrue" => {
            return Err(cursor.error(
                pos,
                "a field type (`int32`, `int53`, `int64`, `double`, `string`, `bytes`, `Bool`, \
                 `vector<T>` or a type name)",
            ));
        }
        name => Type::Named(name.to_owned()),
    })
}

/// A position in one line. Positions only move over ASCII bytes, so they are always on
/// character boundaries.
#[derive(Debug)]
struct Cursor<'a> {
    line: &'a str,
    pos: usize,
    number: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.line.as_bytes().get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(|byte| byte.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    /// Takes an identifier (`[A-Za-z_][A-Za-z0-9_]*`), or `""` if there is none here.
    fn ident(&mut self) -> &'a str {
        let rest = self.line.get(self.pos..).unwrap_or("");
        let len = ident_len(rest);
        self.pos += len;
        &rest[..len]
    }

    fn error(&self, at: usize, expected: impl Into<String>) -> ParseError {
        error_at(self.number, self.line, at, expected)
    }
}

/// Splits a line into identifiers and single other characters, skipping whitespace; each token
/// comes with its byte offset.
#[derive(Debug)]
struct Tokens<'a> {
    line: &'a str,
    pos: usize,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.line.get(self.pos..)?;
        let skipped = rest.len() - rest.trim_start_matches(is_space).len();
        self.pos += skipped;
        let rest = &rest[skipped..];
        let first = rest.chars().next()?;
        let len = match ident_len(rest) {
            0 => first.len_utf8(),
            len => len,
        };
        let start = self.pos;
        self.pos += len;
        Some((start, &rest[..len]))
    }
}

fn ident_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    match bytes.first() {
        Some(byte) if byte.is_ascii_alphabetic() || *byte == b'_' => bytes
            .iter()
            .position(|byte| !(byte.is_ascii_alphanumeric() || *byte == b'_'))
            .unwrap_or(bytes.len()),
        _ => 0,
    }
}

/// Length of a tag name (`[a-z_][a-z0-9_]*`) at the start of `text`, or 0.
fn tag_name_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    match bytes.first() {
        Some(byte) if byte.is_ascii_lowercase() || *byte == b'_' => bytes
            .iter()
            .position(|byte| !(byte.is_ascii_lowercase() || byte.is_ascii_digit() || *byte == b'_'))
            .unwrap_or(bytes.len()),
        _ => 0,
    }
}

fn starts_with_upper(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
}

/// 1-based column, in characters, of byte offset `at` in `line`.
fn column(line: &str, at: usize) -> usize {
    line.char_indices().take_while(|&(i, _)| i < at).count() + 1
}

/// Describes what is at byte offset `at` of `line`, for [`ParseError::found`].
fn found_at(line: &str, at: usize) -> String {
    let rest = line.get(at..).unwrap_or("");
    match rest.chars().next() {
        None => "end of line".to_owned(),
        Some(c) if c.is_whitespace() => "whitespace".to_owned(),
        Some(c) if c.is_ascii_alphanumeric() || c == '_' => {
            let len = rest
                .bytes()
                .position(|byte| !(byte.is_ascii_alphanumeric() || byte == b'_'))
                .unwrap_or(rest.len());
            quote(&rest[..len])
        }
        Some(c) => quote(c.encode_utf8(&mut [0; 4])),
    }
}

fn error_at(number: usize, line: &str, at: usize, expected: impl Into<String>) -> ParseError {
    ParseError {
        line: number,
        column: column(line, at),
        expected: expected.into(),
        found: found_at(line, at),
    }
}

/// Puts `text` in backticks, shortened so that a garbage line does not flood the message.
fn quote(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    match text.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => format!("`{}...`", &text[..end]),
        None => format!("`{text}`"),
    }
}

/// What a tag documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Description,
    /// Index into the declaration's fields.
    Param(usize),
}

/// The texts of a doc comment, one per target.
#[derive(Debug)]
struct Docs {
    description: String,
    /// One per field, `""` if undocumented.
    params: Vec<String>,
}

/// What a doc comment documents: a declaration with its field names, or a class (no fields).
#[derive(Debug)]
struct DocContext<'s> {
    owner: &'s str,
    params: &'s [&'s str],
}

impl DocContext<'_> {
    fn target(&self, tag: &str) -> Option<Target> {
        if tag == "description" {
            return Some(Target::Description);
        }
        let position = |name: &str| self.params.iter().position(|param| *param == name);
        position(tag)
            .or_else(|| tag.strip_prefix("param_").and_then(position))
            .map(Target::Param)
    }

    fn describe(&self, target: Target) -> String {
        match target {
            Target::Description => "the description".to_owned(),
            Target::Param(index) => match self.params.get(index) {
                Some(name) => format!("field `{name}`"),
                None => "a field".to_owned(),
            },
        }
    }

    /// Splits the comment lines into tags. For a class block, `class_text_start` is where the
    /// text after the class name begins on the first line (which is not a tag line then).
    fn resolve(
        &self,
        lines: &[CommentLine<'_>],
        class_text_start: Option<usize>,
    ) -> Result<Docs, ParseError> {
        let mut builder = DocBuilder {
            context: self,
            texts: Vec::new(),
            current: None,
        };
        for (index, comment) in lines.iter().enumerate() {
            let body = &comment.line[comment.at..];
            match class_text_start {
                Some(start) if index == 0 => builder.scan(comment, start, false)?,
                _ if body.starts_with('@') => {
                    let name = &body[1..1 + tag_name_len(&body[1..])];
                    let Some(target) = self.target(name) else {
                        let expected = if self.params.is_empty() {
                            format!("`@description` (`{}` has no fields)", self.owner)
                        } else {
                            format!("`@description` or a tag naming a field of `{}`", self.owner)
                        };
                        return Err(ParseError {
                            line: comment.number,
                            column: column(comment.line, comment.at),
                            expected,
                            found: format!("`@{name}`"),
                        });
                    };
                    builder.start(target, comment, comment.at, name)?;
                    builder.scan(comment, comment.at + 1 + name.len(), false)?;
                }
                // A continuation line: its text goes on as if after a space.
                _ => builder.scan(comment, comment.at + 1, true)?,
            }
        }
        let mut docs = Docs {
            description: String::new(),
            params: vec![String::new(); self.params.len()],
        };
        for (target, text, _) in builder.texts {
            match target {
                Target::Description => docs.description = text,
                Target::Param(index) => {
                    if let Some(slot) = docs.params.get_mut(index) {
                        *slot = text;
                    }
                }
            }
        }
        Ok(docs)
    }
}

#[derive(Debug)]
struct DocBuilder<'c> {
    context: &'c DocContext<'c>,
    /// Each tag's target, text so far, and line (for duplicate reports).
    texts: Vec<(Target, String, usize)>,
    /// Index into `texts` of the tag that text is appended to.
    current: Option<usize>,
}

impl DocBuilder<'_> {
    fn start(
        &mut self,
        target: Target,
        comment: &CommentLine<'_>,
        at: usize,
        name: &str,
    ) -> Result<(), ParseError> {
        if let Some((_, _, first)) = self.texts.iter().find(|(other, _, _)| *other == target) {
            return Err(ParseError {
                line: comment.number,
                column: column(comment.line, at),
                expected: format!(
                    "one tag for {} (the first is on line {first})",
                    self.context.describe(target)
                ),
                found: format!("`@{name}`"),
            });
        }
        self.texts.push((target, String::new(), comment.number));
        self.current = Some(self.texts.len() - 1);
        Ok(())
    }

    /// Appends the text of `comment` from byte `from` to the current tag, starting new tags
    /// where `@name` names one. `after_space` says whether the text starts as if after
    /// whitespace (a continuation line is joined to the previous text with a space).
    fn scan(
        &mut self,
        comment: &CommentLine<'_>,
        from: usize,
        after_space: bool,
    ) -> Result<(), ParseError> {
        let text = comment.line.get(from..).unwrap_or("");
        let mut segment = 0;
        let mut after_whitespace = after_space;
        for (i, c) in text.char_indices() {
            if c == '@' && after_whitespace {
                let rest = &text[i + 1..];
                let len = tag_name_len(rest);
                let ends = rest[len..].chars().next().is_none_or(char::is_whitespace);
                if len > 0 && ends {
                    if let Some(target) = self.context.target(&rest[..len]) {
                        self.append(&text[segment..i], comment, from + segment)?;
                        self.start(target, comment, from + i, &rest[..len])?;
                        segment = i + 1 + len;
                    }
                }
            }
            after_whitespace = c.is_whitespace();
        }
        self.append(&text[segment..], comment, from + segment)
    }

    fn append(
        &mut self,
        piece: &str,
        comment: &CommentLine<'_>,
        at: usize,
    ) -> Result<(), ParseError> {
        let trimmed = piece.trim();
        if trimmed.is_empty() {
            return Ok(());
        }
        match self.current.and_then(|index| self.texts.get_mut(index)) {
            Some((_, text, _)) => {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(trimmed);
                Ok(())
            }
            // Only possible on a class line: text right after the class name.
            None => Err(error_at(
                comment.number,
                comment.line,
                at + (piece.len() - piece.trim_start().len()),
                "`@description` after the class name",
            )),
        }
    }
}

/// A schema whose names do not fit together; see [`validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// The class, constructor or function where the problem is.
    pub name: String,
    /// The 1-based line of its declaration.
    pub line: usize,
    /// What is wrong.
    pub kind: ValidationErrorKind,
}

/// What [`validate`] found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidationErrorKind {
    /// A field type names something that is not declared: a lower-case name that is not a
    /// constructor, or a capitalized name that is neither a class nor a constructor's result.
    UnknownType {
        /// The field.
        param: String,
        /// The field's whole type, e.g. `vector<messag>`.
        ty: Type,
        /// The name that is not declared, e.g. `messag`.
        missing: String,
    },
    /// A constructor's result is neither its own name capitalized (a type with one
    /// constructor) nor a declared `@class`.
    ConstructorResult {
        /// The result type.
        result: String,
    },
    /// A function's result is neither a declared `@class` nor a constructor's result.
    UnknownFunctionResult {
        /// The result type.
        result: String,
    },
    /// A declared `@class` is the result of no constructor.
    EmptyClass,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: `{}`: ", self.line, self.name)?;
        match &self.kind {
            ValidationErrorKind::UnknownType { param, ty, missing } => {
                if starts_with_upper(missing) {
                    write!(
                        f,
                        "field `{param}` has type `{ty}`, but `{missing}` is neither a class nor \
                         the result of a constructor"
                    )
                } else {
                    write!(
                        f,
                        "field `{param}` has type `{ty}`, but there is no constructor `{missing}`"
                    )
                }
            }
            ValidationErrorKind::ConstructorResult { result } => write!(
                f,
                "the result `{result}` is neither the constructor's own name capitalized nor a \
                 declared `@class`"
            ),
            ValidationErrorKind::UnknownFunctionResult { result } => write!(
                f,
                "the result `{result}` is neither a declared `@class` nor the result of a \
                 constructor"
            ),
            ValidationErrorKind::EmptyClass => {
                write!(f, "the class is the result of no constructor")
            }
        }
    }
}

impl Error for ValidationError {}

/// Checks that the names in `schema` refer to each other, so that code can be generated:
///
/// * every [`Type::Named`] in a field is a constructor (lower-case) or a class or constructor
///   result (capitalized);
/// * every constructor's result is its own name capitalized (`chat ... = Chat;`) or a declared
///   `@class`;
/// * every function's result is a declared `@class` or a constructor's result;
/// * every `@class` is the result of at least one constructor.
///
/// Returns the first problem: constructors in file order, then functions, then classes.
pub fn validate(schema: &Schema) -> Result<(), ValidationError> {
    let constructors: HashSet<&str> = schema.types.iter().map(|def| def.name.as_str()).collect();
    let classes: HashSet<&str> = schema
        .classes
        .iter()
        .map(|class| class.name.as_str())
        .collect();
    let results: HashSet<&str> = schema.types.iter().map(|def| def.result.as_str()).collect();
    let is_declared = |name: &str| {
        if starts_with_upper(name) {
            classes.contains(name) || results.contains(name)
        } else {
            constructors.contains(name)
        }
    };
    let check_params = |def: &Definition| -> Result<(), ValidationError> {
        for param in &def.params {
            if let Some(missing) = named_in(&param.ty).filter(|name| !is_declared(name)) {
                return Err(ValidationError {
                    name: def.name.clone(),
                    line: def.line,
                    kind: ValidationErrorKind::UnknownType {
                        param: param.name.clone(),
                        ty: param.ty.clone(),
                        missing: missing.to_owned(),
                    },
                });
            }
        }
        Ok(())
    };
    for def in &schema.types {
        check_params(def)?;
        if def.result != capitalize(&def.name) && !classes.contains(def.result.as_str()) {
            return Err(ValidationError {
                name: def.name.clone(),
                line: def.line,
                kind: ValidationErrorKind::ConstructorResult {
                    result: def.result.clone(),
                },
            });
        }
    }
    for def in &schema.functions {
        check_params(def)?;
        let result = def.result.as_str();
        if !classes.contains(result) && !results.contains(result) {
            return Err(ValidationError {
                name: def.name.clone(),
                line: def.line,
                kind: ValidationErrorKind::UnknownFunctionResult {
                    result: def.result.clone(),
                },
            });
        }
    }
    if let Some(class) = schema
        .classes
        .iter()
        .find(|class| !results.contains(class.name.as_str()))
    {
        return Err(ValidationError {
            name: class.name.clone(),
            line: class.line,
            kind: ValidationErrorKind::EmptyClass,
        });
    }
    Ok(())
}

/// The name inside a (possibly nested) `vector<...>`, if it is not a built-in scalar.
fn named_in(ty: &Type) -> Option<&str> {
    match ty {
        Type::Vector(inner) => named_in(inner),
        Type::Named(name) => Some(name),
        _ => None,
    }
}

fn capitalize(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
