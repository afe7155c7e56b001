#!/usr/bin/env bash
# Regenerates what Go itself says about the Go programs gcwb interprets:
# the fixtures that gcwb's fidelity tests compare its interpreter against.
#
# For each workloads/go/NAME.go:
#   workloads/go/expected/NAME.m.txt       the compiler's escape and inlining
#       decisions: `go build -gcflags=-m=1` (standard error, as Go prints
#       it, positions relative to workloads/go);
#   workloads/go/expected/NAME.native.txt  a native run with
#       GCWB_MEMSTATS=1: the program's stdout (its checksum), then its
#       stderr line `memstats mallocs=N total_alloc=B` (the deltas of
#       runtime.MemStats over the program's run).
# And for workloads/tests/fixtures/go-m/ (goescape's parser tests): the
# -m=1 output of kinds.go (and -m=2), of two-main.go + two-node.go built
# together, and of broken.go (which Go refuses). And for
# workloads/tests/fixtures/go-escape/ (one escape rule per program, the
# corpus of gcwb's static escape analysis, tests/go_escape_static.rs): the
# -m=1 output of each NAME.go, as NAME.m.txt, and the inlining costs Go
# prints with -m=2 for inline-costs.go (inline-costs.costs.txt).
# workloads/go/expected/GO_VERSION records `go version`.
#
# Why: the interpreter places each allocation where Go's compiler does
# (`--escape go` reads the same -m=1 output) and must print the same
# checksum; its allocation counts are compared with Go's memstats.
# Go version: the captures in the repository are Go 1.19.8 (linux/amd64,
# Debian's golang-go); other versions differ in inlining and positions, so
# regenerate with the version the tests expect. The native memstats vary
# by a few mallocs from run to run (the runtime's own allocations: GC
# worker goroutines, goroutine reuse), so compare them with a tolerance.
#
# Usage: scripts/go-expected.sh   (needs `go`; apt-get install golang-go)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null 2>&1; then
    echo "go-expected: needs a Go toolchain on the PATH (e.g. apt-get install golang-go)" >&2
    exit 2
fi
export GO111MODULE=off GOFLAGS=

go version > workloads/go/expected/GO_VERSION
case "$(cat workloads/go/expected/GO_VERSION)" in
    *go1.19*) ;;
    *) echo "go-expected: warning: $(cat workloads/go/expected/GO_VERSION); the fixtures are Go 1.19's" >&2 ;;
esac

# -m=1 output: the compiler prints it on stderr; a failed build is an error
# except where it is the point (broken.go).
escape() { # OUT FILES...
    local out=$1
    shift
    go build -gcflags=-m=1 -o /dev/null "$@" > "$out" 2>&1
}

cd workloads/go
for src in *.go; do
    name=${src%.go}
    escape "expected/$name.m.txt" "$src"
    GCWB_MEMSTATS=1 go run "$src" > "expected/$name.native.txt" 2>&1
    echo "go-expected: $name: $(grep -c . "expected/$name.m.txt") -m lines, $(tail -n 1 "expected/$name.native.txt")"
done

cd ../tests/fixtures/go-m
escape kinds.m.txt kinds.go
go build -gcflags=-m=2 -o /dev/null kinds.go > kinds.m2.txt 2>&1
escape two.m.txt two-main.go two-node.go
if go build -gcflags=-m=1 -o /dev/null broken.go > broken.m.txt 2>&1; then
    echo "go-expected: broken.go built; it must not" >&2
    exit 1
fi
echo "go-expected: fixtures of workloads/tests/fixtures/go-m regenerated"

cd ../go-escape
for src in *.go; do
    escape "${src%.go}.m.txt" "$src"
done
go build -gcflags=-m=2 -o /dev/null inline-costs.go 2>&1 | grep -E 'can inline|cannot inline' |
    sed -E 's/ as: .*//' > inline-costs.costs.txt
echo "go-expected: fixtures of workloads/tests/fixtures/go-escape regenerated"
