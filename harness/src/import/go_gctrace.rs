//! Go's `GODEBUG=gctrace=1` log: the parser, and the pauses it tells.
//!
//! A Go program run with `GODEBUG=gctrace=1` prints one line on standard
//! error at the end of every collection (runtime/mgc.go,
//! `gcMarkTermination`; the fields are documented in runtime/extern.go).
//! Go 1.19 prints
//!
//! ```text
//! gc 7 @0.127s 3%: 0.016+2.1+0.031 ms clock, 0.033+0.21/1.9/0.51+0.063 ms cpu, 8->9->4 MB, 9 MB goal, 0 MB stacks, 0 MB globals, 2 P
//! ```
//!
//! that is: the GC number; `@` the start of the cycle in seconds since the
//! program started (millisecond resolution); the share of CPU time spent in
//! GC since the program started, in whole percent; the wall-clock times of
//! the three phases — stop-the-world sweep termination, concurrent mark and
//! scan, stop-the-world mark termination; their CPU times (the mark split
//! into assist / background / idle); the heap at the start of the cycle,
//! at its end and the heap marked live, in MiB (`>> 20`, truncated); the
//! heap goal of the cycle; the scannable stacks and globals (Go 1.18 and
//! later; earlier versions end with the goal and the processors); the
//! processors (GOMAXPROCS); and ` (forced)` when `runtime.GC()` (or
//! `debug.FreeOSMemory`) started the cycle. Times are printed by
//! `fmtNSAsMS`: whole milliseconds from 10 ms up, two significant digits
//! (at most three decimals) below, `0` under a microsecond — so durations
//! parsed here are exact to what Go printed, no more.
//!
//! The log is usually a program's whole standard error, so lines that are
//! not gctrace lines are skipped; a line that starts like one (`gc N @`) but
//! does not parse is an error naming its line and what was expected, since a
//! cycle silently dropped would bias the pause statistics.
//!
//! Each cycle gives gcwb two pauses ([`pauses`]), named like the phases of
//! gcwb's concurrent collector: `sweep-term` (the first clock time) and
//! `mark-term` (the third). Both include the time to stop the world, as
//! gcwb's pause durations do. [`super`] writes them in gcwb's CSV format.

use crate::metrics::PauseRecord;
use std::io::BufRead;

/// One collection, as its gctrace line tells it. Times in nanoseconds,
/// heap sizes in MiB as Go prints them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GcCycle {
    /// The line of the log (1-based).
    pub line: usize,
    /// Go's GC number (`memstats.numgc`).
    pub gc: u64,
    /// Start of the cycle (sweep termination), since the program started.
    pub start_ns: u64,
    /// Share of CPU time spent in GC since the program started, percent.
    pub cpu_percent: u64,
    /// Wall clock: stop-the-world sweep termination.
    pub sweep_term_ns: u64,
    /// Wall clock: concurrent mark and scan.
    pub mark_ns: u64,
    /// Wall clock: stop-the-world mark termination.
    pub mark_term_ns: u64,
    /// CPU time: sweep termination, mark assists, background and idle mark
    /// workers, mark termination.
    pub cpu_sweep_term_ns: u64,
    pub cpu_assist_ns: u64,
    pub cpu_background_ns: u64,
    pub cpu_idle_ns: u64,
    pub cpu_mark_term_ns: u64,
    /// Heap at the start of the cycle, at its end, and marked live (MiB).
    pub heap_start_mb: u64,
    pub heap_end_mb: u64,
    pub heap_live_mb: u64,
    /// The heap goal of this cycle (MiB).
    pub goal_mb: u64,
    /// Scannable stacks and globals (MiB); Go 1.18 and later only.
    pub stacks_mb: Option<u64>,
    pub globals_mb: Option<u64>,
    /// Processors (GOMAXPROCS).
    pub procs: u64,
    /// Started by `runtime.GC()` (` (forced)`).
    pub forced: bool,
}

