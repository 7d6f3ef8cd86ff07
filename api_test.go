package strata_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/backendtest"
	"github.com/stratakv/strata/backend/mem"
)

// headOf returns the head of branch name, failing the test if it has none.
func headOf(t *testing.T, kv *strata.KV, name string) strata.Hash {
	t.Helper()
	h, err := kv.Branch(name).Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// parentOf returns the first parent of commit h.
func parentOf(t *testing.T, kv *strata.KV, h strata.Hash) strata.Hash {
	t.Helper()
	c, err := kv.Commit(ctx, h.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Parents) == 0 {
		t.Fatalf("commit %s has no parent", h.Short())
	}
	return c.Parents[0]
}

// TestReset checks that Reset moves a branch to any commit in one atomic
// write through the write path's head guess, so the next Set starts from
// the new head with exactly one atomic write.
func TestReset(t *testing.T) {
	store := &counting{Store: mem.New()}
	kv := strata.New(store)
	t.Cleanup(func() { kv.Close() })
	main := kv.Branch("main")
	c1 := must[strata.Hash](t)(main.Set(ctx, "a", []byte("1")))
	must[strata.Hash](t)(main.Set(ctx, "b", []byte("2")))
	must[strata.Hash](t)(main.Set(ctx, "c", []byte("3")))

	store.take()
	got, err := main.Reset(ctx, "main~2")
	if err != nil {
		t.Fatal(err)
	}
	if got != c1 || headOf(t, kv, "main") != c1 {
		t.Fatalf("Reset returned %s, head %s; want %s", got.Short(), headOf(t, kv, "main").Short(), c1.Short())
	}
	if diff := cmp.Diff(writeCounts{Atomic: 1}, store.take()); diff != "" {
		t.Errorf("Reset's writes (-want +got):\n%s", diff)
	}
	c4 := must[strata.Hash](t)(main.Set(ctx, "d", []byte("4")))
	if diff := cmp.Diff(writeCounts{Atomic: 1}, store.take()); diff != "" {
		t.Errorf("writes of the Set after Reset (-want +got):\n%s", diff)
	}
	if p := parentOf(t, kv, c4); p != c1 {
		t.Errorf("Set after Reset has parent %s, want %s", p.Short(), c1.Short())
	}
	if _, err := main.Get(ctx, "b"); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("Get b after Reset past it: %v, want ErrNotFound", err)
	}

	// Reset to the head writes nothing; Reset creates a missing branch.
	if h, err := main.Reset(ctx, c4.String()); err != nil || h != c4 {
		t.Fatalf("Reset to the head: %v, %v", h, err)
	}
	if diff := cmp.Diff(writeCounts{}, store.take()); diff != "" {
		t.Errorf("Reset to the head wrote (-want +got):\n%s", diff)
	}
	if _, err := kv.Branch("other").Reset(ctx, c1.String()); err != nil {
		t.Fatal(err)
	}
	if h := headOf(t, kv, "other"); h != c1 {
		t.Errorf("new branch at %s, want %s", h.Short(), c1.Short())
	}
	for _, tc := range []struct {
		branch, rev string
		want        error
	}{
		{"main", "nope", strata.ErrNotFound},
		{"main", "main~9", strata.ErrNotFound},
		{"main", "main~x", strata.ErrInvalidRevision},
		{"-bad", "main", strata.ErrInvalidBranch},
	} {
		if _, err := kv.Branch(tc.branch).Reset(ctx, tc.rev); !errors.Is(err, tc.want) {
			t.Errorf("Reset %s to %q: %v, want %v", tc.branch, tc.rev, err, tc.want)
		}
	}
	if h := headOf(t, kv, "main"); h != c4 {
		t.Errorf("failed Resets moved main to %s", h.Short())
	}
}

