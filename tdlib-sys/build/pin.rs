//! The TDLib release this crate is pinned to, read from `tdlib.pin` (the one place it lives).

/// The pinned TDLib release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// TDLib version, e.g. `1.8.65`.
    pub version: String,
    /// TDLib source commit of that version.
    pub commit: String,
    /// sha256 (hex) of `td/generate/scheme/td_api.tl` at `commit`.
    pub schema_sha256: String,
}

impl Pin {
    /// Parses the `key=value` pin format (`#` starts a comment line).
    pub fn parse(text: &str) -> Result<Pin, String> {
        let mut version = None;
        let mut commit = None;
        let mut schema_sha256 = None;
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(format!(
                    "tdlib.pin line {}: expected key=value, got {line:?}",
                    index + 1
                ));
            };
            let slot = match key.trim() {
                "version" => &mut version,
                "commit" => &mut commit,
                "schema_sha256" => &mut schema_sha256,
                _ => continue,
            };
            *slot = Some(value.trim().to_owned());
        }
        let missing = |name: &str| format!("tdlib.pin has no `{name}=` line");
        Ok(Pin {
            version: version.ok_or_else(|| missing("version"))?,
            commit: commit.ok_or_else(|| missing("commit"))?,
            schema_sha256: schema_sha256.ok_or_else(|| missing("schema_sha256"))?,
        })
    }
}
