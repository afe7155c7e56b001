//! What an import writes beyond the pauses: the collections
//! (`cycles.csv`), the mutator threads the collector held up
//! (`assists.csv`), the mutator utilization they leave (`mmu.csv`) and the
//! summary cells that follow from them.
//!
//! Each format's parser fills the [`super::Imported`] fields these are made
//! from — [`ImportedCycle`]s, [`ThreadStall`]s, [`LostTotal`]s and the
//! log's length — and this module renders them in a `gcwb run`'s columns,
//! with empty cells for what the log does not tell. The utilization is
//! computed by the one model replays use
//! ([`crate::summary::mutator_utilization`]): a pause stops every worker, a
//! stall stops one of `procs`, and time a log reports only as a total over
//! an interval (Go's assist CPU per cycle, Shenandoah's pacing per report)
//! is spread evenly over that interval.

use super::Imported;
use crate::columns::cycles::header as cycles_header;
use crate::mmu::Utilization;
use crate::report::{assists_csv, AssistRow};
use crate::summary::mutator_utilization;

/// One collection as a log tells it: one row of `cycles.csv`. Heap sizes
/// in bytes; `None` where the log does not say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportedCycle {
    /// The log's number for it (Go's `gc N`, a JVM's `GC(N)`).
    pub gc: u64,
    pub trigger: Option<&'static str>,
    /// Its first and last moment the log shows, on the pauses' clock.
    pub start_ns: u64,
    pub end_ns: u64,
    pub heap_live_before: Option<u64>,
    pub marked_bytes: Option<u64>,
    pub mark_ns: Option<u64>,
    pub mark_cpu_ns: Option<u64>,
    pub next_goal: Option<u64>,
    pub heap_live_after: Option<u64>,
}

/// A mutator thread held up by the collector, logged one by one (ZGC's
/// `Allocation Stall (main) 12.679ms`): one row of `assists.csv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadStall {
    /// `allocation-stall`, `relocation-stall`.
    pub kind: &'static str,
    /// The thread's name, as the log prints it.
    pub thread: String,
    pub start_ns: u64,
    pub duration_ns: u64,
}

