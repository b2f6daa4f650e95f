//! `upgrade`: moves the repository to another TDLib release in one command.
//!
//! 1. Reads the pin (`tdlib-sys/tdlib.pin`) and the pinned schema (`--old-schema`, else
//!    `TDLIB_SCHEMA`, else the cache), checked against the pin's sha256.
//! 2. Takes the new schema (`--schema`, or fetched at the new commit with curl when online) and
//!    prints the API diff: what users of the typed API will see change.
//! 3. With `--write`: fetches the new prebuilt of every target in the pin with `npm pack`, checks
//!    each package's declared TDLib version and commit and each library's format, architecture
//!    and exports (`format.rs`), and hashes it; checks that the new library exports every
//!    function the bindings declare (or regenerates the bindings from `--headers`); then
//!    rewrites the pin (version, commit, schema hash, one line per target: a package that could
//!    not be fetched stays in the pin as `unverified`), the crate version's build metadata
//!    (`tdlib-sys/Cargo.toml`, `Cargo.lock`), and puts the new library and schema into the cache
//!    where the build looks; then runs `scripts/setup` and the test suite (unless `--no-test`).
//!
//! Nothing is written unless every check passed: the fetched libraries and regenerated bindings
//! wait in a scratch folder, every new text is made and the new pin parsed first; then the
//! repository's files are written (the pin last), then the cache. A dry run writes nothing but
//! the kept tarballs.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::fetch::{self, hex};
use crate::format::{self, Target};
use crate::pin::{Pin, Prebuilt, is_hex, is_version};

/// How long one `npm pack` may take before it is stopped.
const NPM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

pub const USAGE: &str = "usage: cargo run -p xtask -- upgrade --version <x.y.z> --prebuilt <npm version> \
[--schema <new td_api.tl>] [--commit <40-hex>] [--old-schema <pinned td_api.tl>] [--headers <include dir>] \
[--write] [--no-test] [--summary] [--repo <root>]";

/// What the maintainer asked for.
#[derive(Debug, Default)]
pub struct Options {
    pub repo: PathBuf,
    pub version: String,
    pub prebuilt_version: String,
    pub schema: Option<PathBuf>,
    pub old_schema: Option<PathBuf>,
    pub commit: Option<String>,
    pub headers: Option<PathBuf>,
    pub write: bool,
    pub test: bool,
    pub summary_only: bool,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options {
            repo: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."),
            test: true,
            ..Options::default()
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
            };
            match arg.as_str() {
                "--version" => options.version = value(arg)?,
                "--prebuilt" => options.prebuilt_version = value(arg)?,
                "--schema" => options.schema = Some(value(arg)?.into()),
                "--old-schema" => options.old_schema = Some(value(arg)?.into()),
                "--commit" => options.commit = Some(value(arg)?),
                "--headers" => options.headers = Some(value(arg)?.into()),
                "--repo" => options.repo = value(arg)?.into(),
                "--write" => options.write = true,
                "--no-test" => options.test = false,
                "--summary" => options.summary_only = true,
                other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
            }
        }
        if !is_version(&options.version) {
            return Err(format!(
                "--version must be a TDLib version like 1.8.67, got {:?}\n{USAGE}",
                options.version
            ));
        }
        let prebuilt_ok = !options.prebuilt_version.is_empty()
            && options
                .prebuilt_version
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'+'))
            && options.prebuilt_version.as_bytes()[0].is_ascii_digit();
        if !prebuilt_ok {
            return Err(format!(
                "--prebuilt must be the exact version of the prebuilt packages (like 0.1008067.0), got {:?}\n{USAGE}",
                options.prebuilt_version
            ));
        }
        if let Some(commit) = &options.commit {
            if !is_hex(commit, 40) {
                return Err(format!(
                    "--commit must be a 40-digit hex commit, got {commit:?}"
                ));
            }
        }
        Ok(options)
    }
}

