//! Test support for running programs against the fake `libtdjson` of the `tdlib-fake` crate.
//!
//! A program under test is built normally against the real TDLib (it needs
//! `libtdjson.so.<version>` and has no RUNPATH). At run time the test puts a folder holding the
//! fake first on `LD_LIBRARY_PATH`, so that the dynamic loader picks the fake, and tells the
//! fake what to do with a script file (`TDLIB_FAKE_SCRIPT`) and where to log the requests it
//! receives (`TDLIB_FAKE_LOG`). [`Fake`] sets all of that up; [`Fake::configure`] applies it to
//! a [`Command`], and [`Fake::run_test_in_child`] re-runs a test of the current test binary in a
//! child process configured that way (the environment of a running process cannot be changed
//! safely, and the loader reads `LD_LIBRARY_PATH` only at start).
//!
//! ```no_run
//! use tdlib_fake_harness::{Fake, in_child};
//!
//! // A `#[test]` function called `echo`:
//! fn echo() {
//!     if in_child() {
//!         // The real program logic, talking to "TDLib".
//!         return;
//!     }
//!     let fake = Fake::new("echo", &serde_json::json!({"login": {"bot_token": "1:t"}}));
//!     let output = fake.run_test_in_child("echo");
//!     assert!(output.status.success());
//!     assert!(fake.requests().iter().any(|logged| logged.request_type() == "sendMessage"));
//! }
//! ```

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, PoisonError};

use serde_json::Value;

/// The TDLib version the fake stands in for (the pin of `tdlib-sys`).
pub const VERSION: &str = pin_value(include_str!("../../../tdlib-sys/tdlib.pin"), "version");

/// The file name the dynamic loader looks for: `libtdjson.so.<version>`.
pub fn library_file_name() -> String {
    format!("libtdjson.so.{VERSION}")
}

/// Builds the fake once per process (and profile), then makes a folder holding
/// `libtdjson.so.<version>` (and `libtdjson.so`) as symlinks to the built library, and returns
/// that folder.
///
/// The build is a nested `cargo build -p tdlib-fake` (with the `CARGO` environment variable, or
/// `cargo`) into its own target directory `<target>/tdlib-fake`, where `<target>` is
/// `$CARGO_TARGET_DIR` or found from the path of the running test binary
/// (`.../target/<profile>/deps/<exe>`), so that it does not wait for the lock of the build that
/// runs the tests. Panics with cargo's output on failure (it is test support).
pub fn library_dir(release: bool) -> PathBuf {
    static BUILT: Mutex<Option<HashMap<bool, PathBuf>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(dir) = built.get(&release) {
        return dir.clone();
    }
    let dir = build(release);
    built.insert(release, dir.clone());
    dir
}

