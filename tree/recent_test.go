package tree_test

import (
	"fmt"
	"testing"

	"github.com/stratakv/strata/backend/mem"
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
