//! Discovery step 3: pkg-config (feature `pkg-config`), module `tdjson`, or `tdjson_static` with
//! `static` (whose `Requires.private` chain names all of TDLib's static libraries, OpenSSL and zlib).

use std::path::PathBuf;

use crate::platform;
use crate::report::Context;
use crate::{Linkage, Located, Source};

/// `Ok(Ok(_))` found; `Ok(Err(why))` not found, go on; `Err(_)` found but unusable (stop).
pub fn probe(cx: &Context) -> Result<Result<Located, String>, String> {
    for name in [
        "PKG_CONFIG_PATH",
        "PKG_CONFIG_LIBDIR",
        "PKG_CONFIG_SYSROOT_DIR",
        "PKG_CONFIG",
    ] {
        cx.env.get(name);
    }
    let module = if cx.features.static_link {
        "tdjson_static"
    } else {
        "tdjson"
    };
    let library = match pkg_config::Config::new()
        .cargo_metadata(false)
        .env_metadata(false)
        .statik(cx.features.static_link)
        .probe(module)
    {
        Ok(library) => library,
        // The error text of pkg-config is long and multi-line; its first line says enough.
        Err(error) => {
            let first = error
                .to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned();
            return Ok(Err(format!("module {module} not found ({first})")));
        }
    };

    let linkage = if cx.features.static_link {
        // TDLib's own archives are linked in the order this crate knows (pkgconf walks the
        // Requires.private graph depth-first and repeats libraries, so its order is not one to
        // rely on); pkg-config contributes the folders and the system libraries.
        let libs =
            crate::search::static_libs(&library.link_paths, &cx.platform).map_err(|missing| {
                cx.failure(
                    &format!(
                        "pkg-config module {module} names the folders {:?}, but {} missing there.",
                        library.link_paths,
                        missing.join(", ")
                    ),
                    &[],
                )
            })?;
        let system_libs = last_occurrences(
            library
                .libs
                .iter()
                .filter(|name| !platform::STATIC_LIBS.contains(&name.as_str())),
        );
        Linkage::StaticPkgConfig { libs, system_libs }
    } else {
        let found = library
            .link_paths
            .iter()
            .find_map(|dir| crate::search::shared_in_dir(dir, &cx.platform, &cx.pin.version));
        match found {
            Some(lib) => Linkage::Shared(lib),
            None => {
                return Err(cx.failure(
                    &format!(
                        "pkg-config module {module} names the folders {:?}, but none holds {}.",
                        library.link_paths,
                        cx.platform.link_file_names().join(" or ")
                    ),
                    &[],
                ));
            }
        }
    };
    Ok(Ok(Located {
        source: Source::PkgConfig,
        linkage,
        include_dirs: library
            .include_paths
            .iter()
            .filter_map(|dir| crate::search::include_dir(dir))
            .collect::<Vec<PathBuf>>(),
        schema: None,
        declared_version: Some(library.version),
    }))
}

/// Each name once, at its last position: a library must come after everything that needs it,
/// and pkg-config repeats a library after each of its users.
fn last_occurrences<'a>(names: impl DoubleEndedIterator<Item = &'a String>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for name in names.rev() {
        if !kept.contains(name) {
            kept.push(name.clone());
        }
    }
    kept.reverse();
    kept
}