// TestCompareAndSwap checks Branch.CompareAndSwap: it moves the head only
// from old, creates a branch from a zero old, refuses anything but a
// stored commit as the new head, and keeps the write path's head guess
// right.
func TestCompareAndSwap(t *testing.T) {
	store := &counting{Store: mem.New()}
	kv := strata.New(store)
	t.Cleanup(func() { kv.Close() })
	main := kv.Branch("main")
	c1 := must[strata.Hash](t)(main.Set(ctx, "a", []byte("1")))
	c2 := must[strata.Hash](t)(main.Set(ctx, "b", []byte("2")))
	snap := must[*strata.Snapshot](t)(kv.At(ctx, "main"))
	tree := snap.Commit().Tree

	for _, tc := range []struct {
		name     string
		old, new strata.Hash
		want     error
	}{
		{"wrong old", c1, c1, strata.ErrConflict},
		{"zero old on an existing branch", strata.Hash{}, c1, strata.ErrConflict},
		{"zero new", c2, strata.Hash{}, strata.ErrInvalidValue},
		{"a tree as new", c2, tree, strata.ErrInvalidValue},
		{"an unknown new", c2, backendtest.HashOf("nothing"), strata.ErrNotFound},
	} {
		if err := main.CompareAndSwap(ctx, tc.old, tc.new); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if h := headOf(t, kv, "main"); h != c2 {
			t.Fatalf("%s moved main to %s", tc.name, h.Short())
		}
	}

	store.take()
	if err := main.CompareAndSwap(ctx, c2, c1); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(writeCounts{Atomic: 1}, store.take()); diff != "" {
		t.Errorf("CompareAndSwap's writes (-want +got):\n%s", diff)
	}
	c3 := must[strata.Hash](t)(main.Set(ctx, "c", []byte("3")))
	if diff := cmp.Diff(writeCounts{Atomic: 1}, store.take()); diff != "" {
		t.Errorf("writes of the Set after CompareAndSwap (-want +got):\n%s", diff)
	}
	if p := parentOf(t, kv, c3); p != c1 {
		t.Errorf("Set after CompareAndSwap has parent %s, want %s", p.Short(), c1.Short())
	}

	// A zero old creates a branch that does not exist.
	if err := kv.Branch("new").CompareAndSwap(ctx, strata.Hash{}, c2); err != nil {
		t.Fatal(err)
	}
	if h := headOf(t, kv, "new"); h != c2 {
		t.Errorf("created branch at %s, want %s", h.Short(), c2.Short())
	}
}

// TestFastForwardOnly checks that FastForwardOnly merges by moving the
// branch forward, refuses with ErrConflict (writing nothing) when a merge
// commit would be needed, and cannot be combined with NoFastForward.
func TestFastForwardOnly(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	must[strata.Hash](t)(main.Set(ctx, "a", []byte("1")))
	if err := kv.CreateBranch(ctx, "f", "main"); err != nil {
		t.Fatal(err)
	}
	f1 := must[strata.Hash](t)(kv.Branch("f").Set(ctx, "b", []byte("2")))
	got, err := kv.Merge(ctx, "f", "main", strata.FastForwardOnly())
	if err != nil || got != f1 || headOf(t, kv, "main") != f1 {
		t.Fatalf("fast-forward: %v, %v; want %s", got, err, f1.Short())
	}
	// Already merged: nothing to do, no error.
	if got, err := kv.Merge(ctx, "f", "main", strata.FastForwardOnly()); err != nil || got != f1 {
		t.Fatalf("already merged: %v, %v", got, err)
	}
	m2 := must[strata.Hash](t)(main.Set(ctx, "c", []byte("3")))
	must[strata.Hash](t)(kv.Branch("f").Set(ctx, "d", []byte("4")))
	_, err = kv.Merge(ctx, "f", "main", strata.FastForwardOnly())
	if !errors.Is(err, strata.ErrConflict) {
		t.Fatalf("diverged merge with FastForwardOnly: %v, want ErrConflict", err)
	}
	var mc *strata.MergeConflictError
	if errors.As(err, &mc) {
		t.Errorf("a refused fast-forward is not a merge conflict: %v", err)
	}
	if h := headOf(t, kv, "main"); h != m2 {
		t.Errorf("refused merge moved main to %s", h.Short())
	}
	if _, err := kv.Merge(ctx, "f", "main", strata.FastForwardOnly(), strata.NoFastForward()); !errors.Is(err, strata.ErrInvalidOption) {
		t.Errorf("FastForwardOnly with NoFastForward: %v, want ErrInvalidOption", err)
	}
}

