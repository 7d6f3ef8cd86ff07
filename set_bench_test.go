package strata_test

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stratakv/strata"
)

// BenchmarkSet100k is the cost of one small commit in a large directory:
// Branch.Set of one key (a new small value each time) on mem, after loading
// 100,000 keys into one directory. Issue 11's target: at most 15 µs and
// 8 KB per commit.
func BenchmarkSet100k(b *testing.B) { benchSet100k(b) }

// BenchmarkSet100kFullCache is BenchmarkSet100k with a cache of decoded
// objects too small for what the commits write (32 MiB), so that after
// the first few thousand commits every one evicts: the steady state of a
// long-running writer, which BenchmarkSet100k's cache, still filling,
// does not reach.
func BenchmarkSet100kFullCache(b *testing.B) { benchSet100k(b, strata.CacheSize(32<<20)) }

// BenchmarkSetUnchanged100k is BenchmarkSet100k's Set of a value the key
// already holds: a write that changes nothing, which makes no commit (an
// application that writes its whole configuration at every start does
// this for every key it did not change).
func BenchmarkSetUnchanged100k(b *testing.B) {
	kv, keys, _ := set100k(b)
	defer kv.Close()
	main := kv.Branch("main")
	head, err := main.Head(ctx)
	if err != nil {
		b.Fatal(err)
	}
	v := []byte("v") // what set100k loaded
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if h, err := main.Set(ctx, keys[i%len(keys)], v); err != nil || h != head {
			b.Fatalf("Set of an unchanged value: %s, %v; want the head %s", h.Short(), err, head.Short())
		}
	}
}

// BenchmarkSet100kWriters8 is BenchmarkSet100k with 8 goroutines writing
// at once (b.N commits in all), which group commit turns into groups of
// up to 8 commits made one on another and landed in one write.
func BenchmarkSet100kWriters8(b *testing.B) { benchSet100kWriters(b, 8) }

// set100k opens a mem store holding 100,000 keys in one directory on
// branch main, and returns it (the caller closes it), the keys in a
// scattered order and 1,024 small values to set them to.
func set100k(b *testing.B, opts ...strata.OpenOption) (*strata.KV, []string, [][]byte) {
	kv, err := strata.Open(ctx, "mem://", opts...)
	if err != nil {
		b.Fatal(err)
	}
	const n = 100_000
	main := kv.Branch("main")
	if _, err := main.Update(ctx, func(tx *strata.Tx) error {
		for i := 0; i < n; i++ {
			tx.Set(fmt.Sprintf("users/k%06d", i), []byte("v"))
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("users/k%06d", (i*7919)%n)
	}
	vals := make([][]byte, 1024)
	for i := range vals {
		vals[i] = []byte("value " + strconv.Itoa(i))
	}
	return kv, keys, vals
}

func benchSet100k(b *testing.B, opts ...strata.OpenOption) {
	kv, keys, vals := set100k(b, opts...)
	defer kv.Close()
	main := kv.Branch("main")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := main.Set(ctx, keys[i%len(keys)], vals[i%len(vals)]); err != nil {
			b.Fatal(err)
		}
	}
}

func benchSet100kWriters(b *testing.B, writers int) {
	kv, keys, vals := set100k(b)
	defer kv.Close()
	main := kv.Branch("main")
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if _, err := main.Set(ctx, keys[i%len(keys)], vals[i%len(vals)]); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkPebbleSetBranches8 is 8 goroutines committing at once, each
// one key at a time on a branch of its own, on Pebble on disk (b.N commits
// in all, over a directory of 1,000 keys): the commits of different
// branches share the log's fsyncs (see backend/pebble's beginSwap), where
// they used to pay one each in turn.
func BenchmarkPebbleSetBranches8(b *testing.B) {
	kv, err := strata.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer kv.Close()
	const writers = 8
	if _, err := kv.Branch("main").Update(ctx, func(tx *strata.Tx) error {
		for i := range 1000 {
			tx.Set(fmt.Sprintf("users/k%06d", i), []byte("v"))
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	for w := range writers {
		if err := kv.CreateBranch(ctx, fmt.Sprint("b", w), "main"); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range writers {
		br := kv.Branch(fmt.Sprint("b", w))
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if _, err := br.Set(ctx, fmt.Sprintf("users/k%06d", i%1000), []byte(strconv.Itoa(i))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
