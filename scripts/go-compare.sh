#!/usr/bin/env bash
# Go's own runtime beside gcwb's collectors, on the same program.
#
# For each live heap size (LIVE_MB, MiB; default "10 100 1000"):
#   1. runs scripts/go/server (the Go program gcwb's `server` workload
#      models: 64 goroutines serving requests next to a long-lived cache of
#      that size) with GOMAXPROCS=2 GODEBUG=gctrace=1, standard error to
#      <live>mb/go/gctrace.log, and turns the log into gcwb's CSV files with
#      `gcwb import --format go-gctrace`;
#   2. replays gcwb's `server` workload with the same parameters (the same
#      number of cache entries, goroutines and requests) under
#      `--collector concurrent,mark-sweep --procs 2`, into <live>mb/gcwb/.
# Then writes results/go-compare/summary.csv, one row per system, collector
# and live size:
#   system, collector, live_mb, cache_entries;
#   live_heap_mib     the cache's live heap as measured: Go's HeapAlloc right
#                     after filling it, gcwb's final live bytes;
#   requests, gc_count;
#   pause_{p50,p99,max}_ns                 every stop-the-world pause;
#   {sweep,mark}_term_{p50,p99,max}_ns     per phase (empty for mark-sweep,
#                                          whose pauses are all stw-full);
#   request_{p50,p99,max}_ns               request latency (Go: measured by
#                                          the program; gcwb: the `req` spans);
#   other_cpu_ms      CPU time other processes used during the run (to
#                     10 ms): on 2 cores their interference shows up as
#                     pauses, a stopped world waiting for a descheduled
#                     thread, so trust max and p99 only when this is ~0
# (gcwb's HdrHistogram percentiles, 3 significant digits; Go's pause times
# have Go's gctrace resolution, 2 significant digits), and COMMAND.txt: the
# command, the machine, and every command run.
#
# Environment (all optional):
#   LIVE_MB="10 100 1000"   live heap sizes in MiB (1000 takes the longest)
#   REQUESTS=14000          requests per goroutine (both sides: enough for 20
#                           gcwb cycles at 100 MB live); the whole
#                           default run takes about a minute on 2 cores and
#                           gcwb up to ~6 GB of memory (the 1000 MB case:
#                           the trace is held in memory, ~300 bytes an event)
#   GOROUTINES=64           server goroutines (both sides)
#   PROCS=2                 GOMAXPROCS / gcwb --procs
#   GOGC=100                GOGC / gcwb --gogc
#   COLLECTORS=concurrent,mark-sweep   gcwb collectors
#   OUT=results/go-compare  output directory
#   GCWB=path/to/gcwb       use this gcwb binary instead of building one
#   SAME_SOURCE=1           also run the same source both ways (below)
#   SAME_REQUESTS=20000     requests of the same-source run
#   SAME_CACHE=16384        cache entries of the same-source run
#
# Same source: workloads/go/server.go (the cut-down server in the Go subset
# gcwb interprets), with its `requests` and `cacheEntries` constants set
# from SAME_REQUESTS and SAME_CACHE, is run natively by Go (GOMAXPROCS=PROCS,
# GODEBUG=gctrace=1, GCWB_MEMSTATS=1) and traced by gcwb with Go's own
# placement (`--escape go`) under the same collectors, into same-source/;
# same-source.csv has one row per system and collector: gc_count, pause
# p50/p99/max, and heap objects allocated (Go: MemStats.Mallocs; gcwb: the
# heap blocks of causes.csv).
#
# Go 1.19 or later is needed; when `go` is missing the script tries
# `apt-get install -y golang-go` and, if that fails too, says so and exits 0
# without measuring anything (SKIPPED).
set -euo pipefail
cd "$(dirname "$0")/.."

