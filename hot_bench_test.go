package strata_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stratakv/strata"
)

// BenchmarkGetWarm1M is a warm read: Branch.Get of a random key on mem
// after loading 1,000,000 keys in 1,000 directories (bench's nested
// layout), with every directory on the read path cached. Issue 11's
// target: at most 1.5 µs and no allocation beyond the returned value.
func BenchmarkGetWarm1M(b *testing.B) {
	const n, dirs = 1_000_000, 1000
	key := func(i int) string { return fmt.Sprintf("d/s%03d/k%08d", i*dirs/n, i) }
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = key((i * 7919 * 31) % n)
	}
	benchGets(b, loadKeys(b, n, key), keys)
}

// loadKeys returns branch main of a new store on mem holding keys key(i),
// 0 <= i < n, each with a 24-byte value, loaded in one Update.
func loadKeys(b *testing.B, n int, key func(i int) string) *strata.Branch {
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { kv.Close() })
	main := kv.Branch("main")
	if _, err := main.Update(ctx, func(tx *strata.Tx) error {
		for i := 0; i < n; i++ {
			tx.Set(key(i), []byte("value of twenty-four by"))
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return main
}

// benchGets warms the cache with one Get of every key, then times Gets of
// the keys in turn.
func benchGets(b *testing.B, br *strata.Branch, keys []string) {
	for _, k := range keys {
		if _, err := br.Get(ctx, k); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := br.Get(ctx, keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if cpu0 >= 0 {
		b.ReportMetric(float64(threadCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkLoad is a bulk load: one Update on mem of 200,000 keys in one
// directory (flat) or 1,000 (nested), as bench's load workload, and of
// 1,000 keys in 1,000 one-key directories (dirs1000: bench's nested load
// at N = 1,000). keys/s is the figure to compare.
func BenchmarkLoad(b *testing.B) {
	for _, layout := range []struct {
		name string
		n    int
		key  func(i int) string
	}{
		{"flat", 200_000, func(i int) string { return fmt.Sprintf("d/k%08d", i) }},
		{"nested", 200_000, func(i int) string { return fmt.Sprintf("d/s%03d/k%08d", i*1000/200_000, i) }},
		{"dirs1000", 1000, func(i int) string { return fmt.Sprintf("d/s%03d/k%08d", i, i) }},
	} {
		keys := make([]string, layout.n)
		for i := range keys {
			keys[i] = layout.key(i)
		}
		val := []byte("value of twenty-four by")
		b.Run(layout.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				kv, err := strata.Open(ctx, "mem://")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := kv.Branch("main").Update(ctx, func(tx *strata.Tx) error {
					for _, k := range keys {
						tx.Set(k, val)
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
				kv.Close()
			}
			b.ReportMetric(float64(layout.n*b.N)/b.Elapsed().Seconds(), "keys/s")
		})
	}
}

// BenchmarkGetRandom1M is stratabench's warm get at N = 1,000,000:
// Branch.Get on mem of keys drawn at random from the whole dataset (flat:
// one directory of 1,000,000 keys; nested: 1,000 directories), so that
// most reads miss the CPU caches, unlike BenchmarkGetWarm1M's 4,096 keys.
func BenchmarkGetRandom1M(b *testing.B) {
	const n = 1_000_000
	for _, layout := range []struct {
		name string
		key  func(i int) string
	}{
		{"flat", func(i int) string { return fmt.Sprintf("d/k%08d", i) }},
		{"nested", func(i int) string { return fmt.Sprintf("d/s%03d/k%08d", i*1000/n, i) }},
	} {
		b.Run(layout.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			keys := make([]string, 1<<18)
			for i := range keys {
				keys[i] = layout.key(rng.IntN(n))
			}
			benchGets(b, loadKeys(b, n, layout.key), keys)
		})
	}
}
