//! Discovery step 4: build TDLib from source with CMake (feature `bundled`).
//!
//! The source is `TDLIB_SRC_DIR`, else a `td` checkout (git submodule) inside this crate. The
//! build runs out of tree in `OUT_DIR`, Release unless `TDLIB_CMAKE_BUILD_TYPE` says otherwise,
//! and builds only the target that is linked (`tdjson`, or `tdjson_static` with `static`): no
//! install step, so the libraries are picked up from the build tree where CMake leaves them.
//! OpenSSL and zlib are found by CMake's own `FindOpenSSL`/`FindZLIB` (they honour
//! `OPENSSL_ROOT_DIR` and `ZLIB_ROOT`); `TDLIB_CMAKE_ARGS` adds anything else.

use std::path::{Path, PathBuf};

use crate::report::{Attempt, Context};
use crate::{Linkage, Located, Source, search};

pub fn build(cx: &Context, out_dir: &Path, attempts: &[Attempt]) -> Result<Located, String> {
    let env = cx.env;
    let submodule = PathBuf::from(crate::env::cargo("CARGO_MANIFEST_DIR")?).join("td");
    let src = match env.path("TDLIB_SRC_DIR") {
        Some(src) => src,
        None if submodule.join("CMakeLists.txt").is_file() => submodule,
        None => {
            let mut attempts = attempts.to_vec();
            attempts.push(Attempt::skipped(
                "bundled",
                &format!(
                    "TDLIB_SRC_DIR is not set and there is no TDLib checkout at {}",
                    submodule.display()
                ),
            ));
            return Err(cx.failure(
                "feature `bundled` is on, but there is no TDLib source to build.",
                &attempts,
            ));
        }
    };
    let cmake_lists = src.join("CMakeLists.txt");
    let text = std::fs::read_to_string(&cmake_lists).map_err(|error| {
        cx.failure(
            &format!("TDLIB_SRC_DIR is {}, but {} cannot be read ({error}); it must be a TDLib source checkout.", src.display(), cmake_lists.display()),
            &[],
        )
    })?;
    // Fail before a half-hour build, not after it.
    let Some(declared_version) = search::project_version(&text) else {
        return Err(cx.failure(
            &format!("{} declares no `project(TDLib VERSION x.y.z)`; TDLIB_SRC_DIR must be a TDLib source checkout.", cmake_lists.display()),
            &[],
        ));
    };
    if declared_version != cx.pin.version {
        if !env.flag("TDLIB_ALLOW_VERSION_MISMATCH") {
            return Err(cx.failure(
                &format!(
                    "the TDLib source in {} is version {declared_version}, but this tdlib-sys is pinned to TDLib {}. \
                     Check out commit {}, or set TDLIB_ALLOW_VERSION_MISMATCH=1 to build it anyway.",
                    src.display(),
                    cx.pin.version,
                    cx.pin.commit
                ),
                &[],
            ));
        }
        println!(
            "cargo::warning=TDLIB_ALLOW_VERSION_MISMATCH: building TDLib {declared_version}, pinned is {}",
            cx.pin.version
        );
    }
    println!("cargo::rerun-if-changed={}", src.display());

    let target = if cx.features.static_link {
        "tdjson_static"
    } else {
        "tdjson"
    };
    let build_type = env
        .get("TDLIB_CMAKE_BUILD_TYPE")
        .unwrap_or_else(|| "Release".to_owned());
    println!(
        "cargo::warning=building TDLib target {target} from {} with CMake ({build_type}); \
         a full TDLib build takes about 20-30 minutes on 2 cores, later builds reuse it",
        src.display()
    );

    let mut config = cmake::Config::new(&src);
    config
        .out_dir(out_dir.join("tdlib"))
        .profile(&build_type)
        .build_target(target)
        .define("CMAKE_INSTALL_LIBDIR", "lib")
        .define("CMAKE_POSITION_INDEPENDENT_CODE", "ON");
    for name in ["OPENSSL_ROOT_DIR", "ZLIB_ROOT"] {
        if let Some(value) = env.get(name) {
            config.define(name, value);
        }
    }
    for arg in env
        .get("TDLIB_CMAKE_ARGS")
        .unwrap_or_default()
        .split_whitespace()
    {
        config.configure_arg(arg);
    }
    let build_dir = config.build().join("build");

    // Multi-config generators (Visual Studio, Xcode) put outputs in a folder per build type.
    let roots = vec![build_dir.clone(), build_dir.join(&build_type)];
    let linkage = if cx.features.static_link {
        let libs = search::static_libs(&roots, &cx.platform).map_err(|missing| {
            cx.failure(
                &format!(
                    "the CMake build in {} did not produce {}.",
                    build_dir.display(),
                    missing.join(", ")
                ),
                &[],
            )
        })?;
        Linkage::Static(libs)
    } else {
        let lib = roots
            .iter()
            .find_map(|dir| search::shared_in_dir(dir, &cx.platform, &cx.pin.version))
            .ok_or_else(|| {
                cx.failure(
                    &format!(
                        "the CMake build in {} did not produce libtdjson.",
                        build_dir.display()
                    ),
                    &[],
                )
            })?;
        Linkage::Shared(lib)
    };
    // td_json_client.h is in the source tree, the generated tdjson_export.h in the build tree.
    let include_dirs = [src.clone(), build_dir]
        .into_iter()
        .filter(|dir| dir.join("td/telegram").is_dir())
        .collect();
    let schema = Some(src.join("td/generate/scheme/td_api.tl")).filter(|path| path.is_file());
    Ok(Located {
        source: Source::Bundled,
        linkage,
        include_dirs,
        schema,
        declared_version: Some(declared_version),
    })
}
