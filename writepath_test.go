package strata_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/commit"
)

// counting wraps a real backend and counts its writes: atomic
// object+ref writes (PutAndSwapRef), bare object writes (Put) and bare ref
// moves (CompareAndSwapRef). It passes every optional upgrade of the mem
// backend through, so the facade sees the same store it would see
// unwrapped.
type counting struct {
	*mem.Store
	mu     sync.Mutex
	counts writeCounts
}

// writeCounts is how many writes of each sort a backend received.
type writeCounts struct {
	Atomic, Put, CAS int
	Graph            int // atomic writes of a commit-graph run (see KV.keepGraph)
}

var (
	_ backend.Store        = (*counting)(nil)
	_ backend.RefCommitter = (*counting)(nil)
	_ backend.BatchGetter  = (*counting)(nil)
	_ backend.ObjectLister = (*counting)(nil)
	_ backend.RefWatcher   = (*counting)(nil)
)

func (c *counting) count(f func(*writeCounts)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.counts)
}

func (c *counting) Put(ctx context.Context, objs []backend.Object) error {
	c.count(func(w *writeCounts) { w.Put++ })
	return c.Store.Put(ctx, objs)
}

func (c *counting) CompareAndSwapRef(ctx context.Context, name string, old, new backend.Hash) error {
	c.count(func(w *writeCounts) { w.CAS++ })
	return c.Store.CompareAndSwapRef(ctx, name, old, new)
}

func (c *counting) PutAndSwapRef(ctx context.Context, objs []backend.Object, name string, old, new backend.Hash) error {
	c.count(func(w *writeCounts) {
		if strings.HasPrefix(name, commit.GraphRefPrefix) {
			w.Graph++
		} else {
			w.Atomic++
		}
	})
	return c.Store.PutAndSwapRef(ctx, objs, name, old, new)
}

// PutOwnedAndSwapRef hides the embedded mem.Store's method (see
// backend.OwnedCommitter), so owned commits are counted too.
func (c *counting) PutOwnedAndSwapRef(ctx context.Context, objs []backend.Object, name string, old, new backend.Hash) error {
	return c.PutAndSwapRef(ctx, objs, name, old, new)
}

// take returns the counts so far and resets them.
func (c *counting) take() writeCounts {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.counts
	c.counts = writeCounts{}
	return w
}

// TestOneAtomicWritePerCommit checks that every kind of write reaches the
// backend as exactly one atomic object+ref write per commit, with no bare
// Put or compare-and-swap beside it, including the first write after a
// merge, a revert or a cherry-pick (which must leave the head guess of the
// KV where they moved the branch).
func TestOneAtomicWritePerCommit(t *testing.T) {
	store := &counting{Store: mem.New()}
	kv := strata.New(store)
	t.Cleanup(func() { kv.Close() })
	main := kv.Branch("main")
	one := writeCounts{Atomic: 1}
	// Writes on one branch from a single KV: no races, so any write beyond
	// one is the write path's own doing.
	steps := []struct {
		name  string
		write func() error
	}{
		{"Set (first commit)", func() error { return second(main.Set(ctx, "a/x", []byte("1"))) }},
		{"Set", func() error { return second(main.Set(ctx, "a/y", []byte("2"))) }},
		{"Delete", func() error { return second(main.Delete(ctx, "a/y")) }},
		{"Update", func() error {
			return second(main.Update(ctx, func(tx *strata.Tx) error { return tx.Set("b/z", []byte("3")) }))
		}},
		{"SetValue", func() error { return second(main.SetValue(ctx, "j", strata.JSON([]byte(`{"a":1}`)))) }},
		{"Add", func() error { return third(main.Add(ctx, "n", 5)) }},
		{"CreateBranch", func() error { return kv.CreateBranch(ctx, "feature", "main") }},
		{"Set on feature", func() error { return second(kv.Branch("feature").Set(ctx, "f", []byte("f1"))) }},
		{"Merge (fast-forward)", func() error { return second(kv.Merge(ctx, "feature", "main")) }},
		{"Set after a fast-forward", func() error { return second(main.Set(ctx, "a/x", []byte("1b"))) }},
		{"Set on feature again", func() error { return second(kv.Branch("feature").Set(ctx, "g", []byte("g1"))) }},
		{"Merge (merge commit)", func() error { return second(kv.Merge(ctx, "feature", "main")) }},
		{"Set after a merge commit", func() error { return second(main.Set(ctx, "a/x", []byte("1c"))) }},
		{"Revert", func() error { return second(main.Revert(ctx, "main")) }},
		{"Set after a revert", func() error { return second(main.Set(ctx, "a/w", []byte("w"))) }},
		{"Set on feature for a pick", func() error { return second(kv.Branch("feature").Set(ctx, "h", []byte("h1"))) }},
		{"CherryPick", func() error { return second(main.CherryPick(ctx, "feature")) }},
		{"Set after a cherry-pick", func() error { return second(main.Set(ctx, "a/v", []byte("v"))) }},
		{"Reset", func() error { return second(main.Reset(ctx, "main~2")) }},
		{"Set after a reset", func() error { return second(main.Set(ctx, "a/u", []byte("u"))) }},
		{"CompareAndSwap", func() error {
			head, err := main.Head(ctx)
			if err != nil {
				return err
			}
			return main.CompareAndSwap(ctx, head, must[strata.Hash](t)(kv.Resolve(ctx, "main~1")))
		}},
		{"Set after a compare-and-swap", func() error { return second(main.Set(ctx, "a/t", []byte("t"))) }},
	}
	// A criss-cross history: x and y each merge the other's first commit,
	// so merging them again needs a virtual merge base.
	var x1 strata.Hash
	steps = append(steps, []struct {
		name  string
		write func() error
	}{
		{"criss-cross: x", func() error { return kv.CreateBranch(ctx, "x", "main") }},
		{"criss-cross: y", func() error { return kv.CreateBranch(ctx, "y", "main") }},
		{"criss-cross: x1", func() error {
			var err error
			x1, err = kv.Branch("x").Set(ctx, "cc/x", []byte("x1"))
			return err
		}},
		{"criss-cross: y1", func() error { return second(kv.Branch("y").Set(ctx, "cc/y", []byte("y1"))) }},
		{"criss-cross: merge y1 into x", func() error { return second(kv.Merge(ctx, "y", "x")) }},
		{"criss-cross: merge x1 into y", func() error { return second(kv.Merge(ctx, x1.String(), "y")) }},
		{"criss-cross: x2", func() error { return second(kv.Branch("x").Set(ctx, "cc/x", []byte("x2"))) }},
		{"criss-cross: y2", func() error { return second(kv.Branch("y").Set(ctx, "cc/y", []byte("y2"))) }},
		{"Merge (virtual base)", func() error { return second(kv.Merge(ctx, "y", "x")) }},
		{"Set after a virtual-base merge", func() error { return second(kv.Branch("x").Set(ctx, "cc/z", []byte("z"))) }},
	}...)
	got := map[string]writeCounts{}
	want := map[string]writeCounts{}
	for _, s := range steps {
		store.take()
		if err := s.write(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got[s.name] = store.take()
		want[s.name] = one
	}
	for _, n := range []string{"CreateBranch", "criss-cross: x", "criss-cross: y"} {
		want[n] = writeCounts{CAS: 1} // a new ref, no commit
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("writes per step (-want +got):\n%s", diff)
	}
}
