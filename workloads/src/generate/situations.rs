//! `situations`: every situation in which Go allocates a memory block,
//! modelled as the Go 1.22 toolchain does it (compiler and runtime), escaping
//! and not.
//!
//! The workload answers "what does each Go construct cost a collector?": its
//! trace allocates exactly the blocks a Go 1.22 program on linux/amd64 would
//! — same sizes (through Go's size classes where the runtime rounds, see
//! [`gorules`]), same pointer slots, same placement — and nothing where Go
//! allocates nothing. Go 1.22 is the last-but-one release with the classic
//! bucketed map (Go 1.24 replaced it with Swiss tables, not modelled here)
//! and the first with malloc headers (which shrink the usable part of a size
//! class for pointer-bearing objects above 512 bytes).
//!
//! # The program
//!
//! `main` (`g1`) starts `goroutines` goroutines, then walks through every
//! situation of the table below `rounds` times; each goroutine walks through them
//! `goroutine_rounds` times, interleaved with `main` one situation at a
//! time (chosen by the seed). Each walk of a situation is a function:
//! `call`, the allocations, `ret`. Every situation runs twice a round:
//! - **not escaping** — the result stays in the function's locals and is
//!   passed down to a callee that does not keep it (`call 1 [l0]`, `ret`),
//!   so the compiler may put it on the stack: `auto` blocks that escape
//!   analysis leaves on the stack;
//! - **escaping**, one of three ways (seeded): stored into a package-level
//!   variable (one of 4 "sink" globals per goroutine), stored into a slot
//!   of a heap block (a `holder` struct each goroutine keeps in a global),
//!   or returned to the caller (the allocating function is a callee whose
//!   result `ret` copies into the caller's frame).
//!
//! Each round is a request span (`begin round` / `end round`), each
//! situation is followed by `work_ns` of computation, and `main` calls
//! `runtime.GC()` every `gc_every` rounds and once at the end. The
//! goroutines are started as Go does it — a closure capturing a results
//! channel, passed to `go` — and each sends a `*result` on that channel
//! before it exits; `main` receives them all at the end:
//!
//! ```go
//! results := make(chan *result, goroutines)
//! for i := 0; i < goroutines; i++ {
//!     go func() { walk(goroutineRounds); results <- &result{} }()
//! }
//! walk(rounds)
//! for i := 0; i < goroutines; i++ { <-results }
//! ```
//!
//! # The rules (Go 1.22; runtime functions in `src/runtime`)
//!
//! Placement: `auto` where the compiler decides (escape analysis; at most
//! 64 KiB for implicit allocations and 128 KiB for declared variables,
//! cmd/compile/internal/ir/cfg.go), `heap` where the runtime allocates
//! whatever the caller does with the result.
//!
//! | situation | Go | blocks |
//! |---|---|---|
//! | `new` | `p := new(T); p.next = new(T)` | two `T` (16 B, 1 slot) — `newobject`; `new(struct{})` allocates nothing (`zerobase`) |
//! | `make_slice` | `make([]*T, n)`, `n` constant | the backing array, `8n` B, `n` slots — `makeslice`; the header stays in locals |
//! | `make_slice_var_len` | `make([]int, n)`, `n` variable | heap even when not escaping (Go 1.22 stack-allocates constant sizes only); `n = 0` nothing (`mallocgc(0)`) |
//! | `make_slice_large` | `make([]byte, 96<<10)` | heap: over the 64 KiB implicit limit |
//! | `make_map` | `make(map[int]int)`, a few inserts | `hmap` 48 B (6 slots: `buckets` is word 2, `oldbuckets` 3, `extra` 5) and one 144 B bucket (8+64+64+8, no pointers): not escaping, both on the stack (walk's `makemap` lowering); escaping, `makemap_small` then the bucket on the first insert (`mapassign`) |
//! | `make_map_hint` | `make(map[int]int, 100)` | `hmap`; `B = 4` (`overLoadFactor`), 16 + 1 overflow buckets rounded to a size class = 18 (2592 B, heap, `makeBucketArray`), and `mapextra` (24 B, 3 slots, cause `other`) whose `nextOverflow` points into the array |
//! | `make_chan` | `make(chan int, 8)`, `make(chan struct{})` | `hchan` and buffer in one noscan block (96 + 64 B), `hchan` alone (96 B) — `makechan`; channels are always heap |
//! | `make_chan_ptr` | `make(chan *T, 4)`, one send and receive | `hchan` (96 B, 11 slots: `buf` is word 2) and its buffer (32 B, 4 slots), two allocations; the value sent escapes |
//! | `slice_literal` | `[]*T{p, q}` | the backing array (16 B, 2 slots) and `p`, `q` |
//! | `map_literal` | `map[string]int{"a": 1, "b": 2, "c": 3}` | `hmap` and one 208 B bucket (26 slots), as `make_map` |
//! | `var` | `var x T; use(&x)` | `x` (16 B) — `newobject` when it escapes ("moved to heap: x") |
//! | `var_large` | `var buf [100<<10]byte`, `var big [160<<10]byte` | the first fits the 128 KiB limit for variables, the second goes to the heap |
//! | `closure` | `x := 0; f := func() { x++ }` | `x` (cause `var`) and the closure {F, &x} (16 B, 2 slots) |
//! | `closure_by_value` | `y := n; f := func() int { return y }` | the closure {F, y} (16 B, no pointers); `func() {}` allocates nothing |
//! | `iface` | `var i any = v` | escaping: `convT64` (8 B; nothing below 256: `staticuint64s`), `convTstring` (16 B, 1 slot; nothing for `""`), `convTslice` (24 B, 1 slot), `convTnoptr` (a 16 B struct); nothing for bools, bytes, zero-size values and constants. Not escaping: a stack temporary of the value's size |
//! | `concat` | `a + b` | `concatstrings`: nothing if at most one operand is non-empty; not escaping and at most 32 bytes, the 32-byte stack `tmpBuf`; else `rawstring` (heap, the exact length) |
//! | `string_to_bytes` | `[]byte(s)` | `stringtoslicebyte`: `tmpBuf` if not escaping and ≤ 32 bytes, else `rawbyteslice` (heap, `roundupsize(len)`; nothing for `""`) |
//! | `bytes_to_string` | `string(b)` | `slicebytetostring`: nothing for 0 or 1 bytes (`staticuint64s`); `tmpBuf` if not escaping and ≤ 32; else heap, the exact length |
//! | `string_to_runes` | `[]rune(s)` | `stringtoslicerune`: the 128-byte `[32]rune` stack buffer if not escaping and ≤ 32 runes; else `rawruneslice` (heap, `roundupsize(4n)`) |
//! | `runes_to_string` | `string(rs)` | `slicerunetostring`: `rawstringtmp(buf, bytes + 3)` — `tmpBuf` or heap, 3 bytes even for no runes |
//! | `itoa` | `strconv.Itoa(i)` | nothing for 0–99 (the `smallsString` table); else `formatBits` returns `string(a[i:])`: heap, the digits (and `-`), escaping or not |
//! | `rune_to_string` | `string(rune(r))` | `intstring`: the `[4]byte` stack buffer if not escaping, else `rawstring(4)` |
//! | `append_ints` | append 1…`append_n` ints to a nil `[]int` | a heap array per growth (`growslice`: [`gorules::nextslicecap`], then `roundupsize`) — 1, 2, 4, …, 512, 848, 1280, 1792, 2560 elements for 2000 |
//! | `append_ptrs` | append the same `*T` `append_ptrs` times to a nil `[]*T` | likewise, with Go 1.22's malloc headers (…, 64, 143, 287); the old elements are copied (pointer stores into the new array); the appended `*T` escapes |
//! | `append_many` | `append([]int(nil), xs...)` | one array: `len(xs)` rounded to a size class |
//! | `map_grow` | insert 1…`map_inserts` int keys into `make(map[int]int)` | the first bucket as `make_map`, then at each `hashGrow` (load factor 6.5) a heap array twice as large ([`gorules::map_growths`]); `oldbuckets` keeps the old one until evacuated (by the latest possible insert); from `B = 4` `mapextra` (`other`) |
//!
//! Not modelled: overflow buckets that `newoverflow` allocates one by one
//! and same-size map grows (they depend on the per-map random hash seed), the
//! tiny allocator's packing of small noscan objects (each is its own block
//! here), and the runtime's own allocations for goroutines (`g`, stacks).
//! String data that a Go program would have in read-only memory (constants)
//! is no block, so a boxed string's slot is left nil.

