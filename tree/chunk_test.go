package tree_test

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// randomNames returns n distinct entry names drawn to stress the trie:
// shared prefixes, names that are prefixes of others, numbers, and a few
// arbitrary bytes.
func randomNames(r *rand.Rand, n int) []string {
	seen := map[string]bool{}
	var out []string
	stems := []string{"k", "key", "key0", "user:", "a", "ab", "abc", "é", "\xff", "z"}
	for len(out) < n {
		var s string
		switch r.IntN(5) {
		case 0:
			s = fmt.Sprintf("key%06d", r.IntN(1000000))
		case 1:
			s = stems[r.IntN(len(stems))] + strings.Repeat("a", r.IntN(4))
		case 2:
			s = fmt.Sprintf("%x", r.Uint32())
		case 3:
			b := make([]byte, 1+r.IntN(6))
			for i := range b {
				b[i] = byte(1 + r.IntN(255))
				if b[i] == '/' {
					b[i] = '_'
				}
			}
			s = string(b)
		default:
			s = stems[r.IntN(len(stems))] + fmt.Sprint(r.IntN(300))
		}
		if s == "." || s == ".." || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// checkDir walks the directory object h and checks the canonical-form
// invariants that a single object cannot show: every node within bounds,
// every name under an index child starting with prefix+byte, counts adding
// up. It returns the directory's names in order.
func checkDir(t *testing.T, st *node.Store, h backend.Hash, prefix string) []string {
	t.Helper()
	d, err := st.Load(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if d.Leaf != nil {
		var names []string
		for _, e := range d.Leaf.Entries() {
			if !strings.HasPrefix(e.Name, prefix) {
				t.Fatalf("name %q in a part for prefix %q", e.Name, prefix)
			}
			names = append(names, e.Name)
		}
		if len(names) > node.MaxEntries {
			t.Fatalf("node with %d entries", len(names))
		}
		return names
	}
	x := d.Index
	if !strings.HasPrefix(x.Prefix, prefix) {
		t.Fatalf("index prefix %q under %q", x.Prefix, prefix)
	}
	var names []string
	if x.Self != nil {
		names = append(names, x.Self.Name)
	}
	for c := range x.Children() {
		sub := checkDir(t, st, c.Hash, x.Prefix+string([]byte{c.Byte}))
		if len(sub) != int(c.Count) {
			t.Fatalf("child %q counts %d, holds %d", x.Prefix+string([]byte{c.Byte}), c.Count, len(sub))
		}
		names = append(names, sub...)
	}
	if len(names) != int(x.Count) || len(names) <= node.MaxEntries {
		t.Fatalf("index %q: count %d, holds %d", x.Prefix, x.Count, len(names))
	}
	if lcp := commonPrefix(names); lcp != x.Prefix {
		t.Fatalf("index prefix %q, but the names' longest common prefix is %q", x.Prefix, lcp)
	}
	return names
}

func commonPrefix(names []string) string {
	p := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}

// TestLargeDirectoryCanonical builds one directory from random names in
// random orders and batches, growing it past node.MaxEntries and shrinking
// it back, with detours; after every batch its root hash must equal the
// hash of the same set built at once, and the structure must be canonical.
func TestLargeDirectoryCanonical(t *testing.T) {
	s := seedOf(t)
	r := rand.New(rand.NewPCG(s, 3))
	st := node.NewStore(mem.New(), 1<<20)
	pool := randomNames(r, 1500)
	fresh := func(set map[string]string) backend.Hash {
		b := tree.Empty(st).Builder()
		for name, v := range set {
			mustSet(t, b, "d/"+name, v)
		}
		h, err := b.Write(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	model := map[string]string{}
	h := node.Empty
	for round := 0; round < 60; round++ {
		b := tree.New(st, h).Builder()
		// Grow for a while, then shrink, then grow again.
		grow := round%20 < 12
		for i, n := 0, 1+r.IntN(200); i < n; i++ {
			name := pool[r.IntN(len(pool))]
			if grow || r.IntN(4) == 0 {
				v := fmt.Sprint(r.IntN(3))
				mustSet(t, b, "d/"+name, v)
				model[name] = v
			} else {
				if _, err := b.Delete(ctx, []string{"d", name}); err != nil {
					t.Fatal(err)
				}
				delete(model, name)
			}
		}
		if n, err := b.Len(ctx, p("d")); len(model) > 0 && (err != nil || n != len(model)) {
			t.Fatalf("round %d: builder Len = %d, %v; want %d", round, n, err, len(model))
		}
		var err error
		if h, err = b.Write(ctx); err != nil {
			t.Fatal(err)
		}
		if want := fresh(model); h != want {
			t.Fatalf("round %d (%d entries): root %s after edits, %s built at once", round, len(model), h.Short(), want.Short())
		}
		if len(model) == 0 {
			continue
		}
		dh, isDir, err := tree.New(st, h).SubtreeHash(ctx, p("d"))
		if err != nil || !isDir {
			t.Fatal(err)
		}
		names := checkDir(t, st, dh, "")
		want := make([]string, 0, len(model))
		for k := range model {
			want = append(want, k)
		}
		sort.Strings(want)
		if diff := cmp.Diff(want, names); diff != "" {
			t.Fatalf("round %d: names differ: %s", round, diff)
		}
		if n, err := tree.New(st, h).Len(ctx, p("d")); err != nil || n != len(model) {
			t.Fatalf("round %d: Len = %d, %v; want %d", round, n, err, len(model))
		}
	}
}

// TestPagination checks List with After and Limit against a sorted model,
// on stored trees and through a Builder with pending changes.
func TestPagination(t *testing.T) {
	s := seedOf(t)
	r := rand.New(rand.NewPCG(s, 4))
	st := node.NewStore(mem.New(), 1<<20)
	names := randomNames(r, 2000)
	b := tree.Empty(st).Builder()
	for i, n := range names {
		if i%7 == 0 {
			mustSet(t, b, "d/"+n+"/sub", "x")
		} else {
			mustSet(t, b, "d/"+n, "v")
		}
	}
	h, err := b.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sorted := append([]string{}, names...)
	sort.Strings(sorted)
	check := func(lister func(tree.Page) ([]tree.Entry, error), model []string, what string) {
		t.Helper()
		for i := 0; i < 200; i++ {
			var pg tree.Page
			if r.IntN(5) > 0 {
				if r.IntN(2) == 0 {
					pg.After = model[r.IntN(len(model))]
				} else {
					pg.After = randomNames(r, 1)[0] // not necessarily present
				}
			}
			pg.Limit = r.IntN(150)
			got, err := lister(pg)
			if err != nil {
				t.Fatal(err)
			}
			start := sort.SearchStrings(model, pg.After)
			if start < len(model) && model[start] == pg.After {
				start++
			}
			if pg.After == "" {
				start = 0
			}
			end := len(model)
			if pg.Limit > 0 && start+pg.Limit < end {
				end = start + pg.Limit
			}
			var gotNames []string
			for _, e := range got {
				gotNames = append(gotNames, e.Name)
			}
			want := model[start:end]
			if len(want) == 0 {
				want = nil
			}
			if diff := cmp.Diff(want, gotNames); diff != "" {
				t.Fatalf("%s: after %q limit %d: %s", what, pg.After, pg.Limit, diff)
			}
		}
	}
	check(func(pg tree.Page) ([]tree.Entry, error) { return tree.New(st, h).List(ctx, p("d"), pg) }, sorted, "stored")

	// Pending changes: delete some, add some.
	b = tree.New(st, h).Builder()
	model := map[string]bool{}
	for _, n := range sorted {
		model[n] = true
	}
	for i := 0; i < 300; i++ {
		n := sorted[r.IntN(len(sorted))]
		if _, err := b.Delete(ctx, []string{"d", n}); err != nil {
			t.Fatal(err)
		}
		delete(model, n)
	}
	for _, n := range randomNames(r, 300) {
		if !model[n] {
			mustSet(t, b, "d/"+n, "new")
			model[n] = true
		}
	}
	var pending []string
	for n := range model {
		pending = append(pending, n)
	}
	sort.Strings(pending)
	check(func(pg tree.Page) ([]tree.Entry, error) { return b.List(ctx, p("d"), pg) }, pending, "builder")
}

// TestLargeDirectoryCosts checks that work on a directory of 100,000
// entries touches O(depth) objects: a set writes a handful, a page of 100
// names reads a handful, a diff of 10 changes reads a bounded number.
func TestLargeDirectoryCosts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100,000-entry directory")
	}
	c := &counting{ObjectStore: mem.New()}
	// Each measured operation starts with a cold cache, so the counts are
	// the distinct objects it needs.
	cold := func() *node.Store { return node.NewStore(c, 64<<20) }
	st := cold()
	b := tree.Empty(st).Builder()
	for i := 0; i < 100000; i++ {
		mustSet(t, b, fmt.Sprintf("d/k%08d", i*7), "v")
	}
	h, err := b.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.puts.Store(0)
	c.gets.Store(0)
	b = tree.New(cold(), h).Builder()
	mustSet(t, b, "d/k00350000", "changed")
	h2, err := b.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.puts.Load(); got > 10 {
		t.Errorf("one set in a 100,000-entry directory wrote %d objects", got)
	}
	if got := c.gets.Load(); got > 12 {
		t.Errorf("one set in a 100,000-entry directory read %d objects", got)
	}
	c.gets.Store(0)
	es, err := tree.New(cold(), h).List(ctx, p("d"), tree.Page{Limit: 100})
	if err != nil || len(es) != 100 || es[0].Name != "k00000000" {
		t.Fatalf("first page: %d entries, %v", len(es), err)
	}
	if got := c.gets.Load(); got > 16 {
		t.Errorf("a page of 100 read %d objects", got)
	}
	c.gets.Store(0)
	es, err = tree.New(cold(), h).List(ctx, p("d"), tree.Page{After: "k00500001", Limit: 100})
	if err != nil || len(es) != 100 || es[0].Name != "k00500003" {
		t.Fatalf("middle page: %v, %v", es[:1], err)
	}
	if got := c.gets.Load(); got > 16 {
		t.Errorf("a page of 100 after a name read %d objects", got)
	}
	c.gets.Store(0)
	if n, err := tree.New(cold(), h).Len(ctx, p("d")); err != nil || n != 100000 {
		t.Fatalf("Len = %d, %v", n, err)
	}
	if got := c.gets.Load(); got > 3 {
		t.Errorf("Len read %d objects", got)
	}
	// Ten changes spread over the directory.
	b = tree.New(st, h2).Builder()
	for i := 0; i < 10; i++ {
		mustSet(t, b, fmt.Sprintf("d/k%08d", i*70000), "ten")
	}
	h3, err := b.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.gets.Store(0)
	d, err := tree.Diff(ctx, cold(), h2, h3)
	if err != nil || len(d) != 10 {
		t.Fatalf("diff: %d changes, %v", len(d), err)
	}
	if got := c.gets.Load(); got > 200 {
		t.Errorf("a diff of 10 changes read %d objects", got)
	}
}

// TestDiffLargeAgainstModel compares Diff of random large directories with
// a brute-force comparison of their contents.
func TestDiffLargeAgainstModel(t *testing.T) {
	s := seedOf(t)
	r := rand.New(rand.NewPCG(s, 5))
	st := node.NewStore(mem.New(), 1<<20)
	pool := randomNames(r, 800)
	prev, prevModel := node.Empty, map[string]string{}
	for round := 0; round < 30; round++ {
		model := map[string]string{}
		for k, v := range prevModel {
			model[k] = v
		}
		b := tree.New(st, prev).Builder()
		for i, n := 0, r.IntN(300); i < n; i++ {
			name := "d/" + pool[r.IntN(len(pool))]
			if r.IntN(3) == 0 {
				b.Delete(ctx, p(name))
				delete(model, name)
			} else {
				v := fmt.Sprint(r.IntN(4))
				mustSet(t, b, name, v)
				model[name] = v
			}
		}
		h, err := b.Write(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tree.Diff(ctx, st, prev, h)
		if err != nil {
			t.Fatal(err)
		}
		var gotRows, wantRows []string
		for _, c := range got {
			gotRows = append(gotRows, c.Op.String()+" "+c.Path)
		}
		keys := map[string]bool{}
		for k := range model {
			keys[k] = true
		}
		for k := range prevModel {
			keys[k] = true
		}
		var sorted []string
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			a, inA := prevModel[k]
			bv, inB := model[k]
			switch {
			case inA && !inB:
				wantRows = append(wantRows, "remove "+k)
			case !inA && inB:
				wantRows = append(wantRows, "add "+k)
			case a != bv:
				wantRows = append(wantRows, "modify "+k)
			}
		}
		if diff := cmp.Diff(wantRows, gotRows); diff != "" {
			t.Fatalf("round %d: %s", round, diff)
		}
		prev, prevModel = h, model
	}
}

func seedOf(t *testing.T) uint64 {
	s := rand.Uint64()
	t.Logf("seed %d", s)
	return s
}