LIVE_MB=${LIVE_MB:-"10 100 1000"}
REQUESTS=${REQUESTS:-14000}
GOROUTINES=${GOROUTINES:-64}
PROCS=${PROCS:-2}
GOGC_PERCENT=${GOGC:-100}
COLLECTORS=${COLLECTORS:-concurrent,mark-sweep}
OUT=${OUT:-results/go-compare}
GCWB=${GCWB:-}
SAME_SOURCE=${SAME_SOURCE:-1}
SAME_REQUESTS=${SAME_REQUESTS:-20000}
SAME_CACHE=${SAME_CACHE:-16384}
# The command, with every setting spelled out (GCWB only when given).
command_line=$(
    printf 'LIVE_MB=%q REQUESTS=%q GOROUTINES=%q PROCS=%q GOGC=%q COLLECTORS=%q OUT=%q' "$LIVE_MB" "$REQUESTS" \
        "$GOROUTINES" "$PROCS" "$GOGC_PERCENT" "$COLLECTORS" "$OUT"
    printf ' SAME_SOURCE=%q SAME_REQUESTS=%q SAME_CACHE=%q' "$SAME_SOURCE" "$SAME_REQUESTS" "$SAME_CACHE"
    [[ -n $GCWB ]] && printf ' GCWB=%q' "$GCWB"
    printf ' scripts/go-compare.sh'
)
# The mean heap footprint of one cache entry in gcwb's model (final live
# bytes / cache_entries of a `gcwb run --workload server`); the same
# constant as EntryBytes in scripts/go/server/main.go.
ENTRY_BYTES=1060

log() { echo "go-compare: $*" >&2; }
die() {
    log "$*"
    exit 1
}

for v in $LIVE_MB $REQUESTS $GOROUTINES $PROCS $GOGC_PERCENT; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || die "expected a positive whole number, got '$v' (LIVE_MB, REQUESTS, GOROUTINES, PROCS, GOGC)"
done

# --- Go ---------------------------------------------------------------------
if ! command -v go >/dev/null 2>&1; then
    log "go not found; trying: apt-get install -y golang-go"
    sudo=()
    if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1; then sudo=(sudo -n); fi
    if ! { DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y golang-go >&2 ||
        { "${sudo[@]}" apt-get update >&2 && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y golang-go >&2; }; } ||
        ! command -v go >/dev/null 2>&1; then
        log "SKIPPED: Go is not installed and 'apt-get install -y golang-go' failed; install Go 1.19 or later and rerun"
        exit 0
    fi
fi
go_version=$(go env GOVERSION)
if [[ $go_version =~ ^go1\.([0-9]+) ]] && ((BASH_REMATCH[1] < 19)); then
    log "SKIPPED: $go_version is too old: scripts/go/server needs Go 1.19 or later (sync/atomic.Pointer)"
    exit 0
fi
go_label=$(sed -E 's/^(go[0-9]+\.[0-9]+).*/\1/' <<<"$go_version")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log "building scripts/go/server with $go_version"
(cd scripts/go/server && go build -o "$tmp/server" .) || die "cannot build scripts/go/server"

# --- gcwb -------------------------------------------------------------------
if [[ -z $GCWB ]]; then
    log "building gcwb (cargo build --release --locked -p gcwb-harness)"
    cargo build --release --locked -p gcwb-harness >&2 || die "cannot build gcwb"
    GCWB=${CARGO_TARGET_DIR:-target}/release/gcwb
fi
[[ -x $GCWB ]] || die "no gcwb binary at $GCWB"

