//! `server`: a Go HTTP server — many goroutines serving requests that each
//! allocate a burst of short-lived blocks, next to a shared long-lived cache.
//!
//! The Go program it models:
//!
//! ```go
//! type Entry struct{ key string; val []byte }          // 48 bytes, 2 pointer slots
//! var cache [4][]*Entry                                // G0..G3: cache_entries slots in all
//!
//! func main() {
//!     for i := range cacheEntries { cache[i%4][i/4] = &Entry{key: k + s, val: make([]byte, n)} }
//!     for i := 0; i < goroutines; i++ {
//!         c := &conn{rbuf: make([]byte, 4096)}         // escapes: handed to the goroutine
//!         go c.serve()
//!     }
//! }
//! func (c *conn) serve() { for i := 0; i < requests; i++ { c.handle() } }
//! func (c *conn) handle() {                            // one `begin req` .. `end req` span
//!     r := &Request{}; c.cur = r                       // the request escapes through the conn
//!     r.Header = make(map[string]any)                  // hmap + bucket array
//!     r.Header[a+b] = any(n)                           // concat key, boxed value (iface)
//!     r.URL = string(buf[i:j])                         // conv
//!     tmp := string(buf[k:l])                          // conv, never escapes: stays on the stack
//!     body := make([]byte, n); if rand { r.Body = body }  // escapes only when kept
//!     r.Form[x] = strconv.Itoa(n)                      // itoa
//!     done := func() { ... r ... }                     // closure capturing r
//!     work()
//!     if e := cache.get(key); e != nil {               // hit (hit_rate)
//!         r.Resp = e.val
//!     } else {                                         // miss: a new entry evicts an old one
//!         e = &Entry{key: a + b, val: make([]byte, n)}; cache.put(key, e); r.Resp = e.val
//!     }
//!     work()
//!     c.cur = nil
//! }
//! ```
//!
//! The GC question: request latency under a high rate of short-lived
//! allocation. Nearly everything a request allocates dies when it returns
//! (escape analysis keeps the temporaries that never escape on the stack;
//! the rest are heap blocks reachable only from the goroutine's `conn`
//! until the handler clears it), so the weak generational hypothesis holds
//! strongly, while a long-lived cache reachable from globals is the live set
//! every full cycle marks. Misses replace cache entries, so old-generation
//! garbage and fresh pointers stored into old arrays accumulate at
//! `1 - hit_rate` per request. The spans let the harness measure how pauses,
//! assists and barriers stretch request latency (p99, p99.9) on 64
//! concurrent goroutines.
//!
//! Every cache slot is filled before the servers start and only ever
//! overwritten with a new entry, so a hit can always read its entry; the
//! blocks of one request live in the handler's frame and the request struct,
//! so the generator makes each goroutine's request a few events at a time,
//! as they are written ([`Request`]), and interleaves the goroutines' events
//! in short runs. Its memory is a few events and two counters per
//! goroutine, not `goroutines × allocs_per_request` planned events.

use super::common::jitter;
use super::params::{ParamSpec, Params};
use crate::builder::{gl, l, BuildError, Builder, EventSink, NIL};
use crate::model::{BlockIdx, Cause, GoroutineId, Loc, Op, Placement, Src, WORD_BYTES};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// One line of `gcwb workloads`.
pub const SUMMARY: &str =
    "web server: 64 goroutines x 200 requests, ~12 short-lived allocations per request, a shared 4096-entry cache";

/// The parameters `--set` accepts.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("goroutines", 64, 1, 100_000, "server goroutines (one connection each)"),
    ParamSpec::int("requests", 200, 0, 100_000_000, "requests each goroutine serves"),
    ParamSpec::int("allocs_per_request", 12, 3, 10_000, "short-lived blocks a request allocates (cache misses add 3)"),
    ParamSpec::int("work_ns", 2000, 0, 1_000_000_000, "mean computation per request, ns, in two `work` events"),
    ParamSpec::int("cache_entries", 4096, 1, 100_000_000, "entries of the shared cache"),
    ParamSpec::real("hit_rate", 0.9, 0.0, 1.0, "share of requests served from the cache"),
];

