package tree_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/tree"
)

// TestSetStored checks that naming a stored contents object by hash makes
// the same tree as setting its bytes, and reads back through the builder.
func TestSetStored(t *testing.T) {
	ctx := context.Background()
	s := mem.New()
	st := ns(s)
	data := []byte(strings.Repeat("a value longer than the inline limit ", 3))
	o := contents.Object(contents.Raw(data))
	if err := s.Put(ctx, []backend.Object{o}); err != nil {
		t.Fatal(err)
	}
	a := tree.Empty(st).Builder()
	b := tree.Empty(st).Builder()
	for _, p := range [][]string{{"x", "y"}, {"x", "z"}, {"top"}} {
		if err := a.Set(ctx, p, data); err != nil {
			t.Fatal(err)
		}
		if err := b.SetStored(ctx, p, o.Hash); err != nil {
			t.Fatal(err)
		}
	}
	ha, err := a.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	objs, hb, err := b.Objects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ha != hb {
		t.Fatalf("SetStored made tree %s, Set made %s", hb.Short(), ha.Short())
	}
	for _, obj := range objs {
		if obj.Hash == o.Hash {
			t.Errorf("Objects returned the stored contents object; the caller stores it")
		}
	}
	got, err := b.Get(ctx, []string{"x", "z"})
	if err != nil || string(got) != string(data) {
		t.Errorf("Get through the builder = %q, %v", got, err)
	}
	// Below a value is refused, as for SetContents.
	if err := b.SetStored(ctx, []string{"top", "below"}, o.Hash); !errors.Is(err, tree.ErrInvalidPath) {
		t.Errorf("SetStored below a value: %v, want ErrInvalidPath", err)
	}
}
