//! Writes the Rust source of the typed API from a parsed schema.
//!
//! Plain text generation, deterministic (items sorted by name), no proc macros. The output
//! expects to be `include!`d into a crate that provides the runtime in `crate::codec`
//! (`Reader`, `Writer`, `Seq`, `DecodeError`, the traits `TlObject`, `Decode`, `Encode`,
//! `Function`, `Synchronous` and `UnknownObject`), which is what `tdlib-types` does.
//!
//! Decisions, each for a measured or stated reason:
//! - one struct per constructor (module `types`), one enum per abstract class (module `enums`),
//!   one struct per function (module `functions`), and `Object` over every constructor;
//! - every enum has an `Unknown` variant holding the raw JSON, so an object of a newer TDLib
//!   never fails the message it is in;
//! - a field is `Option` when it holds an object and its documentation says it may be null
//!   ("may be null", "pass null", "If null"), plus [`NULLABLE_OVERRIDES`];
//! - a field is boxed when its type contains the field's own type (recursive types), and a field
//!   or an enum payload is boxed when it is large ([`INLINE_LIMIT`]), which keeps `Update` at
//!   a few dozen bytes instead of 26 KB;
//! - codecs are generated as plain functions over the reader and writer, not serde derives:
//!   no monomorphization in dependent crates, and TDLib's `@type`-first objects decode in one pass.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::ast::{Definition, Param, Schema, Type};

/// Object fields that are `Option` although their documentation does not say they may be null.
/// `(constructor or function, field)`. Empty for TDLib 1.8.65: a test reads every field whose
/// documentation mentions null and checks how each is classified, so a schema whose prose
/// becomes ambiguous fails that test instead of silently changing a type.
pub const NULLABLE_OVERRIDES: &[(&str, &str)] = &[];

/// Values estimated larger than this many bytes are boxed where another type holds them inline
/// (a struct's field, an enum's payload), so that no type is kilobytes large.
pub const INLINE_LIMIT: usize = 96;

/// Fields that hold secrets: their values never appear in `Debug` output.
pub const SECRET_FIELDS: &[&str] = &[
    "api_hash",
    "database_encryption_key",
    "new_encryption_key",
    "token",
    "password",
    "old_password",
    "new_password",
    "recovery_code",
    "phone_number",
    "email_address",
    "secret",
    "stream_key",
    "device_token",
];

/// Fields that hold secrets in requests only (`checkAuthenticationCode.code`); elsewhere the
/// same names are harmless (`error.code`).
pub const SECRET_REQUEST_FIELDS: &[&str] = &["code"];

/// Fields of particular constructors that hold secrets under a harmless name:
/// `(constructor, field)`.
pub const SECRET_FIELDS_OF: &[(&str, &str)] = &[
    // An e-mail login code, inside checkAuthenticationEmailCode.
    ("emailAddressAuthenticationCode", "code"),
    // The QR login link carries the login token.
    ("authorizationStateWaitOtherDeviceConfirmation", "link"),
    // Payment credentials.
    ("inputCredentialsNew", "data"),
    ("inputCredentialsApplePay", "data"),
    ("inputCredentialsGooglePay", "data"),
];

/// Whether a field's value must stay out of `Debug` output.
pub fn is_secret(def: &Definition, param: &Param, is_function: bool) -> bool {
    let name = param.name.as_str();
    SECRET_FIELDS.contains(&name)
        || (is_function && SECRET_REQUEST_FIELDS.contains(&name))
        || SECRET_FIELDS_OF.contains(&(def.name.as_str(), name))
}

/// The class whose constructors get `codec::Variant` impls (typed views into its enum).
pub const VIEWED_CLASS: &str = "Update";

/// The generated source, one string per module file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// `pub mod types { ... }`, `pub mod enums { ... }`, `pub mod functions { ... }` and the
    /// `Object` enum, as one file.
    pub source: String,
}

