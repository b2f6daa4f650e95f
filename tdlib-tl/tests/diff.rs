//! The API diff from the pinned schema to a newer one, checked against counts made with simple
//! line rules, independent of the parser and of the diff.
//!
//! The newer schema is not in the repository: `TDLIB_NEXT_SCHEMA` names it (CI points it at
//! TDLib's `td_api.tl` of a later commit). Without it the test says so and checks nothing else.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use tdlib_tl::diff::diff;
use tdlib_tl::parse;

/// Declarations by name, each as its text after the name (fields and result, spaces
/// normalized), split at `---functions---`: every line that is not a comment and ends in `;`.
fn declarations(text: &str) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
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
fn counts(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> (usize, usize, usize) {
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

fn classes(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("//@class "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_diff_to_a_newer_schema_matches_independent_counts() {
    let Some(next) = std::env::var_os("TDLIB_NEXT_SCHEMA").filter(|path| !path.is_empty()) else {
        eprintln!("TDLIB_NEXT_SCHEMA is not set: no newer schema to compare with");
        return;
    };
    let old_text = common::real_schema();
    let new_text = std::fs::read_to_string(&next)
        .unwrap_or_else(|error| panic!("cannot read TDLIB_NEXT_SCHEMA: {error}"));
    let diff = diff(&parse(&old_text).unwrap(), &parse(&new_text).unwrap());
    let summary = diff.summary();
    println!("{diff}");

    let (old_types, old_functions) = declarations(&old_text);
    let (new_types, new_functions) = declarations(&new_text);
    assert_eq!(
        (
            summary.constructors_added,
            summary.constructors_removed,
            summary.constructors_changed
        ),
        counts(&old_types, &new_types),
        "constructors"
    );
    assert_eq!(
        (
            summary.functions_added,
            summary.functions_removed,
            summary.functions_changed
        ),
        counts(&old_functions, &new_functions),
        "functions"
    );
    let (old_classes, new_classes) = (classes(&old_text), classes(&new_text));
    assert_eq!(
        (summary.classes_added, summary.classes_removed),
        (
            new_classes.difference(&old_classes).count(),
            old_classes.difference(&new_classes).count()
        ),
        "classes"
    );
    // Functions whose result changed: the word after `=` differs.
    let result = |rest: &str| {
        rest.rsplit('=')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let results_changed = old_functions
        .iter()
        .filter(|(name, rest)| {
            new_functions
                .get(*name)
                .is_some_and(|new_rest| result(rest) != result(new_rest))
        })
        .count();
    assert_eq!(summary.results_changed, results_changed, "results");
    assert!(!diff.is_empty(), "the newer schema differs");
}
