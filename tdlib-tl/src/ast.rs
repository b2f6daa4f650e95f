//! The syntax tree of a `td_api.tl` schema.
//!
//! The tree mirrors the file: items keep their order and their 1-based line numbers, and type
//! names are kept exactly as written. No name is resolved here; [`crate::parse::validate`]
//! checks that the references fit together.

use std::fmt;

/// A whole parsed schema, without the built-in declarations (`int32 = Int32;`, `vector ...`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schema {
    /// Abstract classes declared with `//@class Name @description ...`, in file order.
    pub classes: Vec<Class>,
    /// Constructors (declarations before `---functions---`), in file order.
    pub types: Vec<Definition>,
    /// Functions (declarations after `---functions---`), in file order.
    pub functions: Vec<Definition>,
}

/// An abstract class: a result type with several constructors, e.g. `TextEntityType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class {
    /// The capitalized class name, e.g. `TextEntityType`.
    pub name: String,
    /// The text of the `@description` tag, or `""` if there is none.
    pub description: String,
    /// The 1-based line of the `//@class` comment.
    pub line: usize,
}

/// A constructor or a function: `name field:type ... = Result;`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    /// The lower-case name, e.g. `formattedText` or `getChat`.
    pub name: String,
    /// The text of the `@description` tag, or `""` if there is none.
    pub description: String,
    /// The fields (for a constructor) or parameters (for a function), in declaration order.
    pub params: Vec<Param>,
    /// The right-hand side, e.g. `FormattedText`, `TextEntityType`, `Ok` or `Update`.
    pub result: String,
    /// The 1-based line of the declaration itself (not of its doc comment).
    pub line: usize,
}

/// One field of a constructor or parameter of a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The field name as written, e.g. `chat_id` or `type`.
    pub name: String,
    /// The field type.
    pub ty: Type,
    /// The text of the field's tag (`@chat_id`, or `@param_description` for a field named
    /// `description`), or `""` if the field is not documented.
    pub description: String,
}

/// The type of a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// `int32`.
    Int32,
    /// `int53`: a 64-bit integer that fits exactly in a JSON number (a double).
    Int53,
    /// `int64`: sent as a JSON string by TDLib, because it may not fit in a double.
    Int64,
    /// `double`.
    Double,
    /// `string`.
    String,
    /// `bytes`: base64 in JSON.
    Bytes,
    /// `Bool`.
    Bool,
    /// `vector<T>`.
    Vector(Box<Type>),
    /// Any other type, exactly as written: a lower-case constructor name (`formattedText`) for
    /// a type with one constructor, or a capitalized class name (`TextEntityType`).
    Named(String),
}

impl fmt::Display for Type {
    /// Writes the type the way the schema spells it, e.g. `vector<vector<textEntity>>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Int32 => f.write_str("int32"),
            Type::Int53 => f.write_str("int53"),
            Type::Int64 => f.write_str("int64"),
            Type::Double => f.write_str("double"),
            Type::String => f.write_str("string"),
            Type::Bytes => f.write_str("bytes"),
            Type::Bool => f.write_str("Bool"),
            Type::Vector(inner) => write!(f, "vector<{inner}>"),
            Type::Named(name) => f.write_str(name),
        }
    }
}

impl Schema {
    /// The abstract class called `name` (e.g. `"Update"`), if it is declared.
    pub fn class(&self, name: &str) -> Option<&Class> {
        self.classes.iter().find(|class| class.name == name)
    }

    /// The constructors whose result is `class_name`, in file order. For a single-constructor
    /// type this works too: `constructors_of("Chat")` yields `chat`.
    pub fn constructors_of<'a>(
        &'a self,
        class_name: &'a str,
    ) -> impl Iterator<Item = &'a Definition> + 'a {
        self.types
            .iter()
            .filter(move |def| def.result == class_name)
    }

    /// The constructor called `name` (e.g. `"formattedText"`), if it is declared.
    pub fn constructor(&self, name: &str) -> Option<&Definition> {
        self.types.iter().find(|def| def.name == name)
    }

    /// The function called `name` (e.g. `"getChat"`), if it is declared.
    pub fn function(&self, name: &str) -> Option<&Definition> {
        self.functions.iter().find(|def| def.name == name)
    }
}

impl Definition {
    /// The field or parameter called `name`, if there is one.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|param| param.name == name)
    }
}
