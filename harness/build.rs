//! Build script: embeds what `run.toml` says about the build
//! (`crate::provenance`) — the git commit the binary was built from
//! (`GCWB_GIT_COMMIT`: `git rev-parse HEAD`, or `unknown` outside a git
//! checkout or without git) and the compiler (`GCWB_RUSTC`: `rustc
//! --version`, or `unknown`). It never fails the build.

use std::path::Path;
use std::process::Command;

/// The trimmed standard output of a command that succeeded.
fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

fn main() {
    let commit = output("git", &["rev-parse", "HEAD"]);
    println!("cargo:rustc-env=GCWB_GIT_COMMIT={}", commit.as_deref().unwrap_or("unknown"));
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    println!("cargo:rustc-env=GCWB_RUSTC={}", output(&rustc, &["--version"]).unwrap_or_else(|| "unknown".into()));

    // Build again when HEAD moves: HEAD itself (a checkout), the branch it
    // names (a commit) and packed-refs. Only files that exist: a missing
    // one would make cargo run this script on every build.
    println!("cargo:rerun-if-changed=build.rs");
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = output("git", &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) = output("git", &["rev-parse", "--git-path", &name]) {
            if Path::new(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
    }
}