/// How the generator sees the schema: names resolved, recursion and nullability decided.
struct Model<'a> {
    schema: &'a Schema,
    /// Capitalized result name → constructors, for abstract classes.
    classes: BTreeMap<&'a str, Vec<&'a Definition>>,
    /// Lower-case constructor name → definition.
    constructors: BTreeMap<&'a str, &'a Definition>,
    /// `(struct name, field name)` pairs that must be boxed.
    boxed: BTreeSet<(String, String)>,
    /// Estimated size of every struct and enum, by node name (`types::Chat`).
    sizes: BTreeMap<String, usize>,
}

/// Generates the typed API for `schema`. The schema must have passed `validate`.
pub fn generate(schema: &Schema) -> Generated {
    let model = Model::new(schema);
    let mut out = String::new();
    out.push_str("// Generated from td_api.tl by tdlib-tl; do not edit.\n\n");

    out.push_str("/// One struct per TDLib constructor (object type).\npub mod types {\n");
    out.push_str("    #![allow(clippy::large_enum_variant, clippy::too_many_arguments)]\n");
    out.push_str("    #[allow(unused_imports)] // which are used depends on the schema\n");
    out.push_str(
        "    use crate::codec::{Decode, DecodeError, Encode, Reader, Seq, TlObject, Writer};\n\n",
    );
    let mut types: Vec<&Definition> = schema.types.iter().collect();
    types.sort_by(|a, b| a.name.cmp(&b.name));
    for def in types {
        model.write_struct(&mut out, def, false);
    }
    out.push_str("}\n\n");

    out.push_str("/// One enum per TDLib abstract class.\npub mod enums {\n");
    out.push_str("    #![allow(clippy::large_enum_variant)]\n");
    out.push_str("    use crate::codec::{Encode, UnknownObject, Writer};\n\n");
    for (class, constructors) in &model.classes {
        let description = schema
            .classes
            .iter()
            .find(|c| c.name == *class)
            .map(|c| c.description.as_str())
            .unwrap_or("");
        model.write_enum(&mut out, class, description, constructors);
    }
    out.push_str("}\n\n");

    out.push_str("/// One struct per TDLib function (request); `Function::Output` is its answer.\npub mod functions {\n");
    out.push_str("    #![allow(clippy::too_many_arguments)]\n");
    out.push_str("    #[allow(unused_imports)] // which are used depends on the schema\n");
    out.push_str("    use crate::codec::{Decode, DecodeError, Encode, Function, Reader, Seq, Synchronous, TlObject, Writer};\n\n");
    let mut functions: Vec<&Definition> = schema.functions.iter().collect();
    functions.sort_by(|a, b| a.name.cmp(&b.name));
    for def in &functions {
        model.write_struct(&mut out, def, true);
    }
    out.push_str(
        "    /// The `@type` names of the functions TDLib documents as callable synchronously.\n",
    );
    out.push_str("    pub const SYNCHRONOUS: &[&str] = &[\n");
    for def in functions.iter().filter(|def| is_synchronous(def)) {
        let _ = writeln!(out, "        {:?},", def.name);
    }
    out.push_str("    ];\n}\n\n");

    let mut all: Vec<&Definition> = schema.types.iter().collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    model.write_object_enum(&mut out, &all);
    Generated { source: out }
}

