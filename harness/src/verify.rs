//! The verifier: checks a collector against the trace's oracle.
//!
//! The collector reports every object it frees (through the
//! [`collectors::ObjectSink`] the host hands it, from whichever thread frees:
//! a pause, a mutator sweeping lazily, a background sweeper); the replayer
//! reports every heap allocation
//! and every dereference. The verifier keeps a shadow of the program — the
//! trace's sequential abstract machine ([`workloads::analysis::machine`]),
//! whose values are block ids, not addresses, so it is independent of the
//! heap and of the collector — and catches:
//! - **a reachable block freed**: at each stop-the-world pause the shadow is
//!   advanced to the *cut* the pause stopped at (each goroutine's position)
//!   and its reachable set computed; a block freed by that cycle must not be
//!   in it (a concurrent sweep frees after its cycle's last pause, and is
//!   checked against that pause's cut: a block unreachable there stays so). The cut of a parallel replay is not a prefix of the trace, but
//!   it is closed under the replay's dependencies, so applying its events in
//!   trace order gives exactly the state the real program is in;
//! - **an access to a freed block**, and a slot that does not point into
//!   the block the trace says it does (memory reused under a live pointer);
//! - **a block moved wrongly**: a copying collector reports each move
//!   ([`collectors::ObjectSink::on_move`]); the block's address follows it,
//!   so a slot the collector forgot to update (a stale pointer into the old
//!   copy) is caught at its next dereference as a pointer into the wrong
//!   block, and a move from memory that held no block is reported;
//! - **an unreachable block not freed**: after the final full collection,
//!   every heap block unreachable at the end of the trace must be gone.
//!
//! The oracle's death times ([`workloads::analysis::oracle`], computed
//! independently by Merlin's method) name when each block died in messages,
//! and are cross-checked against the machine at the end.

use parking_lot::Mutex;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use workloads::analysis::machine::Machine;
use workloads::analysis::oracle::Deaths;
use workloads::analysis::{Place, PreparedTrace};
use workloads::BlockIdx;

/// At most this many violations are kept in full (all are counted).
const MAX_KEPT: usize = 1000;

/// What went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ViolationKind {
    /// The collector freed a block still reachable from the roots.
    ReachableFreed,
    /// The program dereferenced a block the collector had freed.
    FreedAccessed,
    /// A slot held a pointer that is not into the block the trace implies.
    WrongBlock,
    /// A block unreachable at the end was not freed by the final collection.
    NotFreed,
    /// The collector freed memory that held no live block.
    BogusFree,
    /// The collector moved memory that held no live block, or onto one.
    BogusMove,
    /// The oracle and the shadow machine disagree (a bug in gcwb).
    OracleMismatch,
}

impl ViolationKind {
    pub fn name(self) -> &'static str {
        match self {
            ViolationKind::ReachableFreed => "reachable block freed",
            ViolationKind::FreedAccessed => "access to a freed block",
            ViolationKind::WrongBlock => "pointer into the wrong block",
            ViolationKind::NotFreed => "unreachable block not freed",
            ViolationKind::BogusFree => "free of a non-block",
            ViolationKind::BogusMove => "move of a non-block or onto a live block",
            ViolationKind::OracleMismatch => "oracle mismatch",
        }
    }
}

/// One verifier finding: the block, the cycle, the event, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub kind: ViolationKind,
    pub block: String,
    pub cycle: Option<u64>,
    /// The event (file and line) it concerns.
    pub at: Option<String>,
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.block)?;
        if let Some(c) = self.cycle {
            write!(f, " (cycle {c})")?;
        }
        if let Some(at) = &self.at {
            write!(f, " at {at}")?;
        }
        write!(f, ": {}", self.detail)
    }
}

struct Shadow<'a> {
    machine: Machine<'a>,
    /// Events of each goroutine applied to the machine so far.
    applied: Vec<u32>,
    /// Reachable blocks at the last cut, and that cut's cycle.
    reachable: Vec<bool>,
    cycle: u64,
}

