//! Tells whether a prebuilt TDLib shared library is what it claims to be for a target platform.
//!
//! Why this exists: the upgrade task (`cargo run -p xtask -- upgrade`) downloads the official
//! prebuilt `libtdjson` of every platform listed in `tdlib-sys/tdlib.pin` and writes each file's
//! sha256 into the pin, which from then on is what every build trusts. A hash only proves that
//! later downloads get the same bytes, not that the bytes are right: a package that ships another
//! platform's build, a glibc build under a musl name, a truncated download or a library that lost
//! one of the C functions the project calls would be pinned just as readily. Most of those
//! platforms cannot run here (macOS, Windows, aarch64, often musl), so the library cannot be loaded
//! to find out. Instead [`check`] reads the file's headers with the `object` crate, before the hash
//! is written:
//!
//! - the container matches the OS: an ELF shared object for Linux, a Mach-O dylib for macOS (thin,
//!   or a universal file, whose slice for the target's architecture is the one checked), a PE DLL
//!   for Windows;
//! - the architecture: x86_64, or aarch64 (which Apple calls arm64);
//! - for Linux, the C library it was linked against, from the dynamic section's `NEEDED` entries
//!   (and the interpreter, if there is one): `libc.so.6` or `ld-linux-*` mean glibc; a name that
//!   mentions musl (`libc.musl-x86_64.so.1` on Alpine, `ld-musl-x86_64.so.1`) or musl's own
//!   unversioned `libc.so` (what the official musl builds, made with Nix, need) mean musl;
//! - every function of [`REQUIRED_SYMBOLS`] is exported: a defined dynamic symbol (ELF), an entry
//!   of the exports trie or the external symbols, whose C names carry a leading underscore
//!   (Mach-O), or a name in the export table (PE);
//! - the file is whole: no segment, section, slice of a universal file or (PE) signature that its
//!   headers describe lies past its end, so a truncated download is refused even when the part
//!   that was read is intact.
//!
//! It never panics, whatever the bytes: every failure is an `Err` holding one sentence that names
//! the target, what was expected and what was found.

use std::fmt;
use std::path::Path;

use object::elf as elf_consts;
use object::macho as macho_consts;
use object::pe as pe_consts;
use object::read::elf::{ElfFile, FileHeader, ProgramHeader};
use object::read::macho::{FatArch, MachHeader, MachOFatFile, MachOFile};
use object::read::pe::{ImageNtHeaders, PeFile};
use object::{
    Architecture, Endianness, FileKind, LittleEndian, NameOrOrdinal, Object, ObjectSection,
    ObjectSegment,
};

/// The C functions of TDLib that the project calls (`tdlib-sys`): a library that lacks one of
/// them would fail to link or to load.
pub const REQUIRED_SYMBOLS: &[&str] = &[
    "td_create_client_id",
    "td_send",
    "td_receive",
    "td_execute",
    "td_json_client_create",
    "td_json_client_send",
    "td_json_client_receive",
    "td_json_client_execute",
    "td_json_client_destroy",
    "td_set_log_message_callback",
];

/// More exports than any real TDLib has (about 117,000 in 1.8.65's ELF builds, most of them C++
/// symbols): reading stops there, so that a crafted Mach-O exports trie whose nodes share children
/// cannot make the walk take exponential time.
const MAX_EXPORTS: usize = 4_000_000;

/// The operating system of a [`Target`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Os {
    /// Linux: the library is an ELF shared object.
    Linux,
    /// macOS: the library is a Mach-O dylib, thin or universal.
    Macos,
    /// Windows: the library is a PE DLL.
    Windows,
}

impl Os {
    /// The name used in the target keys: `linux`, `macos`, `windows`.
    pub fn name(self) -> &'static str {
        match self {
            Os::Linux => "linux",
            Os::Macos => "macos",
            Os::Windows => "windows",
        }
    }
}

/// The processor architecture of a [`Target`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arch {
    /// x86_64 (amd64).
    X86_64,
    /// aarch64, which Apple calls arm64.
    Aarch64,
}

impl Arch {
    /// The name used in the target keys: `x86_64`, `aarch64`.
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }

    fn from_object(arch: Architecture) -> Option<Arch> {
        match arch {
            Architecture::X86_64 => Some(Arch::X86_64),
            Architecture::Aarch64 => Some(Arch::Aarch64),
            _ => None,
        }
    }
}

/// The C library a Linux [`Target`] links against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Libc {
    /// The GNU C library (glibc).
    Gnu,
    /// musl.
    Musl,
}

impl Libc {
    /// The name used in the target keys: `gnu`, `musl`.
    pub fn name(self) -> &'static str {
        match self {
            Libc::Gnu => "gnu",
            Libc::Musl => "musl",
        }
    }

    /// The name a person uses: `glibc`, `musl`.
    pub fn display_name(self) -> &'static str {
        match self {
            Libc::Gnu => "glibc",
            Libc::Musl => "musl",
        }
    }
}

/// A platform a prebuilt library is published for, as the pin file names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Target {
    /// The operating system.
    pub os: Os,
    /// The processor architecture.
    pub arch: Arch,
    /// The C library, for Linux only; `None` elsewhere (and on Linux, "do not check it").
    pub libc: Option<Libc>,
}

impl Target {
    /// The keys of the targets that the pin file lists.
    pub const KEYS: [&'static str; 7] = [
        "linux-x86_64-gnu",
        "linux-aarch64-gnu",
        "linux-x86_64-musl",
        "linux-aarch64-musl",
        "macos-x86_64",
        "macos-aarch64",
        "windows-x86_64",
    ];

