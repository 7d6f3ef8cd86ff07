package backendtest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
)

var fencerTests = []test{
	{"KeepsWhatWritersRelyOn", testFenceKeeps},
	{"SeveralFences", testFenceSeveral},
	{"ReleasedFence", testFenceReleased},
	{"RacingWriters", testFenceRacing},
	{"Narrow", testFenceNarrow},
}

func mustFence(t *testing.T, s backend.Store) backend.Fence {
	t.Helper()
	f, err := s.(backend.ObjectFencer).FenceObjects(t.Context())
	if err != nil {
		t.Fatalf("FenceObjects: %v", err)
	}
	t.Cleanup(f.Release)
	return f
}

func fencedDelete(t *testing.T, s backend.Store, f backend.Fence, hs []backend.Hash) []backend.Hash {
	t.Helper()
	kept, err := s.(backend.ObjectFencer).DeleteObjectsFenced(t.Context(), f, hs)
	if err != nil {
		t.Fatalf("DeleteObjectsFenced of %d objects: %v", len(hs), err)
	}
	return kept
}

// testFenceKeeps: what a write stores again, what Has finds and what a
// commit stores after the fence begins are kept by a fenced delete; what
// nobody touched since, and what Has did not find, are deleted.
func testFenceKeeps(t *testing.T, s backend.Store) {
	ctx := t.Context()
	a, b, c, d, e, absent := objectOf("a"), objectOf("b"), objectOf("c"), objectOf("d"), objectOf("e"), objectOf("absent")
	mustPut(t, s, a, b, c, e)
	// Touched before the fence: not remembered.
	wantHas(t, s, hashes(a, e), []bool{true, true})
	f := mustFence(t, s)
	mustPut(t, s, b) // stored again: a writer may rely on it
	wantHas(t, s, hashes(c, absent), []bool{true, false})
	if rc, ok := s.(backend.RefCommitter); ok {
		if err := rc.PutAndSwapRef(ctx, []backend.Object{d}, "heads/main", backend.ZeroHash, d.Hash); err != nil {
			t.Fatalf("PutAndSwapRef: %v", err)
		}
	} else {
		mustPut(t, s, d)
	}
	kept := fencedDelete(t, s, f, hashes(a, b, c, d, e, absent))
	if diff := cmp.Diff(hashes(b, c, d), kept); diff != "" {
		t.Errorf("kept by the fenced delete (-want +got):\n%s", diff)
	}
	wantNotFound(t, s, a.Hash)
	wantNotFound(t, s, e.Hash)
	for _, o := range []backend.Object{b, c, d} {
		wantData(t, s, o.Hash, o.Data)
	}
	// A write after the delete stores the object again.
	mustPut(t, s, a)
	wantData(t, s, a.Hash, a.Data)
}

// testFenceNarrow: a fence narrowed to the collector's candidates
// (backend.FenceNarrower) still keeps the candidates a writer stored or
// found, before the narrowing or after, and lets the delete take the rest
// of what it is given; a store whose fences do not narrow skips it.
func testFenceNarrow(t *testing.T, s backend.Store) {
	a, b, c, d, e := objectOf("a"), objectOf("b"), objectOf("c"), objectOf("d"), objectOf("e")
	mustPut(t, s, a, b, c, d, e)
	f := mustFence(t, s)
	n, ok := f.(backend.FenceNarrower)
	if !ok {
		t.Skipf("%T's fences do not narrow", f)
	}
	mustPut(t, s, a, b) // remembered; a is no candidate
	n.Narrow(func(h backend.Hash) bool { return h == b.Hash || h == c.Hash || h == d.Hash })
	mustPut(t, s, c, e)                                  // c a candidate, e not
	wantHas(t, s, hashes(d), []bool{true})               // found: a candidate
	kept := fencedDelete(t, s, f, hashes(a, b, c, d, e)) // a and e too, as a careless caller would
	if diff := cmp.Diff(hashes(b, c, d), kept); diff != "" {
		t.Errorf("kept by the fenced delete (-want +got):\n%s", diff)
	}
	for _, o := range []backend.Object{b, c, d} {
		wantData(t, s, o.Hash, o.Data)
	}
	wantNotFound(t, s, a.Hash)
	wantNotFound(t, s, e.Hash)
}

