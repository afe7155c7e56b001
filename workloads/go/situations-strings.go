// Command situations-strings exercises string allocation: concatenation,
// []byte and string conversions, strconv.Itoa.
//
// What Go 1.19 decides (expected/situations-strings.m.txt):
//   - a concatenation whose result does not escape gets a 32-byte stack
//     buffer: a result of at most 32 bytes allocates nothing, a longer one
//     is allocated on the heap by the runtime (concatstrings);
//   - a concatenation whose result escapes: always on the heap;
//   - []byte(s) and string(b) that do not escape: the same 32-byte stack
//     buffer rule; escaping: on the heap;
//   - string(b) used only as a map key in a lookup, or compared, does not
//     allocate at all;
//   - strconv.Itoa of 0..99 returns a static string (no allocation); of a
//     larger number, a heap string (Itoa's result escapes from strconv's
//     point of view).
//
// Each situation is a function marked //go:noinline, so that Go reports
// its allocations once, at their own positions.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
)

// rounds is how many times each situation runs.
const rounds = 20

// kept keeps strings alive past their function.
var kept []string

// shortConcat's result (at most 32 bytes) does not escape: stack buffer.
//
//go:noinline
func shortConcat(a, b string) int {
	s := a + b
	return len(s)
}

// longConcat's result does not escape but is longer than 32 bytes: heap.
//
//go:noinline
func longConcat(a, b string) int {
	s := a + b + a + b
	return len(s) + int(s[len(s)-1])
}

// escapingConcat's result is stored in a global: heap.
//
//go:noinline
func escapingConcat(a, b string) {
	kept = append(kept, a+"-"+b)
}

// toBytes converts a string to bytes and back.
//
//go:noinline
func toBytes(s string) int {
	b := []byte(s) // does not escape
	b[0] = 'X'
	t := string(b) // does not escape
	return len(t) + int(t[0])
}

// toBytesEscaping returns its conversion.
//
//go:noinline
func toBytesEscaping(s string) []byte {
	return []byte(s)
}

// lookup uses string(b) as a map key: no allocation.
//
//go:noinline
func lookup(m map[string]int, b []byte) int {
	return m[string(b)]
}

// itoa converts numbers: small ones are static strings.
//
//go:noinline
func itoa(i int) int {
	small := strconv.Itoa(i % 100) // 0..99: no allocation
	large := strconv.Itoa(100000 + i)
	return len(small) + len(large)
}

func run() {
	sum := 0
	m := map[string]int{"key": 7}
	key := []byte("key")
	for r := 0; r < rounds; r++ {
		sum += shortConcat("hello, ", "world")
		sum += longConcat("a string of some length, ", "and another one")
		escapingConcat("round", strconv.Itoa(r))
		sum += toBytes("bytes and back")
		sum += len(toBytesEscaping("returned bytes"))
		sum += lookup(m, key)
		sum += itoa(r)
	}
	fmt.Println("situations-strings checksum", sum, "kept", len(kept))
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
