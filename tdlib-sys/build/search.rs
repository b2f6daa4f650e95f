//! Looks for TDLib's libraries and headers in folders. Pure file-system lookups, no Cargo
//! environment, so the rules are unit-tested (`tests/build_rules.rs`).

use std::path::{Path, PathBuf};

use crate::platform::{Platform, STATIC_LIBS, build_tree_subdir};

/// A shared `libtdjson` found in a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedLib {
    /// The file the linker reads (`libtdjson.so`, `libtdjson.dylib`, an import library, or
    /// the versioned file itself when that is all the folder has).
    pub link_file: PathBuf,
    /// The file the program loads at run time (the same file on ELF and Apple systems; the DLL
    /// on Windows, if it was found).
    pub runtime_file: Option<PathBuf>,
}

/// TDLib's static libraries found under some roots, in link order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticLibs {
    /// `(library name, file)` for every entry of [`STATIC_LIBS`], in that order.
    pub libs: Vec<(&'static str, PathBuf)>,
}

impl StaticLibs {
    /// The folders to pass to the linker, each once, in first-use order.
    pub fn dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        for (_, file) in &self.libs {
            let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
        dirs
    }
}

/// Looks for the shared library in exactly `dir` (no subfolders).
pub fn shared_in_dir(dir: &Path, platform: &Platform, version: &str) -> Option<SharedLib> {
    let runtime_name = platform.runtime_file_name(version);
    let link_file = platform
        .link_file_names()
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
        .or_else(|| {
            let versioned = dir.join(&runtime_name);
            (platform.runtime_file_is_linkable() && versioned.is_file()).then_some(versioned)
        })?;
    let runtime_file = if platform.runtime_file_is_linkable() {
        Some(link_file.clone())
    } else {
        None
    };
    Some(SharedLib {
        link_file,
        runtime_file,
    })
}

/// Looks for the shared library in an install prefix (`lib/`, `lib64/`, or the folder itself),
/// and on Windows for the DLL in `bin/`.
pub fn shared_in_prefix(prefix: &Path, platform: &Platform, version: &str) -> Option<SharedLib> {
    let mut found = platform
        .prefix_lib_dirs()
        .iter()
        .find_map(|sub| shared_in_dir(&under(prefix, sub), platform, version))?;
    if found.runtime_file.is_none() {
        let dll = platform.runtime_file_name(version);
        found.runtime_file = platform
            .prefix_dll_dirs()
            .iter()
            .map(|sub| under(prefix, sub).join(&dll))
            .find(|path| path.is_file());
    }
    Some(found)
}

/// Looks for every one of TDLib's static libraries. Each is looked for in each root, then in the
/// subfolder where an uninstalled build tree leaves it (`tdutils/`, `sqlite/`, ...).
///
/// Returns the names of the missing libraries if any is missing: half a set cannot be linked.
pub fn static_libs(
    roots: &[PathBuf],
    platform: &Platform,
) -> Result<StaticLibs, Vec<&'static str>> {
    let mut libs = Vec::new();
    let mut missing = Vec::new();
    for lib in STATIC_LIBS {
        let file_name = platform.static_file_name(lib);
        let found = roots.iter().find_map(|root| {
            [
                root.join(&file_name),
                under(root, build_tree_subdir(lib)).join(&file_name),
            ]
            .into_iter()
            .find(|path| path.is_file())
        });
        match found {
            Some(path) => libs.push((lib, path)),
            None => missing.push(lib),
        }
    }
    if missing.is_empty() {
        Ok(StaticLibs { libs })
    } else {
        Err(missing)
    }
}

/// The folder to put on the compiler's include path if it holds `td/telegram/td_json_client.h`.
pub fn include_dir(dir: &Path) -> Option<PathBuf> {
    dir.join("td/telegram/td_json_client.h")
        .is_file()
        .then(|| dir.to_path_buf())
}

/// The subfolders of `prefix` that [`static_libs`] should search.
pub fn prefix_roots(prefix: &Path, platform: &Platform) -> Vec<PathBuf> {
    platform
        .prefix_lib_dirs()
        .iter()
        .map(|sub| under(prefix, sub))
        .collect()
}

/// `prefix/sub`, or `prefix` itself for an empty `sub` (no trailing separator in messages).
fn under(prefix: &Path, sub: &str) -> PathBuf {
    if sub.is_empty() {
        prefix.to_path_buf()
    } else {
        prefix.join(sub)
    }
}

/// The `x.y.z` of `project(TDLib VERSION x.y.z ...)` in a TDLib source tree's CMakeLists.txt.
#[cfg_attr(not(feature = "bundled"), allow(dead_code))]
pub fn project_version(cmake_lists: &str) -> Option<String> {
    let start = cmake_lists.find("project(TDLib")?;
    let rest = &cmake_lists[start..];
    let rest = &rest[..rest.find(')')?];
    let mut words = rest.split_whitespace();
    words.find(|word| *word == "VERSION")?;
    words.next().map(str::to_owned)
}

/// What a folder holds, for error messages: "holds libtdjson.so, libtdcore.a", "does not exist"...
pub fn describe_dir(dir: &Path) -> String {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return if dir.exists() {
            "cannot be read".to_owned()
        } else {
            "does not exist".to_owned()
        };
    };
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            name.starts_with("libtd")
                || (name.starts_with("td") && (name.ends_with(".lib") || name.ends_with(".dll")))
        })
        .collect();
    names.sort();
    if names.is_empty() {
        "holds no TDLib library".to_owned()
    } else {
        format!("holds {}", names.join(", "))
    }
}