/// Runs the upgrade; everything it has to say goes to `out` as it happens.
pub fn run(options: &Options, out: &mut dyn Write) -> Result<(), String> {
    let say = |out: &mut dyn Write, text: String| {
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    };
    let pin_path = options.repo.join("tdlib-sys/tdlib.pin");
    let pin_text = fs::read_to_string(&pin_path)
        .map_err(|error| format!("cannot read {}: {error}", pin_path.display()))?;
    let pin = Pin::parse(&pin_text)?;
    let cache = cache_root()?;

    let old_schema_path = old_schema(options, &pin, &cache)?;
    let old_text = read_schema_text(&old_schema_path)?;

    // The packages tell the commit if the maintainer did not; the schema may need it.
    let mut fetched: Vec<Fetched> = Vec::new();
    let release = cache.join(format!("tdlib-{}", options.version));
    let need_packages = options.write || (options.schema.is_none() && options.commit.is_none());
    // Fetched libraries wait here, outside the cache, until everything is checked and written.
    fs::create_dir_all(&release)
        .map_err(|error| format!("cannot create {}: {error}", release.display()))?;
    let staging = fetch::ScratchDir::new(&release)?;
    if need_packages {
        for prebuilt in &pin.prebuilts {
            let result = fetch_prebuilt(options, prebuilt, &release, &staging.path);
            match &result {
                Ok(got) => say(
                    out,
                    format!(
                        "fetched  {:<20} {}  sha256 {}  {}",
                        prebuilt.target, got.package, got.sha256, got.report.summary
                    ),
                ),
                Err(why) => say(out, format!("missing  {:<20} {why}", prebuilt.target)),
            }
            fetched.push(Fetched {
                target: prebuilt.target.clone(),
                file: prebuilt.file.clone(),
                package: format!("{}@{}", package_name(prebuilt), options.prebuilt_version),
                result,
            });
        }
    }
    let commit = commit(options, &fetched)?;

    let new_schema_path = match &options.schema {
        Some(path) => path.clone(),
        None => {
            let commit = commit.as_deref().ok_or(
                "no new schema: pass --schema <td_api.tl>, or --commit so that it can be fetched",
            )?;
            fetch_schema(commit, &release)?
        }
    };
    let new_text = read_schema_text(&new_schema_path)?;
    let old = tdlib_tl::parse(&old_text)
        .map_err(|error| format!("{}: {error}", old_schema_path.display()))?;
    let new = tdlib_tl::parse(&new_text).map_err(|error| {
        format!(
            "{} is not a TDLib schema: {error}",
            new_schema_path.display()
        )
    })?;
    tdlib_tl::validate(&new).map_err(|error| {
        format!(
            "{} cannot be generated from: {error}",
            new_schema_path.display()
        )
    })?;
    let diff = tdlib_tl::diff::diff(&old, &new);
    say(
        out,
        format!(
            "\nTDLib {} -> {}: the API diff\n",
            pin.version, options.version
        ),
    );
    if options.summary_only {
        say(out, diff.summary().to_string());
    } else {
        say(out, diff.to_string());
    }

    if !options.write {
        say(
            out,
            "\nDry run: nothing in the repository was written. Pass --write to rewrite the pin, the crate version and the \
             cache, then run the tests."
                .to_owned(),
        );
        return Ok(());
    }

    // Every check before any write.
    let verified: Vec<&Fetched> = fetched.iter().filter(|got| got.result.is_ok()).collect();
    if verified.is_empty() {
        return Err(
            "no prebuilt package of the new release could be fetched and checked; nothing was written"
                .to_owned(),
        );
    }
    let commit = commit.ok_or("no commit: pass --commit; nothing was written")?;
    let bindings_path = options.repo.join("tdlib-sys/src/bindings.rs");
    // New bindings are made beside the others and only moved into place with the other writes.
    let bindings = match &options.headers {
        Some(headers) => {
            let staged = staging.path.join("bindings.rs");
            regenerate_bindings(options, headers, &staged)?;
            say(
                out,
                format!("bindings: regenerated from {}", headers.display()),
            );
            staged
        }
        None => bindings_path.clone(),
    };
    let declared = declared_functions(&bindings)?;
    for got in &verified {
        let report = &got.result.as_ref().expect("verified").report;
        let missing: Vec<&String> = declared
            .iter()
            .filter(|name| !report.td_exports.contains(name))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the new {} library of {} does not export {} declared in {}: the bindings must change \
                 (pass --headers <TDLib include dir> to regenerate them); nothing was written",
                got.target,
                got.package,
                missing
                    .iter()
                    .map(|name| name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                bindings_path.display()
            ));
        }
    }
    say(
        out,
        format!(
            "bindings: the {} functions of {} are exported by every fetched library",
            declared.len(),
            bindings_path.display()
        ),
    );

    // Every new text, made and checked before the first write.
    let new_pin = rewrite_pin(
        &pin_text,
        &pin,
        options,
        &commit,
        &hex(&Sha256::digest(new_text.as_bytes())),
        &fetched,
    );
    Pin::parse(&new_pin).map_err(|error| {
        format!("the rewritten pin does not parse ({error}); nothing was written")
    })?;
    let old_meta = format!("+{}\"", pin.version);
    let new_meta = format!("+{}\"", options.version);
    let mut writes: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for file in ["tdlib-sys/Cargo.toml", "Cargo.lock"] {
        let path = options.repo.join(file);
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        if text.contains(&old_meta) {
            writes.push((path, text.replace(&old_meta, &new_meta).into_bytes()));
        }
    }
    if bindings != bindings_path {
        let text = fs::read(&bindings)
            .map_err(|error| format!("cannot read {}: {error}", bindings.display()))?;
        writes.push((bindings_path, text));
    }
    writes.push((pin_path, new_pin.into_bytes()));

    // The repository (the pin last), then the cache: the libraries and the schema.
    for (path, bytes) in &writes {
        write_atomically(path, bytes)?;
        say(out, format!("wrote {}", path.display()));
    }
    for got in &verified {
        let checked = got.result.as_ref().expect("verified");
        let lib_dir = release.join(&got.target).join("lib");
        fs::create_dir_all(&lib_dir)
            .map_err(|error| format!("cannot create {}: {error}", lib_dir.display()))?;
        fs::rename(&checked.library, lib_dir.join(&got.file))
            .map_err(|error| format!("cannot install {}: {error}", checked.library.display()))?;
    }
    let cached_schema = release.join("share/tdlib/td_api.tl");
    if new_schema_path != cached_schema {
        write_atomically(&cached_schema, new_text.as_bytes())?;
    }
    say(
        out,
        format!(
            "wrote tdlib-sys/tdlib.pin: TDLib {} ({commit}), {} of {} prebuilts verified{}",
            options.version,
            verified.len(),
            fetched.len(),
            if verified.len() < fetched.len() {
                "; the others are pinned as `unverified` (run again where npm can fetch them)"
            } else {
                ""
            }
        ),
    );

    if options.test {
        say(
            out,
            "\nrunning scripts/setup and cargo test --workspace".to_owned(),
        );
        let status = Command::new("bash")
            .arg("-c")
            .arg("scripts/setup --no-system-packages && cargo test --workspace")
            .current_dir(&options.repo)
            .env("TDLIB_SCHEMA", &cached_schema)
            .status()
            .map_err(|error| format!("cannot run the tests: {error}"))?;
        if !status.success() {
            return Err(format!(
                "the tests failed ({status}) on TDLib {}: the rewritten files stay for you to fix or revert",
                options.version
            ));
        }
        say(out, format!("the tests pass on TDLib {}", options.version));
    }
    Ok(())
}

