// Command seed-example is the worked example of Go 101's article "Memory
// Blocks" (go101.org/article/memory-block.html, section "When can a memory
// block be collected?"), reconstructed: main makes a channel, a goroutine
// runs a closure that declares x, y and z, lets x and y escape through the
// package-level pointer p, leaves z on the stack, and signals done; main
// receives from done.
//
// What Go 1.19 decides (go build -gcflags=-m=1, see expected/):
//   - done: make(chan bool) escapes to heap (the goroutine's closure holds it);
//   - the func literal escapes to heap (a go statement's closure always does);
//   - x and y: moved to heap (their addresses are stored in the global p);
//   - z: stays on the goroutine's stack.
package main

import (
	"fmt"
	"os"
	"runtime"
)

// rounds is how many times the example runs (the article runs it once).
const rounds = 1

// p is the package-level pointer through which x and y escape.
var p *int

// example is the article's main: one round of the worked example.
func example() bool {
	// done is used by main and by the new goroutine: it is allocated on
	// the heap (make(chan bool) escapes to heap).
	done := make(chan bool)

	go func() { // func literal escapes to heap
		x, y, z := 123, 456, 789 // x, y: moved to heap; z: on the stack
		_ = z                    // z can be allocated on the stack safely
		p = &x                   // x and y are both referenced by the
		p = &y                   // global p at some time: both on the heap
		// Now x is not referenced by anyone: its block can be collected.
		p = nil
		// Now y is not referenced by anyone either.
		done <- true
	}()

	ok := <-done
	// Now the goroutine has exited and done is no longer used: it can be
	// collected too.
	return ok
}

func run() {
	n := 0
	for i := 0; i < rounds; i++ {
		if example() {
			n++
		}
	}
	fmt.Println("seed-example rounds", n, "p is nil", p == nil)
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
