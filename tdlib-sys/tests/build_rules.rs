//! Unit tests of the build script's pure rules (naming, folder search, ELF reading, the pin, the
//! search for static archives), compiled from the build script's own source files.

#[path = "../build/elf.rs"]
mod elf;
#[path = "../build/pin.rs"]
mod pin;
#[path = "../build/platform.rs"]
mod platform;
#[path = "../build/search.rs"]
mod search;
#[path = "../build/system_archives.rs"]
mod system_archives;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use platform::{Os, Platform, STATIC_LIBS, Toolchain};
use system_archives::{Compiler, CompilerAnswer, Group, Place, Search};

const LINUX: Platform = Platform {
    os: Os::Linux,
    toolchain: Toolchain::Gnu,
};
const MACOS: Platform = Platform {
    os: Os::Apple,
    toolchain: Toolchain::Other,
};
const WINDOWS_MSVC: Platform = Platform {
    os: Os::Windows,
    toolchain: Toolchain::Msvc,
};
const WINDOWS_GNU: Platform = Platform {
    os: Os::Windows,
    toolchain: Toolchain::Gnu,
};

/// A fresh empty folder under Cargo's per-test scratch folder.
fn scratch(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("build_rules")
        .join(format!(
            "{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn touch(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, b"").unwrap();
}

#[test]
fn pin_parses_and_matches_the_crate_version() {
    let pin = pin::Pin::parse(include_str!("../tdlib.pin")).unwrap();
    assert_eq!(
        pin.version.split('.').count(),
        3,
        "version {:?}",
        pin.version
    );
    assert_eq!(pin.commit.len(), 40);
    assert_eq!(pin.schema_sha256.len(), 64);
    // The crate version's build metadata carries the pinned TDLib version.
    let metadata = env!("CARGO_PKG_VERSION")
        .split_once('+')
        .map(|(_, meta)| meta);
    assert_eq!(metadata, Some(pin.version.as_str()));
    assert_eq!(tdlib_sys::TDLIB_VERSION, pin.version);
    assert_eq!(tdlib_sys::TDLIB_COMMIT, pin.commit);
}

#[test]
fn pin_errors_name_the_problem() {
    const COMMIT: &str = "062f26052623dbecedb42075cab78a759e9f9987";
    const SHA: &str = "4933ca4d947766343bcb67d781cb7098bdecef8f96940f9087af41a1092db560";
    let error = pin::Pin::parse("version=1\ncommit=abc\n").unwrap_err();
    assert!(error.contains("schema_sha256"), "{error}");
    let error = pin::Pin::parse("version 1.8.65\n").unwrap_err();
    assert!(error.contains("line 1"), "{error}");
    let head = format!(
        "# comment\n\nversion = 2.0.0\ncommit={COMMIT}\nschema_sha256={SHA}\nunknown=ignored\n"
    );
    let pin = pin::Pin::parse(&head).unwrap();
    assert_eq!(pin.version, "2.0.0");
    assert!(pin.prebuilts.is_empty());

    // Every value ends up in a path, a command line or a comparison: wrong shapes are refused.
    for (bad, named) in [
        (
            "version=1.8.65; rm -rf /\ncommit=c\nschema_sha256=s\n".to_owned(),
            "version",
        ),
        (
            format!("version=1.8.65\ncommit=c\nschema_sha256={SHA}\n"),
            "commit",
        ),
        (
            format!("version=1.8.65\ncommit={COMMIT}\nschema_sha256=s\n"),
            "schema_sha256",
        ),
        (
            format!("{head}prebuilt.linux-x86_64-gnu=@p/x@1.0.0 libtdjson.so\n"),
            "must be",
        ),
        (
            format!("{head}prebuilt.linux-x86_64-gnu=@p/x@latest libtdjson.so unverified\n"),
            "exact version",
        ),
        (
            format!("{head}prebuilt.linux-x86_64-gnu=@p/x@^1.0.0 libtdjson.so unverified\n"),
            "exact version",
        ),
        (
            format!("{head}prebuilt.linux-x86_64-gnu=--registry=x@1.0.0 libtdjson.so unverified\n"),
            "exact version",
        ),
        (
            format!("{head}prebuilt.linux-x86_64-gnu=@p/x@1.0.0 ../../etc/passwd unverified\n"),
            "plain file name",
        ),
        (
            format!("{head}prebuilt.linux-x86_64-gnu=@p/x@1.0.0 libtdjson.so 1234\n"),
            "neither a sha256",
        ),
        (
            format!("{head}prebuilt.Linux/x=@p/x@1.0.0 libtdjson.so unverified\n"),
            "target name",
        ),
        (
            format!(
                "{head}prebuilt.macos-x86_64=@p/x@1.0.0 a.dylib unverified\nprebuilt.macos-x86_64=@p/y@1.0.0 a.dylib unverified\n"
            ),
            "pinned twice",
        ),
    ] {
        let error = pin::Pin::parse(&bad).unwrap_err();
        assert!(error.contains(named), "{bad:?}: {error}");
    }

    let pin = pin::Pin::parse(&format!(
        "{head}prebuilt.linux-x86_64-gnu=@prebuilt-tdlib/linux-x64-glibc@0.1008065.0 libtdjson.so {SHA}\n\
         prebuilt.windows-x86_64=@prebuilt-tdlib/win32-x64@0.1008065.0 tdjson.dll unverified\n"
    ))
    .unwrap();
    let linux = pin.prebuilt("linux-x86_64-gnu").unwrap();
    assert_eq!(linux.sha256.as_deref(), Some(SHA));
    assert_eq!(
        linux.tarball_name(),
        "prebuilt-tdlib-linux-x64-glibc-0.1008065.0.tgz"
    );
    assert_eq!(pin.prebuilt("windows-x86_64").unwrap().sha256, None);
    assert!(pin.prebuilt("macos-aarch64").is_none());
}

#[test]
fn the_pinned_prebuilts_cover_every_published_target() {
    let pin = pin::Pin::parse(include_str!("../tdlib.pin")).unwrap();
    let targets: Vec<&str> = pin.prebuilts.iter().map(|p| p.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "linux-x86_64-gnu",
            "linux-aarch64-gnu",
            "linux-x86_64-musl",
            "linux-aarch64-musl",
            "macos-x86_64",
            "macos-aarch64",
            "windows-x86_64"
        ]
    );
    for prebuilt in &pin.prebuilts {
        let version = format!("@0.{}.0", version_number(&pin.version));
        assert!(
            prebuilt.package.ends_with(&version),
            "{prebuilt:?} is not of TDLib {}",
            pin.version
        );
    }
    // The host this crate is tested on has a checked prebuilt.
    assert!(pin.prebuilt("linux-x86_64-gnu").unwrap().sha256.is_some());
}

/// The prebuilt packages' version scheme: TDLib 1.8.65 is 0.1008065.0.
fn version_number(version: &str) -> String {
    let parts: Vec<u32> = version
        .split('.')
        .map(|part| part.parse().unwrap())
        .collect();
    format!("{}", parts[0] * 1_000_000 + parts[1] * 1_000 + parts[2])
}

#[test]
fn prebuilt_targets_from_cargo_cfg() {
    assert_eq!(
        platform::prebuilt_target("linux", "x86_64", "gnu"),
        "linux-x86_64-gnu"
    );
    assert_eq!(
        platform::prebuilt_target("linux", "aarch64", "musl"),
        "linux-aarch64-musl"
    );
    assert_eq!(
        platform::prebuilt_target("macos", "aarch64", ""),
        "macos-aarch64"
    );
    assert_eq!(
        platform::prebuilt_target("windows", "x86_64", "msvc"),
        "windows-x86_64"
    );
    assert_eq!(
        platform::prebuilt_target("windows", "x86_64", "gnu"),
        "windows-x86_64"
    );
    // GNU ld links the DLL, the only file of the Windows prebuilt; MSVC needs an import library.
    assert!(WINDOWS_GNU.link_file_names().contains(&"tdjson.dll"));
    assert!(!WINDOWS_MSVC.link_file_names().contains(&"tdjson.dll"));
}

#[test]
fn platform_from_cargo_cfg() {
    assert_eq!(Platform::from_cfg("linux", "gnu"), LINUX);
    assert_eq!(Platform::from_cfg("macos", ""), MACOS);
    assert_eq!(
        Platform::from_cfg("ios", ""),
        Platform {
            os: Os::Apple,
            toolchain: Toolchain::Other
        }
    );
    assert_eq!(Platform::from_cfg("windows", "msvc"), WINDOWS_MSVC);
    assert_eq!(Platform::from_cfg("windows", "gnu"), WINDOWS_GNU);
    assert_eq!(Platform::from_cfg("freebsd", "").os, Os::OtherUnix);
    assert_eq!(Platform::from_cfg("android", "").os, Os::Android);
}

#[test]
fn shared_library_names_per_platform() {
    assert_eq!(LINUX.link_file_names(), ["libtdjson.so"]);
    assert_eq!(LINUX.runtime_file_name("1.8.65"), "libtdjson.so.1.8.65");
    assert_eq!(MACOS.link_file_names(), ["libtdjson.dylib"]);
    assert_eq!(MACOS.runtime_file_name("1.8.65"), "libtdjson.1.8.65.dylib");
    assert_eq!(WINDOWS_MSVC.link_file_names(), ["tdjson.lib"]);
    assert_eq!(
        WINDOWS_GNU.link_file_names(),
        ["libtdjson.dll.a", "tdjson.lib", "tdjson.dll"]
    );
    assert_eq!(WINDOWS_MSVC.runtime_file_name("1.8.65"), "tdjson.dll");
    assert!(!WINDOWS_MSVC.runtime_file_is_linkable());
}

#[test]
fn static_library_names_and_runtimes_per_platform() {
    assert_eq!(LINUX.static_file_name("tdcore"), "libtdcore.a");
    assert_eq!(MACOS.static_file_name("tdcore"), "libtdcore.a");
    assert_eq!(WINDOWS_MSVC.static_file_name("tdcore"), "tdcore.lib");
    assert_eq!(WINDOWS_GNU.static_file_name("tdcore"), "libtdcore.a");
    assert_eq!(LINUX.cxx_runtime(), Some("stdc++"));
    assert_eq!(MACOS.cxx_runtime(), Some("c++"));
    assert_eq!(WINDOWS_MSVC.cxx_runtime(), None);
    assert_eq!(
        LINUX.static_system_libs(),
        ["ssl", "crypto", "z", "dl", "pthread"]
    );
    assert!(WINDOWS_MSVC.static_system_libs().contains(&"ws2_32"));
    // Each library comes before every library it needs (TDLib's pkg-config graph).
    let position = |lib: &str| STATIC_LIBS.iter().position(|name| *name == lib).unwrap();
    let needs = [
        ("tdjson_static", &["tdjson_private"][..]),
        ("tdjson_private", &["tdclient", "tdutils"]),
        ("tdclient", &["tdapi", "tdcore"]),
        (
            "tdcore",
            &[
                "tdapi",
                "tdnet",
                "tddb",
                "tdactor",
                "tde2e",
                "tdutils",
                "tdmtproto",
            ],
        ),
        ("tddb", &["tdactor", "tdutils", "tdsqlite"]),
        ("tdmtproto", &["tdactor", "tdnet", "tdutils"]),
        ("tdnet", &["tdutils", "tdactor"]),
        ("tdactor", &["tdutils"]),
        ("tdapi", &["tdutils"]),
    ];
    for (lib, deps) in needs {
        for dep in deps {
            assert!(
                position(lib) < position(dep),
                "{lib} must come before {dep}"
            );
        }
    }
}

#[test]
fn finds_the_shared_library_in_a_folder() {
    let dir = scratch("shared");
    assert_eq!(search::shared_in_dir(&dir, &LINUX, "1.8.65"), None);
    // Only the versioned file (as a build tree without the symlink): linkable on ELF.
    touch(&dir.join("libtdjson.so.1.8.65"));
    let found = search::shared_in_dir(&dir, &LINUX, "1.8.65").unwrap();
    assert_eq!(found.link_file, dir.join("libtdjson.so.1.8.65"));
    // The plain name wins when both exist.
    touch(&dir.join("libtdjson.so"));
    let found = search::shared_in_dir(&dir, &LINUX, "1.8.65").unwrap();
    assert_eq!(found.link_file, dir.join("libtdjson.so"));
    assert_eq!(found.runtime_file, Some(dir.join("libtdjson.so")));
    // Another release's versioned file is not mistaken for ours.
    let other = scratch("shared-other");
    touch(&other.join("libtdjson.so.1.8.0"));
    assert_eq!(search::shared_in_dir(&other, &LINUX, "1.8.65"), None);
}

#[test]
fn finds_the_shared_library_in_an_install_prefix() {
    let prefix = scratch("prefix");
    touch(&prefix.join("lib64/libtdjson.so"));
    let found = search::shared_in_prefix(&prefix, &LINUX, "1.8.65").unwrap();
    assert_eq!(found.link_file, prefix.join("lib64/libtdjson.so"));

    let mac = scratch("prefix-mac");
    touch(&mac.join("lib/libtdjson.dylib"));
    assert_eq!(
        search::shared_in_prefix(&mac, &MACOS, "1.8.65")
            .unwrap()
            .link_file,
        mac.join("lib/libtdjson.dylib")
    );

    // Windows: the import library in lib/, the DLL in bin/.
    let windows = scratch("prefix-windows");
    touch(&windows.join("lib/tdjson.lib"));
    assert_eq!(
        search::shared_in_prefix(&windows, &WINDOWS_MSVC, "1.8.65")
            .unwrap()
            .runtime_file,
        None
    );
    touch(&windows.join("bin/tdjson.dll"));
    let found = search::shared_in_prefix(&windows, &WINDOWS_MSVC, "1.8.65").unwrap();
    assert_eq!(found.link_file, windows.join("lib/tdjson.lib"));
    assert_eq!(found.runtime_file, Some(windows.join("bin/tdjson.dll")));
    // The GNU toolchain's import library name is preferred there.
    touch(&windows.join("lib/libtdjson.dll.a"));
    assert_eq!(
        search::shared_in_prefix(&windows, &WINDOWS_GNU, "1.8.65")
            .unwrap()
            .link_file,
        windows.join("lib/libtdjson.dll.a")
    );
}

#[test]
fn finds_static_libraries_in_a_build_tree_and_an_install_prefix() {
    let tree = scratch("build-tree");
    for lib in STATIC_LIBS {
        touch(
            &tree
                .join(platform::build_tree_subdir(lib))
                .join(format!("lib{lib}.a")),
        );
    }
    let found = search::static_libs(std::slice::from_ref(&tree), &LINUX).unwrap();
    let names: Vec<&str> = found.libs.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, STATIC_LIBS);
    assert_eq!(found.libs[11].1, tree.join("tdutils/libtdutils.a"));
    assert_eq!(found.libs[9].1, tree.join("sqlite/libtdsqlite.a"));
    assert_eq!(found.dirs()[0], tree);
    assert_eq!(
        found.dirs().len(),
        7,
        "top level plus six subfolders: {:?}",
        found.dirs()
    );

    let prefix = scratch("static-prefix");
    for lib in STATIC_LIBS
        .iter()
        .filter(|lib| **lib != "tde2e" && **lib != "tdsqlite")
    {
        touch(&prefix.join(format!("lib/lib{lib}.a")));
    }
    let roots = search::prefix_roots(&prefix, &LINUX);
    assert_eq!(
        search::static_libs(&roots, &LINUX).unwrap_err(),
        ["tde2e", "tdsqlite"]
    );
    touch(&prefix.join("lib/libtde2e.a"));
    touch(&prefix.join("lib/libtdsqlite.a"));
    assert_eq!(
        search::static_libs(&roots, &LINUX).unwrap().dirs(),
        [prefix.join("lib")]
    );
}

