//! Emits the link instructions for what was found, and the `links = "tdjson"` metadata that
//! dependents read as `DEP_TDJSON_*`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::platform::Os;
use crate::report::Context;
use crate::search::StaticLibs;
use crate::system_archives::{self, Compiler, CompilerAnswer, Group, Lookup, Place, Search};
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
    schema_missing: Option<&str>,
    out_dir: &Path,
) -> Result<(), String> {
    let (kind, lib_dir, runtime_lib) = match &located.linkage {
        Linkage::Shared(lib) => {
            let (lib_dir, runtime) = emit_shared(cx, lib, out_dir)?;
            ("dynamic", lib_dir, runtime)
        }
        Linkage::Static(libs) => {
            emit_static_tdlib(libs);
            let (system_libs, extra_dirs) = static_system_libs(cx);
            emit_system_libs(cx, system_libs, &extra_dirs, out_dir)?;
            ("static", libs.dirs()[0].clone(), None)
        }
        Linkage::StaticPkgConfig { libs, system_libs } => {
            emit_static_tdlib(libs);
            // pkg-config files carry OpenSSL and zlib, but normally not the C++ runtime.
            let mut linked: Vec<SystemLib> = system_libs
                .iter()
                .flat_map(|lib| SystemLib::by_default(cx, lib))
                .collect();
            linked.extend(cxx_runtime(cx, &linked));
            emit_system_libs(cx, linked, &[], out_dir)?;
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
    if let Some(why) = schema_missing {
        // One line: metadata values end at the line's end.
        let why = why.split_whitespace().collect::<Vec<_>>().join(" ");
        println!("cargo::metadata=schema_missing={why}");
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

/// A library linked after TDLib's static libraries.
#[derive(Clone, Debug, PartialEq, Eq)]
enum SystemLib {
    /// Linked by name with this `rustc-link-lib` kind (`dylib`, or what the user wrote): the
    /// linker takes the shared library where there is one.
    Named { kind: String, name: String },
    /// Linked from its static archive, found by `system_archives`. `file_name` is the archive's
    /// name (`libssl.a`); `modifiers` are the user's, apart from `bundle` and `verbatim`.
    Archive {
        lib: String,
        file_name: String,
        modifiers: Vec<String>,
    },
}

impl SystemLib {
    /// How a library of the default list (or of pkg-config's) is linked: from its static
    /// archive with `static-deps` if it is OpenSSL, zlib or the C++ runtime, else by name.
    fn by_default(cx: &Context, lib: &str) -> Vec<SystemLib> {
        let group = Group::of(lib);
        if !cx.features.static_deps || !group.linked_statically_by_static_deps() {
            return vec![SystemLib::dylib(lib)];
        }
        let libs = if group == Group::CxxRuntime {
            cx.platform.static_cxx_runtime(lib)
        } else {
            vec![lib.to_owned()]
        };
        if libs.is_empty() {
            return vec![SystemLib::dylib(lib)];
        }
        libs.into_iter()
            .map(|lib| SystemLib::Archive {
                file_name: cx.platform.static_file_name(&lib),
                lib,
                modifiers: Vec::new(),
            })
            .collect()
    }

    fn dylib(name: &str) -> SystemLib {
        SystemLib::Named {
            kind: "dylib".to_owned(),
            name: name.to_owned(),
        }
    }

    /// One word of `TDLIB_STATIC_SYSTEM_LIBS` other than `native=`: `name`, `kind=name` or
    /// `kind:modifiers=name`.
    fn from_word(cx: &Context, word: &str) -> SystemLib {
        let Some((kind, name)) = word.split_once('=') else {
            return SystemLib::dylib(word);
        };
        let (kind_name, modifiers) = kind.split_once(':').unwrap_or((kind, ""));
        if kind_name != "static" {
            return SystemLib::Named {
                kind: kind.to_owned(),
                name: name.to_owned(),
            };
        }
        let modifiers: Vec<&str> = modifiers.split(',').filter(|m| !m.is_empty()).collect();
        let verbatim = modifiers.contains(&"+verbatim");
        SystemLib::Archive {
            lib: name.to_owned(),
            file_name: if verbatim {
                name.to_owned()
            } else {
                cx.platform.static_file_name(name)
            },
            modifiers: modifiers
                .iter()
                .filter(|m| !m.ends_with("bundle") && !m.ends_with("verbatim"))
                .map(|m| (*m).to_owned())
                .collect(),
        }
    }

    /// The name the linker knows it by, for not linking the C++ runtime twice.
    fn name(&self) -> &str {
        match self {
            SystemLib::Named { name, .. } => name,
            SystemLib::Archive { lib, .. } => lib,
        }
    }
}

/// What is linked after TDLib's static libraries (OpenSSL, zlib and the OS's libraries, then
/// the C++ runtime), and the `native=` folders of `TDLIB_STATIC_SYSTEM_LIBS`.
///
/// `TDLIB_STATIC_SYSTEM_LIBS` replaces the list: each word is a library name (`ssl`, linked
/// dynamically), a `kind=name` pair (`static=ssl`: its archive is found like `static-deps`
/// finds one), or `native=<folder>` to add a folder to the linker's search path and to the
/// places archives are looked for first.
fn static_system_libs(cx: &Context) -> (Vec<SystemLib>, Vec<PathBuf>) {
    let mut extra_dirs = Vec::new();
    let mut linked = Vec::new();
    match cx.env.get("TDLIB_STATIC_SYSTEM_LIBS") {
        Some(list) => {
            for word in list.split_whitespace() {
                if let Some(dir) = word.strip_prefix("native=") {
                    println!("cargo::rustc-link-search=native={dir}");
                    extra_dirs.push(PathBuf::from(dir));
                } else {
                    linked.push(SystemLib::from_word(cx, word));
                }
            }
        }
        None => {
            for lib in cx.platform.static_system_libs() {
                linked.extend(SystemLib::by_default(cx, lib));
            }
        }
    }
    linked.extend(cxx_runtime(cx, &linked));
    (linked, extra_dirs)
}

/// The C++ runtime: `CXXSTDLIB` as the `cc` crate reads it (set but empty means none), else the
/// platform's default; nothing if `already_linked` has it.
fn cxx_runtime(cx: &Context, already_linked: &[SystemLib]) -> Vec<SystemLib> {
    cx.env.get("CXXSTDLIB");
    let runtime = match std::env::var("CXXSTDLIB") {
        Ok(value) => Some(value).filter(|value| !value.is_empty()),
        Err(_) => cx.platform.cxx_runtime().map(str::to_owned),
    };
    match runtime {
        Some(runtime) => {
            let libs = SystemLib::by_default(cx, &runtime);
            let linked = |lib: &SystemLib| {
                already_linked
                    .iter()
                    .any(|other| other.name() == lib.name())
            };
            if libs.iter().any(linked) {
                Vec::new()
            } else {
                libs
            }
        }
        None => Vec::new(),
    }
}

/// Emits `libs` in order. Static archives are first found (see `system_archives`), then
/// linked through links in a folder of `OUT_DIR` under names of their own
/// (`libtdlib_sys_ssl.a`): rustc finds them without the user naming the distribution's
/// folders, and no other `libssl.a` on the linker's search path can be picked instead.
/// They are not bundled into this crate's rlib, which would put them on the link line before
/// TDLib's archives that need them.
fn emit_system_libs(
    cx: &Context,
    libs: Vec<SystemLib>,
    extra_dirs: &[PathBuf],
    out_dir: &Path,
) -> Result<(), String> {
    let archives: Vec<(&str, &str)> = libs
        .iter()
        .filter_map(|lib| match lib {
            SystemLib::Archive { lib, file_name, .. } => Some((lib.as_str(), file_name.as_str())),
            SystemLib::Named { .. } => None,
        })
        .collect();
    if !archives.is_empty() {
        let found = find_archives(cx, &archives, extra_dirs)?;
        let link_dir = out_dir.join("static-system-libs");
        let io = |what: &str, path: &Path, error: std::io::Error| {
            format!("tdlib-sys: cannot {what} {}: {error}", path.display())
        };
        if link_dir.exists() {
            fs::remove_dir_all(&link_dir).map_err(|error| io("clear", &link_dir, error))?;
        }
        fs::create_dir_all(&link_dir).map_err(|error| io("create", &link_dir, error))?;
        for (lib, file) in &found {
            println!("cargo::rerun-if-changed={}", file.display());
            let link = link_dir.join(format!("lib{}.a", archive_link_name(lib)));
            symlink(file, &link).map_err(|error| io("link", &link, error))?;
        }
        println!("cargo::rustc-link-search=native={}", link_dir.display());
    }
    for lib in &libs {
        match lib {
            SystemLib::Named { kind, name } => println!("cargo::rustc-link-lib={kind}={name}"),
            SystemLib::Archive { lib, modifiers, .. } => {
                let mut modifiers = modifiers.clone();
                modifiers.insert(0, "-bundle".to_owned());
                println!(
                    "cargo::rustc-link-lib=static:{}={}",
                    modifiers.join(","),
                    archive_link_name(lib)
                );
            }
        }
    }
    Ok(())
}

/// The name an archive is linked by from the `OUT_DIR` folder: ours alone, and a valid `-l`
/// name whatever the user wrote.
fn archive_link_name(lib: &str) -> String {
    let safe: String = lib
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("tdlib_sys_{safe}")
}

/// Finds each `(lib, file name)` archive, or fails with one message naming every missing one.
fn find_archives(
    cx: &Context,
    archives: &[(&str, &str)],
    extra_dirs: &[PathBuf],
) -> Result<Vec<(String, PathBuf)>, String> {
    if !cx.platform.supports_static_deps() {
        return Err(format!(
            "\ntdlib-sys: static archives of OpenSSL, zlib or the C++ runtime ({}) are asked for, but \
             tdlib-sys finds them only for targets whose archives are `lib<name>.a` (not MSVC). \
             Link a static OpenSSL and zlib (for example vcpkg's `x64-windows-static` triplet) \
             by name with TDLIB_STATIC_SYSTEM_LIBS and `native=<folder>` instead.\n",
            archives
                .iter()
                .map(|(_, file)| *file)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let target = crate::env::cargo("TARGET")?;
    let host = crate::env::cargo("HOST")?;
    let get = |name: &str| cx.env.get(name);
    let cc = Compiler::pick("CC", &target, &host, get);
    let cxx = Compiler::pick("CXX", &target, &host, get);
    let multiarch = cc.ask("-print-multiarch").unwrap_or_default();
    let common = system_archives::common_places(&multiarch, target == host);
    let extra: Vec<Place> = extra_dirs
        .iter()
        .map(|dir| Place::new(dir, "native= of TDLIB_STATIC_SYSTEM_LIBS"))
        .collect();

    let lookups: Vec<Lookup> = archives
        .iter()
        .map(|(lib, file_name)| {
            let group = Group::of(lib);
            let compiler = if group == Group::CxxRuntime {
                &cxx
            } else {
                &cc
            };
            let arg = format!("-print-file-name={file_name}");
            let search = Search {
                named: system_archives::places_from_variables(group, get),
                extra: extra.clone(),
                compiler: Some((
                    compiler.shown(&arg),
                    CompilerAnswer::from_output(compiler.ask(&arg)),
                )),
                common: common.clone(),
            };
            system_archives::find(lib, file_name, &search)
        })
        .collect();

    let missing: Vec<&Lookup> = lookups.iter().filter(|l| l.found.is_none()).collect();
    if !missing.is_empty() {
        let from_variable = cx.env.get("TDLIB_STATIC_SYSTEM_LIBS").is_some();
        let asked_by = match (cx.features.static_deps, from_variable) {
            (true, true) => "the feature `static-deps` with TDLIB_STATIC_SYSTEM_LIBS",
            (true, false) => "the feature `static-deps`",
            (false, _) => "TDLIB_STATIC_SYSTEM_LIBS",
        };
        return Err(system_archives::missing_message(
            &missing,
            asked_by,
            cx.features.static_deps,
            gcc_major(&cxx).as_deref(),
            &target,
            &host,
        ));
    }
    Ok(lookups
        .into_iter()
        .filter_map(|lookup| Some((lookup.lib, lookup.found?)))
        .collect())
}

/// The major version of gcc, which Debian's libstdc++ package is named after; `None` for clang.
fn gcc_major(cxx: &Compiler) -> Option<String> {
    let version = cxx.ask("--version").ok()?;
    if version.contains("clang") {
        return None;
    }
    let number = cxx.ask("-dumpversion").ok()?;
    number.split('.').next().map(str::to_owned)
}
