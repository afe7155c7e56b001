#!/usr/bin/env bash
# The concurrent collector's stop-the-world pauses, time-to-safepoint, wall
# time and MMU on the runs issue 13 sets targets for, side by side with a
# baseline gcwb binary when one is given. Every figure of the README's
# "Stopping the world in microseconds" table comes from here; results go to
# results/stw-targets/ (table.csv, COMMAND.txt, every compare folder).
#
#   bash scripts/stw-targets.sh                       # this checkout only
#   GCWB_BASE=/path/to/old/gcwb bash scripts/stw-targets.sh   # and a baseline
#   REPEAT=3 OUT=results/stw-targets                  # defaults
#   TABLE_ONLY=1 bash scripts/stw-targets.sh          # redo table.csv only
#
# Each configuration is one `gcwb compare --collectors concurrent --repeat
# $REPEAT`; the table pools the pauses of every repetition (the final
# collection gcwb runs after the replay left out): pause p50/p99/max and
# time-to-safepoint p50/max over all of them, and the median over
# repetitions of wall time, MMU at 10 ms and GC count; and MMU at 10 ms
# counting every processor the collector took, the same way for both
# designs (mmu_10ms_counting_marking: the previous design marked on a thread
# of its own that its mmu_10ms never counted; see the function's comment).
# pause_p99_on_cpu_ns and pause_max_on_cpu_ns pool the pauses counted with
# pauses.csv's ttsp_on_cpu_ns in place of ttsp_ns (the workers' measured time
# off their processors taken out): empty for a build without that column.
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${REPEAT:-3}
OUT=${OUT:-results/stw-targets}
mkdir -p "$OUT"

cargo build --release --locked --bin gcwb >&2
GCWB=$PWD/target/release/gcwb
BASE=${GCWB_BASE:-}

# name|procs|workload options
CONFIGS=(
    "server|2|--workload server --set requests=7000"
    "server|1|--workload server --set requests=7000"
    "binary-trees|2|--workload binary-trees --set max_depth=16 --set workers=64"
    "gcbench|2|--workload gcbench"
)

[[ -n ${TABLE_ONLY:-} ]] || {
    echo "command: ${GCWB_BASE:+GCWB_BASE=$GCWB_BASE }REPEAT=$REPEAT OUT=$OUT bash scripts/stw-targets.sh"
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "gcwb: $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' (with uncommitted changes)')"
    echo "machine: nproc=$(nproc) mem=$(awk '/MemTotal/ { printf "%d GiB", $2 / 1048576 }' /proc/meminfo) $(rustc --version)"
} >"$OUT/COMMAND.txt"

run_config() { # BINARY LABEL NAME PROCS OPTIONS...
    local bin=$1 label=$2 name=$3 procs=$4
    shift 4
    local dir="$OUT/$label/$name-procs$procs"
    echo "+ $bin compare $* --collectors concurrent --procs $procs --repeat $REPEAT --no-charts -q --out $dir" |
        tee -a "$OUT/COMMAND.txt" >&2
    "$bin" compare "$@" --collectors concurrent --procs "$procs" --repeat "$REPEAT" --no-charts -q --out "$dir" >/dev/null
}

for c in "${CONFIGS[@]}"; do
    [[ -n ${TABLE_ONLY:-} ]] && break # TABLE_ONLY=1: redo table.csv from the folders already there
    IFS='|' read -r name procs opts <<<"$c"
    # shellcheck disable=SC2086 # the options are words
    run_config "$GCWB" new "$name" "$procs" $opts
    if [[ -n $BASE ]]; then
        # shellcheck disable=SC2086
        run_config "$BASE" base "$name" "$procs" $opts
    fi
done

python3 - "$OUT" <<'EOF' >"$OUT/table.csv"
import csv, glob, os, statistics, sys
out = sys.argv[1]
def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else ""
GRID_NS, WINDOW_NS = 10_000, 10_000_000