/// The span tag of a request.
const TAG: &str = "req";
/// The cache is split into this many arrays (shards), one global each.
const SHARDS: u64 = 4;
/// A cache entry: key and value.
const ENTRY_BYTES: u64 = 48;
const ENTRY_SLOTS: u32 = 2;
/// Cache keys: log2 of their size range in bytes (16 B .. 64 B).
const KEY_LOG2: (f64, f64) = (4.0, 6.0);
/// Cache values: 64 B .. 4 KiB, log-uniform.
const VALUE_LOG2: (f64, f64) = (6.0, 12.0);
/// A connection: slot 0 the current request, slot 1 its read buffer.
const CONN_BYTES: u64 = 64;
const CONN_SLOTS: u32 = 2;
const CONN_CUR: u32 = 0;
const READ_BUFFER_BYTES: u64 = 4096;
/// The request struct: 8 pointer fields and 192 bytes of other fields.
const REQ_BYTES: u64 = 256;
const REQ_SLOTS: u32 = 8;
const REQ_URL: u32 = 0;
const REQ_HEADER: u32 = 1;
const REQ_BODY: u32 = 2;
const REQ_RESP: u32 = 3;
/// Slots 4..8 hold small strings and the closure.
const REQ_MISC: u32 = 4;
/// Go's `hmap` (48 bytes; slot 0 its buckets) and one bucket of a
/// `map[string]any`: 8 tophash bytes, 8 keys and 8 values of 16 bytes, an
/// overflow pointer. Slots 0..8 stand for the keys, 8..16 for the values.
const HMAP_BYTES: u64 = 48;
const BUCKET_BYTES: u64 = 272;
const BUCKET_SLOTS: u32 = 16;
const BUCKET_KEYS: u32 = 8;
/// A boxed small value (`any(n)`).
const IFACE_BYTES: u64 = 8;
/// A closure capturing the request (code pointer, `r`).
const CLOSURE_BYTES: u64 = 16;
/// Request strings: 16 B .. 256 B; bodies 256 B .. 8 KiB (log2 ranges).
const STRING_LOG2: (f64, f64) = (4.0, 8.0);
const BODY_LOG2: (f64, f64) = (8.0, 13.0);
/// The handler's frame: its pointer locals and 128 bytes of other locals.
const HANDLER_LOCALS: u32 = 5;
const HANDLER_FRAME_BYTES: u64 = 16 + 8 * HANDLER_LOCALS as u64 + 128;
/// Handler locals: the conn (its argument), the request, the cache entry,
/// and two temporaries.
const L_CONN: u32 = 0;
const L_REQ: u32 = 1;
/// Only cache entries (and their key and value) are allocated into this
/// local: the tests tell them from per-request blocks by it.
const L_ENTRY: u32 = 2;
const L_TMP: u32 = 3;
const L_BODY: u32 = 4;
/// A goroutine emits 1 to this many events before the next one's turn.
const MAX_RUN: u32 = 8;

/// One server goroutine: the requests it has left, the one it is serving,
/// and the next few events of that one.
struct Server {
    g: GoroutineId,
    left: u64,
    request: Option<Request>,
    /// Made but not written yet: one step of the request (at most ten events).
    next: VecDeque<Op>,
}

/// How far a goroutine is in its current request: the blocks allocated so
/// far and the header entries set. The request's events are made one step
/// at a time ([`Server::next_op`]), drawing from the generator's random
/// numbers in the order a whole request would.
struct Request {
    made: u64,
    header: u32,
}

impl Server {
    /// The goroutine's next event, or `None` when it has served every request.
    fn next_op(&mut self, p: &Params, rng: &mut ChaCha8Rng, shards: u64) -> Option<Op> {
        let allocs = p.get_u64("allocs_per_request");
        loop {
            if let Some(op) = self.next.pop_front() {
                return Some(op);
            }
            match &mut self.request {
                None => {
                    if self.left == 0 {
                        return None;
                    }
                    self.left -= 1;
                    self.request = Some(start_request(&mut self.next));
                }
                Some(r) if r.made < allocs => request_step(r, allocs, rng, &mut self.next),
                Some(_) => {
                    finish_request(p, rng, shards, &mut self.next);
                    self.request = None;
                }
            }
        }
    }
}

