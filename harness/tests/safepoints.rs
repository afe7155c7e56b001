//! Time to safepoint per worker: `safepoints.csv` has a row for every worker
//! that was running a goroutine when a pause was requested, and
//! `pauses.csv`'s `late_worker`, `late_at`, `late_off_cpu_ns` name the one
//! each pause waited for. Nothing asserted here depends on the clock or on
//! the kernel's scheduling: the CSV test checks bounds that hold by
//! construction (a worker's time to safepoint is counted from the pause's
//! own request and ends before the pause's does), and the replay test
//! drives its interleaving with hooks.

mod common;

use collectors::background::{SliceEnd, Work};
use collectors::host::Slot;
use collectors::{Address, Capabilities, Collector, Heap, HeapError, Host, Mutator, Trigger};
use common::*;
use harness::metrics::SafepointAt;
use harness::replay::hooks::ReplayHooks;
use harness::replay::{replay, ReplayOptions};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

const SAFEPOINTS_COLUMNS: [&str; 8] =
    ["gc", "phase", "pause_start_ns", "worker", "ttsp_ns", "at", "off_cpu_ns", "collector"];
const AT_NAMES: [&str; 7] = ["event", "work", "assist", "dep-wait", "switch", "gc-start", "hook"];

fn num(row: &HashMap<String, String>, name: &str) -> u64 {
    col(row, name).parse().unwrap_or_else(|_| panic!("{name} is not a whole number in {row:?}"))
}

#[test]
fn safepoints_csv_rows_belong_to_pauses_and_the_last_to_arrive_is_the_pauses_late_worker() {
    let dir = tmp();
    let args = [
        "run",
        "--workload",
        "server",
        "--set",
        "requests=300",
        "--collector",
        "mark-sweep,concurrent",
        "--procs",
        "2",
        "-q",
        "--no-charts",
        "--out",
        "OUT",
    ];
    ok_in(dir.path(), &args);
    let out = dir.path().join("OUT");
    let pauses = read_csv(&out.join("pauses.csv"));
    assert_eq!(
        pauses.headers,
        [
            "gc",
            "phase",
            "start_ns",
            "duration_ns",
            "ttsp_ns",
            "trigger",
            "collector",
            "late_worker",
            "late_at",
            "late_off_cpu_ns",
            "ttsp_on_cpu_ns"
        ],
        "the old columns first, unchanged; the new ones at the end"
    );
    let safepoints = read_csv(&out.join("safepoints.csv"));
    assert_eq!(safepoints.headers, SAFEPOINTS_COLUMNS);

    // Each pause's rows, in file order (the order the workers arrived).
    let key = |r: &HashMap<String, String>, start: &str| {
        (col(r, "collector").to_string(), num(r, "gc"), col(r, "phase").to_string(), num(r, start))
    };
    let mut rows_of: HashMap<_, Vec<&HashMap<String, String>>> = HashMap::new();
    for r in &safepoints.rows {
        rows_of.entry(key(r, "pause_start_ns")).or_default().push(r);
    }
    let pause_keys: Vec<_> = pauses.rows.iter().map(|p| key(p, "start_ns")).collect();
    for k in rows_of.keys() {
        assert!(pause_keys.contains(k), "safepoints.csv has rows for {k:?}, which is no pause in pauses.csv");
    }
    for collector in ["mark-sweep", "concurrent"] {
        assert!(pauses.rows.iter().any(|p| col(p, "collector") == collector), "{collector} paused");
    }

    for p in &pauses.rows {
        let rows = rows_of.get(&key(p, "start_ns")).map_or(&[][..], Vec::as_slice);
        let Some(last) = rows.last() else {
            for c in ["late_worker", "late_at", "late_off_cpu_ns"] {
                assert_eq!(col(p, c), "", "no worker was running: {c} is empty in {p:?}");
            }
            assert_eq!(col(p, "ttsp_on_cpu_ns"), col(p, "ttsp_ns"), "no worker's time to take out: {p:?}");
            continue;
        };
        // Bounds by construction: the workers' times are counted from the
        // pause's request, and the stop ends after the last arrived.
        let (ttsp, duration) = (num(p, "ttsp_ns"), num(p, "duration_ns"));
        assert!(ttsp <= duration, "{p:?}");
        let mut workers = Vec::new();
        for r in rows {
            assert!(num(r, "ttsp_ns") <= ttsp, "a worker arrived after its pause's time to safepoint: {r:?} {p:?}");
            assert!(AT_NAMES.contains(&col(r, "at")), "{r:?}");
            assert!(num(r, "worker") < 2, "two workers: {r:?}");
            if !col(r, "off_cpu_ns").is_empty() {
                assert!(num(r, "off_cpu_ns") <= num(r, "ttsp_ns"), "off the CPU longer than it took: {r:?}");
            }
            workers.push(num(r, "worker"));
        }
        let max_ttsp = rows.iter().map(|r| num(r, "ttsp_ns")).max().unwrap();
        assert_eq!(num(last, "ttsp_ns"), max_ttsp, "rows in arrival order: the last took longest: {rows:?}");
        assert_eq!(col(p, "late_worker"), col(last, "worker"), "{p:?} vs {last:?}");
        assert_eq!(col(p, "late_at"), col(last, "at"), "{p:?} vs {last:?}");
        assert_eq!(col(p, "late_off_cpu_ns"), col(last, "off_cpu_ns"), "{p:?} vs {last:?}");
        // Each worker's way with its measured time off its processor taken
        // out (none measured: all of it); the longest of them.
        let on_cpu =
            rows.iter().map(|r| num(r, "ttsp_ns") - col(r, "off_cpu_ns").parse::<u64>().unwrap_or(0)).max().unwrap();
        assert_eq!(num(p, "ttsp_on_cpu_ns"), on_cpu.min(ttsp), "{p:?} vs {rows:?}");
        workers.sort();
        workers.dedup();
        assert_eq!(workers.len(), rows.len(), "a worker listed twice for one pause: {rows:?}");
        assert_ne!(col(p, "trigger"), "final", "the final collection runs after the workers have stopped: {p:?}");
    }
}

