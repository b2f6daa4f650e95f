//! Fetching files for the feature `download`: `npm pack` with a time limit, unpacking an npm
//! package of a prebuilt TDLib, and downloading a file with curl or wget. Plain functions of
//! paths and strings, shared with the upgrade tool (`xtask upgrade`, which includes this file),
//! so the two fetch and read packages alike.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Runs `<program> pack --ignore-scripts <package>` in a folder inside `work` and returns the
/// tarball it wrote; npm is stopped after `timeout`. The error is one sentence, with the last
/// lines npm printed.
pub fn npm_pack(
    program: &str,
    package: &str,
    work: &Path,
    timeout: Duration,
) -> Result<PathBuf, String> {
    let pack_dir = work.join("pack");
    fs::create_dir_all(&pack_dir)
        .map_err(|error| format!("cannot create {}: {error}", pack_dir.display()))?;
    let log_path = work.join("npm.log");
    let log = File::create(&log_path)
        .map_err(|error| format!("cannot create {}: {error}", log_path.display()))?;
    let log_err = log
        .try_clone()
        .map_err(|error| format!("cannot create {}: {error}", log_path.display()))?;
    let shown = format!("`{program} pack --ignore-scripts {}`", package);
    let mut child = Command::new(program)
        .args(["pack", "--ignore-scripts", "--loglevel=warn", package])
        .current_dir(&pack_dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|error| {
            if error.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "{shown} could not run: {program} is not installed (install Node.js with npm, \
                     or set TDLIB_NPM to the npm program)"
                )
            } else {
                format!("{shown} could not run: {error}")
            }
        })?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{shown} did not finish in {} s and was stopped",
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(error) => return Err(format!("{shown}: cannot wait for it: {error}")),
        }
    };
    let output = read_tail(&log_path);
    if !status.success() {
        return Err(format!("{shown} failed ({status}): {output}"));
    }
    let mut tarballs = fs::read_dir(&pack_dir)
        .map_err(|error| format!("cannot list {}: {error}", pack_dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "tgz"));
    match (tarballs.next(), tarballs.next()) {
        (Some(tarball), None) => Ok(tarball),
        _ => Err(format!(
            "{shown} succeeded but did not leave exactly one .tgz in {} ({output})",
            pack_dir.display()
        )),
    }
}

/// The last lines npm printed, on one line, for a message.
fn read_tail(path: &Path) -> String {
    let text = fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    let tail = lines[lines.len().saturating_sub(6)..].join(" | ");
    if tail.is_empty() {
        "it printed nothing".to_owned()
    } else {
        tail
    }
}

/// The largest library file accepted from a package (the real ones are 30-60 MB).
pub const MAX_LIBRARY_BYTES: u64 = 1 << 30;

/// What [`unpack`] found in a package.
#[derive(Debug)]
pub struct Unpacked {
    /// sha256 (hex) of the library file, as written to the destination.
    pub sha256: String,
    /// `package/package.json`, if the package has one (at most 1 MiB of it).
    pub package_json: Option<String>,
}

/// Writes `package/<file>` of the gzipped tarball `tarball` to `dest` (a new file), hashing it
/// on the way. The error is a phrase to put after the tarball's name.
pub fn unpack(tarball: &Path, file: &str, dest: &Path) -> Result<Unpacked, String> {
    let reader = File::open(tarball).map_err(|error| format!("cannot be opened: {error}"))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(reader));
    let wanted = format!("package/{file}");
    let (mut sha256, mut package_json) = (None, None);
    let entries = archive
        .entries()
        .map_err(|error| format!("is not a readable tarball: {error}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|error| format!("is not a readable tarball: {error}"))?;
        let path = entry
            .path()
            .map_err(|error| format!("has an unreadable entry name: {error}"))?
            .to_string_lossy()
            .into_owned();
        if path == "package/package.json" {
            let mut text = String::new();
            entry
                .by_ref()
                .take(1 << 20)
                .read_to_string(&mut text)
                .map_err(|error| format!("has an unreadable package.json: {error}"))?;
            package_json = Some(text);
        } else if path == wanted && sha256.is_none() {
            if entry.header().entry_type() != tar::EntryType::Regular {
                return Err(format!("holds {wanted}, but not as a regular file"));
            }
            let size = entry.size();
            if size > MAX_LIBRARY_BYTES {
                return Err(format!(
                    "holds a {wanted} of {size} bytes, too large to be TDLib"
                ));
            }
            sha256 = Some(copy_hashing(&mut entry, dest)?);
        }
    }
    match sha256 {
        Some(sha256) => Ok(Unpacked {
            sha256,
            package_json,
        }),
        None => Err(format!("has no {wanted}")),
    }
}

/// Copies `from` into a new file `dest`, returning the sha256 (hex) of what was written.
fn copy_hashing(from: &mut impl Read, dest: &Path) -> Result<String, String> {
    let mut out = File::create(dest)
        .map_err(|error| format!("cannot be unpacked to {}: {error}", dest.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 16];
    loop {
        let read = from
            .read(&mut buffer)
            .map_err(|error| format!("cannot be read to the end: {error}"))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        out.write_all(&buffer[..read])
            .map_err(|error| format!("cannot be unpacked to {}: {error}", dest.display()))?;
    }
    out.sync_all()
        .map_err(|error| format!("cannot be unpacked to {}: {error}", dest.display()))?;
    Ok(hex(&hasher.finalize()))
}

/// Downloads `url` to `dest` with curl, else wget, with short timeouts (an offline machine
/// answers at once or within seconds, never hangs). The error is one line: why, in the words
/// of the program that ran.
pub fn download(url: &str, dest: &Path) -> Result<(), String> {
    let dest_arg = dest.to_string_lossy().into_owned();
    let tries: [(&str, Vec<&str>); 2] = [
        (
            "curl",
            vec![
                "--fail",
                "--silent",
                "--show-error",
                "--location",
                "--connect-timeout",
                "10",
                "--max-time",
                "60",
                "--output",
                &dest_arg,
                url,
            ],
        ),
        (
            "wget",
            vec![
                "--quiet",
                "--tries=1",
                "--connect-timeout=10",
                "--read-timeout=60",
                "-O",
                &dest_arg,
                url,
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (program, args) in tries {
        let output = match Command::new(program)
            .args(&args)
            .stdin(Stdio::null())
            .output()
        {
            Ok(output) => output,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                failures.push(format!("{program} is not installed"));
                continue;
            }
            Err(error) => {
                failures.push(format!("{program} could not run: {error}"));
                continue;
            }
        };
        if output.status.success() {
            return Ok(());
        }
        let said = String::from_utf8_lossy(&output.stderr);
        let said = said.split_whitespace().collect::<Vec<_>>().join(" ");
        failures.push(format!("{program} failed ({}): {said}", output.status));
        let _ = std::fs::remove_file(dest);
        // One program that ran is enough to know the answer (offline, or the file moved).
        break;
    }
    Err(failures.join("; "))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A scratch folder inside `parent` (so the final moves are renames on one file system),
/// removed when dropped.
#[derive(Debug)]
pub struct ScratchDir {
    pub path: PathBuf,
}

impl ScratchDir {
    pub fn new(parent: &Path) -> Result<ScratchDir, String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        let path = parent.join(format!(".tmp-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path)
            .map_err(|error| format!("cannot create {}: {error}", path.display()))?;
        Ok(ScratchDir { path })
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
