//! Discovery step 6 (feature `download`): fetch the official prebuilt `libtdjson` pinned for
//! the target, check it, and put it into the cache that step 5 reads.
//!
//! The package is fetched with the npm client (`npm pack <package>@<version>`), so the user's
//! npm configuration (registry mirror, proxy, certificates, offline cache) applies and no
//! address is written here. Then:
//!
//! 1. the tarball's `package/package.json` must name the pinned TDLib commit (the prebuilts
//!    declare `"tdlib": {"commit": ...}`), so a package of another release is refused by name;
//! 2. the library file is extracted while its sha256 is computed, and must match the pin;
//! 3. only then is it moved into `<cache>/tdlib-<version>/<target>/lib/` with a rename, so a
//!    half-written or unchecked file is never where the build looks, and two builds racing
//!    each other both end with the same checked file.
//!
//! Every wait has an end: npm is stopped after [`NPM_TIMEOUT`].

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::fetch;
use crate::pin::Prebuilt;
use crate::report::Context;

/// How long `npm pack` may take (a 20 MB package on a slow line), after which it is stopped.
const NPM_TIMEOUT: Duration = Duration::from_secs(600);

/// The npm program: `TDLIB_NPM` if set, else `npm` from `PATH` (`npm.cmd` on Windows hosts).
fn npm_program(cx: &Context) -> String {
    cx.env.get("TDLIB_NPM").unwrap_or_else(|| {
        if cfg!(windows) {
            "npm.cmd".to_owned()
        } else {
            "npm".to_owned()
        }
    })
}

/// Fetches `prebuilt` into `prefix/lib/` (`prefix` is the target's folder of the cache);
/// `downloads` keeps the checked tarball. The error says what failed, in one sentence; the
/// caller turns it into the full failure message.
pub fn fetch(
    cx: &Context,
    prebuilt: &Prebuilt,
    prefix: &Path,
    downloads: &Path,
) -> Result<PathBuf, String> {
    let Some(expected) = prebuilt.sha256.as_deref() else {
        return Err(format!(
            "the pin has no sha256 for {} (target {}): that package could not be fetched where \
             this release was pinned, so it is not downloaded unchecked",
            prebuilt.package, prebuilt.target
        ));
    };
    let lib_dir = prefix.join("lib");
    for dir in [&lib_dir, downloads] {
        fs::create_dir_all(dir)
            .map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
    }
    let work = fetch::ScratchDir::new(prefix)?;

    // A tarball kept by an earlier run is used again if it still checks out.
    let kept = downloads.join(prebuilt.tarball_name());
    let tarball = if kept.is_file() {
        kept.clone()
    } else {
        fetch::npm_pack(&npm_program(cx), &prebuilt.package, &work.path, NPM_TIMEOUT)?
    };
    let extracted = work.path.join(&prebuilt.file);
    let checked = extract_checked(cx, prebuilt, expected, &tarball, &extracted);
    let checked = match checked {
        Err(why) if tarball == kept => {
            // The kept tarball went bad (or the pin moved): fetch once more before giving up.
            println!("cargo::warning=tdlib-sys: {why}; fetching it again");
            let _ = fs::remove_file(&kept);
            let tarball =
                fetch::npm_pack(&npm_program(cx), &prebuilt.package, &work.path, NPM_TIMEOUT)?;
            extract_checked(cx, prebuilt, expected, &tarball, &extracted).map(|()| tarball)
        }
        other => other.map(|()| tarball),
    }?;
    if checked != kept {
        // Best effort: the tarball only saves a later fetch.
        let _ = fs::rename(&checked, &kept);
    }
    let installed = lib_dir.join(&prebuilt.file);
    fs::rename(&extracted, &installed).map_err(|error| {
        format!(
            "cannot move the library to {}: {error}",
            installed.display()
        )
    })?;
    println!(
        "cargo::warning=tdlib-sys: downloaded {} (sha256 checked) into {}",
        prebuilt.package,
        installed.display()
    );
    Ok(installed)
}

/// Extracts `package/<file>` of `tarball` to `dest`, checking the package's TDLib commit and
/// the file's sha256. On error `dest` is removed.
fn extract_checked(
    cx: &Context,
    prebuilt: &Prebuilt,
    expected: &str,
    tarball: &Path,
    dest: &Path,
) -> Result<(), String> {
    let bad = |why: String| format!("{} ({}) {why}", tarball.display(), prebuilt.package);
    let check = |unpacked: fetch::Unpacked| {
        let declares_commit = unpacked
            .package_json
            .is_some_and(|json| json.contains(&format!("\"{}\"", cx.pin.commit)));
        if !declares_commit {
            return Err(bad(format!(
                "does not declare TDLib commit {} (TDLib {}) in its package.json: it is a build of another release",
                cx.pin.commit, cx.pin.version
            )));
        }
        if unpacked.sha256 != expected {
            return Err(bad(format!(
                "holds a {} whose sha256 is {}, but the pin says {expected}: the file is not the \
                 one that was pinned (a corrupted download, a tampered mirror or cache); nothing was installed",
                prebuilt.file, unpacked.sha256
            )));
        }
        Ok(())
    };
    let result = fetch::unpack(tarball, &prebuilt.file, dest)
        .map_err(bad)
        .and_then(check);
    if result.is_err() {
        let _ = fs::remove_file(dest);
    }
    result
}
