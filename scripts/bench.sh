#!/usr/bin/env bash
# Reproduces the README's performance figures: the criterion benchmarks
# (allocation per size class, write barriers, parallel marking, sweeping,
# trace loading, MMU computation, replay speed, the replay's safepoint
# check per event), then a
# 10M-event memops replay with `gcwb run`, results in results/bench-memops10m/
# with the machine they came from in MACHINE.txt.
#
# Extra arguments go to every criterion benchmark, e.g.
#   scripts/bench.sh --quick
# Criterion's own reports are in target/criterion/.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=results/bench-memops10m
TRACE=/tmp/memops10m.gctb

run() {
    echo "+ $*"
    "$@"
}

run cargo bench --locked -p gcwb-collectors --bench alloc -- "$@"
run cargo bench --locked -p gcwb-collectors --bench barrier -- "$@"
run cargo bench --locked -p gcwb-collectors --bench mark -- "$@"
run cargo bench --locked -p gcwb-collectors --bench mark_work -- "$@"
run cargo bench --locked -p gcwb-collectors --bench stack -- "$@"
run cargo bench --locked -p gcwb-workloads --bench load -- "$@"
run cargo bench --locked -p gcwb-harness --bench mmu -- "$@"
run cargo bench --locked -p gcwb-harness --bench replay -- "$@"
run cargo bench --locked -p gcwb-harness --bench safepoint -- "$@"

run cargo run --locked --release --bin gcwb -- gen memops --set events=10000000 -o "$TRACE"
run cargo run --locked --release --bin gcwb -- run "$TRACE" --procs 1 --collector none,mark-sweep --out "$OUT" --quiet

mkdir -p "$OUT"
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
{
    echo "date: $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
    echo "machine: nproc=$(nproc) arch=$(uname -m) cpu=\"${cpu:-unknown}\" $(rustc --version)"
} >"$OUT/MACHINE.txt"
echo "+ wrote $OUT/MACHINE.txt"
cat "$OUT/MACHINE.txt"
