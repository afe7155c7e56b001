// Command gcbench is John Ellis and Pete Kovac's GCBench (Java, after a
// benchmark by Hans Boehm; www.hboehm.info/gc/gc_bench/), ported to Go and
// scaled down through the constants below so that it runs in a few tens
// of milliseconds: a stretch tree built and dropped, a long-lived tree
// (built top-down by populate) and a long-lived array of float64 kept to
// the end, and for each depth kMinTreeDepth, +2, ..., kMaxTreeDepth,
// numIters(depth) trees built top-down (populate) and as many bottom-up
// (makeTree), each dropped at once.
//
// What Go 1.19 decides: every new(Node) and &Node{...} escapes to heap
// (stored into a heap node or returned); the array, made with a constant
// size of kArraySize*8 bytes > 64 KiB, escapes to heap as too large for
// the stack. The original's Node also has two int fields (i, j); kept, so
// a node is 32 bytes.
package main

import (
	"fmt"
	"os"
	"runtime"
)

// The original's sizes are 18, 16, 500000, 4 and 16.
const (
	kStretchTreeDepth   = 14
	kLongLivedTreeDepth = 12
	kArraySize          = 50000
	kMinTreeDepth       = 4
	kMaxTreeDepth       = 12
)

// Node is the benchmark's tree node.
type Node struct {
	left, right *Node
	i, j        int
}

// treeSize is the number of nodes of a complete tree of depth i.
func treeSize(i int) int {
	return (1 << (i + 1)) - 1
}

// numIters is how many trees of depth i make as many nodes as two
// stretch trees.
func numIters(i int) int {
	return 2 * treeSize(kStretchTreeDepth) / treeSize(i)
}

// populate builds a tree top-down under node.
func populate(depth int, node *Node) {
	if depth <= 0 {
		return
	}
	depth--
	node.left = new(Node)
	node.right = new(Node)
	populate(depth, node.left)
	populate(depth, node.right)
}

// makeTree builds a tree bottom-up.
func makeTree(depth int) *Node {
	if depth <= 0 {
		return new(Node)
	}
	return &Node{left: makeTree(depth - 1), right: makeTree(depth - 1)}
}

// count is the number of nodes of a tree.
func count(n *Node) int {
	if n == nil {
		return 0
	}
	return 1 + count(n.left) + count(n.right)
}

// timeConstruction builds numIters(depth) trees top-down and as many
// bottom-up, and returns how many nodes it built.
func timeConstruction(depth int) int {
	iters := numIters(depth)
	built := 0
	for i := 0; i < iters; i++ {
		tempTree := new(Node)
		populate(depth, tempTree)
		built += count(tempTree)
	}
	for i := 0; i < iters; i++ {
		tempTree := makeTree(depth)
		built += count(tempTree)
	}
	fmt.Println("depth", depth, "iterations", iters, "nodes", built)
	return built
}

func run() {
	// Stretch the memory space quickly.
	tempTree := makeTree(kStretchTreeDepth)
	built := count(tempTree)
	tempTree = nil

	// A long-lived tree and a long-lived array.
	longLivedTree := new(Node)
	populate(kLongLivedTreeDepth, longLivedTree)
	array := make([]float64, kArraySize)
	for i := 0; i < kArraySize/2; i++ {
		array[i] = 1.0 / float64(i)
	}

	for d := kMinTreeDepth; d <= kMaxTreeDepth; d += 2 {
		built += timeConstruction(d)
	}

	if longLivedTree == nil || array[1000] != 1.0/1000 {
		fmt.Println("gcbench: failed")
		os.Exit(1)
	}
	fmt.Println("gcbench nodes built", built, "long-lived", count(longLivedTree), "tempTree nil", tempTree == nil)
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
