//! A JVM's unified GC log (`-Xlog:gc...`): the parser, and the pauses it
//! tells.
//!
//! Since JDK 9 HotSpot writes its GC log through unified logging (JEP 158,
//! "Unified JVM Logging"; JEP 271, "Unified GC Logging", which put the
//! collectors' messages on it under tags such as `gc`, `gc,start`,
//! `gc,phases`, `gc,heap`). Every line is one message after its
//! decorations, each in brackets; the default decorations (`-Xlog:gc`,
//! `-Xlog:gc:file=gc.log`) are `uptime,level,tags`:
//!
//! ```text
//! [0.234s][info][gc] GC(3) Pause Young (Normal) (G1 Evacuation Pause) 24M->4M(256M) 3.456ms
//! ```
//!
//! `GC(3)` is the collection's id (the `gc` column here); a concurrent cycle
//! and the pauses in it share one id, so ids are not in line order (G1 logs
//! young pauses with later ids between a cycle's start and its remark).
//!
//! **Decorations.** The JVM prints them in a fixed order — `time`,
//! `utctime`, `uptime`, `timemillis`, `uptimemillis`, `timenanos`,
//! `uptimenanos`, `hostname`, `pid`, `tid`, `level`, `tags` — whichever
//! `-Xlog:...:DECORATIONS` chose. The last one must be the tags: they tell
//! a pause's line (`[gc]`; ZGC's `[gc,phases]`) from the start marker
//! `-Xlog:gc*` prints before it (`[gc,start]`; ZGC's `[gc,phases,start]` at
//! debug level), which is skipped. The clock is the first of: `uptime`
//! (`[0.234s]`), `uptimemillis` (`[234ms]`), `uptimenanos`
//! (`[234000000ns]`) — time since the JVM started, like the start times of
//! a `gcwb run` — and else the wall clock, `timemillis` or `time`/`utctime`
//! (`[2024-05-06T10:00:00.123+0000]`), counted from the first line of the
//! GC log. With both `timemillis` and `uptimemillis` the second `ms` value
//! is the uptime; a lone `ms` value is the uptime below 10^12 (31 years)
//! and `timemillis` above; a lone `ns` value is taken for `uptimenanos`
//! (`timenanos` alone counts from an arbitrary origin, usually the
//! machine's boot). Other decorations (level, pid, tid, hostname) are
//! ignored.
//!
//! **Pauses.** The line of a pause is printed as it ends, with its
//! duration (`ms`, also `us`/`µs`, `ns` and `s`): its start is the line's
//! time less the duration, to the clock's resolution (a millisecond for
//! `uptime`). Each gives one pause, its phase named after the pause:
//!
//! | collector | pause line (after `GC(N) `) | phase |
//! |---|---|---|
//! | Serial, Parallel | `Pause Young (Allocation Failure) 33M->3M(123M) 4.123ms` | `young` |
//! | G1 | `Pause Young (Normal)`, `(Concurrent Start)`, `(Prepare Mixed)` `(G1 Evacuation Pause) ...` | `young` |
//! | G1 | `Pause Young (Mixed) (G1 Evacuation Pause) ...` | `mixed` |
//! | G1 | `Pause Remark ...`, `Pause Cleanup ...` | `remark`, `cleanup` |
//! | Serial, Parallel, G1, Shenandoah | `Pause Full (System.gc()) 10M->2M(64M) 12.345ms` | `full` |
//! | ZGC (`gc,phases`) | `Pause Mark Start 0.012ms`, `Pause Mark End`, `Pause Relocate Start` | `mark-start`, `mark-end`, `relocate-start` |
//! | generational ZGC (JDK 21+) | `y: Pause Mark Start` (minor), `Y: Pause Mark Start (Major)`, `O: Pause Mark End`, ... | `young-mark-start`, ..., `old-mark-end`, `old-relocate-start` |
//! | Shenandoah | `Pause Init Mark (unload classes) 0.123ms`, `Pause Final Mark`, `Pause Init Update Refs`, `Pause Final Update Refs` | `init-mark`, `final-mark`, `init-update-refs`, `final-update-refs` |
//! | Shenandoah | `Pause Degenerated GC (Mark) 10M->5M(64M) 12.3ms` | `degenerated` |
//! | any other | `Pause Some Kind (...) ...` | `some-kind` |
//!
//! — lower-case and hyphenated, like the `sweep-term` and `mark-term` of a
//! Go import. The cause of a young, mixed or full collection (the
//! parenthesis after G1's young kind, else the first) is the pause's
//! `trigger`: `explicit` for `System.gc()`, as for Go's forced cycles, the
//! cause hyphenated otherwise (`allocation-failure`,
//! `g1-evacuation-pause`, `ergonomics`); ZGC's pauses take their cycle's
//! cause from its `[gc] GC(N) Garbage Collection (Warmup) ...` (or `Major
//! Collection`/`Minor Collection`) line. Heap transitions `24M->4M(256M)`
//! (B/K/M/G) on pause lines, and ZGC's `64M(100%)->26M(41%)` and
//! Shenandoah's `Concurrent cleanup 16M->4M(64M)` on other `[gc]` lines,
//! give the heap's peak and after a full collection its live heap
//! ([`imported`]).
//!
//! Not pauses: concurrent phases (skipped, but their times and heap
//! transitions give the collection's `cycles.csv` row, see
//! [`imported`]) and the per-phase details of `gc,phases`. ZGC's
//! `[gc] Allocation Stall (main) 12.679ms` and `Relocation Stall (main)
//! 1.593ms` lines (`ZStatCriticalPhase::register_end`, zStat.cpp: name,
//! thread, duration, logged when the thread resumes) are one thread waiting
//! for memory, not a stopped world: they are thread stalls
//! ([`JvmStall`]), like gcwb's mark assists. Shenandoah's pacing shows
//! only under `-Xlog:gc+stats`, as each thread's total since the last
//! report (`ShenandoahPacer::print_cycle_on`: `Allocation pacing accrued:`,
//! then `     29 of    56 ms ( 51.4%): main` per thread): those totals
//! are read too ([`JvmPacing`]); its `Pause Degenerated GC` is a
//! stop-the-world pause (above). The time to safepoint
//! (`-Xlog:safepoint`) is not read: `ttsp_ns` stays empty.
//!
//! **Errors.** Lines that are not the GC log's — the program's own output
//! on a shared stream, other tags — are skipped. A line that starts like a
//! pause line (decorations ending in a `gc` tag set, then `GC(N) Pause`)
//! or a stall line (`[gc] Allocation Stall (`) but does not parse is an
//! error naming its line and what was expected, since a pause or stall
//! silently dropped would bias the statistics; so is a second
//! `Using ...` line (the logs of two runs). A log without a single pause is
//! an error too ([`imported`]): ZGC's plain `-Xlog:gc` prints only
//! `GC(0) Garbage Collection (Warmup) 10M(5%)->8M(4%)`, without its pauses.

use super::LogError;
use crate::metrics::PauseRecord;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::BufRead;
use std::sync::Mutex;

/// A heap transition, in bytes: occupancy before and after a collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heap {
    pub before: u64,
    pub after: u64,
    /// The heap's capacity after it (`(256M)`), when printed.
    pub capacity: Option<u64>,
}

/// One pause, as its line tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JvmPause {
    /// The line of the log (1-based).
    pub line: usize,
    /// The collection's id, `GC(N)`.
    pub gc: u64,
    /// The phase name (see the module's table).
    pub phase: &'static str,
    /// The cause printed on the line, as a trigger name (`explicit`,
    /// `allocation-failure`, ...).
    pub trigger: Option<&'static str>,
    /// When the line was logged — the pause's end — on the log's clock.
    pub end_ns: u64,
    pub duration_ns: u64,
    pub heap: Option<Heap>,
}

/// The collector a log names in its `[gc] Using ...` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JvmCollector {
    /// What follows `Using ` (`G1`, `The Z Garbage Collector`).
    pub name: String,
    /// gcwb's label for it (`jvm-g1`, `jvm-zgc`).
    pub label: &'static str,
    pub line: usize,
}

