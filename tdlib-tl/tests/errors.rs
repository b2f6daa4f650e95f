//! Every kind of syntax error, with its position and message.

use tdlib_tl::{ParseError, parse};

#[track_caller]
fn check(text: &str, line: usize, column: usize, expected: &str, found: &str) {
    match parse(text) {
        Ok(schema) => panic!("parsed, but should not:\n{text}\n{schema:#?}"),
        Err(err) => assert_eq!(
            err,
            ParseError {
                line,
                column,
                expected: expected.to_owned(),
                found: found.to_owned(),
            },
            "{text}"
        ),
    }
}

#[test]
fn display() {
    let err = parse("ok = Ok;\nfoo bar = Foo;").expect_err("an error");
    assert_eq!(
        err.to_string(),
        "line 2, column 9: expected `:` after a field name, found `=`"
    );
    let _: &dyn std::error::Error = &err;
}

#[test]
fn missing_semicolon() {
    check(
        "foo = Foo",
        1,
        10,
        "`;` after the result type",
        "end of line",
    );
    check(
        "foo = Foo\nbar = Bar;",
        1,
        10,
        "`;` after the result type",
        "end of line",
    );
    check(
        "foo = Foo bar;",
        1,
        11,
        "`;` after the result type",
        "`bar`",
    );
}

#[test]
fn missing_equals() {
    check(
        "foo a:int32 Foo;",
        1,
        13,
        "a field (`name:type`) or `=`",
        "`Foo`",
    );
    check(
        "foo a:int32;",
        1,
        12,
        "whitespace or `=` after the type of field `a`",
        "`;`",
    );
    check(
        "foo a:int32 ;",
        1,
        13,
        "a field (`name:type`) or `=`",
        "`;`",
    );
    check("foo;", 1, 4, "a field (`name:type`) or `=`", "`;`");
    check(
        "foo a:int32",
        1,
        12,
        "a field (`name:type`) or `=`",
        "end of line",
    );
}

#[test]
fn field_without_colon() {
    check("foo bar = Foo;", 1, 9, "`:` after a field name", "`=`");
    check(
        "foo a int32 = Foo;",
        1,
        7,
        "`:` after a field name",
        "`int32`",
    );
    // Spaces around `:` are not allowed; the error points at the space, not at the `:`.
    check(
        "foo a : int32 = Foo;",
        1,
        6,
        "`:` after a field name",
        "whitespace",
    );
    check("foo a;int32 = Foo;", 1, 6, "`:` after a field name", "`;`");
}

#[test]
fn empty_field_name_or_type() {
    check(
        "foo :int32 = Foo;",
        1,
        5,
        "a field (`name:type`) or `=`",
        "`:`",
    );
    check(
        "foo a: = Foo;",
        1,
        7,
        "a field type after `:`",
        "whitespace",
    );
    check("foo a:= Foo;", 1, 7, "a field type after `:`", "`=`");
    check("foo a:", 1, 7, "a field type after `:`", "end of line");
    check(
        "foo a:int32:int32 = Foo;",
        1,
        12,
        "whitespace or `=` after the type of field `a`",
        "`:`",
    );
}

#[test]
fn bad_names() {
    check(
        "Foo = Foo;",
        1,
        1,
        "a declaration name that starts with a lower-case letter",
        "`Foo`",
    );
    check("= Foo;", 1, 1, "a declaration name", "`=`");
    check("1foo = Foo;", 1, 1, "a declaration name", "`1foo`");
    check(
        "foo = foo;",
        1,
        7,
        "a result type that starts with a capital letter",
        "`foo`",
    );
    check("foo = ;", 1, 7, "a result type after `=`", "`;`");
    check(
        "foo A:int32 = Foo;",
        1,
        5,
        "a field (`name:type`) or `=`",
        "`A`",
    );
    check("fooé = Foo;", 1, 4, "a field (`name:type`) or `=`", "`é`");
}

