package node

import (
	"sync"
	"testing"

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
		if j, ok := c.items[cacheKey(hashN(i))]; !ok || c.at(j).v != i { // look without reading
			t.Fatalf("object %d just added is not cached", i)
		}
	}
	if n := len(c.items); n != 10 {
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

// TestCacheKeyCollision: two hashes that share the cache's map key (their
// first 8 bytes) never answer for each other: adding one evicts the other.
func TestCacheKeyCollision(t *testing.T) {
	c := newCache(1 << 20)
	a, b := hashN(1), hashN(1)
	b[31] ^= 0xff
	if cacheKey(a) != cacheKey(b) || a == b {
		t.Fatal("test hashes should share a key and differ")
	}
	c.add(a, "a", 100)
	if v, ok := c.get(b); ok {
		t.Fatalf("get b = %v before b was added", v)
	}
	c.add(b, "b", 100)
	if v, ok := c.get(b); !ok || v != "b" {
		t.Fatalf("get b = %v, %v; want b", v, ok)
	}
	if v, ok := c.get(a); ok {
		t.Fatalf("get a = %v after b took its key; want a miss", v)
	}
	if c.size != 100 || len(c.items) != 1 || c.n != 1 || len(c.free) != 0 {
		t.Fatalf("size %d, %d items, %d slots (%d free); want 100, 1, 1 (0): b reuses a's slot",
			c.size, len(c.items), c.n, len(c.free))
	}
}
