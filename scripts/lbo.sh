#!/usr/bin/env bash
# The lower-bound overhead against heap size (README "Lower-bound overhead"):
# scripts/experiments/lbo.toml — every collector on `server` and `gcbench`,
# GOGC 50 to 800, 3 repetitions — swept into results/lbo/ with its charts
# (sweep-<workload>-nlbo_wall.png, …-nlbo_cpu.png), report.html and
# COMMAND.txt. Each cell keeps only its summary.csv, run.toml and cell.toml
# (what cells.csv, sweep.csv and the report are made from). About two
# minutes on 2 cores.
#
#   bash scripts/lbo.sh             # OUT=results/lbo
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-results/lbo}

cargo build --release --locked --bin gcwb >&2
rm -rf "$OUT"
mkdir -p "$OUT"
{
    echo "command: OUT=$OUT bash scripts/lbo.sh (gcwb sweep scripts/experiments/lbo.toml --out $OUT -q; gcwb report $OUT -o $OUT/report.html)"
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "machine: $(nproc) cores, $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
    echo "rustc: $(rustc --version)"
    echo "gcwb: $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' (with uncommitted changes)')"
} > "$OUT/COMMAND.txt.new"
target/release/gcwb sweep scripts/experiments/lbo.toml --out "$OUT" -q
mv "$OUT/COMMAND.txt.new" "$OUT/COMMAND.txt"
find "$OUT/cells" -type f ! -name summary.csv ! -name run.toml ! -name cell.toml -delete
# The report last, so that it shows COMMAND.txt.
target/release/gcwb report "$OUT" -o "$OUT/report.html"
du -sh "$OUT"
