//! The prebuilt-library checker (`xtask/src/format.rs`) against real official TDLib builds.
//!
//! The files come from the npm packages of the prebuilt-tdlib project, fetched with the npm client
//! (`npm pack`) and extracted with `tar`, the way the upgrade task gets them. They are cached
//! outside the repository, so only the first run downloads (about 95 MB, three tarballs):
//! `$TDLIB_CACHE_DIR`, else `$XDG_CACHE_HOME/tdlib-rs`, else `$HOME/.cache/tdlib-rs`, in
//! `format-fixtures/<package file name>/package/`. Without npm, or when the fetch fails, the tests
//! fail and say why: they are never skipped silently.
//!
//! Each file must pass as its own target, be refused as other targets with a message naming both
//! sides, be refused once truncated, and be refused naming the function once one of its exported
//! names is overwritten.

#[allow(dead_code)]
#[path = "../src/format.rs"]
mod format;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use format::{Arch, Format, Libc, REQUIRED_SYMBOLS, Report, Target, check};

/// An npm package holding official prebuilt libraries.
struct Package {
    /// What `npm pack` is given.
    spec: &'static str,
    /// The tarball `npm pack` writes, without `.tgz`: the name of the cache folder.
    name: &'static str,
}

/// TDLib 1.8.65 for Linux x86_64, glibc.
const GLIBC: Package = Package {
    spec: "@prebuilt-tdlib/linux-x64-glibc@0.1008065.0",
    name: "prebuilt-tdlib-linux-x64-glibc-0.1008065.0",
};
/// TDLib 1.8.62 for Linux x86_64, musl.
const MUSL: Package = Package {
    spec: "@prebuilt-tdlib/linux-x64-musl@0.1008062.2",
    name: "prebuilt-tdlib-linux-x64-musl-0.1008062.2",
};
/// TDLib 1.8.29, the older package with every platform in it.
const ALL_IN_ONE: Package = Package {
    spec: "prebuilt-tdlib@0.1008029.1",
    name: "prebuilt-tdlib-0.1008029.1",
};

/// The sha256 of GLIBC's `libtdjson.so`, as `tdlib-sys/tdlib.pin` has it.
const GLIBC_SHA256: &str = "d8f3282e4160580ffcdeaac95ac930ece51904b8fb595da109992e3f87ad903e";

/// A library file in one of the packages.
#[derive(Clone, Copy)]
struct Library {
    package: &'static Package,
    /// The path inside the extracted tarball.
    path: &'static str,
    /// The target the file is published for.
    target: &'static str,
}

const GLIBC_SO: Library = Library {
    package: &GLIBC,
    path: "package/libtdjson.so",
    target: "linux-x86_64-gnu",
};
const MUSL_SO: Library = Library {
    package: &MUSL,
    path: "package/libtdjson.so",
    target: "linux-x86_64-musl",
};
const OLD_SO: Library = Library {
    package: &ALL_IN_ONE,
    path: "package/prebuilds/tdlib-linux-x64/libtdjson.so",
    target: "linux-x86_64-gnu",
};
const OLD_DYLIB: Library = Library {
    package: &ALL_IN_ONE,
    path: "package/prebuilds/tdlib-macos/libtdjson.dylib",
    target: "macos-x86_64",
};
const OLD_DLL: Library = Library {
    package: &ALL_IN_ONE,
    path: "package/prebuilds/tdlib-windows-x64/tdjson.dll",
    target: "windows-x86_64",
};
const LIBRARIES: [Library; 5] = [GLIBC_SO, MUSL_SO, OLD_SO, OLD_DYLIB, OLD_DLL];

fn target(key: &str) -> Target {
    Target::from_key(key).unwrap_or_else(|| panic!("{key} is not a target key"))
}

/// Where downloads are kept between runs.
fn cache_root() -> PathBuf {
    let non_empty = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(dir) = non_empty("TDLIB_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = non_empty("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("tdlib-rs");
    }
    match non_empty("HOME") {
        Some(home) => PathBuf::from(home).join(".cache").join("tdlib-rs"),
        None => panic!("set TDLIB_CACHE_DIR, XDG_CACHE_HOME or HOME: the test caches downloads"),
    }
}