/// Writes the `server` trace for `p` to `sink`.
pub fn generate(p: &Params, sink: &mut dyn EventSink) -> Result<(), BuildError> {
    let goroutines = p.get_u64("goroutines");
    let requests = p.get_u64("requests");
    let entries = p.get_u64("cache_entries");
    let shards = SHARDS.min(entries);
    let per_shard = entries.div_ceil(shards);
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let mut b = Builder::new(sink, shards as u32)?;
    let main = b.main();

    // Warm the cache: every slot holds an entry before the servers start.
    b.call(main, 1, &[])?;
    for s in 0..shards as u32 {
        b.alloc(main, gl(s), per_shard * WORD_BYTES, per_shard as u32, Cause::MakeSlice, Placement::Auto)?;
    }
    for i in 0..entries {
        let e = cache_slot(i, shards);
        b.alloc(main, e.clone(), ENTRY_BYTES, ENTRY_SLOTS, Cause::New, Placement::Auto)?;
        b.alloc(main, e.clone().slot(0), log_size(&mut rng, KEY_LOG2), 0, Cause::Concat, Placement::Auto)?;
        b.alloc(main, e.slot(1), log_size(&mut rng, VALUE_LOG2), 0, Cause::MakeSlice, Placement::Auto)?;
    }
    // The accept loop: one conn per goroutine, handed over by `go`.
    let mut servers = Vec::with_capacity(goroutines as usize);
    for _ in 0..goroutines {
        b.alloc(main, l(0), CONN_BYTES, CONN_SLOTS, Cause::New, Placement::Auto)?;
        b.alloc(main, l(0).slot(1), READ_BUFFER_BYTES, 0, Cause::MakeSlice, Placement::Auto)?;
        let g = b.go(main, 1, &[l(0).into()])?;
        servers.push(Server { g, left: requests, request: None, next: VecDeque::new() });
    }
    b.set(main, l(0), NIL)?;

    let mut turn = 0;
    while !servers.is_empty() {
        turn %= servers.len();
        let sv = &mut servers[turn];
        let mut exited = false;
        for _ in 0..rng.random_range(1..=MAX_RUN) {
            let Some(op) = sv.next_op(p, &mut rng, shards) else {
                b.exit(sv.g)?;
                exited = true;
                break;
            };
            emit(&mut b, sv.g, op)?;
        }
        if exited {
            servers.remove(turn);
        } else {
            turn += 1;
        }
    }
    b.finish()?;
    Ok(())
}

fn req() -> Loc {
    l(L_REQ)
}

/// `r.Header`'s bucket array.
fn bucket() -> Loc {
    l(L_REQ).slot(REQ_HEADER).slot(0)
}

fn alloc(dst: Loc, size: u64, slots: u32, cause: Cause) -> Op {
    Op::Alloc { dst, block: BlockIdx(0), size, ptr_slots: slots, cause, placement: Placement::Auto }
}

fn set(dst: Loc, src: Src) -> Op {
    Op::Set { dst, src }
}

/// Appends a request's first events (the span, the handler's frame, the
/// request and its header map: three blocks) to `plan`.
fn start_request(plan: &mut VecDeque<Op>) -> Request {
    plan.push_back(Op::Begin { tag: TAG.into() });
    plan.push_back(Op::Call {
        locals: HANDLER_LOCALS,
        frame_bytes: Some(HANDLER_FRAME_BYTES),
        args: smallvec::smallvec![l(L_CONN).into()],
    });
    // r := &Request{}; c.cur = r; r.Header = make(map[string]any)
    plan.push_back(alloc(req(), REQ_BYTES, REQ_SLOTS, Cause::New));
    plan.push_back(set(l(L_CONN).slot(CONN_CUR), req().into()));
    plan.push_back(alloc(req().slot(REQ_HEADER), HMAP_BYTES, 1, Cause::MakeMap));
    plan.push_back(alloc(bucket(), BUCKET_BYTES, BUCKET_SLOTS, Cause::MakeMap));
    Request { made: 3, header: 0 }
}