impl<'a> Model<'a> {
    fn new(schema: &'a Schema) -> Model<'a> {
        let declared: BTreeSet<&str> = schema.classes.iter().map(|c| c.name.as_str()).collect();
        let mut classes: BTreeMap<&str, Vec<&Definition>> = BTreeMap::new();
        let mut constructors = BTreeMap::new();
        for def in &schema.types {
            constructors.insert(def.name.as_str(), def);
            if declared.contains(def.result.as_str()) {
                classes.entry(def.result.as_str()).or_default().push(def);
            }
        }
        for list in classes.values_mut() {
            list.sort_by(|a, b| a.name.cmp(&b.name));
        }
        let mut model = Model {
            schema,
            classes,
            constructors,
            boxed: BTreeSet::new(),
            sizes: BTreeMap::new(),
        };
        model.boxed = model.recursive_fields();
        model.box_large_values();
        model
    }

    /// The struct/enum a named field type refers to: `("types", "FormattedText")` or
    /// `("enums", "TextEntityType")`.
    fn named(&self, name: &str) -> (&'static str, String) {
        if self.classes.contains_key(name) {
            ("enums", name.to_owned())
        } else if let Some(def) = self.constructors.get(name) {
            ("types", pascal(&def.name))
        } else {
            // A capitalized single-constructor result name (`Chat` for `chat`).
            ("types", name.to_owned())
        }
    }

    /// Node name of a named type in the containment graph.
    fn node(&self, name: &str) -> String {
        let (module, ty) = self.named(name);
        format!("{module}::{ty}")
    }

    /// Fields that close a cycle of by-value containment (vectors allocate, so they don't count).
    fn recursive_fields(&self) -> BTreeSet<(String, String)> {
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for def in self.schema.types.iter().chain(&self.schema.functions) {
            let from = self.node(&def.name);
            for param in &def.params {
                if let Type::Named(name) = &param.ty {
                    edges
                        .entry(from.clone())
                        .or_default()
                        .insert(self.node(name));
                }
            }
        }
        for (class, constructors) in &self.classes {
            let from = format!("enums::{class}");
            for def in constructors {
                edges
                    .entry(from.clone())
                    .or_default()
                    .insert(self.node(&def.name));
            }
        }
        let reaches = |start: &str, goal: &str| {
            let mut seen = BTreeSet::new();
            let mut stack = vec![start.to_owned()];
            while let Some(node) = stack.pop() {
                if node == goal {
                    return true;
                }
                if seen.insert(node.clone()) {
                    stack.extend(edges.get(&node).into_iter().flatten().cloned());
                }
            }
            false
        };
        let mut boxed = BTreeSet::new();
        for def in self.schema.types.iter().chain(&self.schema.functions) {
            let me = self.node(&def.name);
            for param in &def.params {
                if let Type::Named(name) = &param.ty {
                    if reaches(&self.node(name), &me) {
                        boxed.insert((def.name.clone(), param.name.clone()));
                    }
                }
            }
        }
        boxed
    }

    /// Boxes the fields and enum payloads whose estimated size exceeds [`INLINE_LIMIT`], so that
    /// every type stays small: held inline, `Update` would be 26 KB, copied on every move and
    /// allocated whole for every update.
    fn box_large_values(&mut self) {
        let mut sizes = BTreeMap::new();
        let defs: Vec<&Definition> = self
            .schema
            .types
            .iter()
            .chain(&self.schema.functions)
            .collect();
        for def in defs {
            self.struct_size(def, &mut sizes);
        }
        let classes: Vec<&str> = self.classes.keys().copied().collect();
        for class in classes {
            self.node_size(class, &mut sizes);
        }
        self.sizes = sizes;
    }

    /// Whether an enum holds this constructor's struct boxed.
    fn boxed_payload(&self, def: &Definition) -> bool {
        self.sizes
            .get(&self.node(&def.name))
            .is_some_and(|size| *size > INLINE_LIMIT)
    }

    /// The payload type of an enum variant for `def`.
    fn payload(&self, def: &Definition) -> String {
        let path = format!("crate::types::{}", pascal(&def.name));
        if self.boxed_payload(def) {
            format!("Box<{path}>")
        } else {
            path
        }
    }

    /// The function that turns a decoded `def` into the variant `variant` of `enum_name`.
    fn wrap(&self, def: &Definition, enum_name: &str, variant: &str) -> String {
        if self.boxed_payload(def) {
            format!("|value| {enum_name}::{variant}(Box::new(value))")
        } else {
            format!("{enum_name}::{variant}")
        }
    }

    /// Estimated size of a named type (struct or enum), deciding the boxing inside it.
    fn node_size(&mut self, name: &str, sizes: &mut BTreeMap<String, usize>) -> usize {
        let Some(constructors) = self.classes.get(name).cloned() else {
            return match self.constructors.get(name).copied() {
                Some(def) => self.struct_size(def, sizes),
                None => 8,
            };
        };
        let node = self.node(name);
        if let Some(size) = sizes.get(&node) {
            return *size;
        }
        // In progress: a cycle, which `recursive_fields` already broke with a box.
        sizes.insert(node.clone(), 8);
        let mut largest = 0;
        for def in constructors {
            let payload = self.struct_size(def, sizes);
            largest = largest.max(if payload > INLINE_LIMIT { 8 } else { payload });
        }
        let size = largest + 8;
        sizes.insert(node, size);
        size
    }

    fn struct_size(&mut self, def: &Definition, sizes: &mut BTreeMap<String, usize>) -> usize {
        let node = self.node(&def.name);
        if let Some(size) = sizes.get(&node) {
            return *size;
        }
        sizes.insert(node.clone(), 8);
        let mut total = 0;
        for param in &def.params {
            total += match &param.ty {
                Type::Int32 => 4,
                Type::Bool => 1,
                Type::Int53 | Type::Int64 | Type::Double => 8,
                Type::String | Type::Bytes | Type::Vector(_) => 24,
                Type::Named(name) => {
                    let key = (def.name.clone(), param.name.clone());
                    if self.boxed.contains(&key) {
                        8
                    } else {
                        let inline =
                            self.node_size(name, sizes) + if nullable(def, param) { 8 } else { 0 };
                        if inline > INLINE_LIMIT {
                            self.boxed.insert(key);
                            8
                        } else {
                            inline
                        }
                    }
                }
            };
        }
        let size = total.next_multiple_of(8);
        sizes.insert(node, size);
        size
    }

    fn rust_type(&self, ty: &Type, boxed: bool, null_elements: bool) -> String {
        match ty {
            Type::Int32 => "i32".into(),
            Type::Int53 | Type::Int64 => "i64".into(),
            Type::Double => "f64".into(),
            Type::String => "String".into(),
            Type::Bytes => "Vec<u8>".into(),
            Type::Bool => "bool".into(),
            Type::Vector(inner) => {
                let element = self.rust_type(inner, false, false);
                if null_elements {
                    format!("Vec<Option<{element}>>")
                } else {
                    format!("Vec<{element}>")
                }
            }
            Type::Named(name) => {
                let (module, ty) = self.named(name);
                let path = format!("crate::{module}::{ty}");
                if boxed { format!("Box<{path}>") } else { path }
            }
        }
    }

    fn field_type(&self, def: &Definition, param: &Param) -> String {
        let boxed = self.boxed.contains(&(def.name.clone(), param.name.clone()));
        let ty = self.rust_type(&param.ty, boxed, nullable_elements(param));
        if nullable(def, param) {
            format!("Option<{ty}>")
        } else {
            ty
        }
    }

    /// An expression of type `Result<T, DecodeError>` that reads one value of `ty` from `r`.
    fn decode_result(&self, ty: &Type, null_elements: bool) -> String {
        match ty {
            Type::Int32 => "r.i32()".into(),
            Type::Int53 | Type::Int64 => "r.i64()".into(),
            Type::Double => "r.f64()".into(),
            Type::String => "r.owned_string()".into(),
            Type::Bytes => "r.bytes_base64()".into(),
            Type::Bool => "r.bool()".into(),
            Type::Vector(inner) => {
                let element = closure(&self.decode_result(inner, false));
                if null_elements {
                    format!("r.vec(|r| r.nullable({element}))")
                } else {
                    format!("r.vec({element})")
                }
            }
            Type::Named(_) => "Decode::decode(r)".into(),
        }
    }

    /// A statement writing the value at `place` (an expression of the value's type, not a
    /// reference to it) as `ty` into `w`.
    fn encode_stmt(&self, ty: &Type, place: &str, null_elements: bool) -> String {
        match ty {
            Type::Int32 => format!("w.i64_number(i64::from({place}))"),
            Type::Int53 => format!("w.i64_number({place})"),
            Type::Int64 => format!("w.i64_string({place})"),
            Type::Double => format!("w.f64({place})"),
            Type::Bool => format!("w.bool({place})"),
            Type::String => format!("w.string({})", reference(place)),
            Type::Bytes => format!("w.bytes_base64({})", reference(place)),
            Type::Named(_) => format!("Encode::encode({}, w)", reference(place)),
            Type::Vector(inner) => {
                let element = self.encode_stmt(inner, "*x", false);
                if null_elements {
                    format!(
                        "w.vec({}, |w, x| match x {{ Some(x) => {element}, None => w.null() }})",
                        reference(place)
                    )
                } else {
                    format!("w.vec({}, |w, x| {element})", reference(place))
                }
            }
        }
    }

    fn write_struct(&self, out: &mut String, def: &Definition, is_function: bool) {
        let name = pascal(&def.name);
        doc(out, 4, &def.description);
        let has_secret = def.params.iter().any(|p| is_secret(def, p, is_function));
        let derives = if has_secret {
            "Clone, PartialEq, Default"
        } else {
            "Debug, Clone, PartialEq, Default"
        };
        let _ = writeln!(out, "    #[derive({derives})]");
        let _ = writeln!(out, "    pub struct {name} {{");
        for param in &def.params {
            doc(out, 8, &param.description);
            let _ = writeln!(
                out,
                "        pub {}: {},",
                field_ident(&param.name),
                self.field_type(def, param)
            );
        }
        out.push_str("    }\n\n");

        if has_secret {
            let _ = writeln!(out, "    impl ::core::fmt::Debug for {name} {{");
            out.push_str("        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {\n");
            let _ = writeln!(out, "            f.debug_struct({name:?})");
            for param in &def.params {
                let ident = field_ident(&param.name);
                if is_secret(def, param, is_function) {
                    let _ = writeln!(
                        out,
                        "                .field({:?}, &crate::codec::Redacted)",
                        param.name
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "                .field({:?}, &self.{ident})",
                        param.name
                    );
                }
            }
            out.push_str("                .finish()\n        }\n    }\n\n");
        }

        // TlObject: the @type name and the field codecs.
        let _ = writeln!(out, "    impl TlObject for {name} {{");
        let _ = writeln!(out, "        const TYPE: &'static str = {:?};", def.name);
        let uses_reader = if def.params.is_empty() { "_r" } else { "r" };
        let _ = writeln!(
            out,
            "        fn decode_fields({uses_reader}: &mut Reader<'_>, seq: &mut Seq) -> ::core::result::Result<Self, DecodeError> {{"
        );
        if def.params.is_empty() {
            out.push_str("            _r.skip_fields(seq)?;\n            ::core::result::Result::Ok(Self {})\n        }\n");
        } else {
            out.push_str("            let mut v = Self::default();\n");
            out.push_str("            while let Some(key) = r.next_key(seq)? {\n                match &*key {\n");
            for param in &def.params {
                let ident = field_ident(&param.name);
                let boxed = self.boxed.contains(&(def.name.clone(), param.name.clone()));
                let read = self.decode_result(&param.ty, nullable_elements(param));
                let expr = match (nullable(def, param), boxed) {
                    (false, false) => format!("{read}?"),
                    (false, true) => format!("Box::new({read}?)"),
                    (true, false) => format!("r.nullable({})?", closure(&read)),
                    (true, true) => format!("r.nullable(|r| {read}.map(Box::new))?"),
                };
                let _ = writeln!(
                    out,
                    "                    {:?} => v.{ident} = {expr},",
                    param.name
                );
            }
            out.push_str("                    _ => r.skip()?,\n                }\n            }\n");
            out.push_str("            ::core::result::Result::Ok(v)\n        }\n");
        }
        let uses_writer = if def.params.is_empty() { "_w" } else { "w" };
        let _ = writeln!(
            out,
            "        fn encode_fields(&self, {uses_writer}: &mut Writer) {{"
        );
        for param in &def.params {
            let ident = field_ident(&param.name);
            let null_elements = nullable_elements(param);
            let boxed = self.boxed.contains(&(def.name.clone(), param.name.clone()));
            if nullable(def, param) {
                let place = if boxed { "**value" } else { "*value" };
                let encode = self.encode_stmt(&param.ty, place, null_elements);
                let _ = writeln!(
                    out,
                    "            if let Some(value) = &self.{ident} {{ w.field({:?}); {encode}; }}",
                    param.name
                );
            } else {
                let place = if boxed {
                    format!("*self.{ident}")
                } else {
                    format!("self.{ident}")
                };
                let encode = self.encode_stmt(&param.ty, &place, null_elements);
                let _ = writeln!(out, "            w.field({:?}); {encode};", param.name);
            }
        }
        out.push_str("        }\n    }\n\n");

        if is_function {
            let (module, output) = self.named(&def.result);
            let _ = writeln!(
                out,
                "    impl Function for {name} {{\n        type Output = crate::{module}::{output};\n    }}\n"
            );
            if is_synchronous(def) {
                let _ = writeln!(out, "    impl Synchronous for {name} {{}}\n");
            }
        }
    }

    fn write_enum(
        &self,
        out: &mut String,
        class: &str,
        description: &str,
        constructors: &[&Definition],
    ) {
        let variants = variant_names(class, constructors);
        doc(out, 4, description);
        out.push_str("    #[derive(Debug, Clone, PartialEq)]\n");
        let _ = writeln!(out, "    pub enum {class} {{");
        for (def, variant) in &variants {
            doc(out, 8, &def.description);
            let _ = writeln!(out, "        {variant}({}),", self.payload(def));
        }
        out.push_str("        /// An object this version of the schema does not know, kept as TDLib sent it.\n");
        out.push_str("        Unrecognized(UnknownObject),\n    }\n\n");

        // Default: absent. Neither a decoded value nor a request may silently get a real
        // constructor nobody chose; an absent object is written as `null`, which TDLib reads
        // as "no object".
        let _ = writeln!(out, "    impl Default for {class} {{");
        out.push_str("        /// `Unrecognized` with no content: stands for an absent object, and is written as `null`.\n");
        out.push_str("        fn default() -> Self {\n            Self::Unrecognized(UnknownObject::default())\n        }\n    }\n\n");

        self.write_decode(out, "    ", class, &variants);

        let _ = writeln!(out, "    impl Encode for {class} {{");
        out.push_str("        fn encode(&self, w: &mut Writer) {\n            match self {\n");
        for (_, variant) in &variants {
            let _ = writeln!(
                out,
                "                Self::{variant}(value) => value.encode(w),"
            );
        }
        out.push_str("                Self::Unrecognized(value) => value.encode(w),\n            }\n        }\n    }\n\n");

        // Typed views of updates: each update's struct is a `Variant` of `Update`, and so is
        // `Update` itself (the view that accepts every update). Subscriptions are typed by
        // them. Only for `Update`: for all 209 classes they would cost about 70 MB of compiler
        // memory and 2 s of a debug build, for no use yet.
        if class != VIEWED_CLASS {
            return;
        }
        let _ = writeln!(
            out,
            "    impl crate::codec::Variant<{class}> for {class} {{\n        fn view(value: &{class}) -> ::core::option::Option<&Self> {{\n            ::core::option::Option::Some(value)\n        }}\n        fn into_enum(self) -> {class} {{\n            self\n        }}\n    }}\n"
        );
        for (def, variant) in &variants {
            let (view, wrap) = if self.boxed_payload(def) {
                ("&**value", "Box::new(self)")
            } else {
                ("value", "self")
            };
            let _ = writeln!(
                out,
                "    impl crate::codec::Variant<{class}> for crate::types::{} {{\n        fn view(value: &{class}) -> ::core::option::Option<&Self> {{\n            match value {{\n                {class}::{variant}(value) => ::core::option::Option::Some({view}),\n                _ => ::core::option::Option::None,\n            }}\n        }}\n        fn into_enum(self) -> {class} {{\n            {class}::{variant}({wrap})\n        }}\n    }}\n",
                pascal(&def.name)
            );
        }
    }

    fn write_object_enum(&self, out: &mut String, all: &[&Definition]) {
        out.push_str(
            "/// Any TDLib object.\n#[derive(Debug, Clone, PartialEq)]\npub enum Object {\n",
        );
        for def in all {
            let _ = writeln!(
                out,
                "    /// `{}`\n    {}({}),",
                def.name,
                pascal(&def.name),
                self.payload(def)
            );
        }
        out.push_str("    /// An object this version of the schema does not know, kept as TDLib sent it.\n    Unrecognized(crate::codec::UnknownObject),\n}\n\n");
        let variants: Vec<_> = all.iter().map(|def| (*def, pascal(&def.name))).collect();
        self.write_decode(out, "", "Object", &variants);
    }

    /// `impl Decode` for an enum: a static table of (`@type`, decoder) sorted by name, searched
    /// by `decode_enum`. `variants` pairs each constructor with its variant name.
    fn write_decode(
        &self,
        out: &mut String,
        indent: &str,
        enum_name: &str,
        variants: &[(&Definition, String)],
    ) {
        let _ = writeln!(out, "{indent}impl crate::codec::Decode for {enum_name} {{");
        let _ = writeln!(
            out,
            "{indent}    fn decode(r: &mut crate::codec::Reader<'_>) -> ::core::result::Result<Self, crate::codec::DecodeError> {{"
        );
        let _ = writeln!(
            out,
            "{indent}        static DECODERS: &[(&str, crate::codec::VariantDecoder<{enum_name}>)] = &["
        );
        let mut sorted: Vec<_> = variants.iter().collect();
        sorted.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        for (def, variant) in sorted {
            let wrap = self.wrap(def, enum_name, variant);
            let _ = writeln!(
                out,
                "{indent}            ({:?}, |r, seq| crate::codec::decode_variant(r, seq).map({wrap})),",
                def.name
            );
        }
        let _ = writeln!(out, "{indent}        ];");
        let _ = writeln!(
            out,
            "{indent}        crate::codec::decode_enum(r, DECODERS, Self::Unrecognized)"
        );
        let _ = writeln!(out, "{indent}    }}\n{indent}}}\n");
    }
}

/// Whether a field is an `Option`: it holds an object (a vector is never null, only empty) and
/// its documentation says it may be null ("may be null" for answers, "pass null" and "If null"
/// for requests), or it is in [`NULLABLE_OVERRIDES`].
pub fn nullable(def: &Definition, param: &Param) -> bool {
    let object = matches!(param.ty, Type::Named(_));
    let doc = param.description.to_ascii_lowercase();
    let said = doc.contains("may be null") || doc.contains("pass null") || doc.contains("if null");
    object && (said || NULLABLE_OVERRIDES.contains(&(def.name.as_str(), param.name.as_str())))
}

/// Whether the elements of a vector of objects may be null (stated in its documentation, as for
/// `messages.messages`).
pub fn nullable_elements(param: &Param) -> bool {
    let doc = param.description.to_ascii_lowercase();
    matches!(&param.ty, Type::Vector(inner) if matches!(**inner, Type::Named(_)))
        && (doc.contains("may be null") || doc.contains("can be null"))
}

/// A closure over `r` for an expression in `r`, or the bare function path where the closure
/// would only forward its argument.
fn closure(expr: &str) -> String {
    if expr == "Decode::decode(r)" {
        "Decode::decode".to_owned()
    } else {
        format!("|r| {expr}")
    }
}

/// A reference to the value at `place`: `&self.x`, `&*self.x` for a box, and `x` for the
/// place `*x` (which is already a reference).
fn reference(place: &str) -> String {
    match place.strip_prefix('*') {
        Some(rest) if !rest.starts_with('*') && !rest.contains('.') => rest.to_owned(),
        _ => format!("&{place}"),
    }
}

/// Whether TDLib documents the function as callable with `td_execute`.
pub fn is_synchronous(def: &Definition) -> bool {
    def.description.contains("Can be called synchronously")
}

/// `formattedText` → `FormattedText`.
pub fn pascal(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// The variant of `class` for `constructor`: the constructor without the class prefix
/// (`textEntityTypeBold` in `TextEntityType` → `Bold`), else the whole constructor name
/// (`messageText` in `MessageContent` → `MessageText`).
pub fn variant_name(class: &str, constructor: &str) -> String {
    let full = pascal(constructor);
    match full.strip_prefix(class) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_uppercase()) => rest.to_owned(),
        _ => full,
    }
}