/// The verifier of one replay.
pub struct Verifier<'a> {
    prepared: &'a PreparedTrace,
    placements: &'a [Place],
    deaths: &'a Deaths,
    /// Per goroutine, the trace index of each of its events.
    event_index: &'a [Vec<u32>],
    shadow: Mutex<Shadow<'a>>,
    ledger: Arc<FreeLedger>,
    violations: Mutex<(Vec<Violation>, u64)>,
}

/// The frees, recorded the moment the collector reports them, from any
/// thread: the block leaves the address map at once (so its memory may be
/// handed out again right after), while the check against the shadow's cut
/// waits for [`Verifier::settle`] — the sweep pays only a map update and a
/// push, and the host keeps the checking out of its pause times.
struct FreeLedger {
    /// Heap address -> block, for blocks the collector has not freed.
    live_at: Mutex<HashMap<u64, u32, BuildHasherDefault<AddrHasher>>>,
    /// Block -> its heap address now (0: never allocated on the heap).
    block_addr: Vec<AtomicU64>,
    /// Moves that made no sense, checked at [`Verifier::settle`]: the cycle,
    /// from, to.
    bad_moves: Mutex<Vec<(u64, u64, u64)>>,
    freed: Vec<AtomicBool>,
    /// The cycle that freed each block (0: not freed).
    freed_by: Vec<AtomicU64>,
    /// Frees not yet checked: the cycle, and the block (or the address, if
    /// no block was there).
    pending: Mutex<Vec<(u64, Result<u32, u64>)>>,
}

/// Hashes heap addresses for the ledger's map: a multiply and a rotate
/// (Fibonacci hashing of the word index). The default SipHash cost more than
/// the rest of a verified allocation or free; addresses are not chosen by an
/// adversary, so a keyed hash buys nothing here.
#[derive(Default)]
struct AddrHasher(u64);

impl Hasher for AddrHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    #[inline]
    fn write_u64(&mut self, addr: u64) {
        self.0 = (addr >> 3).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0.rotate_left(32)
    }
}

impl collectors::ObjectSink for FreeLedger {
    fn on_free(&self, cycle: u64, addr: u64) {
        let block = self.live_at.lock().remove(&addr);
        if let Some(b) = block {
            self.freed[b as usize].store(true, Ordering::Relaxed);
            self.freed_by[b as usize].store(cycle, Ordering::Relaxed);
        }
        self.pending.lock().push((cycle, block.ok_or(addr)));
    }

    fn on_move(&self, cycle: u64, from: u64, to: u64) {
        let mut live = self.live_at.lock();
        let Some(b) = live.remove(&from) else {
            self.bad_moves.lock().push((cycle, from, to));
            return;
        };
        self.block_addr[b as usize].store(to, Ordering::Relaxed);
        if let Some(other) = live.insert(to, b) {
            self.bad_moves.lock().push((cycle, from, to));
            live.insert(to, other);
        }
    }
}