fn build(release: bool) -> PathBuf {
    let target_dir = target_dir().join("tdlib-fake");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(&cargo);
    command
        .arg("build")
        .arg("--manifest-path")
        .arg(&manifest)
        .args(["-p", "tdlib-fake", "--message-format", "short"])
        .arg("--target-dir")
        .arg(&target_dir);
    if release {
        command.arg("--release");
    }
    // Settings of the outer build that are meant for it, not for this one.
    for name in [
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        command.env_remove(name);
    }
    let output = command.output().unwrap_or_else(|error| {
        panic!(
            "tdlib-fake-harness: cannot run {}: {error}",
            Path::new(&cargo).display()
        )
    });
    if !output.status.success() {
        panic!(
            "tdlib-fake-harness: building the fake TDLib failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let profile = if release { "release" } else { "debug" };
    let library = target_dir.join(profile).join("libtdjson.so");
    assert!(
        library.is_file(),
        "tdlib-fake-harness: cargo built the fake but {} is missing",
        library.display()
    );
    let dir = target_dir.join(format!("lib-{profile}"));
    std::fs::create_dir_all(&dir).unwrap_or_else(|error| {
        panic!(
            "tdlib-fake-harness: cannot create {}: {error}",
            dir.display()
        )
    });
    for name in [library_file_name(), "libtdjson.so".to_owned()] {
        link(&library, &dir.join(name));
    }
    dir
}

/// Makes `link` a symlink to `target`, atomically (several test binaries may do it at once).
fn link(target: &Path, link: &Path) {
    if std::fs::read_link(link).is_ok_and(|existing| existing == target) {
        return;
    }
    let temporary = link.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_file(&temporary);
    #[cfg(unix)]
    let made = std::os::unix::fs::symlink(target, &temporary);
    #[cfg(not(unix))]
    let made = std::fs::copy(target, &temporary).map(|_| ());
    made.and_then(|()| std::fs::rename(&temporary, link))
        .unwrap_or_else(|error| {
            panic!(
                "tdlib-fake-harness: cannot make {}: {error}",
                link.display()
            )
        });
}

/// `$CARGO_TARGET_DIR`, else the `target` folder that holds the running test binary. (A relative
/// `$CARGO_TARGET_DIR` is relative to where cargo was started, which a test cannot know: the
/// binary's path is used then too.)
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        if dir.is_absolute() {
            return dir;
        }
    }
    let exe = std::env::current_exe().expect("tdlib-fake-harness: the path of the test binary");
    // .../target/<profile>/deps/<exe> (or .../target/<profile>/examples/<exe>)
    exe.parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| {
            panic!(
                "tdlib-fake-harness: cannot find the target folder from {}",
                exe.display()
            )
        })
}

/// Whether this process was started by [`Fake::run_test_in_child`] (`TDLIB_FAKE_CHILD=1`).
pub fn in_child() -> bool {
    std::env::var_os("TDLIB_FAKE_CHILD").is_some_and(|value| value == "1")
}

/// A scratch folder with a script and a request log, and the fake to use them with.
#[derive(Debug)]
pub struct Fake {
    dir: PathBuf,
    script: PathBuf,
    log: PathBuf,
    library_dir: PathBuf,
}

impl Fake {
    /// Writes `script` to a fresh scratch folder (under the system's temporary folder, unique per
    /// process and name) and builds the fake (debug).
    pub fn new(name: &str, script: &Value) -> Fake {
        Fake::with_library(name, script, library_dir(false))
    }

    /// Like [`Fake::new`], with the fake built in release mode (for benchmarks).
    pub fn new_release(name: &str, script: &Value) -> Fake {
        Fake::with_library(name, script, library_dir(true))
    }

    fn with_library(name: &str, script: &Value, library_dir: PathBuf) -> Fake {
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let dir = std::env::temp_dir().join(format!("tdlib-fake-{}-{safe}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|error| {
            panic!(
                "tdlib-fake-harness: cannot create {}: {error}",
                dir.display()
            )
        });
        let script_path = dir.join("script.json");
        let text = serde_json::to_string_pretty(script).expect("a JSON value serializes");
        std::fs::write(&script_path, text).unwrap_or_else(|error| {
            panic!(
                "tdlib-fake-harness: cannot write {}: {error}",
                script_path.display()
            )
        });
        Fake {
            log: dir.join("requests.jsonl"),
            script: script_path,
            dir,
            library_dir,
        }
    }

    /// Sets `LD_LIBRARY_PATH` (the fake's folder first, then the inherited value),
    /// `TDLIB_FAKE_SCRIPT` and `TDLIB_FAKE_LOG` on `command`.
    pub fn configure(&self, command: &mut Command) {
        let mut paths = vec![self.library_dir.clone()];
        if let Some(inherited) = std::env::var_os("LD_LIBRARY_PATH") {
            paths.extend(
                std::env::split_paths(&inherited).filter(|path| !path.as_os_str().is_empty()),
            );
        }
        let joined = std::env::join_paths(paths).expect("library paths without ':'");
        command
            .env("LD_LIBRARY_PATH", joined)
            .env("TDLIB_FAKE_SCRIPT", &self.script)
            .env("TDLIB_FAKE_LOG", &self.log);
    }

    /// The scratch folder (programs may keep databases there).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder holding the fake library.
    pub fn library_dir(&self) -> &Path {
        &self.library_dir
    }

