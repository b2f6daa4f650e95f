//! Counts of what changed between two schemas, made with simple line rules, independent of
//! the parser and of the diff: the yardstick of the diff's tests (here and in the upgrade
//! tool's test, which includes this file).

#![allow(dead_code, reason = "each including test uses its own part")]

use std::collections::{BTreeMap, BTreeSet};

/// Declarations by name, each as its text after the name (fields and result, spaces
/// normalized), split at `---functions---`: every line that is not a comment and ends in `;`.
pub fn declarations(text: &str) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let built_ins = [
        "double",
        "string",
        "int32",
        "int53",
        "int64",
        "bytes",
        "boolFalse",
        "boolTrue",
        "vector",
    ];
    let (mut types, mut functions) = (BTreeMap::new(), BTreeMap::new());
    let mut in_functions = false;
    for line in text.lines().map(str::trim) {
        if line == "---functions---" {
            in_functions = true;
            continue;
        }
        if line.starts_with("//") || !line.ends_with(';') {
            continue;
        }
        let mut words = line.split_whitespace();
        let name = words.next().unwrap_or_default().to_owned();
        if built_ins.contains(&name.as_str()) {
            continue;
        }
        let rest = words.collect::<Vec<_>>().join(" ");
        if in_functions {
            functions.insert(name, rest);
        } else {
            types.insert(name, rest);
        }
    }
    (types, functions)
}

/// (added, removed, changed) between two maps of declarations.
pub fn counts(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> (usize, usize, usize) {
    let old_names: BTreeSet<&String> = old.keys().collect();
    let new_names: BTreeSet<&String> = new.keys().collect();
    let changed = old_names
        .intersection(&new_names)
        .filter(|name| old[**name] != new[**name])
        .count();
    (
        new_names.difference(&old_names).count(),
        old_names.difference(&new_names).count(),
        changed,
    )
}

pub fn classes(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("//@class "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// Functions in both maps whose result (the word after `=`) differs.
pub fn results_changed(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> usize {
    let result = |rest: &str| {
        rest.rsplit('=')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    old.iter()
        .filter(|(name, rest)| {
            new.get(*name)
                .is_some_and(|new_rest| result(rest) != result(new_rest))
        })
        .count()
}
