//! Maintenance tasks of the repository (`cargo run -p xtask -- <task>`).
//!
//! - `api-diff <old td_api.tl> <new td_api.tl>`: what changed in TDLib's API between two
//!   schemas (classes, constructors, functions, fields with old and new types, functions whose
//!   result changed), with a summary first. `--summary` prints the summary only.
//! - `upgrade --version <x.y.z> --prebuilt <npm version> [--schema <td_api.tl>] [--write] ...`:
//!   the API diff to another TDLib release and, with `--write`, the move to it (see `upgrade.rs`).
//! - `check-prebuilt <library file> <target>`: whether a prebuilt library is an ELF, Mach-O or
//!   PE library for that target (`linux-x86_64-gnu`, `macos-aarch64`, ...) exporting TDLib's C
//!   functions (see `format.rs`).

#[path = "../../tdlib-sys/build/fetch.rs"]
mod fetch;
mod format;
#[path = "../../tdlib-sys/build/pin.rs"]
#[allow(
    dead_code,
    reason = "shared with tdlib-sys's build script, which uses all of it"
)]
mod pin;
mod upgrade;

use std::path::Path;
use std::process::ExitCode;

const USAGE: &str =
    "usage: cargo run -p xtask -- api-diff [--summary] <old td_api.tl> <new td_api.tl>
       cargo run -p xtask -- upgrade --help
       cargo run -p xtask -- check-prebuilt <library file> <target>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("upgrade") {
        let rest = &args[1..];
        if rest.iter().any(|arg| arg == "--help" || arg == "-h") {
            println!("{}", upgrade::USAGE);
            return ExitCode::SUCCESS;
        }
        let result = upgrade::Options::parse(rest)
            .and_then(|options| upgrade::run(&options, &mut std::io::stdout()));
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("xtask upgrade: {error}");
                ExitCode::FAILURE
            }
        };
    }
    match run(&args) {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("xtask: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<String, String> {
    let Some((task, rest)) = args.split_first() else {
        return Err(USAGE.to_owned());
    };
    if task == "check-prebuilt" {
        let [file, target] = rest else {
            return Err(USAGE.to_owned());
        };
        let target = format::Target::from_key(target).ok_or_else(|| {
            format!(
                "unknown target {target:?}; one of {}",
                format::Target::KEYS.join(", ")
            )
        })?;
        let report = format::check_file(Path::new(file), &target)?;
        return Ok(format!("{report}\n"));
    }
    if task != "api-diff" {
        return Err(format!("unknown task {task:?}\n{USAGE}"));
    }
    let summary_only = rest.iter().any(|arg| arg == "--summary");
    let paths: Vec<&String> = rest.iter().filter(|arg| *arg != "--summary").collect();
    let [old, new] = paths.as_slice() else {
        return Err(USAGE.to_owned());
    };
    let diff = tdlib_tl::diff::diff(&schema(old)?, &schema(new)?);
    Ok(if summary_only {
        format!("{}\n", diff.summary())
    } else {
        diff.to_string()
    })
}

fn schema(path: &str) -> Result<tdlib_tl::Schema, String> {
    let text = std::fs::read_to_string(Path::new(path))
        .map_err(|error| format!("cannot read {path}: {error}"))?;
    tdlib_tl::parse(&text).map_err(|error| format!("{path} is not a TDLib schema: {error}"))
}
