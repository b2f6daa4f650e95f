//! Build script of `tdlib-sys`: finds, builds or links `libtdjson`, then tells dependents
//! where it is. It decides here and delegates the rest:
//!
//! - `search.rs` looks for libraries in folders, `platform.rs` knows each target's file names;
//! - `probe_pkg_config.rs` asks pkg-config (feature `pkg-config`);
//! - `bundled.rs` builds TDLib from source with CMake (feature `bundled`);
//! - `link.rs` emits the link instructions and the metadata for dependents;
//! - `system_archives.rs` finds the static archives of OpenSSL, zlib and the C++ runtime
//!   (feature `static-deps`);
//! - `download.rs` fetches the pinned official prebuilt with npm (feature `download`);
//! - `bindings.rs` regenerates the FFI declarations (feature `bindgen`);
//! - `report.rs` writes the one failure message.
//!
//! Discovery order, first match wins:
//! 1. `TDLIB_LIB_DIR` (with `TDLIB_INCLUDE_DIR` for headers);
//! 2. `TDLIB_DIR`: an install prefix, or a folder that holds the library;
//! 3. pkg-config, module `tdjson` (`tdjson_static` with `static`), feature `pkg-config`;
//! 4. a source build with CMake, feature `bundled`;
//! 5. the cache (`<cache>/tdlib-<version>/<target>/`), which `scripts/setup` and step 6 fill;
//! 6. the official prebuilt for the target, fetched into that cache, feature `download`.
//!
//! A variable that is set but points at a folder without the library is an error, never a
//! reason to go on to the next step; `static` never falls back to a shared library.

mod elf;
mod env;
mod link;
mod pin;
mod platform;
mod report;
mod schema;
mod search;
mod system_archives;

#[cfg(feature = "bindgen")]
mod bindings;
#[cfg(feature = "bundled")]
mod bundled;
#[cfg(feature = "download")]
mod download;
#[cfg(feature = "download")]
mod fetch;
#[cfg(feature = "pkg-config")]
mod probe_pkg_config;

use std::path::{Path, PathBuf};

use env::Env;
use pin::Pin;
use platform::Platform;
use report::{Attempt, Context};
use search::{SharedLib, StaticLibs};

/// Where the library came from; exported to dependents as `DEP_TDJSON_SOURCE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    LibDir,
    Dir,
    PkgConfig,
    Bundled,
    Cache,
    Download,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::LibDir => "lib-dir",
            Source::Dir => "dir",
            Source::PkgConfig => "pkg-config",
            Source::Bundled => "bundled",
            Source::Cache => "cache",
            Source::Download => "download",
        }
    }
}

/// What is linked.
#[derive(Debug)]
pub enum Linkage {
    Shared(SharedLib),
    /// TDLib's static libraries as files, followed by the system libraries.
    Static(StaticLibs),
    /// TDLib's static libraries in folders pkg-config named, followed by the system libraries
    /// pkg-config listed (OpenSSL, zlib, ...).
    StaticPkgConfig {
        libs: StaticLibs,
        system_libs: Vec<String>,
    },
}

/// A TDLib that was found or built.
#[derive(Debug)]
pub struct Located {
    pub source: Source,
    pub linkage: Linkage,
    /// Folders holding `td/telegram/td_json_client.h` (and the generated `tdjson_export.h`).
    pub include_dirs: Vec<PathBuf>,
    /// The schema that belongs with this library, if the location carries one.
    pub schema: Option<PathBuf>,
    /// The version the location declares (pkg-config, CMake project), if it declares one.
    pub declared_version: Option<String>,
}

/// The Cargo features this build was asked for.
#[derive(Clone, Copy, Debug)]
pub struct Features {
    pub static_link: bool,
    /// OpenSSL, zlib and the C++ runtime from their static archives too (implies `static`).
    pub static_deps: bool,
    pub pkg_config: bool,
    pub bundled: bool,
    pub bindgen: bool,
    pub download: bool,
}