/// A parsed log: its cycles in order, and what else it held.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GcLog {
    pub cycles: Vec<GcCycle>,
    /// Lines that were not gctrace lines (the program's own output).
    pub other_lines: usize,
    /// Cycles with no line: the GC numbers skipped between two lines
    /// (a line mangled by other output written to the same stream).
    pub missing_cycles: u64,
    /// The line after the first such jump.
    pub first_gap_line: Option<usize>,
}

pub use super::LogError;

/// The gctrace format, for error messages.
pub const FORMAT: &str = "gc # @#s #%: #+#+# ms clock, #+#/#/#+# ms cpu, #->#-># MB, # MB goal, \
                          [# MB stacks, # MB globals, ]# P[ (forced)]";

/// Does `line` start like a gctrace line: `gc`, a space, digits, ` @`?
pub fn is_gctrace_line(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("gc ") else { return false };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && rest[digits..].starts_with(" @")
}

/// Parses the log in `input`: every gctrace line, in order. Bytes that are
/// not UTF-8 are fine on other lines; GC numbers must increase.
pub fn parse_log(input: impl BufRead) -> Result<GcLog, LogError> {
    let mut log = GcLog::default();
    super::for_each_line(input, |line, text| {
        if !is_gctrace_line(text) {
            log.other_lines += 1;
            return Ok(());
        }
        let mut c = parse_line(text).map_err(|msg| LogError { line, msg })?;
        c.line = line;
        if let Some(prev) = log.cycles.last() {
            if c.gc <= prev.gc {
                return Err(LogError {
                    line,
                    msg: format!(
                        "GC numbers must increase, but gc {} follows gc {} (line {}): is this the log of more than \
                         one run?",
                        c.gc, prev.gc, prev.line
                    ),
                });
            }
            if c.gc > prev.gc + 1 {
                log.missing_cycles += c.gc - prev.gc - 1;
                log.first_gap_line.get_or_insert(line);
            }
        }
        log.cycles.push(c);
        Ok(())
    })?;
    Ok(log)
}

/// What a parsed log gives `gcwb import` ([`super::Imported`]): the pauses
/// ([`pauses`]) and the summary cells a gctrace tells — `procs` (of the
/// last cycle), `gc_count`, `peak_heap_bytes` (the largest heap at a
/// cycle's start or end), `final_live_bytes` (the last cycle's marked heap),
/// `marked_bytes_total`, `mark_total_ns` (the concurrent mark's wall-clock
/// time), `assist_total_ns` (the assists' CPU time),
/// `background_mark_cpu_ns` (the background mark workers' CPU time, idle
/// marking not included) and `gc_cpu_used_fraction` (Go's `GCCPUFraction`
/// at the last cycle, in whole percent; `gc_cpu_fraction`, the mutator time
/// lost, is not in the log). A log without a gctrace line is an error.
pub fn imported(log: GcLog) -> Result<super::Imported, String> {
    if log.cycles.is_empty() {
        return Err(format!(
            "no gctrace lines (`gc N @...`) among its {} lines: run the Go program with GODEBUG=gctrace=1 and \
             import its standard error",
            log.other_lines
        ));
    }
    let mut warnings = Vec::new();
    if log.missing_cycles > 0 {
        warnings.push(format!(
            "{} GC cycles have no gctrace line (the GC numbers jump at line {}): another write to standard error \
             probably mangled them; their pauses are missing",
            log.missing_cycles,
            log.first_gap_line.unwrap_or(0)
        ));
    }
    let forced = log.cycles.iter().filter(|c| c.forced).count();
    Ok(super::Imported {
        pauses: pauses(&log.cycles),
        facts: summary_facts(&log.cycles),
        default_label: "go-runtime".to_string(),
        description: format!(
            "{} GC cycles ({forced} forced), {} other lines skipped",
            log.cycles.len(),
            log.other_lines
        ),
        warnings,
        cycles: cycles(&log.cycles),
        stalls: Vec::new(),
        lost_totals: assists(&log.cycles),
        end_ns: log.cycles.iter().map(end_ns).max().unwrap_or(0),
        procs: log.cycles.last().map(|c| c.procs as usize),
        format: "go-gctrace",
    })
}

