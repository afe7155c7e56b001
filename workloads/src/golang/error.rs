//! The one error type of the Go front end: what went wrong and where, as
//! Go's own tools print it (`file:line:col: message`).

use std::fmt;

/// What kind of failure: each is reported with exit code 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoErrorKind {
    /// The file could not be read.
    Io,
    /// Not valid Go syntax.
    Syntax,
    /// Valid Go outside the subset gcwb runs.
    NotSupported,
    /// A type error (what `go vet`/`go build` would refuse).
    Type,
    /// The program panicked while running (nil dereference, index out of
    /// range, ...), or deadlocked.
    Runtime,
    /// `--escape go` could not run the Go toolchain or read its output.
    Toolchain,
    /// The program called `os.Exit` (the message is `exit status N`).
    Exit,
}

/// An error of the Go front end, with its position when it has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoError {
    pub kind: GoErrorKind,
    /// `file:line:col`, as Go prints positions (empty when there is none).
    pub at: String,
    pub msg: String,
}

impl GoError {
    pub fn new(kind: GoErrorKind, at: impl Into<String>, msg: impl Into<String>) -> GoError {
        GoError { kind, at: at.into(), msg: msg.into() }
    }

    /// `at: not supported: <construct>`.
    pub fn not_supported(at: impl Into<String>, construct: impl fmt::Display) -> GoError {
        GoError::new(GoErrorKind::NotSupported, at, format!("not supported: {construct}"))
    }
}

impl fmt::Display for GoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.is_empty() {
            write!(f, "{}", self.msg)
        } else {
            write!(f, "{}: {}", self.at, self.msg)
        }
    }
}

impl std::error::Error for GoError {}
