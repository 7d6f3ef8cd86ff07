package tree_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// TestGetOffIndexPrefix: in a directory large enough to be an index whose
// prefix "pre" is also an entry's name, Get and GetPath find every entry,
// and find nothing for names that leave the prefix, whether shorter than
// it, as long or longer.
func TestGetOffIndexPrefix(t *testing.T) {
	s := mem.New()
	h := build(t, s, node.Empty, func(b *tree.Builder) {
		mustSet(t, b, "d/pre", "self")
		for i := 0; i < 3*node.MaxEntries; i++ {
			mustSet(t, b, fmt.Sprintf("d/pre%03d", i), fmt.Sprint(i))
		}
	})
	tr := tree.New(ns(s), h)
	want := map[string]string{"d/pre": "self", "d/pre000": "0", "d/pre042": "42", "d/pre383": "383"}
	for path, v := range want {
		got, err := tr.Get(ctx, p(path))
		if err != nil || string(got) != v {
			t.Errorf("Get(%q) = %q, %v; want %q", path, got, err, v)
		}
		if got, err := tr.GetPath(ctx, path); err != nil || string(got) != v {
			t.Errorf("GetPath(%q) = %q, %v; want %q", path, got, err, v)
		}
	}
	for _, path := range []string{"d/pr", "d/prf", "d/qre", "d/prx000", "d/qre000", "d/pr0000", "d/pre0000", "d/pre384", "d/pre9"} {
		if got, err := tr.Get(ctx, p(path)); !errors.Is(err, backend.ErrNotFound) {
			t.Errorf("Get(%q) = %q, %v; want ErrNotFound", path, got, err)
		}
		if got, err := tr.GetPath(ctx, path); !errors.Is(err, backend.ErrNotFound) {
			t.Errorf("GetPath(%q) = %q, %v; want ErrNotFound", path, got, err)
		}
	}
}
