//! Emits the link instructions for what was found, and the `links = "tdjson"` metadata that
//! dependents read as `DEP_TDJSON_*`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::platform::Os;
use crate::report::Context;
use crate::search::StaticLibs;
use crate::{Linkage, Located};

/// One line describing what is linked, for messages.
pub fn describe(located: &Located) -> String {
    let what = match &located.linkage {
        Linkage::Shared(lib) => lib.link_file.display().to_string(),
        Linkage::Static(libs) => format!("static libraries in {}", join(&libs.dirs())),
        Linkage::StaticPkgConfig { libs, .. } => {
            format!("static libraries in {}", join(&libs.dirs()))
        }
    };
    format!("{what}, from {}", located.source.as_str())
}

fn join(dirs: &[PathBuf]) -> String {
    dirs.iter()
        .map(|dir| dir.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn emit(
    cx: &Context,
    located: &Located,
    schema: Option<&Path>,
    out_dir: &Path,
) -> Result<(), String> {
    let (kind, lib_dir, runtime_lib) = match &located.linkage {
        Linkage::Shared(lib) => {
            let (lib_dir, runtime) = emit_shared(cx, lib, out_dir)?;
            ("dynamic", lib_dir, runtime)
        }
        Linkage::Static(libs) => {
            emit_static_tdlib(libs);
            emit_static_system_libs(cx);
            ("static", libs.dirs()[0].clone(), None)
        }
        Linkage::StaticPkgConfig { libs, system_libs } => {
            emit_static_tdlib(libs);
            for lib in system_libs {
                println!("cargo::rustc-link-lib=dylib={lib}");
            }
            // pkg-config files carry OpenSSL and zlib, but normally not the C++ runtime.
            emit_cxx_runtime(cx, system_libs);
            ("static", libs.dirs()[0].clone(), None)
        }
    };
    if kind == "static" {
        println!("cargo::rustc-cfg=tdjson_static");
    }

    let pin = cx.pin;
    println!("cargo::rustc-env=TDLIB_SYS_VERSION={}", pin.version);
    println!("cargo::rustc-env=TDLIB_SYS_COMMIT={}", pin.commit);
    println!("cargo::metadata=version={}", pin.version);
    println!("cargo::metadata=commit={}", pin.commit);
    println!("cargo::metadata=link={kind}");
    println!("cargo::metadata=source={}", located.source.as_str());
    println!("cargo::metadata=lib_dir={}", lib_dir.display());
    if let Some(runtime_lib) = runtime_lib {
        println!("cargo::metadata=runtime_lib={}", runtime_lib.display());
    }
    if !located.include_dirs.is_empty() {
        let joined =
            std::env::join_paths(&located.include_dirs).map_err(|error| error.to_string())?;
        println!("cargo::metadata=include={}", joined.to_string_lossy());
    }
    if let Some(schema) = schema {
        println!("cargo::metadata=schema={}", schema.display());
    }
    Ok(())
}

/// Links the shared library through a folder in `OUT_DIR` that holds it under both the name the
/// linker wants and the name the loader wants (the SONAME).
///
/// Why a folder of our own: Cargo adds `rustc-link-search` folders that lie inside the target
/// directory to the loader's search path for `cargo run`, `cargo test` and examples, so these
/// find the library without `LD_LIBRARY_PATH`; and the official prebuilt ships only
/// `libtdjson.so` while programs linked to it ask for `libtdjson.so.1.8.65`.
///
/// Returns the folder that really holds the library (for dependents that ship it) and the file
/// to ship.
fn emit_shared(
    cx: &Context,
    lib: &crate::search::SharedLib,
    out_dir: &Path,
) -> Result<(PathBuf, Option<PathBuf>), String> {
    let io = |what: &str, path: &Path, error: std::io::Error| {
        format!("tdlib-sys: cannot {what} {}: {error}", path.display())
    };
    let real =
        fs::canonicalize(&lib.link_file).map_err(|error| io("resolve", &lib.link_file, error))?;
    println!("cargo::rerun-if-changed={}", real.display());
    // For this crate's own tests (they check the linked file); not part of the public interface.
    println!(
        "cargo::rustc-env=TDLIB_SYS_TEST_LINKED_LIB={}",
        real.display()
    );
    let real_dir = real.parent().unwrap_or(Path::new("/")).to_path_buf();

    let link_dir = out_dir.join("tdjson-lib");
    if link_dir.exists() {
        fs::remove_dir_all(&link_dir).map_err(|error| io("clear", &link_dir, error))?;
    }
    fs::create_dir_all(&link_dir).map_err(|error| io("create", &link_dir, error))?;

    let platform = &cx.platform;
    if platform.os == Os::Windows {
        // The linker reads the import library where it is; the DLL is copied next to nothing
        // but our folder, which Cargo puts on PATH for runs.
        let import_dir = lib.link_file.parent().unwrap_or(Path::new("."));
        println!("cargo::rustc-link-search=native={}", import_dir.display());
        if let Some(dll) = &lib.runtime_file {
            let target = link_dir.join(platform.runtime_file_name(&cx.pin.version));
            fs::copy(dll, &target).map_err(|error| io("copy", dll, error))?;
        }
        println!("cargo::rustc-link-search=native={}", link_dir.display());
    } else {
        let names = [
            platform.link_file_names()[0].to_owned(),
            platform.runtime_file_name(&cx.pin.version),
        ];
        for name in names {
            symlink(&real, &link_dir.join(name)).map_err(|error| io("link", &link_dir, error))?;
        }
        println!("cargo::rustc-link-search=native={}", link_dir.display());
    }
    println!("cargo::rustc-link-lib=dylib=tdjson");
    let runtime = lib
        .runtime_file
        .as_ref()
        .map(|file| fs::canonicalize(file).unwrap_or_else(|_| file.clone()));
    Ok((real_dir, runtime))
}

#[cfg(unix)]
fn symlink(original: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(original, link)
}

#[cfg(not(unix))]
fn symlink(original: &Path, link: &Path) -> std::io::Result<()> {
    // Cross-building for a Unix target on a host without symlinks: a copy does the same job.
    fs::copy(original, link).map(|_| ())
}

/// TDLib's static libraries, in link order.
fn emit_static_tdlib(libs: &StaticLibs) {
    for dir in libs.dirs() {
        println!("cargo::rustc-link-search=native={}", dir.display());
    }
    // `-bundle`: the archives are handed to the final link as they are, in this order,
    // instead of being copied (hundreds of MB for TDLib) into this crate's rlib, where one
    // merged archive would also hide a wrong order from the tests.
    for (name, file) in &libs.libs {
        println!("cargo::rerun-if-changed={}", file.display());
        println!("cargo::rustc-link-lib=static:-bundle={name}");
    }
}

/// After TDLib's static libraries: OpenSSL, zlib and the OS's libraries, then the C++ runtime.
/// `TDLIB_STATIC_SYSTEM_LIBS` replaces the list: each word is a library name (`ssl`), a
/// `kind=name` pair (`static=ssl`), or `native=<folder>` to add a search folder.
fn emit_static_system_libs(cx: &Context) {
    match cx.env.get("TDLIB_STATIC_SYSTEM_LIBS") {
        Some(list) => {
            for word in list.split_whitespace() {
                if let Some(dir) = word.strip_prefix("native=") {
                    println!("cargo::rustc-link-search=native={dir}");
                } else if word.contains('=') {
                    println!("cargo::rustc-link-lib={word}");
                } else {
                    println!("cargo::rustc-link-lib=dylib={word}");
                }
            }
        }
        None => {
            for lib in cx.platform.static_system_libs() {
                println!("cargo::rustc-link-lib=dylib={lib}");
            }
        }
    }
    emit_cxx_runtime(cx, &[]);
}

/// The C++ runtime: `CXXSTDLIB` as the `cc` crate reads it (set but empty means none), else the
/// platform's default; nothing if `already_linked` has it.
fn emit_cxx_runtime(cx: &Context, already_linked: &[String]) {
    cx.env.get("CXXSTDLIB");
    let runtime = match std::env::var("CXXSTDLIB") {
        Ok(value) => Some(value).filter(|value| !value.is_empty()),
        Err(_) => cx.platform.cxx_runtime().map(str::to_owned),
    };
    if let Some(runtime) = runtime.filter(|runtime| !already_linked.contains(runtime)) {
        println!("cargo::rustc-link-lib=dylib={runtime}");
    }
}
