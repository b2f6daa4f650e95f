//! Finds the static archives of the libraries TDLib itself needs (OpenSSL, zlib, the C++
//! runtime) where distributions put them, for the feature `static-deps` and the `static=` words
//! of `TDLIB_STATIC_SYSTEM_LIBS`.
//!
//! rustc looks for a `static=` library only in `rustc-link-search` folders, never in the
//! compiler's own folders (a multiarch `lib/x86_64-linux-gnu`, gcc's private folder holding
//! `libstdc++.a`), so a bare `static=ssl` fails on most systems. The places, in order:
//!
//! 1. folders the user named for this library (`OPENSSL_LIB_DIR`, `OPENSSL_DIR`,
//!    `OPENSSL_ROOT_DIR`, `ZLIB_LIB_DIR`, `ZLIB_ROOT`): when one is set it is the only place, as
//!    with openssl-sys, so the archive linked is the one whose headers the user chose;
//! 2. `native=` folders of `TDLIB_STATIC_SYSTEM_LIBS`;
//! 3. the C or C++ compiler (`cc -print-file-name=libssl.a`), which knows its distribution's
//!    layout; it answers the bare name when it does not know the file;
//! 4. common folders: the multiarch folder (`cc -print-multiarch`), then, when not
//!    cross-compiling, `/usr/lib64`, `/usr/lib`, `/usr/local/lib64`, `/usr/local/lib`.
//!
//! Pure apart from running the compiler and looking at files, so the rules are unit-tested
//! (`tests/build_rules.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Which project a library belongs to: it decides the variables that name its folder and the
/// packages that ship its static archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    OpenSsl,
    Zlib,
    CxxRuntime,
    /// Anything else a user asks for with `static=` in `TDLIB_STATIC_SYSTEM_LIBS`.
    Other,
}

impl Group {
    /// The group of a library as the linker names it (`ssl` for `libssl.a`). MSVC's names
    /// (`libssl`, `zlib`) are known too, so `static-deps` there stops with a clear message
    /// instead of linking them dynamically unnoticed.
    pub fn of(lib: &str) -> Group {
        match lib {
            "ssl" | "crypto" | "libssl" | "libcrypto" => Group::OpenSsl,
            "z" | "zlib" => Group::Zlib,
            "stdc++" | "c++" | "c++abi" | "c++_static" | "c++_shared" | "supc++" => {
                Group::CxxRuntime
            }
            _ => Group::Other,
        }
    }

    /// Whether `static-deps` links this group from static archives (the rest, the C library's
    /// parts and the OS's own libraries, stay dynamic).
    pub fn linked_statically_by_static_deps(self) -> bool {
        self != Group::Other
    }

    fn project(self) -> &'static str {
        match self {
            Group::OpenSsl => "OpenSSL",
            Group::Zlib => "zlib",
            Group::CxxRuntime => "the C++ runtime",
            Group::Other => "",
        }
    }

    /// Variables naming the folder of this group's archives, most specific first, each with
    /// the subfolders to look in (empty: the folder itself).
    pub fn folder_variables(self) -> &'static [(&'static str, &'static [&'static str])] {
        const PREFIX: &[&str] = &["lib", "lib64"];
        match self {
            Group::OpenSsl => &[
                ("OPENSSL_LIB_DIR", &[""]),
                ("OPENSSL_DIR", PREFIX),
                ("OPENSSL_ROOT_DIR", PREFIX),
            ],
            Group::Zlib => &[("ZLIB_LIB_DIR", &[""]), ("ZLIB_ROOT", PREFIX)],
            Group::CxxRuntime | Group::Other => &[],
        }
    }

    /// The packages that ship the static archives, per distribution family. `gcc_major` is
    /// the major version of the C++ compiler, which Debian's libstdc++ package is named after.
    pub fn packages(self, gcc_major: Option<&str>) -> Vec<(&'static str, String)> {
        let owned = |text: &str| text.to_owned();
        match self {
            Group::OpenSsl => vec![
                ("Debian, Ubuntu", owned("libssl-dev")),
                ("Fedora, RHEL", owned("openssl-devel and openssl-static")),
                ("Alpine", owned("openssl-libs-static")),
            ],
            Group::Zlib => vec![
                ("Debian, Ubuntu", owned("zlib1g-dev")),
                (
                    "Fedora, RHEL",
                    owned("zlib-static (zlib-ng-compat-static on Fedora 40 and later)"),
                ),
                ("Alpine", owned("zlib-static")),
            ],
            Group::CxxRuntime => vec![
                (
                    "Debian, Ubuntu",
                    format!("libstdc++-{}-dev", gcc_major.unwrap_or("<gcc version>")),
                ),
                ("Fedora, RHEL", owned("libstdc++-static")),
                ("Alpine", owned("libstdc++-dev")),
            ],
            Group::Other => Vec::new(),
        }
    }
}

/// A folder to look in, and why it is on the list (shown when the archive is missing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub dir: PathBuf,
    pub origin: String,
}

