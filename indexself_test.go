package strata_test

import (
	"fmt"
	"testing"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend/mem"
)

// TestIndexSelfOutlivesItsBuilder: a large directory's index holds the
// entry named exactly its prefix ("d/k" among d/k000 …) itself, and the
// node cache keeps the index. A Set of that name builds the index from
// the write's own entry, whose inline value the write's tree Builder
// holds; the Builder goes back to a pool when the write is done and the
// next write reuses it (a review found the cached index then read zero
// bytes, and wrote them to the store when the index later shrank to a
// leaf). The value must read back as set through the cache, after other
// writes, from the store through a fresh KV after the index collapsed,
// and when the Set makes the index (a leaf of 128 that splits) or a new
// level above it (300 names under a longer prefix). Concurrent Gets of
// the name while it is set run under -race in CI.
func TestIndexSelfOutlivesItsBuilder(t *testing.T) {
	const val = "hello-world"
	for _, c := range []struct {
		name   string
		keys   int
		key    func(i int) string
		init   bool // d/k exists before the Set
		shrink bool
	}{
		{"index self", 300, func(i int) string { return fmt.Sprintf("d/k%03d", i) }, true, true},
		{"leaf splits", 128, func(i int) string { return fmt.Sprintf("d/k0%03d", i) }, false, false},
		{"level above", 300, func(i int) string { return fmt.Sprintf("d/k0%03d", i) }, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := mem.New()
			kv := strata.New(store)
			main := kv.Branch("main")
			if _, err := main.Update(ctx, func(tx *strata.Tx) error {
				if c.init {
					tx.Set("d/k", []byte("init"))
				}
				for i := range c.keys {
					tx.Set(c.key(i), []byte("x"))
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			check := func(kv *strata.KV, when string) {
				t.Helper()
				if v, err := kv.Branch("main").Get(ctx, "d/k"); err != nil || string(v) != val {
					t.Fatalf("%s: d/k = %q, %v; want %q", when, v, err, val)
				}
			}
			if _, err := main.Set(ctx, "d/k", []byte(val)); err != nil {
				t.Fatal(err)
			}
			check(kv, "after the Set")
			for i := range 5 { // reuse the pooled Builder
				if _, err := main.Set(ctx, fmt.Sprintf("other%d", i), []byte("ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ")); err != nil {
					t.Fatal(err)
				}
			}
			check(kv, "after other Sets")
			if c.shrink {
				if _, err := main.Update(ctx, func(tx *strata.Tx) error {
					for i := range c.keys - 50 {
						if err := tx.Delete(c.key(i)); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			check(strata.New(store), "read from the store")
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := range 100 {
					if _, err := main.Set(ctx, "d/k", []byte(fmt.Sprint("v", i))); err != nil {
						t.Error(err)
						return
					}
				}
			}()
			for stop := false; !stop; {
				select {
				case <-done:
					stop = true
				default:
					if _, err := main.Get(ctx, "d/k"); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
}