#[test]
fn finds_headers_and_describes_folders() {
    let dir = scratch("include");
    assert_eq!(search::include_dir(&dir), None);
    touch(&dir.join("td/telegram/td_json_client.h"));
    assert_eq!(search::include_dir(&dir), Some(dir.clone()));
    assert_eq!(search::describe_dir(&dir.join("missing")), "does not exist");
    assert_eq!(search::describe_dir(&dir), "holds no TDLib library");
    touch(&dir.join("libtdjson.so"));
    touch(&dir.join("libtdcore.a"));
    touch(&dir.join("unrelated.txt"));
    assert_eq!(
        search::describe_dir(&dir),
        "holds libtdcore.a, libtdjson.so"
    );
}

#[test]
fn reads_the_cmake_project_version() {
    let text =
        "cmake_minimum_required(VERSION 3.10)\nproject(TDLib VERSION 1.8.65 LANGUAGES CXX C)\n";
    assert_eq!(search::project_version(text).as_deref(), Some("1.8.65"));
    assert_eq!(
        search::project_version("project(TDLib LANGUAGES CXX)"),
        None
    );
    assert_eq!(search::project_version("project(Other VERSION 1.0)"), None);
    assert_eq!(search::project_version("project(TDLib VERSION"), None);
}

#[test]
fn reads_the_soname_of_the_linked_library() {
    let Some(path) = option_env!("TDLIB_SYS_TEST_LINKED_LIB") else {
        if !tdlib_sys::LINKED_STATICALLY {
            panic!("a dynamic build always records the linked file");
        }
        return;
    };
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        elf::soname(&bytes).unwrap().as_deref(),
        Some("libtdjson.so.1.8.65")
    );
    // Any truncation is an error or a partial answer, never a panic.
    for len in (0..4096).chain((0..64).map(|i| bytes.len() - i * 997)) {
        let _ = elf::soname(&bytes[..len.min(bytes.len())]);
    }
}

