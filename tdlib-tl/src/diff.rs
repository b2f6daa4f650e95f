//! What changed between two schemas: the API diff a maintainer reads before moving the pin to
//! a new TDLib (classes, constructors and functions added and removed; fields added, removed
//! and retyped; constructors moved to another class; functions whose result changed).
//!
//! ```
//! let old = tdlib_tl::parse(
//!     "user id:int53 = User;\n---functions---\ngetUser user_id:int53 = User;\n",
//! )?;
//! let new = tdlib_tl::parse(
//!     "user id:int53 name:string = User;\n---functions---\ngetUser user_id:int64 = User;\n",
//! )?;
//! let diff = tdlib_tl::diff::diff(&old, &new);
//! assert_eq!(diff.summary().fields_added, 1);
//! assert!(diff.to_string().contains("getUser: user_id int53 → int64"));
//! # Ok::<(), tdlib_tl::ParseError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::ast::{Definition, Schema};

/// Everything that changed, names sorted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiDiff {
    /// Abstract classes added.
    pub classes_added: Vec<String>,
    /// Abstract classes removed.
    pub classes_removed: Vec<String>,
    /// Constructors (objects).
    pub constructors: Changes,
    /// Functions (requests).
    pub functions: Changes,
}

/// Definitions of one kind added, removed and changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changes {
    /// Added, with their fields as `name:type`.
    pub added: Vec<(String, Vec<String>)>,
    /// Removed.
    pub removed: Vec<String>,
    /// In both, but different.
    pub changed: Vec<Changed>,
}

/// How one definition present in both schemas changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changed {
    /// The constructor or function.
    pub name: String,
    /// Fields (parameters) added, as `(name, type)`.
    pub fields_added: Vec<(String, String)>,
    /// Fields removed, as `(name, type)`.
    pub fields_removed: Vec<(String, String)>,
    /// Fields whose type changed, as `(name, old type, new type)`.
    pub fields_retyped: Vec<(String, String, String)>,
    /// The result (a function's) or class (a constructor's), if it changed: `(old, new)`.
    pub result: Option<(String, String)>,
}

/// The diff in numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Abstract classes added.
    pub classes_added: usize,
    /// Abstract classes removed.
    pub classes_removed: usize,
    /// Constructors added.
    pub constructors_added: usize,
    /// Constructors removed.
    pub constructors_removed: usize,
    /// Constructors in both whose fields or class changed.
    pub constructors_changed: usize,
    /// Functions added.
    pub functions_added: usize,
    /// Functions removed.
    pub functions_removed: usize,
    /// Functions in both whose parameters or result changed.
    pub functions_changed: usize,
    /// Functions in both whose result changed.
    pub results_changed: usize,
    /// Fields and parameters added to definitions in both.
    pub fields_added: usize,
    /// Fields and parameters removed from definitions in both.
    pub fields_removed: usize,
    /// Fields and parameters whose type changed.
    pub fields_retyped: usize,
}

/// The diff from `old` to `new`.
pub fn diff(old: &Schema, new: &Schema) -> ApiDiff {
    let old_classes: BTreeSet<&str> = old.classes.iter().map(|c| c.name.as_str()).collect();
    let new_classes: BTreeSet<&str> = new.classes.iter().map(|c| c.name.as_str()).collect();
    ApiDiff {
        classes_added: new_classes
            .difference(&old_classes)
            .map(|name| (*name).to_owned())
            .collect(),
        classes_removed: old_classes
            .difference(&new_classes)
            .map(|name| (*name).to_owned())
            .collect(),
        constructors: changes(&old.types, &new.types),
        functions: changes(&old.functions, &new.functions),
    }
}

fn changes(old: &[Definition], new: &[Definition]) -> Changes {
    let old: BTreeMap<&str, &Definition> = old.iter().map(|d| (d.name.as_str(), d)).collect();
    let new: BTreeMap<&str, &Definition> = new.iter().map(|d| (d.name.as_str(), d)).collect();
    let mut changes = Changes::default();
    for (name, definition) in &new {
        match old.get(name) {
            None => changes.added.push((
                (*name).to_owned(),
                definition
                    .params
                    .iter()
                    .map(|param| format!("{}:{}", param.name, param.ty))
                    .collect(),
            )),
            Some(before) => {
                let changed = compare(before, definition);
                if changed != Changed::default() {
                    changes.changed.push(Changed {
                        name: (*name).to_owned(),
                        ..changed
                    });
                }
            }
        }
    }
    changes.removed = old
        .keys()
        .filter(|name| !new.contains_key(*name))
        .map(|name| (*name).to_owned())
        .collect();
    changes
}

/// What differs between two definitions of one name (the name itself left empty).
fn compare(old: &Definition, new: &Definition) -> Changed {
    let old_fields: BTreeMap<&str, String> = old
        .params
        .iter()
        .map(|p| (p.name.as_str(), p.ty.to_string()))
        .collect();
    let new_fields: BTreeMap<&str, String> = new
        .params
        .iter()
        .map(|p| (p.name.as_str(), p.ty.to_string()))
        .collect();
    let mut changed = Changed::default();
    // In the new declaration order, which is how the schema reads.
    for param in &new.params {
        let ty = param.ty.to_string();
        match old_fields.get(param.name.as_str()) {
            None => changed.fields_added.push((param.name.clone(), ty)),
            Some(before) if *before != ty => {
                changed
                    .fields_retyped
                    .push((param.name.clone(), before.clone(), ty));
            }
            Some(_) => {}
        }
    }
    for param in &old.params {
        if !new_fields.contains_key(param.name.as_str()) {
            changed
                .fields_removed
                .push((param.name.clone(), param.ty.to_string()));
        }
    }
    if old.result != new.result {
        changed.result = Some((old.result.clone(), new.result.clone()));
    }
    changed
}