/// Runs `command` in `dir`; `Err` says what failed, with the command's output.
fn run(mut command: Command, dir: &Path) -> Result<String, String> {
    let output = command.current_dir(dir).output().map_err(|error| {
        let program = command.get_program().to_string_lossy().into_owned();
        format!("cannot start {program} ({error}); is {program} installed and on the PATH?")
    })?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!(
            "{command:?} in {} failed ({})\nstdout:\n{stdout}\nstderr:\n{}",
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(stdout)
}

/// Fetches `package` with `npm pack` into the empty folder `dir` and extracts it there.
fn fetch_into(package: &Package, dir: &Path) -> Result<(), String> {
    let mut npm = Command::new("npm");
    npm.args(["pack", "--ignore-scripts", "--loglevel=warn", package.spec]);
    let stdout = run(npm, dir)?;
    let tarball = stdout
        .lines()
        .map(str::trim)
        .rfind(|line| line.ends_with(".tgz"))
        .ok_or_else(|| format!("npm pack named no tarball:\n{stdout}"))?
        .to_owned();
    if tarball != format!("{}.tgz", package.name) {
        return Err(format!(
            "npm pack wrote {tarball}, not {}.tgz",
            package.name
        ));
    }
    let mut tar = Command::new("tar");
    tar.args(["-xzf", &tarball]);
    run(tar, dir).map_err(|error| format!("cannot extract {tarball}: {error}"))?;
    std::fs::remove_file(dir.join(&tarball))
        .map_err(|error| format!("cannot remove {tarball}: {error}"))
}

/// The extracted tarball of `package`, fetched with `npm pack` unless the cache has it.
fn fetched(package: &Package) -> PathBuf {
    // Tests run on several threads: one fetch at a time, and none twice.
    static FETCHING: Mutex<()> = Mutex::new(());
    let _guard = FETCHING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let fixtures = cache_root().join("format-fixtures");
    let dir = fixtures.join(package.name);
    if dir.is_dir() {
        return dir;
    }
    // Extract beside the final folder, then rename: a cached folder is always complete.
    let temp = fixtures.join(format!(".{}.tmp-{}", package.name, std::process::id()));
    let _ = std::fs::remove_dir_all(&temp);
    let fetch = std::fs::create_dir_all(&temp)
        .map_err(|error| format!("cannot create {}: {error}", temp.display()))
        .and_then(|()| fetch_into(package, &temp));
    if let Err(error) = fetch {
        let _ = std::fs::remove_dir_all(&temp);
        panic!(
            "cannot fetch {} with npm, which this test needs: {error}",
            package.spec
        );
    }
    if let Err(error) = std::fs::rename(&temp, &dir) {
        // Another process may have cached the same package meanwhile.
        let _ = std::fs::remove_dir_all(&temp);
        assert!(
            dir.is_dir(),
            "cannot move {} to {}: {error}",
            temp.display(),
            dir.display()
        );
    }
    dir
}

/// The path of `library`, fetched if needed.
fn path_of(library: Library) -> PathBuf {
    let path = fetched(library.package).join(library.path);
    assert!(
        path.is_file(),
        "{} has no {}: remove {} to fetch it again",
        library.package.spec,
        library.path,
        fetched(library.package).display()
    );
    path
}

/// The contents of `library`, read once per test process.
fn bytes_of(library: Library) -> &'static [u8] {
    static READ: Mutex<Vec<(&'static str, &'static str, &'static [u8])>> = Mutex::new(Vec::new());
    let key = (library.package.name, library.path);
    if let Some(bytes) = READ
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .iter()
        .find(|(name, path, _)| (*name, *path) == key)
        .map(|(_, _, bytes)| *bytes)
    {
        return bytes;
    }
    let path = path_of(library);
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let mut read = READ.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, _, bytes)) = read.iter().find(|(name, path, _)| (*name, *path) == key) {
        return bytes;
    }
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    read.push((key.0, key.1, bytes));
    bytes
}

