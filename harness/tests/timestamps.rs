//! Every timestamp a run writes counts from the start of the replay: the
//! pauses (`pauses.csv`), the cycles (`cycles.csv`) and the mark assists
//! (`assists.csv`) of the replay all lie within `[0, wall_ns]`
//! (`summary.csv`), with or without `--verify` (whose verifier is built
//! before the replay starts, and must not shift them). The final collection,
//! which gcwb runs after the replay (trigger `final`), is left out: it is
//! after `wall_ns` by design.
//!
//! The bound holds whatever the scheduling, so the test is deterministic
//! in what it asserts (the runs themselves are timed).

mod common;
use common::*;
use std::collections::HashMap;
use std::path::Path;

/// A column as a number.
fn num(row: &HashMap<String, String>, name: &str) -> u64 {
    let v = col(row, name);
    v.parse().unwrap_or_else(|_| panic!("{name} = {v:?} is not a whole number in {row:?}"))
}

/// Asserts that `[start, start + duration]` lies within `[0, wall]`.
fn within(what: &str, start: u64, end: u64, wall: u64) {
    assert!(start <= end, "{what}: ends at {end} ns, before it starts at {start} ns");
    assert!(end <= wall, "{what}: [{start}, {end}] ns runs past the replay's end, wall_ns {wall}");
}

/// Runs `gcwb run` with `extra` options and checks the replay's records.
fn check(extra: &[&str]) {
    let dir = tmp();
    let mut args = vec![
        "run",
        "--workload",
        "server",
        "--set",
        "requests=300",
        "--collector",
        "mark-sweep,concurrent",
        "--procs",
        "2",
        "--quiet",
        "--no-charts",
        "--out",
        "out",
    ];
    args.extend_from_slice(extra);
    let o = gcwb_in(dir.path(), &args);
    assert!(matches!(o.status.code(), Some(0)), "{}", describe(&args, &o));
    let out = dir.path().join("out");
    let file = |name: &str| read_csv(&out.join(name));
    let wall: HashMap<String, u64> =
        file("summary.csv").rows.iter().map(|r| (col(r, "collector").to_string(), num(r, "wall_ns"))).collect();
    let wall_of = |r: &HashMap<String, String>| wall[col(r, "collector")];
    let ctx = |what: &str, r: &HashMap<String, String>| format!("{what} of {} {extra:?}", col(r, "collector"));

    let pauses = file("pauses.csv");
    let mut counted = 0;
    for p in pauses.rows.iter().filter(|p| col(p, "trigger") != "final") {
        let start = num(p, "start_ns");
        within(&ctx(&format!("pause of gc {}", col(p, "gc")), p), start, start + num(p, "duration_ns"), wall_of(p));
        counted += 1;
    }
    assert!(counted > 4, "too few pauses to tell anything: {counted}");
    for c in file("cycles.csv").rows.iter().filter(|c| col(c, "trigger") != "final") {
        within(&ctx(&format!("cycle {}", col(c, "gc")), c), num(c, "start_ns"), num(c, "end_ns"), wall_of(c));
    }
    for a in &file("assists.csv").rows {
        let start = num(a, "start_ns");
        within(&ctx("an assist", a), start, start + num(a, "duration_ns"), wall_of(a));
    }
    assert_first_pause_early(&out, &wall);
}

/// The first pause comes early in the replay (the workload allocates from
/// its first events): within the first half, not after a verifier's setup.
fn assert_first_pause_early(out: &Path, wall: &HashMap<String, u64>) {
    let pauses = read_csv(&out.join("pauses.csv"));
    for (collector, &w) in wall {
        let first = pauses.rows.iter().filter(|p| col(p, "collector") == collector).map(|p| num(p, "start_ns")).min();
        let first = first.unwrap_or_else(|| panic!("{collector}: no pause"));
        assert!(first < w / 2, "{collector}: first pause at {first} ns of a {w} ns replay");
    }
}

#[test]
fn pauses_cycles_and_assists_lie_within_the_replay() {
    check(&[]);
}

#[test]
fn pauses_cycles_and_assists_lie_within_the_replay_under_the_verifier() {
    check(&["--verify"]);
}
