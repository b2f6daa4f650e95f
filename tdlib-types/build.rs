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
        return Err("\ntdlib-types: tdlib-sys knows no td_api.tl for the linked TDLib, and the typed API is generated \
             from it.\nSet TDLIB_SCHEMA to td/generate/scheme/td_api.tl of the same TDLib release (for the pinned one, \
             `scripts/setup` caches it next to the prebuilt library), or build TDLib from source with the feature \
             `bundled`, whose source tree carries it.\n"
            .to_owned());
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
