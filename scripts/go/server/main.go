// Command server is the Go program that gcwb's `server` workload models
// (workloads/src/generate/server.rs), written out so that Go's own runtime
// can be measured on the same shape of program: scripts/go-compare.sh runs
// it with GODEBUG=gctrace=1, imports the log with `gcwb import --format
// go-gctrace`, and sets it beside gcwb's replay of the `server` workload.
//
// The shape, parameter for parameter (the flags carry the workload's
// parameter names, with dashes):
//
//   - a long-lived cache, [4][]*Entry reachable from globals, filled before
//     the servers start (every slot holds an entry: an Entry of 40 bytes,
//     size class 48 as in the model, a key of 16..64 bytes and a value of
//     64 B..4 KiB, both log-uniform); its
//     size sets the live heap (-cache-entries, or -live-mb, which divides
//     by the mean entry size of the model, EntryBytes);
//   - -goroutines server goroutines (64), each with a conn (64 bytes and a
//     4 KiB read buffer) and serving -requests requests in a row;
//   - each request allocates -allocs-per-request short-lived blocks (12): the
//     Request (256 bytes), its header map (hmap, and one bucket: every
//     request gets a Host header, a value boxed once), then a
//     random mix of header entries (a concatenated key and a boxed value),
//     URL and temporary strings converted from the read buffer, a body of
//     256 B..8 KiB kept half the time, itoa strings and a closure
//     capturing the request; it computes for -work-ns (jittered ±50 %, in
//     two halves around the cache lookup; computation between looks at the
//     clock, see work), reads the cache, and on a miss
//     (1 - -hit-rate) replaces an entry with a new one (3 more blocks).
//
// Where the model and Go differ, Go decides: escape analysis (a temporary
// string of at most 32 bytes stays on the stack, a longer one does not),
// size classes, the tiny allocator (the 8-byte boxed values), and the
// cache is a slice of atomic pointers because 64 goroutines read and write
// it (the trace's replay keeps such accesses in trace order instead).
// strconv.Itoa of a small number does not allocate, so an itoa string is a
// padding prefix concatenated with a two-digit Itoa: one block of the
// model's size.
//
// Each request's latency is measured (time.Now before, time.Since after,
// into a slice allocated up front) and the percentiles are printed on
// stdout at the end, with one machine-readable line:
//
//	latency_ns count=N p50=... p90=... p99=... p999=... max=...
//
// Standard library only; Go 1.19 or later (atomic.Pointer).
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// EntryBytes is the mean heap footprint of one cache entry in gcwb's model
// of this program: measured as the final live heap of `gcwb run --workload
// server` divided by cache_entries (48 B entry + ~35 B key + ~970 B value,
// plus the cache's pointer slot and size-class rounding). -live-mb divides
// by it so that both sides get the same number of entries.
const EntryBytes = 1060

// Shards is how many arrays (globals) the cache is split into.
const Shards = 4

// Entry is one cache entry: key and value (40 bytes, size class 48).
type Entry struct {
	key string
	val []byte
}

// cache holds the entries: entry i is cache[i%Shards][i/Shards].
var cache [Shards][]atomic.Pointer[Entry]

// Request is 256 bytes with 8 pointer-bearing fields, like the model's.
type Request struct {
	URL    string
	Header map[string]any
	Body   []byte
	Resp   []byte
	Misc   [3]string
	Done   func() int
	_      [256 - 128]byte
}

// conn is one connection: the request being served and its read buffer.
type conn struct {
	cur  *Request
	rbuf []byte
}

// pool is the text strings are cut from: substrings of it do not allocate,
// their concatenation does (one block of the sum of their lengths).
var pool string

// host is a header value that is boxed once, not per request.
var host any = "gcwb.example"

type params struct {
	goroutines, requests, allocsPerRequest, workNs, cacheEntries int
	hitRate                                                      float64
	seed                                                         int64
}