/// One target's package of the new release.
#[derive(Debug)]
struct Fetched {
    target: String,
    file: String,
    package: String,
    result: Result<Checked, String>,
}

/// A fetched, checked library.
#[derive(Debug)]
struct Checked {
    package: String,
    /// The library, staged outside the cache until the pin is written.
    library: PathBuf,
    sha256: String,
    report: format::Report,
    /// What the package's `package.json` declares: (`tdlib.version`, `tdlib.commit`).
    declares: (String, String),
}

/// `@scope/name` of a pinned `@scope/name@version`.
fn package_name(prebuilt: &Prebuilt) -> &str {
    prebuilt
        .package
        .rsplit_once('@')
        .map_or(&prebuilt.package, |(name, _)| name)
}

/// `npm pack`s the new release's package of `prebuilt`'s target (the tarball is kept in
/// `release/downloads`), checks it, and leaves its library in `staging/<target>/`.
fn fetch_prebuilt(
    options: &Options,
    prebuilt: &Prebuilt,
    release: &Path,
    staging: &Path,
) -> Result<Checked, String> {
    let package = format!("{}@{}", package_name(prebuilt), options.prebuilt_version);
    let target = Target::from_key(&prebuilt.target).ok_or_else(|| {
        format!(
            "{package}: the format check knows no target {}",
            prebuilt.target
        )
    })?;
    let downloads = release.join("downloads");
    fs::create_dir_all(&downloads)
        .map_err(|error| format!("cannot create {}: {error}", downloads.display()))?;
    let scratch = fetch::ScratchDir::new(release)?;
    let work = scratch.path.as_path();
    let npm = std::env::var("TDLIB_NPM").unwrap_or_else(|_| "npm".to_owned());
    let tarball = fetch::npm_pack(&npm, &package, work, NPM_TIMEOUT)?;
    let library = work.join(&prebuilt.file);
    let unpacked = fetch::unpack(&tarball, &prebuilt.file, &library)
        .map_err(|why| format!("{package}: the package {why}"))?;
    let sha256 = unpacked.sha256;
    let package_json = unpacked
        .package_json
        .ok_or_else(|| format!("{package}: the package has no package.json"))?;
    let declares = declared_release(&package_json).map_err(|why| format!("{package}: {why}"))?;
    if declares.0 != options.version {
        return Err(format!(
            "{package} is a build of TDLib {}, not {}",
            declares.0, options.version
        ));
    }
    let report =
        format::check_file(&library, &target).map_err(|why| format!("{package}: {why}"))?;
    let staged = staging.join(&prebuilt.target);
    fs::create_dir_all(&staged)
        .map_err(|error| format!("cannot create {}: {error}", staged.display()))?;
    let staged = staged.join(&prebuilt.file);
    fs::rename(&library, &staged).map_err(|error| error.to_string())?;
    let kept = downloads.join(tarball.file_name().unwrap_or_default());
    let _ = fs::rename(&tarball, kept);
    Ok(Checked {
        package: package.clone(),
        library: staged,
        sha256,
        report,
        declares,
    })
}