    fn log_lines(&self) -> Vec<Value> {
        let Ok(text) = std::fs::read_to_string(&self.log) else {
            return Vec::new();
        };
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|error| {
                    panic!("tdlib-fake-harness: bad log line {line:?}: {error}")
                })
            })
            .collect()
    }

    /// The request log so far, parsed.
    pub fn requests(&self) -> Vec<Logged> {
        self.log_lines()
            .into_iter()
            .filter(|line| line.get("request").is_some())
            .map(|mut line| Logged {
                ms: line["ms"].as_f64().unwrap_or_default(),
                client_id: line["client_id"]
                    .as_i64()
                    .and_then(|id| i32::try_from(id).ok())
                    .unwrap_or_default(),
                request: line["request"].take(),
                answer: line["answer"].take(),
            })
            .collect()
    }

    /// Script errors logged so far.
    pub fn script_errors(&self) -> Vec<String> {
        self.log_lines()
            .iter()
            .filter_map(|line| line["script_error"].as_str().map(str::to_owned))
            .collect()
    }

    /// Re-runs the current test binary for the single test `test_name`
    /// (`<exe> --exact <test_name> --nocapture --test-threads 1`), configured for the fake and
    /// with `TDLIB_FAKE_CHILD=1`, and returns its output.
    pub fn run_test_in_child(&self, test_name: &str) -> Output {
        let exe = std::env::current_exe().expect("tdlib-fake-harness: the path of the test binary");
        let mut command = Command::new(&exe);
        command
            .args(["--exact", test_name, "--nocapture", "--test-threads", "1"])
            .env("TDLIB_FAKE_CHILD", "1");
        self.configure(&mut command);
        command.output().unwrap_or_else(|error| {
            panic!("tdlib-fake-harness: cannot run {}: {error}", exe.display())
        })
    }
}

impl Drop for Fake {
    /// Removes the scratch folder, unless the test is failing (then it is kept for a look).
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "tdlib-fake-harness: kept {} for inspection",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// One request the fake handled, from its log.
#[derive(Debug, Clone)]
pub struct Logged {
    /// Milliseconds since the fake was first used in that process.
    pub ms: f64,
    /// The client (0 for `td_execute`).
    pub client_id: i32,
    /// The request as parsed JSON, or the raw text as a JSON string if it was not JSON.
    pub request: Value,
    /// The answer, as the fake wrote it (without `@extra` and `@client_id`).
    pub answer: Value,
}

impl Logged {
    /// The request's `@type`, or `""`.
    pub fn request_type(&self) -> &str {
        self.request["@type"].as_str().unwrap_or_default()
    }
}

/// The value of a `key=value` line of `tdlib.pin`, at compile time.
const fn pin_value(pin: &'static str, key: &str) -> &'static str {
    let bytes = pin.as_bytes();
    let key = key.as_bytes();
    let mut line_start = 0;
    while line_start < bytes.len() {
        let mut line_end = line_start;
        while line_end < bytes.len() && bytes[line_end] != b'\n' {
            line_end += 1;
        }
        let mut matches =
            line_end - line_start > key.len() && bytes[line_start + key.len()] == b'=';
        let mut index = 0;
        while matches && index < key.len() {
            matches = bytes[line_start + index] == key[index];
            index += 1;
        }
        if matches {
            let (_, rest) = bytes.split_at(line_start + key.len() + 1);
            let (value, _) = rest.split_at(line_end - line_start - key.len() - 1);
            return match std::str::from_utf8(value) {
                Ok(value) => value,
                Err(_) => panic!("tdlib.pin is not UTF-8"),
            };
        }
        line_start = line_end + 1;
    }
    panic!("tdlib.pin has no such key")
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_comes_from_the_pin() {
        assert_eq!(super::VERSION.split('.').count(), 3, "{}", super::VERSION);
        assert_eq!(
            super::library_file_name(),
            format!("libtdjson.so.{}", super::VERSION)
        );
    }
}
