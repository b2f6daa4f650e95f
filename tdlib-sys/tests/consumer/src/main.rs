//! Prints what tdlib-sys linked, one `key=value` per line, for tdlib-sys's discovery tests.

use std::ffi::{CStr, CString};

/// Runs a synchronous request and copies the answer (it lives in a thread-local TDLib buffer).
fn execute(request: &str) -> String {
    let request = CString::new(request).expect("request has no NUL byte");
    // SAFETY: a valid NUL-terminated string; the answer is copied before the next TDLib call.
    let answer = unsafe { tdlib_sys::td_execute(request.as_ptr()) };
    assert!(!answer.is_null(), "td_execute returned null");
    // SAFETY: TDLib returns a NUL-terminated string that stays valid until the next call here.
    unsafe { CStr::from_ptr(answer) }
        .to_string_lossy()
        .into_owned()
}

fn main() {
    println!(
        "version={}",
        execute(r#"{"@type":"getOption","name":"version"}"#)
    );
    println!(
        "commit_hash={}",
        execute(r#"{"@type":"getOption","name":"commit_hash"}"#)
    );
    // The fixture answers these with OpenSSL, zlib and the C++ runtime (a real TDLib with an
    // error): the proof that a program linked with `static-deps` runs them.
    println!(
        "digest={}",
        execute(r#"{"@type":"getFixtureDigest","text":"abc"}"#)
    );
    println!(
        "digest_error={}",
        execute(r#"{"@type":"getFixtureDigest"}"#)
    );
    println!("linked_statically={}", tdlib_sys::LINKED_STATICALLY);
    for (key, value) in [
        ("version", env!("CONSUMER_DEP_VERSION")),
        ("commit", env!("CONSUMER_DEP_COMMIT")),
        ("link", env!("CONSUMER_DEP_LINK")),
        ("source", env!("CONSUMER_DEP_SOURCE")),
        ("lib_dir", env!("CONSUMER_DEP_LIB_DIR")),
        ("runtime_lib", env!("CONSUMER_DEP_RUNTIME_LIB")),
        ("include", env!("CONSUMER_DEP_INCLUDE")),
        ("schema", env!("CONSUMER_DEP_SCHEMA")),
        ("schema_missing", env!("CONSUMER_DEP_SCHEMA_MISSING")),
    ] {
        println!("dep_{key}={value}");
    }
}
