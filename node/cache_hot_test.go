package node

import (
	"crypto/sha256"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stratakv/strata/backend"
)

func hashN(i int) backend.Hash {
	var h backend.Hash
	h[0], h[1], h[2] = byte(i), byte(i>>8), byte(i>>16)
	return h
}

// TestCacheBound: the cache never holds more than its budget, keeps what
// it holds readable (directories and other objects), and a hit keeps an
// entry over ones never read again (CLOCK's second chance).
func TestCacheBound(t *testing.T) {
	c := newCache(1000)
	hot := hashN(0)
	hotDir := Dir{Leaf: EmptyLeaf}
	c.add(hot, hotDir.Leaf, 100)
	for i := 1; i < 500; i++ {
		if d, ok := c.getDir(hot); !ok || d != hotDir {
			t.Fatalf("after %d adds: hot directory gone", i)
		}
		c.add(hashN(i), i, 100)
		if c.size > c.max {
			t.Fatalf("after %d adds: size %d > max %d", i, c.size, c.max)
		}
		if v, ok := c.peek(hashN(i)); !ok || v != i {
			t.Fatalf("object %d just added is not cached", i)
		}
	}
	if n := c.live; n != 10 {
		t.Errorf("%d items of 100 bytes in a 1000-byte cache, want 10", n)
	}
	if _, ok := c.get(hashN(1)); ok {
		t.Errorf("an old object never read again is still cached")
	}
	if v, ok := c.get(hashN(499)); !ok || v != 499 {
		t.Errorf("get of the last object added: %v, %v", v, ok)
	}
	if _, ok := c.getDir(hashN(499)); ok {
		t.Errorf("getDir returned an object that is not a directory")
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = c.getDir(hot) }); n != 0 {
		t.Errorf("getDir: %v allocations, want 0", n)
	}
}

// TestCacheConcurrent: readers and writers at once (run with -race).
func TestCacheConcurrent(t *testing.T) {
	c := newCache(5000)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				h := hashN(i % 300)
				if _, ok := c.getDir(h); !ok {
					c.add(h, EmptyLeaf, 100)
				}
			}
		}()
	}
	wg.Wait()
	if c.size > c.max {
		t.Errorf("size %d > max %d", c.size, c.max)
	}
}

// peek returns the object h without marking it used (a test's look that
// does not change what is evicted).
func (c *cache) peek(h backend.Hash) (any, bool) {
	t := c.tab.Load()
	w := hashWords(&h)
	for i := range t.slots {
		sl := &t.slots[i]
		if sl.typ != nil && sl.words() == w {
			return *(*any)(unsafe.Pointer(&eface{sl.typ, sl.data})), true
		}
	}
	return nil, false
}

// check verifies the table's invariants: every entry is reachable from
// its home slot without crossing an empty one, and live and size count
// the entries held.
func (c *cache) check(t *testing.T) {
	t.Helper()
	tab := c.tab.Load()
	live, size := 0, int64(0)
	for i := range tab.slots {
		sl := &tab.slots[i]
		if sl.typ == nil {
			continue
		}
		live++
		size += int64(sl.size)
		for j := tab.home(sl.words()[0]); j != uint64(i); j = (j + 1) & tab.mask {
			if tab.slots[j].typ == nil {
				t.Fatalf("slot %d: entry unreachable from its home slot (slot %d is empty)", i, j)
			}
		}
	}
	if live != c.live || size != c.size {
		t.Fatalf("table holds %d entries of %d bytes; cache counts %d of %d", live, size, c.live, c.size)
	}
	if uint64(live)*2 > tab.mask+1 {
		t.Fatalf("%d entries in %d slots: more than half full", live, tab.mask+1)
	}
	if live > 1 && c.size+tab.cost() > c.max {
		t.Fatalf("%d entries of %d bytes in %d slots (%d bytes counted): over the budget %d", live, size, len(tab.slots), tab.cost(), c.max)
	}
}

// TestCacheTableCounts: a cache of many small entries counts its table's
// slots toward its budget, so the table stays bounded by it too.
func TestCacheTableCounts(t *testing.T) {
	c := newCache(1 << 20)
	for i := range 100_000 {
		c.add(hashN(i), i, 1)
	}
	c.check(t)
	if tab := c.tab.Load(); int64(len(tab.slots))*slotBytes > 2*c.max {
		t.Fatalf("%d slots (%d bytes) for a budget of %d", len(tab.slots), int64(len(tab.slots))*slotBytes, c.max)
	}
}

