//! Finding the example binaries that `cargo test` builds next to the tests.

use std::path::PathBuf;
use std::time::SystemTime;

/// The built example `name`, checked to be at least as new as every source its dep-info file
/// (`<name>.d`, written by cargo) lists: `cargo test` builds examples only when no single test
/// target is selected, and a stale binary would test old code.
pub fn example(name: &str) -> PathBuf {
    // target/<profile>/deps/<test>-<hash> → target/<profile>/examples/<name>
    let exe = std::env::current_exe().unwrap();
    let examples = exe.parent().unwrap().parent().unwrap().join("examples");
    let binary = examples.join(name);
    let modified = |path: &std::path::Path| {
        std::fs::metadata(path)
            .and_then(|metadata| metadata.modified())
            .ok()
    };
    let built = modified(&binary).unwrap_or_else(|| {
        panic!(
            "{} is not built; run `cargo test -p tdlib-examples` without --test",
            binary.display()
        )
    });
    let dep_info = std::fs::read_to_string(examples.join(format!("{name}.d"))).unwrap_or_default();
    let sources = dep_info
        .lines()
        .next()
        .and_then(|line| line.split_once(": "))
        .map(|(_, sources)| sources.replace("\\ ", "\u{0}"))
        .unwrap_or_default();
    for source in sources.split(' ').filter(|source| !source.is_empty()) {
        let source = PathBuf::from(source.replace('\u{0}', " "));
        if modified(&source).unwrap_or(SystemTime::UNIX_EPOCH) > built {
            panic!(
                "{} is older than {}; run `cargo test -p tdlib-examples` without --test so that \
                 cargo rebuilds the examples",
                binary.display(),
                source.display()
            );
        }
    }
    binary
}