#[test]
fn needed_libraries_of_this_test_program() {
    let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    let needed = elf::needed(&exe).unwrap();
    assert!(needed.iter().any(|lib| lib == "libc.so.6"), "{needed:?}");
    // A shared library has NEEDED entries too, and its SONAME is not among them.
    if let Some(path) = option_env!("TDLIB_SYS_TEST_LINKED_LIB") {
        let needed = elf::needed(&std::fs::read(path).unwrap()).unwrap();
        assert!(!needed.is_empty());
        assert!(
            !needed.iter().any(|lib| lib.contains("tdjson")),
            "{needed:?}"
        );
    }
    assert!(elf::needed(b"\x7fELF").is_err());
    for len in 0..2048 {
        let _ = elf::needed(&exe[..len]);
    }
}

#[test]
fn soname_of_non_libraries() {
    // An executable has a dynamic section but no SONAME.
    let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    assert_eq!(elf::soname(&exe).unwrap(), None);
    assert!(elf::soname(b"").is_err());
    assert!(elf::soname(b"MZ\x90\x00 a Windows DLL header").is_err());
    let mut bad_class = b"\x7fELF".to_vec();
    bad_class.extend_from_slice(&[9; 12]);
    assert!(elf::soname(&bad_class).unwrap_err().contains("class"));
}

