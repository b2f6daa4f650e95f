//! The API diff from the pinned schema to a newer one, checked against counts made with simple
//! line rules, independent of the parser and of the diff.
//!
//! The newer schema is not in the repository: `TDLIB_NEXT_SCHEMA` names it (CI points it at
//! TDLib's `td_api.tl` of a later commit). Without it the test says so and checks nothing else.

mod common;
mod line_rules;

use line_rules::{classes, counts, declarations, results_changed};
use tdlib_tl::diff::diff;
use tdlib_tl::parse;

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
    assert_eq!(
        summary.results_changed,
        results_changed(&old_functions, &new_functions),
        "results"
    );
    assert!(!diff.is_empty(), "the newer schema differs");
}