/// The end of a cycle: its start and its three phases' wall-clock times.
fn end_ns(c: &GcCycle) -> u64 {
    c.start_ns.saturating_add(c.sweep_term_ns).saturating_add(c.mark_ns).saturating_add(c.mark_term_ns)
}

/// The collections as `cycles.csv` rows: from the cycle's start to the end
/// of mark termination, `heap_live_before` the heap at its start (`A` of
/// `A->B->C MB`), `marked_bytes` the heap marked live (`C`), `mark_ns` the
/// concurrent mark's wall-clock time, `mark_cpu_ns` the background and idle
/// mark workers' CPU time (assists left out, as for a run), and
/// `next_goal` the goal the next line prints (`# MB goal` is the goal the
/// cycle ran under, set when the one before ended; the last cycle's is
/// unknown). Heap sizes are Go's whole MiB. `heap_live_after` stays empty:
/// the line's `B` is the heap when marking ended, before the sweep.
pub fn cycles(cycles: &[GcCycle]) -> Vec<super::ImportedCycle> {
    cycles
        .iter()
        .enumerate()
        .map(|(i, c)| super::ImportedCycle {
            gc: c.gc,
            trigger: c.forced.then_some("explicit"),
            start_ns: c.start_ns,
            end_ns: end_ns(c),
            heap_live_before: Some(mib(c.heap_start_mb)),
            marked_bytes: Some(mib(c.heap_live_mb)),
            mark_ns: Some(c.mark_ns),
            mark_cpu_ns: Some(c.cpu_background_ns.saturating_add(c.cpu_idle_ns)),
            next_goal: cycles.get(i + 1).map(|n| mib(n.goal_mb)),
            heap_live_after: None,
        })
        .collect()
}

/// The mark assists' CPU time of each cycle, as time lost by one worker
/// somewhere in the concurrent mark (the gctrace gives a cycle's total,
/// not each assist).
pub fn assists(cycles: &[GcCycle]) -> Vec<crate::summary::LostTotal> {
    cycles
        .iter()
        .filter(|c| c.cpu_assist_ns > 0 && c.mark_ns > 0)
        .map(|c| {
            let start_ns = c.start_ns.saturating_add(c.sweep_term_ns);
            crate::summary::LostTotal { start_ns, end_ns: start_ns.saturating_add(c.mark_ns), lost_ns: c.cpu_assist_ns }
        })
        .collect()
}

/// MiB as bytes.
fn mib(mb: u64) -> u64 {
    mb.saturating_mul(1 << 20)
}

/// The summary cells the cycles tell (see [`imported`]), by column. Heap
/// sizes are Go's whole MiB (truncated).
pub fn summary_facts(cycles: &[GcCycle]) -> Vec<(&'static str, String)> {
    let sum = |f: fn(&GcCycle) -> u64| cycles.iter().fold(0u64, |t, c| t.saturating_add(f(c))).to_string();
    let mut facts = vec![
        ("gc_count", cycles.len().to_string()),
        (
            "peak_heap_bytes",
            mib(cycles.iter().map(|c| c.heap_start_mb.max(c.heap_end_mb)).max().unwrap_or(0)).to_string(),
        ),
        ("mark_total_ns", sum(|c| c.mark_ns)),
        ("marked_bytes_total", sum(|c| mib(c.heap_live_mb))),
        ("assist_total_ns", sum(|c| c.cpu_assist_ns)),
        ("background_mark_cpu_ns", sum(|c| c.cpu_background_ns)),
    ];
    if let Some(c) = cycles.last() {
        facts.push(("procs", c.procs.to_string()));
        facts.push(("final_live_bytes", mib(c.heap_live_mb).to_string()));
        facts.push(("gc_cpu_used_fraction", (c.cpu_percent as f64 / 100.0).to_string()));
    }
    facts
}

