package tree_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

var ctx = context.Background()

// counting wraps an object store and counts Gets and Put objects.
type counting struct {
	backend.ObjectStore
	gets, puts atomic.Int64
}

func (c *counting) Get(ctx context.Context, h backend.Hash) ([]byte, error) {
	c.gets.Add(1)
	return c.ObjectStore.Get(ctx, h)
}

func (c *counting) Put(ctx context.Context, objs []backend.Object) error {
	c.puts.Add(int64(len(objs)))
	return c.ObjectStore.Put(ctx, objs)
}

// ns wraps an object store without a cache, so reads reach it.
func ns(s backend.ObjectStore) *node.Store { return node.NewStore(s, -1) }

func p(s string) []string {
	segs, err := tree.ParsePath(s)
	if err != nil {
		panic(err)
	}
	return segs
}

func build(t *testing.T, s backend.ObjectStore, base backend.Hash, ops func(b *tree.Builder)) backend.Hash {
	t.Helper()
	b := tree.New(ns(s), base).Builder()
	ops(b)
	h, err := b.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mustSet(t *testing.T, b *tree.Builder, path, v string) {
	t.Helper()
	if err := b.Set(ctx, p(path), []byte(v)); err != nil {
		t.Fatal(err)
	}
}

// dump returns every value of a stored tree, by path.
func dump(t *testing.T, s backend.ObjectStore, root backend.Hash) map[string]string {
	t.Helper()
	out := map[string]string{}
	var walk func(prefix []string)
	walk = func(prefix []string) {
		es, err := tree.New(ns(s), root).List(ctx, prefix, tree.Page{})
		if err != nil {
			t.Fatalf("list %v: %v", prefix, err)
		}
		for _, e := range es {
			path := append(append([]string{}, prefix...), e.Name)
			if e.Dir {
				walk(path)
				continue
			}
			v, err := tree.New(ns(s), root).Get(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			out[strings.Join(path, "/")] = string(v)
		}
	}
	walk(nil)
	return out
}

func TestParsePath(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", nil}, {"/", nil}, {"a", []string{"a"}}, {"/a/b/", []string{"a", "b"}},
		{"config/db/host", []string{"config", "db", "host"}}, {"a b/.c/..d", []string{"a b", ".c", "..d"}},
	} {
		got, err := tree.ParsePath(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%q: %s", c.in, diff)
		}
	}
	for _, bad := range []string{"a//b", "//a", "a//", ".", "a/./b", "..", "a/../b", "a\x00b", "\x00", "/\x00/"} {
		if _, err := tree.ParsePath(bad); !errors.Is(err, tree.ErrInvalidPath) {
			t.Errorf("%q: err = %v, want ErrInvalidPath", bad, err)
		}
	}
}

func TestSetGetListDelete(t *testing.T) {
	s := mem.New()
	h := build(t, s, node.Empty, func(b *tree.Builder) {
		mustSet(t, b, "config/db/host", "db1")
		mustSet(t, b, "config/db/port", "5432")
		mustSet(t, b, "config/name", "app")
		mustSet(t, b, "top", "")
	})
	tr := tree.New(ns(s), h)
	v, err := tr.Get(ctx, p("config/db/host"))
	if err != nil || string(v) != "db1" {
		t.Fatalf("get = %q, %v", v, err)
	}
	es, err := tr.List(ctx, p("config"), tree.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]tree.Entry{{Name: "db", Dir: true}, {Name: "name"}}, es); diff != "" {
		t.Error(diff)
	}
	for _, missing := range []string{"config/db", "nope", "config/db/host/x", "top/x"} {
		if _, err := tr.Get(ctx, p(missing)); !errors.Is(err, backend.ErrNotFound) {
			t.Errorf("get %q: %v, want ErrNotFound", missing, err)
		}
	}
	if _, err := tr.List(ctx, p("top"), tree.Page{}); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("list of a value: %v", err)
	}
	// Deleting the last entries of a directory removes it, up the chain.
	h2 := build(t, s, h, func(b *tree.Builder) {
		for _, path := range []string{"config/db/host", "config/db/port"} {
			if ok, err := b.Delete(ctx, p(path)); !ok || err != nil {
				t.Fatalf("delete %s: %v %v", path, ok, err)
			}
		}
		if ok, err := b.Delete(ctx, p("config/db/host")); ok || err != nil {
			t.Fatalf("second delete: %v %v", ok, err)
		}
	})
	es, err = tree.New(ns(s), h2).List(ctx, p("config"), tree.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]tree.Entry{{Name: "name"}}, es); diff != "" {
		t.Error(diff)
	}
	if _, err := tree.New(ns(s), h2).List(ctx, p("config/db"), tree.Page{}); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("list removed dir: %v", err)
	}
}