/// Appends one step of the request's body (one or two blocks, and the
/// stores that keep them) to `plan`; `r.made < allocs`.
fn request_step(r: &mut Request, allocs: u64, rng: &mut ChaCha8Rng, plan: &mut VecDeque<Op>) {
    r.made += 1;
    match rng.random_range(0..8u32) {
        0..=2 => {
            // r.Header[a+b] = any(n)
            let k = r.header % BUCKET_KEYS;
            r.header += 1;
            plan.push_back(alloc(bucket().slot(k), log_size(rng, STRING_LOG2), 0, Cause::Concat));
            if r.made < allocs {
                r.made += 1;
                plan.push_back(alloc(bucket().slot(BUCKET_KEYS + k), IFACE_BYTES, 0, Cause::Iface));
            }
        }
        3 => plan.push_back(alloc(req().slot(REQ_URL), log_size(rng, STRING_LOG2), 0, Cause::Conv)),
        4 => plan.push_back(alloc(l(L_TMP), log_size(rng, STRING_LOG2), 0, Cause::Conv)),
        5 => {
            plan.push_back(alloc(l(L_BODY), log_size(rng, BODY_LOG2), 0, Cause::MakeSlice));
            if rng.random_bool(0.5) {
                plan.push_back(set(req().slot(REQ_BODY), l(L_BODY).into()));
            }
        }
        6 => {
            let f = REQ_MISC + rng.random_range(0..REQ_SLOTS - REQ_MISC);
            plan.push_back(alloc(req().slot(f), log_size(rng, STRING_LOG2), 0, Cause::Itoa));
        }
        _ => {
            // done := func() { ... r ... }, kept in r now and then.
            plan.push_back(alloc(l(L_TMP), CLOSURE_BYTES, 2, Cause::Closure));
            plan.push_back(set(l(L_TMP).slot(1), req().into()));
            if rng.random_bool(0.25) {
                plan.push_back(set(req().slot(REQ_SLOTS - 1), l(L_TMP).into()));
            }
        }
    }
}

/// Appends a request's last events (work, the cache lookup, the response,
/// the return and the span's end) to `plan`.
fn finish_request(p: &Params, rng: &mut ChaCha8Rng, shards: u64, plan: &mut VecDeque<Op>) {
    let work_ns = p.get_u64("work_ns");
    let entries = p.get_u64("cache_entries");
    if let Some(ns) = jitter(rng, work_ns / 2) {
        plan.push_back(Op::Work { ns });
    }
    let slot = cache_slot(rng.random_range(0..entries), shards);
    let e = || l(L_ENTRY);
    if rng.random_bool(p.get("hit_rate")) {
        plan.push_back(set(e(), slot.into()));
    } else {
        plan.push_back(alloc(e(), ENTRY_BYTES, ENTRY_SLOTS, Cause::New));
        plan.push_back(alloc(e().slot(0), log_size(rng, KEY_LOG2), 0, Cause::Concat));
        plan.push_back(alloc(e().slot(1), log_size(rng, VALUE_LOG2), 0, Cause::MakeSlice));
        plan.push_back(set(slot, e().into()));
    }
    plan.push_back(set(req().slot(REQ_RESP), e().slot(1).into()));
    if let Some(ns) = jitter(rng, work_ns - work_ns / 2) {
        plan.push_back(Op::Work { ns });
    }
    plan.push_back(set(l(L_CONN).slot(CONN_CUR), NIL));
    plan.push_back(Op::Ret { copy: None });
    plan.push_back(Op::End { tag: TAG.into() });
}

/// Writes one planned event of `g` through the builder.
fn emit<S: EventSink>(b: &mut Builder<S>, g: GoroutineId, op: Op) -> Result<(), BuildError> {
    match op {
        Op::Call { locals, frame_bytes: Some(bytes), args } => b.call_sized(g, locals, bytes, &args),
        Op::Call { locals, frame_bytes: None, args } => b.call(g, locals, &args),
        Op::Ret { copy: None } => b.ret(g),
        Op::Ret { copy: Some((src, dst)) } => b.ret_copy(g, src, dst),
        Op::Alloc { dst, size, ptr_slots, cause, placement, .. } => {
            b.alloc(g, dst, size, ptr_slots, cause, placement).map(|_| ())
        }
        Op::Set { dst, src } => b.set(g, dst, src),
        Op::Work { ns } => b.work(g, ns),
        Op::Begin { tag } => b.begin(g, &tag),
        Op::End { tag } => b.end(g, &tag),
        Op::Exit => b.exit(g),
        Op::Gc => b.gc(g),
        Op::Go { .. } => unreachable!("requests start no goroutines"),
    }
}

/// Cache entry `i`: `cache[i%shards][i/shards]`.
fn cache_slot(i: u64, shards: u64) -> Loc {
    gl((i % shards) as u32).slot((i / shards) as u32)
}

