// Command situations-iface exercises interface boxing: converting a
// non-pointer value to an interface.
//
// What Go 1.19 decides (expected/situations-iface.m.txt):
//   - a boxed value that escapes ("escapes to heap") is copied to the
//     heap, except (Go prints "escapes to heap" all the same): integers
//     of 0..255 and single-byte values (runtime.staticuint64s), an empty
//     string or nil slice (runtime.zeroVal), constants (read-only data);
//     a value already pointer-shaped (a pointer, map, chan or func) is
//     stored directly, and Go prints nothing about it;
//   - a boxed value that does not escape is copied to the stack;
//   - a boxed struct escapes to heap as one block of the struct's size;
//   - passing a struct to a function whose parameter is an interface it
//     calls a method on: the parameter leaks (Go cannot see which method
//     runs), so the boxed struct at the call escapes to heap.
//
// Go positions a plain variable's implicit conversion where the enclosing
// node is (an argument list's previous argument or "(", an assignment's
// statement), not at the variable: see README.md.
//
// Each situation is a function marked //go:noinline.
package main

import (
	"fmt"
	"os"
	"runtime"
)

// rounds is how many times each situation runs.
const rounds = 20

// sink keeps boxed values alive.
var sink []interface{}

// Shape is an interface with one method.
type Shape interface {
	Area() int
}

// Rect is a two-word struct.
type Rect struct {
	w, h int
}

// Area is Rect's method.
func (r Rect) Area() int { return r.w * r.h }

// boxEscaping boxes values into a global slice.
//
//go:noinline
func boxEscaping(i int) {
	big := 1000 + i
	small := i % 200
	p := &Rect{i, i}
	sink = append(sink, big)        // heap: 8 bytes
	sink = append(sink, small)      // 0..255: static, no allocation
	sink = append(sink, 42)         // constant: read-only data
	sink = append(sink, Rect{i, 2}) // heap: 16 bytes
	sink = append(sink, p)          // pointer: stored directly
	sink = append(sink, "a constant string")
}

// boxLocal boxes values that do not escape.
//
//go:noinline
func boxLocal(i int) int {
	var s Shape = Rect{i, 3} // does not escape: on the stack
	var e interface{} = 1000 + i
	n, _ := e.(int)
	return s.Area() + n
}

// area calls through the interface.
//
//go:noinline
func area(s Shape) int {
	return s.Area()
}

func run() {
	sum := 0
	for r := 0; r < rounds; r++ {
		boxEscaping(r)
		sum += boxLocal(r)
		sum += area(Rect{r, r + 1}) // boxed for the call; does not escape
	}
	for _, v := range sink {
		switch x := v.(type) {
		case int:
			sum += x
		case Rect:
			sum += x.Area()
		case *Rect:
			sum += x.w
		case string:
			sum += len(x)
		}
	}
	fmt.Println("situations-iface checksum", sum, "boxed", len(sink))
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