use super::gorules::{self, MAP_INT_INT_BUCKET_BYTES};
use super::params::{ParamSpec, Params};
use crate::analysis::Place;
use crate::builder::{gl, interior, l, BuildError, Builder, EventSink, NIL};
use crate::model::{BlockIdx, Cause, GoroutineId, Loc, Placement};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One line for listings.
pub const SUMMARY: &str = "every Go allocation situation (new, make, literals, var, closures, interface boxing, \
     strings, itoa, append, map growth), escaping and not, sized as Go 1.22 does; main and a few goroutines";

/// The parameters.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("rounds", 200, 1, 1_000_000, "times main walks through every situation"),
    ParamSpec::int("goroutines", 4, 0, 64, "goroutines walking through the situations alongside main"),
    ParamSpec::int("goroutine_rounds", 50, 0, 1_000_000, "times each goroutine walks through every situation"),
    ParamSpec::int("append_n", 2000, 0, 1_000_000, "ints appended one at a time to a nil []int (append_ints)"),
    ParamSpec::int("append_ptrs", 100, 0, 100_000, "pointers appended one at a time to a nil []*T (append_ptrs)"),
    ParamSpec::int("map_inserts", 1000, 0, 10_000_000, "int keys inserted into make(map[int]int) (map_grow)"),
    ParamSpec::int("gc_every", 50, 0, 1_000_000, "main calls runtime.GC() every this many rounds (0: only at the end)"),
    ParamSpec::int("work_ns", 100, 0, 1_000_000_000, "computation after each situation, in ns (0: none)"),
];

/// Writes the `situations` trace for `p` to `sink`.
pub fn generate(p: &Params, sink: &mut dyn EventSink) -> Result<(), BuildError> {
    Gen::new(Config::from_params(p), sink, false)?.run().map(|_| ())
}

/// Every situation a walk goes through, in walk order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Situation {
    New,
    MakeSlice,
    MakeSliceVarLen,
    MakeSliceLarge,
    MakeMap,
    MakeMapHint,
    MakeChan,
    MakeChanPtr,
    SliceLiteral,
    MapLiteral,
    Var,
    VarLarge,
    Closure,
    ClosureByValue,
    Iface,
    Concat,
    StringToBytes,
    BytesToString,
    StringToRunes,
    RunesToString,
    Itoa,
    RuneToString,
    AppendInts,
    AppendPtrs,
    AppendMany,
    MapGrow,
}

impl Situation {
    /// Every situation, in the order a walk takes them.
    pub(crate) const ALL: [Situation; 26] = [
        Situation::New,
        Situation::MakeSlice,
        Situation::MakeSliceVarLen,
        Situation::MakeSliceLarge,
        Situation::MakeMap,
        Situation::MakeMapHint,
        Situation::MakeChan,
        Situation::MakeChanPtr,
        Situation::SliceLiteral,
        Situation::MapLiteral,
        Situation::Var,
        Situation::VarLarge,
        Situation::Closure,
        Situation::ClosureByValue,
        Situation::Iface,
        Situation::Concat,
        Situation::StringToBytes,
        Situation::BytesToString,
        Situation::StringToRunes,
        Situation::RunesToString,
        Situation::Itoa,
        Situation::RuneToString,
        Situation::AppendInts,
        Situation::AppendPtrs,
        Situation::AppendMany,
        Situation::MapGrow,
    ];

