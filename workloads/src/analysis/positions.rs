//! Where each event of a prepared trace came from (its line or byte
//! offset), in about one byte an event.
//!
//! Error messages and the verifier name events by position; a
//! [`SourcePos`] per event would cost 16 bytes. Positions only grow, so the
//! index keeps the difference from the previous event's position in one
//! byte (255: look the exact position up in a side table), plus the
//! absolute position of every [`CHECKPOINT_EVERY`]-th event, so a lookup
//! sums at most that many bytes. Traces built in memory have no positions
//! and events are named by ordinal (`event 12`).

use crate::model::{BlockIdx, SourcePos};
use std::collections::HashMap;

/// How messages name a trace's events and blocks: each event's position,
/// and the blocks' names as written (`None` while every name is its index).
/// Pass 1 builds it as the trace streams in; the prepared trace keeps it.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    pub(crate) positions: Positions,
    pub(crate) block_names: Option<Vec<u64>>,
}

impl Sources {
    /// The position of event `i`: its line or byte offset when known, else
    /// its ordinal (`event 12`).
    pub fn pos(&self, i: usize) -> String {
        match self.positions.get(i) {
            Some(p) => p.to_string(),
            None => format!("event {}", i + 1),
        }
    }

    /// `bN` as written in the trace.
    pub fn block_name(&self, b: BlockIdx) -> String {
        match &self.block_names {
            Some(names) => match names.get(b.0 as usize) {
                Some(n) => format!("b{n}"),
                None => format!("b?{}", b.0),
            },
            None => format!("b{}", b.0),
        }
    }

    /// Bytes of memory held.
    pub fn heap_bytes(&self) -> usize {
        self.positions.heap_bytes() + self.block_names.as_ref().map_or(0, |n| n.capacity() * 8)
    }
}

/// Every this many events the index keeps the absolute position.
pub const CHECKPOINT_EVERY: usize = 256;

/// A delta byte meaning "see `far`".
const FAR: u8 = u8::MAX;

/// The positions of a trace's events (empty for a trace built in memory).
#[derive(Clone, Debug, Default)]
pub struct Positions {
    /// Lines (text) or byte offsets (binary); `None` until the first event.
    pub(crate) lines: Option<bool>,
    pub(crate) checkpoints: Vec<u64>,
    pub(crate) deltas: Vec<u8>,
    pub(crate) far: HashMap<u32, u64>,
    pub(crate) last: u64,
}

impl Positions {
    /// Records the position of the next event.
    pub fn push(&mut self, pos: SourcePos) {
        let (lines, v) = match pos {
            SourcePos::Line(l) => (true, l),
            SourcePos::Offset(o) => (false, o),
        };
        self.lines.get_or_insert(lines);
        let i = self.deltas.len();
        if i.is_multiple_of(CHECKPOINT_EVERY) {
            self.checkpoints.push(v);
            self.deltas.push(0);
        } else {
            let d = v.wrapping_sub(self.last);
            if d < u64::from(FAR) {
                self.deltas.push(d as u8);
            } else {
                self.deltas.push(FAR);
                self.far.insert(i as u32, v);
            }
        }
        self.last = v;
    }

    /// Number of events recorded.
    pub fn len(&self) -> usize {
        self.deltas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.deltas.is_empty()
    }

    /// The position of event `i`, if recorded.
    pub fn get(&self, i: usize) -> Option<SourcePos> {
        if i >= self.deltas.len() {
            return None;
        }
        let c = i / CHECKPOINT_EVERY;
        let mut v = self.checkpoints[c];
        for k in c * CHECKPOINT_EVERY + 1..=i {
            v = match self.deltas[k] {
                FAR => self.far[&(k as u32)],
                d => v + u64::from(d),
            };
        }
        Some(if self.lines == Some(true) { SourcePos::Line(v) } else { SourcePos::Offset(v) })
    }

    /// Gives back the memory grown beyond what is held.
    pub fn shrink_to_fit(&mut self) {
        self.deltas.shrink_to_fit();
        self.checkpoints.shrink_to_fit();
        self.far.shrink_to_fit();
    }

    /// Bytes of memory held.
    pub fn heap_bytes(&self) -> usize {
        self.deltas.capacity() + self.checkpoints.capacity() * 8 + self.far.capacity() * 16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_position_comes_back() {
        let mut p = Positions::default();
        let mut want = Vec::new();
        let mut v = 5u64;
        for i in 0..2000u64 {
            v += match i % 7 {
                0 => 1,
                1 => 254,
                2 => 255,
                3 => 100_000,
                _ => i % 5,
            };
            want.push(v);
            p.push(SourcePos::Offset(v));
        }
        for (i, &w) in want.iter().enumerate() {
            assert_eq!(p.get(i), Some(SourcePos::Offset(w)), "event {i}");
        }
        assert_eq!(p.get(want.len()), None);
        let mut lines = Positions::default();
        lines.push(SourcePos::Line(2));
        assert_eq!(lines.get(0), Some(SourcePos::Line(2)));
    }
}