/// Parses one gctrace line (the line number is left 0). The error says
/// which field was expected and what was found instead.
pub fn parse_line(text: &str) -> Result<GcCycle, String> {
    let mut p = Cursor { rest: text };
    let mut c = GcCycle::default();
    p.lit("gc ", "`gc `")?;
    c.gc = p.uint("the GC number after `gc `")?;
    p.lit(" @", "` @` after the GC number")?;
    c.start_ns = p.decimal(1_000_000_000, "the start time in seconds after `@` (like `@0.011s`)")?;
    p.lit("s ", "`s ` after the start time")?;
    c.cpu_percent = p.uint("the GC CPU percentage (like `2%: `)")?;
    p.lit("%: ", "`%: ` after the GC CPU percentage")?;
    c.sweep_term_ns = p.ms("the sweep-termination clock time (the first of `#+#+# ms clock`)")?;
    p.lit("+", "`+` and the mark clock time (`#+#+# ms clock`)")?;
    c.mark_ns = p.ms("the mark clock time (the second of `#+#+# ms clock`)")?;
    p.lit("+", "`+` and the mark-termination clock time (`#+#+# ms clock`)")?;
    c.mark_term_ns = p.ms("the mark-termination clock time (the third of `#+#+# ms clock`)")?;
    p.lit(" ms clock, ", "` ms clock, ` after the three clock times")?;
    c.cpu_sweep_term_ns = p.ms("the sweep-termination CPU time (`#+#/#/#+# ms cpu`)")?;
    p.lit("+", "`+` and the assist CPU time (`#+#/#/#+# ms cpu`)")?;
    c.cpu_assist_ns = p.ms("the assist CPU time (`#+#/#/#+# ms cpu`)")?;
    p.lit("/", "`/` and the background mark CPU time (`#+#/#/#+# ms cpu`)")?;
    c.cpu_background_ns = p.ms("the background mark CPU time (`#+#/#/#+# ms cpu`)")?;
    p.lit("/", "`/` and the idle mark CPU time (`#+#/#/#+# ms cpu`)")?;
    c.cpu_idle_ns = p.ms("the idle mark CPU time (`#+#/#/#+# ms cpu`)")?;
    p.lit("+", "`+` and the mark-termination CPU time (`#+#/#/#+# ms cpu`)")?;
    c.cpu_mark_term_ns = p.ms("the mark-termination CPU time (`#+#/#/#+# ms cpu`)")?;
    p.lit(" ms cpu, ", "` ms cpu, ` after the five CPU times")?;
    c.heap_start_mb = p.uint("the heap size at GC start (`#->#-># MB`)")?;
    p.lit("->", "`->` and the heap size at GC end (`#->#-># MB`)")?;
    c.heap_end_mb = p.uint("the heap size at GC end (`#->#-># MB`)")?;
    p.lit("->", "`->` and the live heap (`#->#-># MB`)")?;
    c.heap_live_mb = p.uint("the live heap (`#->#-># MB`)")?;
    p.lit(" MB, ", "` MB, ` after the heap sizes")?;
    c.goal_mb = p.uint("the heap goal (`# MB goal`)")?;
    p.lit(" MB goal, ", "` MB goal, ` after the heap goal")?;
    let n = p.uint("the scannable stacks (`# MB stacks`, Go 1.18+) or the processors (`# P`)")?;
    if p.eat(" MB stacks, ") {
        c.stacks_mb = Some(n);
        c.globals_mb = Some(p.uint("the scannable globals (`# MB globals`)")?);
        p.lit(" MB globals, ", "` MB globals, ` after the scannable globals")?;
        c.procs = p.uint("the processors (`# P`)")?;
    } else {
        c.procs = n;
    }
    p.lit(" P", "` P` after the processors (or ` MB stacks, # MB globals, # P`)")?;
    c.forced = p.eat(" (forced)");
    if !p.rest.trim_end().is_empty() {
        return Err(p.expected(if c.forced { "the end of the line" } else { "` (forced)` or the end of the line" }));
    }
    Ok(c)
}