#[test]
fn builtin_looking_garbage() {
    check(
        "int32 = Int64;",
        1,
        9,
        "`Int32` (the built-in declaration is `int32 = Int32;`)",
        "`Int64`",
    );
    check(
        "double = Double;",
        1,
        8,
        "`?` (the built-in declaration is `double ? = Double;`)",
        "`=`",
    );
    check(
        "int32 value:int32 = Int32;",
        1,
        7,
        "`=` (the built-in declaration is `int32 = Int32;`)",
        "`value`",
    );
    check(
        "boolTrue = Bool",
        1,
        16,
        "`;` (the built-in declaration is `boolTrue = Bool;`)",
        "end of line",
    );
    check(
        "vector {t:Type} # [ t ] = Vector t; x",
        1,
        37,
        "end of line (the built-in declaration is `vector {t:Type} # [ t ] = Vector t;`)",
        "`x`",
    );
    check(
        "vector<int32> = Foo;",
        1,
        7,
        "`{` (the built-in declaration is `vector {t:Type} # [ t ] = Vector t;`)",
        "`<`",
    );
    check("foo ? = Foo;", 1, 5, "a field (`name:type`) or `=`", "`?`");
    let not_a_field_type = "a field type (`int32`, `int53`, `int64`, `double`, `string`, `bytes`, \
                            `Bool`, `vector<T>` or a type name)";
    check("foo a:Int32 = Foo;", 1, 7, not_a_field_type, "`Int32`");
    check(
        "foo a:vector<String> = Foo;",
        1,
        14,
        not_a_field_type,
        "`String`",
    );
    check("foo a:bool = Foo;", 1, 7, not_a_field_type, "`bool`");
}

#[test]
fn unbalanced_vector() {
    check(
        "foo a:vector<int32 = Foo;",
        1,
        19,
        "`>` to close the `vector<` at column 13",
        "whitespace",
    );
    check(
        "foo a:vector<vector<int32> = Foo;",
        1,
        27,
        "`>` to close the `vector<` at column 13",
        "whitespace",
    );
    check(
        "foo a:vector<int32>> = Foo;",
        1,
        20,
        "whitespace or `=` after the type of field `a`",
        "`>`",
    );
    check(
        "foo a:vector int32 = Foo;",
        1,
        13,
        "`<` after `vector`",
        "whitespace",
    );
    check(
        "foo a:vector<> = Foo;",
        1,
        14,
        "a type after `vector<`",
        "`>`",
    );
    check(
        "foo a:vector<",
        1,
        14,
        "a type after `vector<`",
        "end of line",
    );
    let deep = format!(
        "foo a:{}int32{} = Foo;",
        "vector<".repeat(1000),
        ">".repeat(1000)
    );
    check(
        &deep,
        1,
        7 + 32 * 7,
        "at most 32 nested `vector<...>` types",
        "`vector`",
    );
}

#[test]
fn duplicate_field() {
    check(
        "foo a:int32 a:string = Foo;",
        1,
        13,
        "a field name not used before in `foo`",
        "`a`",
    );
}

#[test]
fn unknown_tag() {
    check(
        "//@description A bar\n//@foo Something\nbar a:int32 = Bar;",
        2,
        3,
        "`@description` or a tag naming a field of `bar`",
        "`@foo`",
    );
    check(
        "//@description A bar @a The a\n  //@b The b\nbar a:int32 = Bar;",
        2,
        5,
        "`@description` or a tag naming a field of `bar`",
        "`@b`",
    );
    check(
        "//@type The type\nbar = Bar;",
        1,
        3,
        "`@description` (`bar` has no fields)",
        "`@type`",
    );
    // `@param_` followed by a name that is not a field.
    check(
        "//@param_other x\nbar description:string = Bar;",
        1,
        3,
        "`@description` or a tag naming a field of `bar`",
        "`@param_other`",
    );
}

#[test]
fn malformed_tags() {
    check(
        "//@ x\nfoo = Foo;",
        1,
        4,
        "a tag name (`[a-z_][a-z0-9_]*`) after `//@`",
        "whitespace",
    );
    check(
        "//@Description x\nfoo = Foo;",
        1,
        4,
        "a tag name (`[a-z_][a-z0-9_]*`) after `//@`",
        "`Description`",
    );
    check(
        "//@description: x\nfoo = Foo;",
        1,
        15,
        "whitespace after the tag `@description`",
        "`:`",
    );
    check(
        "// x\nfoo = Foo;",
        1,
        3,
        "`@` (a tag) or `-` (a continuation line) after `//`",
        "whitespace",
    );
    check(
        "//\nfoo = Foo;",
        1,
        3,
        "`@` (a tag) or `-` (a continuation line) after `//`",
        "end of line",
    );
    check(
        "ok = Ok;\n  //-continued\nfoo = Foo;",
        2,
        3,
        "a `//@` tag line before a `//-` continuation line",
        "`//-`",
    );
}

