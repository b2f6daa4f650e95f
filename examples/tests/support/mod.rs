//! Finding the example binaries that `cargo test` builds next to the tests.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::SystemTime;

use tdlib_fake_harness::Fake;

/// The built example `name`, run on the fake libtdjson, logged in as the bot with `token`
/// (which the fake's script must accept), its database in the fake's folder.
#[allow(dead_code)] // not every test binary runs examples on the fake
pub fn on_fake(fake: &Fake, name: &str, token: &str) -> Command {
    let mut command = Command::new(example(name));
    fake.configure(&mut command);
    command
        .env("TDLIB_API_ID", "94575")
        .env("TDLIB_API_HASH", "0123456789abcdef0123456789abcdef")
        .env("TDLIB_BOT_TOKEN", token)
        .env("TDLIB_DATA_DIR", fake.dir())
        .stdin(Stdio::null());
    command
}

/// The built example `name`, checked to be at least as new as every source its dep-info file
/// (`<name>.d`, written by cargo) lists: `cargo test` builds examples only when no single test
/// target is selected, and a stale binary would test old code.
pub fn example(name: &str) -> PathBuf {
    // target/<profile>/deps/<test>-<hash> → target/<profile>/examples/<name>
    let exe = std::env::current_exe().unwrap();
    let examples = exe.parent().unwrap().parent().unwrap().join("examples");
    let binary = examples.join(name);
    let modified = |path: &std::path::Path| {
        std::fs::metadata(path).and_then(|metadata| metadata.modified()).ok()
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
