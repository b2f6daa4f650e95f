//! Every way of finding, building and linking TDLib, exercised for real: each test builds the
//! `tdlib-sys-consumer` program with Cargo (own target folder, controlled environment), runs it,
//! and checks what it linked and what tdlib-sys told it through `DEP_TDJSON_*`.
//!
//! - the official prebuilt through `TDLIB_DIR`, `TDLIB_LIB_DIR`, pkg-config and the setup cache;
//! - the `bundled` source build and the `static` and `static-deps` features, against
//!   `tests/fixture-td`, a small CMake project laid out and built like TDLib, with TDLib's
//!   dependencies on OpenSSL, zlib and the C++ runtime (TDLib's own source is too big to build
//!   in CI);
//! - the failure messages, and the committed bindings against bindgen's output.
//!
//! Needs cargo, cmake, a C++ compiler, OpenSSL and zlib headers and static libraries,
//! pkg-config and libclang: `scripts/setup` installs them.

#[path = "../build/elf.rs"]
#[allow(dead_code, reason = "only the NEEDED reader is used here")]
mod elf;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

/// All builds share one target folder (so dependencies compile once) and one consumer binary:
/// one build-and-run at a time.
static CARGO: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    CARGO
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture_src() -> PathBuf {
    manifest_dir().join("tests/fixture-td")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("discovery")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The folder of the real libtdjson this test binary is linked to (the default build).
fn prebuilt_dir() -> PathBuf {
    let Some(linked) = option_env!("TDLIB_SYS_TEST_LINKED_LIB") else {
        panic!(
            "these tests need tdlib-sys itself linked dynamically to the real TDLib (run scripts/setup)"
        );
    };
    Path::new(linked).parent().unwrap().to_path_buf()
}

/// An empty cache folder, so the setup cache of the machine never answers for another path.
fn empty_cache() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("discovery/empty-cache");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One Cargo invocation on the consumer with exactly the given TDLib-related environment.
struct Build {
    features: Vec<&'static str>,
    env: Vec<(&'static str, OsString)>,
}

impl Build {
    fn new(features: &[&'static str]) -> Build {
        Build {
            features: features.to_vec(),
            env: vec![("TDLIB_CACHE_DIR", empty_cache().into())],
        }
    }

    fn env(mut self, name: &'static str, value: impl Into<OsString>) -> Build {
        self.env.retain(|(existing, _)| *existing != name);
        self.env.push((name, value.into()));
        self
    }

    fn cargo(&self, subcommand: &str) -> Output {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .arg(subcommand)
            .arg("--quiet")
            .args(["--package", "tdlib-sys-consumer"])
            .arg("--target-dir")
            .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("discovery-target"))
            .current_dir(manifest_dir());
        if !self.features.is_empty() {
            let features: Vec<String> = self
                .features
                .iter()
                .map(|feature| format!("tdlib-sys/{feature}"))
                .collect();
            command.arg("--features").arg(features.join(","));
        }
        // Only what the test sets may steer discovery.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("TDLIB_")
                || name.starts_with("PKG_CONFIG")
                || name.starts_with("DEP_TDJSON")
                || name.starts_with("OPENSSL_")
                || name.starts_with("ZLIB_")
            {
                command.env_remove(&*name);
            }
        }
        command
            .env_remove("LD_LIBRARY_PATH")
            .env_remove("CXXSTDLIB");
        for (name, value) in &self.env {
            command.env(name, value);
        }
        let started = Instant::now();
        let output = command.output().expect("cargo runs");
        eprintln!(
            "cargo {subcommand} {:?}: {:.1} s",
            self.features,
            started.elapsed().as_secs_f64()
        );
        output
    }

    /// Builds and runs the consumer; returns its `key=value` lines.
    fn run(&self) -> BTreeMap<String, String> {
        let output = self.cargo("run");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "cargo run failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        );
        stdout
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect()
    }

    /// Builds, expecting failure; returns the build script's message.
    fn fail(&self) -> String {
        let output = self.cargo("build");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!output.status.success(), "the build should fail\n{stderr}");
        assert!(
            !stderr.contains("undefined reference") && !stderr.contains("cannot find -l"),
            "a bare linker error:\n{stderr}"
        );
        stderr
    }
}

fn consumer_binary() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("discovery-target/debug/tdlib-sys-consumer")
}

