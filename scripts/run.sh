#!/usr/bin/env bash
# The main job the README gives: the built-in default workload against every
# collector, verified; results (CSV) and the command and machine that produced
# them in results/default/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=results/default
cmd=(cargo run --release --locked --bin gcwb -- run --collector all --verify --report --out "$out" "$@")
echo "+ ${cmd[*]}" >&2
"${cmd[@]}"
{
    echo "command: ${cmd[*]}"
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "machine: $(nproc) cores, $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
    echo "rustc: $(rustc --version)"
    echo "gcwb: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
} > "$out/MACHINE.txt"