/// The variants of a class: [`variant_name`] for each constructor, unless two would clash or
/// one would be `Unrecognized` (the catch-all), in which case every variant keeps its full name.
pub fn variant_names<'d>(
    class: &str,
    constructors: &[&'d Definition],
) -> Vec<(&'d Definition, String)> {
    let short: Vec<String> = constructors
        .iter()
        .map(|def| variant_name(class, &def.name))
        .collect();
    let unique: BTreeSet<&String> = short.iter().collect();
    let clash = unique.len() != short.len() || short.iter().any(|name| name == "Unrecognized");
    constructors
        .iter()
        .zip(short)
        .map(|(def, name)| (*def, if clash { pascal(&def.name) } else { name }))
        .collect()
}

/// A field name as a Rust identifier (`type` → `r#type`).
pub fn field_ident(name: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "box", "break", "const", "continue", "crate", "dyn", "else",
        "enum", "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match",
        "mod", "move", "mut", "pub", "ref", "return", "static", "struct", "super", "trait", "true",
        "try", "type", "unsafe", "use", "where", "while", "yield", "abstract", "become", "do",
        "final", "macro", "override", "priv", "typeof", "unsized", "virtual",
    ];
    if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else {
        name.to_owned()
    }
}

/// A doc comment, escaped for rustdoc (the schema's prose has `[`, `<`, `*` that would
/// otherwise be links, HTML or emphasis).
fn doc(out: &mut String, indent: usize, text: &str) {
    if text.is_empty() {
        return;
    }
    let _ = writeln!(out, "{:indent$}/// {}", "", markdown(text));
}

/// The schema's prose as Markdown that renders as written: `[`, `<`, `*`, `_` and backquotes
/// escaped, and URLs made links.
pub fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (index, word) in text.split(' ').enumerate() {
        if index > 0 {
            out.push(' ');
        }
        // A URL (possibly after an opening parenthesis) becomes an autolink; sentence
        // punctuation after it is not part of it.
        let (word, url, rest) = match word.find("https://").or_else(|| word.find("http://")) {
            Some(start) => {
                let url = word[start..].trim_end_matches(['.', ',', ';', ':', ')']);
                (&word[..start], url, &word[start + url.len()..])
            }
            None => (word, "", ""),
        };
        for c in word.chars() {
            match c {
                '\\' | '[' | ']' | '*' | '_' | '`' => {
                    out.push('\\');
                    out.push(c);
                }
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                _ => out.push(c),
            }
        }
        if !url.is_empty() {
            out.push('<');
            out.push_str(url);
            out.push('>');
            out.push_str(rest);
        }
    }
    out
}