/// The `NEEDED` entries of the consumer binary's dynamic section (`readelf -d ... | grep NEEDED`).
fn needed_libraries() -> Vec<String> {
    let bytes = std::fs::read(consumer_binary()).expect("the consumer was built");
    elf::needed(&bytes).expect("the consumer is an ELF program")
}

/// Whether the program needs a shared library `name` (`libssl` matches `libssl.so.3`).
fn needs(needed: &[String], name: &str) -> bool {
    needed
        .iter()
        .any(|lib| lib.starts_with(&format!("{name}.so")))
}

/// The fixture's `getFixtureDigest` answers, computed by OpenSSL, zlib and the C++ runtime in
/// the program (see tests/fixture-td/README.md).
fn assert_fixture_digest(lines: &BTreeMap<String, String>) {
    // SHA-256 and CRC-32 of "abc".
    assert_eq!(
        lines["digest"],
        r#"{"@type":"fixtureDigest","sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","crc32":891568578,"deflated_size":11}"#
    );
    assert_eq!(
        lines["digest_error"],
        r#"{"@type":"error","code":400,"message":"Can't find field \"text\""}"#,
        "a C++ exception thrown and caught inside the library"
    );
}

/// glibc's `(major, minor)` version, from the C library this test runs with.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn glibc_version() -> (u32, u32) {
    unsafe extern "C" {
        fn gnu_get_libc_version() -> *const std::ffi::c_char;
    }
    // SAFETY: glibc returns a static NUL-terminated string such as "2.36".
    let version = unsafe { std::ffi::CStr::from_ptr(gnu_get_libc_version()) }
        .to_string_lossy()
        .into_owned();
    let mut numbers = version.split('.').map(|part| part.parse().unwrap_or(0));
    (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0))
}

/// Whether a `NEEDED` entry is part of the C library (glibc), which `static-deps` leaves
/// dynamic; libgcc_s too, which Rust's standard library unwinds with. Before glibc 2.34,
/// threads, `dlopen` and clocks lived in libraries of their own.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn is_part_of_the_c_library(lib: &str) -> bool {
    let always = ["libc.so.6", "libm.so.6", "libgcc_s.so.1"];
    let before_2_34 = ["libpthread.so.0", "libdl.so.2", "librt.so.1"];
    always.contains(&lib)
        || (lib.starts_with("ld-linux") && lib.contains(".so."))
        || (glibc_version() < (2, 34) && before_2_34.contains(&lib))
}

/// What `static-deps` promises: the consumer needs no shared library but the C library's.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn assert_needs_only_the_c_library() {
    let needed = needed_libraries();
    eprintln!("NEEDED with static-deps: {needed:?}");
    let others: Vec<&String> = needed
        .iter()
        .filter(|lib| !is_part_of_the_c_library(lib))
        .collect();
    assert!(
        others.is_empty(),
        "only the C library may stay dynamic; also needed: {others:?} (all: {needed:?})"
    );
}

fn assert_real_tdlib(lines: &BTreeMap<String, String>) {
    assert_eq!(
        lines["version"],
        r#"{"@type":"optionValueString","value":"1.8.65"}"#
    );
    assert_eq!(
        lines["commit_hash"], r#"{"@type":"optionValueString","value":"GITDIR-NOTFOUND"}"#,
        "the official prebuilt"
    );
    assert_eq!(lines["dep_version"], "1.8.65");
    assert_eq!(
        lines["dep_commit"],
        "062f26052623dbecedb42075cab78a759e9f9987"
    );
    assert_eq!(lines["dep_link"], "dynamic");
    assert_eq!(lines["linked_statically"], "false");
    assert!(
        needed_libraries().contains(&"libtdjson.so.1.8.65".to_owned()),
        "{:?}",
        needed_libraries()
    );
}

fn assert_fixture(lines: &BTreeMap<String, String>) {
    assert_eq!(
        lines["version"],
        r#"{"@type":"optionValueString","value":"1.8.65"}"#
    );
    assert_eq!(
        lines["commit_hash"],
        r#"{"@type":"optionValueString","value":"fixture"}"#
    );
}

fn assert_static(lines: &BTreeMap<String, String>) {
    assert_eq!(lines["dep_link"], "static");
    assert_eq!(lines["linked_statically"], "true");
    let needed = needed_libraries();
    assert!(
        !needed.iter().any(|lib| lib.contains("tdjson")),
        "no dynamic dependency on libtdjson: {needed:?}"
    );
}

