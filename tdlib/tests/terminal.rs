//! The terminal authenticator reads standard input: a prompt that is cancelled must not take the
//! line typed for the next one. Driven through a pipe: each test re-runs this binary for itself
//! as a child whose standard input the parent writes.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use tdlib::auth::{AuthError, Authenticator, Terminal};
use tdlib::types;

const CHILD: &str = "TDLIB_TEST_TERMINAL_CHILD";

fn terminal() -> Terminal {
    Terminal::new(tdlib::auth::parameters(
        1,
        "0123456789abcdef0123456789abcdef",
        "db",
    ))
}

fn code_info() -> types::AuthenticationCodeInfo {
    types::AuthenticationCodeInfo::default()
}

/// Runs `test` of this binary as a child; `drive` gets its standard input and a reader of its
/// standard output.
fn with_child(test: &str, drive: impl FnOnce(std::process::ChildStdin, &mut dyn BufRead)) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let pid = child.id();
    // A watchdog: a hang must fail the test, not the CI run.
    let watchdog = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(60));
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    });
    let stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    drive(stdin, &mut stdout);
    let status = child.wait().unwrap();
    assert!(status.success(), "the child failed: {status:?}");
    drop(watchdog);
}

/// What follows `prefix` on the next line of the child's output that has it (libtest may have
/// started the line with the test's name).
fn expect_line(stdout: &mut dyn BufRead, prefix: &str) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "the child ended before {prefix}"
        );
        if let Some(at) = line.find(prefix) {
            return line[at + prefix.len()..].trim_end().to_owned();
        }
    }
}

fn say(line: &str) {
    println!("{line}");
    std::io::stdout().flush().unwrap();
}

#[test]
fn a_cancelled_prompt_leaves_the_next_line_to_the_next_prompt() {
    if std::env::var_os(CHILD).is_some() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut terminal = terminal();
            let info = code_info();
            let first =
                tokio::time::timeout(Duration::from_millis(300), terminal.code(&info, None)).await;
            assert!(first.is_err(), "nothing was typed: the prompt times out");
            say("CANCELLED");
            let second = terminal.code(&info, None).await.unwrap();
            say(&format!("SECOND {second}"));
            let state = types::AuthorizationStateWaitPassword::default();
            let password = terminal.password(&state, None).await.unwrap();
            say(&format!("PASSWORD {password}"));
            let long = terminal.code(&info, None).await.unwrap();
            say(&format!("LONG {}", long.len()));
            let odd = terminal.code(&info, None).await.unwrap();
            say(&format!("ODD {}", odd.escape_debug()));
            let ended = terminal.code(&info, None).await;
            assert!(matches!(ended, Err(AuthError::Cancelled(_))), "{ended:?}");
            say("ENDED");
        });
        return;
    }
    with_child(
        "a_cancelled_prompt_leaves_the_next_line_to_the_next_prompt",
        |mut stdin, stdout| {
            expect_line(stdout, "CANCELLED");
            // Typed after the first prompt gave up: for the second one, in two pieces.
            stdin.write_all(b"42").unwrap();
            stdin.flush().unwrap();
            std::thread::sleep(Duration::from_millis(200));
            stdin.write_all(b"42\r\n").unwrap();
            stdin.flush().unwrap();
            assert_eq!(expect_line(stdout, "SECOND "), "4242");
            stdin.write_all(b"hunter2\n").unwrap();
            stdin.flush().unwrap();
            assert_eq!(expect_line(stdout, "PASSWORD "), "hunter2");
            let mut long = vec![b'7'; 1 << 20];
            long.push(b'\n');
            stdin.write_all(&long).unwrap();
            stdin.flush().unwrap();
            assert_eq!(expect_line(stdout, "LONG "), (1 << 20).to_string());
            // Bytes that are not UTF-8, without a final newline, then the end of input.
            stdin.write_all(b"a\xff\xfeb").unwrap();
            drop(stdin);
            assert_eq!(expect_line(stdout, "ODD "), "a\u{fffd}\u{fffd}b");
            expect_line(stdout, "ENDED");
        },
    );
}