/// A mutator thread's stall, as its line tells it (ZGC's `Allocation Stall
/// (main) 12.679ms`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JvmStall {
    pub line: usize,
    /// `allocation-stall` or `relocation-stall`.
    pub kind: &'static str,
    pub thread: String,
    /// When the line was logged — the stall's end.
    pub end_ns: u64,
    pub duration_ns: u64,
}

/// One thread's line of a Shenandoah pacing report: `paced_ns` of its time
/// spent paced in the `window_ns` before the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JvmPacing {
    pub line: usize,
    pub thread: String,
    pub end_ns: u64,
    pub window_ns: u64,
    pub paced_ns: u64,
}

/// What the log shows of one collection (one `GC(N)` id): the first and
/// last moment of its lines, its first and last heap transition, a cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CycleSpan {
    pub start_ns: u64,
    pub end_ns: u64,
    pub first_heap: Option<HeapAt>,
    pub last_heap: Option<HeapAt>,
    pub trigger: Option<&'static str>,
}

/// A heap transition of a collection, and the line that printed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeapAt {
    pub heap: Heap,
    /// The line's span: a pause's, or the time a line ending in a duration
    /// covers (else just its time).
    pub start_ns: u64,
    pub end_ns: u64,
    /// The cycle's summary line (ZGC's `Garbage Collection (...)
    /// 64M(100%)->6M(9%)`: the heap at mark start and at relocation end).
    pub whole_cycle: bool,
}

/// A parsed log: its pauses in order, and what else it held.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JvmLog {
    pub pauses: Vec<JvmPause>,
    /// Mutator threads' stalls (ZGC), in order.
    pub stalls: Vec<JvmStall>,
    /// Threads' lines of Shenandoah's pacing reports (`-Xlog:gc+stats`).
    pub pacing: Vec<JvmPacing>,
    /// Each collection's lines, by id.
    pub cycle_spans: BTreeMap<u64, CycleSpan>,
    /// The time of the last line with one.
    pub last_ns: u64,
    pub collector: Option<JvmCollector>,
    /// Pause start markers skipped (`[gc,start] GC(3) Pause Young ...`).
    pub start_lines: usize,
    /// Other lines of the GC log (concurrent phases, heap details, ...).
    pub gc_lines: usize,
    /// Lines that are not the GC log's (the program's output, other tags).
    pub other_lines: usize,
    /// Lines that look like a pause's (`GC(N) Pause` somewhere) but are not
    /// in unified logging's format — text before the decorations, or no
    /// tags decoration — and the first of them.
    pub stray_pause_lines: usize,
    pub first_stray_line: Option<usize>,
    /// Causes of whole cycles by id, as trigger names (ZGC's
    /// `GC(3) Garbage Collection (Warmup) ...`).
    pub cycle_causes: HashMap<u64, &'static str>,
    /// The largest heap occupancy of any heap transition on a `[gc]` line.
    pub peak_heap: Option<u64>,
    /// `[gc,init] CPUs: 2 total, 2 available` (`-Xlog:gc*`): available.
    pub cpus: Option<u64>,
}

impl JvmLog {
    /// Every line of the log.
    pub fn lines(&self) -> usize {
        self.pauses.len() + self.stalls.len() + self.start_lines + self.gc_lines + self.other_lines
    }
}

/// A pause line's format, for error messages.
pub const FORMAT: &str =
    "[<uptime>][<level>][gc] GC(<id>) Pause <Kind> [(<detail>)...] [<before>-><after>(<capacity>)] <duration>";

/// The collectors a `[gc] Using ...` line names, and their labels.
const COLLECTORS: [(&str, &str); 7] = [
    ("Serial", "jvm-serial"),
    ("Parallel", "jvm-parallel"),
    ("G1", "jvm-g1"),
    ("The Z Garbage Collector", "jvm-zgc"),
    ("Shenandoah", "jvm-shenandoah"),
    ("Concurrent Mark Sweep", "jvm-cms"),
    ("Epsilon", "jvm-epsilon"),
];

/// G1's kinds of young pause (`Pause Young (Normal) (G1 Evacuation Pause)`):
/// the first parenthesis, before the cause.
const G1_YOUNG_KINDS: [&str; 4] = ["Normal", "Concurrent Start", "Prepare Mixed", "Mixed"];

/// The pauses whose parenthesis is the collection's cause.
const CAUSED: [&str; 4] = ["Young", "Full", "Mixed", "Initial Mark"];

/// Parses the log in `input`: every pause line, in order. Bytes that are not
/// UTF-8 are fine on other lines.
pub fn parse_log(input: impl BufRead) -> Result<JvmLog, LogError> {
    let mut p = Parser::default();
    super::for_each_line(input, |line, text| p.line(line, text))?;
    Ok(p.log)
}

#[derive(Default)]
struct Parser {
    log: JvmLog,
    /// The first wall-clock time of the GC log, when it has no uptime.
    wall_origin: Option<u64>,
    /// Inside a pacing report (after `Allocation pacing accrued:`).
    in_pacing_report: bool,
}

