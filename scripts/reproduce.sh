#!/usr/bin/env bash
# Regenerates the checked-in reference results, results/reference/<workload>/:
# every collector on five workloads at modest sizes (server, binary-trees,
# gcbench, queue, cache), each a `gcwb compare --collectors all --repeat 3`
# (collectors alternating between repetitions; see `gcwb compare --help`),
# with the exact command, the date and the machine in COMMAND.txt next to
# the results. A few minutes on a 2-core machine.
#
# Environment:
#   GCWB_REPRODUCE_SMALL=1   tiny sizes, to try the script quickly; results go
#                            to ${TMPDIR:-/tmp}/gcwb-reproduce-small unless
#                            GCWB_REPRODUCE_OUT says otherwise
#   GCWB_REPRODUCE_OUT=DIR   where the results go (default results/reference)
#   GCWB_PROCS=N             --procs of every run (default 2)
# Extra arguments go to every compare, e.g. `scripts/reproduce.sh --verify`.
set -euo pipefail
cd "$(dirname "$0")/.."

workloads=(server binary-trees gcbench queue cache)
declare -A sizes
if [[ "${GCWB_REPRODUCE_SMALL:-0}" == 1 ]]; then
    root=${GCWB_REPRODUCE_OUT:-${TMPDIR:-/tmp}/gcwb-reproduce-small}
    sizes=(
        [server]="--set requests=10"
        [binary-trees]="--set max_depth=8"
        [gcbench]="--set stretch_depth=8 --set long_lived_depth=6 --set array_len=1000 --set max_depth=6"
        [queue]="--set events=20000 --set capacity=2000"
        [cache]="--set old_objects=1000 --set updates=10000"
    )
else
    root=${GCWB_REPRODUCE_OUT:-results/reference}
    sizes=(
        [server]="--set requests=2000"
        [binary-trees]="--set max_depth=14"
        [gcbench]="--set stretch_depth=16 --set long_lived_depth=14 --set max_depth=14"
        [queue]="--set events=4000000"
        [cache]="--set updates=2000000"
    )
fi
procs=${GCWB_PROCS:-2}

echo "+ cargo build --release --locked" >&2
cargo build --release --locked
gcwb=target/release/gcwb

cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
mem=$(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
machine="$(nproc) cores, $(uname -m), ${cpu:-unknown cpu}, ${mem:-unknown memory}"
rustc_version=$(rustc --version)
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
    revision="$revision (with uncommitted changes)"
fi

for w in "${workloads[@]}"; do
    out="$root/$w"
    read -r -a set_args <<<"${sizes[$w]}"
    cmd=("$gcwb" compare --workload "$w" "${set_args[@]}" --collectors all --repeat 3 --procs "$procs" --quiet --report
        --out "$out" "$@")
    # COMMAND.txt first, so the charts the compare draws carry the machine.
    mkdir -p "$out"
    {
        echo "command: ${cmd[*]}"
        echo "date: $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
        echo "machine: $machine"
        echo "rustc: $rustc_version"
        echo "gcwb: $revision"
    } >"$out/.COMMAND.txt.tmp"
    mv "$out/.COMMAND.txt.tmp" "$out/COMMAND.txt"
    echo "+ ${cmd[*]}" >&2
    "${cmd[@]}"
done
echo "+ results in $root/{$(IFS=,; echo "${workloads[*]}")}/ (compare.csv, runs.csv, the median runs' CSVs and charts, reps/)" >&2