/// The fixture built and installed with CMake into a prefix, like a user's own TDLib install.
fn installed_fixture() -> PathBuf {
    static INSTALLED: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut installed = INSTALLED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(prefix) = &*installed {
        return prefix.clone();
    }
    let build = scratch("fixture-build");
    let prefix = scratch("fixture-prefix");
    let cmake = |args: &[&std::ffi::OsStr]| {
        let output = Command::new("cmake")
            .args(args)
            .output()
            .expect("cmake runs (scripts/setup installs it)");
        assert!(
            output.status.success(),
            "cmake {args:?}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    cmake(&[
        "-S".as_ref(),
        fixture_src().as_os_str(),
        "-B".as_ref(),
        build.as_os_str(),
        "-DCMAKE_BUILD_TYPE=Release".as_ref(),
    ]);
    cmake(&["--build".as_ref(), build.as_os_str(), "-j2".as_ref()]);
    cmake(&[
        "--install".as_ref(),
        build.as_os_str(),
        "--prefix".as_ref(),
        prefix.as_os_str(),
    ]);
    *installed = Some(prefix.clone());
    prefix
}

/// A pkg-config file for the prebuilt, which ships none.
fn prebuilt_pc(version: &str) -> PathBuf {
    let dir = scratch(&format!("pkgconfig-{version}"));
    let pc = format!(
        "libdir={}\nName: tdjson\nDescription: TDLib JSON interface\nVersion: {version}\nLibs: -L${{libdir}} -ltdjson\nCflags:\n",
        prebuilt_dir().display()
    );
    std::fs::write(dir.join("tdjson.pc"), pc).unwrap();
    dir
}

#[test]
fn prebuilt_through_tdlib_dir() {
    let _serial = serial();
    let lines = Build::new(&[]).env("TDLIB_DIR", prebuilt_dir()).run();
    assert_real_tdlib(&lines);
    assert_eq!(lines["dep_source"], "dir");
    assert_eq!(
        Path::new(&lines["dep_lib_dir"]),
        std::fs::canonicalize(prebuilt_dir()).unwrap()
    );
}

#[test]
fn prebuilt_through_tdlib_lib_dir_wins_over_tdlib_dir() {
    let _serial = serial();
    let lines = Build::new(&[])
        .env("TDLIB_LIB_DIR", prebuilt_dir())
        .env("TDLIB_DIR", scratch("ignored-prefix"))
        .run();
    assert_real_tdlib(&lines);
    assert_eq!(lines["dep_source"], "lib-dir");
}

#[test]
fn prebuilt_through_the_setup_cache() {
    let _serial = serial();
    // A cache laid out the way scripts/setup and `download` lay it out, holding a link to the
    // prebuilt.
    let cache = scratch("setup-cache");
    let lib = cache.join("tdlib-1.8.65/linux-x86_64-gnu/lib");
    std::fs::create_dir_all(&lib).unwrap();
    std::os::unix::fs::symlink(
        prebuilt_dir().join("libtdjson.so"),
        lib.join("libtdjson.so"),
    )
    .unwrap();
    let schema_dir = cache.join("tdlib-1.8.65/share/tdlib");
    std::fs::create_dir_all(&schema_dir).unwrap();
    let schema = std::env::var_os("TDLIB_SCHEMA").map(PathBuf::from);
    if let Some(schema) = &schema {
        std::fs::copy(schema, schema_dir.join("td_api.tl")).unwrap();
    }
    let lines = Build::new(&[]).env("TDLIB_CACHE_DIR", &cache).run();
    assert_real_tdlib(&lines);
    assert_eq!(lines["dep_source"], "cache");
    if schema.is_some() {
        assert_eq!(
            Path::new(&lines["dep_schema"]),
            schema_dir.join("td_api.tl"),
            "the cache carries the schema"
        );
    }
}

/// A cache holding the prebuilt (a link to it) and no schema.
fn cache_without_schema(name: &str) -> PathBuf {
    let cache = scratch(name);
    let lib = cache.join("tdlib-1.8.65/linux-x86_64-gnu/lib");
    std::fs::create_dir_all(&lib).unwrap();
    std::os::unix::fs::symlink(
        prebuilt_dir().join("libtdjson.so"),
        lib.join("libtdjson.so"),
    )
    .unwrap();
    cache
}

