package tree_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// TestLookupsThroughKeptChildTries: lookups in a directory of several
// index levels, in versions that share some index objects and not
// others, read through one node store, answer as each version holds (an
// index keeps the child Tries its lookups reached, node.Trie.ChildTrie,
// and a version never sees another's), before and after the cache
// forgets every index, and the kept Tries are used: the root's index
// keeps its children once read.
func TestLookupsThroughKeptChildTries(t *testing.T) {
	ctx := context.Background()
	st := node.NewStore(mem.New(), 0)
	const n = 20_000
	b := tree.Empty(st).Builder()
	want := map[string]string{}
	for i := range n {
		k, v := fmt.Sprintf("d/k%05d", i), fmt.Sprint("v", i)
		if err := b.SetPath(ctx, k, []byte(v)); err != nil {
			t.Fatal(err)
		}
		want[k] = v
	}
	root, err := b.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type version struct {
		root backend.Hash
		want map[string]string
	}
	versions := []version{{root, want}}
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for range 5 {
		prev := versions[len(versions)-1]
		w := make(map[string]string, len(prev.want))
		for k, v := range prev.want {
			w[k] = v
		}
		b := tree.New(st, prev.root).Builder()
		for range 20 {
			k, v := fmt.Sprintf("d/k%05d", rng.IntN(n+100)), fmt.Sprint("w", rng.Int())
			if err := b.SetPath(ctx, k, []byte(v)); err != nil {
				t.Fatal(err)
			}
			w[k] = v
		}
		r, err := b.Write(ctx)
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, version{r, w})
	}
	check := func(pass string) {
		t.Helper()
		for range 3000 {
			v := versions[rng.IntN(len(versions))]
			k := fmt.Sprintf("d/k%05d", rng.IntN(n+200))
			got, err := tree.New(st, v.root).GetPath(ctx, k)
			w, ok := v.want[k]
			switch {
			case !ok && !errors.Is(err, backend.ErrNotFound):
				t.Fatalf("%s: %s in %s: %q, %v; want not found", pass, k, v.root.Short(), got, err)
			case ok && (err != nil || string(got) != w):
				t.Fatalf("%s: %s in %s: %q, %v; want %q", pass, k, v.root.Short(), got, err, w)
			}
		}
	}
	check("first")
	check("again")
	d, ok, err := tree.New(st, root).SubtreeHash(ctx, []string{"d"})
	if err != nil || !ok {
		t.Fatal(err, ok)
	}
	top, err := st.Load(ctx, d)
	if err != nil || top.Index == nil {
		t.Fatalf("d is not an index: %+v, %v", top, err)
	}
	kept := 0
	for i := range top.Index.NumChildren() {
		if top.Index.ChildTrie(i) != nil {
			kept++
		}
	}
	if kept == 0 {
		t.Fatal("the index of d keeps none of its children after 6,000 lookups")
	}
	// Every index of every version, forgotten: lookups load them again
	// (and keep them again).
	var all []backend.Hash
	var indexes func(h backend.Hash)
	indexes = func(h backend.Hash) {
		d, err := st.Load(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if d.Index == nil {
			return
		}
		all = append(all, h)
		for i := range d.Index.NumChildren() {
			indexes(d.Index.Child(i).Hash)
		}
	}
	for _, v := range versions {
		h, ok, err := tree.New(st, v.root).SubtreeHash(ctx, []string{"d"})
		if err != nil || !ok {
			t.Fatal(err, ok)
		}
		indexes(h)
	}
	if len(all) < 10 {
		t.Fatalf("%d index objects: the test wants several levels", len(all))
	}
	st.Forget(all)
	check("forgotten")
}
