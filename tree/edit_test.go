package tree_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

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

// TestReplaced: Builder.Replaced names the stored directories a small
// write rewrote in place (the root, the index on the path, the edited
// leaves) and nothing else: not a directory an edit left as it was, not
// what an earlier write of a reused writer replaced. Forgetting them once
// the objects are stored drops them from the node cache while their new
// versions stay cached, and the old tree still reads whole.
func TestReplaced(t *testing.T) {
	st := node.NewStore(mem.New(), 1<<20)
	b := tree.Empty(st).Builder()
	for i := 0; i < 5000; i++ {
		mustSet(t, b, fmt.Sprintf("d/k%05d", i), "v")
	}
	for i := 0; i < 10; i++ {
		mustSet(t, b, fmt.Sprintf("s/k%d", i), "v")
		mustSet(t, b, fmt.Sprintf("u/k%d", i), "w") // not s's content: another object
	}
	old, err := b.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dirs := func(root backend.Hash, names ...string) []backend.Hash {
		t.Helper()
		hs := []backend.Hash{root}
		for _, d := range names {
			h, ok, err := tree.New(st, root).SubtreeHash(ctx, p(d))
			if err != nil || !ok {
				t.Fatalf("%s: %v, %v", d, ok, err)
			}
			hs = append(hs, h)
		}
		return hs
	}
	write := func(base backend.Hash, kvs ...string) (backend.Hash, []backend.Hash) {
		t.Helper()
		b := tree.New(st, base).Builder()
		for i := 0; i < len(kvs); i += 2 {
			mustSet(t, b, kvs[i], kvs[i+1])
		}
		objs, h, err := b.Objects(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Objects().Put(ctx, objs); err != nil {
			t.Fatal(err)
		}
		return h, b.Replaced()
	}
	before := dirs(old, "d", "s", "u")
	for _, h := range before {
		if _, err := st.Load(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	// u/k1 is set to the value it has: its leaf is made again, the same.
	h, replaced := write(old, "s/k3", "new", "d/k01234", "new", "u/k1", "w")
	after := dirs(h, "d", "s", "u")
	if after[3] != before[3] {
		t.Fatal("setting u/k1 to its value changed u")
	}
	got := map[backend.Hash]bool{}
	for _, r := range replaced {
		got[r] = true
	}
	for i, name := range []string{"root", "d", "s"} {
		if !got[before[i]] {
			t.Errorf("Replaced does not name the old %s", name)
		}
	}
	if got[before[3]] {
		t.Error("Replaced names u, which the write made again unchanged")
	}
	if len(replaced) < 4 { // the root, d's index, the leaf under it, s
		t.Errorf("Replaced named %d directories, want at least 4: %v", len(replaced), replaced)
	}
	st.Forget(replaced)
	for i, nh := range after {
		_, ok := st.Cached(before[i])
		if want := i == 3; ok != want {
			t.Errorf("directory %d: old version cached %v, want %v", i, ok, want)
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
	// The next write (whose writer may be the last one, reused) names
	// only what it replaced itself.
	_, replaced = write(h, "u/k2", "new")
	if want := dirs(h, "u"); !cmp.Equal(replaced, want) && !cmp.Equal(replaced, []backend.Hash{want[1], want[0]}) {
		t.Errorf("Replaced = %v, want the root and u %v", replaced, want)
	}
}

// TestMergeForgetsNothing: a merge (here one that merges a directory
// cleanly by editing ours, and has a conflict elsewhere, so that its
// result is thrown away) leaves the node cache as it was: what it
// rewrote is still the branches' own.
func TestMergeForgetsNothing(t *testing.T) {
	st := node.NewStore(mem.New(), 1<<20)
	b := tree.Empty(st).Builder()
	for i := 0; i < 10; i++ {
		mustSet(t, b, fmt.Sprintf("s/k%d", i), "v")
	}
	mustSet(t, b, "c/x", "base")
	base, err := b.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	side := func(key, v string) backend.Hash {
		b := tree.New(st, base).Builder()
		mustSet(t, b, key, v)
		mustSet(t, b, "c/x", v)
		h, err := b.Write(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	ours, theirs := side("s/k1", "ours"), side("s/k2", "theirs")
	var cached []backend.Hash
	for _, root := range []backend.Hash{ours, theirs} {
		cached = append(cached, root)
		for _, d := range []string{"s", "c"} {
			h, _, err := tree.New(st, root).SubtreeHash(ctx, p(d))
			if err != nil {
				t.Fatal(err)
			}
			cached = append(cached, h)
		}
	}
	for _, h := range cached {
		if _, err := st.Load(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	res, err := tree.Merge(ctx, st, base, ours, theirs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Conflicts) != 1 {
		t.Fatalf("conflicts %v, want the one at c/x", res.Conflicts)
	}
	for i, h := range cached {
		if _, ok := st.Cached(h); !ok {
			t.Errorf("directory %d of a merged side left the cache", i)
		}
	}
}