/// A `PATH` whose `curl` is `script` (a shell script body), then the real `PATH`.
fn path_with_curl(dir: &Path, script: &str) -> OsString {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let curl = bin.join("curl");
    std::fs::write(&curl, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&curl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut paths = vec![bin];
    paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap()));
    std::env::join_paths(paths).unwrap()
}

#[test]
fn download_fetches_the_pinned_schema_and_checks_it() {
    let _serial = serial();
    let Some(real_schema) = std::env::var_os("TDLIB_SCHEMA").map(PathBuf::from) else {
        panic!("this test needs TDLIB_SCHEMA (the pinned td_api.tl) to stand in for the download");
    };
    // A stand-in curl that serves `$1` of its script for the URL, as curl --output does.
    let serving = |file: &Path| {
        format!(
            "out=''; while [ $# -gt 0 ]; do [ \"$1\" = --output ] && out=$2; shift; done\n\
             echo \"$out\" >> \"$(dirname \"$0\")/calls\"\ncp {:?} \"$out\"",
            file.display().to_string()
        )
    };

    let cache = cache_without_schema("schema-fetched");
    let path = path_with_curl(&cache, &serving(&real_schema));
    let lines = Build::new(&["download"])
        .env("TDLIB_CACHE_DIR", &cache)
        .env("PATH", path)
        .run();
    assert_real_tdlib(&lines);
    let cached = cache.join("tdlib-1.8.65/share/tdlib/td_api.tl");
    assert_eq!(Path::new(&lines["dep_schema"]), cached);
    assert_eq!(
        std::fs::read(&cached).unwrap(),
        std::fs::read(&real_schema).unwrap()
    );
    assert_eq!(lines["dep_schema_missing"], "");

    // A file that is not the pinned schema is not used, and dependents learn why.
    let cache = cache_without_schema("schema-tampered");
    let wrong = cache.join("wrong.tl");
    std::fs::write(&wrong, "user id:int53 = User;\n").unwrap();
    let path = path_with_curl(&cache, &serving(&wrong));
    let lines = Build::new(&["download"])
        .env("TDLIB_CACHE_DIR", &cache)
        .env("PATH", path)
        .run();
    assert_eq!(lines["dep_schema"], "");
    assert!(
        lines["dep_schema_missing"].contains("not the pinned 4933ca4d"),
        "{lines:?}"
    );
    assert!(!cache.join("tdlib-1.8.65/share/tdlib/td_api.tl").exists());

    // Offline: the reason, and what to do.
    let cache = cache_without_schema("schema-offline");
    let path = path_with_curl(
        &cache,
        "echo 'curl: (6) Could not resolve host: raw.githubusercontent.com' >&2; exit 6",
    );
    let lines = Build::new(&["download"])
        .env("TDLIB_CACHE_DIR", &cache)
        .env("PATH", path)
        .run();
    let missing = &lines["dep_schema_missing"];
    assert!(missing.contains("curl failed"), "{missing}");
    assert!(missing.contains("Could not resolve host"), "{missing}");
    assert!(
        missing.contains("Offline, set TDLIB_SCHEMA to td/generate/scheme/td_api.tl"),
        "{missing}"
    );

    // Without the feature nothing is fetched, and the reason names the feature.
    let cache = cache_without_schema("schema-no-feature");
    let path = path_with_curl(&cache, &serving(&real_schema));
    let lines = Build::new(&[])
        .env("TDLIB_CACHE_DIR", &cache)
        .env("PATH", path)
        .run();
    assert_eq!(lines["dep_schema"], "");
    assert!(
        lines["dep_schema_missing"].contains("enable the feature `download`"),
        "{lines:?}"
    );
    assert!(
        !cache.join("fake-bin/calls").exists(),
        "curl was not called"
    );
}