/// A size in bytes, log-uniform in `2^lo ..= 2^hi`.
fn log_size(rng: &mut ChaCha8Rng, (lo, hi): (f64, f64)) -> u64 {
    rng.random_range(lo..=hi).exp2().round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyze, oracle::death_times, Place};
    use crate::model::{Root, Trace};
    use std::collections::HashMap;

    fn params(seed: u64, sets: &[(&str, &str)]) -> Params {
        crate::generate::common::params(PARAMS, seed, sets)
    }

    fn build(p: &Params) -> Trace {
        crate::generate::common::build(generate, p)
    }

    #[test]
    fn same_seed_same_trace_other_seed_other_trace() {
        let small = [("goroutines", "8"), ("requests", "20"), ("cache_entries", "64")];
        let a = build(&params(7, &small));
        assert_eq!(a, build(&params(7, &small)));
        assert_ne!(a.events, build(&params(8, &small)).events);
    }

    #[test]
    fn sound_at_default_small_and_large_parameters() {
        let cases: &[&[(&str, &str)]] = &[
            &[],
            &[
                ("goroutines", "1"),
                ("requests", "3"),
                ("allocs_per_request", "3"),
                ("work_ns", "0"),
                ("cache_entries", "1"),
                ("hit_rate", "0"),
            ],
            &[("goroutines", "2"), ("requests", "0")],
            &[
                ("goroutines", "400"),
                ("requests", "25"),
                ("allocs_per_request", "40"),
                ("cache_entries", "100000"),
                ("hit_rate", "0.5"),
            ],
        ];
        for sets in cases {
            let t = build(&params(3, sets));
            analyze(&t).unwrap_or_else(|e| panic!("{sets:?}: {e}"));
            if sets.is_empty() {
                continue; // the independent re-simulation too, on the others
            }
            crate::generate::check::check(&t).unwrap_or_else(|e| panic!("{sets:?}: {e}"));
        }
    }

    #[test]
    fn every_request_ends_and_its_blocks_die_within_it() {
        let (goroutines, requests) = (6, 40);
        let t =
            build(&params(5, &[("goroutines", "6"), ("requests", "40"), ("cache_entries", "50"), ("hit_rate", "0.5")]));
        let a = analyze(&t).unwrap();
        let places = a.placements(false);
        let d = death_times(&a, places);
        // Per goroutine: the open request's begin and the blocks it made.
        let mut open: HashMap<GoroutineId, (usize, Vec<BlockIdx>)> = HashMap::new();
        let (mut ends, mut checked, mut on_heap, mut entries) = (0, 0, 0, 0);
        for (i, e) in t.events.iter().enumerate() {
            match &e.op {
                Op::Begin { tag } => {
                    assert_eq!(tag, TAG);
                    assert!(open.insert(e.g, (i, Vec::new())).is_none(), "nested request on {}", e.g);
                }
                Op::Alloc { dst, block, .. } => {
                    if let Some((_, blocks)) = open.get_mut(&e.g) {
                        if dst.root == Root::Local(L_ENTRY) {
                            entries += 1;
                        } else {
                            blocks.push(*block);
                        }
                    }
                }
                Op::End { .. } => {
                    let (begin, blocks) = open.remove(&e.g).expect("end without begin");
                    ends += 1;
                    for b in blocks {
                        let died = d.death[b.0 as usize].expect("a request's block outlives the trace");
                        assert!(
                            begin < died as usize && (died as usize) < i,
                            "{b:?} dies at {died}, outside {begin}..{i}"
                        );
                        checked += 1;
                        on_heap += usize::from(places[b.0 as usize] == Place::Heap);
                    }
                }
                Op::Exit => assert!(!open.contains_key(&e.g), "{} exits inside a request", e.g),
                _ => {}
            }
        }
        assert!(open.is_empty(), "requests left open");
        assert_eq!(ends, goroutines * requests);
        assert_eq!(checked, ends * 12, "allocs_per_request blocks per request");
        // Escape analysis decides: most escape through the conn, some stay on the stack.
        assert!(on_heap * 2 > checked && on_heap < checked, "{on_heap} of {checked} on the heap");
        // Misses (about half) add an entry each, three blocks.
        assert!(entries > ends && entries < 3 * ends, "{entries} cache blocks");
        let switches = t.events.windows(2).filter(|w| w[0].g != w[1].g).count();
        assert!(switches > t.events.len() / 10, "goroutines interleave: {switches} switches");
    }
}
