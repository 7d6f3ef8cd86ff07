package backendtest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
)

var committerTests = []test{
	{"CommitMovesRefWithObjects", testCommitMovesRef},
	{"CommitConflictLeavesRef", testCommitConflict},
	{"CommitRacingOneWinner", testCommitRacing},
}

func testCommitMovesRef(t *testing.T, s backend.Store) {
	ctx := context.Background()
	c := s.(backend.RefCommitter)
	a, b := objectOf("a"), objectOf("b")
	if err := c.PutAndSwapRef(ctx, []backend.Object{a, b}, "heads/main", backend.ZeroHash, a.Hash); err != nil {
		t.Fatalf("PutAndSwapRef creating the ref: %v", err)
	}
	for _, o := range []backend.Object{a, b} {
		got, err := s.Get(ctx, o.Hash)
		if err != nil || string(got) != string(o.Data) {
			t.Fatalf("object %s after PutAndSwapRef: %q, %v", o.Hash.Short(), got, err)
		}
	}
	if h, err := s.GetRef(ctx, "heads/main"); err != nil || h != a.Hash {
		t.Fatalf("ref after PutAndSwapRef: %s, %v", h.Describe(), err)
	}
	// An empty batch moves the ref alone; new ZeroHash deletes it.
	if err := c.PutAndSwapRef(ctx, nil, "heads/main", a.Hash, b.Hash); err != nil {
		t.Fatal(err)
	}
	if err := c.PutAndSwapRef(ctx, nil, "heads/main", b.Hash, backend.ZeroHash); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRef(ctx, "heads/main"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("ref after deleting it: %v", err)
	}
}

func testCommitConflict(t *testing.T, s backend.Store) {
	ctx := context.Background()
	c := s.(backend.RefCommitter)
	a, b, x := objectOf("a"), objectOf("b"), objectOf("x")
	if err := s.CompareAndSwapRef(ctx, "heads/main", backend.ZeroHash, a.Hash); err != nil {
		t.Fatal(err)
	}
	for _, old := range []backend.Hash{backend.ZeroHash, b.Hash} {
		err := c.PutAndSwapRef(ctx, []backend.Object{x}, "heads/main", old, x.Hash)
		if !errors.Is(err, backend.ErrConflict) {
			t.Errorf("PutAndSwapRef from %s while the ref is at %s: %v, want ErrConflict", old.Describe(), a.Hash.Short(), err)
		}
		if h, err := s.GetRef(ctx, "heads/main"); err != nil || h != a.Hash {
			t.Fatalf("ref moved by a failed PutAndSwapRef: %s, %v", h.Describe(), err)
		}
	}
	if err := c.PutAndSwapRef(ctx, nil, "heads/missing", a.Hash, b.Hash); !errors.Is(err, backend.ErrConflict) {
		t.Errorf("PutAndSwapRef of a missing ref from a non-zero old: %v", err)
	}
}

func testCommitRacing(t *testing.T, s backend.Store) {
	ctx := context.Background()
	c := s.(backend.RefCommitter)
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	objs := make([]backend.Object, n)
	for i := range objs {
		objs[i] = objectOf(string(rune('A' + i)))
	}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.PutAndSwapRef(ctx, []backend.Object{objs[i]}, "heads/race", backend.ZeroHash, objs[i].Hash)
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("goroutines %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, backend.ErrConflict):
			t.Fatalf("goroutine %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no goroutine won")
	}
	h, err := s.GetRef(ctx, "heads/race")
	if err != nil || h != objs[winner].Hash {
		t.Fatalf("ref is %s, the winner wrote %s", h.Describe(), objs[winner].Hash.Short())
	}
	got, err := s.Get(ctx, h)
	if diff := cmp.Diff(objs[winner].Data, got); err != nil || diff != "" {
		t.Fatalf("the winner's object: %v %s", err, diff)
	}
}
