// Command binary-trees is the Computer Language Benchmarks Game's
// binary-trees (benchmarksgame-team.pages.debian.net/benchmarksgame/
// description/binarytrees.html), in the shape of its Go programs: a
// stretch tree of depth maxDepth+1 built and checked, a long-lived tree of
// depth maxDepth kept to the end, and for each depth d = minDepth,
// minDepth+2, ..., maxDepth, 2^(maxDepth-d+minDepth) trees of depth d built
// bottom-up and checked, one goroutine per depth (sync.WaitGroup), the
// results printed in depth order.
//
// What Go 1.19 decides: every &Node{} in bottomUpTree escapes to heap (it
// is returned); nothing else in the loops allocates. The results slices
// are made with a constant size and do not escape.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
)

// maxDepth is the depth of the long-lived tree (the game's argument; its
// own runs use 21, the default here is 12 to stay well under a second).
const maxDepth = 12

// minDepth is the smallest depth of the short-lived trees.
const minDepth = 4

// depths is how many depths the loop visits: minDepth..maxDepth by 2.
const depths = (maxDepth-minDepth)/2 + 1

// Node is a tree node: two children, both nil at a leaf.
type Node struct {
	left, right *Node
}

// bottomUpTree builds a complete tree of the given depth, children first.
func bottomUpTree(depth int) *Node {
	if depth <= 0 {
		return &Node{}
	}
	return &Node{bottomUpTree(depth - 1), bottomUpTree(depth - 1)}
}

// check counts the nodes of the tree.
func (n *Node) check() int {
	if n.left == nil {
		return 1
	}
	return 1 + n.left.check() + n.right.check()
}

func run() {
	stretchDepth := maxDepth + 1
	fmt.Printf("stretch tree of depth %d\t check: %d\n", stretchDepth, bottomUpTree(stretchDepth).check())

	longLived := bottomUpTree(maxDepth)

	var iterations [depths]int
	var checks [depths]int
	var wg sync.WaitGroup
	for i := 0; i < depths; i++ {
		wg.Add(1)
		go func(i int) {
			depth := minDepth + 2*i
			n := 1 << (maxDepth - depth + minDepth)
			sum := 0
			for j := 0; j < n; j++ {
				sum += bottomUpTree(depth).check()
			}
			iterations[i] = n
			checks[i] = sum
			wg.Done()
		}(i)
	}
	wg.Wait()
	for i := 0; i < depths; i++ {
		fmt.Printf("%d\t trees of depth %d\t check: %d\n", iterations[i], minDepth+2*i, checks[i])
	}
	fmt.Printf("long lived tree of depth %d\t check: %d\n", maxDepth, longLived.check())
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