#[test]
fn duplicate_tag() {
    check(
        "//@description A\n//@description B\nfoo = Foo;",
        2,
        3,
        "one tag for the description (the first is on line 1)",
        "`@description`",
    );
    check(
        "//@description A @a x\n//-more @a y\nfoo a:int32 = Foo;",
        2,
        9,
        "one tag for field `a` (the first is on line 1)",
        "`@a`",
    );
    // `@param_description` and `@description` are different targets, but `@a` and
    // `@param_a` are the same.
    check(
        "//@a x @param_a y\nfoo a:int32 = Foo;",
        1,
        8,
        "one tag for field `a` (the first is on line 1)",
        "`@param_a`",
    );
    // Columns count characters, not bytes.
    check(
        "//@description é @description x\nfoo = Foo;",
        1,
        18,
        "one tag for the description (the first is on line 1)",
        "`@description`",
    );
}

#[test]
fn duplicate_names() {
    check(
        "foo = Foo;\n\nfoo a:int32 = Foo;",
        3,
        1,
        "a declaration name not used before (`foo` is declared on line 1)",
        "`foo`",
    );
    // Constructors and functions share one namespace (JSON `@type`).
    check(
        "getFoo = Foo;\n---functions---\n  getFoo = Foo;",
        3,
        3,
        "a declaration name not used before (`getFoo` is declared on line 1)",
        "`getFoo`",
    );
    check(
        "//@class Foo @description A\n\n//@class Foo @description B\n",
        3,
        10,
        "a class name not declared before (`Foo` is declared on line 1)",
        "`Foo`",
    );
}

#[test]
fn doc_comment_without_declaration() {
    check(
        "foo = Foo;\n//@description Dangling\n//-more\n\n",
        2,
        1,
        "a declaration after this doc comment",
        "end of file",
    );
    check(
        "//@description Dangling\n---functions---\nfoo = Foo;",
        2,
        1,
        "a declaration after the doc comment that starts on line 1",
        "`---functions---`",
    );
    check(
        "//@description Dangling\n\n//@class Foo @description A class",
        3,
        1,
        "a declaration after the doc comment that starts on line 1",
        "`//@class`",
    );
}

#[test]
fn bad_class_lines() {
    check(
        "//@class\n",
        1,
        9,
        "a class name after `@class`",
        "end of line",
    );
    check(
        "//@class foo @description x\n",
        1,
        10,
        "a class name that starts with a capital letter after `@class`",
        "`foo`",
    );
    check(
        "//@class Foo junk @description x\n",
        1,
        14,
        "`@description` after the class name",
        "`junk`",
    );
    check(
        "//@class Foo\n//-junk\n",
        2,
        4,
        "`@description` after the class name",
        "`junk`",
    );
    check(
        "//@class Foo @description A @description B\n",
        1,
        29,
        "one tag for the description (the first is on line 1)",
        "`@description`",
    );
}

#[test]
fn text_after_semicolon() {
    check("foo = Foo; bar", 1, 12, "end of line after `;`", "`bar`");
    check("foo = Foo;;", 1, 11, "end of line after `;`", "`;`");
    check(
        "foo = Foo; // comment",
        1,
        12,
        "end of line after `;`",
        "`/`",
    );
}

#[test]
fn bad_separator() {
    check(
        "---function---",
        1,
        1,
        "`---functions---` or `---types---`",
        "`---function---`",
    );
    check(
        " --- functions ---",
        1,
        2,
        "`---functions---` or `---types---`",
        "`--- functions ---`",
    );
}

#[test]
fn crlf_does_not_shift_positions() {
    check(
        "ok = Ok;\r\nfoo = Foo\r\n",
        2,
        10,
        "`;` after the result type",
        "end of line",
    );
}

#[test]
fn long_garbage_is_shortened_in_messages() {
    let line = format!("---{}", "x".repeat(100));
    let err = parse(&line).expect_err("an error");
    assert_eq!(err.found, format!("`---{}...`", "x".repeat(37)));
}
