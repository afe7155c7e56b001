//! The one error type of the trace language: a malformed or unsound trace.
//!
//! Every error names the file, the position (line for text traces, byte
//! offset for binary ones, event ordinal for traces built in memory) and what
//! was expected, in one line, so the `gcwb` command can print it and exit 2.

use std::fmt;

/// A trace that cannot be read, or that describes something no Go program
/// could do.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The text or bytes do not have the expected form, or the events are
    /// unsound (a nil or missing location, an exited goroutine, an escaping
    /// `stack` block, ...).
    #[error("{file}: {pos}: {msg}")]
    Invalid { file: String, pos: String, msg: String },
    /// The file could not be read or written.
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
}

impl TraceError {
    /// An `Invalid` error at `pos` in `file`.
    pub fn invalid(file: impl Into<String>, pos: impl fmt::Display, msg: impl Into<String>) -> TraceError {
        TraceError::Invalid { file: file.into(), pos: pos.to_string(), msg: msg.into() }
    }

    /// An `Io` error on `file`.
    pub fn io(file: impl Into<String>, source: std::io::Error) -> TraceError {
        TraceError::Io { file: file.into(), source }
    }
}

/// Results of the trace language.
pub type Result<T, E = TraceError> = std::result::Result<T, E>;