/// Checks `library` as `key`, expecting success.
fn passes(library: Library, key: &str) -> Report {
    let report = check(bytes_of(library), &target(key)).unwrap_or_else(|error| {
        panic!(
            "{} of {} refused as {key}: {error}",
            library.path, library.package.spec
        )
    });
    println!(
        "{} {} as {key}: {report}",
        library.package.name, library.path
    );
    for symbol in REQUIRED_SYMBOLS {
        assert!(
            report.td_exports.iter().any(|name| name == symbol),
            "{report:?}"
        );
    }
    report
}

/// Checks `bytes` as `key`, expecting a refusal whose message contains every one of `names`.
fn refused(bytes: &[u8], key: &str, names: &[&str]) -> String {
    let error = match check(bytes, &target(key)) {
        Ok(report) => panic!("passed as {key}, but should not: {report:?}"),
        Err(error) => error,
    };
    println!("refused as {key}: {error}");
    assert!(error.starts_with(&format!("{key}: expected ")), "{error}");
    for name in names {
        assert!(error.contains(name), "{error:?} does not name {name:?}");
    }
    assert!(!error.contains('\n'), "{error:?} is not one line");
    error
}

#[test]
fn the_fetch_gets_the_pinned_glibc_library() {
    let path = path_of(GLIBC_SO);
    let output = Command::new("sha256sum")
        .arg(&path)
        .output()
        .unwrap_or_else(|error| panic!("cannot run sha256sum: {error}"));
    assert!(
        output.status.success(),
        "sha256sum {} failed",
        path.display()
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout.split_whitespace().next(),
        Some(GLIBC_SHA256),
        "{}",
        path.display()
    );
}

#[test]
fn official_libraries_pass_as_their_own_targets() {
    let glibc = passes(GLIBC_SO, "linux-x86_64-gnu");
    assert_eq!(
        (glibc.format, glibc.arch, glibc.libc),
        (Format::Elf, Arch::X86_64, Some(Libc::Gnu))
    );
    assert!(
        glibc.needed.iter().any(|name| name == "libc.so.6"),
        "{glibc:?}"
    );

    let musl = passes(MUSL_SO, "linux-x86_64-musl");
    assert_eq!(
        (musl.format, musl.arch, musl.libc),
        (Format::Elf, Arch::X86_64, Some(Libc::Musl))
    );
    assert!(
        !musl.needed.iter().any(|name| name == "libc.so.6"),
        "{musl:?}"
    );

    let old = passes(OLD_SO, "linux-x86_64-gnu");
    assert_eq!(old.libc, Some(Libc::Gnu));

    let dll = passes(OLD_DLL, "windows-x86_64");
    assert_eq!(
        (dll.format, dll.arch, dll.libc),
        (Format::Pe, Arch::X86_64, None)
    );

    let dylib = passes(OLD_DYLIB, "macos-x86_64");
    assert_eq!((dylib.format, dylib.arch), (Format::MachO, Arch::X86_64));
    // The 1.8.29 dylib is universal: its arm64 slice is checked as macos-aarch64.
    assert_eq!(dylib.universal_slices, ["x86_64", "arm64"], "{dylib:?}");
    let arm = passes(OLD_DYLIB, "macos-aarch64");
    assert_eq!((arm.format, arm.arch), (Format::MachO, Arch::Aarch64));
    assert!(
        arm.summary.contains("arm64 slice of a universal file"),
        "{arm:?}"
    );

    // Every official build exports the same 14 td_ functions, the 10 required among them.
    for report in [&glibc, &musl, &old, &dll, &dylib, &arm] {
        assert_eq!(report.td_exports.len(), 14, "{report:?}");
    }
}

