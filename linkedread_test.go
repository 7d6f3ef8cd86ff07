package strata_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend/mem"
)

// TestLinkedReadsUnderWrites: readers of a large directory, whose
// indexes link their children once read often, while writers commit to
// it through a node cache too small to hold it (so that links are made,
// followed, evicted and dropped all along): every read returns a value of
// the key it asked for, and at the end every value read through the
// warm cache equals the one a KV with no cache of its own reads from the
// same store, uncached (run with -race).
func TestLinkedReadsUnderWrites(t *testing.T) {
	const keys, writers, readers, writes = 10_000, 2, 2, 150
	store := mem.New()
	kv := strata.New(store, strata.CacheSize(256<<10))
	defer kv.Close()
	main := kv.Branch("main")
	key := func(i int) string { return fmt.Sprintf("d/k%05d", i) }
	if _, err := main.Update(ctx, func(tx *strata.Tx) error {
		for i := range keys {
			if err := tx.Set(key(i), []byte(fmt.Sprintf("%d:load", i))); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for j := range writes {
				i := rng.IntN(keys)
				if _, err := main.Set(ctx, key(i), []byte(fmt.Sprintf("%d:w%d-%d", i, g, j))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var rwg sync.WaitGroup
	for g := range readers {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 2))
			for n := 0; ; n++ {
				select {
				case <-done:
					if n > 1000 {
						return
					}
				default:
				}
				i := rng.IntN(keys)
				v, err := main.Get(ctx, key(i))
				if err != nil {
					t.Error(err)
					return
				}
				if want := fmt.Sprintf("%d:", i); !strings.HasPrefix(string(v), want) {
					t.Errorf("Get(%s) = %q: another key's value", key(i), v)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	rwg.Wait()
	cold := strata.New(store, strata.CacheSize(-1))
	defer cold.Close()
	for i := range keys {
		warm, err := main.Get(ctx, key(i))
		if err != nil {
			t.Fatal(err)
		}
		want, err := cold.Branch("main").Get(ctx, key(i))
		if err != nil {
			t.Fatal(err)
		}
		if string(warm) != string(want) {
			t.Fatalf("Get(%s) through the warm cache = %q, from the store = %q", key(i), warm, want)
		}
	}
}