    /// The name used in the module documentation's table.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn name(self) -> &'static str {
        match self {
            Situation::New => "new",
            Situation::MakeSlice => "make_slice",
            Situation::MakeSliceVarLen => "make_slice_var_len",
            Situation::MakeSliceLarge => "make_slice_large",
            Situation::MakeMap => "make_map",
            Situation::MakeMapHint => "make_map_hint",
            Situation::MakeChan => "make_chan",
            Situation::MakeChanPtr => "make_chan_ptr",
            Situation::SliceLiteral => "slice_literal",
            Situation::MapLiteral => "map_literal",
            Situation::Var => "var",
            Situation::VarLarge => "var_large",
            Situation::Closure => "closure",
            Situation::ClosureByValue => "closure_by_value",
            Situation::Iface => "iface",
            Situation::Concat => "concat",
            Situation::StringToBytes => "string_to_bytes",
            Situation::BytesToString => "bytes_to_string",
            Situation::StringToRunes => "string_to_runes",
            Situation::RunesToString => "runes_to_string",
            Situation::Itoa => "itoa",
            Situation::RuneToString => "rune_to_string",
            Situation::AppendInts => "append_ints",
            Situation::AppendPtrs => "append_ptrs",
            Situation::AppendMany => "append_many",
            Situation::MapGrow => "map_grow",
        }
    }
}

// ---- Go's object shapes (64-bit) ----

/// `type T struct { next *T; v int }`: the pointer-bearing object the
/// situations allocate, 16 bytes with one pointer slot.
const T_BYTES: u64 = 16;
const T_SLOTS: u32 = 1;
/// A word.
const WORD: u64 = 8;

/// `hmap` (runtime/map.go): 48 bytes; its pointer words end with `extra`,
/// so 6 slots. `buckets` is word 2, `oldbuckets` word 3, `extra` word 5.
const HMAP_SLOTS: u32 = 6;
const HMAP_BUCKETS: u32 = 2;
const HMAP_OLDBUCKETS: u32 = 3;
const HMAP_EXTRA: u32 = 5;
/// `mapextra`: `overflow`, `oldoverflow *[]*bmap`, `nextOverflow *bmap`.
const MAPEXTRA_BYTES: u64 = 24;
const MAPEXTRA_SLOTS: u32 = 3;
const MAPEXTRA_NEXT_OVERFLOW: u32 = 2;
/// `map[string]int`'s bucket: 8 tophash bytes, 8 string keys (16 B), 8 ints,
/// the overflow pointer — 208 bytes, pointer words up to the last one: 26.
const MAP_STRING_INT_BUCKET_BYTES: u64 = gorules::bucket_bytes(16, 8);
const MAP_STRING_INT_BUCKET_SLOTS: u32 = (MAP_STRING_INT_BUCKET_BYTES / WORD) as u32;
/// The hint of `make_map_hint`.
const MAP_HINT: u64 = 100;

/// `hchan` (runtime/chan.go, `hchanSize`): 96 bytes; pointer words up to
/// `sendq.last` (offset 80), so 11 slots; `buf` is word 2.
const HCHAN_BYTES: u64 = 96;
const HCHAN_SLOTS: u32 = 11;
const HCHAN_BUF: u32 = 2;
/// The buffers of `make_chan` (`chan int`) and `make_chan_ptr` (`chan *T`).
const CHAN_INT_CAP: u64 = 8;
const CHAN_PTR_CAP: u32 = 4;

/// `tmpBuf` (runtime/string.go, `tmpStringBufSize = 32`): the stack buffer
/// the compiler passes to string conversions whose result does not escape.
const TMP_BUF_BYTES: u64 = 32;
/// `[tmpStringBufSize]rune`: `stringtoslicerune`'s stack buffer.
const TMP_RUNE_BUF_BYTES: u64 = 4 * TMP_BUF_BYTES;
/// `intstring`'s `[4]byte` buffer, and `rawstring(4)` when it escapes.
const RUNE_STRING_BYTES: u64 = 4;

/// `make_slice_large`: over `MaxImplicitStackVarSize` (64 KiB).
const LARGE_MAKE_BYTES: u64 = 96 << 10;
/// `var_large`: a variable under `MaxStackVarSize` (128 KiB), and one over it.
const STACK_VAR_BYTES: u64 = 100 << 10;
const HEAP_VAR_BYTES: u64 = 160 << 10;

// ---- the program's shape ----

/// Locals of a situation's function (and of a returning callee's).
const FRAME_LOCALS: u32 = 4;
/// `main`'s frame: l0 the results channel, l1 a closure being started, l2 a
/// received result.
const MAIN_LOCALS: u32 = 3;
/// A goroutine's base frame: l0 its closure, l1 its result.
const GOROUTINE_LOCALS: u32 = 2;
/// The closure passed to `go`: {F, results}.
const GO_CLOSURE_BYTES: u64 = 16;
const GO_CLOSURE_SLOTS: u32 = 2;
const CLOSURE_CAPTURE: u32 = 1;
/// Sink globals per goroutine (`var sink0, ..., sink3 any`).
const SINKS: u32 = 4;
/// The `holder` struct each goroutine keeps in a global: 8 pointer fields.
const HOLDER_SLOTS: u32 = 8;
/// Globals per goroutine: the sinks and the holder.
const GLOBALS_PER_WALKER: u32 = SINKS + 1;
/// The span tag of one walk through every situation.
const ROUND_TAG: &str = "round";

/// How a situation's result leaves (or does not leave) its function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    /// Kept in locals and passed down: may stay on the stack.
    Local,
    /// `sinkN = v`.
    Global,
    /// `holder.fieldN = v`, the holder being a heap block.
    Heap,
    /// Returned to the caller.
    Return,
}

/// What the generator expects Go to do with one block, for the tests.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Expected {
    pub block: BlockIdx,
    /// `None` for the program's own blocks (holders, channel, closures).
    pub situation: Option<Situation>,
    /// Whether it was allocated by the escaping run of the situation.
    pub escaping: bool,
    pub place: Place,
}

#[derive(Clone, Copy, Debug)]
struct Config {
    seed: u64,
    rounds: u64,
    goroutines: u32,
    goroutine_rounds: u64,
    append_n: u64,
    append_ptrs: u64,
    map_inserts: u64,
    gc_every: u64,
    work_ns: u64,
}

impl Config {
    fn from_params(p: &Params) -> Config {
        Config {
            seed: p.seed,
            rounds: p.get_u64("rounds"),
            goroutines: p.get_u64("goroutines") as u32,
            goroutine_rounds: p.get_u64("goroutine_rounds"),
            append_n: p.get_u64("append_n"),
            append_ptrs: p.get_u64("append_ptrs"),
            map_inserts: p.get_u64("map_inserts"),
            gc_every: p.get_u64("gc_every"),
            work_ns: p.get_u64("work_ns"),
        }
    }
}