fn main() {
    if let Err(message) = run() {
        // Cargo shows a failing build script's stderr; one readable message, no panic noise.
        eprintln!("{message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    println!("cargo::rerun-if-changed=build");
    println!("cargo::rerun-if-changed=tdlib.pin");
    println!("cargo::rustc-check-cfg=cfg(tdjson_static)");

    let pin = Pin::parse(include_str!("../tdlib.pin"))?;
    let features = Features {
        static_link: cfg!(feature = "static"),
        static_deps: cfg!(feature = "static-deps"),
        pkg_config: cfg!(feature = "pkg-config"),
        bundled: cfg!(feature = "bundled"),
        bindgen: cfg!(feature = "bindgen"),
        download: cfg!(feature = "download"),
    };
    let (target_os, target_env) = (
        env::cargo("CARGO_CFG_TARGET_OS")?,
        env::cargo("CARGO_CFG_TARGET_ENV")?,
    );
    let platform = Platform::from_cfg(&target_os, &target_env);
    let prebuilt_target = platform::prebuilt_target(
        &target_os,
        &env::cargo("CARGO_CFG_TARGET_ARCH")?,
        &target_env,
    );
    let out_dir = PathBuf::from(env::cargo("OUT_DIR")?);
    let env = Env::default();
    let cx = Context {
        pin: &pin,
        features,
        platform,
        prebuilt_target,
        env: &env,
    };

    let located = discover(&cx, &out_dir)?;
    let allow_mismatch = env.flag("TDLIB_ALLOW_VERSION_MISMATCH");
    let other_release = check_version(&cx, &located, allow_mismatch)?;
    let mut schema = schema::resolve(&env, &pin, located.schema.as_deref(), allow_mismatch)?;
    let mut schema_missing = None;
    if schema.is_none() {
        // The prebuilts carry no schema: the pinned one from the cache (fetched there with
        // `download`), unless the library is of another release, which it would not describe.
        let found = match other_release {
            Some(found) => Err(format!(
                "the linked TDLib is version {found}, not the pinned {}, so the pinned schema does \
                 not describe it; set TDLIB_SCHEMA to td_api.tl of TDLib {found}",
                pin.version
            )),
            None => fetch_schema(&cx),
        };
        match found {
            Ok(path) => schema = Some(path),
            Err(why) => schema_missing = Some(why),
        }
    }

    #[cfg(feature = "bindgen")]
    bindings::generate(&located.include_dirs, &out_dir, &env)
        .map_err(|why| cx.failure(&why, &[]))?;

    link::emit(
        &cx,
        &located,
        schema.as_deref(),
        schema_missing.as_deref(),
        &out_dir,
    )
}

/// The pinned schema from the cache, fetched there first if needed (feature `download`). The
/// error says, in one line, why there is none and what to do.
fn fetch_schema(cx: &Context) -> Result<PathBuf, String> {
    let Some(cache) = Cache::locate(cx) else {
        return Err("no cache folder (neither TDLIB_CACHE_DIR, XDG_CACHE_HOME nor HOME is set) and TDLIB_SCHEMA is not set".to_owned());
    };
    // Until it is there, any change to it reruns this script: the advice below then works.
    println!("cargo::rerun-if-changed={}", cache.schema.display());
    let state = if cache.schema.is_file() {
        // Checked like any other schema: a cache is not trusted more than TDLIB_SCHEMA.
        if let Some(path) = schema::resolve_file(cx.pin, &cache.schema) {
            return Ok(path);
        }
        "holds a file that is not the pinned schema at"
    } else {
        "has no"
    };
    if cx.features.download {
        #[cfg(feature = "download")]
        return schema::fetch(cx.pin, &cache.schema);
    }
    Err(format!(
        "TDLIB_SCHEMA is not set and the cache {state} {}; enable the feature `download` to fetch \
         it (online), or set TDLIB_SCHEMA to td/generate/scheme/td_api.tl of TDLib {} (commit {})",
        cache.schema.display(),
        cx.pin.version,
        cx.pin.commit
    ))
}

/// The cache folders of the pinned release: `<root>/tdlib-<version>/` holds the schema
/// (`share/tdlib/td_api.tl`), kept tarballs (`downloads/`) and one install prefix per target
/// (`<target>/lib/`), where `<root>` is `$TDLIB_CACHE_DIR`, else `$XDG_CACHE_HOME/tdlib-sys`,
/// else `$HOME/.cache/tdlib-sys`. `scripts/setup` fills the same folders.
struct Cache {
    /// The install prefix of the target's library.
    prefix: PathBuf,
    schema: PathBuf,
    #[cfg_attr(not(feature = "download"), allow(dead_code))]
    downloads: PathBuf,
}

impl Cache {
    fn locate(cx: &Context) -> Option<Cache> {
        let env = cx.env;
        let root = env
            .path("TDLIB_CACHE_DIR")
            .or_else(|| env.path("XDG_CACHE_HOME").map(|dir| dir.join("tdlib-sys")))
            .or_else(|| env.path("HOME").map(|dir| dir.join(".cache/tdlib-sys")))?;
        let release = root.join(format!("tdlib-{}", cx.pin.version));
        Some(Cache {
            prefix: release.join(&cx.prebuilt_target),
            schema: release.join("share/tdlib/td_api.tl"),
            downloads: release.join("downloads"),
        })
    }
}

/// Runs the discovery steps in their documented order.
fn discover(cx: &Context, out_dir: &Path) -> Result<Located, String> {
    let env = cx.env;
    let mut attempts = Vec::new();

    // 1. TDLIB_LIB_DIR (+ TDLIB_INCLUDE_DIR).
    let include_dir = env.path("TDLIB_INCLUDE_DIR");
    if let Some(lib_dir) = env.path("TDLIB_LIB_DIR") {
        let linkage = find_in(
            cx,
            "TDLIB_LIB_DIR",
            &lib_dir,
            std::slice::from_ref(&lib_dir),
            false,
        )?;
        return Ok(Located {
            source: Source::LibDir,
            linkage,
            include_dirs: include_dir.into_iter().collect(),
            schema: None,
            declared_version: None,
        });
    }
    attempts.push(Attempt::skipped("TDLIB_LIB_DIR", "not set"));

    // 2. TDLIB_DIR: a prefix (lib/, include/, share/tdlib/td_api.tl) or the library's folder.
    if let Some(prefix) = env.path("TDLIB_DIR") {
        return located_in_prefix(cx, Source::Dir, "TDLIB_DIR", &prefix, include_dir);
    }
    attempts.push(Attempt::skipped("TDLIB_DIR", "not set"));

    // 3. pkg-config.
    if cx.features.pkg_config {
        #[cfg(feature = "pkg-config")]
        match probe_pkg_config::probe(cx)? {
            Ok(located) => return Ok(located),
            Err(why) => attempts.push(Attempt::skipped("pkg-config", &why)),
        }
    } else {
        attempts.push(Attempt::skipped(
            "pkg-config",
            "feature `pkg-config` is off",
        ));
    }

    // 4. Build from source.
    if cx.features.bundled {
        #[cfg(feature = "bundled")]
        return bundled::build(cx, out_dir, &attempts);
    }
    let _ = out_dir; // Only a source build writes there during discovery.
    if let Some(src) = env.get("TDLIB_SRC_DIR") {
        // Building is never switched on by a variable alone; say so instead of ignoring it.
        println!(
            "cargo::warning=TDLIB_SRC_DIR is set ({src}) but the feature `bundled` is off, so it is not used"
        );
    }
    attempts.push(Attempt::skipped("bundled", "feature `bundled` is off"));

    // 5. The cache.
    let cache = Cache::locate(cx);
    match &cache {
        Some(cache) => {
            let found = if cx.features.static_link {
                search::static_libs(
                    &search::prefix_roots(&cache.prefix, &cx.platform),
                    &cx.platform,
                )
                .is_ok()
            } else {
                search::shared_in_prefix(&cache.prefix, &cx.platform, &cx.pin.version).is_some()
            };
            if found {
                return located_in_cache(cx, Source::Cache, cache, include_dir);
            }
            let kind = if cx.features.static_link {
                "static libraries (it only ever holds the shared library)"
            } else {
                "libtdjson"
            };
            let lib = cache.prefix.join("lib");
            attempts.push(Attempt::skipped(
                "cache",
                &format!(
                    "no {kind} in {}: {} {}",
                    cache.prefix.display(),
                    lib.display(),
                    search::describe_dir(&lib)
                ),
            ));
        }
        None => attempts.push(Attempt::skipped(
            "cache",
            "neither TDLIB_CACHE_DIR, XDG_CACHE_HOME nor HOME is set",
        )),
    }

    // 6. Download the official prebuilt into the cache.
    let prebuilt = cx.pin.prebuilt(&cx.prebuilt_target);
    let skipped = if !cx.features.download {
        Some("feature `download` is off".to_owned())
    } else if cx.features.static_link {
        Some("feature `static` is on, and the prebuilts are shared libraries only".to_owned())
    } else if prebuilt.is_none() {
        Some(format!(
            "there is no official prebuilt for the target {} (there are for: {})",
            cx.prebuilt_target,
            cx.pin
                .prebuilts
                .iter()
                .map(|p| p.target.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    } else if !cx
        .platform
        .link_file_names()
        .iter()
        .any(|name| prebuilt.is_some_and(|prebuilt| prebuilt.file == *name))
    {
        // MSVC links through an import library (tdjson.lib), which the Windows prebuilt lacks.
        Some(format!(
            "the official prebuilt for {} ships only {}, which this toolchain cannot link (it needs {})",
            cx.prebuilt_target,
            prebuilt.map_or("", |prebuilt| prebuilt.file.as_str()),
            cx.platform.link_file_names().join(" or ")
        ))
    } else if cache.is_none() {
        Some("there is no cache folder to download into".to_owned())
    } else {
        None
    };
    match (skipped, prebuilt, &cache) {
        (None, Some(prebuilt), Some(cache)) => {
            // Reached only with the feature on (`skipped` says so otherwise).
            #[cfg(feature = "download")]
            match download::fetch(cx, prebuilt, &cache.prefix, &cache.downloads) {
                Ok(_) => return located_in_cache(cx, Source::Download, cache, include_dir),
                Err(why) => attempts.push(Attempt::skipped("download", &why)),
            }
            #[cfg(not(feature = "download"))]
            let _ = (prebuilt, cache);
        }
        (why, _, _) => attempts.push(Attempt::skipped("download", &why.unwrap_or_default())),
    }

    let what = if cx.features.static_link {
        "TDLib's static libraries"
    } else {
        "libtdjson"
    };
    Err(cx.failure(
        &format!("could not find {what} of TDLib {} to link.", cx.pin.version),
        &attempts,
    ))
}

/// A location named by the user or the cache, laid out as an install prefix or as a flat folder.
fn located_in_prefix(
    cx: &Context,
    source: Source,
    name: &str,
    prefix: &Path,
    include_dir: Option<PathBuf>,
) -> Result<Located, String> {
    let roots = search::prefix_roots(prefix, &cx.platform);
    let linkage = find_in(cx, name, prefix, &roots, true)?;
    let include_dirs = include_dir
        .or_else(|| search::include_dir(&prefix.join("include")))
        .into_iter()
        .collect();
    let schema = Some(prefix.join("share/tdlib/td_api.tl")).filter(|path| path.is_file());
    Ok(Located {
        source,
        linkage,
        include_dirs,
        schema,
        declared_version: None,
    })
}

/// The library in the cache's prefix for the target, with the cache's schema.
fn located_in_cache(
    cx: &Context,
    source: Source,
    cache: &Cache,
    include_dir: Option<PathBuf>,
) -> Result<Located, String> {
    let mut located = located_in_prefix(cx, source, "the cache", &cache.prefix, include_dir)?;
    located.schema = Some(cache.schema.clone()).filter(|path| path.is_file());
    Ok(located)
}

/// Finds the library the features ask for under `roots`; an error names `what` and `dir`.
fn find_in(
    cx: &Context,
    what: &str,
    dir: &Path,
    roots: &[PathBuf],
    is_prefix: bool,
) -> Result<Linkage, String> {
    let platform = &cx.platform;
    // The folder to describe in an error: the first one searched that exists.
    let shown = roots
        .iter()
        .find(|root| root.is_dir())
        .map_or(dir, PathBuf::as_path);
    if cx.features.static_link {
        return match search::static_libs(roots, platform) {
            Ok(libs) => Ok(Linkage::Static(libs)),
            Err(missing) => Err(cx.failure(
                &format!(
                    "{what} is {}, but feature `static` needs TDLib's static libraries there and {} missing \
                     ({} {}). Shared libraries are not used when `static` is on.",
                    dir.display(),
                    if missing.len() == platform::STATIC_LIBS.len() { "all are".to_owned() } else { format!("{} are", missing.join(", ")) },
                    shown.display(),
                    search::describe_dir(shown),
                ),
                &[],
            )),
        };
    }
    let found = if is_prefix {
        search::shared_in_prefix(dir, platform, &cx.pin.version)
    } else {
        search::shared_in_dir(dir, platform, &cx.pin.version)
    };
    found.map(Linkage::Shared).ok_or_else(|| {
        cx.failure(
            &format!(
                "{what} is {}, but there is no {} there ({} {}).",
                dir.display(),
                platform.link_file_names().join(" or "),
                shown.display(),
                search::describe_dir(shown),
            ),
            &[],
        )
    })
}

/// Rejects a library of another TDLib release (unless the user explicitly allows it): its
/// declared version (pkg-config, CMake) or, for an ELF shared library, its SONAME. Returns the
/// other release's version when one was allowed.
fn check_version(
    cx: &Context,
    located: &Located,
    allow_mismatch: bool,
) -> Result<Option<String>, String> {
    let expected = &cx.pin.version;
    let found = match (&located.declared_version, &located.linkage) {
        (Some(version), _) => Some(version.clone()),
        (None, Linkage::Shared(lib)) => {
            let bytes = std::fs::read(&lib.link_file).map_err(|error| {
                format!(
                    "tdlib-sys: cannot read {}: {error}",
                    lib.link_file.display()
                )
            })?;
            match elf::soname(&bytes) {
                // "libtdjson.so.1.8.65" → "1.8.65"
                Ok(Some(soname)) => Some(
                    soname
                        .strip_prefix("libtdjson.so.")
                        .unwrap_or(&soname)
                        .to_owned(),
                ),
                // Not ELF (macOS, Windows) or no SONAME: the runtime version guard of `tdlib` checks.
                Ok(None) | Err(_) => None,
            }
        }
        (None, _) => None,
    };
    match found {
        Some(found) if &found != expected => {
            let headline = format!(
                "the TDLib found ({}) is version {found}, but this tdlib-sys is pinned to TDLib {expected}. \
                 Use TDLib {expected}, or set TDLIB_ALLOW_VERSION_MISMATCH=1 to link it anyway \
                 (the typed API may then not match the library).",
                link::describe(located),
            );
            if allow_mismatch {
                println!(
                    "cargo::warning=TDLIB_ALLOW_VERSION_MISMATCH: linking TDLib {found}, pinned is {expected}"
                );
                Ok(Some(found))
            } else {
                Err(cx.failure(&headline, &[]))
            }
        }
        _ => Ok(None),
    }
}
