#!/usr/bin/env bash
# Go programs as workloads, beside Go's own runtime: for every program in
# workloads/go/, what gcwb records (heap objects and bytes, by each
# --escape mode) against the same source run natively by Go (the
# runtime.MemStats deltas the program prints with GCWB_MEMSTATS=1), and how
# fast gcwb traces it.
#
# Writes results/go-programs/table.csv (one row per program and escape mode)
# and MACHINE.txt. Needs Go on the PATH for the native runs and for
# --escape go (apt-get install golang-go); without it, only the trace mode
# is measured and the native figures come from workloads/go/expected/.
#
#   bash scripts/go-programs.sh            # OUT=results/go-programs
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-results/go-programs}
cargo build --release --locked -q
GCWB=$PWD/target/release/gcwb
mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
    echo "command: bash scripts/go-programs.sh"
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "machine: nproc=$(nproc) arch=$(uname -m) $(rustc --version)"
    echo "go: $(go version 2>/dev/null || echo 'not installed (native figures from workloads/go/expected)')"
} > "$OUT/MACHINE.txt"
modes="gcwb trace"
command -v go >/dev/null 2>&1 && modes="gcwb trace go"
echo "program,escape,events,trace_s,trace_events_per_s,heap_objects,heap_bytes,native_mallocs,native_total_alloc,objects_diff_pct,bytes_diff_pct" > "$tmp/table.csv"
for prog in workloads/go/*.go; do
    name=$(basename "$prog" .go)
    if command -v go >/dev/null 2>&1; then
        native=$( (cd "$tmp" && GCWB_MEMSTATS=1 go run "$OLDPWD/$prog" 2>&1 >/dev/null) | grep memstats || true)
    else
        native=$(grep memstats "workloads/go/expected/$name.native.txt" || true)
    fi
    mallocs=$(sed -n 's/.*mallocs=\([0-9]*\).*/\1/p' <<<"$native")
    total=$(sed -n 's/.*total_alloc=\([0-9]*\).*/\1/p' <<<"$native")
    for mode in $modes; do
        line=$("$GCWB" gen "$prog" --escape "$mode" -o "$tmp/$name.gctb" 2>/dev/null)
        events=$(sed -n 's/.*: \([0-9]*\) events in \([0-9.]*\) s.*/\1/p' <<<"$line")
        secs=$(sed -n 's/.*events in \([0-9.]*\) s.*/\1/p' <<<"$line")
        "$GCWB" run "$tmp/$name.gctb" --collector none --procs 1 -q --no-charts --out "$tmp/$name-$mode" >/dev/null
        read -r objects bytes < <(awk -F, '$2=="heap"{c+=$3;b+=$4} END{print c+0, b+0}' "$tmp/$name-$mode/causes.csv")
        awk -v p="$name" -v m="$mode" -v e="$events" -v s="$secs" -v o="$objects" -v b="$bytes" -v nm="$mallocs" -v nt="$total" \
            'BEGIN{ printf "%s,%s,%s,%s,%.0f,%s,%s,%s,%s,%.1f,%.1f\n", p, m, e, s, (s>0? e/s : 0), o, b, nm, nt, (nm>0? 100*(o-nm)/nm : 0), (nt>0? 100*(b-nt)/nt : 0) }' >> "$tmp/table.csv"
    done
done
mv "$tmp/table.csv" "$OUT/table.csv"
column -s, -t < "$OUT/table.csv"