/// One goroutine walking through the situations.
struct Walker {
    g: GoroutineId,
    /// Its first sink global; its holder is the global after the sinks.
    globals: u32,
    next_sink: u32,
    next_field: u32,
    rounds: u64,
    round: u64,
    /// Position in the round: situation `step / 2`, escaping if odd.
    step: usize,
}

impl Walker {
    fn new(g: GoroutineId, index: u32, rounds: u64) -> Walker {
        Walker { g, globals: index * GLOBALS_PER_WALKER, next_sink: 0, next_field: 0, rounds, round: 0, step: 0 }
    }
    fn holder(&self) -> Loc {
        gl(self.globals + SINKS)
    }
    fn done(&self) -> bool {
        self.round >= self.rounds
    }
}

struct Gen<S: EventSink> {
    b: Builder<S>,
    cfg: Config,
    rng: ChaCha8Rng,
    /// The expectations, when asked for.
    log: Option<Vec<Expected>>,
    /// The situation being written and whether its escaping run.
    current: Option<Situation>,
    escaping: bool,
}

impl<S: EventSink> Gen<S> {
    fn new(cfg: Config, sink: S, log: bool) -> Result<Gen<S>, BuildError> {
        let globals = (1 + cfg.goroutines) * GLOBALS_PER_WALKER;
        Ok(Gen {
            b: Builder::new(sink, globals)?,
            cfg,
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            log: log.then(Vec::new),
            current: None,
            escaping: false,
        })
    }

    fn run(mut self) -> Result<Vec<Expected>, BuildError> {
        let main = GoroutineId::MAIN;
        self.b.call(main, MAIN_LOCALS, &[])?;
        let mut walkers = vec![Walker::new(main, 0, self.cfg.rounds)];
        self.make_holder(&walkers[0])?;
        let n = self.cfg.goroutines;
        if n > 0 {
            // results := make(chan *result, goroutines): hchan + pointer buffer.
            self.heap(main, l(0), HCHAN_BYTES, HCHAN_SLOTS, Cause::MakeChan)?;
            self.heap(main, l(0).slot(HCHAN_BUF), u64::from(n) * WORD, n, Cause::MakeChan)?;
            for i in 1..=n {
                // go func() { ...; results <- r }(): the closure captures results.
                self.auto(main, l(1), GO_CLOSURE_BYTES, GO_CLOSURE_SLOTS, Cause::Closure, true)?;
                self.b.set(main, l(1).slot(CLOSURE_CAPTURE), l(0).into())?;
                let g = self.b.go(main, GOROUTINE_LOCALS, &[l(1).into()])?;
                self.b.set(main, l(1), NIL)?;
                let w = Walker::new(g, i, self.cfg.goroutine_rounds);
                self.make_holder(&w)?;
                walkers.push(w);
            }
        }
        let mut sent = 0;
        for w in &walkers[1..] {
            if w.done() {
                self.finish_goroutine(w, &mut sent)?;
            }
        }
        // Interleave the walkers one situation at a time.
        loop {
            let active = walkers.iter().filter(|w| !w.done()).count();
            if active == 0 {
                break;
            }
            let pick = self.rng.random_range(0..active);
            let i = walkers.iter().enumerate().filter(|(_, w)| !w.done()).nth(pick).expect("in range").0;
            self.step(&mut walkers[i])?;
            if i > 0 && walkers[i].done() {
                self.finish_goroutine(&walkers[i], &mut sent)?;
            }
        }
        // for i := 0; i < goroutines; i++ { <-results }
        for k in 0..n {
            let slot = l(0).slot(HCHAN_BUF).slot(k);
            self.b.set(main, l(2), slot.clone().into())?;
            self.b.set(main, slot, NIL)?;
        }
        self.b.set(main, l(2), NIL)?;
        self.b.gc(main)?;
        self.b.finish()?;
        Ok(self.log.unwrap_or_default())
    }

    /// `holder = &Holder{}`, kept in the walker's holder global.
    fn make_holder(&mut self, w: &Walker) -> Result<(), BuildError> {
        self.auto(w.g, w.holder(), u64::from(HOLDER_SLOTS) * WORD, HOLDER_SLOTS, Cause::New, true)
    }

    /// A goroutine's end: `results <- &result{}`, then exit.
    fn finish_goroutine(&mut self, w: &Walker, sent: &mut u32) -> Result<(), BuildError> {
        self.current = None;
        self.escaping = false;
        self.auto(w.g, l(1), T_BYTES, T_SLOTS, Cause::New, true)?;
        let buf_slot = l(0).slot(CLOSURE_CAPTURE).slot(HCHAN_BUF).slot(*sent);
        self.b.set(w.g, buf_slot, l(1).into())?;
        *sent += 1;
        self.b.exit(w.g)
    }

    /// The walker's next situation run.
    fn step(&mut self, w: &mut Walker) -> Result<(), BuildError> {
        let g = w.g;
        if w.step == 0 {
            self.b.begin(g, ROUND_TAG)?;
        }
        let s = Situation::ALL[w.step / 2];
        let route = if w.step.is_multiple_of(2) {
            Route::Local
        } else {
            [Route::Global, Route::Heap, Route::Return][self.rng.random_range(0..3)]
        };
        self.current = Some(s);
        self.escaping = route != Route::Local;
        self.b.call(g, FRAME_LOCALS, &[])?;
        match route {
            Route::Local => {
                self.body(g, s, false)?;
                // use(v): passing a pointer down does not make it escape.
                self.b.call(g, 1, &[l(0).into()])?;
                self.b.ret(g)?;
            }
            Route::Global => {
                self.body(g, s, true)?;
                self.b.set(g, gl(w.globals + w.next_sink), l(0).into())?;
                w.next_sink = (w.next_sink + 1) % SINKS;
            }
            Route::Heap => {
                self.body(g, s, true)?;
                self.b.set(g, w.holder().slot(w.next_field), l(0).into())?;
                w.next_field = (w.next_field + 1) % HOLDER_SLOTS;
            }
            Route::Return => {
                self.b.call(g, FRAME_LOCALS, &[])?;
                self.body(g, s, true)?;
                self.b.ret_copy(g, l(0).into(), l(0))?;
            }
        }
        self.b.ret(g)?;
        if self.cfg.work_ns > 0 {
            self.b.work(g, self.cfg.work_ns)?;
        }
        w.step += 1;
        if w.step == 2 * Situation::ALL.len() {
            self.b.end(g, ROUND_TAG)?;
            w.step = 0;
            w.round += 1;
            if g == GoroutineId::MAIN && self.cfg.gc_every > 0 && w.round.is_multiple_of(self.cfg.gc_every) {
                self.b.gc(g)?;
            }
        }
        Ok(())
    }

