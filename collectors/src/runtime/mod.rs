//! The Go runtime model the collectors serve: goroutine stacks and globals.
//!
//! - [`stack`]: a goroutine's growable stack — real memory holding frame
//!   locals and stack-allocated blocks, doubled by copying (with pointer
//!   adjustment) when it runs out, halved at a GC when mostly unused, and
//!   bounded by Go's `maxstacksize`;
//! - [`globals`]: package-level pointer variables, never collected.
//!
//! Both are roots: a host hands their slots to collectors through
//! [`crate::host::RootSet`].

pub mod globals;
pub mod stack;

pub use globals::Globals;
pub use stack::{Stack, StackLimit, StackOverflow};