    /// Parses a key of the pin file: `<os>-<arch>` with `-<libc>` on Linux, for example
    /// `linux-aarch64-musl`, `macos-x86_64` or `windows-x86_64`. `None` for anything else.
    pub fn from_key(key: &str) -> Option<Target> {
        let mut parts = key.split('-');
        let os = match parts.next()? {
            "linux" => Os::Linux,
            "macos" => Os::Macos,
            "windows" => Os::Windows,
            _ => return None,
        };
        let arch = match parts.next()? {
            "x86_64" => Arch::X86_64,
            "aarch64" => Arch::Aarch64,
            _ => return None,
        };
        let libc = match (os, parts.next()) {
            (Os::Linux, Some("gnu")) => Some(Libc::Gnu),
            (Os::Linux, Some("musl")) => Some(Libc::Musl),
            (Os::Macos | Os::Windows, None) => None,
            _ => return None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Target { os, arch, libc })
    }

    /// The key of the target, the inverse of [`Target::from_key`].
    pub fn key(&self) -> String {
        match self.libc {
            Some(libc) => format!("{}-{}-{}", self.os.name(), self.arch.name(), libc.name()),
            None => format!("{}-{}", self.os.name(), self.arch.name()),
        }
    }

    /// The architecture as the target's own file format names it (arm64 in Mach-O).
    fn arch_name(&self) -> &'static str {
        match (self.os, self.arch) {
            (Os::Macos, Arch::Aarch64) => "arm64",
            (_, arch) => arch.name(),
        }
    }

    /// What a right library for this target is, e.g. "an x86_64 ELF shared object linked
    /// against glibc".
    fn expected(&self) -> String {
        let arch = self.arch_name();
        let container = match self.os {
            Os::Linux => "ELF shared object",
            Os::Macos => "Mach-O dylib",
            Os::Windows => "PE DLL",
        };
        let mut expected = format!("{} {arch} {container}", article(arch));
        if let (Os::Linux, Some(libc)) = (self.os, self.libc) {
            expected.push_str(" linked against ");
            expected.push_str(libc.display_name());
        }
        expected
    }

    /// The error for a file that is not [`Target::expected`]: one sentence naming both sides.
    fn refuse(&self, found: &str) -> String {
        format!(
            "{}: expected {}, found {found}",
            self.key(),
            self.expected()
        )
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// The container format of a library that passed [`check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// An ELF shared object.
    Elf,
    /// A Mach-O dylib (possibly a slice of a universal file).
    MachO,
    /// A PE DLL.
    Pe,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Elf => "ELF shared object",
            Format::MachO => "Mach-O dylib",
            Format::Pe => "PE DLL",
        })
    }
}

/// What [`check`] found in a library that is right for its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// One line: format, architecture, C library, exports.
    pub summary: String,
    /// The container format.
    pub format: Format,
    /// The architecture (of the slice checked, for a universal Mach-O file).
    pub arch: Arch,
    /// The C library, for ELF files; `None` elsewhere.
    pub libc: Option<Libc>,
    /// The `NEEDED` entries of the dynamic section, for ELF files; empty elsewhere.
    pub needed: Vec<String>,
    /// The architectures of a universal Mach-O file's slices, in file order; empty for a thin file.
    pub universal_slices: Vec<String>,
    /// How many symbols the library exports, all names and ordinals counted.
    pub export_count: usize,
    /// The exported names that start with `td_` (for Mach-O, once the leading underscore of C
    /// names is removed), sorted.
    pub td_exports: Vec<String>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)
    }
}

/// Checks that `bytes` is a TDLib shared library for `target`: container format, architecture,
/// C library (Linux) and the exports of [`REQUIRED_SYMBOLS`]. See the module documentation.
pub fn check(bytes: &[u8], target: &Target) -> Result<Report, String> {
    let kind = FileKind::parse(bytes).ok();
    match (target.os, kind) {
        (Os::Linux, Some(FileKind::Elf64)) => {
            check_elf::<elf_consts::FileHeader64<Endianness>>(bytes, target)
        }
        (Os::Linux, Some(FileKind::Elf32)) => {
            check_elf::<elf_consts::FileHeader32<Endianness>>(bytes, target)
        }
        (Os::Macos, Some(FileKind::MachO64)) => {
            check_macho::<macho_consts::MachHeader64<Endianness>>(bytes, target, None)
        }
        (Os::Macos, Some(FileKind::MachO32)) => {
            check_macho::<macho_consts::MachHeader32<Endianness>>(bytes, target, None)
        }
        (Os::Macos, Some(FileKind::MachOFat32)) => {
            check_universal::<macho_consts::FatArch32>(bytes, target)
        }
        (Os::Macos, Some(FileKind::MachOFat64)) => {
            check_universal::<macho_consts::FatArch64>(bytes, target)
        }
        (Os::Windows, Some(FileKind::Pe64)) => {
            check_pe::<pe_consts::ImageNtHeaders64>(bytes, target)
        }
        (Os::Windows, Some(FileKind::Pe32)) => {
            check_pe::<pe_consts::ImageNtHeaders32>(bytes, target)
        }
        _ => Err(target.refuse(&identify(bytes))),
    }
}

/// [`check`] on the contents of the file at `path`; every error names the path.
pub fn check_file(path: &Path, target: &Target) -> Result<Report, String> {
    let bytes =
        std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    check(&bytes, target).map_err(|error| format!("{}: {error}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// What a file is, in words.

/// "a" or "an" before `word`, by its first letter (good enough for the words used here:
/// "an x86_64", "an arm64", "an ELF", "a PE", "a 32-bit arm").
fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u' | 'x' | 'A' | 'E' | 'I' | 'O' | 'U' | 'X') => "an",
        _ => "a",
    }
}

/// The name of an architecture in a message; `apple` uses Apple's arm64 for aarch64.
fn arch_name(arch: Architecture, apple: bool) -> String {
    match arch {
        Architecture::X86_64 => "x86_64".to_owned(),
        Architecture::Aarch64 if apple => "arm64".to_owned(),
        Architecture::Aarch64 => "aarch64".to_owned(),
        Architecture::I386 => "i386 (32-bit x86)".to_owned(),
        Architecture::X86_64_X32 => "x32 (32-bit x86_64)".to_owned(),
        Architecture::Arm => "32-bit arm".to_owned(),
        Architecture::Aarch64_Ilp32 => "arm64_32 (aarch64 ILP32)".to_owned(),
        Architecture::Unknown => "unknown-architecture".to_owned(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// `items` joined as English: "a", "a and b", "a, b and c".
fn join_words<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} and {}", init.join(", "), last.as_ref())
        }
    }
}

