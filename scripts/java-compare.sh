#!/usr/bin/env bash
# The JVM's collectors beside gcwb's, from real GC logs.
#
# For each JVM collector (JVM_GCS, default "Serial Parallel G1 Z Shenandoah";
# those the installed JVM lacks are skipped with a note):
#   runs scripts/java/Alloc.java (binary trees built and dropped next to a
#   bounded map of live ones, one System.gc() halfway) for RUN_SECONDS with
#   -Xmx$HEAP -XX:+Use<GC>GC -Xlog:$XLOG, the log to <out>/jvm-<gc>/gc.log,
#   and turns it into gcwb's CSV files with `gcwb import --format jvm-gc-log
#   --procs 1` (Alloc runs on one thread, so a thread's stall stops it;
#   collector labels jvm-serial, jvm-parallel, jvm-g1, jvm-zgc[-gen],
#   jvm-shenandoah);
# then replays gcwb's WORKLOAD (default binary-trees; empty: none) under
# every gcwb collector into <out>/gcwb/, merges every directory's
# summary.csv, pauses.csv, phases.csv, cycles.csv, assists.csv (ZGC's
# allocation and relocation stalls) and mmu.csv into <out>/all/, and draws
# them on one set of charts there (`gcwb plot DIR... --out <out>/all`; the
# JVMs' series dashed). COMMAND.txt records the command, the machine, the
# JVM and every command run.
#
# The two programs are alike in shape, not the same program: compare pause
# distributions, not absolute numbers.
#
# Environment (all optional):
#   JVM_GCS="Serial Parallel G1 Z Shenandoah"
#   RUN_SECONDS=1.5   how long Alloc allocates
#   LIVE_MB=16        Alloc's live trees, MiB
#   HEAP=64m          -Xmx
#   XLOG=gc,gc+phases what -Xlog logs (ZGC needs gc+phases for its pauses)
#   WORKLOAD=binary-trees   the gcwb workload (empty: no gcwb run)
#   JAVA=java JAVAC=javac   the JDK (17 or later for every collector)
#   OUT=results/java-compare
#   GCWB=path/to/gcwb       use this gcwb binary instead of building one
# Without java and javac the script says so and exits 0 (SKIPPED).
set -euo pipefail
cd "$(dirname "$0")/.."

JVM_GCS=${JVM_GCS:-"Serial Parallel G1 Z Shenandoah"}
RUN_SECONDS=${RUN_SECONDS:-1.5}
LIVE_MB=${LIVE_MB:-16}
HEAP=${HEAP:-64m}
XLOG=${XLOG:-gc,gc+phases}
WORKLOAD=${WORKLOAD-binary-trees}
JAVA=${JAVA:-java}
JAVAC=${JAVAC:-javac}
OUT=${OUT:-results/java-compare}
GCWB=${GCWB:-}

log() { echo "java-compare: $*" >&2; }
die() {
    log "$*"
    exit 1
}

if ! command -v "$JAVA" >/dev/null 2>&1 || ! command -v "$JAVAC" >/dev/null 2>&1; then
    log "SKIPPED: no $JAVA and $JAVAC (install a JDK 17 or later, e.g. apt-get install openjdk-17-jdk-headless)"
    exit 0
fi
[[ $RUN_SECONDS =~ ^[0-9]+(\.[0-9]+)?$ && $LIVE_MB =~ ^[1-9][0-9]*$ ]] ||
    die "RUN_SECONDS must be a number of seconds and LIVE_MB a positive whole number"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$JAVAC" -d "$tmp" scripts/java/Alloc.java || die "cannot compile scripts/java/Alloc.java"

if [[ -z $GCWB ]]; then
    log "building gcwb (cargo build --release --locked -p gcwb-harness)"
    cargo build --release --locked -p gcwb-harness >&2 || die "cannot build gcwb"
    GCWB=${CARGO_TARGET_DIR:-target}/release/gcwb
fi
[[ -x $GCWB ]] || die "no gcwb binary at $GCWB"

rm -rf "$OUT"
mkdir -p "$OUT/all"
commands="$OUT/COMMAND.txt"
{
    printf 'command: JVM_GCS=%q RUN_SECONDS=%q LIVE_MB=%q HEAP=%q XLOG=%q WORKLOAD=%q OUT=%q scripts/java-compare.sh\n' \
        "$JVM_GCS" "$RUN_SECONDS" "$LIVE_MB" "$HEAP" "$XLOG" "$WORKLOAD" "$OUT"
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "uname -a: $(uname -a)"
    echo "nproc: $(nproc)"
    echo "java: $("$JAVA" -version 2>&1 | tr '\n' ' ')"
    echo "gcwb: $GCWB, $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "commands run (ALLOC: scripts/java/Alloc.java compiled by \`$JAVAC -d ALLOC scripts/java/Alloc.java\`):"
} >"$commands"

# Appends the command to COMMAND.txt (the class directory shown as ALLOC)
# and runs it.
run() {
    printf ' ' >>"$commands"
    for arg in "$@"; do printf ' %q' "${arg//$tmp/ALLOC}" >>"$commands"; done
    echo >>"$commands"
    "$@"
}

# merge FILE DIR...: FILE of each DIR into $OUT/all, the header once.
merge() {
    local file=$1 first=1
    shift
    for dir in "$@"; do
        [[ -f $dir/$file ]] || continue
        if ((first)); then cat "$dir/$file"; else tail -n +2 "$dir/$file"; fi
        first=0
    done >"$OUT/all/$file"
}

dirs=()
for gc in $JVM_GCS; do
    if ! "$JAVA" "-XX:+Use${gc}GC" -version >/dev/null 2>&1; then
        log "$gc: not supported by $JAVA, skipped"
        echo "  # $gc: not supported by this JVM" >>"$commands"
        continue
    fi
    dir=$OUT/jvm-$(tr '[:upper:]' '[:lower:]' <<<"$gc")
    mkdir -p "$dir"
    log "$gc: ${RUN_SECONDS} s of Alloc, -Xmx$HEAP"
    run "$JAVA" "-Xmx$HEAP" "-XX:+Use${gc}GC" "-Xlog:$XLOG:file=$dir/gc.log:uptime,level,tags" -cp "$tmp" Alloc \
        "$RUN_SECONDS" "$LIVE_MB" >"$dir/stdout.txt" 2>&1 || die "the JVM failed (see $dir/stdout.txt)"
    run "$GCWB" import --format jvm-gc-log --procs 1 "$dir/gc.log" --out "$dir" >"$dir/import.txt" ||
        die "gcwb import failed on $dir/gc.log"
    sed -n '2,$p' "$dir/import.txt" | grep -v '^results in' >&2 || true
    dirs+=("$dir")
done

if [[ -n $WORKLOAD ]]; then
    log "gcwb: $WORKLOAD under every collector"
    run "$GCWB" run -q --workload "$WORKLOAD" --collector all --no-charts --out "$OUT/gcwb" >"$OUT/gcwb.txt" ||
        die "gcwb run failed"
    dirs+=("$OUT/gcwb")
fi
((${#dirs[@]})) || die "nothing was measured"
for file in summary.csv pauses.csv phases.csv cycles.csv assists.csv mmu.csv; do merge "$file" "${dirs[@]}"; done
run "$GCWB" plot "${dirs[@]}" --out "$OUT/all" >&2 || die "gcwb plot failed"
log "results in $OUT/all/ (phases.csv: every collector's pause phases)"
column -s, -t <"$OUT/all/phases.csv" >&2 2>/dev/null || cat "$OUT/all/phases.csv" >&2
