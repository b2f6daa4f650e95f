//! Generates the typed API from the `td_api.tl` of the linked TDLib, which tdlib-sys names in
//! its `links` metadata (`DEP_TDJSON_SCHEMA`), so the types always match the library.

use std::path::PathBuf;

fn main() {
    if let Err(message) = run() {
        eprintln!("{message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    println!("cargo::rerun-if-changed=build.rs");
    let Some(schema) = std::env::var_os("DEP_TDJSON_SCHEMA").map(PathBuf::from) else {
        // tdlib-sys says why it has none (tried the cache, fetched with `download`, ...).
        let why = std::env::var("DEP_TDJSON_SCHEMA_MISSING").unwrap_or_default();
        let version = std::env::var("DEP_TDJSON_VERSION").unwrap_or_default();
        return Err(format!(
            "\ntdlib-types: the typed API is generated from the td_api.tl of the linked TDLib {version}, and \
             there is none: {why}\nSet TDLIB_SCHEMA to td/generate/scheme/td_api.tl of that TDLib release; \
             with the feature `download` (online) the pinned schema is fetched by itself; a source build \
             (feature `bundled`) takes it from the source tree.\n"
        ));
    };
    println!("cargo::rerun-if-changed={}", schema.display());
    let text = std::fs::read_to_string(&schema)
        .map_err(|error| format!("tdlib-types: cannot read {}: {error}", schema.display()))?;
    let parsed = tdlib_tl::parse(&text)
        .map_err(|error| format!("tdlib-types: {}: {error}", schema.display()))?;
    tdlib_tl::validate(&parsed)
        .map_err(|error| format!("tdlib-types: {}: {error}", schema.display()))?;
    let generated = tdlib_tl::generate::generate(&parsed);
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set: run by Cargo")?)
        .join("td_api.rs");
    std::fs::write(&out, generated.source)
        .map_err(|error| format!("tdlib-types: cannot write {}: {error}", out.display()))
}
