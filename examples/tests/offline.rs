//! Runs the `offline` example (built by `cargo test` along with this test) and checks what it
//! prints against the real TDLib.

mod support;

use std::process::Command;

#[test]
fn offline_example_prints_version_entities_and_a_client_answer() {
    let output = Command::new(support::example("offline"))
        .output()
        .expect("the offline example was built by cargo test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "status {:?}\n{stdout}\n{stderr}", output.status);
    assert!(stdout.contains("linked TDLib: 1.8.65\n"), "{stdout}");
    assert!(
        stdout.contains(
            "parseTextEntities: \"bold and italic\"\n  Bold at 0..4\n  Italic at 9..15\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("as Markdown: \"**bold** and __italic__\""), "{stdout}");
    assert!(stdout.contains("testSquareInt(12) through a client: 144\n"), "{stdout}");
    assert!(
        stdout.contains(
            "parseMarkdown: \"strong, code and a link\"\n  Bold at 0..6\n  Code at 8..12\n  TextUrl at 17..23\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("testCallString round trip: \"h\u{e9}llo \u{1f30d}\"\n"), "{stdout}");
    assert!(
        stdout.contains("testCallVectorInt round trip: [-2147483648, 0, 2147483647]\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("testReturnError: TDLib error 429: FLOOD_WAIT_7 (retry after Some(7s))\n"),
        "{stdout}"
    );
    assert!(stderr.is_empty(), "TDLib's stderr logging is off: {stderr}");
}