/// `cycles.csv`: one row per collection in the columns of a run's
/// ([`crate::columns::cycles::CYCLES`]), filled where [`ImportedCycle`]
/// has the column's value and empty elsewhere.
pub fn cycles_csv(label: &str, cycles: &[ImportedCycle]) -> std::io::Result<Vec<u8>> {
    let header = cycles_header();
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    w.write_record(&header)?;
    for c in cycles {
        let opt = |v: Option<u64>| v.map_or(String::new(), |v| v.to_string());
        let row: Vec<String> = header
            .iter()
            .map(|&column| match column {
                "collector" => label.to_string(),
                "gc" => c.gc.to_string(),
                "trigger" => c.trigger.unwrap_or("").to_string(),
                "start_ns" => c.start_ns.to_string(),
                "end_ns" => c.end_ns.to_string(),
                "heap_live_before" => opt(c.heap_live_before),
                "marked_bytes" => opt(c.marked_bytes),
                "mark_ns" => opt(c.mark_ns),
                "mark_cpu_ns" => opt(c.mark_cpu_ns),
                "next_goal" => opt(c.next_goal),
                "heap_live_after" => opt(c.heap_live_after),
                _ => String::new(),
            })
            .collect();
        w.write_record(&row)?;
    }
    w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

/// `assists.csv`: one row per [`ThreadStall`]; the collection, goroutine
/// and work columns, which a log does not tell, empty.
pub fn stalls_csv(label: &str, stalls: &[ThreadStall]) -> std::io::Result<Vec<u8>> {
    assists_csv(stalls.iter().map(|s| AssistRow {
        collector: label,
        gc: None,
        goroutine: None,
        start_ns: s.start_ns,
        duration_ns: s.duration_ns,
        work_bytes: None,
        kind: s.kind,
        thread: &s.thread,
    }))
}

/// The mutator utilization of the log's program over `[0, end_ns]`
/// on `procs` workers.
pub fn utilization(imported: &Imported, procs: usize) -> Utilization {
    mutator_utilization(
        imported.end_ns,
        procs,
        imported.pauses.iter().map(|p| (p.start_ns, p.duration_ns)),
        held_up(&imported.stalls),
        imported.lost_totals.iter().copied(),
    )
}

/// Each thread's stalls as the stretches it was held up, `(start_ns,
/// duration_ns)`: overlapping stalls of one thread are one stretch (ZGC
/// logs a `Relocation Stall` inside the `Allocation Stall` it happened
/// in: `[0.211s] Relocation Stall (main) 1.593ms`, `[0.211s] Allocation
/// Stall (main) 16.672ms`), since a thread waits for one thing at a time.
fn held_up(stalls: &[ThreadStall]) -> Vec<(u64, u64)> {
    let mut by_thread: Vec<(&str, u64, u64)> =
        stalls.iter().map(|s| (s.thread.as_str(), s.start_ns, s.start_ns.saturating_add(s.duration_ns))).collect();
    by_thread.sort_unstable();
    let mut out: Vec<(&str, u64, u64)> = Vec::new();
    for (thread, start, end) in by_thread {
        match out.last_mut() {
            Some((t, _, e)) if *t == thread && start <= *e => *e = (*e).max(end),
            _ => out.push((thread, start, end)),
        }
    }
    out.into_iter().map(|(_, start, end)| (start, end - start)).collect()
}

/// The summary cells the utilization and the stalls give (shares written
/// as a run's are, `0.0`, `0.5`): `mmu_1ms`,
/// `mmu_10ms`, `mmu_100ms` (each when the log is at least that long),
/// `gc_cpu_fraction` (the share of the workers' time lost, as for a run),
/// `assist_count` and `assist_max_ns` when the log has stalls one by one,
/// and `assist_total_ns` (their logged durations, summed as the log prints
/// them, and the reported totals) when it reports any held-up thread.
pub fn facts(imported: &Imported, util: &Utilization) -> Vec<(&'static str, String)> {
    let mut facts = Vec::new();
    for (column, window) in [("mmu_1ms", 1_000_000), ("mmu_10ms", 10_000_000), ("mmu_100ms", 100_000_000)] {
        if window <= imported.end_ns {
            facts.push((column, format!("{:?}", util.mmu(window))));
        }
    }
    if imported.end_ns > 0 {
        facts.push(("gc_cpu_fraction", format!("{:?}", util.lost_fraction())));
    }
    if !imported.stalls.is_empty() {
        facts.push(("assist_count", imported.stalls.len().to_string()));
        let max = imported.stalls.iter().map(|s| s.duration_ns).max().unwrap_or(0);
        facts.push(("assist_max_ns", max.to_string()));
    }
    if !imported.stalls.is_empty() || !imported.lost_totals.is_empty() {
        let stalled: u64 = imported.stalls.iter().map(|s| s.duration_ns).sum();
        let totals: u64 = imported.lost_totals.iter().map(|t| t.lost_ns).sum();
        facts.push(("assist_total_ns", stalled.saturating_add(totals).to_string()));
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::PauseRecord;

    const MS: u64 = 1_000_000;

    fn imported(end_ns: u64) -> Imported {
        Imported {
            pauses: vec![PauseRecord {
                gc: 1,
                phase: "mark-start",
                trigger: None,
                start_ns: 10 * MS,
                duration_ns: MS / 10,
                ttsp_ns: 0,
                safepoints: Vec::new(),
            }],
            stalls: vec![
                ThreadStall {
                    kind: "allocation-stall",
                    thread: "main".into(),
                    start_ns: 50 * MS,
                    duration_ns: 40 * MS,
                },
                ThreadStall { kind: "relocation-stall", thread: "w-1".into(), start_ns: 150 * MS, duration_ns: MS },
            ],
            end_ns,
            ..Imported::default()
        }
    }

    #[test]
    fn a_stall_holds_up_one_worker_in_the_mmu_and_the_summary() {
        let i = imported(200 * MS);
        // On 2 workers the 40 ms stall halves utilization while it lasts.
        let u = utilization(&i, 2);
        assert_eq!(u.mmu(MS / 100), 0.0, "inside the pause");
        assert_eq!(u.mmu(20 * MS), 0.5);
        // On 1 worker it stops the program.
        assert_eq!(utilization(&i, 1).mmu(20 * MS), 0.0);
        let f = facts(&i, &u);
        let at = |c: &str| f.iter().find(|(n, _)| *n == c).map(|(_, v)| v.as_str());
        assert_eq!(at("mmu_10ms"), Some("0.5"));
        assert_eq!(at("mmu_100ms"), Some("0.799"), "the pause (0.1 ms) and half the 40 ms stall: 20.1 ms lost");
        assert_eq!(at("assist_count"), Some("2"));
        assert_eq!(at("assist_total_ns"), Some((41 * MS).to_string().as_str()));
        assert_eq!(at("assist_max_ns"), Some((40 * MS).to_string().as_str()));
        // Lost: the pause (0.1 ms) and half of each stall (20.5 ms), of 200 ms.
        assert_eq!(at("gc_cpu_fraction"), Some("0.103"));
    }

    #[test]
    fn overlapping_stalls_of_one_thread_hold_it_up_once() {
        let stall = |thread: &str, start_ns, duration_ns| ThreadStall {
            kind: "allocation-stall",
            thread: thread.to_string(),
            start_ns,
            duration_ns,
        };
        let stalls = [stall("main", 10, 20), stall("w", 12, 5), stall("main", 15, 2), stall("main", 30, 5)];
        assert_eq!(held_up(&stalls), [(10, 25), (12, 5)]);
    }

    #[test]
    fn a_short_log_has_no_long_windows_and_a_log_without_stalls_no_assist_cells() {
        let mut i = imported(50 * MS);
        i.stalls.clear();
        let f = facts(&i, &utilization(&i, 2));
        let names: Vec<&str> = f.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["mmu_1ms", "mmu_10ms", "gc_cpu_fraction"]);
    }

    #[test]
    fn a_reported_total_is_spread_over_its_interval() {
        let mut i = imported(200 * MS);
        i.stalls.clear();
        // 30 ms of one thread's time paced within 60 ms, on 1 worker: half.
        i.lost_totals = vec![crate::summary::LostTotal { start_ns: 100 * MS, end_ns: 160 * MS, lost_ns: 30 * MS }];
        let u = utilization(&i, 1);
        assert_eq!(u.mmu(20 * MS), 0.5);
        let f = facts(&i, &u);
        let at = |c: &str| f.iter().find(|(n, _)| *n == c).map(|(_, v)| v.as_str());
        assert_eq!((at("assist_count"), at("assist_max_ns")), (None, None), "no single stall logged");
        assert_eq!(at("assist_total_ns"), Some((30 * MS).to_string().as_str()));
    }

    #[test]
    fn cycles_fill_what_the_log_tells_in_a_runs_columns() {
        let c = ImportedCycle {
            gc: 3,
            trigger: Some("explicit"),
            start_ns: 5,
            end_ns: 9,
            heap_live_before: Some(64 << 20),
            heap_live_after: Some(6 << 20),
            ..ImportedCycle::default()
        };
        let text = String::from_utf8(cycles_csv("jvm-zgc", &[c]).unwrap()).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(cycles_header().join(",").as_str()));
        let row: Vec<&str> = lines.next().unwrap().split(',').collect();
        let at = |name: &str| row[cycles_header().iter().position(|c| *c == name).unwrap()];
        assert_eq!(
            (at("collector"), at("gc"), at("trigger"), at("start_ns"), at("end_ns")),
            ("jvm-zgc", "3", "explicit", "5", "9")
        );
        assert_eq!((at("heap_live_before"), at("heap_live_after")), ("67108864", "6291456"));
        assert_eq!((at("marked_bytes"), at("freed_bytes"), at("survival_rate")), ("", "", ""));
    }
}