#[test]
fn static_deps_rules_per_platform() {
    assert_eq!(LINUX.static_cxx_runtime("stdc++"), ["stdc++"]);
    assert_eq!(LINUX.static_cxx_runtime("c++"), ["c++", "c++abi"]);
    // Apple's libc++ is part of the OS: it stays dynamic.
    assert!(MACOS.static_cxx_runtime("c++").is_empty());
    assert!(LINUX.supports_static_deps());
    assert!(WINDOWS_GNU.supports_static_deps());
    assert!(!WINDOWS_MSVC.supports_static_deps());

    // What `static-deps` takes from static archives, and what stays with the C library.
    for lib in ["ssl", "crypto", "z", "stdc++", "c++", "c++abi"] {
        assert!(Group::of(lib).linked_statically_by_static_deps(), "{lib}");
    }
    for lib in ["dl", "pthread", "m", "rt", "ws2_32"] {
        assert!(!Group::of(lib).linked_statically_by_static_deps(), "{lib}");
    }
    assert_eq!(
        Group::CxxRuntime.packages(Some("12"))[0],
        ("Debian, Ubuntu", "libstdc++-12-dev".to_owned())
    );
}

#[test]
fn archive_folders_from_variables() {
    let vars = |set: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            set.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    };
    let dirs = |places: Vec<Place>| -> Vec<PathBuf> {
        places.into_iter().map(|place| place.dir).collect()
    };
    // The folder variable wins over the prefix; a prefix means lib/ then lib64/.
    let both = vars(&[("OPENSSL_LIB_DIR", "/a"), ("OPENSSL_DIR", "/b")]);
    assert_eq!(
        dirs(system_archives::places_from_variables(Group::OpenSsl, both)),
        [PathBuf::from("/a")]
    );
    let prefix = vars(&[("OPENSSL_DIR", "/b"), ("OPENSSL_ROOT_DIR", "/c")]);
    assert_eq!(
        dirs(system_archives::places_from_variables(
            Group::OpenSsl,
            prefix
        )),
        [PathBuf::from("/b/lib"), PathBuf::from("/b/lib64")]
    );
    let cmake = vars(&[("ZLIB_ROOT", "/z")]);
    assert_eq!(
        system_archives::places_from_variables(Group::Zlib, cmake)[0].origin,
        "from ZLIB_ROOT, the only place looked in while set"
    );
    assert!(system_archives::places_from_variables(Group::Zlib, vars(&[])).is_empty());
    let unrelated = vars(&[("OPENSSL_DIR", "/b")]);
    assert!(system_archives::places_from_variables(Group::CxxRuntime, unrelated).is_empty());
}

