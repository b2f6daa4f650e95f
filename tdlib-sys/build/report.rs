//! The one failure message: what went wrong, what was tried, every variable read, the features,
//! and how to fix it. Nobody should have to decode a linker error.

use crate::Features;
use crate::env::{DOCUMENTED_VARS, Env};
use crate::pin::Pin;
use crate::platform::Platform;

/// One discovery step that did not produce a library, and why.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub step: String,
    pub why: String,
}

impl Attempt {
    pub fn skipped(step: &str, why: &str) -> Attempt {
        Attempt {
            step: step.to_owned(),
            why: why.to_owned(),
        }
    }
}

/// What every decision of the build script needs.
#[derive(Debug)]
pub struct Context<'a> {
    pub pin: &'a Pin,
    pub features: Features,
    pub platform: Platform,
    /// The target's name in the pin's `prebuilt.<target>` lines.
    pub prebuilt_target: String,
    pub env: &'a Env,
}

impl Context<'_> {
    /// The full failure message, headed by `headline`.
    pub fn failure(&self, headline: &str, attempts: &[Attempt]) -> String {
        // Read every documented variable, so the list below is complete even for the steps
        // that were never reached.
        for (name, _) in DOCUMENTED_VARS {
            self.env.get(name);
        }
        let pin = self.pin;
        let version = &pin.version;
        let onoff = |on: bool| if on { "on" } else { "off" };
        let features = self.features;
        let mut out = format!("\ntdlib-sys: {headline}\n");

        if !attempts.is_empty() {
            out.push_str("\nWhat was tried, in order:\n");
            for (index, attempt) in attempts.iter().enumerate() {
                out.push_str(&format!(
                    "  {}. {}: {}\n",
                    index + 1,
                    attempt.step,
                    attempt.why
                ));
            }
        }

        out.push_str("\nEnvironment variables read:\n");
        for (name, value) in self.env.report() {
            let shown = match value {
                Some(value) => format!("{name}={value:?}"),
                None => format!("{name} (unset)"),
            };
            out.push_str(&format!("  {shown}\n"));
        }
        out.push_str(&format!(
            "\nFeatures: download={}, static={}, static-deps={}, pkg-config={}, bundled={}, bindgen={}\n",
            onoff(features.download),
            onoff(features.static_link),
            onoff(features.static_deps),
            onoff(features.pkg_config),
            onoff(features.bundled),
            onoff(features.bindgen),
        ));
        out.push_str(&format!(
            "Target: {} (host {}); tdlib-sys {} pinned to TDLib {version} (commit {})\n",
            std::env::var("TARGET").unwrap_or_default(),
            std::env::var("HOST").unwrap_or_default(),
            std::env::var("CARGO_PKG_VERSION").unwrap_or_default(),
            pin.commit,
        ));

        out.push_str("\nHow to fix it, pick one:\n");
        let prebuilt = pin.prebuilt(&self.prebuilt_target);
        match prebuilt {
            Some(prebuilt) if prebuilt.sha256.is_some() => out.push_str(&format!(
                "  * Let the build fetch the official prebuilt TDLib {version} for {target} (npm package\n\
                 \x20   {package}, sha256-checked, cached): enable the feature `download` of `tdlib`\n\
                 \x20   (features = [\"download\"] on its line in Cargo.toml), or of this crate:\n\
                 \x20   tdlib-sys = {{ version = \"{crate_version}\", features = [\"download\"] }}\n\
                 \x20   It needs the `npm` program (Node.js) and a\n\
                 \x20   reachable npm registry the first time; set TDLIB_NPM if npm is not on PATH.{}\n",
                if features.download { " It is on: see\n    what step 6 above says." } else { "" },
                target = self.prebuilt_target,
                package = prebuilt.package,
                crate_version = crate_version(),
            )),
            Some(prebuilt) => out.push_str(&format!(
                "  * The feature `download` cannot help on {target} yet: the pin lists {package}\n\
                 \x20   but without a checked sha256, so it is never fetched. The other ways below work.\n",
                target = self.prebuilt_target,
                package = prebuilt.package,
            )),
            None => out.push_str(&format!(
                "  * There is no official prebuilt for {} (feature `download`); the ways below work.\n",
                self.prebuilt_target
            )),
        }
        out.push_str(&format!(
            "  * In a clone of this crate's repository: `scripts/setup` puts the prebuilt TDLib {version}\n\
             \x20   into the same cache and installs the system packages the build needs.\n\
             \x20 * Point at a TDLib {version} you have: TDLIB_DIR=<install prefix with lib/{}>\n\
             \x20   or TDLIB_LIB_DIR=<folder with it>.\n\
             \x20 * Use pkg-config: install TDLib {version} so that `pkg-config --modversion tdjson` prints\n\
             \x20   {version}, and enable the feature `pkg-config`.\n\
             \x20 * Build TDLib from source (about 20-30 minutes on 2 cores): install cmake, a C++17\n\
             \x20   compiler, gperf, and the OpenSSL and zlib headers (Debian/Ubuntu: apt-get install cmake\n\
             \x20   g++ gperf libssl-dev zlib1g-dev), check out https://github.com/tdlib/td at commit\n\
             \x20   {}, and enable the feature `bundled` with TDLIB_SRC_DIR=<that checkout>.\n\
             \x20 With the feature `static`, the location must hold TDLib's static libraries\n\
             \x20 (libtdjson_static.a and the 11 it needs); the prebuilt has none, a source build has them.\n",
            self.platform.link_file_names()[0],
            pin.commit,
        ));
        out
    }
}

/// `0.1` for this crate's version `0.1.0+1.8.65`: what a dependency line on it would say.
fn crate_version() -> String {
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let plain = version.split('+').next().unwrap_or_default();
    let parts: Vec<&str> = plain.split('.').collect();
    match parts.as_slice() {
        ["0", minor, ..] => format!("0.{minor}"),
        [major, ..] => (*major).to_owned(),
        [] => plain.to_owned(),
    }
}
