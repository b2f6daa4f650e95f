//! The path of a user of the published crates: a crate outside this workspace whose only
//! dependency is `tdlib` with the feature `download`, built on a machine where nothing has
//! put TDLib anywhere (an empty cache, and an empty npm cache, so npm really fetches).
//!
//! - with npm, it builds, and the program runs on the official prebuilt the build fetched;
//! - without npm on `PATH`, with a tarball whose library was tampered with, and with a package
//!   of another TDLib release, the build stops with tdlib-sys's one message, which names what
//!   was tried and puts the feature first among the fixes, and nothing lands in the cache.
//!
//! The machine is offline apart from package registries, so the schema cannot be fetched
//! here: the builds set `TDLIB_SCHEMA`, the documented offline way (tdlib-sys's own tests
//! cover fetching it, with a stand-in `curl`).
//!
//! Needs cargo, a C compiler, `npm` with a reachable registry, `tar` and `gzip` (for the fake
//! packages); `scripts/setup` installs them.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

/// The builds share a target folder (dependencies compile once): one at a time.
static CARGO: Mutex<()> = Mutex::new(());

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("download-feature")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The pinned prebuilt for this machine's target: (package, file, sha256), read from the pin.
fn pinned_prebuilt() -> (String, String, String) {
    let pin = include_str!("../../tdlib-sys/tdlib.pin");
    let line = pin
        .lines()
        .find_map(|line| line.strip_prefix("prebuilt.linux-x86_64-gnu="))
        .expect("the pin has the linux-x86_64-gnu prebuilt");
    let words: Vec<&str> = line.split_whitespace().collect();
    (words[0].into(), words[1].into(), words[2].into())
}

fn schema() -> PathBuf {
    PathBuf::from(std::env::var_os("TDLIB_SCHEMA").expect(
        "TDLIB_SCHEMA must name td_api.tl of the pinned TDLib (offline, the build cannot fetch it)",
    ))
}

/// Writes the consumer crate: its own workspace, a path dependency on `tdlib`, a lock file
/// copied from this workspace so it resolves to the versions tested here.
fn consumer_crate() -> PathBuf {
    let dir = scratch("consumer");
    let tdlib = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"uses-tdlib\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\ntdlib = {{ path = {:?}, features = [\"download\"] }}\n\n[workspace]\n",
            tdlib.display().to_string()
        ),
    )
    .unwrap();
    std::fs::copy(tdlib.join("../Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        r#"use tdlib::{blocking, enums, execute, functions};

fn main() -> Result<(), tdlib::Error> {
    let enums::OptionValue::String(version) =
        execute(functions::GetOption { name: "version".into() })?
    else {
        panic!("the version option is a string");
    };
    println!("linked={}", version.value);
    println!("pinned={}", tdlib::TDLIB_VERSION);
    let client = blocking::Client::new()?;
    let square = client.send(functions::TestSquareInt { x: 12 })?;
    println!("square={}", square.value);
    client.close()?;
    Ok(())
}
"#,
    )
    .unwrap();
    dir
}

/// `cargo <subcommand>` in the consumer with a clean TDLib environment plus `env`.
fn cargo(crate_dir: &Path, subcommand: &str, env: &[(&str, &Path)], path: Option<&Path>) -> Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args([subcommand, "--quiet", "--target-dir"])
        .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("download-feature-target"))
        .current_dir(crate_dir);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("TDLIB_")
            || name.starts_with("DEP_TDJSON")
            || name.starts_with("npm_config_")
        {
            command.env_remove(&*name);
        }
    }
    command.env_remove("LD_LIBRARY_PATH");
    command.env("TDLIB_SCHEMA", schema());
    for (name, value) in env {
        command.env(name, value);
    }
    if let Some(path) = path {
        command.env("PATH", path);
    }
    command.output().expect("cargo runs")
}

