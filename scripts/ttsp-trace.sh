#!/usr/bin/env bash
# Why a worker was late for a stop: records every context switch on the
# machine (perf's sched:sched_switch, system-wide) during `gcwb run` of the
# server workload under `concurrent --procs 2`, RUNS times, and lists each
# run's longest stretches a replay worker (thread `mutator-N`) spent off its
# CPU: whether it was runnable and taken off (state R: who ran instead) or
# asleep (state S: waiting for something), beside the run's longest
# time-to-safepoint from safepoints.csv. Results in results/ttsp-trace/
# (gaps.txt; each run's summary.csv, safepoints.csv, pauses.csv and
# run.toml; MACHINE.txt).
#
#   bash scripts/ttsp-trace.sh          # RUNS=5 by default; needs perf and root
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-results/ttsp-trace}
RUNS=${RUNS:-5}
command -v perf >/dev/null || { echo "needs perf (apt-get install linux-perf)" >&2; exit 1; }
cargo build --release --locked --bin gcwb
GCWB=$PWD/target/release/gcwb
mkdir -p "$OUT"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
: >"$OUT/gaps.txt"
for i in $(seq 1 "$RUNS"); do
    perf record -q -e sched:sched_switch -a -o "$TMP/sched.data" -- \
        "$GCWB" run --workload server --set requests=7000 --collector concurrent --procs 2 \
        --no-charts -q --out "$OUT/run-$i" >/dev/null
    perf script -i "$TMP/sched.data" -F comm,tid,cpu,time,trace >"$TMP/sched.txt" 2>/dev/null
    python3 - "$i" "$TMP/sched.txt" "$OUT/run-$i" >>"$OUT/gaps.txt" <<'EOF'
import csv, re, sys
run, trace, folder = sys.argv[1], sys.argv[2], sys.argv[3]
switch = re.compile(r'\s*\S.*?\s+\d+\s+\[(\d+)\]\s+([\d.]+):\s+prev_comm=(\S+) prev_pid=\d+ prev_prio=\d+ '
                    r'prev_state=(\S+) ==> next_comm=(\S+)')
out, gaps = {}, []
for line in open(trace):
    m = switch.match(line)
    if not m:
        continue
    cpu, t, prev, state, nxt = int(m[1]), float(m[2]), m[3], m[4], m[5]
    if prev.startswith('mutator'):
        out[prev] = (t, cpu, state, nxt)
    if nxt.startswith('mutator') and nxt in out:
        t0, c0, st, by = out.pop(nxt)
        gaps.append((t - t0, nxt, c0, st, by))
gaps.sort(reverse=True)
ttsp = max(csv.DictReader(open(f'{folder}/safepoints.csv')), key=lambda r: int(r['ttsp_ns'] or 0), default=None)
print(f'run {run}: longest time-to-safepoint', end=' ')
print('none' if ttsp is None else f"{int(ttsp['ttsp_ns']) / 1e3:.0f} us (worker {ttsp['worker']}, "
      f"at {ttsp['at']}, off CPU {ttsp['off_cpu_ns'] or '?'} ns)")
for d, who, cpu, st, by in gaps[:8]:
    kind = 'runnable, taken off for' if st.startswith('R') else 'asleep; the CPU went to'
    print(f'  {d * 1e3:6.3f} ms  {who} on cpu{cpu}: {kind} {by}')
EOF
    # Keep what the listing refers to; the rest of each run folder is large.
    find "$OUT/run-$i" -type f ! -name summary.csv ! -name safepoints.csv ! -name pauses.csv ! -name run.toml -delete
done
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
{
    echo "command: bash scripts/ttsp-trace.sh (RUNS=$RUNS)"
    echo "date: $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
    echo "gcwb: $(git rev-parse --short HEAD)"
    echo "machine: nproc=$(nproc) arch=$(uname -m) cpu=\"${cpu:-unknown}\" kernel=$(uname -r)"
} >"$OUT/MACHINE.txt"
cat "$OUT/gaps.txt"