impl Parser {
    fn line(&mut self, line: usize, text: &str) -> Result<(), LogError> {
        let Some((decorations, msg)) = split_decorations(text) else {
            self.other(line, text, true);
            return Ok(());
        };
        let tags = tags(decorations[decorations.len() - 1]);
        if tags.first() != Some(&"gc") {
            // Another tag set's line is no stray pause line; one without
            // tags may be.
            self.other(line, text, tags.is_empty());
            return Ok(());
        }
        let clock = self.clock(&decorations[..decorations.len() - 1]);
        if let Some(t) = clock {
            self.log.last_ns = self.log.last_ns.max(t);
        }
        let in_pacing_report = std::mem::take(&mut self.in_pacing_report);
        if looks_like_pause(msg) {
            if tags.contains(&"start") {
                self.log.start_lines += 1;
                if let (Some((gc, _)), Some(t)) = (gc_id(msg), clock) {
                    self.cycle_span(gc, t, t);
                }
                return Ok(());
            }
            let end_ns = clock.ok_or_else(|| no_clock(line, &decorations))?;
            let mut pause = parse_pause(msg).map_err(|msg| LogError { line, msg })?;
            pause.line = line;
            pause.end_ns = end_ns;
            let start_ns = end_ns.saturating_sub(pause.duration_ns);
            self.cycle_span(pause.gc, start_ns, end_ns);
            if let Some(heap) = pause.heap {
                self.heap(heap);
                self.cycle_heap(pause.gc, HeapAt { heap, start_ns, end_ns, whole_cycle: false });
            }
            let span = self.log.cycle_spans.get_mut(&pause.gc).expect("just added");
            span.trigger = span.trigger.or(pause.trigger);
            self.log.pauses.push(pause);
            return Ok(());
        }
        if tags[..] == ["gc"] {
            if let Some(stall) = parse_stall(msg) {
                let (kind, thread, duration_ns) = stall.map_err(|msg| LogError { line, msg })?;
                let end_ns = clock.ok_or_else(|| no_clock(line, &decorations))?;
                let thread = thread.to_string();
                self.log.stalls.push(JvmStall { line, kind, thread, end_ns, duration_ns });
                return Ok(());
            }
        }
        self.log.gc_lines += 1;
        // Every line of a collection tells when it ran: its time, less the
        // duration it ends with (`Concurrent Mark 5.413ms`).
        let mut span = None;
        if let (Some((gc, rest)), Some(t)) = (gc_id(msg), clock) {
            let took = rest.rsplit(' ').next().and_then(parse_duration).unwrap_or(0);
            span = Some((t.saturating_sub(took), t));
            self.cycle_span(gc, t.saturating_sub(took), t);
        }
        match tags[..] {
            ["gc"] => {
                if let Some(name) = msg.strip_prefix("Using ") {
                    return self.using(line, name);
                }
                if let Some((gc, rest)) = gc_id(msg) {
                    self.cycle_line(gc, rest, span);
                }
            }
            ["gc", "init"] => {
                if let Some(cpus) = msg.strip_prefix("CPUs: ").and_then(available_cpus) {
                    self.log.cpus = Some(cpus);
                }
            }
            ["gc", "stats"] => {
                let msg = msg.trim();
                if msg == "Allocation pacing accrued:" {
                    self.in_pacing_report = true;
                } else if in_pacing_report {
                    if let (Some((paced_ns, window_ns, thread)), Some(end_ns)) = (parse_pacing(msg), clock) {
                        // `<total>`, `<average total>`, ...: sums, not threads.
                        if !(thread.starts_with('<') && thread.ends_with('>')) && paced_ns > 0 {
                            let thread = thread.to_string();
                            self.log.pacing.push(JvmPacing { line, thread, end_ns, window_ns, paced_ns });
                        }
                        self.in_pacing_report = true;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Widens collection `gc`'s span to `[start_ns, end_ns]`.
    fn cycle_span(&mut self, gc: u64, start_ns: u64, end_ns: u64) {
        let span = self.log.cycle_spans.entry(gc).or_insert(CycleSpan {
            start_ns,
            end_ns,
            first_heap: None,
            last_heap: None,
            trigger: None,
        });
        span.start_ns = span.start_ns.min(start_ns);
        span.end_ns = span.end_ns.max(end_ns);
    }

    /// A heap transition of collection `gc` (whose span exists).
    fn cycle_heap(&mut self, gc: u64, h: HeapAt) {
        if let Some(span) = self.log.cycle_spans.get_mut(&gc) {
            span.first_heap.get_or_insert(h);
            span.last_heap = Some(h);
        }
    }

    /// A line that is not the GC log's; noted when it `may_be_stray` and
    /// looks like a pause's.
    fn other(&mut self, line: usize, text: &str, may_be_stray: bool) {
        self.log.other_lines += 1;
        if may_be_stray && text.contains("GC(") && text.contains(") Pause ") {
            self.log.stray_pause_lines += 1;
            self.log.first_stray_line.get_or_insert(line);
        }
    }

    /// The line's time on the log's clock (see the module doc), if a
    /// decoration tells it.
    fn clock(&mut self, decorations: &[&str]) -> Option<u64> {
        match stamp(decorations)? {
            Stamp::Uptime(ns) => Some(ns),
            Stamp::Wall(ns) => Some(ns.saturating_sub(*self.wall_origin.get_or_insert(ns))),
        }
    }

    fn heap(&mut self, h: Heap) {
        let peak = h.before.max(h.after);
        self.log.peak_heap = Some(self.log.peak_heap.map_or(peak, |p| p.max(peak)));
    }

    /// `[gc] Using G1`: the collector, once.
    fn using(&mut self, line: usize, name: &str) -> Result<(), LogError> {
        let Some(&(_, label)) = COLLECTORS.iter().find(|(n, _)| *n == name) else { return Ok(()) };
        if let Some(first) = &self.log.collector {
            return Err(LogError {
                line,
                msg: format!(
                    "a second `Using {name}` (the first, `Using {}`, is at line {}): is this the log of more than \
                     one run?",
                    first.name, first.line
                ),
            });
        }
        self.log.collector = Some(JvmCollector { name: name.to_string(), label, line });
        Ok(())
    }

    /// Another `[gc] GC(N) ...` line, logged over `span`: a ZGC cycle's
    /// cause, heap transitions.
    fn cycle_line(&mut self, gc: u64, rest: &str, span: Option<(u64, u64)>) {
        let mut whole_cycle = false;
        for kind in ["Garbage Collection (", "Major Collection (", "Minor Collection ("] {
            if let Some((cause, _)) = rest.strip_prefix(kind).and_then(close_paren) {
                whole_cycle = true;
                if let Some(t) = trigger_name(cause) {
                    self.log.cycle_causes.entry(gc).or_insert(t);
                }
            }
        }
        for heap in rest.split(' ').filter(|t| t.contains("->")).filter_map(parse_heap) {
            self.heap(heap);
            if let Some((start_ns, end_ns)) = span {
                self.cycle_heap(gc, HeapAt { heap, start_ns, end_ns, whole_cycle });
            }
        }
    }
}

/// The error for a pause or stall line without a time decoration.
fn no_clock(line: usize, decorations: &[&str]) -> LogError {
    LogError {
        line,
        msg: format!(
            "expected a time decoration before the tags (uptime `[0.234s]`, uptimemillis `[234ms]`, \
             uptimenanos `[234000000ns]`, time or timemillis), found `{}`: log with \
             -Xlog:gc:<output>:uptime,level,tags",
            decorations.iter().map(|d| format!("[{d}]")).collect::<String>()
        ),
    }
}

/// ZGC's stalls of a mutator thread, by the name it logs them under
/// (`ZStatCriticalPhase`s of zPageAllocator.cpp and zRelocate.cpp), and
/// their kind.
const STALLS: [(&str, &str); 2] = [("Allocation Stall", "allocation-stall"), ("Relocation Stall", "relocation-stall")];

/// A stall line's message (ZGC: `ZStatCriticalPhase::register_end` logs
/// `"%s (%s) %.3fms"` — name, thread, duration — at `Info, gc`, without a
/// `GC(N)`, when the thread resumes): its kind, thread and duration. `None`
/// when the message is not a stall's; an error when it starts like one
/// (`Allocation Stall (`) but does not parse, since a stall dropped would
/// hide a thread's wait.
fn parse_stall(msg: &str) -> Option<Result<(&'static str, &str, u64), String>> {
    let (name, kind) = STALLS.iter().find(|(name, _)| msg.strip_prefix(name).is_some_and(|r| r.starts_with(" (")))?;
    let r = &msg[name.len() + 2..];
    let Some((thread, duration)) = r.trim_end().rsplit_once(") ") else {
        return Some(Err(format!(
            "expected `{name} (<thread>) <duration>` (like `{name} (main) 12.679ms`), found `{msg}`"
        )));
    };
    match parse_duration(duration) {
        Some(ns) => Some(Ok((kind, thread, ns))),
        None => Some(Err(format!(
            "expected the stall's duration at the end of the line (like `12.679ms`), found `{duration}`"
        ))),
    }
}

/// A thread's line of a Shenandoah pacing report (`ShenandoahPacer::
/// print_cycle_on`: `"%5.0f of %5.0f ms (%5.1f%%): %s"`, paced and elapsed
/// milliseconds, the share, the thread), trimmed: (paced ns, elapsed ns,
/// thread).
fn parse_pacing(msg: &str) -> Option<(u64, u64, &str)> {
    let (paced, r) = msg.split_once(" of ")?;
    let (window, r) = r.trim_start().split_once(" ms (")?;
    let (_, thread) = r.split_once("%): ")?;
    Some((decimal_ns(paced.trim(), 1_000_000)?, decimal_ns(window.trim(), 1_000_000)?, thread))
}

/// The bracketed decorations at the start of `text` and the message after
/// them, or `None` when the line does not start with one.
fn split_decorations(text: &str) -> Option<(Vec<&str>, &str)> {
    let mut rest = text;
    let mut decorations = Vec::new();
    while let Some(r) = rest.strip_prefix('[') {
        let end = r.find(']')?;
        decorations.push(&r[..end]);
        rest = &r[end + 1..];
    }
    if decorations.is_empty() {
        return None;
    }
    Some((decorations, rest.strip_prefix(' ').unwrap_or(rest)))
}

/// The tags of a tags decoration (`gc,phases   `), or none when it is not
/// one: a tag is a lower-case name (letters, digits, `_`) starting with a
/// letter, and a lone level (`info`) is the level decoration.
fn tags(decoration: &str) -> Vec<&str> {
    let tags: Vec<&str> = decoration.trim_end().split(',').collect();
    let is_tag = |t: &&str| {
        t.starts_with(|c: char| c.is_ascii_lowercase())
            && t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    let level = matches!(tags[..], ["trace" | "debug" | "info" | "warning" | "error"]);
    if !level && tags.iter().all(is_tag) {
        tags
    } else {
        Vec::new()
    }
}

/// Does the message start like a pause's: `GC(`, up to `)`, a space, maybe a
/// generation (`y: `), `Pause`?
fn looks_like_pause(msg: &str) -> bool {
    let Some(r) = msg.strip_prefix("GC(") else { return false };
    let Some((_, r)) = r.split_once(')') else { return false };
    let Some(r) = r.strip_prefix(' ') else { return false };
    let r = match r.split_once(": ") {
        Some((g, rest)) if g.len() == 1 && g.bytes().all(|b| b.is_ascii_alphabetic()) => rest,
        _ => r,
    };
    r == "Pause" || r.starts_with("Pause ")
}

/// `GC(N) rest`: the id and the rest.
fn gc_id(msg: &str) -> Option<(u64, &str)> {
    let (id, rest) = msg.strip_prefix("GC(")?.split_once(") ")?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((id.parse().ok()?, rest))
}

/// `2 total, 2 available`: the available CPUs.
fn available_cpus(s: &str) -> Option<u64> {
    let (_, available) = s.split_once(", ")?;
    available.strip_suffix(" available")?.parse().ok()
}

/// A line's time: since the JVM started, or on the wall clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stamp {
    Uptime(u64),
    Wall(u64),
}

/// Below this a lone `[...ms]` decoration is `uptimemillis`, above it
/// `timemillis` (milliseconds since 1970; 10^12 is 2001).
const WALL_MS: u64 = 1_000_000_000_000;

/// The time the decorations (the tags left out) tell, in nanoseconds.
fn stamp(decorations: &[&str]) -> Option<Stamp> {
    let (mut secs, mut ms, mut ns, mut iso) = (None, Vec::new(), Vec::new(), None);
    for d in decorations {
        let d = d.trim();
        if let Some(v) = d.strip_suffix("ns").and_then(whole) {
            ns.push(v);
        } else if let Some(v) = d.strip_suffix("ms").and_then(whole) {
            ms.push(v);
        } else if let Some(v) = d.strip_suffix('s').and_then(|n| decimal_ns(n, 1_000_000_000)) {
            secs.get_or_insert(v);
        } else if let Some(v) = parse_iso(d) {
            iso.get_or_insert(v);
        }
    }
    if let Some(s) = secs {
        return Some(Stamp::Uptime(s));
    }
    let uptime_ms = match ms[..] {
        [_, up, ..] => Some(up),
        [v] if v < WALL_MS => Some(v),
        _ => None,
    };
    if let Some(v) = uptime_ms {
        return Some(Stamp::Uptime(v.saturating_mul(1_000_000)));
    }
    match ns[..] {
        [_, up, ..] | [up] => return Some(Stamp::Uptime(up)),
        [] => {}
    }
    if let Some(&v) = ms.first() {
        return Some(Stamp::Wall(v.saturating_mul(1_000_000)));
    }
    iso.map(Stamp::Wall)
}

/// All-digit text as a number.
fn whole(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A decimal number (`12`, `0.011`) of units of `unit_ns` nanoseconds, in
/// nanoseconds; digits below a nanosecond are dropped. `None` unless all of
/// `s` is the number, or when it does not fit.
fn decimal_ns(s: &str, unit_ns: u64) -> Option<u64> {
    let (w, frac) = s.split_once('.').map_or((s, None), |(w, f)| (w, Some(f)));
    let mut ns = whole(w)?.checked_mul(unit_ns)?;
    if let Some(f) = frac {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut place = unit_ns;
        for d in f.bytes() {
            place /= 10;
            ns = ns.checked_add(u64::from(d - b'0') * place)?;
        }
    }
    Some(ns)
}

/// The `time`/`utctime` decoration, `2024-05-06T10:00:00.123+0000`, as
/// nanoseconds since 1970 (offset applied).
fn parse_iso(d: &str) -> Option<u64> {
    let b = d.as_bytes();
    let field = |from: usize, to: usize| d.get(from..to).and_then(whole).map(|v| v as i64);
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(at(4, b'-') && at(7, b'-') && at(10, b'T') && at(13, b':') && at(16, b':') && at(19, b'.')) {
        return None;
    }
    let (year, month, day) = (field(0, 4)?, field(5, 7)?, field(8, 10)?);
    let (hour, minute, second, milli) = (field(11, 13)?, field(14, 16)?, field(17, 19)?, field(20, 23)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset_s = match d.get(23..) {
        Some("") | Some("Z") => 0,
        Some(z) if z.len() == 5 && (z.starts_with('+') || z.starts_with('-')) => {
            let (h, m) = (field(24, 26)?, field(26, 28)?);
            let s = h * 3600 + m * 60;
            if z.starts_with('-') {
                -s
            } else {
                s
            }
        }
        _ => return None,
    };
    // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
    // days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    u64::try_from(secs).ok()?.checked_mul(1_000_000_000)?.checked_add(milli as u64 * 1_000_000)
}

/// After an opening parenthesis: the text up to its closing one (nested
/// pairs kept, `System.gc()`) and what follows it.
fn close_paren(r: &str) -> Option<(&str, &str)> {
    let mut depth = 1;
    for (i, c) in r.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some((&r[..i], &r[i + 1..]));
                }
            }
            _ => {}
        }
    }
    None
}

/// A heap size, `24M` (units B, K, M, G, T of 1024), in bytes.
fn heap_size(s: &str) -> Option<u64> {
    let unit = s.chars().last()?;
    let shift = match unit {
        'B' => 0,
        'K' => 10,
        'M' => 20,
        'G' => 30,
        'T' => 40,
        _ => return None,
    };
    whole(&s[..s.len() - unit.len_utf8()])?.checked_mul(1 << shift)
}

/// A heap transition: `24M->4M(256M)`, `24M->4M`, or ZGC's
/// `64M(100%)->26M(41%)`.
fn parse_heap(s: &str) -> Option<Heap> {
    let (before, after) = s.split_once("->")?;
    let before = match before.split_once('(') {
        Some((b, pct)) if pct.ends_with("%)") => b,
        Some(_) => return None,
        None => before,
    };
    let (after, capacity) = match after.strip_suffix(')').and_then(|a| a.split_once('(')) {
        Some((a, pct)) if pct.ends_with('%') => (a, None),
        Some((a, cap)) => (a, Some(heap_size(cap)?)),
        None => (after, None),
    };
    Some(Heap { before: heap_size(before)?, after: heap_size(after)?, capacity })
}

/// A duration with its unit (`3.456ms`, `12us`, `0.005s`), in nanoseconds.
fn parse_duration(s: &str) -> Option<u64> {
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (n, unit) = s.split_at(split);
    let unit_ns = match unit {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        _ => return None,
    };
    decimal_ns(n, unit_ns)
}

/// "expected WHAT, found `...`", quoting a little of what was found.
fn expected(what: &str, found: &str) -> String {
    if found.is_empty() {
        return format!("expected {what}, found the end of the line (pause line: `{FORMAT}`)");
    }
    let shown: String = found.chars().take(32).collect();
    let more = if shown.len() < found.len() { "..." } else { "" };
    format!("expected {what}, found `{shown}{more}` (pause line: `{FORMAT}`)")
}

/// Parses a pause line's message, `GC(3) Pause Young (...) 24M->4M(256M)
/// 3.456ms` (line and time left 0). The error says what was expected.
pub fn parse_pause(msg: &str) -> Result<JvmPause, String> {
    let r = msg.strip_prefix("GC(").ok_or_else(|| expected("`GC(` and the collection's id", msg))?;
    let (id, r) = r.split_once(") ").ok_or_else(|| expected("the collection's id and `) ` (`GC(3) `)", r))?;
    let gc = whole(id).ok_or_else(|| expected("the collection's id in `GC(...)`, a number", id))?;
    let (generation, r) = match r.split_once(": ") {
        Some((g, rest)) if g.len() == 1 => match g {
            "y" | "Y" => (Some("young"), rest),
            "O" | "o" => (Some("old"), rest),
            _ => return Err(expected("a ZGC generation (`y: `, `Y: ` or `O: `) or `Pause`", r)),
        },
        _ => (None, r),
    };
    let body = r.strip_prefix("Pause").ok_or_else(|| expected("`Pause`", r))?.trim_end();
    let (head, last) = body.rsplit_once(' ').unwrap_or(("", body));
    let duration_ns = parse_duration(last)
        .ok_or_else(|| expected("the pause's duration at the end of the line (like `3.456ms`)", last))?;
    let (desc, heap) = match head.rsplit_once(' ') {
        Some((desc, h)) if h.contains("->") => {
            let heap = parse_heap(h)
                .ok_or_else(|| expected("the heap before and after the pause (like `24M->4M(256M)`)", h))?;
            (desc, Some(heap))
        }
        _ => (head, None),
    };
    let desc = desc.trim_start();
    let kind_end = desc.find('(').unwrap_or(desc.len());
    let kind = desc[..kind_end].trim_end();
    if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ') {
        return Err(expected("the pause's kind after `Pause ` (like `Young` or `Mark Start`)", desc));
    }
    let mut details = Vec::new();
    let mut rest = &desc[kind_end..];
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let (detail, after) = rest
            .strip_prefix('(')
            .and_then(close_paren)
            .ok_or_else(|| expected("`(`, a detail and `)`, or the heap and the duration", rest))?;
        details.push(detail);
        rest = after;
    }
    let base = match kind {
        "Young" if details.first() == Some(&"Mixed") => "mixed".to_string(),
        "Degenerated GC" => "degenerated".to_string(),
        k => hyphenate(k),
    };
    let phase = intern(match generation {
        Some(g) => format!("{g}-{base}"),
        None => base,
    });
    let trigger = if CAUSED.contains(&kind) {
        details
            .iter()
            .find(|d| !G1_YOUNG_KINDS.contains(d) && !d.starts_with("Evacuation Failure"))
            .and_then(|d| trigger_name(d))
    } else {
        None
    };
    Ok(JvmPause { line: 0, gc, phase, trigger, end_ns: 0, duration_ns, heap })
}

/// A cause as a trigger name: `explicit` for `System.gc()` (as gcwb and a
/// Go import name a forced collection), else lower-case and hyphenated
/// (`Allocation Failure` → `allocation-failure`); never `final`, which
/// gcwb's summaries leave out.
fn trigger_name(cause: &str) -> Option<&'static str> {
    if cause == "System.gc()" {
        return Some("explicit");
    }
    match hyphenate(cause) {
        h if h.is_empty() => None,
        h if h == "final" => Some(intern("jvm-final".to_string())),
        h => Some(intern(h)),
    }
}

