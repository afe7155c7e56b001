// Command server is a small request server, simulated: the shape of
// scripts/go/server (the Go program that gcwb's `server` workload models),
// cut down to the Go subset gcwb interprets (no math/rand, no time, no
// atomics) and to a run well under a second.
//
//   - a long-lived cache of cacheEntries entries (an Entry of a key string
//     and a value []byte), in shards behind a sync.Mutex each, filled
//     before the servers start;
//   - workers goroutines (a worker pool) take request numbers from a
//     buffered channel, each with its own conn (a 4 KiB read buffer) and
//     its own random generator (xorshift, seeded by the request number, so
//     that what a request allocates does not depend on which worker
//     serves it);
//   - each request, between gcwbBegin("request") and gcwbEnd("request"),
//     allocates a Request, its header map (with a boxed Host value), then
//     allocsPerRequest-3 more blocks from a mix: a concatenated header key
//     with a boxed value, a URL converted from the read buffer, a
//     temporary string converted from the read buffer that does not escape,
//     a body []byte kept half the time, a padded strconv.Itoa string, a
//     closure capturing the request; then it reads the cache and, on a
//     miss, replaces an entry with a new one.
//
// gcwbBegin and gcwbEnd do nothing natively; gcwb's interpreter turns each
// call into the begin or end of a request span of the trace.
//
// The checksum printed depends only on what the requests compute, not on
// which worker served which request nor on the cache's contents.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
)

// The sizes of the run (scripts/go/server's defaults are 64 goroutines,
// 200 requests each, 12 allocations per request and a 4 MiB cache).
const (
	workers          = 8
	requests         = 20000
	allocsPerRequest = 12
	cacheEntries     = 16384
	shards           = 4
	hitPercent       = 90
)

// gcwbBegin marks the start of a request span (a no-op natively).
func gcwbBegin(tag string) {}

// gcwbEnd marks the end of a request span (a no-op natively).
func gcwbEnd(tag string) {}

// rng is a xorshift64 generator.
type rng struct {
	x uint64
}

func newRng(seed int) rng {
	return rng{x: uint64(seed)*0x9E3779B97F4A7C15 + 1}
}

// intn is a number in 0..n-1.
func (r *rng) intn(n int) int {
	r.x ^= r.x << 13
	r.x ^= r.x >> 7
	r.x ^= r.x << 17
	return int(r.x>>1) % n
}

// size is a size in lo..hi bytes, small sizes more likely (a cheap
// stand-in for the original's log-uniform sizes).
func (r *rng) size(lo, hi int) int {
	return lo + r.intn(r.intn(hi-lo)+1)
}

// Entry is one cache entry.
type Entry struct {
	key string
	val []byte
}

// shard is one part of the cache, with its lock.
type shard struct {
	mu      sync.Mutex
	entries []*Entry
}

// cache is the long-lived cache, reachable from a global.
var cache [shards]shard

// pool is the text strings are cut from.
var pool string

// host is a header value boxed once, not per request.
var host interface{} = "gcwb.example"

// Request is one request in flight.
type Request struct {
	URL    string
	Header map[string]interface{}
	Body   []byte
	Resp   []byte
	Misc   [3]string
	Done   func() int
}

// conn is one worker's connection: the request it serves and its buffer.
type conn struct {
	cur  *Request
	rbuf []byte
}

// str is a fresh heap string of n bytes: the concatenation of two
// substrings of pool.
func str(r *rng, n int) string {
	cut := 1 + r.intn(n-1)
	off := r.intn(len(pool) - n)
	return pool[off:off+cut] + pool[off+cut:off+n]
}

func newEntry(r *rng) *Entry {
	return &Entry{key: str(r, r.size(16, 64)), val: make([]byte, r.size(64, 4096))}
}

// handle serves request number id on c and returns its checksum.
func (c *conn) handle(id int) int {
	gcwbBegin("request")
	rnd := newRng(id)
	sum := 0
	r := &Request{}
	c.cur = r // the request escapes through the conn
	r.Header = make(map[string]interface{})
	r.Header["Host"] = host
	made := 3
	for made < allocsPerRequest {
		made++
		switch k := rnd.intn(8); {
		case k <= 2:
			key := str(&rnd, rnd.size(16, 256))
			if made < allocsPerRequest {
				made++
				r.Header[key] = 256 + rnd.intn(1<<20) // boxed: escapes to heap
			} else {
				r.Header[key] = host
			}
			sum += len(key)
		case k == 3:
			n := rnd.size(16, 256)
			off := rnd.intn(len(c.rbuf) - n)
			r.URL = string(c.rbuf[off : off+n])
			sum += len(r.URL)
		case k == 4:
			n := rnd.size(16, 256)
			off := rnd.intn(len(c.rbuf) - n)
			tmp := string(c.rbuf[off : off+n]) // does not escape
			sum += len(tmp) + int(tmp[n/2])
		case k == 5:
			body := make([]byte, rnd.size(256, 8192))
			if rnd.intn(2) == 0 {
				r.Body = body
			}
			sum += len(body)
		case k == 6:
			n := rnd.size(16, 256)
			s := pool[:n-2] + strconv.Itoa(10+rnd.intn(90))
			r.Misc[rnd.intn(len(r.Misc))] = s
			sum += len(s)
		default:
			done := func() int { return len(r.URL) }
			if rnd.intn(4) == 0 {
				r.Done = done
			}
			sum += done()
		}
	}
	i := rnd.intn(cacheEntries)
	sh := &cache[i%shards]
	if rnd.intn(100) < hitPercent {
		sh.mu.Lock()
		r.Resp = sh.entries[i/shards].val
		sh.mu.Unlock()
	} else {
		e := newEntry(&rnd)
		sh.mu.Lock()
		sh.entries[i/shards] = e
		sh.mu.Unlock()
		r.Resp = e.val
		sum++
	}
	c.cur = nil
	gcwbEnd("request")
	return sum
}

func run() {
	text := make([]byte, 8192)
	seed := newRng(0)
	for i := range text {
		text[i] = byte('a' + seed.intn(26))
	}
	pool = string(text)

	for s := 0; s < shards; s++ {
		cache[s].entries = make([]*Entry, cacheEntries/shards)
	}
	for i := 0; i < cacheEntries; i++ {
		cache[i%shards].entries[i/shards] = newEntry(&seed)
	}

	jobs := make(chan int, 64)
	var mu sync.Mutex
	var wg sync.WaitGroup
	total := 0
	for w := 0; w < workers; w++ {
		c := &conn{rbuf: make([]byte, 4096)}
		copy(c.rbuf, pool)
		wg.Add(1)
		go func() {
			sum := 0
			for id := range jobs {
				sum += c.handle(id)
			}
			mu.Lock()
			total += sum
			mu.Unlock()
			wg.Done()
		}()
	}
	for id := 0; id < requests; id++ {
		jobs <- id
	}
	close(jobs)
	wg.Wait()
	fmt.Println("server requests", requests, "checksum", total)
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