# --- Runs -------------------------------------------------------------------
mkdir -p "$OUT"
commands="$OUT/COMMAND.txt"
{
    echo "command: $command_line"
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "uname -a: $(uname -a)"
    echo "nproc: $(nproc)"
    echo "memory: $(free -g 2>/dev/null | awk '/Mem:/{print $2 " GiB"}')"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //')"
    echo "go: $(go version)"
    echo "rustc: $(rustc --version 2>/dev/null || echo unknown)"
    echo "gcwb: $GCWB, $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "commands run (SERVER: the Go program, built by \`cd scripts/go/server && go build -o SERVER .\`):"
} >"$commands"

# Appends the command to COMMAND.txt (the Go program, built in a temporary
# directory, shown as SERVER) and runs it.
run() {
    {
        printf ' '
        for arg in "$@"; do
            if [[ $arg == "$tmp/server" ]]; then printf ' SERVER'; else printf ' %q' "$arg"; fi
        done
        echo
    } >>"$commands"
    "$@"
}

# The machine's busy CPU time so far, in clock ticks (user, nice, system,
# irq, softirq of /proc/stat); 0 where there is no /proc/stat.
busy_ticks() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8; f = 1 } END { if (!f) print 0 }' /proc/stat 2>/dev/null || echo 0; }
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)

# measured NAME CMD...: runs CMD through `run` with its own redirections
# (the caller's stdout and stderr must be files), timing it; writes
# NAME.time (`real user sys` seconds) and sets `other_ms`: the CPU time
# other processes used meanwhile, in ms (to /proc/stat's 10 ms ticks). On 2
# cores their interference shows up as pauses: a stopped world waits for a
# thread the kernel has not scheduled, so a single 30 ms burst of another
# process can make a 30 ms pause.
measured() {
    local name=$1 before after
    shift
    before=$(busy_ticks)
    local TIMEFORMAT='%R %U %S'
    { time run "$@" 2>&3; } 3>&2 2>"$name.time.tmp" || return 1
    after=$(busy_ticks)
    tail -1 "$name.time.tmp" >"$name.time"
    rm -f "$name.time.tmp"
    other_ms=$(awk -v b="$before" -v a="$after" -v hz="$clk_tck" '
        { other = (a - b) / hz - $2 - $3; if (other < 0 || a == 0) other = 0; printf "%.0f", 1000 * other }' \
        "$name.time")
    echo "    # $(cat "$name.time") s real, user, sys; other processes used ${other_ms} ms of CPU meanwhile" >>"$commands"
    # Warn above 1% of the machine's CPU time (the kernel's own threads
    # take a few tenths of a percent on an idle machine).
    if awk -v ms="$other_ms" -v n="$(nproc)" '{ exit !(ms > 10 * $1 * n) }' "$name.time"; then
        log "  warning: other processes used ${other_ms} ms of CPU during this run: its pauses can include their interference"
    fi
}

for live in $LIVE_MB; do
    entries=$((live * 1048576 / ENTRY_BYTES))
    dir=$OUT/${live}mb
    rm -rf "$dir"
    mkdir -p "$dir/go" "$dir/gcwb"
    log "${live} MB live: $entries cache entries, $GOROUTINES goroutines x $REQUESTS requests"

    t0=$SECONDS
    echo "  # ${live} MB: Go (stdout > $dir/go/stdout.txt, stderr > $dir/go/gctrace.log)" >>"$commands"
    measured "$dir/go/run" env -u GOMEMLIMIT GOMAXPROCS="$PROCS" GOGC="$GOGC_PERCENT" GODEBUG=gctrace=1 \
        "$tmp/server" -goroutines "$GOROUTINES" -requests "$REQUESTS" -cache-entries "$entries" \
        >"$dir/go/stdout.txt" 2>"$dir/go/gctrace.log" || die "the Go program failed (see $dir/go/gctrace.log)"
    echo "$other_ms" >"$dir/go/other-cpu-ms.txt"
    run "$GCWB" import --format go-gctrace "$dir/go/gctrace.log" --out "$dir/go" --label "$go_label" \
        >"$dir/go/import.txt" || die "gcwb import failed on $dir/go/gctrace.log"
    log "  Go: $((SECONDS - t0)) s"

    t0=$SECONDS
    echo "  # ${live} MB: gcwb (stdout > $dir/gcwb/stdout.txt, stderr > $dir/gcwb/stderr.txt)" >>"$commands"
    measured "$dir/gcwb/run" "$GCWB" run -q --workload server --set goroutines="$GOROUTINES" \
        --set requests="$REQUESTS" --set cache_entries="$entries" --collector "$COLLECTORS" --procs "$PROCS" \
        --gogc "$GOGC_PERCENT" --out "$dir/gcwb" >"$dir/gcwb/stdout.txt" 2>"$dir/gcwb/stderr.txt" ||
        die "gcwb run failed: $(head -3 "$dir/gcwb/stderr.txt")"
    echo "$other_ms" >"$dir/gcwb/other-cpu-ms.txt"
    log "  gcwb: $((SECONDS - t0)) s"
done

# --- Summary ----------------------------------------------------------------
# csv_get FILE COLUMN [KEY VALUE [KEY2 VALUE2]]: COLUMN of the first row whose
# KEY is VALUE (and KEY2 is VALUE2); empty when there is none. (The files
# read here have no quoted commas.)
csv_get() {
    awk -F, -v col="$2" -v k1="${3:-}" -v v1="${4:-}" -v k2="${5:-}" -v v2="${6:-}" '
        NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
        (k1 == "" || $h[k1] == v1) && (k2 == "" || $h[k2] == v2) { if (col in h) print $h[col]; exit }
    ' "$1"
}

# mib BYTES: bytes in MiB, one decimal; empty stays empty.
mib() { [[ -n $1 ]] && awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }' || true; }

# row SYSTEM COLLECTOR LIVE DIR LIVE_BYTES REQ_P50 REQ_P99 REQ_MAX
row() {
    local system=$1 collector=$2 live=$3 dir=$4
    local s=$dir/summary.csv p=$dir/phases.csv
    local cells=("$system" "$collector" "$live" "$((live * 1048576 / ENTRY_BYTES))" "$(mib "$5")"
        "$((GOROUTINES * REQUESTS))" "$(csv_get "$s" gc_count collector "$collector")")
    for c in pause_p50_ns pause_p99_ns pause_max_ns; do cells+=("$(csv_get "$s" "$c" collector "$collector")"); done
    for phase in sweep-term mark-term; do
        for c in p50_ns p99_ns max_ns; do cells+=("$(csv_get "$p" "$c" collector "$collector" phase "$phase")"); done
    done
    cells+=("$6" "$7" "$8" "$(cat "$dir/other-cpu-ms.txt" 2>/dev/null || true)")
    (
        IFS=,
        echo "${cells[*]}"
    )
}

table=$OUT/summary.csv
{
    echo "system,collector,live_mb,cache_entries,live_heap_mib,requests,gc_count,pause_p50_ns,pause_p99_ns,pause_max_ns,sweep_term_p50_ns,sweep_term_p99_ns,sweep_term_max_ns,mark_term_p50_ns,mark_term_p99_ns,mark_term_max_ns,request_p50_ns,request_p99_ns,request_max_ns,other_cpu_ms"
    for live in $LIVE_MB; do
        dir=$OUT/${live}mb
        lat=$(grep -m1 '^latency_ns ' "$dir/go/stdout.txt" || true)
        field() { sed -nE "s/.* $1=([0-9]+).*/\1/p" <<<"$lat"; }
        go_live=$(sed -nE 's/.*heap_alloc_bytes=([0-9]+).*/\1/p' "$dir/go/stdout.txt" | head -1)
        row go "$go_label" "$live" "$dir/go" "$go_live" "$(field p50)" "$(field p99)" "$(field max)"
        IFS=, read -ra names <<<"$COLLECTORS"
        for c in "${names[@]}"; do
            spans=$dir/gcwb/spans.csv
            row gcwb "$c" "$live" "$dir/gcwb" "$(csv_get "$dir/gcwb/summary.csv" final_live_bytes collector "$c")" \
                "$(csv_get "$spans" p50_ns collector "$c" tag req)" \
                "$(csv_get "$spans" p99_ns collector "$c" tag req)" "$(csv_get "$spans" max_ns collector "$c" tag req)"
        done
    done
} >"$table.tmp"
mv "$table.tmp" "$table"

# --- Same source --------------------------------------------------------------
if [[ $SAME_SOURCE == 1 ]]; then
    dir=$OUT/same-source
    rm -rf "$dir"
    mkdir -p "$dir/go" "$dir/gcwb"
    # A temporary copy: it is workloads/go/server.go but for two constants,
    # which COMMAND.txt records.
    prog=$tmp/server.go
    sed -E -e "s/^(\s*requests\s*=\s*)[0-9]+/\1$SAME_REQUESTS/" -e "s/^(\s*cacheEntries\s*=\s*)[0-9]+/\1$SAME_CACHE/" \
        workloads/go/server.go >"$prog"
    grep -qE "^\s*requests\s*=\s*$SAME_REQUESTS\b" "$prog" || die "cannot set requests in workloads/go/server.go"
    log "same source: $prog ($SAME_REQUESTS requests, $SAME_CACHE cache entries)"
    echo "  # same source: $prog, made from workloads/go/server.go with requests = $SAME_REQUESTS, cacheEntries = $SAME_CACHE" >>"$commands"
    (cd "$tmp" && go build -o "$tmp/server-same" "$prog") || die "cannot build $prog"
    measured "$dir/go/run" env -u GOMEMLIMIT GOMAXPROCS="$PROCS" GOGC="$GOGC_PERCENT" GODEBUG=gctrace=1 GCWB_MEMSTATS=1 \
        "$tmp/server-same" >"$dir/go/stdout.txt" 2>"$dir/go/gctrace.log" || die "the Go program failed (see $dir/go/gctrace.log)"
    run "$GCWB" import --format go-gctrace "$dir/go/gctrace.log" --out "$dir/go" --label "$go_label" \
        >"$dir/go/import.txt" || die "gcwb import failed on $dir/go/gctrace.log"
    measured "$dir/gcwb/run" "$GCWB" run -q "$prog" --escape go --collector "$COLLECTORS" --procs "$PROCS" \
        --gogc "$GOGC_PERCENT" --no-charts --out "$dir/gcwb" >"$dir/gcwb/stdout.txt" 2>"$dir/gcwb/stderr.txt" ||
        die "gcwb run failed: $(head -3 "$dir/gcwb/stderr.txt")"
    {
        echo "system,collector,requests,gc_count,pause_p50_ns,pause_p99_ns,pause_max_ns,heap_objects"
        mallocs=$(sed -nE 's/.*mallocs=([0-9]+).*/\1/p' "$dir/go/gctrace.log" | head -1)
        s=$dir/go/summary.csv
        echo "go,$go_label,$SAME_REQUESTS,$(csv_get "$s" gc_count),$(csv_get "$s" pause_p50_ns),$(csv_get "$s" pause_p99_ns),$(csv_get "$s" pause_max_ns),$mallocs"
        objects=$(awk -F, '$2=="heap"{c+=$3} END{print c+0}' "$dir/gcwb/causes.csv")
        IFS=, read -ra names <<<"$COLLECTORS"
        for c in "${names[@]}"; do
            s=$dir/gcwb/summary.csv
            echo "gcwb,$c,$SAME_REQUESTS,$(csv_get "$s" gc_count collector "$c"),$(csv_get "$s" pause_p50_ns collector "$c"),$(csv_get "$s" pause_p99_ns collector "$c"),$(csv_get "$s" pause_max_ns collector "$c"),$objects"
        done
    } >"$OUT/same-source.csv"
    if command -v column >/dev/null 2>&1; then column -s, -t <"$OUT/same-source.csv" >&2; fi
fi

log "results in $OUT/ (summary.csv, same-source.csv, COMMAND.txt, <live>mb/{go,gcwb}/, same-source/)"
if command -v column >/dev/null 2>&1; then column -s, -t <"$table"; else cat "$table"; fi