#[test]
fn the_pinned_schema_is_not_given_to_a_library_of_another_release() {
    let _serial = serial();
    let Some(real_schema) = std::env::var_os("TDLIB_SCHEMA").map(PathBuf::from) else {
        panic!("this test needs TDLIB_SCHEMA (the pinned td_api.tl)");
    };
    // The cache holds the pinned schema; the library pkg-config names says it is 1.8.0.
    let cache = cache_without_schema("schema-other-release");
    let schema_dir = cache.join("tdlib-1.8.65/share/tdlib");
    std::fs::create_dir_all(&schema_dir).unwrap();
    std::fs::copy(&real_schema, schema_dir.join("td_api.tl")).unwrap();
    let lines = Build::new(&["pkg-config"])
        .env("TDLIB_CACHE_DIR", &cache)
        .env("PKG_CONFIG_PATH", prebuilt_pc("1.8.0"))
        .env("TDLIB_ALLOW_VERSION_MISMATCH", "1")
        .run();
    assert_eq!(lines["dep_schema"], "", "{lines:?}");
    assert!(
        lines["dep_schema_missing"]
            .contains("the linked TDLib is version 1.8.0, not the pinned 1.8.65"),
        "{lines:?}"
    );
}

#[test]
fn download_never_replaces_a_static_build_and_says_why() {
    let _serial = serial();
    let message = Build::new(&["download", "static"]).fail();
    assert!(
        message.contains(
            "6. download: feature `static` is on, and the prebuilts are shared libraries only"
        ),
        "{message}"
    );
}

#[test]
fn prebuilt_through_pkg_config() {
    let _serial = serial();
    let lines = Build::new(&["pkg-config"])
        .env("PKG_CONFIG_PATH", prebuilt_pc("1.8.65"))
        .run();
    assert_real_tdlib(&lines);
    assert_eq!(lines["dep_source"], "pkg-config");
}

#[test]
fn pkg_config_of_another_version_is_refused() {
    let _serial = serial();
    let message = Build::new(&["pkg-config"])
        .env("PKG_CONFIG_PATH", prebuilt_pc("1.8.0"))
        .fail();
    assert!(
        message.contains("is version 1.8.0, but this tdlib-sys is pinned to TDLib 1.8.65"),
        "{message}"
    );
    assert!(
        message.contains("TDLIB_ALLOW_VERSION_MISMATCH"),
        "{message}"
    );
}