func main() {
	var p params
	var liveMB float64
	flag.IntVar(&p.goroutines, "goroutines", 64, "server goroutines (one connection each)")
	flag.IntVar(&p.requests, "requests", 200, "requests each goroutine serves")
	flag.IntVar(&p.allocsPerRequest, "allocs-per-request", 12, "short-lived blocks a request allocates (cache misses add 3)")
	flag.IntVar(&p.workNs, "work-ns", 2000, "mean computation per request, ns, in two halves")
	flag.IntVar(&p.cacheEntries, "cache-entries", 0, "entries of the shared cache (overrides -live-mb)")
	flag.Float64Var(&liveMB, "live-mb", 4, "live heap of the cache in MiB (entries = live-mb MiB / EntryBytes)")
	flag.Float64Var(&p.hitRate, "hit-rate", 0.9, "share of requests served from the cache")
	flag.Int64Var(&p.seed, "seed", 1, "random seed")
	flag.Parse()
	if flag.NArg() != 0 {
		fail("unexpected argument %q", flag.Arg(0))
	}
	if p.cacheEntries <= 0 {
		p.cacheEntries = int(liveMB * (1 << 20) / EntryBytes)
	}
	switch {
	case p.goroutines < 1:
		fail("-goroutines must be at least 1")
	case p.requests < 0:
		fail("-requests must not be negative")
	case p.allocsPerRequest < 3:
		fail("-allocs-per-request must be at least 3")
	case p.workNs < 0:
		fail("-work-ns must not be negative")
	case p.cacheEntries < 1:
		fail("the cache needs at least one entry (-cache-entries or -live-mb)")
	case !(p.hitRate >= 0 && p.hitRate <= 1):
		fail("-hit-rate must be in 0..1")
	}
	fmt.Printf("server: %d goroutines x %d requests, %d allocs/request, work %d ns, %d cache entries, hit rate %g, GOMAXPROCS %d\n",
		p.goroutines, p.requests, p.allocsPerRequest, p.workNs, p.cacheEntries, p.hitRate, runtime.GOMAXPROCS(0))

	calibrate()
	fmt.Printf("work: %.2f spin iterations per ns\n", itersPerNs)

	rng := rand.New(rand.NewSource(p.seed))
	text := make([]byte, 8192)
	for i := range text {
		text[i] = byte('a' + rng.Intn(26))
	}
	pool = string(text)

	// Warm the cache: every slot holds an entry before the servers start.
	t0 := time.Now()
	shards := Shards
	if p.cacheEntries < shards {
		shards = p.cacheEntries
	}
	perShard := (p.cacheEntries + shards - 1) / shards
	for s := 0; s < shards; s++ {
		cache[s] = make([]atomic.Pointer[Entry], perShard)
	}
	for i := 0; i < p.cacheEntries; i++ {
		cache[i%shards][i/shards].Store(newEntry(rng))
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("cache filled in %.1f ms: heap_alloc_bytes=%d (%.1f MiB, %.0f B/entry)\n",
		float64(time.Since(t0).Microseconds())/1e3, ms.HeapAlloc, float64(ms.HeapAlloc)/(1<<20),
		float64(ms.HeapAlloc)/float64(p.cacheEntries))

	// The accept loop: one conn per goroutine.
	lat := make([][]int64, p.goroutines)
	sums := make([]int, p.goroutines)
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < p.goroutines; g++ {
		c := &conn{rbuf: make([]byte, 4096)}
		copy(c.rbuf, pool)
		lat[g] = make([]int64, p.requests)
		r := rand.New(rand.NewSource(p.seed*1_000_003 + int64(g) + 1))
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			sums[g] = c.serve(&p, shards, r, lat[g])
		}(g)
	}
	wg.Wait()
	elapsed := time.Since(start)

	all := make([]int64, 0, p.goroutines*p.requests)
	check := 0
	for g := range lat {
		all = append(all, lat[g]...)
		check += sums[g]
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	runtime.ReadMemStats(&ms)
	n := len(all)
	fmt.Printf("requests %d in %.3f s (%.0f requests/s); NumGC %d, PauseTotalNs %d, GCCPUFraction %.4f (checksum %d)\n",
		n, elapsed.Seconds(), float64(n)/elapsed.Seconds(), ms.NumGC, ms.PauseTotalNs, ms.GCCPUFraction, check)
	fmt.Printf("request latency: p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
		us(pct(all, 0.5)), us(pct(all, 0.9)), us(pct(all, 0.99)), us(pct(all, 0.999)), us(pct(all, 1)))
	fmt.Printf("latency_ns count=%d p50=%d p90=%d p99=%d p999=%d max=%d\n",
		n, pct(all, 0.5), pct(all, 0.9), pct(all, 0.99), pct(all, 0.999), pct(all, 1))
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "server: "+format+"\n", args...)
	os.Exit(2)
}

// pct is the q-quantile of sorted (nearest rank); 0 when empty.
func pct(sorted []int64, q float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	return sorted[i]
}

func us(ns int64) string { return fmt.Sprintf("%.1f µs", float64(ns)/1e3) }

// logSize is a size in bytes, log-uniform in 2^lo ..= 2^hi.
func logSize(r *rand.Rand, lo, hi float64) int {
	return int(math.Round(math.Exp2(lo + (hi-lo)*r.Float64())))
}

