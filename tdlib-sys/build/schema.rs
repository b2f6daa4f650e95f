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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
