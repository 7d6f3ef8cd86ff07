package tree_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// TestUnchangedWriteWritesNothing: changes that leave a tree as it was
// (values set to what they are, in a small directory, a large one with
// index levels, and the root; a JSON value set to an equal one; a
// directory replaced by itself) make no object and replace nothing:
// Objects returns the base and no objects, and Replaced is empty. One
// real change among them writes its path as before.
func TestUnchangedWriteWritesNothing(t *testing.T) {
	ctx := context.Background()
	st := node.NewStore(mem.New(), 0)
	b := tree.Empty(st).Builder()
	set := func(b *tree.Builder, p, v string) {
		t.Helper()
		if err := b.SetPath(ctx, p, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3000 {
		set(b, fmt.Sprintf("big/k%05d", i), fmt.Sprint("v", i))
	}
	set(b, "small/a", "1")
	set(b, "top", "t")
	set(b, "long/x", "a value longer than thirty-two bytes, held as a contents object")
	if err := b.SetContents(ctx, []string{"doc"}, contents.Contents{Kind: contents.KindJSON, Data: []byte(`{"a":1}`)}); err != nil {
		t.Fatal(err)
	}
	base, err := b.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	small, _, err := tree.New(st, base).SubtreeHash(ctx, []string{"small"})
	if err != nil {
		t.Fatal(err)
	}
	unchanged := func(b *tree.Builder) {
		set(b, "big/k01234", "v1234")
		set(b, "big/k00000", "v0")
		set(b, "small/a", "1")
		set(b, "top", "t")
		set(b, "long/x", "a value longer than thirty-two bytes, held as a contents object")
		if err := b.SetContents(ctx, []string{"doc"}, contents.Contents{Kind: contents.KindJSON, Data: []byte(`{"a":1}`)}); err != nil {
			t.Fatal(err)
		}
		if err := b.SetTree(ctx, []string{"small"}, small); err != nil {
			t.Fatal(err)
		}
	}
	b = tree.New(st, base).Builder()
	unchanged(b)
	objs, root, err := b.Objects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if root != base || len(objs) != 0 || len(b.Replaced()) != 0 {
		t.Fatalf("unchanged write: root %s (base %s), %d objects, %d replaced; want the base and nothing", root.Short(), base.Short(), len(objs), len(b.Replaced()))
	}
	b = tree.New(st, base).Builder()
	unchanged(b)
	set(b, "big/k02999", "changed")
	objs, root, err = b.Objects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fresh := tree.New(st, base).Builder()
	set(fresh, "big/k02999", "changed")
	fobjs, want, err := fresh.Objects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if root != want || len(fobjs) < 3 {
		t.Fatalf("one real change: root %s; the change alone makes %s with %d objects", root.Short(), want.Short(), len(fobjs))
	}
	// The same new objects; beyond them, at most objects already stored
	// (a value under the root, encoded again).
	made := map[backend.Hash]bool{}
	for _, o := range objs {
		made[o.Hash] = true
	}
	for _, o := range fobjs {
		if !made[o.Hash] {
			t.Errorf("one real change among unchanged ones does not write %s", o.Hash.Short())
		}
		delete(made, o.Hash)
	}
	for h := range made {
		if ok, err := st.Objects().Has(ctx, []backend.Hash{h}); err != nil || !ok[0] {
			t.Errorf("one real change among unchanged ones writes %s, not stored before: %v, %v", h.Short(), ok, err)
		}
	}
}