    /// Allocates a block whose placement the compiler decides: on the stack
    /// unless it escapes (`escapes`) or is over Go's stack-object limit.
    fn auto(
        &mut self,
        g: GoroutineId,
        dst: Loc,
        size: u64,
        slots: u32,
        cause: Cause,
        escapes: bool,
    ) -> Result<(), BuildError> {
        let place = if escapes || size > cause.max_stack_bytes() { Place::Heap } else { Place::Stack };
        self.alloc(g, dst, size, slots, cause, Placement::Auto, place)
    }

    /// Allocates a block the runtime puts on the heap whatever the caller does.
    fn heap(&mut self, g: GoroutineId, dst: Loc, size: u64, slots: u32, cause: Cause) -> Result<(), BuildError> {
        self.alloc(g, dst, size, slots, cause, Placement::Heap, Place::Heap)
    }

    #[allow(clippy::too_many_arguments)]
    fn alloc(
        &mut self,
        g: GoroutineId,
        dst: Loc,
        size: u64,
        slots: u32,
        cause: Cause,
        placement: Placement,
        place: Place,
    ) -> Result<(), BuildError> {
        let block = self.b.alloc(g, dst, size, slots, cause, placement)?;
        if let Some(log) = &mut self.log {
            log.push(Expected { block, situation: self.current, escaping: self.escaping, place });
        }
        Ok(())
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    /// The situation's allocations in the top frame; the value that may
    /// escape ends up in `l0`.
    fn body(&mut self, g: GoroutineId, s: Situation, esc: bool) -> Result<(), BuildError> {
        match s {
            Situation::New => {
                // p := new(T); p.next = new(T)   (new(struct{}) is &zerobase)
                self.auto(g, l(0), T_BYTES, T_SLOTS, Cause::New, esc)?;
                self.auto(g, l(0).slot(0), T_BYTES, T_SLOTS, Cause::New, esc)?;
            }
            Situation::MakeSlice => {
                // s := make([]*T, n), n a constant; s[0] = new(T)
                let n = self.rng.random_range(1..=16u32);
                self.auto(g, l(0), u64::from(n) * WORD, n, Cause::MakeSlice, esc)?;
                self.auto(g, l(0).slot(0), T_BYTES, T_SLOTS, Cause::New, esc)?;
            }
            Situation::MakeSliceVarLen => {
                // make([]int, n), n known only at run time: makeslice, heap.
                let n = self.rng.random_range(0..=64u64);
                if n > 0 {
                    self.heap(g, l(0), n * WORD, 0, Cause::MakeSlice)?;
                }
            }
            Situation::MakeSliceLarge => {
                self.auto(g, l(0), LARGE_MAKE_BYTES, 0, Cause::MakeSlice, esc)?;
            }
            Situation::MakeMap => {
                // m := make(map[int]int); m[k] = v (a few, fitting one bucket)
                self.auto(g, l(0), gorules::HMAP_BYTES, HMAP_SLOTS, Cause::MakeMap, esc)?;
                let bucket = l(0).slot(HMAP_BUCKETS);
                if esc {
                    // makemap_small; mapassign allocates the bucket.
                    self.heap(g, bucket, MAP_INT_INT_BUCKET_BYTES, 0, Cause::MakeMap)?;
                } else {
                    self.auto(g, bucket, MAP_INT_INT_BUCKET_BYTES, 0, Cause::MakeMap, false)?;
                }
            }
            Situation::MakeMapHint => {
                self.auto(g, l(0), gorules::HMAP_BYTES, HMAP_SLOTS, Cause::MakeMap, esc)?;
                let b = gorules::map_b_for_hint(MAP_HINT);
                let (_, bytes) = gorules::make_bucket_array(b, MAP_INT_INT_BUCKET_BYTES, true);
                self.heap(g, l(0).slot(HMAP_BUCKETS), bytes, 0, Cause::MakeMap)?;
                if b >= 4 {
                    self.map_extra(g, b)?;
                }
            }
            Situation::MakeChan => {
                // make(chan int, 8): hchan and buffer in one noscan block;
                // make(chan struct{}): hchan alone.
                self.heap(g, l(0), HCHAN_BYTES + CHAN_INT_CAP * WORD, 0, Cause::MakeChan)?;
                self.heap(g, l(1), HCHAN_BYTES, 0, Cause::MakeChan)?;
            }
            Situation::MakeChanPtr => {
                // c := make(chan *T, 4); c <- new(T); <-c
                self.heap(g, l(0), HCHAN_BYTES, HCHAN_SLOTS, Cause::MakeChan)?;
                let buf = l(0).slot(HCHAN_BUF);
                self.heap(g, buf.clone(), u64::from(CHAN_PTR_CAP) * WORD, CHAN_PTR_CAP, Cause::MakeChan)?;
                self.auto(g, l(1), T_BYTES, T_SLOTS, Cause::New, true)?;
                self.b.set(g, buf.clone().slot(0), l(1).into())?;
                self.b.set(g, l(2), buf.clone().slot(0).into())?;
                self.b.set(g, buf.slot(0), NIL)?;
            }
            Situation::SliceLiteral => {
                // []*T{p, q}
                self.auto(g, l(0), 2 * WORD, 2, Cause::Literal, esc)?;
                self.auto(g, l(0).slot(0), T_BYTES, T_SLOTS, Cause::New, esc)?;
                self.auto(g, l(0).slot(1), T_BYTES, T_SLOTS, Cause::New, esc)?;
            }
            Situation::MapLiteral => {
                self.auto(g, l(0), gorules::HMAP_BYTES, HMAP_SLOTS, Cause::Literal, esc)?;
                let bucket = l(0).slot(HMAP_BUCKETS);
                if esc {
                    self.heap(g, bucket, MAP_STRING_INT_BUCKET_BYTES, MAP_STRING_INT_BUCKET_SLOTS, Cause::Literal)?;
                } else {
                    let (size, slots) = (MAP_STRING_INT_BUCKET_BYTES, MAP_STRING_INT_BUCKET_SLOTS);
                    self.auto(g, bucket, size, slots, Cause::Literal, false)?;
                }
            }
            Situation::Var => {
                // var x T; use(&x)
                self.auto(g, l(0), T_BYTES, T_SLOTS, Cause::Var, esc)?;
            }
            Situation::VarLarge => {
                self.auto(g, l(0), STACK_VAR_BYTES, 0, Cause::Var, esc)?;
                if !esc {
                    // Too large for the stack even though it does not escape.
                    self.auto(g, l(1), HEAP_VAR_BYTES, 0, Cause::Var, false)?;
                }
            }
            Situation::Closure => {
                // x := 0; f := func() { x++ }: x is captured by reference.
                self.auto(g, l(1), WORD, 0, Cause::Var, esc)?;
                self.auto(g, l(0), 2 * WORD, 2, Cause::Closure, esc)?;
                self.b.set(g, l(0).slot(1), l(1).into())?;
            }
            Situation::ClosureByValue => {
                self.auto(g, l(0), 2 * WORD, 0, Cause::Closure, esc)?;
            }
            Situation::Iface => self.iface(g, esc)?,
            Situation::Concat => {
                let a = self.string_len();
                let b = self.string_len();
                if a > 0 && b > 0 {
                    self.string_result(g, a + b, TMP_BUF_BYTES, Cause::Concat, esc)?;
                }
            }
            Situation::StringToBytes => {
                let n = self.rng.random_range(0..=48u64);
                if !esc && n <= TMP_BUF_BYTES {
                    self.auto(g, l(0), TMP_BUF_BYTES, 0, Cause::Conv, false)?;
                } else if n > 0 {
                    self.heap(g, l(0), gorules::roundupsize(n), 0, Cause::Conv)?;
                }
            }
            Situation::BytesToString => {
                let n = self.rng.random_range(0..=48u64);
                if n > 1 {
                    self.string_result(g, n, TMP_BUF_BYTES, Cause::Conv, esc)?;
                }
            }
            Situation::StringToRunes => {
                let n = self.rng.random_range(0..=40u64);
                if !esc && n <= TMP_BUF_BYTES {
                    self.auto(g, l(0), TMP_RUNE_BUF_BYTES, 0, Cause::Conv, false)?;
                } else if n > 0 {
                    self.heap(g, l(0), gorules::roundupsize(4 * n), 0, Cause::Conv)?;
                }
            }
            Situation::RunesToString => {
                let runes = self.rng.random_range(0..=12u64);
                let bytes: u64 = (0..runes).map(|_| self.rng.random_range(1..=3u64)).sum();
                self.string_result(g, bytes + 3, TMP_BUF_BYTES, Cause::Conv, esc)?;
            }
            Situation::Itoa => {
                let i: i64 = match self.rng.random_range(0..10u32) {
                    0..=3 => self.rng.random_range(0..100),
                    4 => self.rng.random_range(-1000..0),
                    _ => self.rng.random_range(100..10_000_000),
                };
                if let Some(n) = itoa_bytes(i) {
                    self.heap(g, l(0), n, 0, Cause::Itoa)?;
                }
            }
            Situation::RuneToString => {
                if esc {
                    self.heap(g, l(0), RUNE_STRING_BYTES, 0, Cause::Itoa)?;
                } else {
                    self.auto(g, l(0), RUNE_STRING_BYTES, 0, Cause::Itoa, false)?;
                }
            }
            Situation::AppendInts => {
                for cap in gorules::append_caps(self.cfg.append_n, WORD, false) {
                    self.heap(g, l(0), cap * WORD, 0, Cause::Append)?;
                }
            }
            Situation::AppendPtrs => self.append_ptrs(g)?,
            Situation::AppendMany => {
                let n = self.rng.random_range(1..=40u64);
                let cap = gorules::growslice_cap(0, n, WORD);
                self.heap(g, l(0), cap * WORD, 0, Cause::Append)?;
            }
            Situation::MapGrow => self.map_grow(g, esc)?,
        }
        Ok(())
    }

    /// An operand's length for `concat`: empty one time in eight, else 1 to
    /// 24 bytes (so sums fall on both sides of `tmpBuf`'s 32).
    fn string_len(&mut self) -> u64 {
        if self.chance(0.125) {
            0
        } else {
            self.rng.random_range(1..=24)
        }
    }

    /// A string result of `n` bytes built through `rawstringtmp`: the
    /// caller's stack buffer of `buf` bytes if it does not escape and fits,
    /// else `rawstring(n)` on the heap.
    fn string_result(&mut self, g: GoroutineId, n: u64, buf: u64, cause: Cause, esc: bool) -> Result<(), BuildError> {
        if !esc && n <= buf {
            self.auto(g, l(0), buf, 0, cause, false)
        } else {
            self.heap(g, l(0), n, 0, cause)
        }
    }

    /// `var i any = v` for one kind of `v`, chosen by the seed.
    fn iface(&mut self, g: GoroutineId, esc: bool) -> Result<(), BuildError> {
        match self.rng.random_range(0..8u32) {
            // An int: convT64, or staticuint64s below 256.
            0 | 1 => {
                let v: u64 =
                    if self.chance(0.5) { self.rng.random_range(0..256) } else { self.rng.random_range(256..1 << 20) };
                if !esc {
                    self.auto(g, l(0), WORD, 0, Cause::Iface, false)?;
                } else if v >= 256 {
                    self.heap(g, l(0), WORD, 0, Cause::Iface)?;
                }
            }
            // A string: convTstring, nothing for "".
            2 => {
                let empty = self.chance(0.25);
                if !esc {
                    self.auto(g, l(0), 2 * WORD, 1, Cause::Iface, false)?;
                } else if !empty {
                    self.heap(g, l(0), 2 * WORD, 1, Cause::Iface)?;
                }
            }
            // A slice literal: its array, and convTslice's box pointing to it.
            3 => {
                if esc {
                    self.heap(g, l(0), 3 * WORD, 1, Cause::Iface)?;
                } else {
                    self.auto(g, l(0), 3 * WORD, 1, Cause::Iface, false)?;
                }
                self.auto(g, l(0).slot(0), 3 * WORD, 0, Cause::Literal, esc)?;
            }
            // A struct{ x, y int }: convTnoptr.
            4 => {
                if esc {
                    self.heap(g, l(0), 2 * WORD, 0, Cause::Iface)?;
                } else {
                    self.auto(g, l(0), 2 * WORD, 0, Cause::Iface, false)?;
                }
            }
            // A bool or a byte (staticuint64s), a zero-size value (zerobase),
            // a constant (read-only data): no allocation.
            _ => {}
        }
        Ok(())
    }

    /// `h.extra = new(mapextra); h.extra.nextOverflow = &buckets[2^b]`.
    fn map_extra(&mut self, g: GoroutineId, b: u8) -> Result<(), BuildError> {
        self.heap(g, l(0).slot(HMAP_EXTRA), MAPEXTRA_BYTES, MAPEXTRA_SLOTS, Cause::Other)?;
        self.next_overflow(g, b)
    }

    /// `h.extra.nextOverflow` = the first preallocated overflow bucket of
    /// the current array: an interior pointer `2^b` buckets in.
    fn next_overflow(&mut self, g: GoroutineId, b: u8) -> Result<(), BuildError> {
        let first_overflow = ((1u64 << b) * MAP_INT_INT_BUCKET_BYTES / WORD) as u32;
        self.b.set(
            g,
            l(0).slot(HMAP_EXTRA).slot(MAPEXTRA_NEXT_OVERFLOW),
            interior(l(0).slot(HMAP_BUCKETS), first_overflow),
        )
    }

    /// `m := make(map[int]int); for i := 1; i <= n; i++ { m[i] = i }`.
    fn map_grow(&mut self, g: GoroutineId, esc: bool) -> Result<(), BuildError> {
        let n = self.cfg.map_inserts;
        self.auto(g, l(0), gorules::HMAP_BYTES, HMAP_SLOTS, Cause::MakeMap, esc)?;
        let buckets = l(0).slot(HMAP_BUCKETS);
        let old = l(0).slot(HMAP_OLDBUCKETS);
        if !esc {
            self.auto(g, buckets.clone(), MAP_INT_INT_BUCKET_BYTES, 0, Cause::MakeMap, false)?;
        } else if n > 0 {
            self.heap(g, buckets.clone(), MAP_INT_INT_BUCKET_BYTES, 0, Cause::MakeMap)?;
        }
        let mut extra = false;
        for grow in gorules::map_growths(0, n, MAP_INT_INT_BUCKET_BYTES, true) {
            // hashGrow: oldbuckets = buckets; buckets = makeBucketArray(B+1).
            self.b.set(g, old.clone(), buckets.clone().into())?;
            self.heap(g, buckets.clone(), grow.bytes, 0, Cause::MapGrow)?;
            if grow.has_overflow {
                if extra {
                    self.next_overflow(g, grow.b)?;
                } else {
                    self.map_extra(g, grow.b)?;
                    extra = true;
                }
            }
            if grow.evacuated_by <= n {
                // growWork has evacuated every old bucket: oldbuckets = nil.
                self.b.set(g, old.clone(), NIL)?;
            }
        }
        Ok(())
    }

    /// `p := new(T); var s []*T; for i := 0; i < n; i++ { s = append(s, p) }`.
    fn append_ptrs(&mut self, g: GoroutineId) -> Result<(), BuildError> {
        let n = self.cfg.append_ptrs;
        if n == 0 {
            return Ok(());
        }
        // Appended values escape: growslice's array is on the heap.
        self.auto(g, l(2), T_BYTES, T_SLOTS, Cause::New, true)?;
        let mut cap = 0;
        for len in 0..n {
            if len == cap {
                cap = gorules::growslice_cap_typed(cap, len + 1, WORD, true);
                self.heap(g, l(1), cap * WORD, cap as u32, Cause::Append)?;
                // memmove of the old elements: pointer stores into the new array.
                for k in 0..len as u32 {
                    self.b.set(g, l(1).slot(k), l(0).slot(k).into())?;
                }
                self.b.set(g, l(0), l(1).into())?;
                self.b.set(g, l(1), NIL)?;
            }
            self.b.set(g, l(0).slot(len as u32), l(2).into())?;
        }
        Ok(())
    }
}

/// The bytes `strconv.Itoa(i)` allocates: none for 0–99 (`small`, from the
/// `smallsString` table), else the digits and the sign (`formatBits` ends
/// with `string(a[i:])`, which escapes through the return).
fn itoa_bytes(i: i64) -> Option<u64> {
    if (0..100).contains(&i) {
        return None;
    }
    let digits = i.unsigned_abs().checked_ilog10().map_or(1, |d| u64::from(d) + 1);
    Some(digits + u64::from(i < 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyze;
    use crate::builder::MemorySink;
    use crate::model::{Op, Trace};
    use std::collections::{HashMap, HashSet};

    fn params(seed: u64, set: &[(&str, &str)]) -> Params {
        let mut p = Params::defaults(PARAMS, seed);
        for (k, v) in set {
            p.set(PARAMS, k, v).unwrap();
        }
        p
    }

    fn build(p: &Params) -> (Trace, Vec<Expected>) {
        let mut sink = MemorySink::new();
        let log = Gen::new(Config::from_params(p), &mut sink, true).unwrap().run().unwrap();
        (sink.into_trace(), log)
    }

    fn generate_trace(p: &Params) -> Trace {
        let mut sink = MemorySink::new();
        generate(p, &mut sink).unwrap();
        sink.into_trace()
    }

    /// The `alloc` events by block: (size, slots, cause).
    fn allocs(t: &Trace) -> HashMap<BlockIdx, (u64, u32, Cause)> {
        t.events
            .iter()
            .filter_map(|e| match &e.op {
                Op::Alloc { block, size, ptr_slots, cause, .. } => Some((*block, (*size, *ptr_slots, *cause))),
                _ => None,
            })
            .collect()
    }

    /// The trace passes the analysis and every block lands where Go puts it.
    fn check_placements(p: &Params) -> Trace {
        let (t, log) = build(p);
        crate::generate::check::check(&t).unwrap();
        let a = analyze(&t).unwrap_or_else(|e| panic!("{e}"));
        let place = a.placements(false);
        assert_eq!(log.len(), place.len(), "every block is logged");
        for e in &log {
            assert_eq!(
                place[e.block.0 as usize],
                e.place,
                "{:?} (escaping run: {}) block {}: {:?}",
                e.situation,
                e.escaping,
                e.block.0,
                a.blocks[e.block.0 as usize].heap_reason()
            );
        }
        t
    }

    #[test]
    fn same_params_and_seed_give_the_same_trace() {
        let p = params(7, &[("rounds", "20"), ("goroutine_rounds", "5")]);
        let a = generate_trace(&p);
        assert_eq!(a, generate_trace(&p));
        assert_ne!(a.events, generate_trace(&params(8, &[("rounds", "20"), ("goroutine_rounds", "5")])).events);
        // The logging run writes the very same trace.
        assert_eq!(a, build(&p).0);
    }

    #[test]
    fn default_trace_is_sound_has_every_cause_and_places_as_go() {
        let t = check_placements(&Params::defaults(PARAMS, 1));
        let causes: HashSet<Cause> = allocs(&t).values().map(|v| v.2).collect();
        for c in Cause::ALL {
            assert!(causes.contains(&c), "cause {} missing", c.name());
        }
        let gcs = t.events.iter().filter(|e| e.op == Op::Gc).count();
        assert_eq!(gcs, 200 / 50 + 1);
        let goroutines: HashSet<u32> = t.events.iter().map(|e| e.g.0).collect();
        assert_eq!(goroutines.len(), 5);
    }

    #[test]
    fn small_and_large_parameters_are_sound() {
        check_placements(&params(2, &[("rounds", "1"), ("goroutines", "0")]));
        check_placements(&params(
            3,
            &[("rounds", "1"), ("goroutine_rounds", "0"), ("work_ns", "0"), ("gc_every", "0")],
        ));
        check_placements(&params(
            4,
            &[
                ("rounds", "300"),
                ("goroutines", "12"),
                ("goroutine_rounds", "40"),
                ("append_n", "20000"),
                ("append_ptrs", "600"),
                ("map_inserts", "100000"),
            ],
        ));
    }

    #[test]
    fn escaping_runs_go_to_the_heap_and_the_others_stay_on_the_stack() {
        let p = params(5, &[("rounds", "3"), ("goroutines", "1"), ("goroutine_rounds", "2")]);
        let (t, log) = build(&p);
        let place = analyze(&t).unwrap().placements(false).to_vec();
        let first = |s: Situation, escaping: bool| {
            log.iter()
                .filter(|e| e.situation == Some(s) && e.escaping == escaping)
                .map(|e| place[e.block.0 as usize])
                .collect::<Vec<_>>()
        };
        for s in [Situation::New, Situation::Var, Situation::SliceLiteral, Situation::Closure, Situation::MakeSlice] {
            let (local, escaping) = (first(s, false), first(s, true));
            assert!(!local.is_empty() && local.iter().all(|&p| p == Place::Stack), "{}: {local:?}", s.name());
            assert!(!escaping.is_empty() && escaping.iter().all(|&p| p == Place::Heap), "{}: {escaping:?}", s.name());
        }
        // The map of make_map: hmap and bucket on the stack when local.
        assert!(first(Situation::MakeMap, false).iter().all(|&p| p == Place::Stack));
        // Go's fixed heap cases, escaping or not.
        for s in [Situation::MakeChan, Situation::MakeSliceLarge, Situation::AppendInts, Situation::Itoa] {
            assert!(first(s, false).iter().all(|&p| p == Place::Heap), "{}", s.name());
        }
        // var_large: 100 KiB fits a variable's 128 KiB, 160 KiB does not.
        let vl: Vec<(u64, Place)> = log
            .iter()
            .filter(|e| e.situation == Some(Situation::VarLarge) && !e.escaping)
            .map(|e| (allocs(&t)[&e.block].0, place[e.block.0 as usize]))
            .collect();
        assert!(vl.contains(&(STACK_VAR_BYTES, Place::Stack)) && vl.contains(&(HEAP_VAR_BYTES, Place::Heap)));
    }

    #[test]
    fn appending_2000_ints_allocates_go_s_capacities() {
        let p = params(6, &[("rounds", "1"), ("goroutines", "0")]);
        let (t, log) = build(&p);
        let by_block = allocs(&t);
        for escaping in [false, true] {
            let sizes: Vec<u64> = log
                .iter()
                .filter(|e| e.situation == Some(Situation::AppendInts) && e.escaping == escaping)
                .map(|e| {
                    let (size, slots, cause) = by_block[&e.block];
                    assert_eq!((slots, cause), (0, Cause::Append));
                    size
                })
                .collect();
            let caps = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 848, 1280, 1792, 2560];
            assert_eq!(sizes, caps.map(|c| c * 8));
        }
    }

    #[test]
    fn inserting_100000_keys_allocates_go_s_bucket_arrays() {
        let p = params(6, &[("rounds", "1"), ("goroutines", "0"), ("map_inserts", "100000")]);
        let (t, log) = build(&p);
        let by_block = allocs(&t);
        let grows: Vec<u64> = log
            .iter()
            .filter(|e| e.situation == Some(Situation::MapGrow) && !e.escaping)
            .filter(|e| by_block[&e.block].2 == Cause::MapGrow)
            .map(|e| by_block[&e.block].0)
            .collect();
        assert_eq!(grows, gorules::map_grow_sizes(100_000));
        assert_eq!(grows.len(), 14);
    }

    #[test]
    fn itoa_allocates_from_100_on() {
        assert_eq!(itoa_bytes(0), None);
        assert_eq!(itoa_bytes(99), None);
        assert_eq!(itoa_bytes(100), Some(3));
        assert_eq!(itoa_bytes(1000), Some(4));
        assert_eq!(itoa_bytes(-5), Some(2));
        assert_eq!(itoa_bytes(i64::MIN), Some(20));
    }
}