/// Lower-case, each run of other characters than letters and digits one
/// `-`, none at the ends: `Mark Start` → `mark-start`.
fn hyphenate(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Phase and trigger names the JVM's collectors print, known in advance.
const KNOWN_NAMES: &[&str] = &[
    "young",
    "mixed",
    "full",
    "remark",
    "cleanup",
    "initial-mark",
    "mark-start",
    "mark-end",
    "relocate-start",
    "young-mark-start",
    "young-mark-end",
    "young-relocate-start",
    "old-mark-start",
    "old-mark-end",
    "old-relocate-start",
    "init-mark",
    "final-mark",
    "init-update-refs",
    "final-update-refs",
    "final-roots",
    "degenerated",
    "allocation-failure",
    "g1-evacuation-pause",
    "g1-humongous-allocation",
    "g1-compaction-pause",
    "g1-preventive-collection",
    "ergonomics",
    "metadata-gc-threshold",
    "gclocker-initiated-gc",
    "warmup",
    "allocation-rate",
    "allocation-stall",
    "proactive",
    "timer",
    "high-usage",
];

/// Other names met, each kept once for the life of the process.
static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

/// `name` as a `&'static str` ([`PauseRecord`]'s phase and trigger are):
/// a known name, or one met before, or `name` kept for good — a handful per
/// log.
fn intern(name: String) -> &'static str {
    if let Some(k) = KNOWN_NAMES.iter().find(|k| **k == name) {
        return k;
    }
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = names.iter().find(|n| **n == name) {
        return n;
    }
    let kept: &'static str = Box::leak(name.into_boxed_str());
    names.push(kept);
    kept
}