/// Goroutine `g2` (dense index 1), whose assist waits for the stop, and
/// `g3` (dense index 2), whose `gc` event requests it.
const ASSISTING: usize = 1;
const COLLECTING: usize = 2;

/// Raised once `g2` is inside its assist (its worker running it).
#[derive(Default)]
struct Flag {
    raised: Mutex<bool>,
    cv: Condvar,
}

impl Flag {
    fn raise(&self) {
        *self.raised.lock().unwrap() = true;
        self.cv.notify_all();
    }

    fn wait(&self) {
        let raised = self.raised.lock().unwrap();
        let (raised, timeout) = self.cv.wait_timeout_while(raised, Duration::from_secs(60), |r| !*r).unwrap();
        assert!(*raised && !timeout.timed_out(), "g2 never started its assist");
    }
}

/// Mark-sweep, except that g2's first allocation owes an assist whose first
/// step waits, with g2 still running, until a stop the world is requested.
struct AssistUntilStop {
    inner: Box<dyn Collector>,
    armed: AtomicBool,
    waited: AtomicBool,
    in_assist: Arc<Flag>,
}

impl Collector for AssistUntilStop {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn heap(&self) -> &Heap {
        self.inner.heap()
    }
    fn new_mutator(&self) -> Mutator {
        self.inner.new_mutator()
    }
    fn alloc(&self, m: &mut Mutator, size: u64, ptr_slots: u32) -> Result<Address, HeapError> {
        let a = self.inner.alloc(m, size, ptr_slots)?;
        if m.goroutine == ASSISTING && !self.armed.swap(true, Ordering::SeqCst) {
            m.assist_bytes = 1;
        }
        Ok(a)
    }
    fn write_pointer(&self, m: &mut Mutator, slot: Address, value: Address) {
        self.inner.write_pointer(m, slot, value)
    }
    fn write_global(&self, m: &mut Mutator, slot: &Slot, value: Address) {
        self.inner.write_global(m, slot, value)
    }
    fn on_spawn(&self, m: &mut Mutator, child: usize, args: &[Address]) {
        self.inner.on_spawn(m, child, args)
    }
    fn assist(&self, host: &dyn Host, m: &mut Mutator) -> u64 {
        if m.goroutine != ASSISTING || self.waited.swap(true, Ordering::SeqCst) {
            m.assist_bytes = 0;
            return 0;
        }
        self.in_assist.raise();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !host.stop_requested() {
            assert!(Instant::now() < deadline, "no stop was requested while g2 assisted");
            std::thread::yield_now();
        }
        // One step done, the debt left: the replayer checks for the stop
        // before the next step.
        1
    }
    fn background_slice(&self, host: &dyn Host, work: Work, should_yield: &dyn Fn() -> bool) -> SliceEnd {
        self.inner.background_slice(host, work, should_yield)
    }
    fn collect(&self, host: &dyn Host, trigger: Trigger) {
        self.inner.collect(host, trigger)
    }
    fn release_mutator(&self, m: &mut Mutator) {
        self.inner.release_mutator(m)
    }
    fn cycles(&self) -> u64 {
        self.inner.cycles()
    }
}

