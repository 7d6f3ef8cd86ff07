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

// TestSetReadsPathOnce checks that a set in a large directory and its
// write read each directory on the path once, with no node cache to hide
// a second read: the Builder's writer reuses what the set loaded.
func TestSetReadsPathOnce(t *testing.T) {
	c := &counting{ObjectStore: mem.New()}
	b := tree.Empty(ns(c)).Builder()
	for i := 0; i < 5000; i++ {
		mustSet(t, b, fmt.Sprintf("d/k%05d", i), "v")
	}
	h, err := b.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"d/k01234", "d/k04999x", "d/a"} {
		c.gets.Store(0)
		if _, err := tree.New(ns(c), h).Get(ctx, p("d/k01234")); err != nil {
			t.Fatal(err)
		}
		path := c.gets.Load() // the directories from the root to the leaf
		if path < 4 {
			t.Fatalf("the path to d/k01234 is %d objects: the directory is not an index", path)
		}
		c.gets.Store(0)
		b := tree.New(ns(c), h).Builder()
		mustSet(t, b, name, "new")
		if _, err := b.Write(ctx); err != nil {
			t.Fatal(err)
		}
		// A new name may land in another leaf, or beside the index
		// ("d/a"), but never on a longer path.
		if got := c.gets.Load(); got > path {
			t.Errorf("set %s and write read %d objects, the path is %d", name, got, path)
		}
	}
}

// TestSingleEditsMatchRebuild makes one change per write to a directory
// that is an index (sets under an existing child, sets of new child
// bytes and of the prefix itself, deletions that empty a child or shrink
// the directory back to one node) and checks after each that the root is
// the one a fresh build of the same entries gives: the index a single
// write rewrites child by child (Trie.WithChild) is the canonical one.
func TestSingleEditsMatchRebuild(t *testing.T) {
	seed := seedOf(t)
	r := rand.New(rand.NewPCG(seed, 0))
	c := &counting{ObjectStore: mem.New()}
	st := ns(c)
	want := map[string]string{}
	b := tree.Empty(st).Builder()
	for i := range 300 {
		k := fmt.Sprintf("k%03d", i)
		want[k] = "v"
		mustSet(t, b, "d/"+k, "v")
	}
	h, err := b.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"k", "z1", "k1", "k15", "a"} // the prefix, new child bytes, self entries of inner indexes
	for i := range 300 {
		names = append(names, fmt.Sprintf("k%03d", i))
	}
	// First sets and deletions mixed, then deletions of every name in a
	// random order, down to an empty directory.
	ops := make([]string, 0, 700)
	for range 400 {
		ops = append(ops, names[r.IntN(len(names))])
	}
	r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	ops = append(ops, names...)
	for step, name := range ops {
		b := tree.New(st, h).Builder()
		_, exists := want[name]
		switch {
		case exists && (step >= 400 || r.IntN(3) == 0):
			delete(want, name)
			if _, err := b.Delete(ctx, p("d/"+name)); err != nil {
				t.Fatal(err)
			}
		case step < 400:
			v := fmt.Sprintf("v%d", step)
			want[name] = v
			mustSet(t, b, "d/"+name, v)
		default:
			continue
		}
		if h, err = b.Write(ctx); err != nil {
			t.Fatal(err)
		}
		fresh := tree.Empty(st).Builder()
		for k, v := range want {
			mustSet(t, fresh, "d/"+k, v)
		}
		fh, err := fresh.Write(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if fh != h {
			t.Fatalf("step %d (%s, %d entries left): root %s, a fresh build gives %s", step, name, len(want), h.Short(), fh.Short())
		}
	}
	if len(want) != 0 {
		t.Fatalf("%d entries left", len(want))
	}
}

// TestWriteForgetsReplaced: a small write drops from the node cache the
// directories it rewrote in place (a leaf edited, an index with one child
// replaced, the root), and caches their new versions; the old tree still
// reads whole, from the object store.
func TestWriteForgetsReplaced(t *testing.T) {
	st := node.NewStore(mem.New(), 1<<20)
	b := tree.Empty(st).Builder()
	for i := 0; i < 5000; i++ {
		mustSet(t, b, fmt.Sprintf("d/k%05d", i), "v")
	}
	for i := 0; i < 10; i++ {
		mustSet(t, b, fmt.Sprintf("s/k%d", i), "v")
	}
	old, err := b.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dirs := func(root backend.Hash) []backend.Hash {
		hs := []backend.Hash{root}
		for _, d := range []string{"d", "s"} {
			h, ok, err := tree.New(st, root).SubtreeHash(ctx, p(d))
			if err != nil || !ok {
				t.Fatalf("%s: %v, %v", d, ok, err)
			}
			hs = append(hs, h)
		}
		return hs
	}
	before := dirs(old)
	for _, h := range before {
		if _, err := st.Load(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	b = tree.New(st, old).Builder()
	mustSet(t, b, "s/k3", "new")
	mustSet(t, b, "d/k01234", "new")
	h, err := b.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, nh := range dirs(h) {
		if _, ok := st.Cached(before[i]); ok {
			t.Errorf("directory %d: the replaced version is still cached", i)
		}
		if _, ok := st.Cached(nh); !ok {
			t.Errorf("directory %d: the new version is not cached", i)
		}
	}
	for _, k := range []string{"s/k3", "d/k01234", "d/k04999"} {
		if v, err := tree.New(st, old).Get(ctx, p(k)); err != nil || string(v) != "v" {
			t.Errorf("old tree: %s = %q, %v", k, v, err)
		}
	}
}