/// `tdlib.version` and `tdlib.commit` of a prebuilt package's `package.json`.
fn declared_release(package_json: &str) -> Result<(String, String), String> {
    let json: serde_json::Value = serde_json::from_str(package_json)
        .map_err(|error| format!("package.json is not JSON: {error}"))?;
    let field = |name: &str| {
        json.pointer(&format!("/tdlib/{name}"))
            .and_then(|value| value.as_str())
            .map(str::to_owned)
            .ok_or_else(|| format!("package.json declares no tdlib.{name}"))
    };
    let (version, commit) = (field("version")?, field("commit")?);
    if !is_hex(&commit, 40) {
        return Err(format!(
            "package.json's tdlib.commit {commit:?} is not a commit"
        ));
    }
    Ok((version, commit))
}

/// The new commit: `--commit`, else what the packages declare; they must all agree.
fn commit(options: &Options, fetched: &[Fetched]) -> Result<Option<String>, String> {
    let mut commit = options.commit.clone();
    for got in fetched {
        let Ok(checked) = &got.result else {
            continue;
        };
        let declared = &checked.declares.1;
        match &commit {
            None => commit = Some(declared.clone()),
            Some(expected) if expected != declared => {
                return Err(format!(
                    "{} is built from TDLib commit {declared}, not {expected}",
                    checked.package
                ));
            }
            Some(_) => {}
        }
    }
    Ok(commit)
}