impl Place {
    pub fn new(dir: impl Into<PathBuf>, origin: impl Into<String>) -> Place {
        Place {
            dir: dir.into(),
            origin: origin.into(),
        }
    }
}

/// The folders named by the first of `group`'s folder variables that is set. `get` reads a
/// variable (unset and empty are both `None`).
pub fn places_from_variables(group: Group, get: impl Fn(&str) -> Option<String>) -> Vec<Place> {
    for (name, subdirs) in group.folder_variables() {
        if let Some(value) = get(name) {
            return subdirs
                .iter()
                .map(|sub| {
                    let dir = if sub.is_empty() {
                        PathBuf::from(&value)
                    } else {
                        Path::new(&value).join(sub)
                    };
                    Place::new(
                        dir,
                        format!("from {name}, the only place looked in while set"),
                    )
                })
                .collect();
        }
    }
    Vec::new()
}

/// A C or C++ compiler to ask where libraries are, as the `cc` crate picks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compiler {
    /// The program and its leading arguments (`CC="ccache gcc"`, `CC="clang --target=..."`).
    pub words: Vec<String>,
}

impl Compiler {
    /// `tool` is `CC` or `CXX`. Reads `<tool>_<target>`, `<tool>_<target with underscores>`,
    /// `HOST_<tool>` or `TARGET_<tool>`, then `<tool>`; defaults to `cc` or `c++`.
    pub fn pick(
        tool: &str,
        target: &str,
        host: &str,
        get: impl Fn(&str) -> Option<String>,
    ) -> Compiler {
        let kind = if target == host { "HOST" } else { "TARGET" };
        let names = [
            format!("{tool}_{target}"),
            format!("{tool}_{}", target.replace('-', "_")),
            format!("{kind}_{tool}"),
            tool.to_owned(),
        ];
        let words = names
            .iter()
            .find_map(|name| get(name))
            .map(|value| value.split_whitespace().map(str::to_owned).collect())
            .filter(|words: &Vec<String>| !words.is_empty())
            .unwrap_or_else(|| vec![if tool == "CXX" { "c++" } else { "cc" }.to_owned()]);
        Compiler { words }
    }

    /// The command as a user would type it, with `arg`.
    pub fn shown(&self, arg: &str) -> String {
        format!("`{} {arg}`", self.words.join(" "))
    }

    /// The compiler's one-line answer to `arg`, or why there is none.
    pub fn ask(&self, arg: &str) -> Result<String, String> {
        let output = Command::new(&self.words[0])
            .args(&self.words[1..])
            .arg(arg)
            .output()
            .map_err(|error| format!("could not run {}: {error}", self.words[0]))?;
        if !output.status.success() {
            return Err(format!("failed ({})", output.status));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }
}

/// What a compiler said about one file name (`-print-file-name=<file>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompilerAnswer {
    /// It knows the file: the path it printed.
    Found(PathBuf),
    /// It printed the bare name back, or something that is not a file.
    Unknown,
    /// It could not be asked.
    Failed(String),
}

impl CompilerAnswer {
    /// Interprets the compiler's output (or the failure to run it).
    pub fn from_output(output: Result<String, String>) -> CompilerAnswer {
        match output {
            Err(why) => CompilerAnswer::Failed(why),
            Ok(text) => {
                let path = PathBuf::from(text);
                if path.is_absolute() && path.is_file() {
                    CompilerAnswer::Found(path)
                } else {
                    CompilerAnswer::Unknown
                }
            }
        }
    }
}

/// The folders to look in when the compiler does not know a file. `multiarch` is the
/// compiler's `-print-multiarch` answer (empty on systems without multiarch); the host's
/// folders are added only when building for the host, since they hold the host's archives.
pub fn common_places(multiarch: &str, building_for_host: bool) -> Vec<Place> {
    let mut places = Vec::new();
    if !multiarch.is_empty() {
        places.push(Place::new(
            Path::new("/usr/lib").join(multiarch),
            "the compiler's multiarch folder",
        ));
    }
    if building_for_host {
        for dir in [
            "/usr/lib64",
            "/usr/lib",
            "/usr/local/lib64",
            "/usr/local/lib",
        ] {
            places.push(Place::new(dir, "a common folder"));
        }
    }
    places
}

/// The result of looking for one archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    /// The library as the linker names it (`ssl`).
    pub lib: String,
    /// The archive's file name (`libssl.a`).
    pub file_name: String,
    pub group: Group,
    /// Where it was looked for, in order, each with what was found there.
    pub tried: Vec<String>,
    /// The archive, with symbolic links and `..` resolved.
    pub found: Option<PathBuf>,
}

/// Where to look for one archive: see the module documentation for the order.
#[derive(Clone, Debug, Default)]
pub struct Search {
    /// Folders the user named for the archive's group; when not empty, the only places.
    pub named: Vec<Place>,
    /// Folders the user added for every archive (`native=` of `TDLIB_STATIC_SYSTEM_LIBS`).
    pub extra: Vec<Place>,
    /// The compiler to ask, and its answer for this archive.
    pub compiler: Option<(String, CompilerAnswer)>,
    pub common: Vec<Place>,
}

