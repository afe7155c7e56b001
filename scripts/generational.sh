#!/usr/bin/env bash
# Minor pauses against the old generation's size, at constant survival: the
# `server` workload (64 goroutines, --procs 2) with its shared cache sized
# for about 10 MB, 100 MB and 400 MB live (the old generation), the same
# requests (so the same young-generation demographics: ~10% of a nursery
# survives), under mark-sweep, sticky and generational; `gcwb compare
# --repeat 3` each. The nursery is held at 4 MiB (NURSERY) for both
# generational collectors, so survival per minor collection stays the same
# while the old generation grows (the default nursery would grow with it).
#
# Usage: scripts/generational.sh [OUT]   (default OUT: results/generational)
#   SIZES="10 100" scripts/generational.sh
# Writes OUT/server-<mb>mb/ (gcwb compare's output), OUT/minor-vs-old.csv
# (one row per size and collector: old generation, minor/major pause
# medians, survival rate and dirty cards per minor collection) and
# OUT/COMMAND.txt (this command, the machine).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/generational}
SIZES=${SIZES:-"10 100 400"}
PROCS=${PROCS:-2}
NURSERY=${NURSERY:-4MiB}
cargo build --release --locked -q -p gcwb-harness
GCWB=target/release/gcwb
mkdir -p "$OUT"

for mb in $SIZES; do
  entries=$((mb * 1000))
  # Requests scale with the live heap so the old generation is built and
  # then collected a few times; ~2.1 KB allocated per request.
  requests=$((mb * 1000 * 1000 * 2 / 2100 / 64 + 200))
  echo "== server-${mb}mb" >&2
  "$GCWB" compare --workload server --set goroutines=64 --set "cache_entries=$entries" --set "requests=$requests" \
    --collectors mark-sweep,sticky,generational --repeat 3 --procs "$PROCS" --nursery "$NURSERY" --quiet \
    --out "$OUT/server-${mb}mb" >&2
done

python3 - "$OUT" <<'PY'
import csv, os, statistics, sys
out = sys.argv[1]
rows = []
for name in sorted(os.listdir(out), key=lambda n: (len(n), n)):
    d = os.path.join(out, name)
    if not os.path.exists(os.path.join(d, "compare.csv")):
        continue
    summary = {r["collector"]: r for r in csv.DictReader(open(os.path.join(d, "summary.csv")))}
    minors = {}
    for p in csv.DictReader(open(os.path.join(d, "pauses.csv"))):
        if p["phase"] == "minor":
            minors.setdefault(p["collector"], set()).add(p["gc"])
    cycles = {}
    for c in csv.DictReader(open(os.path.join(d, "cycles.csv"))):
        if c["gc"] in minors.get(c["collector"], ()):
            cycles.setdefault(c["collector"], []).append(c)
    for r in csv.DictReader(open(os.path.join(d, "compare.csv"))):
        col = r["collector"]
        s = summary[col]
        cs = cycles.get(col, [])
        med = lambda k: statistics.median(float(c[k]) for c in cs if c[k] != "") if cs else ""
        rows.append({
            "run": name, "collector": col, "final_live_bytes": s["final_live_bytes"],
            "wall_ns_median": r["wall_ns_median"], "events_per_s_median": r["events_per_s_median"],
            "minor_count": s["minor_count"], "minor_p50_ns": s["minor_p50_ns"], "minor_p99_ns": s["minor_p99_ns"],
            "major_count": s["major_count"], "major_p50_ns": s["major_p50_ns"],
            "stw_full_p50_ns": s.get("stw_full_p50_ns", ""), "stw_full_max_ns": s.get("stw_full_max_ns", ""),
            "minor_survival_rate_median": med("survival_rate"), "minor_dirty_cards_median": med("dirty_cards"),
        })
with open(os.path.join(out, "minor-vs-old.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
    w.writeheader()
    w.writerows(rows)
for r in rows:
    print(",".join(str(v) for v in r.values()))
PY

cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
{
  echo "command: SIZES=\"$SIZES\" PROCS=$PROCS NURSERY=$NURSERY scripts/generational.sh $OUT"
  echo "date: $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
  echo "machine: nproc=$(nproc) arch=$(uname -m) cpu=\"${cpu:-unknown}\" $(rustc --version)"
  echo "gcwb: $(git rev-parse --short HEAD)"
} >"$OUT/COMMAND.txt"
