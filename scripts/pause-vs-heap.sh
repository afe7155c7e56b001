#!/usr/bin/env bash
# Pause times against the live heap: the `server` workload (64 goroutines,
# --procs 2) with its shared cache sized for about 10 MB, 100 MB and 1 GB
# live, and `binary-trees` with 64 workers, under every collector.
# Requests are scaled so the run allocates a few times the live heap (so
# cycles run at the full live heap, not only while the cache is built).
#
# Usage: scripts/pause-vs-heap.sh [OUT]   (default OUT: results/pause-vs-heap)
#   SIZES="10 100" scripts/pause-vs-heap.sh   # skip the 1 GB run (~2 min, ~12 GB RAM)
# Writes OUT/<name>/ (gcwb's CSVs per run), OUT/table.csv (one row per run
# and collector) and OUT/COMMAND.txt (this command, the machine).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/pause-vs-heap}
SIZES=${SIZES:-"10 100 1000"}
PROCS=${PROCS:-2}
cargo build --release --locked -q -p gcwb-harness
GCWB=target/release/gcwb
mkdir -p "$OUT"

run() { # name, then gcwb run arguments
  local name=$1
  shift
  echo "== $name" >&2
  "$GCWB" run "$@" --collector all --procs "$PROCS" --quiet --out "$OUT/$name" >&2
}

# About 1 KiB per cache entry; about 2.1 KB allocated per request.
for mb in $SIZES; do
  entries=$((mb * 1000))
  requests=$((mb * 1000 * 1000 * 2 / 2100 / 64 + 200))
  run "server-${mb}mb" --workload server --set goroutines=64 --set "cache_entries=$entries" --set "requests=$requests"
done
run "binary-trees-16" --workload binary-trees --set max_depth=16 --set workers=64

python3 - "$OUT" <<'EOF'
import csv, os, sys
out = sys.argv[1]
cols = ["run", "collector", "final_live_bytes", "peak_heap_bytes", "gc_count", "wall_ns",
        "sweep_term_p99_ns", "sweep_term_max_ns", "mark_term_p99_ns", "mark_term_max_ns",
        "stw_full_p99_ns", "stw_full_max_ns", "pause_max_ns", "mmu_10ms", "assist_count",
        "assist_total_ns", "mark_total_ns", "mark_cpu_total_ns", "marked_bytes_total",
        "mark_mb_per_s", "mark_mb_per_cpu_s"]
rows = []
for name in sorted(os.listdir(out)):
    path = os.path.join(out, name, "summary.csv")
    if not os.path.exists(path):
        continue
    for r in csv.DictReader(open(path)):
        r["run"] = name
        ns = int(r["mark_total_ns"] or 0)
        r["mark_mb_per_s"] = f"{int(r['marked_bytes_total']) / ns * 1e3:.1f}" if ns else ""
        cpu = int(r["mark_cpu_total_ns"] or 0)
        r["mark_mb_per_cpu_s"] = f"{int(r['marked_bytes_total']) / cpu * 1e3:.1f}" if cpu else ""
        rows.append({c: r.get(c, "") for c in cols})
with open(os.path.join(out, "table.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=cols)
    w.writeheader()
    w.writerows(rows)
for r in rows:
    print(r["run"], r["collector"], "live", int(r["final_live_bytes"]) >> 20, "MiB",
          "sweep-term p99/max", r["sweep_term_p99_ns"], r["sweep_term_max_ns"],
          "mark-term p99/max", r["mark_term_p99_ns"], r["mark_term_max_ns"],
          "stw max", r["stw_full_max_ns"], "mmu10", r["mmu_10ms"], "mark MB/s wall", r["mark_mb_per_s"],
          "per CPU-s", r["mark_mb_per_cpu_s"])
EOF
{
  echo "SIZES=\"$SIZES\" PROCS=$PROCS scripts/pause-vs-heap.sh $OUT"
  echo "at $(git rev-parse --short HEAD) on $(date -u +%Y-%m-%dT%H:%MZ)"
  uname -srm
  echo "cores: $(nproc)"
} >"$OUT/COMMAND.txt"