impl<'a> Verifier<'a> {
    /// A verifier of one replay of `prepared` with the placements `no_stack`
    /// selects (the oracle's death times and the trace-order index are
    /// computed once per prepared trace and shared by its verified replays).
    pub fn new(prepared: &'a PreparedTrace, no_stack: bool) -> Verifier<'a> {
        let n = prepared.blocks.len();
        let placements = prepared.placements(no_stack);
        Verifier {
            prepared,
            placements,
            deaths: prepared.deaths(no_stack),
            event_index: prepared.event_index(),
            shadow: Mutex::new(Shadow {
                machine: Machine::new(prepared, placements),
                applied: vec![0; prepared.goroutines.len()],
                reachable: vec![false; n],
                cycle: 0,
            }),
            ledger: Arc::new(FreeLedger {
                live_at: Mutex::new(HashMap::default()),
                block_addr: (0..n).map(|_| AtomicU64::new(0)).collect(),
                bad_moves: Mutex::new(Vec::new()),
                freed: (0..n).map(|_| AtomicBool::new(false)).collect(),
                freed_by: (0..n).map(|_| AtomicU64::new(0)).collect(),
                pending: Mutex::new(Vec::new()),
            }),
            violations: Mutex::new((Vec::new(), 0)),
        }
    }

    fn report(&self, v: Violation) {
        let mut g = self.violations.lock();
        g.1 += 1;
        if g.0.len() < MAX_KEPT {
            g.0.push(v);
        }
    }

    /// The violations kept, and how many there were in all.
    pub fn violations(&self) -> (Vec<Violation>, u64) {
        let g = self.violations.lock();
        (g.0.clone(), g.1)
    }

    /// For each block, the cycle that freed it (0 if none did).
    pub fn freed_by(&self) -> Vec<u64> {
        self.ledger.freed_by.iter().map(|c| c.load(Ordering::Relaxed)).collect()
    }

    /// Where the collector reports its frees.
    pub fn object_sink(&self) -> Arc<dyn collectors::ObjectSink> {
        self.ledger.clone()
    }

    fn at(&self, ev: usize) -> String {
        format!("{}: {}", self.prepared.file(), self.prepared.pos(ev))
    }

    fn died(&self, b: usize) -> String {
        match self.deaths.death[b] {
            Some(e) => format!("the oracle has it unreachable from {}", self.prepared.pos(e as usize)),
            None => "the oracle has it reachable to the end of the trace".to_string(),
        }
    }

    /// Block `b` was allocated on the heap at `addr`.
    pub fn on_heap_alloc(&self, b: BlockIdx, addr: u64) {
        self.ledger.block_addr[b.0 as usize].store(addr, Ordering::Relaxed);
        if let Some(old) = self.ledger.live_at.lock().insert(addr, b.0) {
            self.report(Violation {
                kind: ViolationKind::ReachableFreed,
                block: self.prepared.block_name(BlockIdx(old)),
                cycle: None,
                at: Some(self.at(self.prepared.blocks[b.0 as usize].alloc_event as usize)),
                detail: format!(
                    "its memory was handed out again (to {}) although the collector never reported freeing it",
                    self.prepared.block_name(b)
                ),
            });
        }
    }

    /// The world is stopped for cycle `cycle` with goroutine `g` having
    /// completed `positions[g]` of its events: bring the shadow to that cut.
    pub fn at_cut(&self, cycle: u64, positions: &[u32]) {
        self.settle();
        let mut sh = self.shadow.lock();
        let sh = &mut *sh;
        let mut next: BinaryHeap<Reverse<(u32, usize)>> = BinaryHeap::new();
        for (g, &pos) in positions.iter().enumerate() {
            if sh.applied[g] < pos {
                next.push(Reverse((self.event_index[g][sh.applied[g] as usize], g)));
            }
        }
        while let Some(Reverse((_, g))) = next.pop() {
            sh.machine.apply_next(g);
            sh.applied[g] += 1;
            if sh.applied[g] < positions[g] {
                next.push(Reverse((self.event_index[g][sh.applied[g] as usize], g)));
            }
        }
        sh.reachable = sh.machine.reachable();
        sh.cycle = cycle;
    }

    /// Checks the frees reported since the last call against the shadow's
    /// cut, which is the freeing cycle's or a later one's (a block
    /// unreachable at a cut stays unreachable, so a later cut is a sound,
    /// if weaker, check).
    pub fn settle(&self) {
        let pending = std::mem::take(&mut *self.ledger.pending.lock());
        for (cycle, block) in pending {
            self.check_free(cycle, block);
        }
        let bad_moves = std::mem::take(&mut *self.ledger.bad_moves.lock());
        for (cycle, from, to) in bad_moves {
            self.report(Violation {
                kind: ViolationKind::BogusMove,
                block: format!("address {from:#x}"),
                cycle: Some(cycle),
                at: None,
                detail: format!("moved to {to:#x}, but no live block was at the source, or one was at the destination"),
            });
        }
    }

    fn check_free(&self, cycle: u64, block: Result<u32, u64>) {
        let b = match block {
            Ok(b) => b,
            Err(addr) => {
                self.report(Violation {
                    kind: ViolationKind::BogusFree,
                    block: format!("address {addr:#x}"),
                    cycle: Some(cycle),
                    at: None,
                    detail: "the collector freed an object that is no live block".to_string(),
                });
                return;
            }
        };
        let bi = b as usize;
        let sh = self.shadow.lock();
        if sh.cycle >= cycle && sh.reachable[bi] {
            let path = sh.machine.explain_path(BlockIdx(b)).unwrap_or_else(|| "?".to_string());
            self.report(Violation {
                kind: ViolationKind::ReachableFreed,
                block: self.prepared.block_name(BlockIdx(b)),
                cycle: Some(cycle),
                at: Some(self.at(self.prepared.blocks[bi].alloc_event as usize)),
                detail: format!("still reachable at the cycle's cut via {path}; {}", self.died(bi)),
            });
        }
    }

    /// Event `seq` of goroutine `g` (dense index) dereferenced heap block
    /// `b` through pointer value `v`.
    pub fn check_access(&self, (g, seq): (usize, u32), b: BlockIdx, v: u64) {
        // The event's trace index, looked up only for a message.
        let ev = || self.event_index[g][seq as usize] as usize;
        let bi = b.0 as usize;
        if self.ledger.freed[bi].load(Ordering::Relaxed) {
            self.report(Violation {
                kind: ViolationKind::FreedAccessed,
                block: self.prepared.block_name(b),
                cycle: None,
                at: Some(self.at(ev())),
                detail: format!("the program dereferences it after the collector freed it; {}", self.died(bi)),
            });
            return;
        }
        let base = self.ledger.block_addr[bi].load(Ordering::Relaxed);
        let size = self.prepared.blocks[bi].size;
        if v < base || v >= base + size.max(1) {
            self.report(Violation {
                kind: ViolationKind::WrongBlock,
                block: self.prepared.block_name(b),
                cycle: None,
                at: Some(self.at(ev())),
                detail: format!(
                    "the slot holds {v:#x}, but the block is at {base:#x} ({size} bytes): its memory was reused"
                ),
            });
        }
    }

    /// After the final collection: every heap block unreachable at the end
    /// must have been freed (when the collector frees at all, and the replay
    /// ran to the end); and the oracle must agree with the machine.
    pub fn finish(&self, collects: bool, completed: bool) {
        self.settle();
        if !completed {
            return;
        }
        let all: Vec<u32> = self.prepared.goroutines.iter().map(|g| g.events).collect();
        let cycle = self.shadow.lock().cycle;
        self.at_cut(cycle, &all);
        let sh = self.shadow.lock();
        for (bi, info) in self.prepared.blocks.iter().enumerate() {
            let reachable = sh.reachable[bi];
            if self.placements[bi] == Place::Heap && reachable == self.deaths.death[bi].is_some() {
                self.report(Violation {
                    kind: ViolationKind::OracleMismatch,
                    block: self.prepared.block_name(BlockIdx(bi as u32)),
                    cycle: None,
                    at: None,
                    detail: format!("machine says reachable={reachable} at the end; {}", self.died(bi)),
                });
            }
            if collects
                && self.placements[bi] == Place::Heap
                && !reachable
                && self.ledger.block_addr[bi].load(Ordering::Relaxed) != 0
                && !self.ledger.freed[bi].load(Ordering::Relaxed)
            {
                self.report(Violation {
                    kind: ViolationKind::NotFreed,
                    block: self.prepared.block_name(BlockIdx(bi as u32)),
                    cycle: Some(cycle),
                    at: Some(self.at(info.alloc_event as usize)),
                    detail: format!("still allocated after the final collection; {}", self.died(bi)),
                });
            }
        }
    }
}