// collect returns every value below directory path of s, by full path.
func collect(t *testing.T, s *strata.Snapshot, path string) map[string]string {
	t.Helper()
	out := map[string]string{}
	var walk func(dir string)
	walk = func(dir string) {
		es, err := s.List(ctx, dir)
		if err != nil {
			t.Fatalf("list %q: %v", dir, err)
		}
		for _, e := range es {
			p := e.Name
			if dir != "" {
				p = dir + "/" + e.Name
			}
			if e.Dir {
				walk(p)
				continue
			}
			v, err := s.Get(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			out[p[len(path):]] = string(v)
		}
	}
	walk(path)
	return out
}

// TestSetTree checks that a subtree copied by hash from an old revision
// equals the original by hash and by values, at a new path, over a value
// and over a directory, and at the root; and that bad hashes are refused.
func TestSetTree(t *testing.T) {
	store := &counting{Store: mem.New()}
	kv := strata.New(store)
	t.Cleanup(func() { kv.Close() })
	main := kv.Branch("main")
	// A directory large enough to be an index of several objects.
	old := must[strata.Hash](t)(main.Update(ctx, func(tx *strata.Tx) error {
		for i := range 600 {
			if err := tx.Set(fmt.Sprintf("src/k%03d", i), []byte(fmt.Sprint("v", i))); err != nil {
				return err
			}
		}
		tx.Set("src/sub/deep", []byte("d"))
		tx.Set("value", []byte("a value"))
		return tx.Set("dir/x", []byte("x"))
	}))
	oldSnap := must[*strata.Snapshot](t)(kv.At(ctx, old.String()))
	src := must[strata.Hash](t)(oldSnap.TreeHash(ctx, "src"))
	want := collect(t, oldSnap, "src")
	// Change src afterwards, so the graft must come from the old revision.
	must[strata.Hash](t)(main.Set(ctx, "src/k001", []byte("changed")))
	must[strata.Hash](t)(main.Delete(ctx, "src/sub"))

	store.take()
	head := must[strata.Hash](t)(main.Update(ctx, func(tx *strata.Tx) error {
		for _, p := range []string{"copy/of/src", "value", "dir", "src"} {
			if err := tx.SetTree(p, src); err != nil {
				return err
			}
		}
		return nil
	}))
	if diff := cmp.Diff(writeCounts{Atomic: 1}, store.take()); diff != "" {
		t.Errorf("SetTree's writes (-want +got):\n%s", diff)
	}
	snap := must[*strata.Snapshot](t)(kv.At(ctx, head.String()))
	for _, p := range []string{"copy/of/src", "value", "dir", "src"} {
		if h := must[strata.Hash](t)(snap.TreeHash(ctx, p)); h != src {
			t.Errorf("TreeHash(%q) = %s, want %s", p, h.Short(), src.Short())
		}
		if diff := cmp.Diff(want, collect(t, snap, p)); diff != "" {
			t.Errorf("values under %q (-want +got):\n%s", p, diff)
		}
	}

	// At the root, SetTree replaces the whole tree.
	root := must[strata.Hash](t)(oldSnap.TreeHash(ctx, ""))
	if root != oldSnap.Commit().Tree {
		t.Errorf("TreeHash of the root = %s, want the commit's tree %s", root.Short(), oldSnap.Commit().Tree.Short())
	}
	head = must[strata.Hash](t)(main.Update(ctx, func(tx *strata.Tx) error { return tx.SetTree("", root) }))
	if c := must[strata.Commit](t)(kv.Commit(ctx, head.String())); c.Tree != root {
		t.Errorf("tree after SetTree at the root = %s, want %s", c.Tree.Short(), root.Short())
	}

	// The empty directory deletes what is at path.
	head = must[strata.Hash](t)(main.Update(ctx, func(tx *strata.Tx) error { return tx.SetTree("dir", strata.Hash{}) }))
	if _, err := must[*strata.Snapshot](t)(kv.At(ctx, head.String())).List(ctx, "dir"); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("dir after grafting the empty tree: %v, want ErrNotFound", err)
	}

	for _, tc := range []struct {
		name, path string
		hash       strata.Hash
		want       error
	}{
		{"unknown hash", "x", backendtest.HashOf("nothing"), strata.ErrNotFound},
		{"a commit", "x", old, strata.ErrInvalidValue},
		{"below a value", "value/x", src, strata.ErrInvalidPath},
		{"bad path", "a//b", src, strata.ErrInvalidPath},
	} {
		before := headOf(t, kv, "main")
		_, err := main.Update(ctx, func(tx *strata.Tx) error {
			tx.SetTree(tc.path, tc.hash) // ignored: Update must fail anyway
			return nil
		})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if h := headOf(t, kv, "main"); h != before {
			t.Errorf("%s: a failed SetTree committed", tc.name)
		}
	}
	if _, err := oldSnap.TreeHash(ctx, "value"); !errors.Is(err, strata.ErrInvalidPath) {
		t.Errorf("TreeHash of a value: %v, want ErrInvalidPath", err)
	}
	if _, err := oldSnap.TreeHash(ctx, "nope"); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("TreeHash of nothing: %v, want ErrNotFound", err)
	}
}

