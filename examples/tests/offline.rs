//! Runs the `offline` example (built by `cargo test` along with this test) and checks what it
//! prints against the real TDLib.

use std::path::PathBuf;
use std::process::Command;

fn example(name: &str) -> PathBuf {
    // target/<profile>/deps/offline-<hash> → target/<profile>/examples/<name>
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    deps.parent().unwrap().join("examples").join(name)
}

#[test]
fn offline_example_prints_version_entities_and_a_client_answer() {
    let output = Command::new(example("offline"))
        .output()
        .expect("the offline example was built by cargo test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "status {:?}\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains("linked TDLib: 1.8.65\n"), "{stdout}");
    assert!(
        stdout.contains(
            "parseTextEntities: \"bold and italic\"\n  Bold at 0..4\n  Italic at 9..15\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("as Markdown: \"**bold** and __italic__\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("testSquareInt(12) through a client: 144\n"),
        "{stdout}"
    );
    assert!(stderr.is_empty(), "TDLib's stderr logging is off: {stderr}");
}