// TestCacheSweepEnds: an add that must evict ends even if readers hit
// every entry again as fast as the sweep spares them (readers take no
// lock, so the sweep cannot count on a bit staying clear).
func TestCacheSweepEnds(t *testing.T) {
	c := newCache(10_000)
	for i := range 40 {
		c.add(hashN(i), i, 200)
	}
	for i := range 40 {
		c.get(hashN(i)) // every entry read: the sweep must spare them first
	}
	sweepSpared = func() {
		tab := c.tab.Load()
		for i := range tab.slots {
			if tab.slots[i].typ != nil {
				tab.slots[i].used.Store(true) // every entry read again
			}
		}
	}
	defer func() { sweepSpared = nil }()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 40; i < 80; i++ {
			c.add(hashN(i), i, 200)
		}
	}()
	select {
	case <-done:
	case <-time.After(time.Minute): // a liveness bound, not a speed check
		t.Fatal("add did not end: the sweep spares entries forever")
	}
	c.check(t)
	if v, ok := c.peek(hashN(79)); !ok || v != 79 {
		t.Fatalf("the last entry added is not cached: %v, %v", v, ok)
	}
}

// TestCacheHomeSeeded: hashes ground to share their low bits (here all of
// the first word's low 32) still spread over the table: probes stay short.
func TestCacheHomeSeeded(t *testing.T) {
	c := newCache(1 << 30)
	for i := range 4096 {
		var h backend.Hash
		h[4], h[5], h[6] = byte(i), byte(i>>8), 1 // bytes 0-3 (the low 32 bits) all zero
		c.add(h, i, 100)
	}
	c.check(t)
	tab := c.tab.Load()
	longest := uint64(0)
	for i := range tab.slots {
		if sl := &tab.slots[i]; sl.typ != nil {
			longest = max(longest, (uint64(i)-tab.home(sl.words()[0]))&tab.mask)
		}
	}
	if longest > 64 {
		t.Fatalf("an entry is %d slots from its home in a table of %d: the keys did not spread", longest, len(tab.slots))
	}
}

// TestCacheKeyCollision: hashes that share the table key (their first 8
// bytes, so one home slot) are held side by side and never answer for
// each other, and evicting one leaves the others reachable.
func TestCacheKeyCollision(t *testing.T) {
	c := newCache(1 << 20)
	a, b, d := hashN(1), hashN(1), hashN(1)
	b[31] ^= 0xff
	d[9] ^= 0x01
	c.add(a, "a", 100)
	if v, ok := c.get(b); ok {
		t.Fatalf("get b = %v before b was added", v)
	}
	c.add(b, "b", 100)
	c.add(d, "d", 100)
	c.add(b, "b2", 100) // already held: kept as it is
	for h, want := range map[backend.Hash]string{a: "a", b: "b", d: "d"} {
		if v, ok := c.get(h); !ok || v != want {
			t.Fatalf("get %x = %v, %v; want %s", h[:2], v, ok, want)
		}
	}
	c.check(t)
	tab := c.tab.Load()
	c.mu.Lock()
	c.evict(tab, tab.home(hashWords(&a)[0])) // a, in its home slot
	c.mu.Unlock()
	c.check(t)
	if v, ok := c.get(a); ok {
		t.Fatalf("get a = %v after a was evicted", v)
	}
	for h, want := range map[backend.Hash]string{b: "b", d: "d"} {
		if v, ok := c.get(h); !ok || v != want {
			t.Fatalf("after evicting a: get %x = %v, %v; want %s", h[:2], v, ok, want)
		}
	}
	if c.size != 200 || c.live != 2 {
		t.Fatalf("size %d, %d entries; want 200, 2", c.size, c.live)
	}
}

// TestCacheTable: random adds and gets (growth, wrap-around probes,
// eviction moving entries back) keep the table's invariants, and every
// object the cache reports holding is the one added under that hash.
// Hashes share a few home slots, to make long probes.
func TestCacheTable(t *testing.T) {
	seed := uint64(time.Now().UnixNano()) // to replay a failure, set it to the seed logged
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, max := range []int64{1000, 20_000, 1 << 20} {
		c := newCache(max)
		held := map[backend.Hash]bool{}
		hashOf := func(i int) backend.Hash {
			h := hashN(i)
			h[8] = byte(i % 7)                 // the key (first 8 bytes) differs...
			h[0], h[1], h[2] = 0, 0, byte(i%5) // ...but few home slots
			h[20], h[21] = byte(i), byte(i>>8)
			return h
		}
		for k := 0; k < 5000; k++ {
			i := rng.IntN(3000)
			h := hashOf(i)
			if rng.IntN(2) == 0 {
				c.add(h, i, 10+int64(rng.IntN(90)))
				held[h] = true
			} else if v, ok := c.get(h); ok && (v != i || !held[h]) {
				t.Fatalf("get of object %d = %v", i, v)
			}
			if k%499 == 0 {
				c.check(t)
			}
			if c.size > c.max {
				t.Fatalf("size %d > max %d", c.size, c.max)
			}
		}
		c.check(t)
		if max == 1<<20 && c.live != len(held) {
			t.Fatalf("a cache big enough for all holds %d of %d", c.live, len(held))
		}
	}
}

