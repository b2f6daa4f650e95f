//! Finding the real `td_api.tl` for the tests that need it.

use std::env;
use std::path::PathBuf;

/// The TDLib release whose schema the tests' counts describe (see `tdlib-sys/tdlib.pin`).
pub const TDLIB_VERSION: &str = "1.8.65";

/// Reads the real schema: `$TDLIB_SCHEMA`, or where `scripts/setup` installs it. Panics (so the
/// test fails rather than passing without having checked anything) if it is not there.
pub fn real_schema() -> String {
    let path = schema_path();
    match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) => panic!(
            "cannot read the TDLib {TDLIB_VERSION} schema at {}: {err}\n\
             run scripts/setup to install TDLib into the cache, or set TDLIB_SCHEMA to the path \
             of td_api.tl",
            path.display()
        ),
    }
}

/// Same rules as `scripts/setup`: an empty variable counts as unset.
fn schema_path() -> PathBuf {
    let var = |name: &str| env::var_os(name).filter(|value| !value.is_empty());
    if let Some(path) = var("TDLIB_SCHEMA") {
        return PathBuf::from(path);
    }
    let cache_root = var("TDLIB_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| var("XDG_CACHE_HOME").map(|dir| PathBuf::from(dir).join("tdlib-sys")))
        .or_else(|| var("HOME").map(|dir| PathBuf::from(dir).join(".cache/tdlib-sys")))
        .unwrap_or_else(|| {
            panic!(
                "neither TDLIB_SCHEMA, TDLIB_CACHE_DIR, XDG_CACHE_HOME nor HOME is set: \
                 run scripts/setup, or set TDLIB_SCHEMA to the path of td_api.tl"
            )
        });
    cache_root
        .join(format!("tdlib-{TDLIB_VERSION}"))
        .join("share/tdlib/td_api.tl")
}