#[test]
fn nothing_found_explains_everything() {
    let _serial = serial();
    let message = Build::new(&[]).fail();
    assert!(
        message.contains("could not find libtdjson of TDLib 1.8.65"),
        "{message}"
    );
    for name in [
        "TDLIB_LIB_DIR",
        "TDLIB_DIR",
        "TDLIB_SRC_DIR",
        "TDLIB_SCHEMA",
        "PKG_CONFIG_PATH",
        "TDLIB_CMAKE_ARGS",
    ] {
        assert!(
            message.contains(&format!("{name} (unset)")),
            "{name} listed as unset:\n{message}"
        );
    }
    let cache = empty_cache();
    assert!(
        message.contains(&format!(
            "TDLIB_CACHE_DIR={:?}",
            cache.display().to_string()
        )),
        "with its value:\n{message}"
    );
    assert!(message.contains("scripts/setup"), "{message}");
    assert!(
        message.contains(
            "Features: download=off, static=off, static-deps=off, pkg-config=off, bundled=off"
        ),
        "{message}"
    );
    assert!(message.contains("apt-get install cmake"), "{message}");
    assert!(message.contains("5. cache: no libtdjson in"), "{message}");
    assert!(
        message.contains("6. download: feature `download` is off"),
        "{message}"
    );
    // For users of the published crates the feature is the first fix.
    let fixes = &message[message.find("How to fix it").unwrap()..];
    assert!(
        fixes.find("enable the feature `download`").unwrap() < fixes.find("scripts/setup").unwrap(),
        "{fixes}"
    );
    assert!(
        fixes.contains(r#"tdlib-sys = { version = "0.1", features = ["download"] }"#)
            && fixes.contains("the feature `download` of `tdlib`"),
        "{fixes}"
    );
}

#[test]
fn a_variable_pointing_at_the_wrong_folder_is_an_error() {
    let _serial = serial();
    let empty = scratch("no-library-here");
    let message = Build::new(&[]).env("TDLIB_DIR", &empty).fail();
    assert!(
        message.contains(&format!(
            "TDLIB_DIR is {}, but there is no libtdjson.so there",
            empty.display()
        )),
        "{message}"
    );
    // Static never falls back to the shared library the folder does have.
    let message = Build::new(&["static"])
        .env("TDLIB_DIR", prebuilt_dir())
        .fail();
    assert!(
        message
            .contains("feature `static` needs TDLib's static libraries there and all are missing"),
        "{message}"
    );
    assert!(message.contains("holds libtdjson.so"), "{message}");
}

#[test]
fn a_missing_or_foreign_schema_is_refused() {
    let _serial = serial();
    let message = Build::new(&[])
        .env("TDLIB_DIR", prebuilt_dir())
        .env("TDLIB_SCHEMA", "/nonexistent/td_api.tl")
        .fail();
    assert!(
        message.contains("TDLIB_SCHEMA is /nonexistent/td_api.tl, but that file does not exist"),
        "{message}"
    );
    let message = Build::new(&[])
        .env("TDLIB_DIR", prebuilt_dir())
        .env(
            "TDLIB_SCHEMA",
            fixture_src().join("td/generate/scheme/td_api.tl"),
        )
        .fail();
    assert!(
        message.contains("is not td_api.tl of TDLib 1.8.65"),
        "{message}"
    );
}

#[test]
fn bundled_builds_the_shared_library_from_source() {
    let _serial = serial();
    // The fixture's schema is not TDLib's, so the build is told to accept it.
    let lines = Build::new(&["bundled"])
        .env("TDLIB_SRC_DIR", fixture_src())
        .env("TDLIB_ALLOW_VERSION_MISMATCH", "1")
        .run();
    assert_fixture(&lines);
    assert_eq!(lines["dep_source"], "bundled");
    assert_eq!(lines["dep_link"], "dynamic");
    assert!(needed_libraries().contains(&"libtdjson.so.1.8.65".to_owned()));
    assert_eq!(
        Path::new(&lines["dep_schema"]),
        fixture_src().join("td/generate/scheme/td_api.tl")
    );
    assert!(
        lines["dep_include"].contains("fixture-td"),
        "{}",
        lines["dep_include"]
    );
}

#[test]
fn bundled_refuses_a_foreign_schema_unless_allowed() {
    let _serial = serial();
    let message = Build::new(&["bundled"])
        .env("TDLIB_SRC_DIR", fixture_src())
        .fail();
    assert!(
        message.contains("is not td_api.tl of TDLib 1.8.65"),
        "{message}"
    );
}

#[test]
fn bundled_without_a_source_tree_says_so() {
    let _serial = serial();
    let message = Build::new(&["bundled"]).fail();
    assert!(
        message.contains("feature `bundled` is on, but there is no TDLib source to build"),
        "{message}"
    );
    let not_td = scratch("not-a-td-checkout");
    std::fs::write(
        not_td.join("CMakeLists.txt"),
        "project(Other VERSION 1.0)\n",
    )
    .unwrap();
    let message = Build::new(&["bundled"])
        .env("TDLIB_SRC_DIR", &not_td)
        .fail();
    assert!(
        message.contains("declares no `project(TDLib VERSION x.y.z)`"),
        "{message}"
    );
}

#[test]
fn bundled_static_links_no_libtdjson() {
    let _serial = serial();
    let lines = Build::new(&["bundled", "static"])
        .env("TDLIB_SRC_DIR", fixture_src())
        .env("TDLIB_ALLOW_VERSION_MISMATCH", "1")
        .run();
    assert_fixture(&lines);
    assert_static(&lines);
    assert_fixture_digest(&lines);
    assert_eq!(lines["dep_source"], "bundled");
    // Without `static-deps` TDLib's dependencies stay shared libraries; the linker keeps only
    // those the code really calls, so this also shows the fixture needs each of them.
    let needed = needed_libraries();
    for lib in ["libssl", "libcrypto", "libz", "libstdc++"] {
        assert!(needs(&needed, lib), "{lib} in {needed:?}");
    }
}

#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn bundled_static_deps_needs_only_the_c_library() {
    let _serial = serial();
    let lines = Build::new(&["bundled", "static-deps"])
        .env("TDLIB_SRC_DIR", fixture_src())
        .env("TDLIB_ALLOW_VERSION_MISMATCH", "1")
        .run();
    assert_fixture(&lines);
    assert_static(&lines);
    assert_fixture_digest(&lines);
    assert_eq!(lines["dep_source"], "bundled");
    assert_needs_only_the_c_library();
}

#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn installed_static_deps_through_pkg_config() {
    let prefix = installed_fixture();
    let _serial = serial();
    // pkg-config names OpenSSL, zlib and the C++ runtime (`-lssl ... -lstdc++`): `static-deps`
    // links each of them from its archive instead.
    let lines = Build::new(&["pkg-config", "static-deps"])
        .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"))
        .run();
    assert_fixture(&lines);
    assert_static(&lines);
    assert_fixture_digest(&lines);
    assert_eq!(lines["dep_source"], "pkg-config");
    assert_needs_only_the_c_library();
}