#[test]
fn compiler_is_picked_like_the_cc_crate_does() {
    let target = "aarch64-unknown-linux-gnu";
    let host = "x86_64-unknown-linux-gnu";
    let env = |set: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            set.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    };
    assert_eq!(Compiler::pick("CC", host, host, env(&[])).words, ["cc"]);
    assert_eq!(Compiler::pick("CXX", host, host, env(&[])).words, ["c++"]);
    let set = env(&[
        ("CC", "gcc"),
        ("TARGET_CC", "clang --target=aarch64-linux-gnu"),
        ("CC_aarch64_unknown_linux_gnu", "aarch64-linux-gnu-gcc"),
    ]);
    assert_eq!(
        Compiler::pick("CC", target, host, set).words,
        ["aarch64-linux-gnu-gcc"]
    );
    let set = env(&[("CC", "gcc"), ("TARGET_CC", "ccache clang")]);
    let compiler = Compiler::pick("CC", target, host, set);
    assert_eq!(compiler.words, ["ccache", "clang"]);
    assert_eq!(
        compiler.shown("-print-multiarch"),
        "`ccache clang -print-multiarch`"
    );
    // Building for the host, HOST_CC counts and TARGET_CC does not.
    let set = env(&[("TARGET_CC", "x"), ("HOST_CC", "y")]);
    assert_eq!(Compiler::pick("CC", host, host, set).words, ["y"]);
}

