package strata_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stratakv/strata"
)

// TestPooledWritesKeepTheirOwnResults: a write's record and its tree
// Builder go back to pools when its caller has its result (group.go,
// ownchange.go), and the next writes reuse them while other writes of the
// same group may still be waking. 8 goroutines × 250 writes on one
// branch, mixing Set, Delete, Add, Update (whose Builder is not pooled),
// Set with BasedOn, and Sets that fail (an invalid path): each caller
// must get its own outcome, a commit that holds exactly what it wrote
// (or its own error), and the branch must end as a chain holding every
// commit once. Run with -race in CI.
func TestPooledWritesKeepTheirOwnResults(t *testing.T) {
	const writers, each = 8, 250
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	main := kv.Branch("main")
	hashes := make([][]strata.Hash, writers)
	errs := make(chan error, writers)
	at := func(h strata.Hash, path string) (string, error) {
		s, err := kv.At(ctx, h.String())
		if err != nil {
			return "", err
		}
		v, err := s.Get(ctx, path)
		return string(v), err
	}
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fail := func(i int, format string, args ...any) {
				errs <- fmt.Errorf("writer %d, write %d: %s", g, i, fmt.Sprintf(format, args...))
			}
			key, counter, upd := fmt.Sprintf("w%d/k", g), fmt.Sprintf("c/%d", g), fmt.Sprintf("u%d", g)
			var adds int64
			var last strata.Hash
			for i := range each {
				v := fmt.Sprintf("%d-%d", g, i)
				var h strata.Hash
				var err error
				want, path := v, key
				switch i % 6 {
				case 0:
					h, err = main.Set(ctx, key, []byte(v))
				case 1:
					h, err = main.Delete(ctx, key) // what case 0 set
					want = ""
				case 2:
					var n int64
					n, h, err = main.Add(ctx, counter, 1)
					if adds++; err == nil && n != adds {
						fail(i, "Add returned %d, want %d", n, adds)
						return
					}
					want, path = fmt.Sprint(adds), ""
				case 3:
					h, err = main.Update(ctx, func(tx *strata.Tx) error {
						tx.Set(upd, []byte(v))
						return nil
					})
					path = upd
				case 4:
					h, err = main.Set(ctx, key, []byte(v), strata.BasedOn(last))
				case 5:
					if _, err := main.Set(ctx, key+"//bad", []byte(v)); !errors.Is(err, strata.ErrInvalidPath) {
						fail(i, "Set of an invalid path: %v, want ErrInvalidPath", err)
						return
					}
					continue
				}
				if err != nil {
					fail(i, "%v", err)
					return
				}
				last = h
				hashes[g] = append(hashes[g], h)
				if path == "" {
					continue
				}
				got, err := at(h, path)
				if want == "" {
					if !errors.Is(err, strata.ErrNotFound) {
						fail(i, "after Delete, %s at its commit %s: %q, %v; want ErrNotFound", path, h.Short(), got, err)
						return
					}
					continue
				}
				if err != nil || got != want {
					fail(i, "%s at its commit %s: %q, %v; want %q", path, h.Short(), got, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkChain(t, kv, writers*(each-each/6), hashes)
	for g := range writers {
		v, err := main.GetValue(ctx, fmt.Sprintf("c/%d", g))
		if err != nil {
			t.Fatal(err)
		}
		if n, err := v.Int(); err != nil || n != int64((each+3)/6) {
			t.Errorf("counter %d: %d, %v; want %d", g, n, err, (each+3)/6)
		}
	}
}