/// Describes any bytes, as far as their headers tell, e.g. "an x86_64 PE DLL" or "an empty file".
/// Used for a file whose container does not match the target.
fn identify(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "an empty file".to_owned();
    }
    let Ok(kind) = FileKind::parse(bytes) else {
        let start: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
        return format!(
            "{} bytes in no format this checker knows (starting {})",
            bytes.len(),
            start.join(" ")
        );
    };
    let described = match kind {
        FileKind::Elf64 => describe_elf::<elf_consts::FileHeader64<Endianness>>(bytes),
        FileKind::Elf32 => describe_elf::<elf_consts::FileHeader32<Endianness>>(bytes),
        FileKind::MachO64 => describe_macho::<macho_consts::MachHeader64<Endianness>>(bytes),
        FileKind::MachO32 => describe_macho::<macho_consts::MachHeader32<Endianness>>(bytes),
        FileKind::MachOFat32 => describe_universal::<macho_consts::FatArch32>(bytes),
        FileKind::MachOFat64 => describe_universal::<macho_consts::FatArch64>(bytes),
        FileKind::Pe64 => describe_pe::<pe_consts::ImageNtHeaders64>(bytes),
        FileKind::Pe32 => describe_pe::<pe_consts::ImageNtHeaders32>(bytes),
        FileKind::Coff | FileKind::CoffBig => Ok("a COFF object file".to_owned()),
        FileKind::CoffImport => Ok("a Windows short import file".to_owned()),
        FileKind::DyldCache => Ok("a dyld shared cache".to_owned()),
        other => Ok(format!("a file of kind {other:?}")),
    };
    described.unwrap_or_else(|unreadable| unreadable)
}

/// What a thin file turned out to be, before its exports are read.
struct Found {
    /// E.g. "an x86_64 ELF shared object", "an arm64 Mach-O executable".
    phrase: String,
    /// Whether the file type is the library kind of its format (not an executable, an object
    /// file, a file for another OS...).
    is_library: bool,
    /// The architecture, if it is one of [`Arch`] (and little-endian).
    arch: Option<Arch>,
}

// ---------------------------------------------------------------------------------------------
// ELF (Linux).

fn elf_found<Elf: FileHeader<Endian = Endianness>>(file: &ElfFile<'_, Elf>) -> Found {
    let endian = file.endian();
    let header = file.elf_header();
    let e_type = header.e_type(endian);
    let pie = elf_flags_1(file) & elf_consts::DF_1_PIE.0 != 0;
    let (kind, is_type_library) = if e_type == elf_consts::ET_DYN {
        if pie {
            ("position-independent executable", false)
        } else {
            ("shared object", true)
        }
    } else if e_type == elf_consts::ET_EXEC {
        ("executable", false)
    } else if e_type == elf_consts::ET_REL {
        ("relocatable object file", false)
    } else if e_type == elf_consts::ET_CORE {
        ("core dump", false)
    } else {
        ("file of unknown type", false)
    };
    let os_abi = header.e_ident().os_abi;
    let foreign_os = if os_abi == elf_consts::ELFOSABI_NONE || os_abi == elf_consts::ELFOSABI_GNU {
        None
    } else if os_abi == elf_consts::ELFOSABI_FREEBSD {
        Some("FreeBSD".to_owned())
    } else if os_abi == elf_consts::ELFOSABI_NETBSD {
        Some("NetBSD".to_owned())
    } else if os_abi == elf_consts::ELFOSABI_OPENBSD {
        Some("OpenBSD".to_owned())
    } else if os_abi == elf_consts::ELFOSABI_SOLARIS {
        Some("Solaris".to_owned())
    } else {
        Some(format!("OS ABI {}", os_abi.0))
    };
    let architecture = file.architecture();
    let little_endian = file.is_little_endian();
    let mut arch = arch_name(architecture, false);
    if !little_endian {
        arch = format!("big-endian {arch}");
    }
    let mut phrase = format!("{} {arch} ELF {kind}", article(&arch));
    if let Some(os) = &foreign_os {
        phrase.push_str(" for ");
        phrase.push_str(os);
    }
    Found {
        phrase,
        is_library: is_type_library && foreign_os.is_none(),
        arch: Arch::from_object(architecture).filter(|_| little_endian),
    }
}

/// The `DT_FLAGS_1` value, 0 if there is none or the dynamic section cannot be read.
fn elf_flags_1<Elf: FileHeader<Endian = Endianness>>(file: &ElfFile<'_, Elf>) -> u64 {
    let Ok(dynamic) = file.elf_dynamic_table() else {
        return 0;
    };
    dynamic
        .iter()
        .filter(|entry| entry.tag == elf_consts::DT_FLAGS_1)
        .fold(0, |flags, entry| flags | entry.val)
}

fn describe_elf<Elf: FileHeader<Endian = Endianness>>(bytes: &[u8]) -> Result<String, String> {
    let file = ElfFile::<Elf>::parse(bytes)
        .map_err(|error| format!("an ELF file that cannot be read ({error})"))?;
    Ok(elf_found(&file).phrase)
}