// dagModel is the commit graph a test built, kept independently of the
// store: parents, heights and times by commit.
type dagModel struct {
	parents map[strata.Hash][]strata.Hash
	height  map[strata.Hash]int
	time    map[strata.Hash]int
}

func (m *dagModel) add(h strata.Hash, t int, parents ...strata.Hash) {
	m.parents[h] = parents
	m.time[h] = t
	for _, p := range parents {
		m.height[h] = max(m.height[h], m.height[p])
	}
	m.height[h]++
}

// reach returns every commit reachable from h, h included.
func (m *dagModel) reach(h strata.Hash) map[strata.Hash]bool {
	out := map[strata.Hash]bool{}
	stack := []strata.Hash{h}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if out[c] {
			continue
		}
		out[c] = true
		stack = append(stack, m.parents[c]...)
	}
	return out
}

// TestLogRange builds random DAGs with merges and checks kv.Log over
// ranges A..B, and with MaxDepth, against a brute-force reachability
// model: the same commits, newest first. Every commit has its own time,
// so the order is fully determined.
func TestLogRange(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Logf("seed %d", seed)
			rng := rand.New(rand.NewPCG(seed, 0))
			kv := openMem(t)
			m := &dagModel{parents: map[strata.Hash][]strata.Hash{}, height: map[strata.Hash]int{}, time: map[strata.Hash]int{}}
			clock := 0
			at := func() strata.CommitOption {
				clock++
				return strata.Time(time.Unix(int64(clock), 0))
			}
			root := must[strata.Hash](t)(kv.Branch("b0").Set(ctx, "root", []byte("r"), at()))
			m.add(root, clock)
			branches := []string{"b0", "b1", "b2", "b3"}
			for _, b := range branches[1:] {
				if err := kv.CreateBranch(ctx, b, "b0"); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 60 {
				b := branches[rng.IntN(len(branches))]
				ours := headOf(t, kv, b)
				if rng.IntN(3) > 0 {
					h := must[strata.Hash](t)(kv.Branch(b).Set(ctx, fmt.Sprintf("%s/%d", b, i), []byte("v"), at()))
					m.add(h, clock, ours)
					continue
				}
				from := branches[rng.IntN(len(branches))]
				theirs := headOf(t, kv, from)
				h, err := kv.Merge(ctx, from, b, at())
				if err != nil {
					t.Fatal(err)
				}
				if _, known := m.parents[h]; !known {
					m.add(h, clock, ours, theirs)
				}
			}
			all := make([]strata.Hash, 0, len(m.parents))
			for h := range m.parents {
				all = append(all, h)
			}
			slices.SortFunc(all, func(a, b strata.Hash) int { return m.time[b] - m.time[a] })
			logOf := func(rev string, opts ...strata.LogOption) []strata.Hash {
				t.Helper()
				cs, err := kv.Log(ctx, rev, 0, opts...)
				if err != nil {
					t.Fatalf("log %s: %v", rev, err)
				}
				var out []strata.Hash
				for _, c := range cs {
					out = append(out, c.Hash)
				}
				return out
			}
			for range 40 {
				a, b := all[rng.IntN(len(all))], all[rng.IntN(len(all))]
				fromB, fromA := m.reach(b), m.reach(a)
				var want []strata.Hash
				for _, h := range all {
					if fromB[h] && !fromA[h] {
						want = append(want, h)
					}
				}
				rev := a.String() + ".." + b.String()
				if diff := cmp.Diff(want, logOf(rev)); diff != "" {
					t.Errorf("log %s (-want +got):\n%s", rev, diff)
				}
				depth := rng.IntN(5)
				want = nil
				for _, h := range all {
					if fromB[h] && m.height[h] >= m.height[b]-depth {
						want = append(want, h)
					}
				}
				if diff := cmp.Diff(want, logOf(b.String(), strata.MaxDepth(depth))); diff != "" {
					t.Errorf("log %s with MaxDepth(%d) (-want +got):\n%s", b.Short(), depth, diff)
				}
			}
		})
	}
}

