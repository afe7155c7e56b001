// Command situations-inline shows what inlining does to Go's escape
// decisions and to how -gcflags=-m reports them: a small function that
// allocates is inlined into its callers, and each inlined copy of the
// allocation gets its own decision, reported at the position of the call
// (the outermost call, when inlining nests), not at the allocation.
//
// What Go 1.19 decides (expected/situations-inline.m.txt):
//   - newPair's &Pair{...}: escapes to heap in newPair's own body (it is
//     returned); that copy runs only when newPair is not inlined;
//   - inlined into sumPair, whose result is an int: does not escape,
//     reported at the call newPair(k) in sumPair;
//   - inlined into keepPair, which stores it in a global: escapes to heap,
//     reported at the call in keepPair;
//   - newPair inlined into twice, itself inlined into run: Go prints
//     "inlining call to twice" and "inlining call to newPair" both at the
//     call twice(r) in run, and the allocation's decision there too.
package main

import (
	"fmt"
	"os"
	"runtime"
)

// rounds is how many times each situation runs.
const rounds = 20

// Pair is two ints.
type Pair struct {
	a, b int
}

// kept keeps pairs alive.
var kept []*Pair

// newPair allocates a Pair (small enough to inline).
func newPair(a, b int) *Pair {
	return &Pair{a, b}
}

// sumPair uses an inlined newPair locally.
func sumPair(k int) int {
	p := newPair(k, k+1)
	return p.a + p.b
}

// keepPair stores an inlined newPair's result in a global.
//
//go:noinline
func keepPair(k int) {
	kept = append(kept, newPair(k, 2*k))
}

// twice calls newPair, and is small enough to inline in turn.
func twice(k int) int {
	return newPair(k, k).a * 2
}

func run() {
	sum := 0
	for r := 0; r < rounds; r++ {
		sum += sumPair(r)
		keepPair(r)
		sum += twice(r)
	}
	for _, p := range kept {
		sum += p.a + p.b
	}
	fmt.Println("situations-inline checksum", sum)
}

func main() {
	if os.Getenv("GCWB_MEMSTATS") == "1" {
		measured(run)
		return
	}
	run()
}

// measured runs body between two runtime.ReadMemStats and prints the
// deltas of Mallocs and TotalAlloc to stderr (GCWB_MEMSTATS=1 only, so
// that a plain run allocates exactly what run does).
func measured(body func()) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	body()
	runtime.ReadMemStats(&after)
	fmt.Fprintf(os.Stderr, "memstats mallocs=%d total_alloc=%d\n",
		after.Mallocs-before.Mallocs, after.TotalAlloc-before.TotalAlloc)
}
