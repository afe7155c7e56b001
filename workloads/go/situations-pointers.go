// Command situations-pointers exercises a pointer to a local variable
// or to a new object, and where it goes.
//
// What Go 1.19 decides (expected/situations-pointers.m.txt):
//   - returned: the variable whose address is returned is moved to heap,
//     and &Point{...} returned escapes to heap;
//   - via a global: moved to heap;
//   - via a channel send: moved to heap (whatever is sent on a channel
//     escapes);
//   - via a heap object: stored into an object that itself escapes, moved
//     to heap; stored into an object that stays on the stack, the variable
//     stays too;
//   - passed down to a function that only reads it: the parameter "does
//     not escape" and the variable stays on the stack;
//   - passed down to a function that stores it: "leaking param" and the
//     variable is moved to heap.
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

// Point is a small struct.
type Point struct {
	x, y int
}

// Holder holds a pointer.
type Holder struct {
	p *int
}

// global is where pointers escape to.
var global *int

// holders keeps holders alive.
var holders []*Holder

// viaReturn returns the address of a local: moved to heap.
//
//go:noinline
func viaReturn(k int) *int {
	v := k * 2
	return &v
}

// newPoint returns a new Point: escapes to heap.
//
//go:noinline
func newPoint(k int) *Point {
	return &Point{k, k + 1}
}

// viaGlobal stores the address of a local in a global: moved to heap.
//
//go:noinline
func viaGlobal(k int) {
	v := k + 3
	global = &v
}

// viaChannel sends the address of a local on a channel: moved to heap.
//
//go:noinline
func viaChannel(ch chan *int, k int) {
	v := k + 4
	ch <- &v
}

// viaHeapObject stores the address of a local in a Holder that escapes.
//
//go:noinline
func viaHeapObject(k int) {
	v := k + 5
	h := &Holder{p: &v}
	holders = append(holders, h)
}

// viaStackObject stores the address of a local in a Holder that does not
// escape: both stay on the stack.
//
//go:noinline
func viaStackObject(k int) int {
	v := k + 6
	h := &Holder{p: &v}
	return *h.p
}

// read only reads through its parameter: p does not escape.
//
//go:noinline
func read(p *Point) int {
	return p.x + p.y
}

// keep stores its parameter: leaking param.
//
//go:noinline
func keep(p *int) {
	global = p
}

// passedDown passes pointers to locals down.
//
//go:noinline
func passedDown(k int) int {
	pt := Point{k, k}
	v := k + 7
	keep(&v)         // v: moved to heap
	return read(&pt) // pt stays on the stack
}

func run() {
	sum := 0
	ch := make(chan *int, 1)
	for r := 0; r < rounds; r++ {
		sum += *viaReturn(r)
		sum += newPoint(r).y
		viaGlobal(r)
		sum += *global
		viaChannel(ch, r)
		sum += *<-ch
		viaHeapObject(r)
		sum += viaStackObject(r)
		sum += passedDown(r)
	}
	for _, h := range holders {
		sum += *h.p
	}
	fmt.Println("situations-pointers checksum", sum)
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
