// Command situations-large exercises Go's size limits for the stack:
// an implicit allocation (make, new, &T{}, a composite literal) stays on
// the stack only up to 64 KiB (ir.MaxImplicitStackVarSize), a declared
// variable only up to ir.MaxStackVarSize; above, Go puts it on the heap
// even though it does not escape. In Go 1.19, MaxStackVarSize is 10 MiB
// (cmd/compile/internal/ir/cfg.go); it is 128 KiB only under the
// compiler flag -smallframes.
//
// What Go 1.19 decides (expected/situations-large.m.txt):
//   - make([]byte, 60000): does not escape (on the stack);
//   - make([]byte, 70000): escapes to heap (too large for the stack);
//   - new([9000]int) (72000 bytes): escapes to heap;
//   - var a [20000]int (160000 bytes, declared, over 128 KiB): on the
//     stack, and Go prints nothing about it;
//   - c := [20000]int{1, 2, 3} (a literal held in a declared variable):
//     on the stack too;
//   - var b [1400000]int (11.2 MB, declared, over 10 MiB): moved to heap.
//
// Each situation is a function marked //go:noinline.
package main

import (
	"fmt"
	"os"
	"runtime"
)

// rounds is how many times each situation runs.
const rounds = 4

// implicitSmall is just under 64 KiB: on the stack.
//
//go:noinline
func implicitSmall(k int) int {
	b := make([]byte, 60000)
	b[k] = 1
	return int(b[k]) + len(b)
}

// implicitLarge is just over 64 KiB: on the heap.
//
//go:noinline
func implicitLarge(k int) int {
	b := make([]byte, 70000)
	b[k] = 2
	return int(b[k]) + len(b)
}

// newLarge is 72000 bytes from new: on the heap.
//
//go:noinline
func newLarge(k int) int {
	p := new([9000]int)
	p[k] = 3
	return p[k]
}

// declaredMedium is a declared 160000-byte array: on the stack.
//
//go:noinline
func declaredMedium(k int) int {
	var a [20000]int
	a[k] = 4
	return a[k] + len(a)
}

// declaredLarge is a declared 11.2 MB array: moved to heap.
//
//go:noinline
func declaredLarge(k int) int {
	var b [1400000]int
	b[k] = 5
	return b[k] + len(b)
}

// literalLarge is a 160000-byte array literal held in a variable: on
// the stack.
//
//go:noinline
func literalLarge(k int) int {
	c := [20000]int{1, 2, 3}
	c[k] = 6
	return c[k] + c[2]
}

func run() {
	sum := 0
	for r := 0; r < rounds; r++ {
		sum += implicitSmall(r)
		sum += implicitLarge(r)
		sum += newLarge(r)
		sum += declaredMedium(r)
		sum += declaredLarge(r)
		sum += literalLarge(r)
	}
	fmt.Println("situations-large checksum", sum)
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
