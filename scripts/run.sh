#!/usr/bin/env bash
# The main job the README gives: the built-in default workload against every
# collector, verified, results in results/default/.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --locked --bin gcwb -- run --collector all --verify --out results/default "$@"