fn text(output: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A `PATH` of one folder that links every program of the real `PATH` except those named
/// (the first of each name wins, as in a real search).
fn path_without(dir: &Path, hidden: &[&str]) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = std::env::var_os("PATH").unwrap();
    for folder in std::env::split_paths(&path) {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let link = bin.join(&name);
            if hidden.iter().any(|hidden| name == *hidden) || link.exists() {
                continue;
            }
            let _ = std::os::unix::fs::symlink(entry.path(), &link);
        }
    }
    bin
}

/// A `PATH` whose `npm` is a stand-in that writes `tarball` into the current folder on `pack`,
/// as npm would, followed by the real `PATH`.
fn path_with_fake_npm(dir: &Path, tarball: &Path) -> PathBuf {
    let bin = dir.join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let npm = bin.join("npm");
    std::fs::write(
        &npm,
        format!(
            "#!/bin/sh\n[ \"$1\" = pack ] || exit 1\ncp {:?} .\n",
            tarball.display().to_string()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&npm, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut paths = vec![bin];
    paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap()));
    PathBuf::from(std::env::join_paths(paths).unwrap())
}

/// A package like the official one, with `library` as its library and `package.json`.
fn fake_package(dir: &Path, file: &str, library: &[u8], package_json: &str) -> PathBuf {
    let root = dir.join("tree");
    std::fs::create_dir_all(root.join("package")).unwrap();
    std::fs::write(root.join("package").join(file), library).unwrap();
    std::fs::write(root.join("package/package.json"), package_json).unwrap();
    let tarball = dir.join("prebuilt-tdlib-linux-x64-glibc-0.1008065.0.tgz");
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&tarball)
        .arg("-C")
        .arg(&root)
        .arg("package")
        .status()
        .expect("tar runs");
    assert!(status.success());
    tarball
}

/// The real package, fetched once into the npm cache of `npm_cache`.
fn real_package(npm_cache: &Path) -> PathBuf {
    let (package, _, _) = pinned_prebuilt();
    let dir = scratch("real-package");
    let output = Command::new("npm")
        .args(["pack", "--ignore-scripts", "--loglevel=warn", &package])
        .env("npm_config_cache", npm_cache)
        .current_dir(&dir)
        .output()
        .expect("npm runs");
    assert!(output.status.success(), "{}", text(&output));
    std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "tgz"))
        .unwrap()
}

/// Builds the consumer with `cache` and `path`, expecting the standard failure; its message.
fn build_fails(consumer: &Path, cache: &Path, path: &Path) -> String {
    let output = cargo(consumer, "build", &[("TDLIB_CACHE_DIR", cache)], Some(path));
    assert_standard_failure(&output, cache)
}