/// The pauses as gcwb records, in the log's order: start = the line's time
/// less the duration, trigger the line's cause or else its cycle's
/// (ZGC's). The log does not tell the time to safepoint: `ttsp_ns` is 0
/// here, and the importer writes it empty.
pub fn pauses(log: &JvmLog) -> Vec<PauseRecord> {
    log.pauses
        .iter()
        .map(|p| PauseRecord {
            gc: p.gc,
            phase: p.phase,
            trigger: p.trigger.or_else(|| log.cycle_causes.get(&p.gc).copied()),
            start_ns: p.end_ns.saturating_sub(p.duration_ns),
            duration_ns: p.duration_ns,
            ttsp_ns: 0,
            safepoints: Vec::new(),
        })
        .collect()
}

/// The collector's label: the `Using ...` line's (`jvm-g1`), `jvm-zgc-gen`
/// for generational ZGC (its pauses are a generation's, `young-...`), and
/// `jvm` when the log does not name its collector.
pub fn label(log: &JvmLog) -> &'static str {
    match &log.collector {
        Some(c) if c.label == "jvm-zgc" && log.pauses.iter().any(|p| p.phase.starts_with("young-")) => "jvm-zgc-gen",
        Some(c) => c.label,
        None => "jvm",
    }
}

/// What a parsed log gives `gcwb import` ([`super::Imported`]): the pauses
/// ([`pauses`]), the collections (`imported_cycles`), the thread stalls
/// (start = the line's time less the duration) and pacing totals, the
/// log's last time, the label ([`label`]) and the summary cells the log
/// tells:
/// `gc_count` (the collections with a pause: distinct ids),
/// `peak_heap_bytes` (the largest heap occupancy of any heap transition,
/// when one is printed), `final_live_bytes` (the heap after the last full
/// collection, when there is one: a young collection's leaves dead old
/// objects in) and `procs` (the available CPUs of `-Xlog:gc*`'s `gc,init`
/// lines). A log without a pause line is an error, with a hint at the
/// `-Xlog` option it needs.
pub fn imported(log: JvmLog) -> Result<super::Imported, String> {
    let zgc = log.collector.as_ref().is_some_and(|c| c.label == "jvm-zgc");
    if log.pauses.is_empty() {
        let hint = if zgc {
            "ZGC logs its pauses under the gc+phases tags: run the JVM with -Xlog:gc,gc+phases (or -Xlog:gc*)"
                .to_string()
        } else if let Some(first) = log.first_stray_line {
            format!(
                "{} lines (the first at line {first}) look like pause lines but not like unified logging's \
                 `[decorations][gc] GC(N) Pause ...`: keep the tags decoration (-Xlog:gc:<output>:uptime,level,tags)",
                log.stray_pause_lines
            )
        } else {
            "run the JVM with -Xlog:gc (ZGC: -Xlog:gc,gc+phases) and import that log".to_string()
        };
        return Err(format!("no GC pause lines (`[...][gc] GC(N) Pause ...`) among its {} lines: {hint}", log.lines()));
    }
    let mut warnings = Vec::new();
    if let Some(first) = log.first_stray_line {
        warnings.push(format!(
            "{} lines look like GC pause lines but are not in the log's format (the first at line {first}): \
             another write to the same stream probably mangled them; their pauses are missing",
            log.stray_pause_lines
        ));
    }
    let pauses = pauses(&log);
    let cycles = log.pauses.iter().map(|p| p.gc).collect::<HashSet<u64>>().len();
    let mut facts = vec![("gc_count", cycles.to_string())];
    if let Some(peak) = log.peak_heap {
        facts.push(("peak_heap_bytes", peak.to_string()));
    }
    if let Some(h) = log.pauses.iter().rev().find(|p| p.phase == "full").and_then(|p| p.heap) {
        facts.push(("final_live_bytes", h.after.to_string()));
    }
    if let Some(cpus) = log.cpus {
        facts.push(("procs", cpus.to_string()));
    }
    let named = match &log.collector {
        Some(c) => format!("`Using {}`, line {}", c.name, c.line),
        None => "no `Using ...` line".to_string(),
    };
    let mut held_up = String::new();
    if !log.stalls.is_empty() {
        held_up += &format!(", {} thread stalls", log.stalls.len());
    }
    if !log.pacing.is_empty() {
        held_up += &format!(", {} threads' pacing totals", log.pacing.len());
    }
    let end_ns = pauses.iter().map(|p| p.start_ns + p.duration_ns).fold(log.last_ns, u64::max);
    let mut stalls: Vec<super::ThreadStall> = log
        .stalls
        .iter()
        .map(|s| super::ThreadStall {
            kind: s.kind,
            thread: s.thread.clone(),
            start_ns: s.end_ns.saturating_sub(s.duration_ns),
            duration_ns: s.duration_ns,
        })
        .collect();
    // Logged as they end; written in the order they began.
    stalls.sort_by_key(|s| s.start_ns);
    Ok(super::Imported {
        description: format!(
            "{} pauses in {cycles} GC cycles ({named}){held_up}, {} other GC log lines and {} other lines skipped",
            pauses.len(),
            log.start_lines + log.gc_lines,
            log.other_lines
        ),
        pauses,
        facts,
        default_label: label(&log).to_string(),
        warnings,
        cycles: imported_cycles(&log),
        stalls,
        lost_totals: log
            .pacing
            .iter()
            .map(|p| crate::summary::LostTotal {
                start_ns: p.end_ns.saturating_sub(p.window_ns),
                end_ns: p.end_ns,
                lost_ns: p.paced_ns,
            })
            .collect(),
        end_ns,
        procs: log.cpus.map(|c| c as usize),
        format: "jvm-gc-log",
    })
}

