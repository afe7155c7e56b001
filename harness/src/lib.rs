//! gcwb's harness: where traces meet collectors.
//!
//! - [`replay`]: runs a trace's goroutines M:N on a rayon pool against a
//!   collector, stopping the world at safepoints and recording every pause;
//! - [`verify`]: checks every free and every access against the trace's
//!   oracle;
//! - [`metrics`]: pause, assist and cycle records and their summaries;
//! - [`latency`]: request spans: where their time went, the latency a
//!   service would feel, DaCapo's metered latency;
//! - [`mmu`]: minimum and bounded mutator utilization, pure mathematics
//!   over intervals of reduced utilization;
//! - [`summary`]: one replay summed up, the row of `summary.csv`;
//! - [`columns`]: the registry of `summary.csv`'s (and `cycles.csv`'s)
//!   columns: names, units, descriptions, which metrics are aggregated;
//! - [`lbo`]: the lower-bound overhead of each collector of a comparison
//!   (Cai et al., ISPASS 2022), from its runs' total and attributed costs;
//! - [`spread`]: a metric's statistics over repetitions (median, mean, 95%
//!   confidence interval);
//! - [`report`]: the CSV files a run writes;
//! - [`provenance`]: `run.toml`, what produced a results folder, and the
//!   clean-up of an earlier run's files there;
//! - [`charts`]: the charts drawn from those files (`gcwb plot`);
//! - [`html_report`]: one self-contained HTML file of one or several
//!   results folders (`gcwb report`), from those files alone;
//! - [`compare`]: `gcwb compare`, collectors side by side over repeated runs;
//! - [`sweep`]: `gcwb sweep` and `gcwb merge`, matrices of runs from an
//!   experiment file, resumable and sharded;
//! - [`options`]: a run's settings, typed once (command line and sweep files);
//! - [`engine`]: the run layer: `prepare` a trace once, `run` specs on it;
//! - [`prepare`]: `gcwb prepare`, a trace's analysis kept in a file;
//! - [`args`]: the option groups the replaying commands share, and what
//!   they print about a trace and its replays;
//! - [`cli`]: the `gcwb` command, a thin face over the above;
//! - [`progress`]: what the progress bars show besides their counts.

pub mod args;
pub mod charts;
pub mod cli;
pub mod columns;
pub mod compare;
pub mod engine;
pub mod html_report;
pub mod import;
pub mod latency;
pub mod lbo;
pub mod metrics;
pub mod mmu;
pub mod options;
pub mod prepare;
pub mod progress;
pub mod provenance;
pub mod replay;
pub mod report;
pub mod spread;
pub mod stats;
pub mod summary;
pub mod sweep;
pub mod verify;
