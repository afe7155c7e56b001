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
#
# Each configuration is one `gcwb compare --collectors concurrent --repeat
# $REPEAT`; the table pools the pauses of every repetition (the final
# collection gcwb runs after the replay left out): pause p50/p99/max and
# time-to-safepoint p50/max over all of them, and the median over
# repetitions of wall time, MMU at 10 ms and GC count.
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

{
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
print("binary,run,procs,repeats,gc_count_median,pauses,pause_p50_ns,pause_p99_ns,pause_max_ns,"
      "ttsp_p50_ns,ttsp_max_ns,wall_ns_median,mmu_10ms_median")
for label in ("base", "new"):
    for d in sorted(glob.glob(os.path.join(out, label, "*"))):
        name, procs = os.path.basename(d).rsplit("-procs", 1)
        pauses, ttsp = [], []
        for f in glob.glob(os.path.join(d, "reps", "*", "pauses.csv")):
            for r in csv.DictReader(open(f)):
                if r["trigger"] != "final":
                    pauses.append(int(r["duration_ns"]))
                    ttsp.append(int(r["ttsp_ns"]))
        runs = [r for f in glob.glob(os.path.join(d, "reps", "*", "summary.csv")) for r in csv.DictReader(open(f))]
        med = lambda k: statistics.median(float(r[k]) for r in runs if r[k] != "")
        print(f"{label},{name},{procs},{len(runs)},{med('gc_count'):g},{len(pauses)},{pct(pauses, .5)},"
              f"{pct(pauses, .99)},{max(pauses)},{pct(ttsp, .5)},{max(ttsp)},{med('wall_ns'):.0f},{med('mmu_10ms'):.4f}")
EOF
column -s, -t <"$OUT/table.csv" >&2
