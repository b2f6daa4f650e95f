//! Finds the `td_api.tl` of the pinned TDLib release, checks that it parses, and copies it into
//! `OUT_DIR` for `include_str!`: the fake validates requests and completes objects against the
//! same schema as the real library. Also passes the pinned version and commit to the crate and
//! gives the library the real library's SONAME.

use std::path::{Path, PathBuf};

fn main() {
    if let Err(message) = run() {
        eprintln!("{message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    println!("cargo::rerun-if-changed=build.rs");
    let manifest_dir = PathBuf::from(
        env("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set: run by Cargo")?,
    );
    let pin_path = manifest_dir.join("../tdlib-sys/tdlib.pin");
    println!("cargo::rerun-if-changed={}", pin_path.display());
    let pin = std::fs::read_to_string(&pin_path)
        .map_err(|error| format!("tdlib-fake: cannot read {}: {error}", pin_path.display()))?;
    let version = pin_value(&pin, "version")
        .ok_or_else(|| format!("tdlib-fake: {} has no `version=` line", pin_path.display()))?;
    let commit = pin_value(&pin, "commit")
        .ok_or_else(|| format!("tdlib-fake: {} has no `commit=` line", pin_path.display()))?;

    let schema = find_schema(version)?;
    println!("cargo::rerun-if-changed={}", schema.display());
    let text = std::fs::read_to_string(&schema)
        .map_err(|error| format!("tdlib-fake: cannot read {}: {error}", schema.display()))?;
    let parsed = tdlib_tl::parse(&text)
        .map_err(|error| format!("tdlib-fake: {}: {error}", schema.display()))?;
    tdlib_tl::validate(&parsed)
        .map_err(|error| format!("tdlib-fake: {}: {error}", schema.display()))?;
    let out_dir = PathBuf::from(env("OUT_DIR").ok_or("OUT_DIR is not set: run by Cargo")?);
    std::fs::write(out_dir.join("td_api.tl"), &text).map_err(|error| {
        format!(
            "tdlib-fake: cannot write into {}: {error}",
            out_dir.display()
        )
    })?;

    println!("cargo::rustc-env=TDLIB_FAKE_VERSION={version}");
    println!("cargo::rustc-env=TDLIB_FAKE_COMMIT={commit}");
    // The real library's SONAME, so that the fake can stand in for it (ELF targets only).
    let os = env("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if !matches!(os.as_str(), "macos" | "ios" | "windows") {
        println!("cargo::rustc-cdylib-link-arg=-Wl,-soname,libtdjson.so.{version}");
    }
    Ok(())
}

/// A variable of the build environment, registered so that Cargo reruns this script when it
/// changes. Empty values count as unset.
fn env(name: &str) -> Option<String> {
    println!("cargo::rerun-if-env-changed={name}");
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// The value of a `key=value` line of `tdlib.pin`.
fn pin_value<'a>(pin: &'a str, key: &str) -> Option<&'a str> {
    pin.lines()
        .filter_map(|line| line.trim().split_once('='))
        .find(|(name, _)| name.trim() == key)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// `TDLIB_SCHEMA`, else the copy that `scripts/setup` caches next to the prebuilt library:
/// `${TDLIB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tdlib-sys}/tdlib-<version>/share/tdlib/td_api.tl`.
fn find_schema(version: &str) -> Result<PathBuf, String> {
    if let Some(path) = env("TDLIB_SCHEMA").map(PathBuf::from) {
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "\ntdlib-fake: TDLIB_SCHEMA is {}, which is not a file.\nPoint it at td/generate/scheme/td_api.tl of TDLib {version}.\n",
                path.display()
            ))
        };
    }
    let cache = env("TDLIB_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| env("XDG_CACHE_HOME").map(|dir| Path::new(&dir).join("tdlib-sys")))
        .or_else(|| env("HOME").map(|dir| Path::new(&dir).join(".cache/tdlib-sys")));
    let candidate = cache.map(|dir| dir.join(format!("tdlib-{version}/share/tdlib/td_api.tl")));
    match candidate {
        Some(path) if path.is_file() => Ok(path),
        other => Err(format!(
            "\ntdlib-fake: the fake TDLib needs td_api.tl of TDLib {version} and did not find it{}.\n\
             Run `scripts/setup` (it caches the schema next to the prebuilt library), or set TDLIB_SCHEMA \
             to td/generate/scheme/td_api.tl of TDLib {version}.\n",
            other
                .map(|path| format!(" at {}", path.display()))
                .unwrap_or_default()
        )),
    }
}