/// Holds g3 before its `gc` until g2 is inside its assist.
struct GcWhileAssisting {
    in_assist: Arc<Flag>,
}

impl ReplayHooks for GcWhileAssisting {
    fn before_event(&self, g: usize, seq: u32) {
        if g == COLLECTING && seq == 0 {
            self.in_assist.wait();
        }
    }
}

#[test]
fn a_worker_stopped_between_assist_steps_is_the_pauses_late_worker_at_assist() {
    let (_, analysis) = parse(
        "gctrace 1\nglobals 0\ng1 call 1\ng1 go g2 1\ng1 go g3 1\n\
         g2 alloc l0 b1 16 0 new heap\ng2 set l0 nil\ng3 gc\n",
    );
    let in_assist = Arc::new(Flag::default());
    let c = AssistUntilStop {
        inner: collector("mark-sweep", 2),
        armed: AtomicBool::new(false),
        waited: AtomicBool::new(false),
        in_assist: in_assist.clone(),
    };
    let hooks: Arc<dyn ReplayHooks> = Arc::new(GcWhileAssisting { in_assist });
    let r = replay(
        &analysis,
        &c,
        &ReplayOptions { procs: 2, time_slice_ns: None, hooks: Some(hooks), ..Default::default() },
    );
    assert!(r.fatal.is_none(), "{:?}", r.fatal);
    let triggers: Vec<_> = r.pauses.iter().map(|p| p.trigger).collect();
    assert_eq!(triggers, [Some("explicit"), Some("final")], "{:?}", r.pauses);
    let gc = &r.pauses[0];
    // g3's worker left to start the collection; g2's was running its
    // assist, and parked at its next check.
    let listed: Vec<SafepointAt> = gc.safepoints.iter().map(|a| a.at).collect();
    assert_eq!(listed, [SafepointAt::Assist], "{:?}", gc.safepoints);
    let late = gc.late_worker().expect("a worker was running");
    assert!(late.worker < 2, "{late:?}");
    assert!(late.ttsp_ns <= gc.ttsp_ns && gc.ttsp_ns <= gc.duration_ns, "{gc:?}");
    assert_eq!(r.assists.len(), 1, "g2's assist is recorded: {:?}", r.assists);
    assert!(r.pauses[1].safepoints.is_empty(), "the final collection runs after the workers have stopped");
}
