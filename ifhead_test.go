package strata_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stratakv/strata"
)

// TestIfHead: a write with IfHead lands only on that head; on any other
// it fails with ErrHeadMoved (and ErrConflict) and changes nothing; IfHead
// of the zero hash creates a branch only if it is absent; of 8 concurrent
// writes with one expected head (one group commit), exactly one lands.
func TestIfHead(t *testing.T) {
	ctx := context.Background()
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	b := kv.Branch("main")

	c1, err := b.Set(ctx, "k", []byte("v1"), strata.IfHead(strata.Hash{}))
	if err != nil {
		t.Fatalf("IfHead(zero) on a missing branch: %v", err)
	}
	if _, err := b.Set(ctx, "k", []byte("x"), strata.IfHead(strata.Hash{})); !errors.Is(err, strata.ErrHeadMoved) || !errors.Is(err, strata.ErrConflict) {
		t.Fatalf("IfHead(zero) on an existing branch: %v, want ErrHeadMoved and ErrConflict", err)
	}
	c2, err := b.Set(ctx, "k", []byte("v2"), strata.IfHead(c1))
	if err != nil {
		t.Fatal(err)
	}
	c, err := kv.Commit(ctx, "main")
	if err != nil || c.Hash != c2 || len(c.Parents) != 1 || c.Parents[0] != c1 {
		t.Fatalf("head %+v %v, want %s child of %s", c, err, c2.Short(), c1.Short())
	}
	// A stale expected head: every kind of write refused, nothing written.
	writes := map[string]func() (strata.Hash, error){
		"Set":    func() (strata.Hash, error) { return b.Set(ctx, "k", []byte("v3"), strata.IfHead(c1)) },
		"Delete": func() (strata.Hash, error) { return b.Delete(ctx, "k", strata.IfHead(c1)) },
		"Update": func() (strata.Hash, error) {
			return b.Update(ctx, func(tx *strata.Tx) error { return tx.Set("u", []byte("1")) }, strata.IfHead(c1))
		},
	}
	for name, w := range writes {
		if _, err := w(); !errors.Is(err, strata.ErrHeadMoved) {
			t.Errorf("%s with a stale IfHead: %v, want ErrHeadMoved", name, err)
		}
	}
	if h, _ := b.Head(ctx); h != c2 {
		t.Fatalf("head moved to %s after refused writes", h.Short())
	}

	// Concurrent writers, one expected head: at most one lands (exactly
	// one if a conditional write is the first to commit after c2), the
	// others fail with ErrHeadMoved; unconditional writers all land.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, errs[i] = b.Set(ctx, fmt.Sprintf("race/%d", i), []byte("x"), strata.IfHead(c2))
		}()
		go func() {
			defer wg.Done()
			if _, err := b.Set(ctx, fmt.Sprintf("free/%d", i), []byte("y")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	landed := 0
	for _, err := range errs {
		switch {
		case err == nil:
			landed++
		case !errors.Is(err, strata.ErrHeadMoved):
			t.Errorf("conditional write: %v", err)
		}
	}
	log, err := kv.Log(ctx, "main", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := -1
	for _, c := range log {
		if len(c.Parents) == 1 && c.Parents[0] == c2 {
			changes, err := kv.Changes(ctx, c.Hash.String())
			if err != nil || len(changes) != 1 {
				t.Fatalf("changes of %s: %v %v", c.Hash.Short(), changes, err)
			}
			want = 0
			if strings.HasPrefix(changes[0].Path, "race/") {
				want = 1
			}
		}
	}
	if landed != want {
		t.Fatalf("%d conditional writes landed, want %d", landed, want)
	}
	race, err := b.List(ctx, "race")
	if errors.Is(err, strata.ErrNotFound) {
		err = nil
	}
	if err != nil || len(race) != landed {
		t.Fatalf("race/ holds %v (%v), want the %d writes that landed", race, err, landed)
	}
	free, err := b.List(ctx, "free")
	if err != nil || len(free) != 8 {
		t.Fatalf("free/ holds %d entries (%v), want 8", len(free), err)
	}
}
