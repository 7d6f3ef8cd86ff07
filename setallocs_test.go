package strata_test

import (
	"fmt"
	"testing"

	"github.com/stratakv/strata"
)

// TestSetAllocs: a single-key Branch.Set on a warm store allocates only
// what the commit must (the new objects, a commit, its records) and
// nothing per write for its bookkeeping: the write and its tree Builder
// come from pools, the Builder holds the write's change records, and a
// Set's change is a method of its pooled write, not a closure (issue 11:
// at most 8 KB per commit; 15 allocations before, 10 now). Counted over 500
// Sets of a key in a directory of 1,000 (a leaf of 100 and the index
// above it), 24-byte values, on mem.
func TestSetAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop what is put back")
	}
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	main := kv.Branch("main")
	key := func(i int) string { return fmt.Sprintf("d/k%08d", i) }
	if _, err := main.Update(ctx, func(tx *strata.Tx) error {
		for i := range 1000 {
			tx.Set(key(i), []byte(fmt.Sprintf("value %17d", i)))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	keys, vals := make([]string, 512), make([][]byte, 512)
	for i := range keys {
		keys[i], vals[i] = key(i*7%1000), []byte(fmt.Sprintf("value %17d", -i))
	}
	msg := strata.Message("set")
	i := 0
	set := func() {
		if _, err := main.Set(ctx, keys[i%len(keys)], vals[(i+1)%len(vals)], msg); err != nil {
			t.Fatal(err)
		}
		i++
	}
	for range 50 {
		set() // warm: the cache and the store's tables
	}
	n := testing.AllocsPerRun(500, set)
	t.Logf("%v allocations per Set", n)
	if n > 10 {
		t.Errorf("Branch.Set: %v allocations per commit, want at most 10", n)
	}
}
