package tree_test

import (
	"context"
	"testing"

	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// TestBuilderOwnRecords: a Builder's first change records, first new
// directory and first few value bytes live in the Builder itself (a small
// write allocates them with it). Values of every size around that room,
// set from one buffer the caller overwrites after each Set, in a new
// directory, an existing one and the root, must each read back as set,
// through the Builder and from the written tree, and the tree must hash
// as the same changes made one Builder per key.
func TestBuilderOwnRecords(t *testing.T) {
	ctx := context.Background()
	st := node.NewStore(mem.New(), 0)
	pre := tree.Empty(st).Builder()
	if err := pre.SetPath(ctx, "old/x", []byte("x")); err != nil {
		t.Fatal(err)
	}
	base, err := pre.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sizes := range [][]int{{0, 1}, {15, 1, 1}, {16, 1}, {17, 0}, {31, 1, 1}, {32, 1}, {33, 0}, {5, 6, 7, 8, 9, 10}, {16, 16, 1, 40}} {
		paths := []string{"new/a", "old/b", "c", "new/d", "old/x", "e"}
		b := tree.New(st, base).Builder()
		one := base // the same changes, one Builder each
		buf := make([]byte, 64)
		want := map[string]string{}
		for i, n := range sizes {
			for j := range buf {
				buf[j] = byte('a' + (i+j)%26)
			}
			v := buf[:n]
			if err := b.SetPath(ctx, paths[i], v); err != nil {
				t.Fatal(err)
			}
			ob := tree.New(st, one).Builder()
			if err := ob.SetPath(ctx, paths[i], v); err != nil {
				t.Fatal(err)
			}
			if one, err = ob.Write(ctx); err != nil {
				t.Fatal(err)
			}
			want[paths[i]] = string(v)
			for j := range buf {
				buf[j] = '!' // the Builder copied v
			}
		}
		check := func(what string, get func(string) ([]byte, error)) {
			for p, w := range want {
				got, err := get(p)
				if err != nil || string(got) != w {
					t.Errorf("sizes %v: %s %s = %q, %v; want %q", sizes, what, p, got, err, w)
				}
			}
		}
		check("Builder.Get", func(path string) ([]byte, error) { return b.Get(ctx, p(path)) })
		root, err := b.Write(ctx)
		if err != nil {
			t.Fatal(err)
		}
		check("Tree.GetPath", func(p string) ([]byte, error) { return tree.New(st, root).GetPath(ctx, p) })
		if root != one {
			t.Errorf("sizes %v: root %s, one Builder per key made %s", sizes, root, one)
		}
	}
}
