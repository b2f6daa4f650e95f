//! Maintenance tasks of the repository (`cargo run -p xtask -- <task>`).
//!
//! - `api-diff <old td_api.tl> <new td_api.tl>`: what changed in TDLib's API between two
//!   schemas (classes, constructors, functions, fields with old and new types, functions whose
//!   result changed), with a summary first. `--summary` prints the summary only.

use std::path::Path;
use std::process::ExitCode;

const USAGE: &str =
    "usage: cargo run -p xtask -- api-diff [--summary] <old td_api.tl> <new td_api.tl>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
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
