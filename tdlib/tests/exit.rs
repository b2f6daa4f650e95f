//! A process that ends with clients still open: TDLib's exit-time destructors crash such a
//! process in many runs. `CloseOnExit`, dropped at the end of `main`, closes them first.

use std::process::Command;

use tdlib::{Client, CloseOnExit, functions};

const CHILD: &str = "TDLIB_TEST_EXIT_CHILD";

/// In the child: open clients, give one parameters after all were created (TDLib sets up more
/// of its global state then), leave all of them open, and end the process with the guard
/// dropped last.
fn leave_clients_open() -> ! {
    let closer = CloseOnExit::new();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let directory = std::env::temp_dir().join(format!("tdlib-exit-{}", std::process::id()));
    runtime.block_on(async {
        let busy = Client::new().unwrap();
        let idle = Client::new().unwrap();
        let initialized = Client::new().unwrap();
        initialized
            .send(tdlib::auth::parameters(
                94575,
                "0123456789abcdef0123456789abcdef",
                directory.display().to_string(),
            ))
            .await
            .unwrap();
        let square = busy.send(functions::TestSquareInt { x: 3 }).await.unwrap();
        assert_eq!(square.value, 9);
        // Not dropped (a dropped client is closed in the background): left open.
        std::mem::forget((initialized, busy, idle));
    });
    drop(runtime);
    drop(closer);
    let _ = std::fs::remove_dir_all(&directory);
    assert!(
        !tdlib::dispatcher_stats().1,
        "the receive thread has stopped"
    );
    std::process::exit(0)
}

#[test]
fn clients_left_open_are_closed_by_the_guard_before_exit() {
    if std::env::var_os(CHILD).is_some() {
        leave_clients_open();
    }
    let mut failures = Vec::new();
    for run in 0..10 {
        let output = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "clients_left_open_are_closed_by_the_guard_before_exit",
                "--nocapture",
            ])
            .env(CHILD, "1")
            .output()
            .unwrap();
        if !output.status.success() {
            failures.push(format!(
                "run {run}: {:?}\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