fn check_elf<Elf: FileHeader<Endian = Endianness>>(
    bytes: &[u8],
    target: &Target,
) -> Result<Report, String> {
    let file = ElfFile::<Elf>::parse(bytes)
        .map_err(|error| target.refuse(&format!("an ELF file that cannot be read ({error})")))?;
    let found = elf_found(&file);
    if !found.is_library || found.arch != Some(target.arch) {
        return Err(target.refuse(&found.phrase));
    }
    require_whole(target, &found.phrase, declared_end(&file), bytes.len())?;
    let unreadable = |what: &str, error: object::Error| {
        target.refuse(&format!(
            "{} whose {what} cannot be read ({error})",
            found.phrase
        ))
    };

    // The C library, from the NEEDED entries (and PT_INTERP, which shared objects rarely have).
    let endian = file.endian();
    let dynamic = file
        .elf_dynamic_table()
        .map_err(|error| unreadable("dynamic section", error))?;
    let mut needed = Vec::new();
    for entry in dynamic.iter() {
        if entry.tag == elf_consts::DT_NEEDED {
            let name = dynamic
                .string(entry)
                .map_err(|error| unreadable("NEEDED entries", error))?;
            needed.push(String::from_utf8_lossy(name).into_owned());
        }
    }
    let mut interpreter = None;
    for segment in file.elf_program_headers() {
        if let Ok(Some(path)) = segment.interpreter(endian, bytes) {
            interpreter = Some(String::from_utf8_lossy(path).into_owned());
        }
    }
    let needs = if needed.is_empty() {
        "no NEEDED entries".to_owned()
    } else {
        format!("NEEDED {}", needed.join(", "))
    };
    let libc = match elf_libc(&needed, interpreter.as_deref()) {
        Ok(libc) => Some(libc),
        Err(_) if target.libc.is_none() => None,
        Err(unknown) => {
            return Err(target.refuse(&format!("{} {unknown} ({needs})", found.phrase)));
        }
    };
    if let (Some(expected), Some(libc)) = (target.libc, libc) {
        if expected != libc {
            return Err(target.refuse(&format!(
                "{} linked against {} ({needs})",
                found.phrase,
                libc.display_name()
            )));
        }
    }

    let exports = read_exports(&file, false)
        .map_err(|error| target.refuse(&format!("{} whose {error}", found.phrase)))?;
    let libc_part = match libc {
        Some(libc) => {
            let evidence: Vec<&str> = needed
                .iter()
                .map(String::as_str)
                .chain(interpreter.as_deref())
                .filter(|name| names_libc(name) == Some(libc))
                .collect();
            format!("{} ({})", libc.display_name(), evidence.join(", "))
        }
        None => format!("unknown C library ({needs})"),
    };
    let linked = match libc {
        Some(libc) => format!("{} linked against {}", found.phrase, libc.display_name()),
        None => found.phrase.clone(),
    };
    require_symbols(target, &linked, &exports)?;
    Ok(Report {
        summary: format!(
            "{}, {}, {libc_part}, {}",
            Format::Elf,
            target.arch_name(),
            exports.summary()
        ),
        format: Format::Elf,
        arch: target.arch,
        libc,
        needed,
        universal_slices: Vec::new(),
        export_count: exports.count,
        td_exports: exports.td,
    })
}

/// The C library that a `NEEDED` entry or interpreter path names, if any: `libc.so.6` (any
/// `libc.so.<n>`) and `ld-linux-*` are glibc's; musl's `libc.so` is unversioned, and Alpine's
/// `libc.musl-<arch>.so.1` and the loader `ld-musl-<arch>.so.1` say so.
fn names_libc(name: &str) -> Option<Libc> {
    let file = name.rsplit('/').next().unwrap_or(name);
    if file.contains("musl") || file == "libc.so" {
        Some(Libc::Musl)
    } else if file.starts_with("libc.so.") || file.starts_with("ld-linux") {
        Some(Libc::Gnu)
    } else {
        None
    }
}

/// The C library that `needed` (and the interpreter) name; `Err` says why none or both.
fn elf_libc(needed: &[String], interpreter: Option<&str>) -> Result<Libc, &'static str> {
    let libcs: Vec<Libc> = needed
        .iter()
        .map(String::as_str)
        .chain(interpreter)
        .filter_map(names_libc)
        .collect();
    let glibc = libcs.contains(&Libc::Gnu);
    let musl = libcs.contains(&Libc::Musl);
    match (glibc, musl) {
        (true, false) => Ok(Libc::Gnu),
        (false, true) => Ok(Libc::Musl),
        (true, true) => Err("linked against both glibc and musl"),
        (false, false) => Err("that names no C library it was linked against"),
    }
}

// ---------------------------------------------------------------------------------------------
// Mach-O (macOS).

fn macho_found<Mach: MachHeader<Endian = Endianness>>(file: &MachOFile<'_, Mach>) -> Found {
    let filetype = file.macho_header().filetype(file.endian());
    let (kind, is_library) = if filetype == macho_consts::MH_DYLIB {
        ("dylib", true)
    } else if filetype == macho_consts::MH_EXECUTE {
        ("executable", false)
    } else if filetype == macho_consts::MH_OBJECT {
        ("object file", false)
    } else if filetype == macho_consts::MH_BUNDLE {
        ("bundle", false)
    } else if filetype == macho_consts::MH_DYLIB_STUB {
        ("dylib stub", false)
    } else if filetype == macho_consts::MH_DSYM {
        ("debug symbols file", false)
    } else if filetype == macho_consts::MH_CORE {
        ("core dump", false)
    } else {
        ("file of unknown type", false)
    };
    let architecture = file.architecture();
    let arch = arch_name(architecture, true);
    Found {
        phrase: format!("{} {arch} Mach-O {kind}", article(&arch)),
        is_library,
        arch: Arch::from_object(architecture).filter(|_| file.is_little_endian()),
    }
}

fn describe_macho<Mach: MachHeader<Endian = Endianness>>(bytes: &[u8]) -> Result<String, String> {
    let file = MachOFile::<Mach>::parse(bytes)
        .map_err(|error| format!("a Mach-O file that cannot be read ({error})"))?;
    Ok(macho_found(&file).phrase)
}

