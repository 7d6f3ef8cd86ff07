package tree_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// linkedVersions stores six versions of a directory of 5,000 names (an
// index two levels deep over leaves of 100): version v changes the names
// i with i%97 == v, so the versions share most of their objects. It
// returns the roots and the expected value of name i in version v.
func linkedVersions(t *testing.T, s backend.ObjectStore) (roots []backend.Hash, want func(v, i int) string) {
	t.Helper()
	const n = 5000
	want = func(v, i int) string {
		for ; v > 0; v-- {
			if i%97 == v {
				return fmt.Sprintf("v%d-%d", v, i)
			}
		}
		return fmt.Sprintf("v0-%d", i)
	}
	root := build(t, s, node.Empty, func(b *tree.Builder) {
		for i := range n {
			mustSet(t, b, fmt.Sprintf("d/k%04d", i), want(0, i))
		}
	})
	roots = append(roots, root)
	for v := 1; v < 6; v++ {
		root = build(t, s, root, func(b *tree.Builder) {
			for i := v; i < n; i += 97 {
				mustSet(t, b, fmt.Sprintf("d/k%04d", i), want(v, i))
			}
		})
		roots = append(roots, root)
	}
	return roots, want
}

// dirHashes returns the hashes of every directory object of the tree at
// root.
func dirHashes(t *testing.T, st *node.Store, root backend.Hash) []backend.Hash {
	t.Helper()
	var out []backend.Hash
	var walk func(h backend.Hash)
	walk = func(h backend.Hash) {
		out = append(out, h)
		d, err := st.Load(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if d.Index != nil {
			for c := range d.Index.Children() {
				walk(c.Hash)
			}
			return
		}
		for i := range d.Leaf.Len() {
			if e := d.Leaf.Entry(i); e.Kind == node.KindNode {
				walk(e.Hash)
			}
		}
	}
	walk(root)
	return out
}

// TestLookupsThroughLinks: lookups in six versions of a large directory
// that share most of their index levels and leaves find every value of
// their own version, whichever version's lookups made the links; once
// every directory is cached, lookups read nothing from the object store;
// after the cache forgets every directory of one version (shared ones
// included), lookups are still right, and after one more pass again
// read nothing.
func TestLookupsThroughLinks(t *testing.T) {
	c := &counting{ObjectStore: mem.New()}
	roots, want := linkedVersions(t, c)
	st := node.NewStore(c, 64<<20)
	pass := func() {
		t.Helper()
		for i := range 5000 {
			for v, root := range roots {
				got, err := tree.New(st, root).GetPath(ctx, fmt.Sprintf("d/k%04d", i))
				if err != nil || string(got) != want(v, i) {
					t.Fatalf("version %d, name %d: GetPath = %q, %v; want %q", v, i, got, err, want(v, i))
				}
			}
		}
	}
	pass()
	pass()
	c.gets.Store(0)
	pass()
	if n := c.gets.Load(); n != 0 {
		t.Fatalf("a pass with every directory cached read %d objects", n)
	}
	// Every index of every version, read often, links all its children.
	for v, root := range roots {
		h, _, err := tree.New(st, root).SubtreeHash(ctx, p("d"))
		if err != nil {
			t.Fatal(err)
		}
		var check func(h backend.Hash, depth int)
		check = func(h backend.Hash, depth int) {
			d, err := st.Load(ctx, h)
			if err != nil {
				t.Fatal(err)
			}
			x := d.Index
			if x == nil {
				if depth < 2 {
					t.Fatalf("version %d: a leaf at depth %d: the directory is not the index the test needs", v, depth)
				}
				return
			}
			if n := x.Linked(); n != x.NumChildren() {
				t.Errorf("version %d: an index at depth %d links %d of its %d children", v, depth, n, x.NumChildren())
			}
			for c := range x.Children() {
				check(c.Hash, depth+1)
			}
		}
		check(h, 0)
	}
	st.Forget(dirHashes(t, st, roots[2]))
	c.gets.Store(0)
	pass()
	if c.gets.Load() == 0 {
		t.Fatal("a pass after the cache forgot a version read nothing: the test did not exercise reloading")
	}
	c.gets.Store(0)
	pass()
	if n := c.gets.Load(); n != 0 {
		t.Fatalf("the pass after reloading read %d objects", n)
	}
}

// TestLinkedDirsStayCached: under cache pressure, the directories of a
// hot part of a large directory, read through their parents' links
// rather than the cache's table, stay cached while lookups elsewhere
// fill and turn the cache over: the eviction sweep counts a lookup
// through a link as a use.
func TestLinkedDirsStayCached(t *testing.T) {
	c := &counting{ObjectStore: mem.New()}
	roots, want := linkedVersions(t, c)
	st := node.NewStore(c, 300<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	get := func(v, i int) {
		t.Helper()
		got, err := tree.New(st, roots[v]).GetPath(ctx, fmt.Sprintf("d/k%04d", i))
		if err != nil || string(got) != want(v, i) {
			t.Fatalf("version %d, name %d: GetPath = %q, %v; want %q", v, i, got, err, want(v, i))
		}
	}
	hotReads := 0
	hot := func() {
		n := c.gets.Load()
		get(5, rng.IntN(1000))
		hotReads += int(c.gets.Load() - n)
	}
	for round := range 40 {
		if round == 10 { // warm: count from here
			hotReads = 0
			c.gets.Store(0)
		}
		for range 200 {
			hot()
			get(rng.IntN(5), 1000+rng.IntN(4000))
		}
	}
	if c.gets.Load() < 1000 {
		t.Fatalf("the cold lookups read only %d objects: the cache was not under pressure", c.gets.Load())
	}
	if hotReads != 0 {
		t.Fatalf("hot lookups read %d objects among %d of the cold ones: their directories were evicted", hotReads, c.gets.Load()-int64(hotReads))
	}
}
