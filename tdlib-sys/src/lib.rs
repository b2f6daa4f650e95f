//! Raw FFI declarations of TDLib's C JSON interface (`libtdjson`), and the build logic that finds,
//! builds and links it.
//!
//! This crate only links and declares. The safe, typed, async layer is the `tdlib` crate.
//!
//! # The interface
//!
//! TDLib is driven by JSON strings (NUL-terminated UTF-8):
//!
//! - [`td_create_client_id`] makes a client id; the TDLib instance behind it starts at the first
//!   [`td_send`] to it.
//! - [`td_send`] queues a request for a client (any thread, concurrently). Put an `"@extra"` in
//!   it to recognise its answer.
//! - [`td_receive`] returns the next answer or update of *any* client (tagged `"@client_id"`),
//!   or null after `timeout` seconds. **Only one thread may be inside it at a time**: two at
//!   once abort the process. A null return does not mean the timeout passed.
//! - [`td_execute`] runs one of the functions TDLib documents as "can be called synchronously",
//!   on the calling thread, without a client.
//! - The strings returned by [`td_receive`] and [`td_execute`] live in a buffer of the calling
//!   thread, overwritten by that thread's next call to either: copy them at once, never free them.
//! - [`td_set_log_message_callback`] receives TDLib's log lines, on any thread; the callback
//!   must not call TDLib, and level 0 means TDLib aborts the process when it returns.
//! - Before the process exits, every client must be closed (`{"@type":"close"}`) and
//!   [`td_receive`] polled until it reports `authorizationStateClosed`, or TDLib may abort in its
//!   static destructors.
//!
//! The `td_json_client_*` functions are TDLib's older per-client interface, and the functions of
//! `td_log.h` its deprecated logging controls; they are declared for completeness. Note that
//! [`td_set_log_fatal_error_callback`] replaces the message callback (they share one slot).
//!
//! # Example
//!
//! ```
//! use std::ffi::{CStr, CString};
//!
//! let request = CString::new(r#"{"@type":"getOption","name":"version"}"#).unwrap();
//! // SAFETY: `request` is a valid NUL-terminated string; the answer is copied before any other
//! // TDLib call on this thread.
//! let answer = unsafe { CStr::from_ptr(tdlib_sys::td_execute(request.as_ptr())) }
//!     .to_string_lossy()
//!     .into_owned();
//! assert!(answer.contains(tdlib_sys::TDLIB_VERSION));
//! ```
//!
//! # Finding and linking TDLib
//!
//! The build script looks, in this order, at `TDLIB_LIB_DIR`, `TDLIB_DIR`, pkg-config (feature
//! `pkg-config`), a source build (feature `bundled`), the cache (`~/.cache/tdlib-sys`, filled by
//! the feature `download` or the repository's `scripts/setup`), and, with the feature
//! `download`, the official prebuilt pinned for the target, fetched with `npm pack` and checked
//! against the pinned sha256; feature `static` links TDLib's static libraries. When nothing is
//! found the build stops with one message saying what was tried and how to fix it. The README of
//! the repository has the table of features and variables.
//!
//! With `static`, OpenSSL, zlib and the C++ runtime remain shared libraries of the system
//! (`libssl.so.3`, `libcrypto.so.3`, `libz.so.1`, `libstdc++.so.6`). The feature `static-deps`
//! (which turns on `static`) links them from their static archives (`libssl.a`, `libcrypto.a`,
//! `libz.a`, `libstdc++.a`) as well, so the program needs only the C library (`libc.so.6`,
//! `libm.so.6`, the loader, `libgcc_s.so.1`); `readelf -d <program> | grep NEEDED` shows it.
//! The archives are looked for in `OPENSSL_LIB_DIR`/`OPENSSL_DIR`/`OPENSSL_ROOT_DIR` and
//! `ZLIB_LIB_DIR`/`ZLIB_ROOT` when set (and then only there), else where the C and C++
//! compilers find them (`cc -print-file-name=libssl.a`), else in the multiarch folder and the
//! usual `lib` folders; a missing one stops the build with a message naming the places looked
//! in and the packages that ship it (`libssl-dev`, `zlib1g-dev`, `libstdc++-<version>-dev` on
//! Debian and Ubuntu).
//!
//! Dependents' build scripts can read, through `links = "tdjson"`:
//! `DEP_TDJSON_VERSION`, `DEP_TDJSON_COMMIT`, `DEP_TDJSON_LINK` (`dynamic` or `static`),
//! `DEP_TDJSON_SOURCE` (`lib-dir`, `dir`, `pkg-config`, `bundled`, `cache` or `download`),
//! `DEP_TDJSON_LIB_DIR` (the folder that really holds the library), `DEP_TDJSON_RUNTIME_LIB`
//! (the shared library file to ship next to a program; dynamic only), `DEP_TDJSON_INCLUDE`
//! (header folders, when known), `DEP_TDJSON_SCHEMA` (the `td_api.tl` matching the library,
//! when known; else `DEP_TDJSON_SCHEMA_MISSING` says why, in one line) and, for `bundled` builds, `DEP_TDJSON_ROOT` (the CMake output folder).

#![no_std]
#![allow(non_camel_case_types)]

#[cfg(feature = "bindgen")]
include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
#[cfg(not(feature = "bindgen"))]
include!("bindings.rs");

/// The TDLib release this crate is pinned to, and that the build checked the library against.
pub const TDLIB_VERSION: &str = env!("TDLIB_SYS_VERSION");

/// The TDLib source commit of [`TDLIB_VERSION`]. Libraries built outside a git checkout
/// (the official prebuilt among them) report `GITDIR-NOTFOUND` as their own `commit_hash`.
pub const TDLIB_COMMIT: &str = env!("TDLIB_SYS_COMMIT");

/// Whether TDLib is linked statically into the program (feature `static`).
pub const LINKED_STATICALLY: bool = cfg!(tdjson_static);
