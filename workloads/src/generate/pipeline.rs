//! `pipeline`: goroutines connected by buffered channels — every message is
//! allocated by one goroutine and dies in another.
//!
//! The Go program it models:
//!
//! ```go
//! type Msg struct {                          // 48 bytes, 2 pointer slots
//!     data []byte                            // slot 0: the payload
//!     key  string                            // slot 1
//!     seq  int
//! }
//!
//! func main() {
//!     chans := make([]chan *Msg, stages-1)   // each: an hchan and a separate buffer of `buffer` pointers
//!     go source(chans[0]); go stage(chans[0], chans[1]); ...; go sink(chans[stages-2])
//! }
//! func source(out chan<- *Msg) {
//!     for i := 0; i < messages; i++ {
//!         m := &Msg{data: make([]byte, messageBytes), key: strconv.Itoa(i)}
//!         work(); out <- m
//!     }
//! }
//! func stage(in <-chan *Msg, out chan<- *Msg) {
//!     for m := range in {
//!         work()
//!         d := &Msg{key: m.key}
//!         if rand() < 1/2 { d.data = m.data } else { d.data = make([]byte, messageBytes) }  // keep or transform
//!         out <- d                           // m is dropped
//!     }
//! }
//! func sink(in <-chan *Msg) { for m := range in { work(); _ = m } }
//! ```
//!
//! A send stores the message into the next buffer slot of the channel, a
//! receive reads the slot and sets it to nil (as Go's `chanrecv` clears the
//! slot it took), so each hand-off is a dependency between two goroutines
//! through one shared heap slot, and a parallel replay runs the stages as a
//! real pipeline. A stage blocks as Go's would: it receives only from a
//! non-empty channel and sends only into a channel with a free slot.
//!
//! The GC question: producer/consumer lifetimes across goroutines. Every
//! object is allocated in one goroutine (one P's allocation cache) and dies
//! in the next, after a short life that spans a hand-off: a thread-local or
//! per-goroutine heap must promote it to a shared one, the channel buffers'
//! slots take a write barrier on every send and receive, and payloads that
//! stages pass on unchanged live across several stages.

use super::common::work;
use super::params::{ParamSpec, Params};
use crate::builder::{l, BuildError, Builder, EventSink, NIL};
use crate::model::{Cause, GoroutineId, Placement, Src, WORD_BYTES};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One line of `gcwb workloads`.
pub const SUMMARY: &str =
    "producer/consumer: 4 goroutines hand 100k messages down buffered channels; objects die in another goroutine";

/// The parameters `--set` accepts.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("stages", 4, 2, 1024, "goroutines in the pipeline: a source, stages-2 transformers, a sink"),
    ParamSpec::int("messages", 100_000, 0, 1_000_000_000, "messages the source sends"),
    ParamSpec::int("buffer", 64, 1, 1 << 20, "buffer slots of each channel"),
    ParamSpec::int("message_bytes", 256, 1, 1 << 24, "payload bytes of a message"),
    ParamSpec::int("work_ns", 1000, 0, 1_000_000_000, "mean computation per message and stage, ns (0: none)"),
];

/// Go's `hchan` header: 96 bytes; one pointer slot stands for its buffer.
const CHAN_BYTES: u64 = 96;
/// A message header (see the module comment).
const MSG_BYTES: u64 = 48;
const MSG_SLOTS: u32 = 2;
const DATA: u32 = 0;
const KEY: u32 = 1;
/// `strconv.Itoa` of a sequence number.
const KEY_BYTES: u64 = 8;
/// One derived message in this many gets a new payload; the rest share the
/// input's.
const NEW_PAYLOAD_ODDS: u32 = 2;
/// A stage takes 1 to this many steps before the next stage's turn.
const MAX_RUN: u32 = 4;

/// A stage goroutine's locals.
const IN: u32 = 0;
const OUT: u32 = 1;
/// The message received (the source: the message made).
const CUR: u32 = 2;
/// The derived message waiting to be sent.
const NEXT: u32 = 3;
const STAGE_LOCALS: u32 = 4;

