//! The typed API of the pinned TDLib against the real library of a newer release (the official
//! 1.8.67 prebuilt in CI): by default a typed error that names both releases and the two ways
//! forward; with `allow_version_mismatch`, requests work and nothing panics.
//!
//! `TDLIB_NEWER_LIBRARY` names the newer `libtdjson.so` (`.ci/run` fetches it); without it the
//! test says so and checks nothing. The test re-runs itself in a child process whose loader
//! finds the newer library under the name the test binary was linked with, as a user who puts
//! a newer TDLib where the old one was would have it.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use tdlib::enums::{OptionValue, Update};
use tdlib::{Client, ErrorKind, Event, functions};

const CHILD: &str = "TDLIB_NEWER_LIBRARY_CHILD";
const NAME: &str = "a_newer_library_is_refused_by_default_and_works_when_allowed";

#[test]
fn a_newer_library_is_refused_by_default_and_works_when_allowed() {
    if std::env::var_os(CHILD).is_some() {
        child();
        return;
    }
    let Some(library) = std::env::var_os("TDLIB_NEWER_LIBRARY").filter(|path| !path.is_empty())
    else {
        eprintln!("TDLIB_NEWER_LIBRARY is not set: no newer library to try");
        return;
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("newer-library-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let linked_name = format!("libtdjson.so.{}", tdlib_sys::TDLIB_VERSION);
    std::os::unix::fs::symlink(
        std::fs::canonicalize(&library).unwrap(),
        dir.join(linked_name),
    )
    .unwrap();
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", NAME, "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .env("LD_LIBRARY_PATH", &dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    for line in stdout
        .lines()
        .filter(|line| line.starts_with("refused:") || line.contains("updates from"))
    {
        println!("{line}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn child() {
    tdlib::set_log_verbosity(1).unwrap();
    let OptionValue::String(version) = tdlib::execute(functions::GetOption {
        name: "version".into(),
    })
    .unwrap() else {
        panic!("version is a string option");
    };
    assert_ne!(
        version.value,
        tdlib_sys::TDLIB_VERSION,
        "really another library"
    );
    let refused = Client::new().unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::VersionMismatch);
    let text = refused.to_string();
    for part in [
        version.value.as_str(),
        tdlib_sys::TDLIB_VERSION,
        "upgrade the tdlib crates",
        "allow_version_mismatch",
    ] {
        assert!(text.contains(part), "{part:?} in {text}");
    }
    println!("refused: {text}");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = Client::builder()
            .allow_version_mismatch(true)
            .build()
            .unwrap();
        let mut updates = client.updates();
        let square = client
            .send(functions::TestSquareInt { x: 12 })
            .await
            .unwrap();
        assert_eq!(square.value, 144);
        let echoed = client
            .send(functions::TestCallString { x: "newer".into() })
            .await
            .unwrap();
        assert_eq!(echoed.value, "newer");
        // What the newer TDLib sends on its own decodes (unknown types as Unrecognized).
        let (mut seen, mut unrecognized) = (0, 0);
        while let Ok(Some(event)) =
            tokio::time::timeout(Duration::from_millis(500), updates.recv()).await
        {
            if let Event::Update(update) = event {
                seen += 1;
                if matches!(&**update.update(), Update::Unrecognized(_)) {
                    unrecognized += 1;
                }
            }
        }
        assert!(seen > 0, "the newer TDLib sent updates");
        println!(
            "{seen} updates from TDLib {}, {unrecognized} unrecognized",
            version.value
        );
        client.close().await.unwrap();
    });
}