/// The two stop-the-world pauses of each cycle, in order: `sweep-term`
/// (starting with the cycle) and `mark-term` (after the concurrent mark),
/// with trigger `explicit` for a forced cycle and none otherwise (the line
/// does not tell a heap-goal cycle from Go's periodic one). The gctrace does
/// not tell the time to safepoint: `ttsp_ns` is 0 here, and the importer
/// writes it empty.
pub fn pauses(cycles: &[GcCycle]) -> Vec<PauseRecord> {
    let mut out = Vec::with_capacity(cycles.len() * 2);
    for c in cycles {
        let trigger = c.forced.then_some("explicit");
        out.push(PauseRecord {
            gc: c.gc,
            phase: "sweep-term",
            trigger,
            start_ns: c.start_ns,
            duration_ns: c.sweep_term_ns,
            ttsp_ns: 0,
            safepoints: Vec::new(),
        });
        out.push(PauseRecord {
            gc: c.gc,
            phase: "mark-term",
            trigger,
            start_ns: c.start_ns.saturating_add(c.sweep_term_ns).saturating_add(c.mark_ns),
            duration_ns: c.mark_term_ns,
            ttsp_ns: 0,
            safepoints: Vec::new(),
        });
    }
    out
}

/// A position in the line being parsed.
struct Cursor<'a> {
    rest: &'a str,
}