#[test]
fn compiler_answers() {
    let dir = scratch("compiler-answer");
    touch(&dir.join("libssl.a"));
    let path = dir.join("libssl.a").display().to_string();
    assert_eq!(
        CompilerAnswer::from_output(Ok(path.clone())),
        CompilerAnswer::Found(PathBuf::from(path))
    );
    // A compiler that does not know a file prints its bare name back.
    assert_eq!(
        CompilerAnswer::from_output(Ok("libssl.a".to_owned())),
        CompilerAnswer::Unknown
    );
    assert_eq!(
        CompilerAnswer::from_output(Err("could not run cc".to_owned())),
        CompilerAnswer::Failed("could not run cc".to_owned())
    );
    // The real C compiler (the one Rust links with) behaves that way.
    let cc = Compiler::pick("CC", "t", "t", |_: &str| None);
    assert_eq!(
        CompilerAnswer::from_output(cc.ask("-print-file-name=libtdlib-sys-no-such-library.a")),
        CompilerAnswer::Unknown
    );
    let missing = Compiler {
        words: vec!["tdlib-sys-no-such-compiler".to_owned()],
    };
    assert!(matches!(
        CompilerAnswer::from_output(missing.ask("-print-multiarch")),
        CompilerAnswer::Failed(why) if why.contains("could not run")
    ));
}