func TestValueDirectoryClash(t *testing.T) {
	s := mem.New()
	h := build(t, s, node.Empty, func(b *tree.Builder) { mustSet(t, b, "a/b", "1") })
	b := tree.New(ns(s), h).Builder()
	if err := b.Set(ctx, p("a"), []byte("x")); !errors.Is(err, tree.ErrInvalidPath) || !errors.Is(err, tree.ErrNotDir) {
		t.Errorf("set over a directory: %v", err)
	}
	if err := b.Set(ctx, p("a/b/c"), []byte("x")); !errors.Is(err, tree.ErrInvalidPath) {
		t.Errorf("set below a value: %v", err)
	}
	if err := b.Set(ctx, nil, []byte("x")); !errors.Is(err, tree.ErrInvalidPath) {
		t.Errorf("set at the root: %v", err)
	}
	// Once the directory is emptied, a value may take its place.
	if _, err := b.Delete(ctx, p("a/b")); err != nil {
		t.Fatal(err)
	}
	if err := b.Set(ctx, p("a"), []byte("x")); err != nil {
		t.Errorf("set where an emptied directory was: %v", err)
	}
}

// TestHashIndependentOfOrder writes the same final contents in many orders,
// with detours (values set then deleted, directories emptied, several
// writes), and checks that the root hash is always the same.
func TestHashIndependentOfOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(seedOf(t), 0))
	s := mem.New()
	final := map[string]string{}
	for i := 0; i < 300; i++ {
		final[fmt.Sprintf("d%d/e%d/k%d", r.IntN(5), r.IntN(5), i)] = fmt.Sprint(r.IntN(10))
	}
	keys := make([]string, 0, len(final))
	for k := range final {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := build(t, s, node.Empty, func(b *tree.Builder) {
		for _, k := range keys {
			mustSet(t, b, k, final[k])
		}
	})
	for round := 0; round < 20; round++ {
		r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		h := node.Empty
		b := tree.New(ns(s), h).Builder()
		for i, k := range keys {
			if r.IntN(4) == 0 { // a detour: a value that will not survive
				mustSet(t, b, "tmp/x/"+k, "gone")
			}
			mustSet(t, b, k, "wrong")
			mustSet(t, b, k, final[k])
			if r.IntN(50) == 0 || i == len(keys)-1 {
				if _, err := b.Delete(ctx, p("tmp")); err != nil {
					t.Fatal(err)
				}
				var err error
				if h, err = b.Write(ctx); err != nil {
					t.Fatal(err)
				}
				b = tree.New(ns(s), h).Builder()
			}
		}
		if h != want {
			t.Fatalf("round %d: root %s, want %s", round, h.Short(), want.Short())
		}
	}
	if diff := cmp.Diff(final, dump(t, s, want)); diff != "" {
		t.Error(diff)
	}
}

func TestWriteOnlyChangedNodes(t *testing.T) {
	c := &counting{ObjectStore: mem.New()}
	h := build(t, c, node.Empty, func(b *tree.Builder) {
		for i := 0; i < 100; i++ {
			mustSet(t, b, fmt.Sprintf("a/b%d/c%d", i%10, i), "v")
		}
	})
	c.puts.Store(0)
	build(t, c, h, func(b *tree.Builder) { mustSet(t, b, "a/b3/new", "x") })
	// the nodes a/b3, a, root; the small value is inline
	if got := c.puts.Load(); got != 3 {
		t.Errorf("put %d objects for a one-value change, want 3", got)
	}
	c.puts.Store(0)
	build(t, c, h, func(b *tree.Builder) { mustSet(t, b, "a/b3/new", strings.Repeat("x", node.MaxInline+1)) })
	// one contents object, and the nodes a/b3, a, root
	if got := c.puts.Load(); got != 4 {
		t.Errorf("put %d objects for a one-large-value change, want 4", got)
	}
}

