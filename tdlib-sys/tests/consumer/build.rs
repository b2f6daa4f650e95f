//! Passes tdlib-sys's `links` metadata to the program, so the tests see what a dependent's
//! build script sees, and picks the strictest linker.

fn main() {
    // Link with GNU ld: unlike LLD (Rust's default linker on x86_64 Linux), it resolves static
    // archives strictly in command-line order, so the tests catch a wrong library order that
    // users of GNU ld would hit.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo::rustc-link-arg=-fuse-ld=bfd");
    }
    for key in [
        "VERSION",
        "COMMIT",
        "LINK",
        "SOURCE",
        "LIB_DIR",
        "RUNTIME_LIB",
        "INCLUDE",
        "SCHEMA",
        "SCHEMA_MISSING",
    ] {
        let value = std::env::var(format!("DEP_TDJSON_{key}")).unwrap_or_default();
        println!("cargo::rustc-env=CONSUMER_DEP_{key}={value}");
    }
}
