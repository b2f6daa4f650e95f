//! A process that ends with clients still open: TDLib's exit-time destructors crash such a
//! process in many runs. `CloseOnExit`, dropped at the end of `main`, closes them first; scoped
//! guards close only their own clients.

use std::process::Command;

use std::time::Duration;

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
    assert!(!tdlib::health().receiving, "the receive thread has stopped");
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

/// Two scoped guards, as two tests running in parallel in one process would hold them: dropping
/// one closes its clients only; the other's keep working until their own guard goes. A
/// process-wide guard leaves both alone.
#[test]
fn guards_close_only_their_own_clients() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let square = |client: &Client, x: i32| {
        runtime
            .block_on(client.send_timeout(functions::TestSquareInt { x }, Duration::from_secs(10)))
    };
    let first = CloseOnExit::scoped();
    let second = CloseOnExit::scoped();
    let mine: Vec<Client> = (0..2).map(|_| Client::new().unwrap()).collect();
    let theirs: Vec<Client> = (0..2).map(|_| Client::new().unwrap()).collect();
    for client in &mine {
        first.watch(client);
    }
    for client in &theirs {
        second.watch(client);
    }
    let unguarded = Client::new().unwrap();
    drop(first);
    for client in &mine {
        assert!(client.is_closed(), "the first guard closed its clients");
        assert!(square(client, 2).unwrap_err().is_closed());
    }
    for client in &theirs {
        assert!(!client.is_closed(), "not the second guard's");
        assert_eq!(square(client, 3).unwrap().value, 9);
    }
    assert_eq!(
        square(&unguarded, 4).unwrap().value,
        16,
        "nor an unguarded one"
    );
    // A process-wide guard closes the unguarded client, and leaves the scoped ones alone.
    drop(CloseOnExit::new());
    assert!(unguarded.is_closed());
    for client in &theirs {
        assert_eq!(square(client, 5).unwrap().value, 25);
    }
    drop(second);
    for client in &theirs {
        assert!(client.is_closed());
    }
    assert!(
        !tdlib::health().receiving,
        "no client left, no receive thread"
    );
}