/// What the generator knows of a channel: the ring position of the oldest
/// buffered message and how many there are.
#[derive(Clone, Copy, Default)]
struct Chan {
    head: u64,
    len: u64,
}

/// A stage: its goroutine, its channels (indices into the channel list),
/// whether it holds a message it has not sent yet, and messages finished.
struct Stage {
    g: GoroutineId,
    input: Option<usize>,
    output: Option<usize>,
    holding: bool,
    done: u64,
}

impl Stage {
    /// The next step the stage can take now, if any.
    fn next(&self, chans: &[Chan], messages: u64, buffer: u64) -> Option<Step> {
        if self.holding {
            let out = self.output.expect("only stages with an output hold messages");
            return (chans[out].len < buffer).then_some(Step::Send);
        }
        if self.done == messages {
            return Some(Step::Exit);
        }
        match self.input {
            None => Some(Step::Make),
            Some(i) => (chans[i].len > 0).then_some(Step::Receive),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Step {
    Make,
    Receive,
    Send,
    Exit,
}

/// Writes the `pipeline` trace for `p` to `sink`.
pub fn generate(p: &Params, sink: &mut dyn EventSink) -> Result<(), BuildError> {
    let stages = p.get_u64("stages") as usize;
    let messages = p.get_u64("messages");
    let buffer = p.get_u64("buffer");
    let payload = p.get_u64("message_bytes");
    let work_ns = p.get_u64("work_ns");
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let mut b = Builder::new(sink, 0)?;
    let main = b.main();

    // func main: the channels in main's locals, then the stages.
    let nchans = stages - 1;
    b.call(main, nchans as u32, &[])?;
    for c in 0..nchans as u32 {
        b.alloc(main, l(c), CHAN_BYTES, 1, Cause::MakeChan, Placement::Auto)?;
        b.alloc(main, l(c).slot(0), buffer * WORD_BYTES, buffer as u32, Cause::MakeChan, Placement::Auto)?;
    }
    let mut chans = vec![Chan::default(); nchans];
    let mut live = Vec::with_capacity(stages);
    for s in 0..stages {
        let input = s.checked_sub(1);
        let output = (s < nchans).then_some(s);
        let arg = |c: Option<usize>| c.map_or(NIL, |c| Src::from(l(c as u32)));
        let g = b.go(main, STAGE_LOCALS, &[arg(input), arg(output)])?;
        live.push(Stage { g, input, output, holding: false, done: 0 });
    }
    for c in 0..nchans as u32 {
        b.set(main, l(c), NIL)?;
    }

    let mut turn = 0;
    while !live.is_empty() {
        turn %= live.len();
        let mut exited = false;
        for _ in 0..rng.random_range(1..=MAX_RUN) {
            let st = &mut live[turn];
            let Some(step) = st.next(&chans, messages, buffer) else {
                break;
            };
            let g = st.g;
            match step {
                Step::Exit => {
                    b.exit(g)?;
                    exited = true;
                    break;
                }
                Step::Make => {
                    b.alloc(g, l(CUR), MSG_BYTES, MSG_SLOTS, Cause::New, Placement::Auto)?;
                    b.alloc(g, l(CUR).slot(DATA), payload, 0, Cause::MakeSlice, Placement::Auto)?;
                    b.alloc(g, l(CUR).slot(KEY), KEY_BYTES, 0, Cause::Itoa, Placement::Auto)?;
                    work(&mut b, &mut rng, g, work_ns)?;
                    st.holding = true;
                }
                Step::Receive => {
                    let ch = &mut chans[st.input.expect("receivers have an input")];
                    let slot = ch.head as u32;
                    ch.head = (ch.head + 1) % buffer;
                    ch.len -= 1;
                    // m := <-in
                    b.set(g, l(CUR), l(IN).slot(0).slot(slot).into())?;
                    b.set(g, l(IN).slot(0).slot(slot), NIL)?;
                    work(&mut b, &mut rng, g, work_ns)?;
                    if st.output.is_some() {
                        b.alloc(g, l(NEXT), MSG_BYTES, MSG_SLOTS, Cause::New, Placement::Auto)?;
                        b.set(g, l(NEXT).slot(KEY), l(CUR).slot(KEY).into())?;
                        if rng.random_ratio(1, NEW_PAYLOAD_ODDS) {
                            b.alloc(g, l(NEXT).slot(DATA), payload, 0, Cause::MakeSlice, Placement::Auto)?;
                        } else {
                            b.set(g, l(NEXT).slot(DATA), l(CUR).slot(DATA).into())?;
                        }
                        st.holding = true;
                    } else {
                        st.done += 1;
                    }
                    b.set(g, l(CUR), NIL)?;
                }
                Step::Send => {
                    let ch = &mut chans[st.output.expect("senders have an output")];
                    let slot = ((ch.head + ch.len) % buffer) as u32;
                    ch.len += 1;
                    let msg = if st.input.is_none() { CUR } else { NEXT };
                    // out <- m
                    b.set(g, l(OUT).slot(0).slot(slot), l(msg).into())?;
                    b.set(g, l(msg), NIL)?;
                    st.holding = false;
                    st.done += 1;
                }
            }
        }
        if exited {
            live.remove(turn);
        } else {
            turn += 1;
        }
    }
    b.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyze, oracle::death_times, Place};
    use crate::model::{Op, Trace};

    fn params(seed: u64, sets: &[(&str, &str)]) -> Params {
        crate::generate::common::params(PARAMS, seed, sets)
    }

    fn build(p: &Params) -> Trace {
        crate::generate::common::build(generate, p)
    }

    #[test]
    fn same_seed_same_trace_other_seed_other_trace() {
        let small = [("messages", "2000")];
        let a = build(&params(7, &small));
        assert_eq!(a, build(&params(7, &small)));
        assert_ne!(a.events, build(&params(8, &small)).events);
    }

    #[test]
    fn sound_at_default_small_and_large_parameters() {
        let cases: &[&[(&str, &str)]] = &[
            &[],
            &[("stages", "2"), ("messages", "5"), ("buffer", "1"), ("message_bytes", "1"), ("work_ns", "0")],
            &[("stages", "2"), ("messages", "0")],
            &[("stages", "40"), ("messages", "4000"), ("buffer", "3"), ("message_bytes", "100000")],
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
    fn messages_cross_goroutines() {
        let stages = 5;
        let t = build(&params(5, &[("stages", "5"), ("messages", "3000"), ("buffer", "8")]));
        let a = analyze(&t).unwrap();
        let places = a.placements(false);
        let d = death_times(&a, places);
        // Dense goroutine index -> stage (main is none).
        let stage_of = |dense: u32| (a.goroutines[dense as usize].id.0 as usize).checked_sub(2);
        // Stage s+1 waits for stage s (a receive after the send into the same
        // slot) and stage s for stage s+1 (a send into a slot the receiver cleared).
        let mut waits = vec![vec![0u32; stages]; stages];
        for (i, deps) in a.deps_by_event().iter().enumerate() {
            let Some(me) = stage_of(a.goroutine_of(i)) else {
                continue;
            };
            for dep in deps {
                assert_ne!(dep.goroutine, a.goroutine_of(i));
                if let Some(other) = stage_of(dep.goroutine) {
                    waits[me][other] += 1;
                }
            }
        }
        for s in 0..stages - 1 {
            assert!(waits[s + 1][s] > 1000, "stage {} waits for stage {s} {} times", s + 1, waits[s + 1][s]);
            assert!(waits[s][s + 1] > 0, "stage {s} never waits for a free slot");
        }
        // Every message header is allocated by one stage and dies in the next.
        let mut headers = 0;
        for (bi, info) in a.blocks.iter().enumerate() {
            if info.cause != Cause::New {
                continue;
            }
            headers += 1;
            assert_eq!(places[bi], Place::Heap, "a sent message escapes");
            let from = stage_of(a.goroutine_of(info.alloc_event as usize)).unwrap();
            let died = d.death[bi].expect("every message is dropped");
            assert_eq!(stage_of(a.goroutine_of(died as usize)), Some(from + 1));
        }
        assert_eq!(headers, 3000 * (stages - 1));
        assert_eq!(t.events.iter().filter(|e| e.op == Op::Exit).count(), stages);
    }
}
