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
    assert!(
        stdout.contains(r#"linked TDLib: {"@type":"optionValueString","value":"1.8.65"}"#),
        "{stdout}"
    );
    assert!(stdout.contains(r#""text":"bold and italic""#), "{stdout}");
    assert!(
        stdout.contains(r#""type":{"@type":"textEntityTypeItalic"}"#),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"testSquareInt(12) through a client: {"@type":"testInt","value":144"#),
        "{stdout}"
    );
}
