//! `gcwb prepare`: validate and analyse a trace once and keep the result,
//! with the oracle's death times (a `.gcwbp` prepared file,
//! [`workloads::analysis::persist`]), so that
//! every later `run`, `compare`, `sweep`, `check` or `stats` of it reads the
//! analysis back instead of doing it again. Loading is the longest wait of
//! a large trace; a prepared file takes it once per trace, not once per
//! command. The commands tell a prepared file from a trace by its first
//! bytes ([`crate::engine::prepare`]).

use crate::args::TraceArgs;
use crate::engine::{self, TraceSource};
use crate::provenance::FileDigest;
use std::path::PathBuf;
use std::time::Instant;
use workloads::analysis::persist::{self, Origin};

#[derive(clap::Args, Debug)]
pub struct PrepareArgs {
    #[command(flatten)]
    pub source: TraceArgs,
    /// The prepared file to write (conventionally `.gcwbp`). It is written
    /// to a temporary file beside it and renamed into place when complete.
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,
    /// No progress spinner.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Runs `gcwb prepare`; returns the exit code (2 for a bad trace or an
/// unwritable output, with nothing written).
pub fn prepare_command(a: &PrepareArgs) -> i32 {
    let source = a.source.source();
    let prepared = match engine::prepare(&source, !a.quiet) {
        Ok(p) => p,
        Err(msg) => {
            eprintln!("gcwb: {msg}");
            return 2;
        }
    };
    // The oracle's death times (with stack placements, what runs use
    // unless --no-stack) go in the file too: `check`, `stats` and verified
    // runs of it then skip the oracle, the longest part after the load.
    let t_oracle = Instant::now();
    prepared.trace.deaths(false);
    let oracle_s = t_oracle.elapsed().as_secs_f64();
    let origin = match prepared.prepared_from.clone() {
        Some(o) => o,
        None => origin_of(&source),
    };
    let t0 = Instant::now();
    match persist::write(&prepared.trace, &origin, &a.out) {
        Ok(bytes) => {
            let events = prepared.trace.events();
            println!(
                "wrote {}: {events} events prepared in {:.2} s, oracle {oracle_s:.2} s, written in {:.2} s ({:.1} MB, {:.1} bytes an event)",
                a.out.display(),
                prepared.load_ns as f64 / 1e9,
                t0.elapsed().as_secs_f64(),
                bytes as f64 / 1e6,
                bytes as f64 / events.max(1) as f64
            );
            0
        }
        Err(e) => {
            eprintln!("gcwb: {e}");
            2
        }
    }
}

/// What a prepared file records of the trace it came from.
fn origin_of(source: &TraceSource) -> Origin {
    match source {
        TraceSource::File(path) => {
            let digest = FileDigest::of(path).ok();
            Origin {
                name: path.display().to_string(),
                bytes: digest.map_or(0, |d| d.bytes),
                crc32: digest.map_or(0, |d| d.crc32),
            }
        }
        TraceSource::Go { path, escape } => {
            Origin { name: format!("{} --escape {}", path.display(), escape.name()), bytes: 0, crc32: 0 }
        }
        TraceSource::Workload { name, seed, set } => {
            let mut s = format!("--workload {name} --seed {seed}");
            for kv in set {
                s.push_str(&format!(" --set {kv}"));
            }
            Origin { name: s, bytes: 0, crc32: 0 }
        }
    }
}