// TestCacheConcurrentTable: readers probing while writers add, evict and
// grow never get another object than the one asked for (run with -race).
func TestCacheConcurrentTable(t *testing.T) {
	c := newCache(30_000)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5000; i++ {
				k := (i*7 + g*13) % 2000
				h := hashN(k)
				h[9], h[10], h[0], h[1] = h[0], h[1], byte(k%3), 0 // the first word takes 3 values: 3 home slots
				if v, ok := c.get(h); ok {
					if v != k {
						t.Errorf("get of object %d = %v", k, v)
						return
					}
				} else {
					c.add(h, k, 100)
				}
			}
		}()
	}
	wg.Wait()
	c.check(t)
}

// TestHotStructsFitALine: a Leaf and a Trie, read on every lookup, are 64
// bytes each, so the allocator gives each one cache line.
func TestHotStructsFitALine(t *testing.T) {
	if n := unsafe.Sizeof(Leaf{}); n != 64 {
		t.Errorf("a Leaf is %d bytes, want 64", n)
	}
	if n := unsafe.Sizeof(Trie{}); n != 64 {
		t.Errorf("a Trie is %d bytes, want 64", n)
	}
	if n := unsafe.Sizeof(cacheSlot{}); n != 64 {
		t.Errorf("a cache slot is %d bytes, want 64", n)
	}
}

// TestCacheEvictionKeepsRunsShort: a full cache that evicts for every
// add, for several turns of its sweep, keeps its entries spread over the
// table: its longest run of consecutive full slots (which an add or an
// eviction in it walks) stays as short as in a table filled at random.
func TestCacheEvictionKeepsRunsShort(t *testing.T) {
	c := newCache(50_000 * 300)
	for i := range 400_000 {
		c.add(hashN(i), i, 300)
	}
	c.check(t)
	tab := c.tab.Load()
	longest, run := 0, 0
	for i := range 2 * len(tab.slots) { // twice round: a run may wrap
		if tab.slots[i&int(tab.mask)].typ == nil {
			run = 0
			continue
		}
		run++
		longest = max(longest, run)
	}
	t.Logf("%d slots, %d entries, longest run %d", len(tab.slots), c.live, longest)
	if longest > 64 {
		t.Fatalf("a run of %d full slots in a table of %d holding %d entries", longest, len(tab.slots), c.live)
	}
}

// TestPrefetch: Prefetch is only a hint: it changes nothing a read sees,
// on a Store with a cache or without one (a negative size), for a hash
// the cache holds or not.
func TestPrefetch(t *testing.T) {
	for _, size := range []int64{1 << 20, -1} {
		s := NewStore(nil, size)
		s.Prefetch(hashN(1))
		s.RememberDir(hashN(1), EmptyDir, 0)
		s.Prefetch(hashN(1))
		s.Prefetch(hashN(2))
		_, ok := s.Cached(hashN(1))
		if want := size > 0; ok != want {
			t.Errorf("cache of %d bytes: Cached after Prefetch and RememberDir = %v, want %v", size, ok, want)
		}
		if _, ok := s.Cached(hashN(2)); ok {
			t.Errorf("cache of %d bytes: a prefetched hash never remembered is cached", size)
		}
	}
}

// TestForget: Forget drops the entries it names (and only those) from the
// cache, keeping its counts right and the entries after them in their
// probe runs reachable (the hashes are well mixed, so that many entries
// sit away from their home slot, behind others); names the cache does
// not hold, and a Store without a cache, are no-ops.
func TestForget(t *testing.T) {
	s := NewStore(nil, 1<<20)
	const n = 2000
	hash := func(i int) backend.Hash { return backend.Hash(sha256.Sum256([]byte{byte(i), byte(i >> 8)})) }
	for i := range n {
		s.RememberDir(hash(i), EmptyDir, 0)
	}
	tab, away := s.cache.tab.Load(), 0
	for i := range tab.slots {
		sl := &tab.slots[i]
		if sl.typ != nil && tab.home(sl.h[0].Load()) != uint64(i) {
			away++
		}
	}
	if away < n/10 {
		t.Fatalf("only %d of %d entries sit away from their home slot: the test would not exercise the probe runs", away, n)
	}
	var drop []backend.Hash
	for i := 0; i < n; i += 3 {
		drop = append(drop, hash(i))
	}
	drop = append(drop, hash(n+1)) // never remembered
	s.Forget(drop)
	s.cache.check(t)
	for i := range n {
		_, ok := s.Cached(hash(i))
		if want := i%3 != 0; ok != want {
			t.Fatalf("entry %d: cached %v, want %v", i, ok, want)
		}
	}
	if want := n - (n+2)/3; s.cache.live != want {
		t.Errorf("%d entries live, want %d", s.cache.live, want)
	}
	NewStore(nil, -1).Forget(drop) // no cache: nothing to do, no panic
}
