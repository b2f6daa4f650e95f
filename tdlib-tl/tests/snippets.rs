//! Small schemas, one construct each.

use tdlib_tl::{Class, Definition, Param, Schema, Type, parse};

fn ok(text: &str) -> Schema {
    parse(text).unwrap_or_else(|err| panic!("{err}\n--- in ---\n{text}"))
}

fn param(name: &str, ty: Type, description: &str) -> Param {
    Param {
        name: name.to_owned(),
        ty,
        description: description.to_owned(),
    }
}

fn named(name: &str) -> Type {
    Type::Named(name.to_owned())
}

fn vector(inner: Type) -> Type {
    Type::Vector(Box::new(inner))
}

const BUILTINS: &str = "\
double ? = Double;
string ? = String;

int32 = Int32;
int53 = Int53;
int64 = Int64;
bytes = Bytes;

boolFalse = Bool;
boolTrue = Bool;

vector {t:Type} # [ t ] = Vector t;
";

#[test]
fn builtins_are_skipped() {
    assert_eq!(ok(BUILTINS), Schema::default());
}

#[test]
fn builtins_are_recognised_anywhere_and_with_any_spacing() {
    let schema = ok("\
ok = Ok;
  int32=Int32 ;
vector{t:Type}#[t]=Vector t;
---functions---
double  ?  =  Double;
close = Ok;
");
    assert_eq!(schema.types.len(), 1);
    assert_eq!(schema.functions.len(), 1);
}

#[test]
fn a_doc_comment_on_a_builtin_is_dropped() {
    let schema = ok("//@description The 32-bit integer\nint32 = Int32;\nok = Ok;\n");
    assert_eq!(schema.types[0].description, "");
}

#[test]
fn empty_input() {
    assert_eq!(ok(""), Schema::default());
    assert_eq!(ok("\n\n  \n"), Schema::default());
}

#[test]
fn simple_constructor() {
    let schema = ok("\
//@description An object of this type can be returned on every function call, in case of an error
//@code Error code
//@message Error message
error code:int32 message:string = Error;
");
    assert_eq!(
        schema.types,
        [Definition {
            name: "error".to_owned(),
            description: "An object of this type can be returned on every function call, in \
                          case of an error"
                .to_owned(),
            params: vec![
                param("code", Type::Int32, "Error code"),
                param("message", Type::String, "Error message"),
            ],
            result: "Error".to_owned(),
            line: 4,
        }]
    );
    assert!(schema.classes.is_empty() && schema.functions.is_empty());
}

#[test]
fn every_scalar_type() {
    let schema = ok("all a:int32 b:int53 c:int64 d:double e:string f:bytes g:Bool = All;");
    let types: Vec<Type> = schema.types[0]
        .params
        .iter()
        .map(|p| p.ty.clone())
        .collect();
    assert_eq!(
        types,
        [
            Type::Int32,
            Type::Int53,
            Type::Int64,
            Type::Double,
            Type::String,
            Type::Bytes,
            Type::Bool,
        ]
    );
}

#[test]
fn named_types_are_kept_as_written() {
    let schema = ok("textEntity offset:int32 text:formattedText type:TextEntityType = TextEntity;");
    let params = &schema.types[0].params;
    assert_eq!(params[1].ty, named("formattedText"));
    assert_eq!(params[2].ty, named("TextEntityType"));
    // Undocumented fields have empty descriptions.
    assert!(params.iter().all(|p| p.description.is_empty()));
    assert_eq!(schema.types[0].description, "");
}

#[test]
fn vector_and_nested_vector_types() {
    let schema = ok("\
t a:vector<int32> b:vector<textEntity> c:vector<vector<InlineKeyboardButton>> d:vector<vector<bytes>> = T;
");
    let types: Vec<&Type> = schema.types[0].params.iter().map(|p| &p.ty).collect();
    assert_eq!(types[0], &vector(Type::Int32));
    assert_eq!(types[1], &vector(named("textEntity")));
    assert_eq!(types[2], &vector(vector(named("InlineKeyboardButton"))));
    assert_eq!(types[3], &vector(vector(Type::Bytes)));
    assert_eq!(types[2].to_string(), "vector<vector<InlineKeyboardButton>>");
}

#[test]
fn class_and_its_constructors() {
    let schema = ok("\
//@description A single one
single = Single;

//@class TextParseMode @description Describes the way the text needs to be parsed for text entities

//@description The text uses Markdown-style formatting
//@version Version of the parser
textParseModeMarkdown version:int32 = TextParseMode;

//@description The text uses HTML-style formatting, the same as in the Telegram Bot API
textParseModeHTML = TextParseMode;
");
    assert_eq!(
        schema.classes,
        [Class {
            name: "TextParseMode".to_owned(),
            description: "Describes the way the text needs to be parsed for text entities"
                .to_owned(),
            line: 4,
        }]
    );
    let names: Vec<&str> = schema
        .constructors_of("TextParseMode")
        .map(|def| def.name.as_str())
        .collect();
    assert_eq!(names, ["textParseModeMarkdown", "textParseModeHTML"]);
    assert_eq!(schema.class("TextParseMode").map(|c| c.line), Some(4));
    assert_eq!(schema.class("Single"), None);
    assert_eq!(schema.constructors_of("Single").count(), 1);
    let markdown = schema
        .constructor("textParseModeMarkdown")
        .expect("constructor");
    assert_eq!(
        markdown.description,
        "The text uses Markdown-style formatting"
    );
    assert_eq!(markdown.line, 8);
    assert_eq!(
        markdown.param("version").map(|p| p.description.as_str()),
        Some("Version of the parser")
    );
}

#[test]
fn class_block_ends_at_the_next_tag_line() {
    // No blank line between the class and the first constructor's doc comment, and a class
    // description with a continuation line.
    let schema = ok("\
//@class DeviceToken @description Represents a data needed to subscribe for push notifications.
//-To use specific push notification service, data must be uploaded
//@description A token for Firebase Cloud Messaging @token Device registration token
deviceTokenFirebaseCloudMessaging token:string = DeviceToken;
//@class Empty
other = Other;
");
    assert_eq!(
        schema.classes[0].description,
        "Represents a data needed to subscribe for push notifications. To use specific push \
         notification service, data must be uploaded"
    );
    let def = &schema.types[0];
    assert_eq!(def.description, "A token for Firebase Cloud Messaging");
    assert_eq!(def.params[0].description, "Device registration token");
    // A class without a description, directly followed by an undocumented declaration: the
    // class block does not document it.
    assert_eq!(schema.classes[1].name, "Empty");
    assert_eq!(schema.classes[1].description, "");
    assert_eq!(schema.types[1].description, "");
}

#[test]
fn a_class_at_the_end_of_the_file() {
    let schema = ok("//@class Last @description The end");
    assert_eq!(schema.classes[0].description, "The end");
}

#[test]
fn functions_section() {
    let schema = ok("\
//@description An object of this type is returned on a successful function call
ok = Ok;

---functions---

//@description Returns information about a chat @chat_id Chat identifier
getChat chat_id:int53 = Chat;

//@description Closes the TDLib instance
close = Ok;

---types---
chat id:int53 = Chat;
---functions---
getMe = User;
");
    let types: Vec<&str> = schema.types.iter().map(|d| d.name.as_str()).collect();
    let functions: Vec<&str> = schema.functions.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(types, ["ok", "chat"]);
    assert_eq!(functions, ["getChat", "close", "getMe"]);
    let get_chat = schema.function("getChat").expect("getChat");
    assert_eq!(get_chat.result, "Chat");
    assert_eq!(get_chat.line, 7);
    assert_eq!(
        get_chat.params,
        [param("chat_id", Type::Int53, "Chat identifier")]
    );
    assert_eq!(schema.function("ok"), None);
}

#[test]
fn several_tags_on_one_line() {
    let schema = ok("\
//@description A text with some entities @text The text @entities Entities contained in the text
formattedText text:string entities:vector<textEntity> = FormattedText;
");
    let def = &schema.types[0];
    assert_eq!(def.description, "A text with some entities");
    assert_eq!(def.params[0].description, "The text");
    assert_eq!(def.params[1].description, "Entities contained in the text");
}

#[test]
fn continuation_lines() {
    let schema = ok("\
//@description The user has been authorized, but needs to enter a password.
//-Call checkAuthenticationPassword to provide the password,
//-   or deleteAccount   
//-
//@password_hint Hint for the password; may be empty @has_recovery_email_address True, if set;
//-see @recovery_email_address_pattern  Pattern of the address
authorizationStateWaitPassword password_hint:string has_recovery_email_address:Bool recovery_email_address_pattern:string = AuthorizationState;
");
    let def = &schema.types[0];
    assert_eq!(
        def.description,
        "The user has been authorized, but needs to enter a password. Call \
         checkAuthenticationPassword to provide the password, or deleteAccount"
    );
    assert_eq!(
        def.params[0].description,
        "Hint for the password; may be empty"
    );
    // A tag inside a continuation line starts a new tag, as if the line were joined.
    assert_eq!(def.params[1].description, "True, if set; see");
    assert_eq!(def.params[2].description, "Pattern of the address");
}

#[test]
fn param_description_documents_the_field_named_description() {
    let schema = ok("\
//@description Describes a chat invite link @name Name of the link
//@param_description Description of the link @param_name_extra Renamed tag for another field
chatInviteLinkInfo name:string description:string name_extra:int32 = ChatInviteLinkInfo;
");
    let def = &schema.types[0];
    assert_eq!(def.description, "Describes a chat invite link");
    assert_eq!(def.params[0].description, "Name of the link");
    assert_eq!(def.params[1].description, "Description of the link");
    // `param_` works for any field, which keeps the rule simple; a field literally named
    // `param_name_extra` would win over it.
    assert_eq!(def.params[2].description, "Renamed tag for another field");
}

#[test]
fn at_signs_in_prose_are_not_tags() {
    let schema = ok("\
//@description Ask @BotFather, write to support@telegram.org or mention @username (@someone)
//@text Text like @text, @text's, a@text or @Text; `@description:` @
//-and user@example.com stays here
foo text:string = Foo;
");
    let def = &schema.types[0];
    assert_eq!(
        def.description,
        "Ask @BotFather, write to support@telegram.org or mention @username (@someone)"
    );
    assert_eq!(
        def.params[0].description,
        "Text like @text, @text's, a@text or @Text; `@description:` @ and user@example.com stays \
         here"
    );
}

#[test]
fn blank_lines_are_ignored() {
    let text = [
        "",
        "",
        "//@description A chat",
        "",
        "//@id Chat identifier",
        "",
        "",
        "chat id:int53 = Chat;",
        "",
        "",
    ]
    .join("\n");
    let schema = ok(&text);
    let def = &schema.types[0];
    assert_eq!(def.description, "A chat");
    assert_eq!(def.params[0].description, "Chat identifier");
    assert_eq!(def.line, 8);
}

#[test]
fn crlf_line_endings() {
    let lf = "\
//@class Parent @description The parent\r
\r
//@description First @value The value\r
//-continued\r
first value:int32 = Parent;\r
second = Parent;\r
---functions---\r
get = Parent;\r
";
    let schema = ok(lf);
    assert_eq!(schema, ok(&lf.replace("\r\n", "\n")));
    assert_eq!(schema.types[0].params[0].description, "The value continued");
    assert_eq!(schema.types[0].line, 5);
    assert_eq!(schema.functions[0].result, "Parent");
}

#[test]
fn indentation_trailing_whitespace_and_byte_order_mark() {
    let schema =
        ok("\u{feff}  //@description Indented   \t\n\tfoo  a:int32\tb:string   =   Foo ;  \n");
    let def = &schema.types[0];
    assert_eq!(def.description, "Indented");
    assert_eq!(def.params.len(), 2);
    assert_eq!(def.result, "Foo");
    // No space is needed around `=` and before `;`.
    let schema = ok("bar a:vector<int32>=Bar;");
    assert_eq!(schema.types[0].params.len(), 1);
    assert_eq!(schema.types[0].result, "Bar");
}

#[test]
fn empty_tag_texts() {
    let schema = ok("//@description\n//@a @b\nfoo a:int32 b:int32 = Foo;\n");
    let def = &schema.types[0];
    assert_eq!(def.description, "");
    assert!(def.params.iter().all(|p| p.description.is_empty()));
}

#[test]
fn type_display() {
    let types = [
        (Type::Int32, "int32"),
        (Type::Int53, "int53"),
        (Type::Int64, "int64"),
        (Type::Double, "double"),
        (Type::String, "string"),
        (Type::Bytes, "bytes"),
        (Type::Bool, "Bool"),
        (vector(named("user")), "vector<user>"),
    ];
    for (ty, text) in types {
        assert_eq!(ty.to_string(), text);
    }
}
