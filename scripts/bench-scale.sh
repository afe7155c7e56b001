#!/usr/bin/env bash
# Measures how gcwb scales with the trace: load time and memory, prepared
# bytes an event, replay speed, on the GCBench default trace (54 M events,
# from the trace and from its prepared file) and a 300 M-event queue trace. Every figure of the README's "Scale" table
# comes from here; results go to results/bench-scale/ (scale.csv, the raw
# outputs, MACHINE.txt).
#
#   bash scripts/bench-scale.sh            # everything (about 15 minutes on 2 cores, 24 GiB)
#   GCWB_SCALE_SMALL=1 bash scripts/bench-scale.sh   # small sizes, to try the script (in /tmp)
#
# Wall time and max RSS are GNU time's (/usr/bin/time, `apt-get install
# time` if missing); load_ns and wall_ns are from gcwb's summary.csv.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${GCWB_SCALE_SMALL:-}" = 1 ]; then
    OUT=/tmp/gcwb-bench-scale
    GCBENCH_SET=(--set stretch_depth=14 --set long_lived_depth=12)
    QUEUE_EVENTS=3000000
    RANDOM_EVENTS=500000
else
    OUT=results/bench-scale
    GCBENCH_SET=()
    QUEUE_EVENTS=300000000
    RANDOM_EVENTS=20000000
fi
WORK=${GCWB_SCALE_TMP:-/tmp/gcwb-scale-traces}
mkdir -p "$OUT" "$WORK"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time; }

cargo build --release --locked --bin gcwb
GCWB=$PWD/target/release/gcwb
CSV=$OUT/scale.csv
echo "step,command,events,wall_s,max_rss_bytes,rss_bytes_per_event,load_ns,replay_wall_ns,replay_events_per_s" >"$CSV"

# measure STEP EVENTS CMD...: one row of scale.csv from GNU time's wall and max RSS.
measure() {
    local step=$1 events=$2
    shift 2
    echo "+ $*" >&2
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >"$OUT/$step.out" 2>"$OUT/$step.err" || {
        echo "$step failed:" >&2
        cat "$OUT/$step.err" >&2
        exit 1
    }
    read -r wall kb <"$WORK/time.txt"
    local rss=$((kb * 1024))
    local per=""
    [ "$events" -gt 0 ] && per=$(awk -v r="$rss" -v e="$events" 'BEGIN { printf "%.1f", r / e }')
    echo "$step,\"$*\",$events,$wall,$rss,$per,,," >>"$CSV"
}

# replay_rows STEP DIR: rows of scale.csv for each collector of DIR/summary.csv.
replay_rows() {
    local step=$1 dir=$2
    python3 - "$step" "$dir/summary.csv" >>"$CSV" <<'EOF'
import csv, sys
step, path = sys.argv[1], sys.argv[2]
for r in csv.DictReader(open(path)):
    print(f"{step}:{r['collector']},,{r['events']},,,,{r['load_ns']},{r['wall_ns']},{float(r['events_per_s']):.0f}")
EOF
}

events_of() { sed -n 's/^wrote .*: \([0-9]*\) events.*/\1/p' "$OUT/$1.out"; }

# 1. GCBench: generate, check, run three collectors, verified run.
measure gen-gcbench 0 "$GCWB" gen gcbench "${GCBENCH_SET[@]}" -o "$WORK/gcb.gctb"
N=$(events_of gen-gcbench)
measure check-gcbench "$N" "$GCWB" check "$WORK/gcb.gctb"
measure run-gcbench "$N" "$GCWB" run "$WORK/gcb.gctb" --collector none,mark-sweep,concurrent --procs 1 --no-charts -q --out "$OUT/run-gcbench"
replay_rows run-gcbench "$OUT/run-gcbench"
measure run-gcbench-verify "$N" "$GCWB" run "$WORK/gcb.gctb" --collector mark-sweep --procs 1 --verify --no-charts -q --out "$OUT/run-gcbench-verify"
replay_rows run-gcbench-verify "$OUT/run-gcbench-verify"

# 1b. The same trace prepared once (`gcwb prepare`, oracle included), then
#     checked and run (plain and verified) from the prepared file: the load
#     is reading the analysis back.
measure prepare-gcbench "$N" "$GCWB" prepare "$WORK/gcb.gctb" -q -o "$WORK/gcb.gcwbp"
measure check-gcbench-prepared "$N" "$GCWB" check "$WORK/gcb.gcwbp"
measure run-gcbench-prepared "$N" "$GCWB" run "$WORK/gcb.gcwbp" --collector none,mark-sweep,concurrent --procs 1 --no-charts -q --out "$OUT/run-gcbench-prepared"
replay_rows run-gcbench-prepared "$OUT/run-gcbench-prepared"
measure run-gcbench-prepared-verify "$N" "$GCWB" run "$WORK/gcb.gcwbp" --collector mark-sweep --procs 1 --verify --no-charts -q --out "$OUT/run-gcbench-prepared-verify"
replay_rows run-gcbench-prepared-verify "$OUT/run-gcbench-prepared-verify"
rm -f "$WORK/gcb.gcwbp"

# 2. Replay speed with no collector on one worker: a random trace (shared
#    globals, 8 goroutines at once).
measure gen-random 0 "$GCWB" gen random --set events="$RANDOM_EVENTS" -o "$WORK/random.gctb"
N=$(events_of gen-random)
measure run-random "$N" "$GCWB" run "$WORK/random.gctb" --collector none --procs 1 --no-charts -q --out "$OUT/run-random"
replay_rows run-random "$OUT/run-random"

# 3. A 300 M-event trace under mark-sweep and concurrent at --procs 2.
measure gen-queue 0 "$GCWB" gen queue --set events="$QUEUE_EVENTS" -o "$WORK/queue.gctb"
N=$(events_of gen-queue)
measure run-queue "$N" "$GCWB" run "$WORK/queue.gctb" --collector mark-sweep,concurrent --procs 2 --no-charts -q --out "$OUT/run-queue"
replay_rows run-queue "$OUT/run-queue"
rm -f "$WORK/queue.gctb"

cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
{
    echo "command: bash scripts/bench-scale.sh${GCWB_SCALE_SMALL:+ (GCWB_SCALE_SMALL=1)}"
    echo "date: $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
    echo "machine: nproc=$(nproc) mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) arch=$(uname -m) cpu=\"${cpu:-unknown}\" $(rustc --version)"
} >"$OUT/MACHINE.txt"
python3 - "$CSV" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
rows = [[c if len(c) < 40 else c[:37] + "..." for c in r] for r in rows]
w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
for r in rows:
    print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)))
EOF
echo "+ wrote $CSV and $OUT/MACHINE.txt"
