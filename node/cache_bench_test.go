package node

import (
	"fmt"
	"testing"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/internal/codec"
)

// cacheBenchHashes returns n distinct hashes, as random as BLAKE3's.
func cacheBenchHashes(n int) []backend.Hash {
	hs := make([]backend.Hash, n)
	for i := range hs {
		hs[i] = codec.Sum([]byte{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24)})
	}
	return hs
}

// BenchmarkCacheAdd: inserts of new objects into a cache that grows to
// 10^6 of them (the write path remembers every object it makes), then,
// in a cache of 10^5, inserts that evict.
func BenchmarkCacheAdd(b *testing.B) {
	hs := cacheBenchHashes(1 << 20)
	for _, bc := range []struct {
		name string
		max  int64
	}{{"grow", 1 << 40}, {"evict", 100_000 * 300}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var c *cache
			for i := 0; i < b.N; i++ {
				if i%len(hs) == 0 {
					c = newCache(bc.max)
				}
				c.add(hs[i%len(hs)], EmptyLeaf, 300)
			}
		})
	}
	// Distinct leaves, as a real cache holds: an eviction reads the state
	// word of each object the sweep passes (see cache.referenced), which
	// one shared leaf would keep in the processor's cache.
	leaves := make([]*Leaf, 1<<17)
	for i := range leaves {
		l, err := NewLeaf([]Entry{{Name: fmt.Sprint(i), Kind: KindInline, Inline: []byte("v")}})
		if err != nil {
			b.Fatal(err)
		}
		leaves[i] = l
	}
	b.Run("evict-distinct", func(b *testing.B) {
		b.ReportAllocs()
		var c *cache
		for i := 0; i < b.N; i++ {
			if i%len(hs) == 0 {
				c = newCache(100_000 * 300)
			}
			c.add(hs[i%len(hs)], leaves[i%len(leaves)], 300)
		}
	})
}

// BenchmarkCacheGetDir: hits on random objects of a cache holding 10^6.
func BenchmarkCacheGetDir(b *testing.B) {
	hs := cacheBenchHashes(1 << 20)
	c := newCache(1 << 40)
	for _, h := range hs {
		c.add(h, EmptyLeaf, 300)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := c.getDir(hs[(i*7919)&(len(hs)-1)]); !ok {
			b.Fatal("miss")
		}
	}
}