impl ApiDiff {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        *self == ApiDiff::default()
    }

    /// The counts.
    pub fn summary(&self) -> Summary {
        let all = || {
            self.constructors
                .changed
                .iter()
                .chain(&self.functions.changed)
        };
        Summary {
            classes_added: self.classes_added.len(),
            classes_removed: self.classes_removed.len(),
            constructors_added: self.constructors.added.len(),
            constructors_removed: self.constructors.removed.len(),
            constructors_changed: self.constructors.changed.len(),
            functions_added: self.functions.added.len(),
            functions_removed: self.functions.removed.len(),
            functions_changed: self.functions.changed.len(),
            results_changed: self
                .functions
                .changed
                .iter()
                .filter(|changed| changed.result.is_some())
                .count(),
            fields_added: all().map(|changed| changed.fields_added.len()).sum(),
            fields_removed: all().map(|changed| changed.fields_removed.len()).sum(),
            fields_retyped: all().map(|changed| changed.fields_retyped.len()).sum(),
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "classes +{} -{}; constructors +{} -{} ~{}; functions +{} -{} ~{} ({} with a new \
             result); fields +{} -{} retyped {}",
            self.classes_added,
            self.classes_removed,
            self.constructors_added,
            self.constructors_removed,
            self.constructors_changed,
            self.functions_added,
            self.functions_removed,
            self.functions_changed,
            self.results_changed,
            self.fields_added,
            self.fields_removed,
            self.fields_retyped,
        )
    }
}

impl fmt::Display for ApiDiff {
    /// A readable report: the summary, then each section (`+` added, `-` removed, `~`
    /// changed, with old and new types).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "summary: {}", self.summary())?;
        let list = |f: &mut fmt::Formatter<'_>, title: &str, sign: char, names: &[String]| {
            if !names.is_empty() {
                writeln!(f, "\n{title}:")?;
                for name in names {
                    writeln!(f, "  {sign} {name}")?;
                }
            }
            Ok(())
        };
        list(f, "classes added", '+', &self.classes_added)?;
        list(f, "classes removed", '-', &self.classes_removed)?;
        for (kind, changes, result_word) in [
            ("constructors", &self.constructors, "class"),
            ("functions", &self.functions, "result"),
        ] {
            if !changes.added.is_empty() {
                writeln!(f, "\n{kind} added:")?;
                for (name, fields) in &changes.added {
                    writeln!(f, "  + {name} {}", fields.join(" "))?;
                }
            }
            list(f, &format!("{kind} removed"), '-', &changes.removed)?;
            if !changes.changed.is_empty() {
                writeln!(f, "\n{kind} changed:")?;
                for changed in &changes.changed {
                    if let Some((old, new)) = &changed.result {
                        writeln!(f, "  ~ {}: {result_word} {old} → {new}", changed.name)?;
                    }
                    for (field, ty) in &changed.fields_added {
                        writeln!(f, "  ~ {}: + {field}:{ty}", changed.name)?;
                    }
                    for (field, ty) in &changed.fields_removed {
                        writeln!(f, "  ~ {}: - {field}:{ty}", changed.name)?;
                    }
                    for (field, old, new) in &changed.fields_retyped {
                        writeln!(f, "  ~ {}: {field} {old} → {new}", changed.name)?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    const OLD: &str = "\
//@class Shape @description A shape
circle radius:double = Shape;
square side:double = Shape;
user id:int53 name:string = User;
gone x:int32 = Gone;
---functions---
getUser user_id:int53 = User;
drop = Ok;
";

    const NEW: &str = "\
//@class Shape @description A shape
//@class Color @description A color
circle radius:double color:Color = Shape;
red = Color;
square side:int32 = Shape;
user id:int53 = User;
---functions---
getUser user_id:int64 = Shape;
ping = Ok;
";

    #[test]
    fn every_kind_of_change_is_found_and_shown() {
        let diff = diff(&parse(OLD).unwrap(), &parse(NEW).unwrap());
        assert_eq!(diff.classes_added, ["Color"]);
        assert!(diff.classes_removed.is_empty());
        assert_eq!(diff.constructors.added, [("red".to_owned(), vec![])]);
        assert_eq!(diff.constructors.removed, ["gone"]);
        assert_eq!(diff.functions.added, [("ping".to_owned(), vec![])]);
        assert_eq!(diff.functions.removed, ["drop"]);
        let summary = diff.summary();
        assert_eq!(
            (
                summary.constructors_changed,
                summary.functions_changed,
                summary.results_changed,
                summary.fields_added,
                summary.fields_removed,
                summary.fields_retyped
            ),
            (3, 1, 1, 1, 1, 2)
        );
        let text = diff.to_string();
        for line in [
            "  + Color",
            "  + red ",
            "  - gone",
            "  ~ circle: + color:Color",
            "  ~ square: side double → int32",
            "  ~ user: - name:string",
            "  ~ getUser: result User → Shape",
            "  ~ getUser: user_id int53 → int64",
            "  - drop",
            "  + ping",
        ] {
            assert!(text.contains(line), "{line:?} in:\n{text}");
        }
        assert!(crate::diff::diff(&parse(OLD).unwrap(), &parse(OLD).unwrap()).is_empty());
    }
}
