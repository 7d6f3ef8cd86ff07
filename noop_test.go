package strata_test

import (
	"testing"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend/mem"
)

// TestNoOpWriteMadeOnce: a write that changes nothing (a value set to what
// it is) makes no commit, and its change is made once: a writer's first
// attempt starts from the head it last wrote without reading it, and
// finding nothing changed there it reads the head to decide, but does not
// make the change again when the head is the one it started from. An
// Update's function, which runs once per attempt, counts the makes; a
// change made by another KV on the same store moves the head away from the
// guess, and then the function runs again on the new head, as documented.
func TestNoOpWriteMadeOnce(t *testing.T) {
	store := mem.New()
	kv := strata.New(store)
	defer kv.Close()
	main := kv.Branch("main")
	h0, err := main.Set(ctx, "a/b", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	// update sets a/b to v in an Update and returns the commit and how
	// many times the function ran.
	update := func() (strata.Hash, int) {
		t.Helper()
		runs := 0
		h, err := main.Update(ctx, func(tx *strata.Tx) error {
			runs++
			return tx.Set("a/b", []byte("v"))
		})
		if err != nil {
			t.Fatal(err)
		}
		return h, runs
	}
	for i := range 3 {
		h, runs := update()
		if h != h0 {
			t.Fatalf("no-op Update %d returned %s, want the head %s (no commit)", i, h.Short(), h0.Short())
		}
		if runs != 1 {
			t.Errorf("no-op Update %d ran its function %d times, want 1", i, runs)
		}
		if h, err := main.Set(ctx, "a/b", []byte("v")); err != nil || h != h0 {
			t.Fatalf("no-op Set %d: %s, %v; want the head %s", i, h.Short(), err, h0.Short())
		}
	}
	// Another KV moves the head: the guess is stale, and the change is
	// made again on the real head (where it is not a no-op any more).
	other := strata.New(store)
	defer other.Close()
	if _, err := other.Branch("main").Set(ctx, "a/b", []byte("w")); err != nil {
		t.Fatal(err)
	}
	if h, runs := update(); h == h0 || runs != 2 {
		t.Errorf("Update after another writer: %s after %d runs; want a new commit after 2 runs (the guess, then the head)", h.Short(), runs)
	}
	if v, err := main.Get(ctx, "a/b"); err != nil || string(v) != "v" {
		t.Errorf("a/b = %q, %v; want v", v, err)
	}
}
