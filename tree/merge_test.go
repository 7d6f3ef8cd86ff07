package tree_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// mval is a model value.
type mval struct {
	kind contents.Kind
	data string
}

// buildFrom writes the tree holding model m from scratch.
func buildFrom(t *testing.T, st *node.Store, m map[string]mval) backend.Hash {
	t.Helper()
	return edit(t, st, node.Empty, nil, m)
}

// edit applies to tree h the changes that turn model from into model to.
func edit(t *testing.T, st *node.Store, h backend.Hash, from, to map[string]mval) backend.Hash {
	t.Helper()
	b := tree.New(st, h).Builder()
	for k := range from {
		if _, ok := to[k]; !ok {
			if _, err := b.Delete(ctx, p(k)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for k, v := range to {
		if old, ok := from[k]; ok && old == v {
			continue
		}
		if err := b.SetContents(ctx, p(k), contents.Contents{Kind: v.kind, Data: []byte(v.data)}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := b.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dumpKinds returns every value of a stored tree with its kind.
func dumpKinds(t *testing.T, st *node.Store, root backend.Hash) map[string]mval {
	t.Helper()
	out := map[string]mval{}
	tr := tree.New(st, root)
	var walk func(prefix []string)
	walk = func(prefix []string) {
		es, err := tr.List(ctx, prefix, tree.Page{})
		if err != nil {
			t.Fatalf("list %v: %v", prefix, err)
		}
		for _, e := range es {
			path := append(append([]string{}, prefix...), e.Name)
			if e.Dir {
				walk(path)
				continue
			}
			c, err := tr.GetContents(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			out[strings.Join(path, "/")] = mval{c.Kind, string(c.Data)}
		}
	}
	walk(nil)
	return out
}

func merge(t *testing.T, st *node.Store, b, o, th backend.Hash, opts *tree.MergeOptions) *tree.MergeResult {
	t.Helper()
	r, err := tree.Merge(ctx, st, b, o, th, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Objects().Put(ctx, r.Objects); err != nil {
		t.Fatal(err)
	}
	return r
}

// modelMerge merges three models path by path, as Merge must for trees in
// which no path is both a value and a directory: counters add up, every
// other pair of different changes conflicts.
func modelMerge(b, o, th map[string]mval) (map[string]mval, []string) {
	out := map[string]mval{}
	var conflicts []string
	keys := map[string]bool{}
	for _, m := range []map[string]mval{b, o, th} {
		for k := range m {
			keys[k] = true
		}
	}
	for k := range keys {
		bv, inB := b[k]
		ov, inO := o[k]
		tv, inT := th[k]
		var rv mval
		var in bool
		counters := inO && inT && ov.kind == contents.KindCounter && tv.kind == contents.KindCounter
		switch {
		case inO == inT && ov == tv && !counters:
			rv, in = ov, inO
		case inB == inO && bv == ov:
			rv, in = tv, inT
		case inB == inT && bv == tv:
			rv, in = ov, inO
		case counters: // every change counts, even two equal ones
			var base int64
			if inB && bv.kind == contents.KindCounter {
				base, _ = strconv.ParseInt(bv.data, 10, 64)
			}
			x, _ := strconv.ParseInt(ov.data, 10, 64)
			y, _ := strconv.ParseInt(tv.data, 10, 64)
			rv, in = mval{contents.KindCounter, strconv.FormatInt(x+y-base, 10)}, true
		default:
			conflicts = append(conflicts, k)
			continue
		}
		if in {
			out[k] = rv
		}
	}
	sort.Strings(conflicts)
	return out, conflicts
}

// TestMergeAgainstModel merges random pairs of trees, each made by random
// edits of a random base, and compares the result with a path-by-path
// model merge: the same conflicts, and when there are none the same values
// and the same root hash as the merged tree built from scratch (the merge
// result is canonical). The trees have large directories (index tries),
// nested directories, long values (contents objects) and counters.
func TestMergeAgainstModel(t *testing.T) {
	s := seedOf(t)
	r := rand.New(rand.NewPCG(s, 11))
	st := node.NewStore(mem.New(), 8<<20)
	var paths []string
	for _, n := range randomNames(r, 400) {
		paths = append(paths, "big/"+n)
	}
	for i := 0; i < 20; i++ {
		paths = append(paths, fmt.Sprintf("d0/k%02d", i), fmt.Sprintf("d1/x/k%02d", i), fmt.Sprintf("d1/y%02d", i))
	}
	for i := 0; i < 5; i++ {
		paths = append(paths, fmt.Sprintf("v%d", i))
	}
	var counters []string
	for i := 0; i < 5; i++ {
		counters = append(counters, fmt.Sprintf("c/n%d", i))
	}
	value := func(path string) mval {
		if strings.HasPrefix(path, "c/") {
			return mval{contents.KindCounter, strconv.Itoa(r.IntN(20) - 5)}
		}
		if r.IntN(4) == 0 {
			return mval{contents.KindRaw, strings.Repeat("long value ", 4) + strconv.Itoa(r.IntN(3))}
		}
		return mval{contents.KindRaw, strconv.Itoa(r.IntN(3))}
	}
	mutate := func(m map[string]mval, n int) map[string]mval {
		out := map[string]mval{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < n; i++ {
			k := paths[r.IntN(len(paths))]
			if r.IntN(6) == 0 {
				k = counters[r.IntN(len(counters))]
			}
			if r.IntN(3) == 0 {
				delete(out, k)
			} else {
				out[k] = value(k)
			}
		}
		// Sometimes remove a whole directory.
		if r.IntN(8) == 0 {
			dir := []string{"d0/", "d1/", "big/"}[r.IntN(3)]
			for k := range out {
				if strings.HasPrefix(k, dir) {
					delete(out, k)
				}
			}
		}
		return out
	}
	clean := 0
	for round := 0; round < 60; round++ {
		base := mutate(nil, r.IntN(600))
		ours, theirs := mutate(base, r.IntN(40)), mutate(base, r.IntN(40))
		if r.IntN(5) == 0 {
			theirs = mutate(base, r.IntN(400)) // one big change
		}
		bh := buildFrom(t, st, base)
		oh := edit(t, st, bh, base, ours)
		th := edit(t, st, bh, base, theirs)
		want, wantConflicts := modelMerge(base, ours, theirs)
		res := merge(t, st, bh, oh, th, nil)
		var gotConflicts []string
		for _, c := range res.Conflicts {
			gotConflicts = append(gotConflicts, c.Path)
		}
		if diff := cmp.Diff(wantConflicts, gotConflicts); diff != "" {
			t.Fatalf("round %d: conflicts (-model +merge):\n%s", round, diff)
		}
		if len(wantConflicts) > 0 {
			for _, c := range res.Conflicts {
				bv, inB := base[c.Path]
				if (c.Base != nil) != inB || inB && string(c.Base.Data) != bv.data {
					t.Fatalf("round %d: conflict %s: base %v, model %v", round, c.Path, c.Base, bv)
				}
				want := tree.ConflictContent
				if _, ok := ours[c.Path]; !ok {
					want = tree.ConflictDelete
				}
				if _, ok := theirs[c.Path]; !ok {
					want = tree.ConflictDelete
				}
				if c.Reason != want && c.Reason != tree.ConflictType {
					t.Fatalf("round %d: conflict %s is %s, want %s", round, c.Path, c.Reason, want)
				}
			}
			continue
		}
		clean++
		if diff := cmp.Diff(want, dumpKinds(t, st, res.Root), cmp.AllowUnexported(mval{})); diff != "" {
			t.Fatalf("round %d: merged tree (-model +merge):\n%s", round, diff)
		}
		if fresh := buildFrom(t, st, want); fresh != res.Root {
			t.Fatalf("round %d: merged root %s, the same tree built from scratch is %s", round, res.Root.Short(), fresh.Short())
		}
		// Merging the other way round gives the same tree.
		if back := merge(t, st, bh, th, oh, nil); back.Root != res.Root {
			t.Fatalf("round %d: merge is not symmetric", round)
		}
	}
	t.Logf("%d of 60 rounds merged without conflict", clean)
	if clean < 10 {
		t.Errorf("only %d of 60 rounds merged without conflict", clean)
	}
}

// TestMergeStructure covers values against directories and removed
// directories.
func TestMergeStructure(t *testing.T) {
	st := node.NewStore(mem.New(), -1)
	raw := func(s string) mval { return mval{contents.KindRaw, s} }
	for _, tc := range []struct {
		name               string
		base, ours, theirs map[string]mval
		want               map[string]mval
		conflicts          []string
		kind               tree.ConflictReason
		prefer             contents.Side
	}{
		{name: "value against directory", base: map[string]mval{"x": raw("1")},
			ours: map[string]mval{"x": raw("1"), "a": raw("v")}, theirs: map[string]mval{"x": raw("1"), "a/b": raw("w")},
			conflicts: []string{"a"}, kind: tree.ConflictDirectory},
		{name: "value against directory, prefer theirs", base: map[string]mval{"x": raw("1")},
			ours: map[string]mval{"x": raw("1"), "a": raw("v")}, theirs: map[string]mval{"x": raw("1"), "a/b": raw("w")},
			prefer: contents.Theirs, want: map[string]mval{"x": raw("1"), "a/b": raw("w")}},
		{name: "both replace a value by directories", base: map[string]mval{"a": raw("1")},
			ours: map[string]mval{"a/b": raw("1")}, theirs: map[string]mval{"a/c": raw("2")},
			want: map[string]mval{"a/b": raw("1"), "a/c": raw("2")}},
		{name: "one removes a value, the other makes it a directory", base: map[string]mval{"a": raw("1"), "z": raw("z")},
			ours: map[string]mval{"z": raw("z")}, theirs: map[string]mval{"a/c": raw("2"), "z": raw("z")},
			want: map[string]mval{"a/c": raw("2"), "z": raw("z")}},
		{name: "removed directory against a change inside", base: map[string]mval{"d/x": raw("1"), "d/y": raw("1"), "z": raw("z")},
			ours: map[string]mval{"z": raw("z")}, theirs: map[string]mval{"d/x": raw("2"), "d/y": raw("1"), "z": raw("z")},
			conflicts: []string{"d/x"}, kind: tree.ConflictDelete},
		{name: "removed directory against a change inside, prefer theirs", base: map[string]mval{"d/x": raw("1"), "d/y": raw("1"), "z": raw("z")},
			ours: map[string]mval{"z": raw("z")}, theirs: map[string]mval{"d/x": raw("2"), "d/y": raw("1"), "z": raw("z")},
			prefer: contents.Theirs, want: map[string]mval{"d/x": raw("2"), "z": raw("z")}},
		{name: "removed directory against an addition inside", base: map[string]mval{"d/x": raw("1"), "z": raw("z")},
			ours: map[string]mval{"z": raw("z")}, theirs: map[string]mval{"d/x": raw("1"), "d/new": raw("n"), "z": raw("z")},
			want: map[string]mval{"d/new": raw("n"), "z": raw("z")}},
		{name: "everything removed on both sides", base: map[string]mval{"d/x": raw("1")},
			ours: map[string]mval{}, theirs: map[string]mval{}, want: map[string]mval{}},
		{name: "removed on one side, changed on the other", base: map[string]mval{"a": raw("1"), "b": raw("1")},
			ours: map[string]mval{"b": raw("1")}, theirs: map[string]mval{"a": raw("2"), "b": raw("1")},
			conflicts: []string{"a"}, kind: tree.ConflictDelete},
		{name: "kinds differ", base: map[string]mval{"a": raw("1")},
			ours: map[string]mval{"a": {contents.KindCounter, "1"}}, theirs: map[string]mval{"a": {contents.KindText, "1"}},
			conflicts: []string{"a"}, kind: tree.ConflictType},
		{name: "prefer base", base: map[string]mval{"a": raw("1"), "b": raw("1")},
			ours: map[string]mval{"a": raw("2")}, theirs: map[string]mval{"a": raw("3"), "b": raw("1"), "c": raw("new")},
			prefer: contents.Base, want: map[string]mval{"a": raw("1"), "c": raw("new")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bh := buildFrom(t, st, tc.base)
			res := merge(t, st, bh, buildFrom(t, st, tc.ours), buildFrom(t, st, tc.theirs), &tree.MergeOptions{Prefer: tc.prefer})
			var got []string
			for _, c := range res.Conflicts {
				got = append(got, c.Path)
				if c.Reason != tc.kind {
					t.Errorf("conflict %s is %s (%s), want %s", c.Path, c.Reason, c.Detail, tc.kind)
				}
			}
			if diff := cmp.Diff(tc.conflicts, got); diff != "" {
				t.Fatalf("conflicts: %s", diff)
			}
			if tc.conflicts != nil {
				return
			}
			if diff := cmp.Diff(tc.want, dumpKinds(t, st, res.Root), cmp.AllowUnexported(mval{})); diff != "" {
				t.Errorf("merged tree: %s", diff)
			}
			if fresh := buildFrom(t, st, tc.want); fresh != res.Root {
				t.Errorf("merged root %s is not canonical (%s)", res.Root.Short(), fresh.Short())
			}
		})
	}
}

// TestMergeCallbacks: Func merges the paths it claims, Resolve settles
// conflicts its own way or leaves them.
func TestMergeCallbacks(t *testing.T) {
	st := node.NewStore(mem.New(), -1)
	raw := func(s string) mval { return mval{contents.KindRaw, s} }
	base := map[string]mval{"cfg/a": raw("1"), "cfg/b": raw("1"), "x": raw("1"), "y": raw("1"), "z": raw("1")}
	ours := map[string]mval{"cfg/a": raw("2"), "cfg/b": raw("2"), "x": raw("2"), "y": raw("2"), "z": raw("2")}
	theirs := map[string]mval{"cfg/a": raw("3"), "cfg/b": raw("3"), "x": raw("3"), "y": raw("3")}
	bh, oh, th := buildFrom(t, st, base), buildFrom(t, st, ours), buildFrom(t, st, theirs)
	var seen []string
	res := merge(t, st, bh, oh, th, &tree.MergeOptions{
		Func: func(_ context.Context, path string, b, o, th *contents.Contents) (*contents.Contents, bool, error) {
			switch path {
			case "cfg/a": // concatenate
				return &contents.Contents{Data: append(append([]byte{}, o.Data...), th.Data...)}, true, nil
			case "cfg/b":
				return nil, false, fmt.Errorf("cfg/b is mine: %w", backend.ErrConflict)
			}
			return nil, false, nil
		},
		Resolve: func(_ context.Context, c tree.Conflict) (tree.Resolution, bool, error) {
			seen = append(seen, c.Path+" "+c.Reason.String()+" "+c.Detail)
			switch c.Path {
			case "x":
				return tree.Resolution{Keep: contents.Theirs}, true, nil
			case "y":
				return tree.Resolution{Value: &contents.Contents{Kind: contents.KindCounter, Data: []byte("+9")}}, true, nil
			case "z":
				return tree.Resolution{}, true, nil // remove
			}
			return tree.Resolution{}, false, nil
		},
	})
	wantSeen := []string{
		"cfg/b content cfg/b is mine: conflict",
		"x content changed differently on both sides",
		"y content changed differently on both sides",
		"z delete changed on ours, removed on theirs",
	}
	if diff := cmp.Diff(wantSeen, seen); diff != "" {
		t.Errorf("resolver saw: %s", diff)
	}
	if len(res.Conflicts) != 1 || res.Conflicts[0].Path != "cfg/b" {
		t.Fatalf("conflicts %+v", res.Conflicts)
	}
	// With cfg/b settled by Prefer, the rest is as the callbacks said.
	res = merge(t, st, bh, oh, th, &tree.MergeOptions{
		Func: func(_ context.Context, path string, b, o, th *contents.Contents) (*contents.Contents, bool, error) {
			if path == "cfg/a" {
				return &contents.Contents{Data: append(append([]byte{}, o.Data...), th.Data...)}, true, nil
			}
			return nil, false, nil
		},
		Prefer: contents.Ours,
	})
	want := map[string]mval{"cfg/a": raw("23"), "cfg/b": raw("2"), "x": raw("2"), "y": raw("2"), "z": raw("2")}
	if diff := cmp.Diff(want, dumpKinds(t, st, res.Root), cmp.AllowUnexported(mval{})); diff != "" {
		t.Errorf("merged tree: %s", diff)
	}
	// An error that is not a conflict stops the merge.
	boom := errors.New("boom")
	_, err := tree.Merge(ctx, st, bh, oh, th, &tree.MergeOptions{
		Func: func(context.Context, string, *contents.Contents, *contents.Contents, *contents.Contents) (*contents.Contents, bool, error) {
			return nil, false, boom
		},
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v", err)
	}
}

// TestMergeUnstored merges a Builder's output that was never stored: the
// result carries the objects it needs.
func TestMergeUnstored(t *testing.T) {
	st := node.NewStore(mem.New(), -1)
	raw := func(s string) mval { return mval{contents.KindRaw, s} }
	base := map[string]mval{"a/x": raw("1"), "b/y": raw("1")}
	bh := buildFrom(t, st, base)
	oh := edit(t, st, bh, base, map[string]mval{"a/x": raw("2"), "b/y": raw("1")})
	b := tree.New(st, bh).Builder()
	long := strings.Repeat("a long value ", 5)
	mustSet(t, b, "b/y", long)
	mustSet(t, b, "c/z", long+"!")
	objs, th, err := b.Objects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res := merge(t, st, bh, oh, th, &tree.MergeOptions{Unstored: objs})
	want := map[string]mval{"a/x": raw("2"), "b/y": raw(long), "c/z": raw(long + "!")}
	if diff := cmp.Diff(want, dumpKinds(t, st, res.Root), cmp.AllowUnexported(mval{})); diff != "" {
		t.Errorf("merged tree: %s", diff)
	}
}

// TestMergeCost: merging two changes of ten values each in a directory of
// 100,000 entries reads and writes a bounded number of objects.
func TestMergeCost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100,000-entry directory")
	}
	c := &counting{ObjectStore: mem.New()}
	st := node.NewStore(c, 64<<20)
	b := tree.Empty(st).Builder()
	for i := 0; i < 100000; i++ {
		mustSet(t, b, fmt.Sprintf("d/k%08d", i*7), "v")
	}
	bh, err := b.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	change := func(tag string, off int) backend.Hash {
		b := tree.New(st, bh).Builder()
		for i := 0; i < 10; i++ {
			mustSet(t, b, fmt.Sprintf("d/k%08d", (i*9973+off)*7), tag)
		}
		h, err := b.Write(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	oh, th := change("ours", 0), change("theirs", 5000)
	c.gets.Store(0)
	cold := node.NewStore(c, 64<<20)
	res, err := tree.Merge(ctx, cold, bh, oh, th, nil)
	if err != nil || len(res.Conflicts) > 0 {
		t.Fatal(err, res.Conflicts)
	}
	if got := c.gets.Load(); got > 300 {
		t.Errorf("the merge read %d objects", got)
	}
	if got := len(res.Objects); got > 60 {
		t.Errorf("the merge made %d objects", got)
	}
	if err := c.Put(ctx, res.Objects); err != nil {
		t.Fatal(err)
	}
	d, err := tree.Diff(ctx, st, oh, res.Root)
	if err != nil || len(d) != 10 {
		t.Fatalf("merged tree differs from ours in %d values, want 10 (%v)", len(d), err)
	}
	for _, ch := range d {
		if v, _ := tree.Bytes(ctx, c, ch.New, ch.Path); string(v) != "theirs" {
			t.Errorf("%s = %q", ch.Path, v)
		}
	}
}