impl Cursor<'_> {
    /// "expected WHAT, found ...", quoting a little of what is left.
    fn expected(&self, what: &str) -> String {
        if self.rest.is_empty() {
            return format!("expected {what}, found the end of the line (gctrace format: `{FORMAT}`)");
        }
        let shown: String = self.rest.chars().take(24).collect();
        let more = if shown.len() < self.rest.len() { "..." } else { "" };
        format!("expected {what}, found `{shown}{more}` (gctrace format: `{FORMAT}`)")
    }

    /// Consumes `lit` if the rest starts with it.
    fn eat(&mut self, lit: &str) -> bool {
        match self.rest.strip_prefix(lit) {
            Some(r) => {
                self.rest = r;
                true
            }
            None => false,
        }
    }

    fn lit(&mut self, lit: &str, what: &str) -> Result<(), String> {
        if self.eat(lit) {
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    /// The leading ASCII digits (possibly none), consumed.
    fn digits(&mut self) -> &str {
        let n = self.rest.bytes().take_while(u8::is_ascii_digit).count();
        let (d, r) = self.rest.split_at(n);
        self.rest = r;
        d
    }

    fn uint(&mut self, what: &str) -> Result<u64, String> {
        let before = self.rest;
        let d = self.digits();
        if d.is_empty() {
            return Err(self.expected(what));
        }
        d.parse::<u64>().map_err(|_| {
            self.rest = before;
            self.expected(&format!("{what} (a number that fits in 64 bits)"))
        })
    }

    /// A decimal number (`12`, `0.011`) of units of `unit_ns` nanoseconds,
    /// in nanoseconds; digits below a nanosecond are dropped.
    fn decimal(&mut self, unit_ns: u64, what: &str) -> Result<u64, String> {
        let before = self.rest;
        let whole = self.digits();
        if whole.is_empty() {
            return Err(self.expected(what));
        }
        let too_large = |c: &mut Self| {
            c.rest = before;
            Err(c.expected(&format!("{what} (a time under 584 years)")))
        };
        let Some(mut ns) = whole.parse::<u64>().ok().and_then(|w| w.checked_mul(unit_ns)) else {
            return too_large(self);
        };
        if let Some(r) = self.rest.strip_prefix('.') {
            if !r.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(self.expected(what));
            }
            self.rest = r;
            let mut place = unit_ns;
            for d in self.digits().bytes() {
                place /= 10;
                ns = match ns.checked_add(u64::from(d - b'0') * place) {
                    Some(v) => v,
                    None => return too_large(self),
                };
            }
        }
        Ok(ns)
    }

    /// A duration in milliseconds, in nanoseconds.
    fn ms(&mut self, what: &str) -> Result<u64, String> {
        self.decimal(1_000_000, what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log as a Go 1.19 program writes it to standard error, its own
    /// output mixed in, with a forced cycle, a line of the older (Go 1.17)
    /// form, a CRLF line end and a line that mentions gc but is not one.
    const LOG: &str = "\
starting server on :8080
gc 1 @0.011s 2%: 0.010+1.2+0.003 ms clock, 0.020+0.5/1.0/0.0+0.006 ms cpu, 4->4->0 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P
request 17 took 3ms
gc 2 @0.250s 3%: 0.15+12+0.28 ms clock, 0.30+0.40/11/0.070+0.57 ms cpu, 7->8->3 MB, 8 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)
gc log: nothing to see
 gc 9 @1.0s indented: not a gctrace line
gc 3 @1.500s 4%: 0.072+2.3+0.053 ms clock, 0.14+0.081/0.98/0+0.10 ms cpu, 23->25->12 MB, 27 MB goal, 2 P\r
gc 4 @12.034s 4%: 0+15+100 ms clock, 0+0/0/0+0 ms cpu, 1024->1100->990 MB, 2048 MB goal, 2 P (forced)
done
";

    #[test]
    fn parses_every_gctrace_line_and_skips_the_rest() {
        let log = parse_log(LOG.as_bytes()).unwrap();
        assert_eq!(log.other_lines, 5);
        assert_eq!(log.missing_cycles, 0);
        let got: Vec<(usize, u64, bool, Option<u64>)> =
            log.cycles.iter().map(|c| (c.line, c.gc, c.forced, c.stacks_mb)).collect();
        assert_eq!(got, [(2, 1, false, Some(0)), (4, 2, true, Some(0)), (7, 3, false, None), (8, 4, true, None)]);
        let c = &log.cycles[0];
        assert_eq!(
            *c,
            GcCycle {
                line: 2,
                gc: 1,
                start_ns: 11_000_000,
                cpu_percent: 2,
                sweep_term_ns: 10_000,
                mark_ns: 1_200_000,
                mark_term_ns: 3_000,
                cpu_sweep_term_ns: 20_000,
                cpu_assist_ns: 500_000,
                cpu_background_ns: 1_000_000,
                cpu_idle_ns: 0,
                cpu_mark_term_ns: 6_000,
                heap_start_mb: 4,
                heap_end_mb: 4,
                heap_live_mb: 0,
                goal_mb: 4,
                stacks_mb: Some(0),
                globals_mb: Some(0),
                procs: 2,
                forced: false,
            }
        );
        let d = &log.cycles[3];
        assert_eq!((d.heap_start_mb, d.heap_end_mb, d.heap_live_mb, d.goal_mb, d.procs), (1024, 1100, 990, 2048, 2));
    }

    #[test]
    fn each_cycle_gives_a_sweep_termination_and_a_mark_termination_pause() {
        let log = parse_log(LOG.as_bytes()).unwrap();
        let got: Vec<(u64, &str, Option<&str>, u64, u64)> =
            pauses(&log.cycles).iter().map(|p| (p.gc, p.phase, p.trigger, p.start_ns, p.duration_ns)).collect();
        assert_eq!(
            got,
            [
                (1, "sweep-term", None, 11_000_000, 10_000),
                (1, "mark-term", None, 11_000_000 + 10_000 + 1_200_000, 3_000),
                (2, "sweep-term", Some("explicit"), 250_000_000, 150_000),
                (2, "mark-term", Some("explicit"), 250_000_000 + 150_000 + 12_000_000, 280_000),
                (3, "sweep-term", None, 1_500_000_000, 72_000),
                (3, "mark-term", None, 1_500_000_000 + 72_000 + 2_300_000, 53_000),
                (4, "sweep-term", Some("explicit"), 12_034_000_000, 0),
                (4, "mark-term", Some("explicit"), 12_034_000_000 + 15_000_000, 100_000_000),
            ]
        );
    }

    #[test]
    fn detects_gctrace_lines_by_their_start() {
        for yes in ["gc 1 @", "gc 123 @0.1s garbage"] {
            assert!(is_gctrace_line(yes), "{yes}");
        }
        for no in ["gc @0.1s", "gc x @", "gc 1@", " gc 1 @", "gcc 1 @", "GC 1 @", "gc 1 2 @", "", "gc "] {
            assert!(!is_gctrace_line(no), "{no}");
        }
    }

    #[test]
    fn a_malformed_gctrace_line_names_the_line_and_what_was_expected() {
        let cases: &[(&str, &str)] = &[
            ("gc 5 @1.0s 3%: 0.1+0.2 ms clock, rest", "expected `+` and the mark-termination clock time"),
            ("gc 5 @x", "expected the start time in seconds"),
            ("gc 5 @1.s 3%:", "expected the start time in seconds"),
            ("gc 5 @1.0s 3%: 0.1+0.2+0.3 ms clock, 1+2+3+4+5 ms cpu, 4->4->0 MB, 4 MB goal, 2 P", "`/`"),
            ("gc 5 @1.0s 3%: 0.1+0.2+0.3 ms clock, 1+2/3/4+5 ms cpu, 4->4 MB, 4 MB goal, 2 P", "`->`"),
            ("gc 5 @1.0s 3%: 0.1+0.2+0.3 ms clock, 1+2/3/4+5 ms cpu, 4->4->0 MB, 4 MB goal, 2", "` P`"),
            (
                "gc 5 @1.0s 3%: 0.1+0.2+0.3 ms clock, 1+2/3/4+5 ms cpu, 4->4->0 MB, 4 MB goal, 1 MB stacks, 2 P",
                "the scannable globals",
            ),
            (
                "gc 5 @1.0s 3%: 0.1+0.2+0.3 ms clock, 1+2/3/4+5 ms cpu, 4->4->0 MB, 4 MB goal, 2 P (forced) x",
                "expected the end of the line, found ` x`",
            ),
            ("gc 5 @1.0s 3%: 0.1+0.2+0.3 ms clock, 1+2/3/4+5 ms cpu, 4->4->0 MB, 4 MB goal, 2 P extra", "(forced)"),
            ("gc 5 @99999999999999999999.0s", "a time under 584 years"),
            ("gc 99999999999999999999 @1.0s", "fits in 64 bits"),
            ("gc 5 @1.0s 3%: 0.1+0.2+0.3", "found the end of the line"),
        ];
        for (line, fragment) in cases {
            let text = format!("hello\n{line}\ngc 6 @2.0s ...\n");
            let e = parse_log(text.as_bytes()).expect_err(line);
            assert_eq!(e.line, 2, "{line}: {e:?}");
            assert!(e.msg.contains(fragment), "{line}: expected {fragment:?} in {:?}", e.msg);
            assert!(!e.msg.contains('\n'), "one line: {:?}", e.msg);
        }
    }

    #[test]
    fn gc_numbers_must_increase_and_gaps_are_counted() {
        let line = |n: u64| {
            format!(
                "gc {n} @{n}.0s 1%: 0.1+0.2+0.3 ms clock, 1+2/3/4+5 ms cpu, 4->4->0 MB, 4 MB goal, 0 MB stacks, 0 MB \
                 globals, 2 P\n"
            )
        };
        let log = parse_log(format!("{}{}x\n{}{}", line(1), line(2), line(5), line(9)).as_bytes()).unwrap();
        assert_eq!((log.cycles.len(), log.missing_cycles, log.first_gap_line), (4, 5, Some(4)));
        let e = parse_log(format!("{}{}{}", line(1), line(2), line(1)).as_bytes()).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.msg.contains("gc 1 follows gc 2 (line 2)"), "{}", e.msg);
    }

    #[test]
    fn times_are_exact_to_the_printed_digits() {
        let mut c = Cursor { rest: "0.0123456789" };
        assert_eq!(c.ms("t"), Ok(12_345));
        assert_eq!(c.rest, "", "digits below a nanosecond are consumed and dropped");
        assert_eq!(Cursor { rest: "10" }.ms("t"), Ok(10_000_000));
        assert_eq!(Cursor { rest: "1.5s" }.decimal(1_000_000_000, "t"), Ok(1_500_000_000));
    }

    #[test]
    fn bytes_that_are_not_utf8_on_other_lines_are_skipped() {
        let mut log = b"\xff\xfe binary output\n".to_vec();
        log.extend_from_slice(
            b"gc 1 @0.001s 0%: 0+0+0 ms clock, 0+0/0/0+0 ms cpu, 0->0->0 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 1 P",
        );
        let parsed = parse_log(&log[..]).unwrap();
        assert_eq!((parsed.cycles.len(), parsed.other_lines), (1, 1));
    }
}
