package tree_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// TestSetPathMatchesSet: SetPath (which walks a path string and remembers
// the last directory) records exactly what Set of the path's segments
// does, with the same errors, through random sets, deletes and SetTree
// over a small namespace where values and directories clash, emptied
// directories become values, and directories are replaced under the
// remembered one. Both builders must then read and write the same tree.
func TestSetPathMatchesSet(t *testing.T) {
	ctx := context.Background()
	seed := seedOf(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	st := node.NewStore(mem.New(), 0)

	// A stored directory to graft with SetTree.
	g := tree.Empty(st).Builder()
	for _, p := range []string{"a/x", "b", "a/y"} {
		if err := g.SetPath(ctx, p, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	graft, err := g.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}

	names := []string{"a", "b", "c"}
	randPath := func() []string {
		p := make([]string, 1+rng.IntN(3))
		for i := range p {
			p[i] = names[rng.IntN(len(names))]
		}
		return p
	}
	errText := func(err error) string {
		if err == nil {
			return ""
		}
		return err.Error()
	}
	for round := 0; round < 50; round++ {
		a := tree.Empty(st).Builder() // Set
		b := tree.Empty(st).Builder() // SetPath
		for i := 0; i < 200; i++ {
			p := randPath()
			switch r := rng.IntN(10); {
			case r < 7:
				v := []byte(fmt.Sprint("v", i))
				if rng.IntN(20) == 0 {
					v = make([]byte, 100+rng.IntN(2000)) // not inline; maybe not in a block
					v[0] = byte(i)
				}
				ea, eb := a.Set(ctx, p, v), b.SetPath(ctx, tree.JoinPath(p), v)
				if errText(ea) != errText(eb) {
					t.Fatalf("seed %d: set %q: Set returned %v, SetPath %v", seed, tree.JoinPath(p), ea, eb)
				}
				v[0]++ // both copied it
			case r < 9:
				oka, ea := a.Delete(ctx, p)
				okb, eb := b.Delete(ctx, p)
				if oka != okb || errText(ea) != errText(eb) {
					t.Fatalf("seed %d: delete %q: %v %v vs %v %v", seed, tree.JoinPath(p), oka, ea, okb, eb)
				}
			default:
				h := graft
				if rng.IntN(3) == 0 {
					h = node.Empty
				}
				ea, eb := a.SetTree(ctx, p, h), b.SetTree(ctx, p, h)
				if errText(ea) != errText(eb) {
					t.Fatalf("seed %d: set tree %q: %v vs %v", seed, tree.JoinPath(p), ea, eb)
				}
			}
			q := randPath()
			va, ea := a.Get(ctx, q)
			vb, eb := b.Get(ctx, q)
			if string(va) != string(vb) || errText(ea) != errText(eb) {
				t.Fatalf("seed %d: get %q: %q %v vs %q %v", seed, tree.JoinPath(q), va, ea, vb, eb)
			}
		}
		ha, err := a.Write(ctx)
		if err != nil {
			t.Fatal(err)
		}
		hb, err := b.Write(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ha != hb {
			t.Fatalf("seed %d: roots differ: Set %s, SetPath %s", seed, ha, hb)
		}
	}
}

// TestSetPathEmptiedDirBecomesValue: a directory emptied by deletes can
// be set as a value, and a later SetPath below it must not reuse the
// directory remembered before.
func TestSetPathEmptiedDirBecomesValue(t *testing.T) {
	ctx := context.Background()
	b := tree.Empty(node.NewStore(mem.New(), 0)).Builder()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.SetPath(ctx, "d/x/k", []byte("1")))
	if _, err := b.Delete(ctx, []string{"d", "x", "k"}); err != nil {
		t.Fatal(err)
	}
	must(b.SetPath(ctx, "d/x", []byte("now a value")))
	if err := b.SetPath(ctx, "d/x/k", []byte("2")); err == nil {
		t.Fatal("SetPath below a value succeeded")
	}
	// Without a delete in between: the remembered directory "d/y" is
	// emptied by no one, and a value replaces nothing.
	must(b.SetPath(ctx, "d/y/k", []byte("3")))
	if err := b.SetPath(ctx, "d/y", []byte("4")); err == nil {
		t.Fatal("SetPath of a value over a directory succeeded")
	}
	must(b.SetPath(ctx, "d/y/l", []byte("5")))
	for p, want := range map[string]string{"d/x": "now a value", "d/y/k": "3", "d/y/l": "5"} {
		got, err := b.Get(ctx, strings.Split(p, "/"))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", p, got, err, want)
		}
	}
}

// TestBulkLoadMatchesOneByOne: a bulk load (sorted keys set with SetPath
// in one Builder: new directories built from their entries, on the
// writer's stacks, in parallel) makes the root that writing the same keys
// one commit at a time makes (each an edit of the stored tree). Names
// that are prefixes of others ("k1", "k10", ...) give index objects a
// self entry, and directories of one key, of several hundred and of
// thousands of keys sit side by side. Every value then reads back through the same store,
// whose cache holds the bulk write's index objects.
func TestBulkLoadMatchesOneByOne(t *testing.T) {
	ctx := context.Background()
	seed := seedOf(t)
	rng := rand.New(rand.NewPCG(seed, 2))
	keys := map[string][]byte{}
	for d := 0; d < 60; d++ {
		n := 1 // most directories hold one key
		switch rng.IntN(6) {
		case 0:
			n = 1 + rng.IntN(700)
		case 1:
			n = 2 + rng.IntN(10)
		case 2:
			n = 1000 + rng.IntN(3000) // built a group at a time (buildValues)
		}
		for i := 0; i < n; i++ {
			name := fmt.Sprint("k", rng.IntN(4*n)) // "k1" is a prefix of "k10"…
			if rng.IntN(3) == 0 {
				name = fmt.Sprint("k", i) // a run of prefixes
			}
			v := []byte(fmt.Sprint("v", d, "/", i))
			if rng.IntN(40) == 0 {
				v = make([]byte, 40+rng.IntN(100)) // a contents object
				v[0] = byte(i)
			}
			keys[fmt.Sprintf("d%02d/%s", d, name)] = v
		}
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)

	st := node.NewStore(mem.New(), 0)
	b := tree.Empty(st).Builder()
	for _, k := range sorted {
		if err := b.SetPath(ctx, k, keys[k]); err != nil {
			t.Fatal(err)
		}
	}
	bulk, err := b.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}

	one := node.Empty
	st2 := node.NewStore(mem.New(), 0)
	for _, i := range rng.Perm(len(sorted)) {
		b := tree.New(st2, one).Builder()
		if err := b.SetPath(ctx, sorted[i], keys[sorted[i]]); err != nil {
			t.Fatal(err)
		}
		if one, err = b.Write(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if bulk != one {
		t.Fatalf("seed %d: %d keys: bulk load's root %s, one by one %s", seed, len(keys), bulk, one)
	}
	tr := tree.New(st, bulk)
	for _, k := range sorted {
		got, err := tr.GetPath(ctx, k)
		if err != nil || string(got) != string(keys[k]) {
			t.Fatalf("seed %d: %s: %q, %v; want %q", seed, k, got, err, keys[k])
		}
	}
}
