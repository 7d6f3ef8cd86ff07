package tree_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// TestPooledBuilder: a Builder given back with Release and taken again
// from PooledBuilder starts clean, so that it writes exactly the tree a
// new Builder makes of the same changes on the same base (each round
// starts from the first tree or from the last round's, so that a change
// left over from an earlier round would show); and what Objects returned
// before the Release (the objects' bytes) stays as it was while the
// Builder is reused. Writes of every size around the room a Builder keeps
// for its first records and value bytes, deletes, and bulk writes (whose
// Builder is not pooled) alternate; Release of nil does nothing.
func TestPooledBuilder(t *testing.T) {
	ctx := context.Background()
	st := node.NewStore(mem.New(), 0)
	first := tree.Empty(st).Builder()
	for i := range 6 {
		if err := first.SetPath(ctx, fmt.Sprintf("r%d/d%d/k%d", i%3, i%2, i), []byte("first")); err != nil {
			t.Fatal(err)
		}
	}
	base0, err := first.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type made struct {
		objs []backend.Object
		data [][]byte // a copy of each object's bytes when it was made
	}
	var kept []made
	(*tree.Builder)(nil).Release()
	last := base0
	for round := range 60 {
		base := base0
		if round%2 == 1 {
			base = last
		}
		keys := 1 + round%4
		if round%10 == 9 {
			keys = 40 // a bulk write: more records than a Builder holds
		}
		set := func(b *tree.Builder) {
			for k := range keys {
				v := bytes.Repeat([]byte{byte('a' + round%26)}, (round+k)%41) // 0 to 40 bytes
				if err := b.SetPath(ctx, fmt.Sprintf("r%d/d%d/k%d", round%3, k%2, k+round%5), v); err != nil {
					t.Fatal(err)
				}
			}
			if round%5 == 4 {
				if _, err := b.Delete(ctx, []string{fmt.Sprintf("r%d", (round+1)%3)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		fresh := tree.New(st, base).Builder()
		set(fresh)
		_, want, err := fresh.Objects(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b := tree.New(st, base).PooledBuilder()
		set(b)
		objs, root, err := b.Objects(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if root != want {
			t.Fatalf("round %d: a pooled Builder wrote %s, a new one %s", round, root.Short(), want.Short())
		}
		m := made{objs: objs}
		for _, o := range objs {
			m.data = append(m.data, bytes.Clone(o.Data))
		}
		kept = append(kept, m)
		b.Release()
		if err := st.Objects().Put(ctx, objs); err != nil {
			t.Fatal(err)
		}
		last = root
	}
	for i, m := range kept {
		for j, o := range m.objs {
			if !bytes.Equal(o.Data, m.data[j]) {
				t.Fatalf("round %d: object %s changed after its Builder was released and reused", i, o.Hash.Short())
			}
		}
	}
}