/// The schema of the pinned release, checked against the pin.
fn old_schema(options: &Options, pin: &Pin, cache: &Path) -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = options
        .old_schema
        .clone()
        .into_iter()
        .chain(
            std::env::var_os("TDLIB_SCHEMA")
                .filter(|value| !value.is_empty())
                .map(PathBuf::from),
        )
        .chain([cache.join(format!("tdlib-{}/share/tdlib/td_api.tl", pin.version))])
        .collect();
    for path in &candidates {
        if let Ok(bytes) = fs::read(path) {
            if hex(&Sha256::digest(&bytes)) == pin.schema_sha256 {
                return Ok(path.clone());
            }
        }
    }
    Err(format!(
        "the schema of the pinned TDLib {} (sha256 {}) is needed for the diff; looked at {}. \
         Pass --old-schema, or set TDLIB_SCHEMA, or run scripts/setup",
        pin.version,
        pin.schema_sha256,
        candidates
            .iter()
            .map(|path| path.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

fn read_schema_text(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))
}

/// The schema at `commit`, fetched from TDLib's repository into `release`.
fn fetch_schema(commit: &str, release: &Path) -> Result<PathBuf, String> {
    let url =
        format!("https://raw.githubusercontent.com/tdlib/td/{commit}/td/generate/scheme/td_api.tl");
    let dest = release.join("share/tdlib/td_api.tl");
    fs::create_dir_all(dest.parent().expect("has a parent")).map_err(|error| error.to_string())?;
    fetch::download(&url, &dest).map_err(|why| {
        format!("could not fetch {url} ({why}); offline, pass --schema <td_api.tl of that commit>")
    })?;
    Ok(dest)
}

/// The functions `bindings.rs` declares (`pub fn name(`).
fn declared_functions(bindings: &Path) -> Result<Vec<String>, String> {
    let text = fs::read_to_string(bindings)
        .map_err(|error| format!("cannot read {}: {error}", bindings.display()))?;
    let names: Vec<String> = text
        .split("pub fn ")
        .skip(1)
        .filter_map(|rest| rest.split('(').next())
        .map(|name| name.trim().to_owned())
        .collect();
    if names.is_empty() {
        return Err(format!("{} declares no functions", bindings.display()));
    }
    Ok(names)
}

/// Runs `scripts/regenerate-bindings` on the headers in `headers`, writing to `out`.
fn regenerate_bindings(options: &Options, headers: &Path, out: &Path) -> Result<(), String> {
    let status = Command::new("bash")
        .arg("scripts/regenerate-bindings")
        .current_dir(&options.repo)
        .env("TDLIB_INCLUDE_DIR", headers)
        .env("TDLIB_SYS_BINDINGS_OUT", out)
        // The library is not needed to read headers; link the fixture-free way the script knows.
        .status()
        .map_err(|error| format!("cannot run scripts/regenerate-bindings: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "scripts/regenerate-bindings failed ({status}); nothing else was written"
        ))
    }
}

/// The pin with the new release's values; comments and order are kept.
fn rewrite_pin(
    text: &str,
    pin: &Pin,
    options: &Options,
    commit: &str,
    schema_sha256: &str,
    fetched: &[Fetched],
) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let key = line.split_once('=').map(|(key, _)| key.trim());
        let new_line = match key {
            _ if line.trim_start().starts_with('#') => line.replace(
                &format!("+{}", pin.version),
                &format!("+{}", options.version),
            ),
            Some("version") => format!("version={}", options.version),
            Some("commit") => format!("commit={commit}"),
            Some("schema_sha256") => format!("schema_sha256={schema_sha256}"),
            Some(key) if key.starts_with("prebuilt.") => {
                let target = &key["prebuilt.".len()..];
                match fetched.iter().find(|got| got.target == target) {
                    Some(got) => {
                        let sha256 = match &got.result {
                            Ok(checked) => checked.sha256.as_str(),
                            Err(_) => crate::pin::UNVERIFIED,
                        };
                        format!("prebuilt.{target}={} {} {sha256}", got.package, got.file)
                    }
                    None => line.to_owned(),
                }
            }
            _ => line.to_owned(),
        };
        out.push_str(&new_line);
        out.push('\n');
    }
    out
}