fn assert_standard_failure(output: &Output, cache: &Path) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !output.status.success(),
        "the build should fail\n{}",
        text(output)
    );
    assert!(
        stderr.contains("could not find libtdjson of TDLib 1.8.65"),
        "{stderr}"
    );
    assert!(stderr.contains("5. cache: no libtdjson in"), "{stderr}");
    assert!(stderr.contains("Features: download=on"), "{stderr}");
    let fixes = &stderr[stderr.find("How to fix it").expect("the fixes are listed")..];
    let feature = fixes
        .find("feature `download`")
        .expect("the feature is named");
    let setup = fixes.find("scripts/setup").expect("scripts/setup is named");
    assert!(
        feature < setup,
        "the feature comes first, scripts/setup only for a clone:\n{fixes}"
    );
    assert!(
        fixes.contains("In a clone of this crate's repository: `scripts/setup`"),
        "{fixes}"
    );
    assert!(
        !stderr.contains("undefined reference") && !stderr.contains("panicked"),
        "{stderr}"
    );
    let installed: Vec<_> = walk(cache)
        .into_iter()
        .filter(|path| path.file_name().is_some_and(|name| name == "libtdjson.so"))
        .collect();
    assert!(
        installed.is_empty(),
        "nothing unchecked is installed: {installed:?}"
    );
    stderr
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(walk(&path));
            } else {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn a_consumer_of_the_crates_builds_and_runs_with_the_download_feature_alone() {
    let _serial = CARGO
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let consumer = consumer_crate();
    let cache = scratch("fresh-cache");
    let npm_cache = scratch("fresh-npm-cache");
    let npm_env: (&str, &Path) = ("npm_config_cache", &npm_cache);
    let output = cargo(
        &consumer,
        "run",
        &[("TDLIB_CACHE_DIR", &cache), npm_env],
        None,
    );
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("linked=1.8.65\n"), "{}", text(&output));
    assert!(stdout.contains("pinned=1.8.65\n"));
    assert!(stdout.contains("square=144\n"));
    // The cache was empty: the checked library is there now, under the target's prefix, and
    // npm's tarball is kept for a later fetch.
    let (_, file, sha256) = pinned_prebuilt();
    let installed = cache.join("tdlib-1.8.65/linux-x86_64-gnu/lib").join(&file);
    let output = Command::new("sha256sum").arg(&installed).output().unwrap();
    assert!(
        String::from_utf8_lossy(&output.stdout).starts_with(&sha256),
        "{installed:?}"
    );
    assert!(
        cache
            .join("tdlib-1.8.65/downloads/prebuilt-tdlib-linux-x64-glibc-0.1008065.0.tgz")
            .is_file()
    );
    let leftovers: Vec<_> = walk(&cache)
        .into_iter()
        .filter(|path| path.to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "scratch files left: {leftovers:?}");
}

#[test]
fn without_npm_or_with_a_bad_package_the_build_stops_with_the_standard_message() {
    let _serial = CARGO
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let consumer = consumer_crate();
    let (_, file, sha256) = pinned_prebuilt();

    // No npm on PATH (everything else is there: cargo, the compiler, tar).
    let dir = scratch("no-npm");
    let cache = dir.join("cache");
    let path = path_without(&dir, &["npm", "npm.cmd", "npx", "node", "nodejs"]);
    let stderr = build_fails(&consumer, &cache, &path);
    assert!(
        stderr.contains("6. download: `npm pack --ignore-scripts @prebuilt-tdlib/linux-x64-glibc@0.1008065.0` could not run: npm is not installed"),
        "{stderr}"
    );

    // A package whose library is not the pinned file (one byte changed in the real library).
    let dir = scratch("tampered");
    let cache = dir.join("cache");
    let npm_cache = dir.join("npm-cache");
    let real = real_package(&npm_cache);
    let unpacked = dir.join("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    assert!(
        Command::new("tar")
            .arg("-xzf")
            .arg(&real)
            .arg("-C")
            .arg(&unpacked)
            .status()
            .unwrap()
            .success()
    );
    let mut library = std::fs::read(unpacked.join("package").join(&file)).unwrap();
    let middle = library.len() / 2;
    library[middle] ^= 0x20;
    let package_json = std::fs::read_to_string(unpacked.join("package/package.json")).unwrap();
    let tarball = fake_package(&dir, &file, &library, &package_json);
    let path = path_with_fake_npm(&dir, &tarball);
    let stderr = build_fails(&consumer, &cache, &path);
    assert!(
        stderr.contains(&format!("but the pin says {sha256}")),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was installed"), "{stderr}");

    // A genuine-looking package of another TDLib release.
    let dir = scratch("other-release");
    let cache = dir.join("cache");
    let other_json = package_json.replace(
        "062f26052623dbecedb42075cab78a759e9f9987",
        "d1085f9cebc5a62379991ae1652673954f229c1f",
    );
    let tarball = fake_package(&dir, &file, b"not TDLib", &other_json);
    let path = path_with_fake_npm(&dir, &tarball);
    let stderr = build_fails(&consumer, &cache, &path);
    assert!(
        stderr.contains("does not declare TDLib commit 062f26052623dbecedb42075cab78a759e9f9987"),
        "{stderr}"
    );
}