#[test]
fn common_archive_folders() {
    let native = system_archives::common_places("x86_64-linux-gnu", true);
    assert_eq!(native[0].dir, Path::new("/usr/lib/x86_64-linux-gnu"));
    assert!(
        native
            .iter()
            .any(|place| place.dir == Path::new("/usr/lib64"))
    );
    assert!(
        native
            .iter()
            .any(|place| place.dir == Path::new("/usr/local/lib"))
    );
    // Cross-compiling, the host's folders hold the wrong architecture's archives.
    let cross = system_archives::common_places("aarch64-linux-gnu", false);
    assert_eq!(cross.len(), 1);
    assert_eq!(cross[0].dir, Path::new("/usr/lib/aarch64-linux-gnu"));
    assert!(system_archives::common_places("", false).is_empty());
}

#[test]
fn finds_archives_in_order() {
    let root = scratch("archives");
    let named = root.join("named");
    let extra = root.join("extra");
    let common = root.join("common");
    let compiler_dir = root.join("gcc/12");
    for dir in [&named, &extra, &common] {
        std::fs::create_dir_all(dir).unwrap();
    }
    touch(&common.join("libssl.a"));
    touch(&compiler_dir.join("libstdc++.a"));
    let place = |dir: &Path, origin: &str| Place::new(dir, origin);

    // Not known to the compiler: the common folders answer.
    let search = Search {
        named: Vec::new(),
        extra: vec![place(&extra, "native=")],
        compiler: Some((
            "`cc -print-file-name=libssl.a`".to_owned(),
            CompilerAnswer::Unknown,
        )),
        common: vec![
            place(&root.join("absent"), "a common folder"),
            place(&common, "a common folder"),
        ],
    };
    let lookup = system_archives::find("ssl", "libssl.a", &search);
    assert_eq!(
        lookup.found,
        Some(std::fs::canonicalize(common.join("libssl.a")).unwrap())
    );
    assert_eq!(lookup.group, Group::OpenSsl);

    // The user's native= folder comes first.
    touch(&extra.join("libssl.a"));
    let lookup = system_archives::find("ssl", "libssl.a", &search);
    assert_eq!(
        lookup.found,
        Some(std::fs::canonicalize(extra.join("libssl.a")).unwrap())
    );

    // A folder named by a variable is the only place: nothing else is taken instead.
    let only_named = Search {
        named: vec![place(&named, "from OPENSSL_LIB_DIR")],
        ..search.clone()
    };
    let lookup = system_archives::find("ssl", "libssl.a", &only_named);
    assert_eq!(lookup.found, None);
    assert_eq!(
        lookup.tried,
        [format!(
            "{} (from OPENSSL_LIB_DIR): no libssl.a there",
            named.display()
        )]
    );

    // The compiler's answer, with its `..` resolved.
    let answer = compiler_dir.join("../12/libstdc++.a");
    let via_compiler = Search {
        compiler: Some((
            "`c++ -print-file-name=libstdc++.a`".to_owned(),
            CompilerAnswer::Found(answer),
        )),
        ..Search::default()
    };
    let lookup = system_archives::find("stdc++", "libstdc++.a", &via_compiler);
    assert_eq!(
        lookup.found,
        Some(std::fs::canonicalize(compiler_dir.join("libstdc++.a")).unwrap())
    );

    // Nowhere: every place is listed with what it held.
    let lookup = system_archives::find("z", "libz.a", &search);
    assert_eq!(lookup.found, None);
    assert_eq!(lookup.tried.len(), 4, "{:?}", lookup.tried);
    assert!(lookup.tried[1].contains("the compiler does not know it"));
    assert!(lookup.tried[2].ends_with("(a common folder): does not exist"));
}

