//! The TDLib release this crate is pinned to, read from `tdlib.pin` (the one place it lives).
//!
//! Also read by `scripts/setup` (in shell) and by the upgrade tool (`xtask upgrade`), which
//! rewrites it; the format is `key=value` lines so that all three read it without a parser
//! library.

/// The pinned TDLib release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// TDLib version, e.g. `1.8.65`.
    pub version: String,
    /// TDLib source commit of that version.
    pub commit: String,
    /// sha256 (hex) of `td/generate/scheme/td_api.tl` at `commit`.
    pub schema_sha256: String,
    /// The official prebuilt libraries of this release, one per target, in pin order.
    pub prebuilts: Vec<Prebuilt>,
}

/// One official prebuilt `libtdjson`: a line `prebuilt.<target>=<npm package> <file> <sha256>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prebuilt {
    /// The target it runs on, as `<os>-<arch>[-<libc>]` with Rust's names
    /// (`linux-x86_64-gnu`, `macos-aarch64`, `windows-x86_64`).
    pub target: String,
    /// The npm package that carries it, with its exact version (`@scope/name@1.2.3`).
    pub package: String,
    /// The library's file name inside the package's `package/` folder.
    pub file: String,
    /// sha256 (hex) of that file; `None` when the pin says `unverified` (the package could not
    /// be fetched where the pin was written, so nothing may trust it).
    pub sha256: Option<String>,
}

/// The word the pin uses for a prebuilt whose file was never hashed.
pub const UNVERIFIED: &str = "unverified";

impl Pin {
    /// Parses the `key=value` pin format (`#` starts a comment line). Every value ends up in a
    /// path, a command line or a comparison, so each must have its expected shape.
    pub fn parse(text: &str) -> Result<Pin, String> {
        let mut version = None;
        let mut commit = None;
        let mut schema_sha256 = None;
        let mut prebuilts: Vec<Prebuilt> = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = |what: &str| format!("tdlib.pin line {}: {what}", index + 1);
            let Some((key, value)) = line.split_once('=') else {
                return Err(at(&format!("expected key=value, got {line:?}")));
            };
            let (key, value) = (key.trim(), value.trim());
            if let Some(target) = key.strip_prefix("prebuilt.") {
                let prebuilt = Prebuilt::parse(target, value).map_err(|why| at(&why))?;
                if prebuilts.iter().any(|seen| seen.target == prebuilt.target) {
                    return Err(at(&format!("target {target} is pinned twice")));
                }
                prebuilts.push(prebuilt);
                continue;
            }
            let slot = match key {
                "version" => &mut version,
                "commit" => &mut commit,
                "schema_sha256" => &mut schema_sha256,
                _ => continue,
            };
            *slot = Some(value.to_owned());
        }
        let missing = |name: &str| format!("tdlib.pin has no `{name}=` line");
        let pin = Pin {
            version: version.ok_or_else(|| missing("version"))?,
            commit: commit.ok_or_else(|| missing("commit"))?,
            schema_sha256: schema_sha256.ok_or_else(|| missing("schema_sha256"))?,
            prebuilts,
        };
        let bad = |name: &str, value: &str, shape: &str| {
            format!("tdlib.pin: `{name}={value}` is not {shape}")
        };
        if !is_version(&pin.version) {
            return Err(bad("version", &pin.version, "a version like 1.8.65"));
        }
        if !is_hex(&pin.commit, 40) {
            return Err(bad("commit", &pin.commit, "a 40-digit hex commit"));
        }
        if !is_hex(&pin.schema_sha256, 64) {
            return Err(bad("schema_sha256", &pin.schema_sha256, "a sha256"));
        }
        Ok(pin)
    }

    /// The prebuilt pinned for `target`, if any.
    pub fn prebuilt(&self, target: &str) -> Option<&Prebuilt> {
        self.prebuilts
            .iter()
            .find(|prebuilt| prebuilt.target == target)
    }
}

impl Prebuilt {
    fn parse(target: &str, value: &str) -> Result<Prebuilt, String> {
        let words: Vec<&str> = value.split_whitespace().collect();
        let [package, file, sha256] = words.as_slice() else {
            return Err(format!(
                "prebuilt.{target} must be `<npm package>@<version> <file> <sha256 or {UNVERIFIED}>`, got {value:?}"
            ));
        };
        let target_ok = !target.is_empty()
            && target.bytes().all(|byte| {
                byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'_'
            });
        if !target_ok {
            return Err(format!(
                "{target:?} is not a target name like linux-x86_64-gnu"
            ));
        }
        if !is_package_spec(package) {
            return Err(format!(
                "prebuilt.{target}: {package:?} is not an npm package with an exact version"
            ));
        }
        let file_ok = !file.is_empty()
            && !file.starts_with('.')
            && file
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'));
        if !file_ok {
            return Err(format!(
                "prebuilt.{target}: {file:?} is not a plain file name"
            ));
        }
        let sha256 = match *sha256 {
            UNVERIFIED => None,
            digest if is_hex(digest, 64) => Some(digest.to_owned()),
            other => {
                return Err(format!(
                    "prebuilt.{target}: {other:?} is neither a sha256 nor `{UNVERIFIED}`"
                ));
            }
        };
        Ok(Prebuilt {
            target: target.to_owned(),
            package: (*package).to_owned(),
            file: (*file).to_owned(),
            sha256,
        })
    }

    /// The file `npm pack` writes for the package: `@scope/name@1.2.3` → `scope-name-1.2.3.tgz`.
    #[allow(
        dead_code,
        reason = "only the feature `download` and the upgrade tool use it"
    )]
    pub fn tarball_name(&self) -> String {
        let (name, version) = self.package.rsplit_once('@').unwrap_or((&self.package, ""));
        format!(
            "{}-{version}.tgz",
            name.trim_start_matches('@').replace('/', "-")
        )
    }
}

/// Whether `text` is `len` lower-case hex digits.
pub fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

/// Whether `text` is a version like `1.8.65` (two or more numbers).
pub fn is_version(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() >= 2
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()))
}

/// `name@version` or `@scope/name@version`, lower-case npm names, an exact version (no ranges,
/// no tags): the pin must name one file, forever.
fn is_package_spec(spec: &str) -> bool {
    let Some((name, version)) = spec.rsplit_once('@') else {
        return false;
    };
    let name_char = |byte: u8| {
        byte.is_ascii_lowercase() || byte.is_ascii_digit() || matches!(byte, b'.' | b'_' | b'-')
    };
    let name_ok = match name.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, rest)) => {
                !scope.is_empty()
                    && !rest.is_empty()
                    && scope.bytes().all(name_char)
                    && rest.bytes().all(name_char)
            }
            None => false,
        },
        None => !name.is_empty() && name.bytes().all(name_char),
    };
    let version_ok = version.split(['-', '+']).next().is_some_and(is_version)
        && version
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'+'));
    name_ok && version_ok
}
