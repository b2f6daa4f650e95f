//! Which `td_api.tl` belongs with the linked library. The typed API is generated from exactly
//! this file, so a schema of another TDLib release is refused like a library of one.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::env::Env;
use crate::pin::Pin;

/// `TDLIB_SCHEMA` if set (it must exist), else the schema the library's location carries.
/// Checks the file against the pinned sha256. `Ok(None)` when no schema is known: the sys
/// crate works without one, and the typed layer reports its absence itself.
pub fn resolve(
    env: &Env,
    pin: &Pin,
    from_location: Option<&Path>,
    allow_mismatch: bool,
) -> Result<Option<PathBuf>, String> {
    let path = match env.path("TDLIB_SCHEMA") {
        Some(path) if path.is_file() => path,
        Some(path) => {
            return Err(format!(
                "\ntdlib-sys: TDLIB_SCHEMA is {}, but that file does not exist. Point it at \
                 td/generate/scheme/td_api.tl of TDLib {} (commit {}), or unset it.\n",
                path.display(),
                pin.version,
                pin.commit
            ));
        }
        None => match from_location {
            Some(path) => path.to_path_buf(),
            None => return Ok(None),
        },
    };
    println!("cargo::rerun-if-changed={}", path.display());

    let bytes = std::fs::read(&path).map_err(|error| {
        format!(
            "tdlib-sys: cannot read the schema {}: {error}",
            path.display()
        )
    })?;
    let digest = hex(&Sha256::digest(&bytes));
    if digest != pin.schema_sha256 {
        let message = format!(
            "the schema {} (sha256 {digest}) is not td_api.tl of TDLib {} (sha256 {}).",
            path.display(),
            pin.version,
            pin.schema_sha256
        );
        if !allow_mismatch {
            return Err(format!(
                "\ntdlib-sys: {message}\nThe typed API must be generated from the schema of the linked library. \
                 Use the schema of commit {}, or set TDLIB_ALLOW_VERSION_MISMATCH=1 to accept it.\n",
                pin.commit
            ));
        }
        println!("cargo::warning=TDLIB_ALLOW_VERSION_MISMATCH: {message}");
    }
    Ok(Some(path))
}

/// `path` if it is the pinned schema (its sha256 matches), else `None`.
pub fn resolve_file(pin: &Pin, path: &Path) -> Option<PathBuf> {
    let bytes = std::fs::read(path).ok()?;
    println!("cargo::rerun-if-changed={}", path.display());
    (hex(&Sha256::digest(&bytes)) == pin.schema_sha256).then(|| path.to_path_buf())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Where TDLib's repository serves the schema of a commit.
#[cfg(feature = "download")]
fn schema_url(pin: &Pin) -> String {
    format!(
        "https://raw.githubusercontent.com/tdlib/td/{}/td/generate/scheme/td_api.tl",
        pin.commit
    )
}

/// Fetches the pinned `td_api.tl` into `dest` (feature `download`) with curl or wget, checks
/// its sha256 and moves it into place. The prebuilts carry no schema, and the typed API is
/// generated from it. The error is one line (it travels as `DEP_TDJSON_SCHEMA_MISSING`).
#[cfg(feature = "download")]
pub fn fetch(pin: &Pin, dest: &Path) -> Result<PathBuf, String> {
    let url = schema_url(pin);
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let partial = dir.join(format!(".td_api.tl.{}-{nanos}", std::process::id()));
    if let Err(why) = crate::fetch::download(&url, &partial) {
        let _ = std::fs::remove_file(&partial);
        return Err(format!(
            "could not fetch td_api.tl of TDLib {} from {url} ({why}). Offline, set TDLIB_SCHEMA to \
             td/generate/scheme/td_api.tl of a TDLib checkout at commit {}, or put that file at {}",
            pin.version,
            pin.commit,
            dest.display()
        ));
    }
    let bytes = std::fs::read(&partial).unwrap_or_default();
    let digest = hex(&Sha256::digest(&bytes));
    if digest != pin.schema_sha256 {
        let _ = std::fs::remove_file(&partial);
        return Err(format!(
            "the td_api.tl fetched from {url} has sha256 {digest}, not the pinned {}; it was not used",
            pin.schema_sha256
        ));
    }
    if let Err(error) = std::fs::rename(&partial, dest) {
        let _ = std::fs::remove_file(&partial);
        return Err(format!(
            "cannot move the schema to {}: {error}",
            dest.display()
        ));
    }
    println!(
        "cargo::warning=tdlib-sys: fetched td_api.tl of TDLib {} (sha256 checked) into {}",
        pin.version,
        dest.display()
    );
    Ok(dest.to_path_buf())
}