#[test]
fn official_libraries_are_refused_as_other_targets() {
    let dll = bytes_of(OLD_DLL);
    refused(dll, "linux-x86_64-gnu", &["ELF shared object", "PE DLL"]);
    refused(dll, "macos-x86_64", &["Mach-O dylib", "PE DLL"]);

    let musl = bytes_of(MUSL_SO);
    refused(musl, "linux-x86_64-gnu", &["glibc", "musl", "libc.so"]);
    refused(musl, "linux-aarch64-musl", &["aarch64", "x86_64"]);

    let glibc = bytes_of(GLIBC_SO);
    refused(glibc, "linux-x86_64-musl", &["musl", "glibc", "libc.so.6"]);
    refused(glibc, "linux-aarch64-gnu", &["aarch64", "x86_64"]);
    refused(glibc, "windows-x86_64", &["PE DLL", "ELF shared object"]);

    refused(bytes_of(OLD_SO), "linux-x86_64-musl", &["musl", "glibc"]);

    let dylib = bytes_of(OLD_DYLIB);
    refused(
        dylib,
        "windows-x86_64",
        &["PE DLL", "universal Mach-O file", "x86_64", "arm64"],
    );
    refused(dylib, "linux-aarch64-gnu", &["ELF shared object", "Mach-O"]);
}

#[test]
fn truncated_libraries_are_refused() {
    for library in LIBRARIES {
        let bytes = bytes_of(library);
        for len in [64 * 1024, bytes.len() / 2, bytes.len() - 1] {
            let error = refused(&bytes[..len], library.target, &[]);
            assert!(error.contains(", found "), "{error}");
        }
    }
    // The universal file cut inside its last (arm64) slice is refused for either slice.
    let dylib = bytes_of(OLD_DYLIB);
    for key in ["macos-x86_64", "macos-aarch64"] {
        refused(
            &dylib[..dylib.len() - 1],
            key,
            &["arm64 slice lies past its end"],
        );
    }
}

/// `bytes` with the first `\0<from>\0` made `\0<to>\0` (same length).
fn renamed(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let needle = [&[0], from.as_bytes(), &[0]].concat();
    let at = bytes
        .windows(needle.len())
        .position(|window| window == needle.as_slice())
        .unwrap_or_else(|| panic!("no {from} in the file"));
    let mut copy = bytes.to_vec();
    copy[at + 1..at + 1 + to.len()].copy_from_slice(to.as_bytes());
    copy
}

#[test]
fn a_renamed_export_is_missing() {
    for library in [GLIBC_SO, MUSL_SO, OLD_DLL] {
        let copy = renamed(bytes_of(library), "td_receive", "tx_receive");
        let error = refused(&copy, library.target, &["td_receive", "found "]);
        assert!(error.contains("that exports td_receive, found"), "{error}");
        assert!(error.contains("13 td_ exports"), "{error}");
    }
}

/// Deterministic pseudo-random numbers (xorshift64).
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Single-byte changes in the headers of real files, where the counts, offsets and sizes are:
/// whatever they say, the checker returns, passing or refusing, without panicking.
#[test]
fn changed_header_bytes_never_panic() {
    let mut state = 0x5eed_u64;
    for library in LIBRARIES {
        let mut bytes = bytes_of(library).to_vec();
        let len = bytes.len();
        // The start (file header, program headers, load commands, PE headers and section
        // table) and the end (ELF section headers).
        let mut regions = vec![(0, 4096.min(len)), (len.saturating_sub(2048), len)];
        if library.path.ends_with(".dylib") {
            // The load commands of each slice of the universal file.
            let slices = u32::from_be_bytes(bytes[4..8].try_into().unwrap()) as usize;
            for index in 0..slices.min(4) {
                let at = 8 + 20 * index + 8;
                let offset = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
                regions.push((offset, (offset + 4096).min(len)));
            }
        }
        let keys = if library.path.ends_with(".dylib") {
            vec!["macos-x86_64", "macos-aarch64"]
        } else {
            vec![library.target]
        };
        for (start, end) in regions {
            for _ in 0..12 {
                let at = start + (next_random(&mut state) as usize) % (end - start);
                let old = bytes[at];
                bytes[at] = next_random(&mut state) as u8;
                for key in &keys {
                    let _ = check(&bytes, &target(key));
                }
                bytes[at] = old;
            }
        }
    }
}