// TestLogRangeSyntax checks the edges of the A..B syntax.
func TestLogRangeSyntax(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	c1 := must[strata.Hash](t)(main.Set(ctx, "a", []byte("1")))
	c2 := must[strata.Hash](t)(main.Set(ctx, "b", []byte("2")))
	got := must[[]strata.Commit](t)(kv.Log(ctx, "main~1..main", 0))
	if len(got) != 1 || got[0].Hash != c2 {
		t.Errorf("main~1..main = %v, want [%s]", got, c2.Short())
	}
	if got := must[[]strata.Commit](t)(kv.Log(ctx, "main.."+c1.String(), 0)); len(got) != 0 {
		t.Errorf("a range whose left side contains the right = %v, want none", got)
	}
	for rev, want := range map[string]error{
		"main..":      strata.ErrInvalidRevision,
		"..main":      strata.ErrInvalidRevision,
		"nope..main":  strata.ErrNotFound,
		"main..nope":  strata.ErrNotFound,
		"main...main": strata.ErrInvalidRevision,
	} {
		if _, err := kv.Log(ctx, rev, 0); !errors.Is(err, want) {
			t.Errorf("log %q: %v, want %v", rev, err, want)
		}
	}
}

// TestOptionsOutOfRange checks that numeric options out of their range are
// errors wrapping ErrInvalidOption from the call they are given to, not
// silently clamped.
func TestOptionsOutOfRange(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	must[strata.Hash](t)(main.Set(ctx, "a", []byte("1")))
	if err := kv.CreateBranch(ctx, "f", "main"); err != nil {
		t.Fatal(err)
	}
	must[strata.Hash](t)(kv.Branch("f").Set(ctx, "b", []byte("2")))
	must[strata.Hash](t)(main.Set(ctx, "c", []byte("3")))
	head := headOf(t, kv, "main")
	calls := map[string]func() error{
		"Merge MaxDepth(-1)":     func() error { return second(kv.Merge(ctx, "f", "main", strata.MaxDepth(-1))) },
		"Merge MaxBases(0)":      func() error { return second(kv.Merge(ctx, "f", "main", strata.MaxBases(0))) },
		"MergeBase MaxDepth(-1)": func() error { return second(kv.MergeBase(ctx, "f", "main", strata.MaxDepth(-1))) },
		"MergeBase MaxBases(-3)": func() error { return second(kv.MergeBase(ctx, "f", "main", strata.MaxBases(-3))) },
		"CherryPick MaxBases(0)": func() error { return second(main.CherryPick(ctx, "f", strata.MaxBases(0))) },
		"Log MaxDepth(-1)":       func() error { return second(kv.Log(ctx, "main", 0, strata.MaxDepth(-1))) },
		"Open MaxRetries(0)":     func() error { return second(strata.Open(ctx, "mem://", strata.MaxRetries(0))) },
		"Open LockTimeout(-1s)":  func() error { return second(strata.Open(ctx, "mem://", strata.LockTimeout(-time.Second))) },
		"New MaxRetries(-1), then Set": func() error {
			return second(strata.New(mem.New(), strata.MaxRetries(-1)).Branch("main").Set(ctx, "a", []byte("1")))
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, strata.ErrInvalidOption) {
			t.Errorf("%s: %v, want ErrInvalidOption", name, err)
		}
	}
	if h := headOf(t, kv, "main"); h != head {
		t.Errorf("calls with bad options moved main to %s", h.Short())
	}
	// The edges of the ranges are valid.
	if _, err := kv.MergeBase(ctx, "f", "main", strata.MaxDepth(0), strata.MaxBases(1)); err != nil && !errors.Is(err, strata.ErrLimit) {
		t.Errorf("MaxDepth(0), MaxBases(1): %v", err)
	}
	if _, err := kv.Log(ctx, "main", 0, strata.MaxDepth(0)); err != nil {
		t.Errorf("Log MaxDepth(0): %v", err)
	}
}