// str is a fresh heap string of n bytes (n <= len(pool)): the
// concatenation of two substrings of pool.
func str(r *rand.Rand, n int) string {
	cut := 1 + r.Intn(n-1)
	off := r.Intn(len(pool) - n)
	return pool[off:off+cut] + pool[off+cut:off+n]
}

// newEntry is a cache entry: key 16..64 bytes, value 64 B..4 KiB.
func newEntry(r *rand.Rand) *Entry {
	return &Entry{key: str(r, logSize(r, 4, 6)), val: make([]byte, logSize(r, 6, 12))}
}

// jitter is mean ± 50 %, as the model's.
func jitter(r *rand.Rand, mean int) int {
	if mean <= 0 {
		return 0
	}
	lo := (mean + 1) / 2
	return lo + r.Intn(mean+mean/2-lo+1)
}

// itersPerNs is how many iterations of spin take a nanosecond (calibrate).
var itersPerNs float64

// spin is n steps of a xorshift generator: computation with no calls, which
// Go's asynchronous preemption can stop anywhere.
func spin(n int) int {
	x := uint64(88172645463325252)
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return int(x & 1)
}

// calibrate sets itersPerNs: spins until a run takes at least 50 ms.
func calibrate() {
	for n := 1 << 16; ; n *= 2 {
		t := time.Now()
		spin(n)
		if d := time.Since(t); d >= 50*time.Millisecond {
			itersPerNs = float64(n) / float64(d.Nanoseconds())
			return
		}
	}
}

// workChunkNs is how long work computes between two looks at the clock.
const workChunkNs = 100

// work computes for ns nanoseconds of wall-clock time, as gcwb's replay of
// a `work` event spins: in chunks of about workChunkNs of pure computation
// (spin) between looks at the clock. Polling the clock alone would spend
// most of the time in the vDSO, where a goroutine cannot be preempted
// asynchronously, and stretch every stop-the-world by a millisecond or
// more; computing alone would drift from the wall clock when the machine
// is shared.
func work(ns int) int {
	if ns <= 0 {
		return 0
	}
	chunk := int(workChunkNs*itersPerNs) + 1
	d := time.Duration(ns)
	t := time.Now()
	sum := 0
	for time.Since(t) < d {
		sum += spin(chunk)
	}
	return sum
}

// serve serves p.requests requests, recording each one's latency in lat.
func (c *conn) serve(p *params, shards int, r *rand.Rand, lat []int64) int {
	sum := 0
	for i := range lat {
		t := time.Now()
		sum += c.handle(p, shards, r)
		lat[i] = int64(time.Since(t))
	}
	return sum
}

// handle serves one request.
func (c *conn) handle(p *params, shards int, rnd *rand.Rand) int {
	sum := 0
	r := &Request{}
	c.cur = r // the request escapes through the conn
	r.Header = make(map[string]any)
	r.Header["Host"] = host // hmap and its bucket: every request has a Host
	made := 3
	for made < p.allocsPerRequest {
		made++
		switch k := rnd.Intn(8); {
		case k <= 2:
			// r.Header[a+b] = any(n): a concatenated key and a boxed value
			// (above 255, which Go would not box on the heap).
			key := str(rnd, logSize(rnd, 4, 8))
			if made < p.allocsPerRequest {
				made++
				r.Header[key] = any(256 + rnd.Intn(1<<20))
			} else {
				r.Header[key] = host
			}
		case k == 3:
			n := logSize(rnd, 4, 8)
			off := rnd.Intn(len(c.rbuf) - n)
			r.URL = string(c.rbuf[off : off+n])
		case k == 4:
			n := logSize(rnd, 4, 8)
			off := rnd.Intn(len(c.rbuf) - n)
			tmp := string(c.rbuf[off : off+n]) // never escapes
			sum += len(tmp) + int(tmp[n/2])
		case k == 5:
			body := make([]byte, logSize(rnd, 8, 13))
			if rnd.Intn(2) == 0 {
				r.Body = body
			}
			sum += len(body)
		case k == 6:
			n := logSize(rnd, 4, 8)
			r.Misc[rnd.Intn(len(r.Misc))] = pool[:n-2] + strconv.Itoa(10+rnd.Intn(90))
		default:
			done := func() int { return len(r.URL) }
			if rnd.Intn(4) == 0 {
				r.Done = done
			}
			sum += done()
		}
	}
	sum += work(jitter(rnd, p.workNs/2))
	i := rnd.Intn(p.cacheEntries)
	slot := &cache[i%shards][i/shards]
	var e *Entry
	if rnd.Float64() < p.hitRate {
		e = slot.Load()
	} else {
		e = newEntry(rnd)
		slot.Store(e)
	}
	r.Resp = e.val
	sum += work(jitter(rnd, p.workNs-p.workNs/2))
	c.cur = nil
	return sum
}