// testFenceSeveral: each fence remembers what was written while it stood.
func testFenceSeveral(t *testing.T, s backend.Store) {
	a, b, c := objectOf("a"), objectOf("b"), objectOf("c")
	mustPut(t, s, a, b, c)
	f1 := mustFence(t, s)
	mustPut(t, s, a)
	f2 := mustFence(t, s)
	mustPut(t, s, b)
	if kept := fencedDelete(t, s, f2, hashes(a, b, c)); !cmp.Equal(kept, hashes(b)) {
		t.Errorf("second fence kept %v, want only %s (written after it began)", kept, b.Hash.Short())
	}
	wantNotFound(t, s, a.Hash)
	mustPut(t, s, c)
	f2.Release()
	// The first fence still stands, and remembers b and c too.
	if kept := fencedDelete(t, s, f1, hashes(b, c)); !cmp.Equal(kept, hashes(b, c)) {
		t.Errorf("first fence kept %v, want %s and %s", kept, b.Hash.Short(), c.Hash.Short())
	}
}

// testFenceReleased: a released fence deletes nothing and says so.
func testFenceReleased(t *testing.T, s backend.Store) {
	a := objectOf("a")
	mustPut(t, s, a)
	f := mustFence(t, s)
	f.Release()
	f.Release() // again: nothing
	_, err := s.(backend.ObjectFencer).DeleteObjectsFenced(t.Context(), f, hashes(a))
	if !errors.Is(err, backend.ErrBadFence) {
		t.Errorf("DeleteObjectsFenced with a released fence: %v, want an error wrapping ErrBadFence", err)
	}
	wantData(t, s, a.Hash, a.Data)
}

// testFenceRacing: a Put or Has racing a fenced delete of the same object
// never leaves the writer relying on an object that is gone. Each round
// puts an object before the fence (so the delete may take it), then runs
// the delete and a write (a Put, or a Has that finds it) at once.
func testFenceRacing(t *testing.T, s backend.Store) {
	ctx := t.Context()
	const rounds = 200
	f := mustFence(t, s)
	deleted := 0
	for i := range rounds {
		o := objectOf(fmt.Sprintf("race %d", i))
		mustPut(t, s, o)
		// Put before the fence: another fence for this round.
		f.Release()
		f = mustFence(t, s)
		var (
			wg     sync.WaitGroup
			relied bool
			kept   []backend.Hash
			werr   error
			derr   error
		)
		// Both start at once, launched in either order (the last one
		// launched tends to run first).
		start := make(chan struct{})
		write := func() {
			defer wg.Done()
			<-start
			if i%2 == 0 {
				werr = s.Put(ctx, []backend.Object{o})
				relied = werr == nil
			} else {
				var has []bool
				has, werr = s.Has(ctx, hashes(o))
				relied = werr == nil && has[0]
			}
		}
		del := func() {
			defer wg.Done()
			<-start
			kept, derr = s.(backend.ObjectFencer).DeleteObjectsFenced(ctx, f, hashes(o))
		}
		wg.Add(2)
		if i%4 < 2 {
			go write()
			go del()
		} else {
			go del()
			go write()
		}
		close(start)
		wg.Wait()
		if werr != nil || derr != nil {
			t.Fatalf("round %d: write: %v; fenced delete: %v", i, werr, derr)
		}
		if len(kept) == 0 {
			deleted++
		}
		if !relied {
			continue
		}
		if has, err := s.Has(ctx, hashes(o)); err != nil || !has[0] {
			what := "Put"
			if i%2 == 1 {
				what = "a Has that found it"
			}
			t.Fatalf("round %d: after %s raced a fenced delete (kept %v), the object is gone (Has: %v, %v)", i, what, kept, has, err)
		}
	}
	if deleted == 0 {
		t.Errorf("no round's fenced delete deleted its object: the test checked nothing")
	}
}