/// How far from a cycle's first (last) moment a heap transition may be and
/// still tell the heap when the cycle started (ended): the `uptime`
/// decoration's resolution.
const CLOCK_SLACK_NS: u64 = 1_000_000;

/// The collections as `cycles.csv` rows, by id: from the first to the last
/// moment any of its lines shows (a line ending in a duration,
/// `Concurrent Mark 5.413ms`, began that long before it was logged), its
/// cause, and the heap where a heap transition tells it: `heap_live_before`
/// from the first transition when that is at the cycle's start (a young or
/// full collection's pause, `24M->4M(256M)`) or is the cycle's summary
/// (ZGC's `Garbage Collection (...) 64M(100%)->6M(9%)`: the heap at mark
/// start), `heap_live_after` from the last when that is at its end (or the
/// summary); a transition in the middle of a cycle (G1's `Pause Remark`,
/// Shenandoah's first `Concurrent cleanup`) tells neither. What the log
/// does not print (marked bytes, the next goal, ...) is empty.
fn imported_cycles(log: &JvmLog) -> Vec<super::ImportedCycle> {
    log.cycle_spans
        .iter()
        .map(|(&gc, span)| {
            let at_start = |h: &&HeapAt| h.whole_cycle || h.start_ns <= span.start_ns + CLOCK_SLACK_NS;
            let at_end = |h: &&HeapAt| h.whole_cycle || h.end_ns + CLOCK_SLACK_NS >= span.end_ns;
            super::ImportedCycle {
                gc,
                trigger: log.cycle_causes.get(&gc).copied().or(span.trigger),
                start_ns: span.start_ns,
                end_ns: span.end_ns,
                heap_live_before: span.first_heap.as_ref().filter(at_start).map(|h| h.heap.before),
                heap_live_after: span.last_heap.as_ref().filter(at_end).map(|h| h.heap.after),
                ..super::ImportedCycle::default()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JDK 17 G1 log (-Xlog:gc*, shortened) with the program's output
    /// mixed in: start markers, phase details, a pause of each kind, and
    /// lines that mention GC but are not the log's.
    const G1: &str = "\
[0.005s][info][gc] Using G1
[0.005s][info][gc,init] Version: 17.0.15+6-Debian-1deb12u1 (release)
[0.005s][info][gc,init] CPUs: 4 total, 2 available
hello from the program
[0.230s][info][gc,start    ] GC(3) Pause Young (Normal) (G1 Evacuation Pause)
[0.234s][info][gc,phases   ] GC(3)   Evacuate Collection Set: 2.1ms
[0.234s][info][gc          ] GC(3) Pause Young (Normal) (G1 Evacuation Pause) 24M->4M(256M) 3.456ms
GC(9) Pause Young printed by the program
[0.300s][info][gc          ] GC(4) Pause Young (Concurrent Start) (G1 Humongous Allocation) 30M->28M(256M) 2.000ms
[0.301s][info][gc          ] GC(5) Concurrent Mark Cycle
[0.310s][info][gc          ] GC(6) Pause Young (Prepare Mixed) (G1 Evacuation Pause) 40M->20M(256M) 1.5ms
[0.320s][info][gc          ] GC(5) Pause Remark 30M->30M(256M) 1.234ms
[0.330s][info][gc          ] GC(5) Pause Cleanup 30M->30M(256M) 0.100ms
[0.340s][info][gc          ] GC(7) Pause Young (Mixed) (G1 Evacuation Pause) (Evacuation Failure: Allocation) 50M->10M(256M) 4ms
[1.500s][info][gc          ] GC(8) Pause Full (System.gc()) 10M->2M(64M) 12.345ms\r
done
";

    #[test]
    fn parses_every_pause_line_and_skips_the_rest() {
        let log = parse_log(G1.as_bytes()).unwrap();
        let got: Vec<_> =
            log.pauses.iter().map(|p| (p.line, p.gc, p.phase, p.trigger, p.end_ns, p.duration_ns)).collect();
        assert_eq!(
            got,
            [
                (7, 3, "young", Some("g1-evacuation-pause"), 234_000_000, 3_456_000),
                (9, 4, "young", Some("g1-humongous-allocation"), 300_000_000, 2_000_000),
                (11, 6, "young", Some("g1-evacuation-pause"), 310_000_000, 1_500_000),
                (12, 5, "remark", None, 320_000_000, 1_234_000),
                (13, 5, "cleanup", None, 330_000_000, 100_000),
                (14, 7, "mixed", Some("g1-evacuation-pause"), 340_000_000, 4_000_000),
                (15, 8, "full", Some("explicit"), 1_500_000_000, 12_345_000),
            ]
        );
        assert_eq!(log.pauses[0].heap, Some(Heap { before: 24 << 20, after: 4 << 20, capacity: Some(256 << 20) }));
        assert_eq!(log.collector, Some(JvmCollector { name: "G1".into(), label: "jvm-g1", line: 1 }));
        assert_eq!((log.start_lines, log.gc_lines, log.other_lines), (1, 5, 3));
        assert_eq!((log.stray_pause_lines, log.first_stray_line), (1, Some(8)));
        assert_eq!(log.cpus, Some(2));
        assert_eq!(log.peak_heap, Some(50 << 20));
        assert_eq!(log.lines(), 16);
    }

    #[test]
    fn the_import_has_the_pauses_start_times_and_what_the_log_tells() {
        let imported = imported(parse_log(G1.as_bytes()).unwrap()).unwrap();
        let p = &imported.pauses[0];
        assert_eq!((p.gc, p.phase, p.start_ns, p.duration_ns), (3, "young", 234_000_000 - 3_456_000, 3_456_000));
        assert_eq!(imported.default_label, "jvm-g1");
        let fact = |c: &str| imported.facts.iter().find(|(n, _)| *n == c).map(|(_, v)| v.as_str());
        assert_eq!(fact("gc_count"), Some("6"), "ids 3, 4, 5, 6, 7, 8");
        assert_eq!(fact("peak_heap_bytes"), Some((50u64 << 20).to_string().as_str()));
        assert_eq!(fact("final_live_bytes"), Some((2u64 << 20).to_string().as_str()));
        assert_eq!(fact("procs"), Some("2"));
        assert_eq!(
            imported.description,
            "7 pauses in 6 GC cycles (`Using G1`, line 1), 6 other GC log lines and 3 other lines skipped"
        );
        assert_eq!(imported.warnings.len(), 1, "the program's `GC(9) Pause` line: {:?}", imported.warnings);
        assert!(imported.warnings[0].contains("the first at line 8"), "{:?}", imported.warnings);
    }

    #[test]
    fn every_collectors_pause_kinds_get_their_phase() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("GC(1) Pause Young (Allocation Failure) 33M->3M(123M) 4.123ms", "young", Some("allocation-failure")),
            ("GC(1) Pause Full (Ergonomics) 33M->3M(123M) 4.123ms", "full", Some("ergonomics")),
            ("GC(1) Pause Young (System.gc()) 33M->3M(123M) 4.123ms", "young", Some("explicit")),
            (
                "GC(1) Pause Initial Mark (G1 Evacuation Pause) 33M->3M(123M) 4ms",
                "initial-mark",
                Some("g1-evacuation-pause"),
            ),
            ("GC(0) Pause Mark Start 0.012ms", "mark-start", None),
            ("GC(0) Pause Mark End 0.023ms", "mark-end", None),
            ("GC(0) Pause Relocate Start 0.010ms", "relocate-start", None),
            ("GC(0) y: Pause Mark Start 0.010ms", "young-mark-start", None),
            ("GC(0) Y: Pause Mark Start (Major) 0.013ms", "young-mark-start", None),
            ("GC(0) O: Pause Relocate Start 0.003ms", "old-relocate-start", None),
            ("GC(2) Pause Init Mark (unload classes) 0.123ms", "init-mark", None),
            ("GC(2) Pause Final Mark (process weakrefs) (unload classes) 0.456ms", "final-mark", None),
            ("GC(2) Pause Init Update Refs 0.012ms", "init-update-refs", None),
            ("GC(2) Pause Final Update Refs 0.034ms", "final-update-refs", None),
            ("GC(2) Pause Final Roots 0.034ms", "final-roots", None),
            ("GC(2) Pause Degenerated GC (Mark) 10M->5M(64M) 12.3ms", "degenerated", None),
            ("GC(2) Pause Full (Allocation Failure) 63M->5M(64M) 30ms", "full", Some("allocation-failure")),
            ("GC(2) Pause Brand New Kind (Who Knows) 1ms", "brand-new-kind", None),
            ("GC(2) Pause Young (Final) 1ms", "young", Some("jvm-final")),
        ];
        for (msg, phase, trigger) in cases {
            let p = parse_pause(msg).unwrap_or_else(|e| panic!("{msg}: {e}"));
            assert_eq!((p.phase, p.trigger), (*phase, *trigger), "{msg}");
        }
        // A name met twice is kept once.
        let a = parse_pause("GC(2) Pause Brand New Kind 1ms").unwrap().phase;
        assert!(std::ptr::eq(a, parse_pause("GC(3) Pause Brand New Kind 2ms").unwrap().phase));
    }

    #[test]
    fn durations_in_every_unit_are_exact() {
        let cases: &[(&str, u64)] = &[
            ("3.456ms", 3_456_000),
            ("0.012ms", 12_000),
            ("12ms", 12_000_000),
            ("123.4us", 123_400),
            ("123µs", 123_000),
            ("0.005s", 5_000_000),
            ("2s", 2_000_000_000),
            ("987ns", 987),
            ("0.0123456789ms", 12_345),
        ];
        for (text, ns) in cases {
            assert_eq!(parse_duration(text), Some(*ns), "{text}");
            let p = parse_pause(&format!("GC(1) Pause Remark 30M->30M(256M) {text}")).unwrap();
            assert_eq!(p.duration_ns, *ns, "{text}");
        }
        for bad in ["", "ms", "1.ms", ".5ms", "1.2", "1.2.3ms", "1mss", "1 ms", "-1ms", "1e3ms", "1h"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn heap_transitions_in_every_unit() {
        let h = |before, after, capacity| Some(Heap { before, after, capacity });
        assert_eq!(parse_heap("24M->4M(256M)"), h(24 << 20, 4 << 20, Some(256 << 20)));
        assert_eq!(parse_heap("512K->0K(1024K)"), h(512 << 10, 0, Some(1 << 20)));
        assert_eq!(parse_heap("3G->1G(4G)"), h(3 << 30, 1 << 30, Some(4 << 30)));
        assert_eq!(parse_heap("100B->10B(1000B)"), h(100, 10, Some(1000)));
        assert_eq!(parse_heap("24M->4M"), h(24 << 20, 4 << 20, None));
        assert_eq!(parse_heap("64M(100%)->26M(41%)"), h(64 << 20, 26 << 20, None));
        for bad in ["24->4M(256M)", "24M->4X(256M)", "24M->(256M)", "M->4M", "24M-4M", "24M->4M(256M", "24M(x)->4M"] {
            assert_eq!(parse_heap(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_clock_decoration_gives_the_time() {
        let end = |line: &str| parse_log(line.as_bytes()).unwrap().pauses[0].end_ns;
        let pause = "GC(1) Pause Young (Allocation Failure) 33M->3M(123M) 4.123ms";
        assert_eq!(end(&format!("[0.234s][info][gc] {pause}")), 234_000_000);
        assert_eq!(end(&format!("[1234.5678s][gc] {pause}")), 1_234_567_800_000);
        assert_eq!(end(&format!("[234ms][info][gc] {pause}")), 234_000_000);
        assert_eq!(end(&format!("[234567891ns][info][gc] {pause}")), 234_567_891);
        assert_eq!(end(&format!("[1795664526443ms][54ms][info][gc] {pause}")), 54_000_000, "timemillis,uptimemillis");
        assert_eq!(end(&format!("[27661064520173ns][54606369ns][gc] {pause}")), 54_606_369, "timenanos,uptimenanos");
        assert_eq!(
            end(&format!(
                "[2026-11-26T03:42:06.443+0000][0.055s][1795664526443ms][54ms][vm][9229][9232][info][gc] {pause}"
            )),
            55_000_000,
            "every decoration: uptime wins"
        );
        // Wall clocks count from the GC log's first line.
        let log = format!(
            "[2024-02-29T23:59:59.900+0100][info][gc] Using Serial\n\
             [2024-03-01T00:00:00.150+0100][info][gc] {pause}\n\
             [2024-02-29T23:00:01.000+0000][info][gc] {pause}\n"
        );
        let got: Vec<u64> = parse_log(log.as_bytes()).unwrap().pauses.iter().map(|p| p.end_ns).collect();
        assert_eq!(got, [250_000_000, 1_100_000_000]);
        let log = format!("[1700000000000ms][gc] Using G1\n[1700000001234ms][gc] {pause}\n");
        assert_eq!(parse_log(log.as_bytes()).unwrap().pauses[0].end_ns, 1_234_000_000, "timemillis alone");
        assert_eq!(parse_iso("1970-01-01T00:00:01.002+0000"), Some(1_002_000_000));
        assert_eq!(parse_iso("1970-01-01T01:00:00.000+0100"), Some(0));
        assert_eq!(parse_iso("2000-03-01T00:00:00.000Z"), Some(951_868_800_000_000_000));
        for bad in ["1970-13-01T00:00:00.000+0000", "1970-01-01 00:00:00.000", "1969-12-31T23:59:59.000+0000", "vm"] {
            assert_eq!(parse_iso(bad), None, "{bad}");
        }
    }

    #[test]
    fn start_markers_and_other_tags_are_not_pauses() {
        let log = "\
[0.1s][info][gc,start] GC(1) Pause Young (Allocation Failure)
[0.1s][debug][gc,phases,start] GC(1) Pause Mark Start
[0.1s][info][gc,heap] GC(1) DefNew: 17472K(19648K)->1071K(19648K) Eden: 17472K(17472K)->0K(17472K)
[0.1s][info][safepoint] GC(1) Pause Young 1ms
[0.1s][info][gc,phases] GC(1)   Pause Young sub-phase 1ms
[0.1s][info][GC] GC(1) Pause Young 1ms
[0.2s][info][gc] GC(1) Pause Young (Allocation Failure) 17M->1M(61M) 1.5ms
";
        let log = parse_log(log.as_bytes()).unwrap();
        assert_eq!(log.pauses.len(), 1);
        assert_eq!((log.start_lines, log.gc_lines, log.other_lines, log.stray_pause_lines), (2, 2, 2, 1));
        assert_eq!(log.peak_heap, Some(17 << 20), "only `[gc]` lines' heap transitions");
    }

    #[test]
    fn zgc_cycles_give_their_pauses_a_cause_and_the_heap_peak() {
        let log = "\
[0.023s][info][gc] Using The Z Garbage Collector
[0.199s][info][gc,phases] GC(0) Pause Mark Start 0.007ms
[0.205s][info][gc,phases] GC(0) Concurrent Mark 5.413ms
[0.205s][info][gc,phases] GC(0) Pause Mark End 0.008ms
[0.209s][info][gc,phases] GC(0) Pause Relocate Start 0.004ms
[0.211s][info][gc       ] GC(0) Garbage Collection (Allocation Stall) 64M(100%)->6M(9%)
[0.211s][info][gc       ] Allocation Stall (main) 16.672ms
[0.300s][info][gc,phases] GC(1) Pause Mark Start 0.003ms
[0.351s][info][gc       ] GC(1) Garbage Collection (System.gc()) 14M(22%)->12M(19%)
";
        let log = parse_log(log.as_bytes()).unwrap();
        let got: Vec<(u64, &str, Option<&str>, u64)> =
            pauses(&log).iter().map(|p| (p.gc, p.phase, p.trigger, p.start_ns)).collect();
        assert_eq!(
            got,
            [
                (0, "mark-start", Some("allocation-stall"), 198_993_000),
                (0, "mark-end", Some("allocation-stall"), 204_992_000),
                (0, "relocate-start", Some("allocation-stall"), 208_996_000),
                (1, "mark-start", Some("explicit"), 299_997_000),
            ]
        );
        assert_eq!(log.peak_heap, Some(64 << 20));
        assert_eq!(label(&log), "jvm-zgc");
        let imported = imported(log).unwrap();
        assert!(!imported.facts.iter().any(|(c, _)| *c == "final_live_bytes"), "no full collection");
    }

    #[test]
    fn a_malformed_pause_line_names_the_line_and_what_was_expected() {
        let cases: &[(&str, &str)] = &[
            ("[0.1s][info][gc] GC(3) Pause Young (Normal) (G1 Evacuation Pause) 24M->4M(256M)", "the pause's duration"),
            ("[0.1s][info][gc] GC(3) Pause Remark", "found `Remark`"),
            ("[0.1s][info][gc] GC(3) Pause", "found the end of the line"),
            ("[0.1s][info][gc] GC(3) Pause Young 24M->4M(256M) 3.4.5ms", "found `3.4.5ms`"),
            ("[0.1s][info][gc] GC(3) Pause Young 24X->4M(256M) 3ms", "the heap before and after"),
            ("[0.1s][info][gc] GC(3) Pause Young (Normal 3ms", "`(`, a detail and `)`"),
            ("[0.1s][info][gc] GC(3) Pause Young (Normal) junk 3ms", "found `junk`"),
            ("[0.1s][info][gc] GC(3) Pause (Normal) 3ms", "the pause's kind"),
            ("[0.1s][info][gc] GC(3) Pause Young! 3ms", "the pause's kind"),
            ("[0.1s][info][gc] GC(x) Pause Young 3ms", "the collection's id in `GC(...)`, a number"),
            ("[0.1s][info][gc] GC(99999999999999999999) Pause Young 3ms", "a number"),
            ("[0.1s][info][gc,phases] GC(3) Q: Pause Mark Start 0.1ms", "a ZGC generation"),
            ("[0.1s][info][gc] GC(3) Pause Young 99999999999999999999s", "the pause's duration"),
            ("[info][gc] GC(3) Pause Young 3ms", "expected a time decoration"),
            ("[pid][gc] GC(3) Pause Young 3ms", "found `[pid][gc]`"),
        ];
        for (line, fragment) in cases {
            let text = format!("[0.0s][info][gc] Using G1\nhello\n{line}\n[0.2s][info][gc] GC(4) Pause Young 1ms\n");
            let e = parse_log(text.as_bytes()).expect_err(line);
            assert_eq!(e.line, 3, "{line}: {e:?}");
            assert!(e.msg.contains(fragment), "{line}: expected {fragment:?} in {:?}", e.msg);
            assert!(!e.msg.contains('\n'), "one line: {:?}", e.msg);
        }
    }

    #[test]
    fn two_runs_in_one_log_are_an_error() {
        let run =
            "[0.0s][info][gc] Using Parallel\n[0.1s][info][gc] GC(0) Pause Young (Allocation Failure) 1M->0M(2M) 1ms\n";
        let e = parse_log(format!("{run}{run}").as_bytes()).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.msg.contains("a second `Using Parallel` (the first, `Using Parallel`, is at line 1)"), "{}", e.msg);
    }

    #[test]
    fn a_log_without_pauses_is_an_error_with_a_hint() {
        let err = |log: &str| imported(parse_log(log.as_bytes()).unwrap()).unwrap_err();
        let zgc = "[0.069s][info][gc] Using The Z Garbage Collector\n\
                   [0.245s][info][gc] GC(0) Garbage Collection (Allocation Stall) 64M(100%)->52M(81%)\n";
        let e = err(zgc);
        assert!(e.starts_with("no GC pause lines (`[...][gc] GC(N) Pause ...`) among its 2 lines: "), "{e}");
        assert!(e.contains("-Xlog:gc,gc+phases"), "{e}");
        let e =
            err("[2783686ns] Using Serial\n[48916304ns] GC(0) Pause Young (Allocation Failure) 17M->1M(61M) 1.7ms\n");
        assert!(e.contains("1 lines (the first at line 2) look like pause lines"), "{e}");
        assert!(e.contains("uptime,level,tags"), "{e}");
        let e = err("step 1\nstep 2\n");
        assert!(e.contains("among its 2 lines: run the JVM with -Xlog:gc"), "{e}");
    }

    #[test]
    fn tags_and_decorations() {
        assert_eq!(tags("gc,phases   "), ["gc", "phases"]);
        assert_eq!(tags("gc"), ["gc"]);
        assert_eq!(tags("gc,task_2"), ["gc", "task_2"]);
        assert!(tags("info ").is_empty(), "the level, when the tags decoration is missing");
        assert!(tags("0.234s").is_empty());
        assert!(tags("2783686ns").is_empty());
        assert!(tags("gc,,start").is_empty());
        assert!(tags("").is_empty());
        assert_eq!(split_decorations("[a][b] msg"), Some((vec!["a", "b"], "msg")));
        assert_eq!(split_decorations("[a] "), Some((vec!["a"], "")));
        assert_eq!(split_decorations("[a unclosed"), None);
        assert_eq!(split_decorations("no [brackets]"), None);
        assert!(looks_like_pause("GC(3) Pause Young"));
        assert!(looks_like_pause("GC(3) y: Pause Mark Start 1ms"));
        assert!(looks_like_pause("GC(x) Pause"));
        for no in
            ["GC(3)   Pause Young", "GC(3) Pauses", "GC(3) Concurrent Mark", "GC 3 Pause", "Pause Young", "GC(3)Pause"]
        {
            assert!(!looks_like_pause(no), "{no}");
        }
    }

    /// Every prefix of every line of a real log, and of some odd ones, is a
    /// pause, an error or a skipped line: never a panic.
    #[test]
    fn no_prefix_of_a_line_panics() {
        let real = include_str!("../../tests/data/jvm/g1-jdk17.log");
        let odd = "[0.1s][info][gc] GC(7) y: Pause Mark Start (Ma(jor)) 24µM->4M(25µ6M) 3.4µs\n\
                   [2024-02-29T23:59:59.900+0100][µ][gc,µ] GC(µ) Pause µ (µ) 1µs\n\
                   [0.2s][info][gc] Allocation Stall (µ (x)) 12.5µs\n\
                   [0.2s][info][gc,stats]     1µ of  µ5 ms (µ%): <µ>\n";
        let mut pauses = 0;
        for line in real.lines().chain(odd.lines()) {
            for (i, _) in line.char_indices().chain(std::iter::once((line.len(), ' '))) {
                if let Ok(log) = parse_log(&line.as_bytes()[..i]) {
                    pauses += log.pauses.len();
                }
            }
        }
        assert!(pauses > 70, "the whole pause lines parse: {pauses}");
        let stall = "[0.211s][info][gc       ] Allocation Stall (main) 16.672ms";
        assert_eq!(parse_log(stall.as_bytes()).unwrap().stalls.len(), 1);
        for (i, _) in stall.char_indices().filter(|(i, _)| *i > 0) {
            assert!(parse_log(&stall.as_bytes()[..i]).map_or(true, |log| log.stalls.is_empty()), "{i}");
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_on_other_lines_are_skipped() {
        let mut log = b"\xff\xfe binary output\n".to_vec();
        log.extend_from_slice(b"[0.1s][info][gc] GC(0) Pause Young (Allocation Failure) 1M->0M(2M) 1ms");
        let parsed = parse_log(&log[..]).unwrap();
        assert_eq!((parsed.pauses.len(), parsed.other_lines), (1, 1));
    }
}
