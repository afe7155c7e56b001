// Command situations-map exercises map allocation and growth.
//
// What Go 1.19 decides (expected/situations-map.m.txt):
//   - make(map[int]int) that does not escape: the map header (hmap) and,
//     when no size hint above 8 is given, its first bucket are on the
//     stack; growth past 8 entries (load factor 6.5 per bucket, so at the
//     9th insertion) allocates new bucket arrays on the heap;
//   - a map literal that does not escape: the same;
//   - a returned map: make escapes to heap (hmap on the heap, buckets as
//     they come);
//   - make with a size hint allocates the bucket array up front, on the
//     heap when the hint is above 8;
//   - a map stored in a global escapes.
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

// n is how many entries the growing maps get.
const n = 200

// rounds is how many times each situation runs.
const rounds = 5

// global keeps a map alive past its function.
var global map[int]string

// local fills a map that never leaves its function.
//
//go:noinline
func local() int {
	m := make(map[int]int) // does not escape: hmap and first bucket on the stack
	for i := 0; i < n; i++ {
		m[i] = i * 2 // growth: bucket arrays on the heap
	}
	return len(m) + m[n-1]
}

// small stays within one bucket: nothing on the heap.
//
//go:noinline
func small() int {
	m := map[string]int{"a": 1, "b": 2, "c": 3}
	m["d"] = 4
	return m["a"] + m["d"] + len(m)
}

// returned builds and returns a map: it escapes.
//
//go:noinline
func returned(k int) map[int]bool {
	m := make(map[int]bool)
	for i := 0; i < k; i++ {
		m[i] = i%2 == 0
	}
	return m
}

// hinted sizes its map up front.
//
//go:noinline
func hinted() int {
	m := make(map[int]int, n) // hint above 8: bucket array allocated now
	for i := 0; i < n; i++ {
		m[i] = i
	}
	return len(m)
}

// stored puts a map in a global.
//
//go:noinline
func stored(r int) {
	m := make(map[int]string)
	m[r] = "round"
	global = m
}

// deleted inserts and deletes: deletion never shrinks.
//
//go:noinline
func deleted() int {
	m := make(map[int]int)
	for i := 0; i < 50; i++ {
		m[i] = i
	}
	for i := 0; i < 50; i += 2 {
		delete(m, i)
	}
	return len(m)
}

func run() {
	sum := 0
	for r := 0; r < rounds; r++ {
		sum += local()
		sum += small()
		sum += len(returned(10 + r))
		sum += hinted()
		stored(r)
		sum += len(global)
		sum += deleted()
	}
	fmt.Println("situations-map checksum", sum)
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
