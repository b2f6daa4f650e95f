//! How TDLib's libraries are named, laid out and linked on each target.
//!
//! Only Linux is exercised by this crate's CI; the macOS and Windows rules follow TDLib's CMake
//! build (`libtdjson.1.8.65.dylib` with an `@rpath` install name; `tdjson.dll` in `bin/` with the
//! import library `tdjson.lib` in `lib/`) and are unit-tested as naming rules.

/// The target operating system family, as far as library naming is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Os {
    Linux,
    Android,
    Apple,
    Windows,
    /// Other ELF systems (FreeBSD, OpenBSD, NetBSD, ...).
    OtherUnix,
}

/// The target's C toolchain flavour where it changes file names (Windows only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Toolchain {
    Msvc,
    Gnu,
    Other,
}

/// Naming and linking rules for one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Platform {
    pub os: Os,
    pub toolchain: Toolchain,
}

/// TDLib's static libraries in a valid link order (each before everything it needs), as
/// produced by its CMake build. Linking `tdjson_static` needs all of them.
pub const STATIC_LIBS: [&str; 12] = [
    "tdjson_static",
    "tdjson_private",
    "tdclient",
    "tdcore",
    "tdapi",
    "tdmtproto",
    "tdnet",
    "tddb",
    "tde2e",
    "tdsqlite",
    "tdactor",
    "tdutils",
];

/// Where a TDLib build tree that was not installed leaves a static library, relative to the
/// build directory (installed trees put them all in `lib/`).
pub fn build_tree_subdir(lib: &str) -> &'static str {
    match lib {
        "tdutils" => "tdutils",
        "tdactor" => "tdactor",
        "tdnet" => "tdnet",
        "tddb" => "tddb",
        "tdsqlite" => "sqlite",
        "tde2e" => "tde2e",
        _ => "",
    }
}

/// The name of a target in `tdlib.pin`'s `prebuilt.<target>` lines: `<os>-<arch>`, plus the C
/// library on Linux (`linux-x86_64-gnu`, `linux-aarch64-musl`, `macos-aarch64`,
/// `windows-x86_64`), from Cargo's `CARGO_CFG_TARGET_OS`, `_ARCH` and `_ENV`.
pub fn prebuilt_target(target_os: &str, target_arch: &str, target_env: &str) -> String {
    match target_os {
        "linux" => format!("linux-{target_arch}-{target_env}"),
        other => format!("{other}-{target_arch}"),
    }
}

impl Platform {
    /// From Cargo's `CARGO_CFG_TARGET_OS` and `CARGO_CFG_TARGET_ENV`.
    pub fn from_cfg(target_os: &str, target_env: &str) -> Platform {
        let os = match target_os {
            "linux" => Os::Linux,
            "android" => Os::Android,
            "macos" | "ios" | "tvos" | "watchos" | "visionos" => Os::Apple,
            "windows" => Os::Windows,
            _ => Os::OtherUnix,
        };
        let toolchain = match target_env {
            "msvc" => Toolchain::Msvc,
            "gnu" => Toolchain::Gnu,
            _ => Toolchain::Other,
        };
        Platform { os, toolchain }
    }

    /// File names the linker accepts for `-ltdjson` (the shared library or its import
    /// library), most preferred first. GNU ld also links a DLL directly, which is all the
    /// official Windows prebuilt ships.
    pub fn link_file_names(&self) -> &'static [&'static str] {
        match (self.os, self.toolchain) {
            (Os::Windows, Toolchain::Msvc) => &["tdjson.lib"],
            (Os::Windows, _) => &["libtdjson.dll.a", "tdjson.lib", "tdjson.dll"],
            (Os::Apple, _) => &["libtdjson.dylib"],
            _ => &["libtdjson.so"],
        }
    }

    /// The name the dynamic loader looks for at run time: the SONAME on ELF systems, the
    /// install name's file on Apple systems, the DLL on Windows.
    pub fn runtime_file_name(&self, version: &str) -> String {
        match self.os {
            Os::Windows => "tdjson.dll".to_owned(),
            Os::Apple => format!("libtdjson.{version}.dylib"),
            _ => format!("libtdjson.so.{version}"),
        }
    }

    /// Whether the linker can use the runtime file directly when the plain link name is missing
    /// (a folder holding only `libtdjson.so.1.8.65`).
    pub fn runtime_file_is_linkable(&self) -> bool {
        self.os != Os::Windows
    }

    /// File name of one of TDLib's static libraries.
    pub fn static_file_name(&self, lib: &str) -> String {
        match (self.os, self.toolchain) {
            (Os::Windows, Toolchain::Msvc) => format!("{lib}.lib"),
            _ => format!("lib{lib}.a"),
        }
    }

    /// Subfolders of an install prefix that may hold the libraries to link, in search order.
    pub fn prefix_lib_dirs(&self) -> &'static [&'static str] {
        match self.os {
            Os::Windows => &["lib", ""],
            _ => &["lib", "lib64", ""],
        }
    }

    /// Subfolders of an install prefix that may hold the runtime DLL (Windows only).
    pub fn prefix_dll_dirs(&self) -> &'static [&'static str] {
        &["bin", "lib", ""]
    }

    /// The C++ runtime TDLib's static libraries need.
    pub fn cxx_runtime(&self) -> Option<&'static str> {
        match (self.os, self.toolchain) {
            (Os::Windows, Toolchain::Msvc) => None,
            (Os::Apple, _) => Some("c++"),
            (Os::Android, _) => Some("c++_shared"),
            (Os::OtherUnix, _) => Some("c++"),
            _ => Some("stdc++"),
        }
    }

    /// The static archives (as link names) that replace the C++ runtime `runtime` with the
    /// feature `static-deps`; empty when the runtime is part of the OS and stays dynamic, as
    /// Apple's libc++ is (Apple ships no static libc++ and every macOS has the shared one).
    pub fn static_cxx_runtime(&self, runtime: &str) -> Vec<String> {
        let names = match (self.os, runtime) {
            (Os::Apple, _) => vec![],
            // LLVM's libc++ keeps its ABI half (exceptions, RTTI) in a second archive.
            (_, "c++") => vec!["c++", "c++abi"],
            (_, "c++_shared") => vec!["c++_static", "c++abi"],
            (_, other) => vec![other],
        };
        names.into_iter().map(str::to_owned).collect()
    }

    /// Whether the feature `static-deps` can find static archives for this target: they are
    /// `lib<name>.a` files that a C compiler knows about, which MSVC's `.lib` files are not.
    pub fn supports_static_deps(&self) -> bool {
        !(self.os == Os::Windows && self.toolchain == Toolchain::Msvc)
    }

    /// System libraries TDLib's static libraries need (OpenSSL, zlib and the OS's own),
    /// after TDLib's libraries and before the C++ runtime.
    pub fn static_system_libs(&self) -> &'static [&'static str] {
        match (self.os, self.toolchain) {
            // Import library names of OpenSSL and zlib as vcpkg installs them.
            (Os::Windows, Toolchain::Msvc) => &[
                "libssl",
                "libcrypto",
                "zlib",
                "ws2_32",
                "mswsock",
                "crypt32",
                "normaliz",
                "psapi",
            ],
            (Os::Windows, _) => &[
                "ssl", "crypto", "z", "ws2_32", "mswsock", "crypt32", "normaliz", "psapi",
            ],
            (Os::Linux, _) => &["ssl", "crypto", "z", "dl", "pthread"],
            _ => &["ssl", "crypto", "z"],
        }
    }
}
