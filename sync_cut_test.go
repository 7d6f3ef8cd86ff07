package strata_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
)

// TestSyncPushIntoAShallowRemote: a remote whose history is cut lacks
// what lies below its cut, so a push must not take it to hold that: a
// forced push back to a commit below the cut, and a fast-forward whose
// merged side branch starts below it, both leave the remote whole.
func TestSyncPushIntoAShallowRemote(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		move func(t *testing.T, full *strata.KV) []strata.SyncOption
	}{
		{"forced back below the cut", func(t *testing.T, full *strata.KV) []strata.SyncOption {
			if _, err := full.Branch("main").Reset(ctx, "main~3"); err != nil {
				t.Fatal(err)
			}
			return []strata.SyncOption{strata.Force()}
		}},
		{"a merge of a side branch from below the cut", func(t *testing.T, full *strata.KV) []strata.SyncOption {
			side := full.Branch("side")
			if err := full.CreateBranch(ctx, "side", "main~3"); err != nil {
				t.Fatal(err)
			}
			if _, err := side.Set(ctx, "side/k", []byte("s")); err != nil {
				t.Fatal(err)
			}
			if _, err := full.Merge(ctx, "side", "main", strata.NoFastForward()); err != nil {
				t.Fatal(err)
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			full, shallow := memKV(t), memKV(t)
			history(t, full, 10)
			if _, err := strata.Clone(ctx, full, shallow, strata.Depth(1)); err != nil {
				t.Fatal(err)
			}
			opts := tc.move(t, full)
			if _, err := full.Push(ctx, shallow, "main", opts...); err != nil {
				t.Fatalf("push: %v", err)
			}
			if a, b := head(t, full, "main"), head(t, shallow, "main"); a != b {
				t.Errorf("the remote's main is at %s, want %s", b.Short(), a.Short())
			}
			fsckClean(t, shallow)
			want, err := full.Branch("main").List(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			got, err := shallow.Branch("main").List(ctx, "")
			if err != nil || len(got) != len(want) {
				t.Errorf("the remote lists %d entries, %v; want %d", len(got), err, len(want))
			}
		})
	}
}

// TestSyncPushFromAShallowClone: whether a push from a shallow clone is a
// fast-forward may lie below the clone's cut; the remote then decides,
// once it holds the pushed history: a fast-forward lands, a push that is
// not one is refused with ErrConflict and the remote branch stays.
func TestSyncPushFromAShallowClone(t *testing.T) {
	ctx := context.Background()
	full, clone := memKV(t), memKV(t)
	history(t, full, 10)
	if _, err := full.Tag(ctx, "v1", "main~5"); err != nil {
		t.Fatal(err)
	}
	if err := full.CreateBranch(ctx, "side", "main~5"); err != nil {
		t.Fatal(err)
	}
	s, err := full.Branch("side").Set(ctx, "side/k", []byte("s"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strata.Clone(ctx, full, clone, strata.Depth(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := clone.Branch("main").Set(ctx, "new", []byte("1")); err != nil {
		t.Fatal(err)
	}
	// The remote's main goes back to v1, which the clone holds (the tag
	// came with it) but cannot tell is below its own main.
	if _, err := full.Branch("main").Reset(ctx, "v1"); err != nil {
		t.Fatal(err)
	}
	if _, err := clone.Push(ctx, full, "main"); err != nil {
		t.Fatalf("a fast-forward from a shallow clone: %v", err)
	}
	heads(t, full, clone)
	fsckClean(t, full)
	// Now the remote's main is at side's commit, which the clone holds
	// too and which is no ancestor of the clone's main.
	if _, err := full.Branch("main").Reset(ctx, s.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := clone.Branch("main").Set(ctx, "new", []byte("2")); err != nil {
		t.Fatal(err)
	}
	if _, err := clone.Push(ctx, full, "main"); !errors.Is(err, strata.ErrConflict) || !strings.Contains(err.Error(), "not a fast-forward") {
		t.Errorf("a push that is no fast-forward: %v, want ErrConflict", err)
	}
	if h, err := full.Branch("main").Head(ctx); err != nil || h != s {
		t.Errorf("the remote's main moved to %s, %v", h.Short(), err)
	}
	fsckClean(t, full)
}

func head(t *testing.T, kv *strata.KV, b string) strata.Hash {
	t.Helper()
	h, err := kv.Branch(b).Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// failing is a store whose n-th write (Put or a shallow mark) fails, as
// an interrupted process or a refused write would.
type failing struct {
	backend.Store
	n, calls int
}

var errInjected = errors.New("injected failure")

func (f *failing) fail() error {
	f.calls++
	if f.calls == f.n {
		return errInjected
	}
	return nil
}

func (f *failing) Put(ctx context.Context, objs []backend.Object) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.Store.Put(ctx, objs)
}

func (f *failing) CompareAndSwapRef(ctx context.Context, name string, old, new backend.Hash) error {
	if strings.HasPrefix(name, "shallow/") {
		if err := f.fail(); err != nil {
			return err
		}
	}
	return f.Store.CompareAndSwapRef(ctx, name, old, new)
}

// TestSyncShallowTransferInterrupted: a shallow clone, a push from a
// shallow clone and a fetch from one, each failing at every write in
// turn, leave the destination valid, and a rerun completes it: the cut
// is marked, the log ends there, fsck is clean, and GC (which finds a
// mark whose commit is not stored yet after some failures) works.
func TestSyncShallowTransferInterrupted(t *testing.T) {
	ctx := context.Background()
	src := memKV(t)
	history(t, src, 12)
	shallowSrc := memKV(t)
	if _, err := strata.Clone(ctx, src, shallowSrc, strata.Depth(3)); err != nil {
		t.Fatal(err)
	}
	transfers := []struct {
		name string
		run  func(dst *strata.KV) error
	}{
		{"clone --depth 3", func(dst *strata.KV) error {
			_, err := strata.Clone(ctx, src, dst, strata.Depth(3), strata.TransferBatch(4))
			return err
		}},
		{"push from a shallow clone", func(dst *strata.KV) error {
			_, err := shallowSrc.Push(ctx, dst, "main", strata.TransferBatch(4))
			return err
		}},
		{"fetch from a shallow clone", func(dst *strata.KV) error {
			_, err := dst.Fetch(ctx, shallowSrc, "origin", strata.TransferBatch(4))
			return err
		}},
	}
	for _, tr := range transfers {
		t.Run(tr.name, func(t *testing.T) {
			for n := 1; ; n++ {
				st := &failing{Store: mem.New(), n: n}
				dst := strata.New(st)
				err := tr.run(dst)
				if err == nil {
					if n == 1 {
						t.Fatal("no write failed")
					}
					break // every write has failed once
				}
				if !errors.Is(err, errInjected) {
					t.Fatalf("write %d failed with %v", n, err)
				}
				// GC's mark (a dry run, which deletes nothing that a
				// rerun would then have to send again) through a KV over
				// the store itself: failing hides the lister.
				whole := strata.New(st.Store)
				if _, err := whole.GC(ctx, strata.DryRun()); err != nil {
					t.Fatalf("write %d failed; GC: %v", n, err)
				}
				fsckClean(t, dst)
				if err := tr.run(dst); err != nil {
					t.Fatalf("write %d failed; the rerun: %v", n, err)
				}
				fsckClean(t, dst)
				refs, err := dst.Backend().ListRefs(ctx, "shallow/")
				if err != nil || len(refs) != 1 {
					t.Fatalf("write %d failed; after the rerun, shallow refs %v, %v; want the one cut", n, refs, err)
				}
				rev := "main"
				if strings.HasPrefix(tr.name, "fetch") {
					rev = "origin/main"
				}
				log, err := dst.Log(ctx, rev, 0)
				if err != nil || len(log) != 3 || !log[2].Shallow {
					t.Fatalf("write %d failed; log of %d commits, %v; want 3 ending at the cut", n, len(log), err)
				}
				dst.Close()
			}
		})
	}
}

// TestSyncCloneRerunAfterTheSourceMoved: a clone interrupted before all
// its branches were made is completed by a rerun after the source's
// branches moved (a branch the first run made is still at its
// origin/BRANCH, and moves on); a branch committed to since is not the
// clone's, and is refused.
func TestSyncCloneRerunAfterTheSourceMoved(t *testing.T) {
	ctx := context.Background()
	src, dst := memKV(t), memKV(t)
	history(t, src, 5)
	if _, err := src.Branch("zeta").Set(ctx, "z", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := strata.Clone(ctx, src, dst); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"heads/zeta", "remotes/origin/zeta"} { // as if the first run stopped there
		if err := dst.Backend().(backend.RefRepairer).DeleteRef(ctx, ref); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := src.Branch("main").Set(ctx, "moved", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := strata.Clone(ctx, src, dst); err != nil {
		t.Fatalf("rerun after the source moved: %v", err)
	}
	heads(t, src, dst)
	fsckClean(t, dst)
	if _, err := src.Branch("main").Set(ctx, "moved", []byte("2")); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Branch("main").Set(ctx, "mine", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := strata.Clone(ctx, src, dst); !errors.Is(err, strata.ErrExists) {
		t.Errorf("clone over a branch committed to: %v, want ErrExists", err)
	}
}

// TestSyncCloneIntoAStoreWithAnotherOrigin: a destination whose remote
// origin is another store is refused before anything is copied.
func TestSyncCloneIntoAStoreWithAnotherOrigin(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := open(t, dir+"/src")
	history(t, src, 3)
	dst := memKV(t)
	if err := dst.AddRemote(ctx, "origin", dir+"/elsewhere"); err != nil {
		t.Fatal(err)
	}
	st, err := strata.Clone(ctx, src, dst)
	if !errors.Is(err, strata.ErrExists) || !strings.Contains(err.Error(), "elsewhere") {
		t.Errorf("clone: %v, want ErrExists naming the other store", err)
	}
	if st.Objects != 0 {
		t.Errorf("copied %d objects before refusing", st.Objects)
	}
	if bs, err := dst.Branches(ctx); err != nil || len(bs) != 0 {
		t.Errorf("branches %v, %v; want none", bs, err)
	}
}

// TestGCShallowMarkKeepsNothing: a shallow mark is no GC root. Once no
// branch or other ref reaches a shallow clone's history, GC deletes it,
// the cut commit and the values only that history held included (erasing data
// from a shallow clone works as from any store).
func TestGCShallowMarkKeepsNothing(t *testing.T) {
	ctx := context.Background()
	src, dst := memKV(t), memKV(t)
	if _, err := src.Branch("main").Set(ctx, "secret", []byte("a secret the cut commit holds")); err != nil {
		t.Fatal(err)
	}
	history(t, src, 3)
	if _, err := src.Branch("main").Delete(ctx, "secret"); err != nil {
		t.Fatal(err)
	}
	if _, err := strata.Clone(ctx, src, dst, strata.Depth(3)); err != nil {
		t.Fatal(err)
	}
	cut, err := dst.Resolve(ctx, "main~2")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := dst.Branch("main").Get(ctx, "secret"); err == nil {
		t.Fatalf("main holds the secret: %q", v)
	}
	snap, err := dst.At(ctx, cut.String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snap.Get(ctx, "secret"); err != nil {
		t.Fatalf("the cut commit does not hold the secret: %v", err)
	}
	// A new history; the cloned one is reached by nothing but the mark.
	if err := dst.DeleteBranch(ctx, "main"); err != nil {
		t.Fatal(err)
	}
	if err := dst.Backend().(backend.RefRepairer).DeleteRef(ctx, "remotes/origin/main"); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Branch("fresh").Set(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.GC(ctx, strata.GCGrace(0)); err != nil {
		t.Fatal(err)
	}
	if has, err := dst.Backend().Has(ctx, []backend.Hash{cut}); err != nil || has[0] {
		t.Errorf("the cut commit is still stored after GC (%v)", err)
	}
	for h := range objectSet(t, dst) {
		b, err := dst.Backend().Get(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "a secret") {
			t.Errorf("object %s still holds the secret after GC", h.Short())
		}
	}
	fsckClean(t, dst)
}

// TestSyncStaleShallowMarkDropped: a shallow mark can outlive its commit
// (GC deletes a cut commit nothing reaches; an interrupted shallow
// transfer marks before it stores). A transfer that later stores that
// commit with its parents drops the mark, so the history it brought
// is whole: log reaches the root, and GC keeps it.
func TestSyncStaleShallowMarkDropped(t *testing.T) {
	ctx := context.Background()
	t.Run("after GC", func(t *testing.T) {
		src, dst := memKV(t), memKV(t)
		history(t, src, 5)
		if _, err := strata.Clone(ctx, src, dst, strata.Depth(1)); err != nil {
			t.Fatal(err)
		}
		// Nothing but the mark reaches the clone's history: GC deletes it.
		if err := dst.DeleteBranch(ctx, "main"); err != nil {
			t.Fatal(err)
		}
		if err := dst.Backend().(backend.RefRepairer).DeleteRef(ctx, "remotes/origin/main"); err != nil {
			t.Fatal(err)
		}
		if _, err := dst.GC(ctx, strata.GCGrace(0)); err != nil {
			t.Fatal(err)
		}
		if _, err := dst.Fetch(ctx, src, "origin"); err != nil {
			t.Fatal(err)
		}
		wholeLog(t, src, dst, "main", "origin/main")
	})
	t.Run("after an interrupted clone", func(t *testing.T) {
		src := memKV(t)
		history(t, src, 8)
		st := &failing{Store: mem.New(), n: 2} // the mark lands, the first Put fails
		dst := strata.New(st)
		if _, err := strata.Clone(ctx, src, dst, strata.Depth(3)); !errors.Is(err, errInjected) {
			t.Fatalf("clone: %v, want the injected failure", err)
		}
		dst = strata.New(st.Store) // a new process, on the store itself
		t.Cleanup(func() { dst.Close() })
		oldCut, err := src.Resolve(ctx, "main~2")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.Branch("main").Set(ctx, "moved", []byte("1")); err != nil {
			t.Fatal(err)
		}
		if _, err := strata.Clone(ctx, src, dst, strata.Depth(3)); err != nil {
			t.Fatalf("rerun: %v", err)
		}
		// A branch from the old cut, fetched in full.
		if err := src.CreateBranch(ctx, "side", oldCut.String()); err != nil {
			t.Fatal(err)
		}
		if _, err := dst.Fetch(ctx, src, "origin"); err != nil {
			t.Fatal(err)
		}
		wholeLog(t, src, dst, "side", "origin/side")
	})
}

// wholeLog checks that dst's log of rev has as many commits as src's of
// b, before and after a GC, and that dst is clean.
func wholeLog(t *testing.T, src, dst *strata.KV, b, rev string) {
	t.Helper()
	ctx := context.Background()
	want, err := src.Log(ctx, b, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, when := range []string{"fetched", "after GC"} {
		if when == "after GC" {
			if _, err := dst.GC(ctx, strata.GCGrace(0)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := dst.Log(ctx, rev, 0)
		if err != nil || len(got) != len(want) {
			t.Errorf("%s: the log of %s has %d commits, %v; want %d", when, rev, len(got), err, len(want))
		}
		fsckClean(t, dst)
	}
}

// TestSyncPushTheRemoteDecides: pushes from a shallow clone whose answer
// lies below its cut. The remote's head is a parent named by the clone's
// cut commit: a fast-forward the clone can tell. The remote lacks the
// clone's cut commit and is cut itself where the answer lies: it cannot
// tell either, and the push is refused as a conflict, not as damage.
// SyncStats counts every call the remote's store saw.
func TestSyncPushTheRemoteDecides(t *testing.T) {
	ctx := context.Background()
	t.Run("the cut's parent", func(t *testing.T) {
		src, remote, clone := memKV(t), memKV(t), memKV(t)
		history(t, src, 2)
		if _, err := src.Tag(ctx, "v1", "main"); err != nil {
			t.Fatal(err)
		}
		if _, err := src.Branch("main").Set(ctx, "c", []byte("3")); err != nil {
			t.Fatal(err)
		}
		for _, d := range []*strata.KV{remote, clone} {
			if _, err := strata.Clone(ctx, src, d, strata.Depth(1)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := remote.Branch("main").Reset(ctx, "v1"); err != nil {
			t.Fatal(err)
		}
		if _, err := clone.Push(ctx, remote, "main"); err != nil {
			t.Fatalf("a fast-forward the cut commit's parents show: %v", err)
		}
		fsckClean(t, remote)
	})
	t.Run("neither can tell", func(t *testing.T) {
		src, remote, clone := memKV(t), memKV(t), memKV(t)
		history(t, src, 1)
		if _, err := strata.Clone(ctx, src, remote); err != nil {
			t.Fatal(err)
		}
		if _, err := src.Tag(ctx, "v0", "main"); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"x/1", "x/2"} {
			if _, err := src.Branch("main").Set(ctx, k, []byte(k)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := strata.Clone(ctx, src, clone, strata.Depth(1)); err != nil {
			t.Fatal(err)
		}
		before := head(t, remote, "main")
		_, err := clone.Push(ctx, remote, "main")
		if !errors.Is(err, strata.ErrConflict) || errors.Is(err, strata.ErrCorrupt) || !strings.Contains(err.Error(), "shallow history") {
			t.Errorf("push: %v, want a conflict saying shallow history hides the answer", err)
		}
		if h := head(t, remote, "main"); h != before {
			t.Errorf("the remote's main moved to %s", h.Short())
		}
		fsckClean(t, remote)
	})
	t.Run("round trips", func(t *testing.T) {
		cs := &countCalls{Store: mem.New()}
		full, clone := strata.New(cs), memKV(t)
		t.Cleanup(func() { full.Close() })
		history(t, full, 40)
		if _, err := full.Tag(ctx, "v1", "main~30"); err != nil {
			t.Fatal(err)
		}
		if _, err := strata.Clone(ctx, full, clone, strata.Depth(2)); err != nil {
			t.Fatal(err)
		}
		if _, err := clone.Branch("main").Set(ctx, "new", []byte("1")); err != nil {
			t.Fatal(err)
		}
		if _, err := full.Branch("main").Reset(ctx, "v1"); err != nil {
			t.Fatal(err)
		}
		fresh := strata.New(cs) // no cached commits, as another process
		t.Cleanup(func() { fresh.Close() })
		cs.n = 0
		st, err := clone.Push(ctx, fresh, "main")
		if err != nil {
			t.Fatal(err)
		}
		if st.RoundTrips != cs.n {
			t.Errorf("SyncStats.RoundTrips = %d, the remote store saw %d calls", st.RoundTrips, cs.n)
		}
	})
}

// countCalls counts the calls made to a store.
type countCalls struct {
	backend.Store
	n int
}

func (c *countCalls) Get(ctx context.Context, h backend.Hash) ([]byte, error) {
	c.n++
	return c.Store.Get(ctx, h)
}

func (c *countCalls) Has(ctx context.Context, hs []backend.Hash) ([]bool, error) {
	c.n++
	return c.Store.Has(ctx, hs)
}

func (c *countCalls) Put(ctx context.Context, o []backend.Object) error {
	c.n++
	return c.Store.Put(ctx, o)
}

func (c *countCalls) GetRef(ctx context.Context, n string) (backend.Hash, error) {
	c.n++
	return c.Store.GetRef(ctx, n)
}

func (c *countCalls) ListRefs(ctx context.Context, p string) ([]backend.Ref, error) {
	c.n++
	return c.Store.ListRefs(ctx, p)
}

func (c *countCalls) CompareAndSwapRef(ctx context.Context, n string, o, nw backend.Hash) error {
	c.n++
	return c.Store.CompareAndSwapRef(ctx, n, o, nw)
}