def mmu_counting_marking(rep):
    """MMU(10 ms) on a 10 µs grid, counting every processor the collector
    took: pauses (all of them), assists and — the two designs differ here —
    the marking beside the mutators: the background slices that take a
    worker (dedicated, fractional) where the replay records them
    (gc_slices.csv), else the separate mark thread's CPU time
    (cycles.csv background_mark_cpu_ns) spread over each cycle's mark."""
    summary = next(csv.DictReader(open(os.path.join(rep, "summary.csv"))))
    wall, procs = int(summary["wall_ns"]), int(summary["procs"])
    lost = [0.0] * (wall // GRID_NS + 1)
    def add(start, dur, frac):
        t, end = max(0, start), min(wall, start + dur)
        while t < end:
            b = t // GRID_NS
            nxt = min(end, (b + 1) * GRID_NS)
            lost[b] += (nxt - t) / GRID_NS * frac
            t = nxt
    for r in csv.DictReader(open(os.path.join(rep, "pauses.csv"))):
        if r["trigger"] != "final":
            add(int(r["start_ns"]), int(r["duration_ns"]), 1.0)
    for r in csv.DictReader(open(os.path.join(rep, "assists.csv"))):
        add(int(r["start_ns"]), int(r["duration_ns"]), 1 / procs)
    slices = os.path.join(rep, "gc_slices.csv")
    if os.path.exists(slices):
        for r in csv.DictReader(open(slices)):
            if r["mode"] != "idle":
                add(int(r["start_ns"]), int(r["duration_ns"]), 1 / procs)
    else:
        for r in csv.DictReader(open(os.path.join(rep, "cycles.csv"))):
            if r["trigger"] != "final" and int(r["mark_ns"] or 0) > 0:
                mark_ns = int(r["mark_ns"])
                share = min(1.0, int(r["background_mark_cpu_ns"] or 0) / mark_ns)
                add(int(r["start_ns"]), mark_ns, share / procs)
    w = WINDOW_NS // GRID_NS
    if len(lost) <= w:
        return ""
    acc = [0.0]
    for x in lost:
        acc.append(acc[-1] + min(1.0, x))
    worst = max(acc[i + w] - acc[i] for i in range(len(lost) - w + 1))
    return f"{1 - worst / w:.4f}"

print("binary,run,procs,repeats,gc_count_median,pauses,pause_p50_ns,pause_p99_ns,pause_max_ns,"
      "ttsp_p50_ns,ttsp_max_ns,wall_ns_median,mmu_10ms_median,mmu_10ms_counting_marking_median,"
      "pause_p99_on_cpu_ns,pause_max_on_cpu_ns")
for label in ("base", "new"):
    for d in sorted(glob.glob(os.path.join(out, label, "*"))):
        name, procs = os.path.basename(d).rsplit("-procs", 1)
        pauses, ttsp, on_cpu = [], [], []
        for f in glob.glob(os.path.join(d, "reps", "*", "pauses.csv")):
            for r in csv.DictReader(open(f)):
                if r["trigger"] != "final":
                    pauses.append(int(r["duration_ns"]))
                    ttsp.append(int(r["ttsp_ns"]))
                    if r.get("ttsp_on_cpu_ns"):
                        on_cpu.append(int(r["duration_ns"]) - int(r["ttsp_ns"]) + int(r["ttsp_on_cpu_ns"]))
        on_cpu_cells = f"{pct(on_cpu, .99)},{max(on_cpu)}" if len(on_cpu) == len(pauses) and on_cpu else ","

        runs = [r for f in glob.glob(os.path.join(d, "reps", "*", "summary.csv")) for r in csv.DictReader(open(f))]
        med = lambda k: statistics.median(float(r[k]) for r in runs if r[k] != "")
        counted = [mmu_counting_marking(r) for r in glob.glob(os.path.join(d, "reps", "*"))]
        counted = statistics.median(float(x) for x in counted if x != "")
        print(f"{label},{name},{procs},{len(runs)},{med('gc_count'):g},{len(pauses)},{pct(pauses, .5)},"
              f"{pct(pauses, .99)},{max(pauses)},{pct(ttsp, .5)},{max(ttsp)},{med('wall_ns'):.0f},{med('mmu_10ms'):.4f},"
              f"{counted:.4f},{on_cpu_cells}")
EOF
column -s, -t <"$OUT/table.csv" >&2
