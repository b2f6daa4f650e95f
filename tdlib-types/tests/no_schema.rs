//! Without a schema for the linked TDLib, building the typed API stops with a message that says
//! what to do (it is generated from that schema, so there is nothing sensible to fall back to).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The libtdjson this test program has loaded (the one the workspace links).
fn loaded_libtdjson() -> PathBuf {
    // Make sure the library is really loaded, then find it among the process's mappings.
    let request = c"{\"@type\":\"getOption\",\"name\":\"version\"}";
    // SAFETY: a valid request; the answer is not used.
    unsafe { tdlib_sys::td_execute(request.as_ptr()) };
    let maps = std::fs::read_to_string("/proc/self/maps").expect("Linux /proc");
    let path = maps
        .lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .find(|path| path.contains("libtdjson"))
        .expect("libtdjson is loaded");
    std::fs::canonicalize(path).unwrap()
}

#[test]
fn a_missing_schema_is_explained() {
    let lib_dir = loaded_libtdjson().parent().unwrap().to_path_buf();
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-schema-target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args([
            "build",
            "--quiet",
            "--package",
            "tdlib-types",
            "--target-dir",
        ])
        .arg(&target)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TDLIB_") {
            command.env_remove(name);
        }
    }
    // A folder with the library and no schema next to it, and an empty cache (the machine's
    // cache may hold the pinned schema, which would be found).
    let empty_cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-schema-cache");
    std::fs::create_dir_all(&empty_cache).unwrap();
    let output = command
        .env("TDLIB_LIB_DIR", &lib_dir)
        .env("TDLIB_CACHE_DIR", &empty_cache)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "tdlib-types: the typed API is generated from the td_api.tl of the linked TDLib 1.8.65, and there is none"
        ),
        "{stderr}"
    );
    // tdlib-sys's reason, then the ways out.
    assert!(
        stderr.contains("TDLIB_SCHEMA is not set and the cache has no"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Set TDLIB_SCHEMA") && stderr.contains("the feature `download`"),
        "{stderr}"
    );
}