// reads wraps a mem store and records the kind (the first bytes' type tag)
// of every object read from it.
type reads struct {
	*mem.Store
	mu    sync.Mutex
	kinds []byte
}

func (r *reads) note(bs ...[]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range bs {
		if len(b) > 2 {
			r.kinds = append(r.kinds, b[2]) // [array header, 0xcc, tag, ...]: see docs/FORMAT.md
		}
	}
}

func (r *reads) Get(ctx context.Context, h backend.Hash) ([]byte, error) {
	b, err := r.Store.Get(ctx, h)
	r.note(b)
	return b, err
}

func (r *reads) GetMany(ctx context.Context, hs []backend.Hash) ([][]byte, error) {
	bs, err := r.Store.GetMany(ctx, hs)
	r.note(bs...)
	return bs, err
}

func (r *reads) take() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := r.kinds
	r.kinds = nil
	return k
}

// TestSetTreeReadsNoValues checks that grafting a large directory reads
// a handful of directory objects and none of the values below it, and
// that the grafted directory can be changed further in the same
// transaction.
func TestSetTreeReadsNoValues(t *testing.T) {
	store := &reads{Store: mem.New()}
	kv := strata.New(store)
	t.Cleanup(func() { kv.Close() })
	main := kv.Branch("main")
	big := strings.Repeat("v", 100) // not inline: every value is a contents object
	must[strata.Hash](t)(main.Update(ctx, func(tx *strata.Tx) error {
		for i := range 2000 {
			if err := tx.Set(fmt.Sprintf("src/k%04d", i), []byte(fmt.Sprint(big, i))); err != nil {
				return err
			}
		}
		return nil
	}))
	src := must[strata.Hash](t)(must[*strata.Snapshot](t)(kv.At(ctx, "main")).TreeHash(ctx, "src"))

	// A second KV over the same store has an empty cache: every object
	// it needs is read from the store.
	fresh := strata.New(store)
	store.take()
	h := must[strata.Hash](t)(fresh.Branch("main").Update(ctx, func(tx *strata.Tx) error {
		if err := tx.SetTree("copy", src); err != nil {
			return err
		}
		return tx.Set("copy/extra", []byte("e"))
	}))
	got := store.take()
	t.Logf("object kinds read: %v", got)
	const contentsTag = 1
	if slices.Contains(got, contentsTag) || len(got) > 12 {
		t.Errorf("grafting a directory of 2000 values read objects of kinds %v; want a few directories and no value", got)
	}
	snap := must[*strata.Snapshot](t)(kv.At(ctx, h.String()))
	if n := must[int](t)(snap.Len(ctx, "copy")); n != 2001 {
		t.Errorf("copy has %d entries, want 2001", n)
	}
	if v := must[[]byte](t)(snap.Get(ctx, "copy/k1234")); string(v) != fmt.Sprint(big, 1234) {
		t.Errorf("copy/k1234 = %q", v)
	}
}

// TestLogMaxDepthBoundsPathFilter checks that MaxDepth stops a PathFilter
// walk that would otherwise go down the whole history.
func TestLogMaxDepthBoundsPathFilter(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	first := must[strata.Hash](t)(main.Set(ctx, "rare", []byte("once")))
	for i := range 20 {
		must[strata.Hash](t)(main.Set(ctx, "busy", []byte(fmt.Sprint(i))))
	}
	all := must[[]strata.Commit](t)(kv.Log(ctx, "main", 0, strata.PathFilter("rare")))
	if len(all) != 1 || all[0].Hash != first {
		t.Fatalf("log -- rare = %v, want the first commit", all)
	}
	if got := must[[]strata.Commit](t)(kv.Log(ctx, "main", 0, strata.PathFilter("rare"), strata.MaxDepth(5))); len(got) != 0 {
		t.Errorf("log -- rare with MaxDepth(5) = %v, want nothing", got)
	}
	if got := must[[]strata.Commit](t)(kv.Log(ctx, "main", 0, strata.PathFilter("rare"), strata.MaxDepth(20))); len(got) != 1 {
		t.Errorf("log -- rare with MaxDepth(20) = %v, want the first commit", got)
	}
}