#[test]
fn static_deps_names_a_missing_archive_and_where_it_looked() {
    let prefix = installed_fixture();
    let _serial = serial();
    // A folder named by a variable is the only place looked in, so an empty one stands for a
    // system without OpenSSL's static libraries.
    let empty = scratch("openssl-without-archives");
    let message = Build::new(&["static-deps"])
        .env("TDLIB_DIR", &prefix)
        .env("OPENSSL_LIB_DIR", &empty)
        .fail();
    for expected in [
        "could not find the static archives libssl.a, libcrypto.a, which the feature `static-deps` links into the program".to_owned(),
        "libssl.a (OpenSSL) was looked for in:".to_owned(),
        format!(
            "- {} (from OPENSSL_LIB_DIR, the only place looked in while set): no libssl.a there",
            empty.display()
        ),
        "Debian, Ubuntu: libssl-dev".to_owned(),
        "Alpine: openssl-libs-static".to_owned(),
        "set OPENSSL_LIB_DIR=<folder holding libssl.a and libcrypto.a>".to_owned(),
        "$TARGET = ".to_owned(),
    ] {
        assert!(message.contains(&expected), "{expected:?} in:\n{message}");
    }
    // zlib and the C++ runtime were found where the distribution puts them.
    assert!(!message.contains("libz.a ("), "{message}");
    assert!(!message.contains("libstdc++.a ("), "{message}");
}

#[test]
fn static_system_libs_variable_finds_the_distributions_archives() {
    let prefix = installed_fixture();
    let _serial = serial();
    // The recipe the README used to give: `static=` entries without any `native=` folder.
    let lines = Build::new(&["static"])
        .env("TDLIB_DIR", &prefix)
        .env(
            "TDLIB_STATIC_SYSTEM_LIBS",
            "static=ssl static=crypto static=z dl pthread",
        )
        .run();
    assert_fixture(&lines);
    assert_static(&lines);
    assert_fixture_digest(&lines);
    let needed = needed_libraries();
    for lib in ["libssl", "libcrypto", "libz"] {
        assert!(!needs(&needed, lib), "{lib} in {needed:?}");
    }
    // The variable replaces only the list before the C++ runtime, which `static` links dynamically.
    assert!(needs(&needed, "libstdc++"), "{needed:?}");
}

#[test]
fn installed_static_libraries_through_tdlib_dir() {
    let prefix = installed_fixture();
    let _serial = serial();
    let lines = Build::new(&["static"]).env("TDLIB_DIR", &prefix).run();
    assert_fixture(&lines);
    assert_static(&lines);
    assert_eq!(lines["dep_source"], "dir");
    // The same prefix links dynamically without the feature.
    let lines = Build::new(&[]).env("TDLIB_DIR", &prefix).run();
    assert_fixture(&lines);
    assert_eq!(lines["dep_link"], "dynamic");
    assert!(
        lines["dep_include"].ends_with("include"),
        "{}",
        lines["dep_include"]
    );
}

#[test]
fn installed_static_libraries_through_pkg_config() {
    let prefix = installed_fixture();
    let _serial = serial();
    let lines = Build::new(&["pkg-config", "static"])
        .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"))
        .run();
    assert_fixture(&lines);
    assert_static(&lines);
    assert_eq!(lines["dep_source"], "pkg-config");
}

#[test]
fn committed_bindings_are_what_bindgen_makes_of_the_headers() {
    let _serial = serial();
    let out = scratch("bindgen").join("bindings.rs");
    let lines = Build::new(&["bundled", "bindgen"])
        .env("TDLIB_SRC_DIR", fixture_src())
        .env("TDLIB_ALLOW_VERSION_MISMATCH", "1")
        .env("TDLIB_SYS_BINDINGS_OUT", &out)
        .run();
    assert_fixture(&lines);
    let generated = std::fs::read_to_string(&out).unwrap();
    let committed = std::fs::read_to_string(manifest_dir().join("src/bindings.rs")).unwrap();
    assert!(generated.contains("pub fn td_receive"), "{generated}");
    assert_eq!(
        committed, generated,
        "src/bindings.rs is stale: run scripts/regenerate-bindings"
    );
}
