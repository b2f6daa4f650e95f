//! `xtask upgrade` as the maintainer who moves the pin runs it, on a scratch copy of the
//! repository and a fresh cache: to the real TDLib 1.8.67 prebuilt (fetched with npm), with
//! TDLib's schema of a later commit standing in for 1.8.67's (its schema is not at hand here).
//!
//! - the diff it prints matches counts made with line rules, independent of the tool;
//! - `--write` rewrites the pin (version, commit read from the package, schema hash, each
//!   target's package and sha256, `unverified` for those npm cannot fetch here) and the crate
//!   version, and puts the library and schema where the build looks;
//! - the build accepts the result: tdlib-sys builds in the copy, links 1.8.67, and its test of
//!   the pin against the crate version passes;
//! - a package of another release is refused and nothing is written.
//!
//! Needs `TDLIB_SCHEMA` (the pinned schema), `TDLIB_NEXT_SCHEMA` (the newer one), npm with a
//! reachable registry, git and cargo.

#[path = "../../tdlib-tl/tests/line_rules/mod.rs"]
mod line_rules;
#[path = "../../tdlib-sys/build/pin.rs"]
#[allow(dead_code, reason = "the test reads only part of the pin")]
mod pin;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The 1.8.67 prebuilt for Linux x86_64 (glibc) and what it is.
const NEWER_PACKAGE: &str = "@prebuilt-tdlib/linux-x64-glibc@0.1008067.0";
const NEWER_SHA256: &str = "47ad24192a3c84d0be783c7c07adb14af0d2f3f53b5830d4660f58c51f298197";
const NEWER_COMMIT: &str = "d1085f9cebc5a62379991ae1652673954f229c1f";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn var(name: &str) -> PathBuf {
    std::env::var_os(name)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("{name} must be set for this test (.ci/run sets it)"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("upgrade")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The repository's files (tracked, and new ones not ignored) copied into `dest`.
fn copy_repository(dest: &Path) {
    let output = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(repo())
        .output()
        .expect("git runs");
    assert!(output.status.success());
    for name in output
        .stdout
        .split(|byte| *byte == 0)
        .filter(|name| !name.is_empty())
    {
        let name = Path::new(std::str::from_utf8(name).unwrap());
        let from = repo().join(name);
        if !from.is_file() {
            continue; // deleted in the working tree
        }
        let to = dest.join(name);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&from, &to).unwrap();
    }
}

fn upgrade(copy: &Path, cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("upgrade")
        .arg("--repo")
        .arg(copy)
        .args(args)
        .env("TDLIB_CACHE_DIR", cache)
        .env("TDLIB_SCHEMA", var("TDLIB_SCHEMA"))
        .output()
        .expect("xtask runs")
}

fn text(output: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn sha256(path: &Path) -> String {
    let output = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// The numbers of the summary line `classes +2 -0; constructors +49 -7 ~23; functions ...`.
fn summary_numbers(stdout: &str) -> Vec<usize> {
    let line = stdout
        .lines()
        .find(|line| line.starts_with("classes +"))
        .unwrap_or_else(|| panic!("no summary line in\n{stdout}"));
    line.split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .map(|part| part.parse().unwrap())
        .collect()
}

#[test]
fn the_upgrade_to_a_newer_release_rewrites_a_pin_the_build_accepts() {
    let copy = scratch("repository");
    let cache = scratch("cache");
    copy_repository(&copy);
    let next_schema = var("TDLIB_NEXT_SCHEMA");
    let output = upgrade(
        &copy,
        &cache,
        &[
            "--version",
            "1.8.67",
            "--prebuilt",
            "0.1008067.0",
            "--schema",
            next_schema.to_str().unwrap(),
            "--summary",
            "--write",
            "--no-test",
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");

    // The diff, against line-rule counts of both files.
    let old_text = std::fs::read_to_string(var("TDLIB_SCHEMA")).unwrap();
    let new_text = std::fs::read_to_string(&next_schema).unwrap();
    let (old_types, old_functions) = line_rules::declarations(&old_text);
    let (new_types, new_functions) = line_rules::declarations(&new_text);
    let (old_classes, new_classes) = (
        line_rules::classes(&old_text),
        line_rules::classes(&new_text),
    );
    let constructors = line_rules::counts(&old_types, &new_types);
    let functions = line_rules::counts(&old_functions, &new_functions);
    let expected = vec![
        new_classes.difference(&old_classes).count(),
        old_classes.difference(&new_classes).count(),
        constructors.0,
        constructors.1,
        constructors.2,
        functions.0,
        functions.1,
        functions.2,
        line_rules::results_changed(&old_functions, &new_functions),
    ];
    assert_eq!(summary_numbers(&stdout)[..9], expected[..], "{stdout}");

    // Every target of the pin was tried; the one npm serves here was fetched and checked.
    let old_pin = pin::Pin::parse(include_str!("../../tdlib-sys/tdlib.pin")).unwrap();
    for prebuilt in &old_pin.prebuilts {
        assert!(
            stdout.contains(&format!("fetched  {:<20}", prebuilt.target))
                || stdout.contains(&format!("missing  {:<20}", prebuilt.target)),
            "{} not reported:\n{stdout}",
            prebuilt.target
        );
    }
    assert!(
        stdout.contains(&format!(
            "fetched  linux-x86_64-gnu     {NEWER_PACKAGE}  sha256 {NEWER_SHA256}"
        )),
        "{stdout}"
    );

    // The pin.
    let new_pin_text = std::fs::read_to_string(copy.join("tdlib-sys/tdlib.pin")).unwrap();
    let new_pin = pin::Pin::parse(&new_pin_text).unwrap();
    assert_eq!(new_pin.version, "1.8.67");
    assert_eq!(new_pin.commit, NEWER_COMMIT, "read from the package");
    assert_eq!(new_pin.schema_sha256, sha256(&next_schema));
    let linux = new_pin.prebuilt("linux-x86_64-gnu").unwrap();
    assert_eq!(linux.package, NEWER_PACKAGE);
    assert_eq!(linux.sha256.as_deref(), Some(NEWER_SHA256));
    assert_eq!(new_pin.prebuilts.len(), old_pin.prebuilts.len());
    for prebuilt in &new_pin.prebuilts {
        assert!(prebuilt.package.ends_with("@0.1008067.0"), "{prebuilt:?}");
        let fetched = stdout.contains(&format!("fetched  {:<20}", prebuilt.target));
        assert_eq!(prebuilt.sha256.is_some(), fetched, "{prebuilt:?}");
    }
    // The crate version.
    let manifest = std::fs::read_to_string(copy.join("tdlib-sys/Cargo.toml")).unwrap();
    assert!(
        manifest.contains("version = \"0.1.0+1.8.67\""),
        "{manifest}"
    );

    // The build accepts it: tdlib-sys builds against the 1.8.67 library the tool put into the
    // cache, and its test of the pin against the crate version passes.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["test", "-p", "tdlib-sys", "--test", "build_rules", "pin"])
        .arg("--target-dir")
        .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("upgrade-target"))
        .current_dir(&copy);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TDLIB_") {
            command.env_remove(name);
        }
    }
    let output = command
        .env("TDLIB_CACHE_DIR", &cache)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("pin_parses_and_matches_the_crate_version ... ok"),
        "{}",
        text(&output)
    );
}

#[test]
fn a_package_of_another_release_is_refused_and_nothing_is_written() {
    let copy = scratch("refused");
    let cache = scratch("refused-cache");
    copy_repository(&copy);
    let before = std::fs::read_to_string(copy.join("tdlib-sys/tdlib.pin")).unwrap();
    // 0.1008065.0 is TDLib 1.8.65, not the 1.8.67 asked for.
    let output = upgrade(
        &copy,
        &cache,
        &[
            "--version",
            "1.8.67",
            "--prebuilt",
            "0.1008065.0",
            "--schema",
            var("TDLIB_NEXT_SCHEMA").to_str().unwrap(),
            "--summary",
            "--write",
            "--no-test",
        ],
    );
    assert!(!output.status.success(), "{}", text(&output));
    let all = text(&output);
    assert!(
        all.contains(
            "@prebuilt-tdlib/linux-x64-glibc@0.1008065.0 is a build of TDLib 1.8.65, not 1.8.67"
        ),
        "{all}"
    );
    assert!(all.contains("nothing was written"), "{all}");
    assert_eq!(
        std::fs::read_to_string(copy.join("tdlib-sys/tdlib.pin")).unwrap(),
        before
    );
    let manifest = std::fs::read_to_string(copy.join("tdlib-sys/Cargo.toml")).unwrap();
    assert!(manifest.contains("+1.8.65\""));

    // A check that fails after the packages were fetched (the commit given is not the one the
    // package was built from): nothing in the repository, nothing in the cache.
    let output = upgrade(
        &copy,
        &cache,
        &[
            "--version",
            "1.8.67",
            "--prebuilt",
            "0.1008067.0",
            "--commit",
            "062f26052623dbecedb42075cab78a759e9f9987",
            "--schema",
            var("TDLIB_NEXT_SCHEMA").to_str().unwrap(),
            "--summary",
            "--write",
            "--no-test",
        ],
    );
    assert!(!output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains(&format!(
            "{NEWER_PACKAGE} is built from TDLib commit {NEWER_COMMIT}, not 062f26052623dbecedb42075cab78a759e9f9987"
        )),
        "{}",
        text(&output)
    );
    assert_eq!(
        std::fs::read_to_string(copy.join("tdlib-sys/tdlib.pin")).unwrap(),
        before
    );
    assert!(
        !cache
            .join("tdlib-1.8.67/linux-x86_64-gnu/lib/libtdjson.so")
            .exists(),
        "a library of a refused upgrade was installed into the cache"
    );

    // Bad arguments never reach npm or a file.
    let output = upgrade(
        &copy,
        &cache,
        &["--version", "1.8.67", "--prebuilt", "latest"],
    );
    assert!(!output.status.success());
    assert!(text(&output).contains("--prebuilt must be the exact version"));
}
