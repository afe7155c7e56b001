//! A hook before every event of every goroutine, so a test can hold a
//! goroutine at an event boundary until something else has happened (the
//! collector reached a step, another goroutine an event): an interleaving
//! the test drives instead of one it times.
//!
//! Installed through [`super::ReplayOptions::hooks`]; without hooks the
//! replayer checks one `Option` per event. The collector side has the
//! counterpart, `collectors::mark_hooks`.

/// Called by the replayer's workers at goroutine event boundaries.
pub trait ReplayHooks: Send + Sync {
    /// Goroutine `g` (dense index; 0 is `g1`) is about to run its event
    /// `seq` (its `seq`-th, counted from 0), the events it depends on
    /// done; or, with `seq` equal to its number of events, has run its
    /// last. Called once per event. May block: the goroutine waits at a
    /// safepoint meanwhile — its worker out of the running set, its state
    /// unlocked — so the world can stop and its stack can be scanned; the
    /// wait counts as the replayer's own (dep-wait) time in span accounting.
    fn before_event(&self, g: usize, seq: u32);

    /// Every worker has stopped: the trace is done, or a fatal error ended
    /// the replay early (so some events never ran). The collector's
    /// background work may still be under way; it must not wait for a
    /// goroutine any more.
    fn mutators_done(&self) {}
}

impl std::fmt::Debug for dyn ReplayHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReplayHooks")
    }
}
