//! `xtask api-diff` as a maintainer runs it.

use std::process::Command;

fn xtask(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn prints_the_diff_and_refuses_bad_input() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("api-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let old = dir.join("old.tl");
    let new = dir.join("new.tl");
    let broken = dir.join("broken.tl");
    std::fs::write(
        &old,
        "user id:int53 = User;\n---functions---\ngetUser user_id:int53 = User;\n",
    )
    .unwrap();
    std::fs::write(
        &new,
        "user id:int53 name:string = User;\n---functions---\ngetUser user_id:int64 = User;\nping = Ok;\n",
    )
    .unwrap();
    std::fs::write(&broken, "user id:int53 = \n").unwrap();
    let (old, new, broken) = (
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        broken.to_str().unwrap(),
    );
    let (code, stdout, _) = xtask(&["api-diff", old, new]);
    assert_eq!(code, Some(0));
    for line in [
        "  ~ user: + name:string",
        "  ~ getUser: user_id int53 → int64",
        "  + ping ",
    ] {
        assert!(stdout.contains(line), "{line:?} in\n{stdout}");
    }
    let (code, stdout, _) = xtask(&["api-diff", "--summary", old, new]);
    assert_eq!(code, Some(0));
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("functions +1 -0 ~1"), "{stdout}");
    for (args, expected) in [
        (vec![], "usage"),
        (vec!["api-diff", old], "usage"),
        (vec!["bump"], "unknown task"),
        (
            vec!["api-diff", old, "missing.tl"],
            "cannot read missing.tl",
        ),
        (vec!["api-diff", old, broken], "is not a TDLib schema"),
    ] {
        let (code, _, stderr) = xtask(&args);
        assert_eq!(code, Some(1), "{args:?}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
