//! Environment variables: every read is declared to Cargo (`rerun-if-env-changed`) and recorded,
//! so a failure message can list each variable the build looked at, with its value.

use std::cell::RefCell;
use std::path::PathBuf;

/// The environment variables this build script reads, with what each one does. The README's
/// table is written from this list.
pub const DOCUMENTED_VARS: &[(&str, &str)] = &[
    (
        "TDLIB_LIB_DIR",
        "folder holding libtdjson (or the static libraries with `static`)",
    ),
    (
        "TDLIB_INCLUDE_DIR",
        "folder holding td/telegram/td_json_client.h (for `bindgen`)",
    ),
    (
        "TDLIB_DIR",
        "install prefix (lib/, include/, share/tdlib/td_api.tl) or a folder holding libtdjson",
    ),
    (
        "PKG_CONFIG_PATH",
        "where pkg-config looks for tdjson.pc (feature `pkg-config`)",
    ),
    (
        "TDLIB_SRC_DIR",
        "TDLib source checkout to build (feature `bundled`)",
    ),
    (
        "TDLIB_CMAKE_ARGS",
        "extra CMake arguments for `bundled`, split at whitespace",
    ),
    (
        "TDLIB_CMAKE_BUILD_TYPE",
        "CMake build type for `bundled` (default Release)",
    ),
    (
        "TDLIB_CACHE_DIR",
        "cache filled by `download` and scripts/setup (default $XDG_CACHE_HOME/tdlib-sys or ~/.cache/tdlib-sys)",
    ),
    (
        "TDLIB_NPM",
        "the npm program the feature `download` runs (default `npm` from PATH)",
    ),
    (
        "TDLIB_SCHEMA",
        "td_api.tl matching the library (exported to dependents)",
    ),
    (
        "TDLIB_ALLOW_VERSION_MISMATCH",
        "set to 1 to accept a library or schema of another TDLib release",
    ),
    (
        "OPENSSL_ROOT_DIR",
        "OpenSSL prefix for CMake's FindOpenSSL (`bundled`) and for `static-deps`",
    ),
    (
        "ZLIB_ROOT",
        "zlib prefix for CMake's FindZLIB (`bundled`) and for `static-deps`",
    ),
    (
        "OPENSSL_LIB_DIR",
        "with `static-deps`: folder holding libssl.a and libcrypto.a",
    ),
    (
        "OPENSSL_DIR",
        "with `static-deps`: OpenSSL prefix whose lib/ or lib64/ holds libssl.a",
    ),
    ("ZLIB_LIB_DIR", "with `static-deps`: folder holding libz.a"),
    (
        "TDLIB_STATIC_SYSTEM_LIBS",
        "with `static`: replaces the OpenSSL/zlib/OS libraries linked after TDLib",
    ),
    (
        "CXXSTDLIB",
        "with `static`: the C++ runtime to link (default stdc++ / c++), empty for none",
    ),
];

/// Reads environment variables, declaring and remembering each read.
#[derive(Debug, Default)]
pub struct Env {
    read: RefCell<Vec<(String, Option<String>)>>,
}

impl Env {
    /// The value of `name`, `None` when unset. An empty value counts as unset, so `TDLIB_DIR=`
    /// switches a variable off the way users expect.
    pub fn get(&self, name: &str) -> Option<String> {
        println!("cargo::rerun-if-env-changed={name}");
        let value = std::env::var_os(name).map(|value| value.to_string_lossy().into_owned());
        let mut read = self.read.borrow_mut();
        if !read.iter().any(|(seen, _)| seen == name) {
            read.push((name.to_owned(), value.clone()));
        }
        value.filter(|value| !value.is_empty())
    }

    /// [`Env::get`] as a path.
    pub fn path(&self, name: &str) -> Option<PathBuf> {
        self.get(name).map(PathBuf::from)
    }

    /// Whether a flag variable is set to a true value (`1`, `true`, `yes`, `on`).
    pub fn flag(&self, name: &str) -> bool {
        self.get(name).is_some_and(|value| {
            matches!(
                value.to_ascii_lowercase().as_str(),
                "1" | "true" | "yes" | "on"
            )
        })
    }

    /// Every variable read so far, with its value, in first-read order.
    pub fn report(&self) -> Vec<(String, Option<String>)> {
        self.read.borrow().clone()
    }
}

/// A value that Cargo itself sets for build scripts; missing means we are not run by Cargo.
pub fn cargo(name: &str) -> Result<String, String> {
    std::env::var(name)
        .map_err(|_| format!("{name} is not set: this build script must be run by Cargo"))
}