/// Checks a thin Mach-O file, or the slice of a universal file that `universal` describes (its
/// slices' architectures, in file order).
fn check_macho<Mach: MachHeader<Endian = Endianness>>(
    bytes: &[u8],
    target: &Target,
    universal: Option<&[String]>,
) -> Result<Report, String> {
    let within = match universal {
        Some(slices) => format!(
            " (the {} slice of a universal file with {} slices)",
            target.arch_name(),
            join_words(slices)
        ),
        None => String::new(),
    };
    let file = MachOFile::<Mach>::parse(bytes).map_err(|error| {
        target.refuse(&format!(
            "a Mach-O file that cannot be read{within} ({error})"
        ))
    })?;
    let found = macho_found(&file);
    let phrase = format!("{}{within}", found.phrase);
    if !found.is_library || found.arch != Some(target.arch) {
        return Err(target.refuse(&phrase));
    }
    require_whole(target, &phrase, declared_end(&file), bytes.len())?;
    let exports = read_exports(&file, true)
        .map_err(|error| target.refuse(&format!("{phrase} whose {error}")))?;
    require_symbols(target, &phrase, &exports)?;
    let arch_part = match universal {
        Some(slices) => format!(
            "{} slice of a universal file ({})",
            target.arch_name(),
            slices.join(", ")
        ),
        None => target.arch_name().to_owned(),
    };
    Ok(Report {
        summary: format!("{}, {arch_part}, {}", Format::MachO, exports.summary()),
        format: Format::MachO,
        arch: target.arch,
        libc: None,
        needed: Vec::new(),
        universal_slices: universal.map(<[String]>::to_vec).unwrap_or_default(),
        export_count: exports.count,
        td_exports: exports.td,
    })
}

fn universal_slices<Fat: FatArch>(file: &MachOFatFile<'_, Fat>) -> Vec<String> {
    file.arches()
        .iter()
        .map(|slice| arch_name(slice.architecture(), true))
        .collect()
}

fn describe_universal<Fat: FatArch>(bytes: &[u8]) -> Result<String, String> {
    let file = MachOFatFile::<Fat>::parse(bytes)
        .map_err(|error| format!("a universal Mach-O file that cannot be read ({error})"))?;
    let slices = universal_slices(&file);
    Ok(match slices.as_slice() {
        [] => "a universal Mach-O file with no slices".to_owned(),
        [one] => format!(
            "a universal Mach-O file with only {} {one} slice",
            article(one)
        ),
        _ => format!(
            "a universal Mach-O file with {} slices",
            join_words(&slices)
        ),
    })
}

