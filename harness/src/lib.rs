//! gcwb's harness: where traces meet collectors.
//!
//! - [`replay`]: runs a trace's goroutines M:N on a rayon pool against a
//!   collector, stopping the world at safepoints and recording every pause;
//! - [`verify`]: checks every free and every access against the trace's
//!   oracle;
//! - [`metrics`]: pause, cycle and span records and their summaries;
//! - [`report`]: the CSV files a run writes;
//! - [`charts`]: the charts drawn from those files (`gcwb plot`);
//! - [`cli`]: the `gcwb` command, a thin face over the above.

pub mod charts;
pub mod cli;
pub mod import;
pub mod metrics;
pub mod mmu;
pub mod replay;
pub mod report;
pub mod stats;
pub mod verify;