/// Looks for `file_name` (the archive of `lib`) in the places of `search`, in order.
pub fn find(lib: &str, file_name: &str, search: &Search) -> Lookup {
    let mut lookup = Lookup {
        lib: lib.to_owned(),
        file_name: file_name.to_owned(),
        group: Group::of(lib),
        tried: Vec::new(),
        found: None,
    };
    let look_in = |lookup: &mut Lookup, place: &Place| {
        let path = place.dir.join(file_name);
        if path.is_file() {
            lookup.found = Some(std::fs::canonicalize(&path).unwrap_or(path));
            return true;
        }
        let what = if place.dir.is_dir() {
            format!("no {file_name} there")
        } else {
            "does not exist".to_owned()
        };
        lookup.tried.push(format!(
            "{} ({}): {what}",
            place.dir.display(),
            place.origin
        ));
        false
    };

    if !search.named.is_empty() {
        for place in &search.named {
            if look_in(&mut lookup, place) {
                return lookup;
            }
        }
        return lookup;
    }
    for place in &search.extra {
        if look_in(&mut lookup, place) {
            return lookup;
        }
    }
    if let Some((command, answer)) = &search.compiler {
        match answer {
            CompilerAnswer::Found(path) => {
                lookup.found = Some(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone()));
                return lookup;
            }
            CompilerAnswer::Unknown => lookup
                .tried
                .push(format!("{command}: the compiler does not know it")),
            CompilerAnswer::Failed(why) => lookup.tried.push(format!("{command}: {why}")),
        }
    }
    for place in &search.common {
        if look_in(&mut lookup, place) {
            return lookup;
        }
    }
    lookup
}

/// The one message for archives that were not found, in the style of openssl-sys: what was
/// wanted, where it was looked for, the packages that ship it, the variables that point at
/// another installation, and the target. `asked_by` says what wants the archives linked
/// (the feature, the variable); `static_deps` adds how to link dynamically instead.
pub fn missing_message(
    missing: &[&Lookup],
    asked_by: &str,
    static_deps: bool,
    gcc_major: Option<&str>,
    target: &str,
    host: &str,
) -> String {
    let names: Vec<&str> = missing
        .iter()
        .map(|lookup| lookup.file_name.as_str())
        .collect();
    let mut out = format!(
        "\ntdlib-sys: could not find the static {} {}, which {asked_by} links into the program.\n",
        if missing.len() == 1 {
            "archive"
        } else {
            "archives"
        },
        names.join(", "),
    );
    for lookup in missing {
        let project = lookup.group.project();
        out.push_str(&format!(
            "\n{}{} was looked for in:\n",
            lookup.file_name,
            if project.is_empty() {
                String::new()
            } else {
                format!(" ({project})")
            }
        ));
        for tried in &lookup.tried {
            out.push_str(&format!("  - {tried}\n"));
        }
        if lookup.tried.is_empty() {
            out.push_str("  - nowhere: no folder, compiler or common folder applies\n");
        }
    }

    let mut groups: Vec<Group> = Vec::new();
    for lookup in missing {
        if !groups.contains(&lookup.group) {
            groups.push(lookup.group);
        }
    }
    for group in groups {
        let files: Vec<&str> = missing
            .iter()
            .filter(|lookup| lookup.group == group)
            .map(|lookup| lookup.file_name.as_str())
            .collect();
        if group == Group::Other {
            out.push_str(&format!(
                "\nAdd the folder holding {} with `native=<folder>` in TDLIB_STATIC_SYSTEM_LIBS.\n",
                files.join(" and ")
            ));
            continue;
        }
        out.push_str(&format!(
            "\nThe static archives of {} come with these packages:\n",
            group.project()
        ));
        for (family, packages) in group.packages(gcc_major) {
            out.push_str(&format!("  {family}: {packages}\n"));
        }
        let variables = group.folder_variables();
        if let [(lib_dir, _), (prefix, _), ..] = variables {
            out.push_str(&format!(
                "If it is installed elsewhere, set {lib_dir}=<folder holding {}> or {prefix}=<its install prefix>.\n",
                files.join(" and ")
            ));
        } else {
            out.push_str(
                "If the compiler that is asked is not the one that builds the program, set CXX \
                 (or CXX_<target>) to that compiler.\n",
            );
        }
    }
    if static_deps {
        out.push_str(
            "\nWithout the feature `static-deps` (keeping `static`), OpenSSL, zlib and the C++ \
             runtime are linked dynamically instead.\n",
        );
    }
    out.push_str(&format!(
        "\n$HOST = {host}\n$TARGET = {target}\ntdlib-sys = {}\n",
        env!("CARGO_PKG_VERSION")
    ));
    out
}
