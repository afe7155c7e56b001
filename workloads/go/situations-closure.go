// Command situations-closure exercises closures: what a func literal
// allocates, and how it captures (by value or by reference).
//
// What Go 1.19 decides (expected/situations-closure.m.txt):
//   - a func literal called only where it is made: does not escape (its
//     closure record is on the stack, or it is inlined away);
//   - a func literal returned, stored in a global or run by a go
//     statement: escapes to heap (one block: the code pointer and the
//     captured variables);
//   - a captured variable that is never reassigned after capture and is
//     at most 128 bytes is captured by value (copied into the closure);
//     one that is reassigned is captured by reference, and if the closure
//     escapes the variable is moved to heap;
//   - a func literal that captures nothing is a static closure: Go still
//     prints "func literal escapes to heap", but nothing is allocated.
//
// Each situation is a function marked //go:noinline.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
)

// rounds is how many times each situation runs.
const rounds = 20

// saved keeps closures alive.
var saved []func() int

// counter returns a closure over a variable it updates: the variable is
// moved to heap, the closure escapes.
//
//go:noinline
func counter(start int) func() int {
	n := start
	return func() int {
		n++
		return n
	}
}

// byValue stores a closure over a variable never reassigned: captured by
// value into the escaping closure.
//
//go:noinline
func byValue(k int) {
	double := 2 * k
	saved = append(saved, func() int { return double })
}

// local calls its closure where it made it: nothing escapes.
//
//go:noinline
func local(k int) int {
	total := 0
	add := func(v int) { total += v }
	for i := 0; i < k; i++ {
		add(i)
	}
	return total
}

// static stores a closure that captures nothing.
//
//go:noinline
func static() {
	saved = append(saved, func() int { return 7 })
}

// spawned runs a closure on a goroutine: it escapes, and what it updates
// is moved to heap.
//
//go:noinline
func spawned(k int) int {
	result := 0
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		result = k * k
		wg.Done()
	}()
	wg.Wait()
	return result
}

func run() {
	sum := 0
	for r := 0; r < rounds; r++ {
		next := counter(r)
		next()
		sum += next()
		byValue(r)
		sum += local(r)
		static()
		sum += spawned(r)
	}
	for _, f := range saved {
		sum += f()
	}
	fmt.Println("situations-closure checksum", sum, "saved", len(saved))
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
