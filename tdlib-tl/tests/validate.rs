//! `validate`: references between names.

use tdlib_tl::{Type, ValidationError, ValidationErrorKind, parse, validate};

#[track_caller]
fn invalid(text: &str) -> ValidationError {
    let schema = parse(text).unwrap_or_else(|err| panic!("{err}"));
    match validate(&schema) {
        Ok(()) => panic!("validates, but should not:\n{text}"),
        Err(err) => err,
    }
}

const GOOD: &str = "\
//@class Entity @description Some entity
entityA = Entity;
entityB text:formattedText = Entity;
formattedText text:string entities:vector<textEntity> = FormattedText;
textEntity offset:int32 entity:Entity = TextEntity;
holder text:FormattedText rows:vector<vector<Entity>> = Holder;
ok = Ok;
---functions---
getEntity holder:holder = Entity;
getText = FormattedText;
close = Ok;
";

#[test]
fn a_consistent_schema_validates() {
    let schema = parse(GOOD).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(validate(&schema), Ok(()));
}

#[test]
fn unknown_constructor_in_a_field() {
    let err = invalid(&GOOD.replace("vector<textEntity>", "vector<textEntityy>"));
    assert_eq!(
        err,
        ValidationError {
            name: "formattedText".to_owned(),
            line: 4,
            kind: ValidationErrorKind::UnknownType {
                param: "entities".to_owned(),
                ty: Type::Vector(Box::new(Type::Named("textEntityy".to_owned()))),
                missing: "textEntityy".to_owned(),
            },
        }
    );
    assert_eq!(
        err.to_string(),
        "line 4: `formattedText`: field `entities` has type `vector<textEntityy>`, but there is \
         no constructor `textEntityy`"
    );
}

#[test]
fn unknown_class_in_a_field() {
    let err = invalid(&GOOD.replace(
        "rows:vector<vector<Entity>>",
        "rows:vector<vector<Entities>>",
    ));
    assert_eq!((err.name.as_str(), err.line), ("holder", 6));
    assert_eq!(
        err.to_string(),
        "line 6: `holder`: field `rows` has type `vector<vector<Entities>>`, but `Entities` is \
         neither a class nor the result of a constructor"
    );
    // A function parameter is checked too; a function name is not a type.
    let err = invalid(&GOOD.replace("holder:holder", "holder:getText"));
    assert_eq!((err.name.as_str(), err.line), ("getEntity", 9));
}

#[test]
fn constructor_result_must_be_its_own_name_or_a_class() {
    let err = invalid(&GOOD.replace("= TextEntity;", "= Text;"));
    assert_eq!(
        err,
        ValidationError {
            name: "textEntity".to_owned(),
            line: 5,
            kind: ValidationErrorKind::ConstructorResult {
                result: "Text".to_owned(),
            },
        }
    );
    assert_eq!(
        err.to_string(),
        "line 5: `textEntity`: the result `Text` is neither the constructor's own name \
         capitalized nor a declared `@class`"
    );
    // Two constructors of one result type need a `@class`.
    let err = invalid("ok = Ok;\nokToo = Ok;\n");
    assert_eq!((err.name.as_str(), err.line), ("okToo", 2));
}

#[test]
fn function_result_must_exist() {
    let err = invalid(&GOOD.replace("getText = FormattedText;", "getText = Text;"));
    assert_eq!(
        err,
        ValidationError {
            name: "getText".to_owned(),
            line: 10,
            kind: ValidationErrorKind::UnknownFunctionResult {
                result: "Text".to_owned(),
            },
        }
    );
    assert_eq!(
        err.to_string(),
        "line 10: `getText`: the result `Text` is neither a declared `@class` nor the result of \
         a constructor"
    );
    // Built-ins are not in the schema, so `Bool` is not a result type (TDLib returns `Ok`).
    let err = invalid("boolTrue = Bool;\n---functions---\ncheck = Bool;\n");
    assert_eq!(err.name, "check");
}

#[test]
fn a_class_needs_a_constructor() {
    let err = invalid(&format!("{GOOD}\n//@class Unused @description Nothing\n"));
    assert_eq!(
        err,
        ValidationError {
            name: "Unused".to_owned(),
            line: 13,
            kind: ValidationErrorKind::EmptyClass,
        }
    );
    assert_eq!(
        err.to_string(),
        "line 13: `Unused`: the class is the result of no constructor"
    );
}
