#!/usr/bin/env bash
# The test command the README gives (and CI runs): every crate's tests, in
# release mode because the replay stress suites are heavy.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --release --locked "$@"