func TestDiff(t *testing.T) {
	s := mem.New()
	a := build(t, s, node.Empty, func(b *tree.Builder) {
		mustSet(t, b, "same/x", "1")
		mustSet(t, b, "mod", "1")
		mustSet(t, b, "gone", "1")
		mustSet(t, b, "a", "value becomes dir")
		mustSet(t, b, "a.txt", "1")
		mustSet(t, b, "d/e/f", "dir becomes value")
	})
	bh := build(t, s, a, func(b *tree.Builder) {
		mustSet(t, b, "mod", "2")
		b.Delete(ctx, p("gone"))
		b.Delete(ctx, p("a"))
		mustSet(t, b, "a/x", "1")
		b.Delete(ctx, p("d"))
		mustSet(t, b, "d", "v")
		mustSet(t, b, "new/deep/y", "1")
	})
	got, err := tree.Diff(ctx, ns(s), a, bh)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Op   string
		Path string
	}
	var rows []row
	for _, c := range got {
		rows = append(rows, row{c.Op.String(), c.Path})
	}
	want := []row{
		{"remove", "a"}, {"add", "a/x"}, {"add", "d"}, {"remove", "d/e/f"}, {"remove", "gone"},
		{"modify", "mod"}, {"add", "new/deep/y"},
	}
	// "a.txt" is unchanged; sorted by path bytes, so "a" < "a/x".
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Error(diff)
	}
	for _, c := range got {
		if c.Op == tree.Modified {
			old, _ := tree.Bytes(ctx, s, c.Old, c.Path)
			nw, _ := tree.Bytes(ctx, s, c.New, c.Path)
			if string(old) != "1" || string(nw) != "2" {
				t.Errorf("modify values %q -> %q", old, nw)
			}
		}
	}
	if d, _ := tree.Diff(ctx, ns(s), a, a); len(d) != 0 {
		t.Errorf("diff of a tree with itself: %v", d)
	}
}

// TestDiffSkipsEqualSubtrees checks that a diff reads only the nodes on the
// changed path, not the unchanged directories beside it.
func TestDiffSkipsEqualSubtrees(t *testing.T) {
	c := &counting{ObjectStore: mem.New()}
	a := build(t, c, node.Empty, func(b *tree.Builder) {
		for i := 0; i < 1000; i++ {
			mustSet(t, b, fmt.Sprintf("d%d/e%d/k%d", i%20, i%7, i), "v")
		}
	})
	bh := build(t, c, a, func(b *tree.Builder) { mustSet(t, b, "d3/e3/k3", "changed") })
	c.gets.Store(0)
	d, err := tree.Diff(ctx, ns(c), a, bh)
	if err != nil || len(d) != 1 || d[0].Path != "d3/e3/k3" {
		t.Fatalf("diff = %v, %v", d, err)
	}
	// root, d3, d3/e3 on each side
	if got := c.gets.Load(); got != 6 {
		t.Errorf("diff read %d objects, want 6", got)
	}
}

// TestRandomAgainstModel applies random operations to a Builder and a map,
// checking reads through the builder and the written tree.
func TestRandomAgainstModel(t *testing.T) {
	r := rand.New(rand.NewPCG(seedOf(t), 1))
	s := mem.New()
	model := map[string]string{}
	h := node.Empty
	b := tree.New(ns(s), h).Builder()
	names := []string{"a", "b", "c"}
	randPath := func() string {
		n := 1 + r.IntN(3)
		segs := make([]string, n)
		for i := range segs {
			segs[i] = names[r.IntN(len(names))]
		}
		return strings.Join(segs, "/")
	}
	isPrefixOfKey := func(path string) bool {
		for k := range model {
			if strings.HasPrefix(k, path+"/") {
				return true
			}
		}
		return false
	}
	hasValueAbove := func(path string) bool {
		segs := strings.Split(path, "/")
		for i := 1; i < len(segs); i++ {
			if _, ok := model[strings.Join(segs[:i], "/")]; ok {
				return true
			}
		}
		return false
	}
	for step := 0; step < 3000; step++ {
		path := randPath()
		switch r.IntN(4) {
		case 0, 1:
			v := fmt.Sprint(r.IntN(3))
			err := b.Set(ctx, p(path), []byte(v))
			wantErr := isPrefixOfKey(path) || hasValueAbove(path)
			if (err != nil) != wantErr {
				t.Fatalf("step %d: set %s: err %v, want error %v", step, path, err, wantErr)
			}
			if err == nil {
				model[path] = v
			}
		case 2:
			ok, err := b.Delete(ctx, p(path))
			if err != nil {
				t.Fatal(err)
			}
			_, had := model[path]
			had = had || isPrefixOfKey(path)
			if ok != had {
				t.Fatalf("step %d: delete %s reported %v, model had %v", step, path, ok, had)
			}
			for k := range model {
				if k == path || strings.HasPrefix(k, path+"/") {
					delete(model, k)
				}
			}
		case 3:
			var err error
			if h, err = b.Write(ctx); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(model, dump(t, s, h)); diff != "" {
				t.Fatalf("step %d: stored tree differs from model: %s", step, diff)
			}
			b = tree.New(ns(s), h).Builder()
		}
		v, err := b.Get(ctx, p(path))
		if want, ok := model[path]; ok {
			if err != nil || string(v) != want {
				t.Fatalf("step %d: get %s = %q, %v; want %q", step, path, v, err, want)
			}
		} else if !errors.Is(err, backend.ErrNotFound) {
			t.Fatalf("step %d: get %s = %q, %v; want ErrNotFound", step, path, v, err)
		}
	}
}
