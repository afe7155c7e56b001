// Command situations-append exercises slice append growth: which
// backing arrays Go places on the stack and which append moves to the heap.
//
// What Go 1.19 decides (expected/situations-append.m.txt):
//   - make([]int, 0, 8) with a constant capacity that does not escape: on
//     the stack; appends within the capacity allocate nothing;
//   - an append past the capacity calls growslice, which always allocates
//     on the heap, whatever escape analysis said about the first array;
//   - appending to a nil slice grows from nothing: heap arrays of
//     capacities 1, 2, 4, 8, ... (rounded up to size classes);
//   - a slice returned from its function escapes: make escapes to heap;
//   - make with a non-constant size escapes to heap even when the slice
//     does not (non-constant size).
//
// Each situation is a function marked //go:noinline, so that Go reports
// its allocations once, at their own positions (situations-inline shows
// what inlining changes).
package main

import (
	"fmt"
	"os"
	"runtime"
)

// n is how many elements the growing slices get.
const n = 100

// rounds is how many times each situation runs.
const rounds = 10

// stackBacked appends within a constant capacity: nothing on the heap.
//
//go:noinline
func stackBacked() int {
	s := make([]int, 0, 8) // does not escape: on the stack
	for i := 0; i < 8; i++ {
		s = append(s, i)
	}
	return s[7]
}

// grownPastCap starts on the stack and grows onto the heap.
//
//go:noinline
func grownPastCap() int {
	s := make([]int, 0, 4) // does not escape: on the stack
	for i := 0; i < n; i++ {
		s = append(s, i) // past 4: growslice, on the heap
	}
	return len(s) + cap(s)
}

// fromNil grows from a nil slice.
//
//go:noinline
func fromNil() int {
	var s []int
	for i := 0; i < n; i++ {
		s = append(s, i*i)
	}
	return s[n-1]
}

// returned returns its slice: make escapes to heap.
//
//go:noinline
func returned(k int) []byte {
	b := make([]byte, 0, 16)
	for i := 0; i < k; i++ {
		b = append(b, byte('a'+i%26))
	}
	return b
}

// nonConstant makes a slice of a size known only at run time.
//
//go:noinline
func nonConstant(k int) int {
	s := make([]int, k) // non-constant size: escapes to heap
	for i := range s {
		s[i] = i
	}
	return s[k-1]
}

// appendSlice appends one slice to another (the spread form).
//
//go:noinline
func appendSlice() int {
	a := []int{1, 2, 3}
	b := []int{4, 5, 6, 7}
	c := append(a, b...) // past a's capacity 3: growslice
	return len(c) + c[6]
}

func run() {
	sum := 0
	for r := 0; r < rounds; r++ {
		sum += stackBacked()
		sum += grownPastCap()
		sum += fromNil()
		sum += len(returned(20 + r))
		sum += nonConstant(10 + r)
		sum += appendSlice()
	}
	fmt.Println("situations-append checksum", sum)
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