#[test]
fn missing_archives_message() {
    let lookup = |lib: &str, file_name: &str, tried: &str| system_archives::Lookup {
        lib: lib.to_owned(),
        file_name: file_name.to_owned(),
        group: Group::of(lib),
        tried: vec![tried.to_owned()],
        found: None,
    };
    let ssl = lookup(
        "ssl",
        "libssl.a",
        "`cc -print-file-name=libssl.a`: the compiler does not know it",
    );
    let z = lookup(
        "z",
        "libz.a",
        "/usr/lib64 (a common folder): does not exist",
    );
    let stdcxx = lookup(
        "stdc++",
        "libstdc++.a",
        "`c++ -print-file-name=libstdc++.a`: the compiler does not know it",
    );
    let message = system_archives::missing_message(
        &[&ssl, &z, &stdcxx],
        "the feature `static-deps`",
        true,
        Some("12"),
        "x86_64-unknown-linux-gnu",
        "x86_64-unknown-linux-gnu",
    );
    for expected in [
        "could not find the static archives libssl.a, libz.a, libstdc++.a, which the feature `static-deps` links into the program",
        "libssl.a (OpenSSL) was looked for in:\n  - `cc -print-file-name=libssl.a`: the compiler does not know it",
        "Debian, Ubuntu: libssl-dev",
        "Alpine: openssl-libs-static",
        "OPENSSL_LIB_DIR=<folder holding libssl.a> or OPENSSL_DIR=<its install prefix>",
        "Debian, Ubuntu: zlib1g-dev",
        "ZLIB_LIB_DIR=<folder holding libz.a> or ZLIB_ROOT=<its install prefix>",
        "Debian, Ubuntu: libstdc++-12-dev",
        "Fedora, RHEL: libstdc++-static",
        "Without the feature `static-deps` (keeping `static`)",
        "$TARGET = x86_64-unknown-linux-gnu",
    ] {
        assert!(message.contains(expected), "{expected:?} in:\n{message}");
    }
    let other = lookup(
        "foo",
        "libfoo.a",
        "/x (native= of TDLIB_STATIC_SYSTEM_LIBS): no libfoo.a there",
    );
    let message = system_archives::missing_message(
        &[&other],
        "TDLIB_STATIC_SYSTEM_LIBS",
        false,
        None,
        "t",
        "h",
    );
    assert!(
        message.contains(
            "could not find the static archive libfoo.a, which TDLIB_STATIC_SYSTEM_LIBS links"
        ),
        "{message}"
    );
    assert!(message.contains("`native=<folder>`"), "{message}");
    assert!(!message.contains("static-deps"), "{message}");
}