fn check_universal<Fat: FatArch>(bytes: &[u8], target: &Target) -> Result<Report, String> {
    let file = MachOFatFile::<Fat>::parse(bytes).map_err(|error| {
        target.refuse(&format!(
            "a universal Mach-O file that cannot be read ({error})"
        ))
    })?;
    let slices = universal_slices(&file);
    // Every slice must be whole, not only the one checked: the file's hash goes into the pin.
    for (slice, name) in file.arches().iter().zip(&slices) {
        if let Err(error) = slice.data(bytes) {
            return Err(target.refuse(&format!(
                "a universal Mach-O file whose {name} slice lies past its end ({error})"
            )));
        }
    }
    let Some(slice) = file
        .arches()
        .iter()
        .find(|slice| Arch::from_object(slice.architecture()) == Some(target.arch))
    else {
        return Err(target.refuse(&identify(bytes)));
    };
    let data = slice.data(bytes).map_err(|error| {
        target.refuse(&format!(
            "a universal Mach-O file whose {} slice lies past its end ({error})",
            target.arch_name()
        ))
    })?;
    match FileKind::parse(data) {
        Ok(FileKind::MachO64) => {
            check_macho::<macho_consts::MachHeader64<Endianness>>(data, target, Some(&slices))
        }
        Ok(FileKind::MachO32) => {
            check_macho::<macho_consts::MachHeader32<Endianness>>(data, target, Some(&slices))
        }
        _ => Err(target.refuse(&format!(
            "a universal Mach-O file whose {} slice is {}",
            target.arch_name(),
            identify(data)
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// PE (Windows).

fn pe_found<Pe: ImageNtHeaders>(file: &PeFile<'_, Pe>) -> Found {
    let characteristics = file
        .nt_headers()
        .file_header()
        .characteristics
        .get(LittleEndian);
    let is_library = characteristics.0 & pe_consts::IMAGE_FILE_DLL.0 != 0;
    let kind = if is_library { "DLL" } else { "executable" };
    let architecture = file.architecture();
    let arch = arch_name(architecture, false);
    Found {
        phrase: format!("{} {arch} PE {kind}", article(&arch)),
        is_library,
        arch: Arch::from_object(architecture),
    }
}

fn describe_pe<Pe: ImageNtHeaders>(bytes: &[u8]) -> Result<String, String> {
    let file = PeFile::<Pe>::parse(bytes)
        .map_err(|error| format!("a PE file that cannot be read ({error})"))?;
    Ok(pe_found(&file).phrase)
}

fn check_pe<Pe: ImageNtHeaders>(bytes: &[u8], target: &Target) -> Result<Report, String> {
    let file = PeFile::<Pe>::parse(bytes)
        .map_err(|error| target.refuse(&format!("a PE file that cannot be read ({error})")))?;
    let found = pe_found(&file);
    if !found.is_library || found.arch != Some(target.arch) {
        return Err(target.refuse(&found.phrase));
    }
    // The signature (certificate table) is not mapped: its directory holds a file offset.
    let signature_end = file
        .data_directory(pe_consts::IMAGE_DIRECTORY_ENTRY_SECURITY)
        .map(|directory| {
            u64::from(directory.virtual_address.get(LittleEndian))
                .saturating_add(u64::from(directory.size.get(LittleEndian)))
        })
        .unwrap_or(0);
    // Raw section sizes, not `declared_end`: `object` clips a section's data to its virtual size,
    // which leaves out the padding up to the file alignment that ends the file.
    let sections_end = file
        .section_table()
        .iter()
        .map(|section| {
            u64::from(section.pointer_to_raw_data.get(LittleEndian))
                .saturating_add(u64::from(section.size_of_raw_data.get(LittleEndian)))
        })
        .max()
        .unwrap_or(0);
    let end = sections_end.max(signature_end);
    require_whole(target, &found.phrase, end, bytes.len())?;
    let exports = read_exports(&file, false)
        .map_err(|error| target.refuse(&format!("{} whose {error}", found.phrase)))?;
    require_symbols(target, &found.phrase, &exports)?;
    Ok(Report {
        summary: format!(
            "{}, {}, {}",
            Format::Pe,
            target.arch_name(),
            exports.summary()
        ),
        format: Format::Pe,
        arch: target.arch,
        libc: None,
        needed: Vec::new(),
        universal_slices: Vec::new(),
        export_count: exports.count,
        td_exports: exports.td,
    })
}

// ---------------------------------------------------------------------------------------------
// Whole files.

/// Where the last segment or section that the headers of `file` describe ends in the file.
fn declared_end<'data, 'file, O>(file: &'file O) -> u64
where
    'data: 'file,
    O: Object<'data>,
{
    let segments = file.segments().map(|segment| segment.file_range());
    let sections = file.sections().filter_map(|section| section.file_range());
    segments
        .chain(sections)
        .map(|(offset, size)| offset.saturating_add(size))
        .max()
        .unwrap_or(0)
}

/// `Err` if the headers place data at `end` or beyond in a file of `len` bytes: it was cut short.
fn require_whole(target: &Target, found: &str, end: u64, len: usize) -> Result<(), String> {
    if end <= len as u64 {
        return Ok(());
    }
    Err(target.refuse(&format!(
        "{found} cut short: its headers place data up to byte {end}, but it has {len} bytes"
    )))
}

// ---------------------------------------------------------------------------------------------
// Exports.

/// The exports of a library, as far as [`check`] needs them.
struct Exports {
    /// All exports, names and ordinals.
    count: usize,
    /// The names that start with `td_`, sorted and deduplicated.
    td: Vec<String>,
}

impl Exports {
    fn summary(&self) -> String {
        format!("{} exports, {} of them td_", self.count, self.td.len())
    }
}

/// Reads the exports of `file`; `macho` removes the leading underscore of C names (and skips the
/// names without one, which are not C functions). `Err` completes "`<found>` whose ...".
fn read_exports<'data, 'file, O>(file: &'file O, macho: bool) -> Result<Exports, String>
where
    'data: 'file,
    O: Object<'data>,
{
    let iterator = file
        .exports()
        .map_err(|error| format!("export table cannot be read ({error})"))?;
    let mut count = 0;
    let mut td = Vec::new();
    for export in iterator {
        let export = export.map_err(|error| format!("export table cannot be read ({error})"))?;
        count += 1;
        if count > MAX_EXPORTS {
            return Err(format!(
                "export table has more than {MAX_EXPORTS} entries, more than any TDLib"
            ));
        }
        let NameOrOrdinal::Name(name) = export.name() else {
            continue;
        };
        let name = if macho {
            match name.strip_prefix(b"_") {
                Some(name) => name,
                None => continue,
            }
        } else {
            name
        };
        if name.starts_with(b"td_") {
            td.push(String::from_utf8_lossy(name).into_owned());
        }
    }
    td.sort();
    td.dedup();
    Ok(Exports { count, td })
}

/// `Err` naming the [`REQUIRED_SYMBOLS`] that `exports` lacks; `found` describes the file.
fn require_symbols(target: &Target, found: &str, exports: &Exports) -> Result<(), String> {
    let missing: Vec<&str> = REQUIRED_SYMBOLS
        .iter()
        .copied()
        .filter(|symbol| !exports.td.iter().any(|name| name == symbol))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let (them, it) = if missing.len() == 1 {
        ("it", "it")
    } else {
        ("them", "any of them")
    };
    let td_exports = match exports.td.len() {
        0 => "which exports no td_ function".to_owned(),
        1 => format!("whose only td_ export ({}) is not {it}", exports.td[0]),
        n => format!(
            "whose {n} td_ exports ({}) lack {them}",
            exports.td.join(", ")
        ),
    };
    Err(format!(
        "{}: expected {} that exports {}, found {found} {td_exports}",
        target.key(),
        target.expected(),
        join_words(&missing)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_targets() -> Vec<Target> {
        Target::KEYS
            .iter()
            .map(|key| Target::from_key(key).unwrap())
            .collect()
    }

    /// Deterministic pseudo-random bytes (xorshift64).
    fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
        let mut state = seed | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect()
    }

    /// Every target refuses `bytes`, with a message naming the target and what it expected.
    fn refused_everywhere(bytes: &[u8]) -> Vec<String> {
        all_targets()
            .iter()
            .map(|target| {
                let error = check(bytes, target).expect_err("garbage passed the check");
                assert!(error.starts_with(&target.key()), "{error}");
                assert!(error.contains("expected "), "{error}");
                assert!(error.contains(", found "), "{error}");
                error
            })
            .collect()
    }

    #[test]
    fn keys_round_trip() {
        for key in Target::KEYS {
            let target = Target::from_key(key).unwrap();
            assert_eq!(target.key(), key);
            assert_eq!(target.to_string(), key);
            assert_eq!(target.libc.is_some(), target.os == Os::Linux, "{key}");
        }
        assert_eq!(
            Target::from_key("linux-aarch64-musl"),
            Some(Target {
                os: Os::Linux,
                arch: Arch::Aarch64,
                libc: Some(Libc::Musl)
            })
        );
        assert_eq!(
            Target::from_key("macos-aarch64"),
            Some(Target {
                os: Os::Macos,
                arch: Arch::Aarch64,
                libc: None
            })
        );
    }

    #[test]
    fn bad_keys_are_refused() {
        for key in [
            "",
            "linux",
            "linux-x86_64",
            "linux-x86_64-gnu-",
            "linux-x86_64-gnu-extra",
            "linux-x86_64-glibc",
            "linux-arm64-gnu",
            "linux-x86-64-gnu",
            "Linux-x86_64-gnu",
            "macos-x86_64-gnu",
            "macos-arm64",
            "windows-x86_64-msvc",
            "freebsd-x86_64",
            "-x86_64",
            " linux-x86_64-gnu",
        ] {
            assert_eq!(Target::from_key(key), None, "{key:?}");
        }
    }

    #[test]
    fn required_symbols_are_the_td_functions() {
        assert_eq!(REQUIRED_SYMBOLS.len(), 10);
        assert!(REQUIRED_SYMBOLS.iter().all(|name| name.starts_with("td_")));
    }

    #[test]
    fn the_expected_side_of_messages() {
        let expected = |key: &str| Target::from_key(key).unwrap().expected();
        assert_eq!(
            expected("linux-x86_64-gnu"),
            "an x86_64 ELF shared object linked against glibc"
        );
        assert_eq!(
            expected("linux-aarch64-musl"),
            "an aarch64 ELF shared object linked against musl"
        );
        assert_eq!(expected("macos-aarch64"), "an arm64 Mach-O dylib");
        assert_eq!(expected("windows-x86_64"), "an x86_64 PE DLL");
    }

    #[test]
    fn musl_and_glibc_are_told_apart_by_needed() {
        let libc = |needed: &[&str], interpreter: Option<&str>| {
            let needed: Vec<String> = needed.iter().map(|name| (*name).to_owned()).collect();
            elf_libc(&needed, interpreter)
        };
        assert_eq!(libc(&["libm.so.6", "libc.so.6"], None), Ok(Libc::Gnu));
        assert_eq!(libc(&["ld-linux-aarch64.so.1"], None), Ok(Libc::Gnu));
        assert_eq!(libc(&["libc.so"], None), Ok(Libc::Musl));
        assert_eq!(libc(&["libc.musl-x86_64.so.1"], None), Ok(Libc::Musl));
        assert_eq!(libc(&["libc.musl-aarch64.so.1"], None), Ok(Libc::Musl));
        assert_eq!(
            libc(&["libstdc++.so.6"], Some("/lib/ld-musl-x86_64.so.1")),
            Ok(Libc::Musl)
        );
        assert!(libc(&["libc.so.6", "libc.so"], None).is_err());
        assert!(libc(&[], None).is_err());
        assert!(libc(&["libstdc++.so.6"], None).is_err());
    }

    #[test]
    fn empty_input_is_refused() {
        for error in refused_everywhere(&[]) {
            assert!(error.ends_with("found an empty file"), "{error}");
        }
    }

    #[test]
    fn random_bytes_are_refused() {
        for seed in 1..50 {
            refused_everywhere(&random_bytes(100, seed));
        }
        let error = check(
            &random_bytes(100, 7),
            &Target::from_key("linux-x86_64-gnu").unwrap(),
        )
        .unwrap_err();
        assert!(error.contains("100 bytes in no format"), "{error}");
    }

    /// Random bodies behind each magic number the checker knows, at many lengths.
    #[test]
    fn random_bytes_behind_real_magic_numbers_are_refused() {
        let magics: [&[u8]; 8] = [
            b"\x7fELF\x02\x01\x01\x00",
            b"\x7fELF\x01\x01\x01\x00",
            &[0xcf, 0xfa, 0xed, 0xfe],
            &[0xce, 0xfa, 0xed, 0xfe],
            &[0xca, 0xfe, 0xba, 0xbe],
            &[0xca, 0xfe, 0xba, 0xbf],
            b"MZ",
            b"!<arch>\n",
        ];
        for (index, magic) in magics.iter().enumerate() {
            for len in [0, 1, 8, 16, 63, 64, 100, 512, 4096] {
                let mut bytes = magic.to_vec();
                bytes.extend(random_bytes(len, (index * 1000 + len) as u64 + 1));
                refused_everywhere(&bytes);
            }
        }
    }

    /// An ELF64 header for an x86_64 shared object: 64 bytes whose tables lie past the end.
    fn elf_header_only() -> Vec<u8> {
        let mut header = vec![0u8; 64];
        header[..8].copy_from_slice(b"\x7fELF\x02\x01\x01\x00");
        header[16..18].copy_from_slice(&3u16.to_le_bytes()); // e_type = ET_DYN
        header[18..20].copy_from_slice(&62u16.to_le_bytes()); // e_machine = EM_X86_64
        header[20..24].copy_from_slice(&1u32.to_le_bytes()); // e_version
        header[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
        header[40..48].copy_from_slice(&0x10_0000u64.to_le_bytes()); // e_shoff
        header[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
        header[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        header[56..58].copy_from_slice(&0xffffu16.to_le_bytes()); // e_phnum
        header[58..60].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize
        header[60..62].copy_from_slice(&0xffffu16.to_le_bytes()); // e_shnum
        header[62..64].copy_from_slice(&0xfffeu16.to_le_bytes()); // e_shstrndx
        header
    }

    #[test]
    fn an_elf_header_alone_is_refused() {
        let header = elf_header_only();
        let errors = refused_everywhere(&header);
        let linux = check(&header, &Target::from_key("linux-x86_64-gnu").unwrap()).unwrap_err();
        assert!(linux.contains("an ELF file that cannot be read"), "{linux}");
        // Another OS's target says what the file is, as far as it can.
        assert!(
            errors.iter().any(|error| error.contains("ELF")),
            "{errors:?}"
        );
        // The same header with no tables at all: an empty shared object, without libc or exports.
        let mut bare = header.clone();
        bare[32..48].fill(0);
        bare[56..58].fill(0);
        bare[60..64].fill(0);
        let error = check(&bare, &Target::from_key("linux-x86_64-gnu").unwrap()).unwrap_err();
        assert!(
            error.contains("found an x86_64 ELF shared object that names no C library"),
            "{error}"
        );
        let error = check(&bare, &Target::from_key("linux-aarch64-gnu").unwrap()).unwrap_err();
        assert!(
            error.ends_with("found an x86_64 ELF shared object"),
            "{error}"
        );
    }

    #[test]
    fn huge_counts_in_headers_are_refused() {
        // A universal Mach-O file claiming 2^32 - 1 slices.
        let mut fat = vec![0xca, 0xfe, 0xba, 0xbe, 0xff, 0xff, 0xff, 0xff];
        fat.extend([0u8; 24]);
        let error = check(&fat, &Target::from_key("macos-aarch64").unwrap()).unwrap_err();
        assert!(
            error.contains("universal Mach-O file that cannot be read"),
            "{error}"
        );
        refused_everywhere(&fat);
        // A universal file whose one arm64 slice lies far past the end.
        let mut fat = vec![0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 1];
        fat.extend(0x0100_000cu32.to_be_bytes()); // CPU_TYPE_ARM64
        fat.extend(0u32.to_be_bytes());
        fat.extend(0xffff_0000u32.to_be_bytes()); // offset
        fat.extend(0xffff_0000u32.to_be_bytes()); // size
        fat.extend(12u32.to_be_bytes());
        for key in ["macos-aarch64", "macos-x86_64"] {
            let error = check(&fat, &Target::from_key(key).unwrap()).unwrap_err();
            assert!(error.contains("arm64 slice lies past its end"), "{error}");
        }
        // The same slice, empty, at the end of the file: only an arm64 slice, and not a Mach-O.
        fat[16..24].copy_from_slice(&[0, 0, 0, 28, 0, 0, 0, 0]); // offset 28, size 0
        let error = check(&fat, &Target::from_key("macos-x86_64").unwrap()).unwrap_err();
        assert!(
            error.ends_with("found a universal Mach-O file with only an arm64 slice"),
            "{error}"
        );
        let error = check(&fat, &Target::from_key("macos-aarch64").unwrap()).unwrap_err();
        assert!(
            error.ends_with("found a universal Mach-O file whose arm64 slice is an empty file"),
            "{error}"
        );
        // A thin 64-bit Mach-O dylib claiming 2^32 - 1 load commands.
        let mut macho = vec![0xcf, 0xfa, 0xed, 0xfe];
        macho.extend(0x0100_0007u32.to_le_bytes()); // CPU_TYPE_X86_64
        macho.extend(3u32.to_le_bytes());
        macho.extend(6u32.to_le_bytes()); // MH_DYLIB
        macho.extend(u32::MAX.to_le_bytes()); // ncmds
        macho.extend(u32::MAX.to_le_bytes()); // sizeofcmds
        macho.extend([0u8; 8]);
        refused_everywhere(&macho);
        // A PE file whose NT headers are said to start 2 GiB in.
        let mut pe = b"MZ".to_vec();
        pe.resize(0x40, 0);
        pe[0x3c..0x40].copy_from_slice(&0x8000_0000u32.to_le_bytes());
        refused_everywhere(&pe);
    }

    /// Every prefix of the first 4 KiB of a real ELF file (this test's own executable, on Linux).
    #[test]
    fn prefixes_and_mutations_of_a_real_file_are_refused() {
        let exe = std::env::current_exe().unwrap();
        let bytes = std::fs::read(&exe).unwrap();
        let head = &bytes[..bytes.len().min(4096)];
        for len in 0..head.len() {
            refused_everywhere(&head[..len]);
        }
        // Unaligned input: the checker reads any slice, however it lies in memory.
        refused_everywhere(&head[1..]);
        // The whole executable: a real file of its own OS, but not a TDLib library.
        let error = check(&bytes, &Target::from_key("windows-x86_64").unwrap()).unwrap_err();
        assert!(error.contains("expected an x86_64 PE DLL"), "{error}");
        if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            let error = check(&bytes, &Target::from_key("linux-x86_64-gnu").unwrap()).unwrap_err();
            assert!(
                error.contains("found an x86_64 ELF position-independent executable")
                    || error.contains("found an x86_64 ELF executable"),
                "{error}"
            );
        }
        // Random byte changes in the first 64 KiB never make the checker panic.
        let mut copy = bytes[..bytes.len().min(64 * 1024)].to_vec();
        let noise = random_bytes(3 * 2000, 99);
        for change in noise.chunks(3) {
            let at = (usize::from(change[0]) << 8 | usize::from(change[1])) % copy.len().min(4096);
            copy[at] = change[2];
            for target in all_targets() {
                let _ = check(&copy, &target);
            }
        }
    }

    #[test]
    fn check_file_names_the_path() {
        let missing = Path::new("/nonexistent/libtdjson.so");
        let error =
            check_file(missing, &Target::from_key("linux-x86_64-gnu").unwrap()).unwrap_err();
        assert!(
            error.starts_with("cannot read /nonexistent/libtdjson.so"),
            "{error}"
        );
        let exe = std::env::current_exe().unwrap();
        let error = check_file(&exe, &Target::from_key("macos-aarch64").unwrap()).unwrap_err();
        assert!(
            error.starts_with(&format!("{}: macos-aarch64: expected", exe.display())),
            "{error}"
        );
    }

    #[test]
    fn words() {
        assert_eq!(join_words::<&str>(&[]), "");
        assert_eq!(join_words(&["a"]), "a");
        assert_eq!(join_words(&["a", "b"]), "a and b");
        assert_eq!(join_words(&["a", "b", "c"]), "a, b and c");
        assert_eq!(article("x86_64"), "an");
        assert_eq!(article("arm64"), "an");
        assert_eq!(article("i386"), "an");
        assert_eq!(article("PE"), "a");
    }
}