/// `$TDLIB_CACHE_DIR`, else `$XDG_CACHE_HOME/tdlib-sys`, else `~/.cache/tdlib-sys`: the cache
/// tdlib-sys's build and `scripts/setup` use.
fn cache_root() -> Result<PathBuf, String> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    };
    var("TDLIB_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|dir| dir.join("tdlib-sys")))
        .or_else(|| var("HOME").map(|dir| dir.join(".cache/tdlib-sys")))
        .ok_or_else(|| "neither TDLIB_CACHE_DIR, XDG_CACHE_HOME nor HOME is set".to_owned())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
    let partial = dir.join(format!(
        ".{}.{}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    fs::write(&partial, bytes)
        .and_then(|()| fs::rename(&partial, path))
        .map_err(|error| format!("cannot write {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_refuse_what_would_end_up_in_a_path_or_a_command() {
        let parse = |args: &[&str]| {
            Options::parse(&args.iter().map(|arg| (*arg).to_owned()).collect::<Vec<_>>())
        };
        assert!(parse(&["--version", "1.8.67", "--prebuilt", "0.1008067.0"]).is_ok());
        for bad in [
            &["--version", "1.8.67;rm", "--prebuilt", "0.1008067.0"][..],
            &["--version", "1.8.67", "--prebuilt", "latest"],
            &["--version", "1.8.67", "--prebuilt", "0.1 --registry x"],
            &[
                "--version",
                "1.8.67",
                "--prebuilt",
                "0.1008067.0",
                "--commit",
                "abc",
            ],
            &["--version", "1.8.67"],
            &["--version"],
            &["--frobnicate"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_pin_is_rewritten_line_by_line() {
        let text = "# keep me (+1.8.65)\nversion=1.8.65\ncommit=062f26052623dbecedb42075cab78a759e9f9987\n\
                    schema_sha256=4933ca4d947766343bcb67d781cb7098bdecef8f96940f9087af41a1092db560\n\
                    prebuilt.linux-x86_64-gnu=@p/linux-x64-glibc@0.1008065.0 libtdjson.so d8f3282e4160580ffcdeaac95ac930ece51904b8fb595da109992e3f87ad903e\n\
                    prebuilt.macos-aarch64=@p/darwin-arm64@0.1008065.0 libtdjson.dylib unverified\n";
        let pin = Pin::parse(text).unwrap();
        let options = Options {
            version: "1.8.67".into(),
            prebuilt_version: "0.1008067.0".into(),
            ..Options::default()
        };
        let fetched = vec![Fetched {
            target: "macos-aarch64".into(),
            file: "libtdjson.dylib".into(),
            package: "@p/darwin-arm64@0.1008067.0".into(),
            result: Err("404".into()),
        }];
        let commit = "d1085f9cebc5a62379991ae1652673954f229c1f";
        let sha = "a".repeat(64);
        let new = rewrite_pin(text, &pin, &options, commit, &sha, &fetched);
        let parsed = Pin::parse(&new).unwrap();
        assert_eq!(parsed.version, "1.8.67");
        assert_eq!(parsed.commit, commit);
        assert_eq!(parsed.schema_sha256, sha);
        assert!(new.starts_with("# keep me (+1.8.67)\n"));
        // A target that was not fetched keeps its old line; a failed fetch becomes unverified.
        assert_eq!(
            parsed.prebuilt("linux-x86_64-gnu").unwrap().package,
            "@p/linux-x64-glibc@0.1008065.0"
        );
        let mac = parsed.prebuilt("macos-aarch64").unwrap();
        assert_eq!(mac.package, "@p/darwin-arm64@0.1008067.0");
        assert_eq!(mac.sha256, None);
    }

    #[test]
    fn package_json_must_declare_the_release() {
        assert_eq!(
            declared_release(r#"{"tdlib":{"commit":"d1085f9cebc5a62379991ae1652673954f229c1f","version":"1.8.67"}}"#).unwrap(),
            ("1.8.67".to_owned(), "d1085f9cebc5a62379991ae1652673954f229c1f".to_owned())
        );
        assert!(declared_release(r#"{"tdlib":{"version":"1.8.67"}}"#).is_err());
        assert!(
            declared_release(r#"{"tdlib":{"commit":"x; rm -rf /","version":"1.8.67"}}"#).is_err()
        );
        assert!(declared_release("not json").is_err());
    }
}
