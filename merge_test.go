package strata_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/node"
)

func mustHash(t *testing.T) func(strata.Hash, error) strata.Hash { return must[strata.Hash](t) }

// fork makes branch name at rev.
func fork(t *testing.T, kv *strata.KV, name, rev string) {
	t.Helper()
	if err := kv.CreateBranch(ctx, name, rev); err != nil {
		t.Fatal(err)
	}
}

func set(t *testing.T, kv *strata.KV, b, path, v string) strata.Hash {
	t.Helper()
	return mustHash(t)(kv.Branch(b).Set(ctx, path, []byte(v)))
}

func mergeBase(t *testing.T, kv *strata.KV, a, b strata.Hash, opts ...strata.MergeOption) []strata.Hash {
	t.Helper()
	hs, err := kv.MergeBase(ctx, a.String(), b.String(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return hs
}

func TestMergeBaseCases(t *testing.T) {
	kv := openMem(t)
	c1 := set(t, kv, "main", "a", "1")
	c2 := set(t, kv, "main", "a", "2")
	c3 := set(t, kv, "main", "a", "3")
	// Linear: the older commit is the base, whichever way round.
	if got := mergeBase(t, kv, c1, c3); !cmp.Equal(got, []strata.Hash{c1}) {
		t.Errorf("linear: %v, want c1", got)
	}
	if got := mergeBase(t, kv, c3, c1); !cmp.Equal(got, []strata.Hash{c1}) {
		t.Errorf("linear, reversed: %v, want c1", got)
	}
	if got := mergeBase(t, kv, c2, c2); !cmp.Equal(got, []strata.Hash{c2}) {
		t.Errorf("same commit: %v", got)
	}
	// Fork.
	fork(t, kv, "x", c2.String())
	x1 := set(t, kv, "x", "x", "1")
	if got := mergeBase(t, kv, x1, c3); !cmp.Equal(got, []strata.Hash{c2}) {
		t.Errorf("fork: %v, want c2", got)
	}
	// Criss-cross: x and y each merge the other's first commit.
	fork(t, kv, "y", c2.String())
	y1 := set(t, kv, "y", "y", "1")
	x2 := mustHash(t)(kv.Merge(ctx, y1.String(), "x", strata.NoFastForward()))
	y2 := mustHash(t)(kv.Merge(ctx, x1.String(), "y", strata.NoFastForward()))
	want := []strata.Hash{x1, y1}
	sort.Slice(want, func(i, j int) bool { return bytes.Compare(want[i][:], want[j][:]) < 0 })
	if got := mergeBase(t, kv, x2, y2); !cmp.Equal(got, want) {
		t.Errorf("criss-cross: %v, want x1 and y1 %v", got, want)
	}
	if _, err := kv.MergeBase(ctx, x2.String(), y2.String(), strata.MaxBases(1)); !errors.Is(err, strata.ErrLimit) {
		t.Errorf("criss-cross with MaxBases(1): %v, want ErrLimit", err)
	}
	// Disjoint histories: no base.
	d1 := set(t, kv, "other", "z", "1")
	if got := mergeBase(t, kv, d1, c3); len(got) != 0 {
		t.Errorf("disjoint: %v", got)
	}
	// Depth bound: 30 commits on one side, the base 30 generations down.
	var head strata.Hash
	for i := 0; i < 30; i++ {
		head = set(t, kv, "x", "deep", strconv.Itoa(i))
	}
	if got := mergeBase(t, kv, head, c3, strata.MaxDepth(40)); !cmp.Equal(got, []strata.Hash{c2}) {
		t.Errorf("deep: %v, want c2", got)
	}
	_, err := kv.MergeBase(ctx, head.String(), c3.String(), strata.MaxDepth(10))
	if !errors.Is(err, strata.ErrLimit) || !strings.Contains(err.Error(), "MaxDepth") {
		t.Errorf("depth bound: %v, want ErrLimit naming MaxDepth", err)
	}
	if _, err := kv.MergeBase(ctx, "main", "nosuch"); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("missing revision: %v", err)
	}
}

// TestMergeBaseProperty compares MergeBase on random commit graphs with a
// brute-force computation: the common ancestors (a commit is its own
// ancestor) that are not a proper ancestor of another common ancestor.
func TestMergeBaseProperty(t *testing.T) {
	s := seed(t)
	t.Logf("seed %d (replay with STRATA_SEED=%d)", s, s)
	r := rand.New(rand.NewPCG(s, 99))
	for g := 0; g < 15; g++ {
		kv := openMem(t)
		n := 20 + r.IntN(60)
		hs := make([]strata.Hash, n)
		parents := make([][]int, n)
		heights := make([]uint64, n)
		var objs []backend.Object
		for i := range hs {
			np := 0
			if i > 0 && r.IntN(12) != 0 {
				np = 1 + r.IntN(3)
				if r.IntN(3) > 0 {
					np = 1
				}
			}
			seen := map[int]bool{}
			c := &commit.Commit{Tree: node.Empty, Author: "t", Message: strconv.Itoa(i), Height: 1}
			for k := 0; k < np; k++ {
				// Mostly recent parents, so that histories are long.
				p := i - 1 - r.IntN(min(i, 1+r.IntN(8)))
				if r.IntN(5) == 0 {
					p = r.IntN(i)
				}
				if seen[p] {
					continue
				}
				seen[p] = true
				parents[i] = append(parents[i], p)
				c.Parents = append(c.Parents, hs[p])
				c.Height = max(c.Height, heights[p]+1)
			}
			heights[i] = c.Height
			o := commit.Object(c)
			hs[i] = o.Hash
			objs = append(objs, o)
		}
		if err := kv.Backend().Put(ctx, objs); err != nil {
			t.Fatal(err)
		}
		anc := make([]map[int]bool, n)
		for i := range anc {
			anc[i] = map[int]bool{i: true}
			for _, p := range parents[i] {
				for a := range anc[p] {
					anc[i][a] = true
				}
			}
		}
		for q := 0; q < 40; q++ {
			a, b := r.IntN(n), r.IntN(n)
			var common []int
			for c := range anc[a] {
				if anc[b][c] {
					common = append(common, c)
				}
			}
			var want []strata.Hash
			for _, c := range common {
				lowest := true
				for _, d := range common {
					if d != c && anc[d][c] {
						lowest = false
						break
					}
				}
				if lowest {
					want = append(want, hs[c])
				}
			}
			got := mergeBase(t, kv, hs[a], hs[b], strata.MaxBases(1000))
			key := func(hs []strata.Hash) []string {
				out := []string{}
				for _, h := range hs {
					out = append(out, h.String())
				}
				sort.Strings(out)
				return out
			}
			if diff := cmp.Diff(key(want), key(got)); diff != "" {
				t.Fatalf("graph %d, commits %d and %d: merge bases (-brute force +MergeBase):\n%s", g, a, b, diff)
			}
			for i := 1; i < len(got); i++ {
				ci := must[strata.Commit](t)(kv.Commit(ctx, got[i-1].String()))
				cj := must[strata.Commit](t)(kv.Commit(ctx, got[i].String()))
				if ci.Height < cj.Height {
					t.Fatalf("merge bases not sorted by height")
				}
			}
		}
	}
}

func TestMergeFastForward(t *testing.T) {
	kv := openMem(t)
	c1 := set(t, kv, "main", "a", "1")
	fork(t, kv, "feature", "main")
	f1 := set(t, kv, "feature", "b", "1")
	f2 := set(t, kv, "feature", "b", "2")
	if h := mustHash(t)(kv.Merge(ctx, "feature", "main")); h != f2 {
		t.Fatalf("fast-forward: main at %s, want %s", h.Short(), f2.Short())
	}
	if log := must[[]strata.Commit](t)(kv.Log(ctx, "main", 0)); len(log) != 3 {
		t.Errorf("fast-forward made commits: %d in the log", len(log))
	}
	// Up to date, both ways.
	if h := mustHash(t)(kv.Merge(ctx, "feature", "main")); h != f2 {
		t.Errorf("merge again: %s", h.Short())
	}
	if h := mustHash(t)(kv.Merge(ctx, f1.String(), "main")); h != f2 {
		t.Errorf("merge an ancestor: %s", h.Short())
	}
	// NoFastForward makes a merge commit.
	fork(t, kv, "old", c1.String())
	h := mustHash(t)(kv.Merge(ctx, "feature", "old", strata.NoFastForward(), strata.Message("merge it")))
	c := must[strata.Commit](t)(kv.Commit(ctx, h.String()))
	if !cmp.Equal(c.Parents, []strata.Hash{c1, f2}) || c.Message != "merge it" || c.Height != 4 {
		t.Errorf("no-ff merge commit: %+v", c)
	}
	if _, err := kv.Merge(ctx, "feature", "nosuch"); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("merge into a missing branch: %v", err)
	}
	if _, err := kv.Merge(ctx, "nosuch", "main"); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("merge a missing branch: %v", err)
	}
}

func TestMergeCommitAndConflicts(t *testing.T) {
	kv := openMem(t)
	set(t, kv, "main", "shared", "base")
	set(t, kv, "main", "both", "base")
	set(t, kv, "main", "gone", "base")
	fork(t, kv, "feature", "main")
	set(t, kv, "feature", "f", "feature")
	set(t, kv, "feature", "shared", "feature")
	set(t, kv, "feature", "both", "feature")
	fh := mustHash(t)(kv.Branch("feature").Delete(ctx, "gone"))
	set(t, kv, "main", "m", "main")
	set(t, kv, "main", "both", "main")
	mustHash(t)(kv.Branch("main").Delete(ctx, "gone"))

	// Conflict on "both": nothing is written, and the error lists it.
	head := mustHash(t)(kv.Branch("main").Head(ctx))
	_, err := kv.Merge(ctx, "feature", "main")
	var mce *strata.MergeConflictError
	if !errors.As(err, &mce) || !errors.Is(err, strata.ErrConflict) {
		t.Fatalf("merge: %v, want a MergeConflictError", err)
	}
	want := []strata.Conflict{{
		Path: "both", Reason: strata.ConflictContent,
		Base: &strata.Value{Data: []byte("base")}, Ours: &strata.Value{Data: []byte("main")}, Theirs: &strata.Value{Data: []byte("feature")},
		Detail: "changed differently on both sides",
	}}
	if diff := cmp.Diff(want, mce.Conflicts); diff != "" {
		t.Errorf("conflicts: %s", diff)
	}
	if !strings.Contains(err.Error(), "merge feature into main: 1 conflict: both content: changed differently on both sides") {
		t.Errorf("message %q", err)
	}
	if h := mustHash(t)(kv.Branch("main").Head(ctx)); h != head {
		t.Errorf("a conflicting merge moved main")
	}

	// Prefer theirs settles it; the merge commit has both parents.
	h := mustHash(t)(kv.Merge(ctx, "feature", "main", strata.Prefer(strata.Theirs)))
	c := must[strata.Commit](t)(kv.Commit(ctx, h.String()))
	if !cmp.Equal(c.Parents, []strata.Hash{head, fh}) || c.Message != "merge feature into main" {
		t.Errorf("merge commit %+v", c)
	}
	got := must[map[string]string](t)(dumpBranch(kv, "main"))
	if diff := cmp.Diff(map[string]string{"both": "feature", "f": "feature", "m": "main", "shared": "feature"}, got); diff != "" {
		t.Errorf("merged values: %s", diff)
	}

	// A custom resolver.
	fork(t, kv, "r1", head.String())
	fork(t, kv, "r2", fh.String())
	set(t, kv, "r2", "x", "1")
	var saw []string
	h = mustHash(t)(kv.Merge(ctx, "r2", "r1", strata.Resolver(func(_ context.Context, c strata.Conflict) (strata.Resolution, error) {
		saw = append(saw, c.Path)
		return strata.Replace(strata.Text(string(c.Ours.Data) + "+" + string(c.Theirs.Data))), nil
	})))
	v := must[strata.Value](t)(kv.Branch("r1").GetValue(ctx, "both"))
	if v.Kind != strata.KindText || string(v.Data) != "main+feature" || !cmp.Equal(saw, []string{"both"}) {
		t.Errorf("resolved: %s %q (saw %v)", v.Kind, v.Data, saw)
	}
	// A resolver that leaves the conflict, and one that fails.
	fork(t, kv, "r3", head.String())
	_, err = kv.Merge(ctx, "r2", "r3", strata.Resolver(func(context.Context, strata.Conflict) (strata.Resolution, error) {
		return strata.Resolution{}, nil
	}))
	if !errors.As(err, &mce) {
		t.Errorf("unresolved: %v", err)
	}
	boom := errors.New("boom")
	_, err = kv.Merge(ctx, "r2", "r3", strata.Resolver(func(context.Context, strata.Conflict) (strata.Resolution, error) {
		return strata.Resolution{}, boom
	}))
	if !errors.Is(err, boom) {
		t.Errorf("failing resolver: %v", err)
	}
	h3 := mustHash(t)(kv.Merge(ctx, "r2", "r3", strata.Resolver(func(context.Context, strata.Conflict) (strata.Resolution, error) {
		return strata.Drop(), nil
	})))
	if _, err := kv.Branch("r3").Get(ctx, "both"); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("dropped path: %v (head %s)", err, h3.Short())
	}
}

// TestMergeJSON: two branches editing different members of one JSON value
// merge cleanly; editing the same member is one conflict that names the
// path and the member.
func TestMergeJSON(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	doc := `{"name":"app","owner":"ops","limits":{"cpu":1,"mem":512},"tags":["a"]}`
	mustHash(t)(main.SetValue(ctx, "svc/app.json", strata.JSON([]byte(doc))))
	fork(t, kv, "a", "main")
	fork(t, kv, "b", "main")
	mustHash(t)(kv.Branch("a").SetValue(ctx, "svc/app.json", strata.JSON([]byte(`{"name":"app","owner":"alice","limits":{"cpu":1,"mem":512},"tags":["a"]}`))))
	mustHash(t)(kv.Branch("b").SetValue(ctx, "svc/app.json", strata.JSON([]byte(`{"name":"app","owner":"ops","limits":{"cpu":4,"mem":512},"tags":["a"],"tier":"gold"}`))))
	mustHash(t)(kv.Merge(ctx, "a", "main"))
	mustHash(t)(kv.Merge(ctx, "b", "main"))
	v := must[strata.Value](t)(main.GetValue(ctx, "svc/app.json"))
	if want := `{"limits":{"cpu":4,"mem":512},"name":"app","owner":"alice","tags":["a"],"tier":"gold"}`; v.Kind != strata.KindJSON || string(v.Data) != want {
		t.Errorf("merged JSON: %s %s, want %s", v.Kind, v.Data, want)
	}
	// The same member on both sides.
	fork(t, kv, "c", "main")
	mustHash(t)(kv.Branch("c").SetValue(ctx, "svc/app.json", strata.JSON([]byte(`{"limits":{"cpu":8,"mem":512},"name":"app","owner":"alice","tags":["a"],"tier":"gold"}`))))
	head := mustHash(t)(main.SetValue(ctx, "svc/app.json", strata.JSON([]byte(`{"limits":{"cpu":2,"mem":1024},"name":"app","owner":"alice","tags":["a"],"tier":"gold"}`))))
	_, err := kv.Merge(ctx, "c", "main")
	var mce *strata.MergeConflictError
	if !errors.As(err, &mce) || len(mce.Conflicts) != 1 {
		t.Fatalf("merge: %v, want one conflict", err)
	}
	c := mce.Conflicts[0]
	if c.Path != "svc/app.json" || c.Reason != strata.ConflictContent || !cmp.Equal(c.Fields, []string{"/limits/cpu"}) ||
		!strings.Contains(c.Detail, `"/limits/cpu"`) || c.Ours.Kind != strata.KindJSON {
		t.Errorf("conflict %+v", c)
	}
	if h := mustHash(t)(main.Head(ctx)); h != head {
		t.Error("main moved")
	}
	// Prefer settles only the clashing member: mem still merges.
	mustHash(t)(kv.Merge(ctx, "c", "main", strata.Prefer(strata.Theirs)))
	v = must[strata.Value](t)(main.GetValue(ctx, "svc/app.json"))
	if want := `{"limits":{"cpu":8,"mem":1024},"name":"app","owner":"alice","tags":["a"],"tier":"gold"}`; string(v.Data) != want {
		t.Errorf("merged with prefer theirs: %s", v.Data)
	}
}

// TestMergeCrissCross: with two merge bases, the merge goes through a
// virtual ancestor, so counters count every increment exactly once.
func TestMergeCrissCross(t *testing.T) {
	kv := openMem(t)
	add := func(b string, n int64) {
		t.Helper()
		if _, _, err := kv.Branch(b).Add(ctx, "hits", n); err != nil {
			t.Fatal(err)
		}
	}
	add("main", 0)
	fork(t, kv, "x", "main")
	fork(t, kv, "y", "main")
	add("x", 1)
	add("y", 2)
	x1 := mustHash(t)(kv.Branch("x").Head(ctx))
	y1 := mustHash(t)(kv.Branch("y").Head(ctx))
	mustHash(t)(kv.Merge(ctx, y1.String(), "x"))
	mustHash(t)(kv.Merge(ctx, x1.String(), "y"))
	add("x", 10)
	add("y", 100)
	if got := len(must[[]strata.Hash](t)(kv.MergeBase(ctx, "x", "y"))); got != 2 {
		t.Fatalf("%d merge bases, want 2", got)
	}
	mustHash(t)(kv.Merge(ctx, "y", "x"))
	v := must[strata.Value](t)(kv.Branch("x").GetValue(ctx, "hits"))
	if n, err := v.Int(); err != nil || n != 113 {
		t.Errorf("hits = %d, %v; want 1+2+10+100 = 113", n, err)
	}
}

// TestMergeAgainstModel merges random branches built from random edits
// into main, again and again (so later merges have earlier merges in
// their history), and compares each result with a path-by-path model.
func TestMergeAgainstModel(t *testing.T) {
	s := seed(t)
	t.Logf("seed %d (replay with STRATA_SEED=%d)", s, s)
	r := rand.New(rand.NewPCG(s, 17))
	kv := openMem(t)
	var paths []string
	for i := 0; i < 12; i++ {
		paths = append(paths, fmt.Sprintf("d%d/k%d", i%3, i), fmt.Sprintf("big/k%03d", r.IntN(300)))
	}
	type model map[string]string
	copyOf := func(m model) model {
		out := model{}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	edit := func(b string, m model, n int) {
		for i := 0; i < n; i++ {
			p := paths[r.IntN(len(paths))]
			if strings.HasPrefix(p, "d2/") && r.IntN(2) == 0 {
				// A counter, incremented.
				if _, ok := m[p]; ok && !strings.HasPrefix(m[p], "#") {
					continue
				}
				d := int64(1 + r.IntN(5))
				if _, _, err := kv.Branch(b).Add(ctx, p, d); err != nil {
					t.Fatal(err)
				}
				old, _ := strconv.ParseInt(strings.TrimPrefix(m[p], "#"), 10, 64)
				m[p] = "#" + strconv.FormatInt(old+d, 10)
				continue
			}
			if _, ok := m[p]; ok && r.IntN(3) == 0 {
				mustHash(t)(kv.Branch(b).Delete(ctx, p))
				delete(m, p)
				continue
			}
			v := strconv.Itoa(r.IntN(3))
			set(t, kv, b, p, v)
			m[p] = v
		}
	}
	// Counters are kept as "#N" in the model.
	mergeModel := func(b, o, th model, prefer strata.Side) (model, []string) {
		out := model{}
		var conflicts []string
		keys := map[string]bool{}
		for _, m := range []model{b, o, th} {
			for k := range m {
				keys[k] = true
			}
		}
		for k := range keys {
			bv, inB := b[k]
			ov, inO := o[k]
			tv, inT := th[k]
			var rv string
			var in bool
			counters := inO && inT && strings.HasPrefix(ov, "#") && strings.HasPrefix(tv, "#")
			switch {
			case inO == inT && ov == tv && !counters:
				rv, in = ov, inO
			case inB == inO && bv == ov:
				rv, in = tv, inT
			case inB == inT && bv == tv:
				rv, in = ov, inO
			case counters: // every change counts, even two equal ones
				x, _ := strconv.Atoi(ov[1:])
				y, _ := strconv.Atoi(tv[1:])
				z := 0
				if inB && strings.HasPrefix(bv, "#") {
					z, _ = strconv.Atoi(bv[1:])
				}
				rv, in = "#"+strconv.Itoa(x+y-z), true
			default:
				conflicts = append(conflicts, k)
				rv, in = tv, inT
				if prefer == strata.Ours {
					rv, in = ov, inO
				}
			}
			if in {
				out[k] = rv
			}
		}
		sort.Strings(conflicts)
		return out, conflicts
	}
	dump := func(b string) model {
		got := must[map[string]string](t)(dumpBranch(kv, b))
		for k := range got {
			v := must[strata.Value](t)(kv.Branch(b).GetValue(ctx, k))
			if v.Kind == strata.KindCounter {
				got[k] = "#" + got[k]
			}
		}
		return model(got)
	}
	mainModel := model{}
	edit("main", mainModel, 20)
	merges := 0
	for round := 0; round < 25; round++ {
		name := fmt.Sprintf("f%d", round)
		fork(t, kv, name, "main")
		base, feature := copyOf(mainModel), copyOf(mainModel)
		edit(name, feature, r.IntN(8))
		edit("main", mainModel, r.IntN(8))
		// Sometimes bring main into the feature first (a criss-cross
		// later, when other features merge).
		if r.IntN(3) == 0 {
			if _, err := kv.Merge(ctx, "main", name, strata.Prefer(strata.Ours)); err != nil {
				t.Fatal(err)
			}
			merged, _ := mergeModel(base, feature, mainModel, strata.Ours)
			base, feature = copyOf(mainModel), merged
			edit(name, feature, r.IntN(4))
		}
		want, conflicts := mergeModel(base, mainModel, feature, strata.Theirs)
		before := mustHash(t)(kv.Branch("main").Head(ctx))
		_, err := kv.Merge(ctx, name, "main")
		var mce *strata.MergeConflictError
		switch {
		case len(conflicts) > 0:
			if !errors.As(err, &mce) {
				t.Fatalf("round %d: merge: %v, want conflicts at %v", round, err, conflicts)
			}
			var got []string
			for _, c := range mce.Conflicts {
				got = append(got, c.Path)
			}
			if diff := cmp.Diff(conflicts, got); diff != "" {
				t.Fatalf("round %d: conflicts (-model +merge): %s", round, diff)
			}
			if h := mustHash(t)(kv.Branch("main").Head(ctx)); h != before {
				t.Fatalf("round %d: a conflicting merge moved main", round)
			}
			mustHash(t)(kv.Merge(ctx, name, "main", strata.Prefer(strata.Theirs)))
		case err != nil:
			t.Fatalf("round %d: merge: %v", round, err)
		default:
			merges++
		}
		mainModel = want
		if diff := cmp.Diff(mainModel, dump("main")); diff != "" {
			t.Fatalf("round %d: main after the merge (-model +store):\n%s", round, diff)
		}
	}
	t.Logf("%d of 25 merges were clean", merges)
	rep := must[*strata.FsckReport](t)(kv.Fsck(ctx))
	if len(rep.Problems) > 0 {
		t.Errorf("fsck: %v", rep.Problems)
	}
}

func TestMergeWith(t *testing.T) {
	// Comma-separated sets under "sets/" merge as unions.
	union := func(_ context.Context, path string, base, ours, theirs *strata.Value) (*strata.Value, error) {
		if ours == nil || theirs == nil {
			return nil, fmt.Errorf("%s: a set was removed: %w", path, strata.ErrConflict)
		}
		seen := map[string]bool{}
		for _, v := range []*strata.Value{ours, theirs} {
			for _, e := range strings.Split(string(v.Data), ",") {
				seen[e] = true
			}
		}
		var out []string
		for e := range seen {
			out = append(out, e)
		}
		sort.Strings(out)
		v := strata.Raw([]byte(strings.Join(out, ",")))
		return &v, nil
	}
	kv, err := strata.Open(ctx, "mem://", strata.MergeWith("sets", union))
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	set(t, kv, "main", "sets/s", "a")
	set(t, kv, "main", "setsx", "a")
	fork(t, kv, "f", "main")
	set(t, kv, "f", "sets/s", "a,b")
	set(t, kv, "f", "setsx", "b")
	set(t, kv, "main", "sets/s", "a,c")
	set(t, kv, "main", "setsx", "c")
	_, err = kv.Merge(ctx, "f", "main")
	var mce *strata.MergeConflictError
	if !errors.As(err, &mce) || len(mce.Conflicts) != 1 || mce.Conflicts[0].Path != "setsx" {
		t.Fatalf("merge: %v; want one conflict, at setsx (not covered by the prefix)", err)
	}
	mustHash(t)(kv.Merge(ctx, "f", "main", strata.Prefer(strata.Ours)))
	if v := must[[]byte](t)(kv.Branch("main").Get(ctx, "sets/s")); string(v) != "a,b,c" {
		t.Errorf("union: %q", v)
	}
	// A removal reaches the function, which calls it a conflict.
	fork(t, kv, "g", "main")
	mustHash(t)(kv.Branch("g").Delete(ctx, "sets/s"))
	set(t, kv, "main", "sets/s", "a,b,c,d")
	_, err = kv.Merge(ctx, "g", "main")
	if !errors.As(err, &mce) || !strings.Contains(mce.Conflicts[0].Detail, "a set was removed") {
		t.Errorf("removal: %v", err)
	}
	bad, err := strata.Open(ctx, "mem://", strata.MergeWith("a//b", union))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	set(t, bad, "main", "k", "1")
	fork(t, bad, "f", "main")
	set(t, bad, "f", "k", "2")
	set(t, bad, "main", "k", "3")
	if _, err := bad.Merge(ctx, "f", "main"); !errors.Is(err, strata.ErrInvalidPath) {
		t.Errorf("invalid prefix: %v", err)
	}
}

func TestRevertAndCherryPick(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	c1 := mustHash(t)(main.Set(ctx, "a", []byte("1"), strata.Message("set a"), strata.Author("alice")))
	c2 := mustHash(t)(main.Set(ctx, "b", []byte("2"), strata.Message("set b\n\nbecause")))
	c3 := mustHash(t)(main.Set(ctx, "a", []byte("3"), strata.Message("a to 3"), strata.Author("bob")))
	// Revert c2: b goes, a stays.
	r := mustHash(t)(main.Revert(ctx, c2.String()))
	if got := must[map[string]string](t)(dumpBranch(kv, "main")); !cmp.Equal(got, map[string]string{"a": "3"}) {
		t.Errorf("after revert: %v", got)
	}
	rc := must[strata.Commit](t)(kv.Commit(ctx, r.String()))
	if !cmp.Equal(rc.Parents, []strata.Hash{c3}) || !strings.HasPrefix(rc.Message, `revert "set b"`) || !strings.Contains(rc.Message, c2.String()) {
		t.Errorf("revert commit %+v", rc)
	}
	// Reverting it again changes nothing.
	if h := mustHash(t)(main.Revert(ctx, c2.String())); h != r {
		t.Errorf("second revert made %s", h.Short())
	}
	// Reverting c1 conflicts with c3, which changed a since.
	_, err := main.Revert(ctx, c1.String())
	var mce *strata.MergeConflictError
	if !errors.As(err, &mce) || len(mce.Conflicts) != 1 || mce.Conflicts[0].Reason != strata.ConflictDelete {
		t.Fatalf("revert c1: %v", err)
	}
	if h := mustHash(t)(main.Head(ctx)); h != r {
		t.Error("a conflicting revert moved main")
	}
	// Cherry-pick c3 onto a branch at c1: author and message travel.
	fork(t, kv, "old", c1.String())
	set(t, kv, "old", "o", "x")
	p := mustHash(t)(kv.Branch("old").CherryPick(ctx, c3.String()))
	pc := must[strata.Commit](t)(kv.Commit(ctx, p.String()))
	if pc.Author != "bob" || pc.Message != "a to 3" || len(pc.Parents) != 1 {
		t.Errorf("cherry-picked commit %+v", pc)
	}
	if got := must[map[string]string](t)(dumpBranch(kv, "old")); !cmp.Equal(got, map[string]string{"a": "3", "o": "x"}) {
		t.Errorf("after cherry-pick: %v", got)
	}
	if h := mustHash(t)(kv.Branch("old").CherryPick(ctx, c3.String())); h != p {
		t.Errorf("cherry-picking again made %s", h.Short())
	}
	// Cherry-picking c2 (b added) onto a new branch creates it.
	mustHash(t)(kv.Branch("fresh").CherryPick(ctx, c2.String(), strata.Message("just b")))
	if got := must[map[string]string](t)(dumpBranch(kv, "fresh")); !cmp.Equal(got, map[string]string{"b": "2"}) {
		t.Errorf("fresh: %v", got)
	}
	if _, err := kv.Branch("nosuch").Revert(ctx, c2.String()); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("revert on a missing branch: %v", err)
	}
}

// TestPickCountersOnce: a counter change the head already holds is not
// applied again: cherry-picking a commit already in the branch, or
// reverting a commit already reverted, makes no commit (a merge of two
// branches still adds both sides' increments up).
func TestPickCountersOnce(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	counter := func(b string) int64 {
		t.Helper()
		v := must[strata.Value](t)(kv.Branch(b).GetValue(ctx, "n"))
		n, err := v.Int()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if _, _, err := main.Add(ctx, "n", 10); err != nil {
		t.Fatal(err)
	}
	_, inc, err := main.Add(ctx, "n", 1)
	if err != nil {
		t.Fatal(err)
	}
	head := mustHash(t)(main.Head(ctx))
	if h := mustHash(t)(main.CherryPick(ctx, inc.String())); h != head || counter("main") != 11 {
		t.Errorf("cherry-picking a commit main holds: head %s, n = %d; want no commit, 11", h.Short(), counter("main"))
	}
	r := mustHash(t)(main.Revert(ctx, inc.String()))
	if counter("main") != 10 {
		t.Fatalf("after the revert n = %d, want 10", counter("main"))
	}
	for i := range 2 {
		if h := mustHash(t)(main.Revert(ctx, inc.String())); h != r || counter("main") != 10 {
			t.Errorf("revert again (%d): head %s, n = %d; want no commit, 10", i+1, h.Short(), counter("main"))
		}
	}
	// Picked onto a branch without it, the increment applies.
	fork(t, kv, "other", inc.String()+"~1")
	if _, _, err := kv.Branch("other").Add(ctx, "n", 100); err != nil {
		t.Fatal(err)
	}
	mustHash(t)(kv.Branch("other").CherryPick(ctx, inc.String()))
	if n := counter("other"); n != 111 {
		t.Errorf("cherry-pick onto other: n = %d, want 111", n)
	}
	// A merge still counts both sides' equal increments.
	fork(t, kv, "x", "main")
	fork(t, kv, "y", "main")
	for _, b := range []string{"x", "y"} {
		if _, _, err := kv.Branch(b).Add(ctx, "n", 1); err != nil {
			t.Fatal(err)
		}
	}
	mustHash(t)(kv.Merge(ctx, "y", "x"))
	if n := counter("x"); n != 12 {
		t.Errorf("merge of two +1s: n = %d, want 12", n)
	}
}

// TestTypedValues: typed values keep their kind and canonical form; Add
// makes counters; bad values and kinds are ErrInvalidValue.
func TestTypedValues(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	mustHash(t)(main.SetValue(ctx, "doc", strata.JSON([]byte(` { "b" : 1, "a" : 2 } `))))
	v := must[strata.Value](t)(main.GetValue(ctx, "doc"))
	if v.Kind != strata.KindJSON || string(v.Data) != `{"a":2,"b":1}` {
		t.Errorf("json: %s %q", v.Kind, v.Data)
	}
	if raw := must[[]byte](t)(main.Get(ctx, "doc")); string(raw) != `{"a":2,"b":1}` {
		t.Errorf("get json: %q", raw)
	}
	// A short typed value still keeps its kind (never inline).
	mustHash(t)(main.SetValue(ctx, "t", strata.Text("hi")))
	if v := must[strata.Value](t)(main.GetValue(ctx, "t")); v.Kind != strata.KindText {
		t.Errorf("text: %v", v.Kind)
	}
	if v := must[strata.Value](t)(main.GetValue(ctx, "t")); v.Kind != strata.KindText {
		t.Errorf("text: %v", v.Kind)
	}
	n, h, err := main.Add(ctx, "n", 5)
	if err != nil || n != 5 {
		t.Fatalf("add: %d, %v", n, err)
	}
	if n, _, _ := main.Add(ctx, "n", -7); n != -2 {
		t.Errorf("add -7: %d", n)
	}
	snap := must[*strata.Snapshot](t)(kv.At(ctx, h.String()))
	if v := must[strata.Value](t)(snap.GetValue(ctx, "n")); string(v.Data) != "5" || v.Kind != strata.KindCounter {
		t.Errorf("snapshot: %v", v)
	}
	for name, err := range map[string]error{
		"json":           second(main.SetValue(ctx, "x", strata.JSON([]byte("{")))),
		"text":           second(main.SetValue(ctx, "x", strata.Text("\xff"))),
		"kind":           second(main.SetValue(ctx, "x", strata.Value{Kind: 9})),
		"add to json":    third(main.Add(ctx, "doc", 1)),
		"add overflow":   third(main.Add(ctx, "n", -1<<63)),
		"counter syntax": second(main.SetValue(ctx, "x", strata.Value{Kind: strata.KindCounter, Data: []byte("1.5")})),
	} {
		if !errors.Is(err, strata.ErrInvalidValue) {
			t.Errorf("%s: %v, want ErrInvalidValue", name, err)
		}
	}
	if _, _, err := main.Add(ctx, "", 1); !errors.Is(err, strata.ErrInvalidPath) {
		t.Errorf("add to the root: %v", err)
	}
	// Inside a transaction.
	_, err = main.Update(ctx, func(tx *strata.Tx) error {
		n, err := tx.Add("n", 10)
		if err != nil || n != 8 {
			return fmt.Errorf("tx add: %d, %v", n, err)
		}
		if v, err := tx.GetValue("n"); err != nil || string(v.Data) != "8" {
			return fmt.Errorf("tx get: %v, %v", v, err)
		}
		return tx.SetValue("c", strata.Counter(3))
	})
	if err != nil {
		t.Fatal(err)
	}
	if v := must[strata.Value](t)(main.GetValue(ctx, "c")); v.Kind != strata.KindCounter || string(v.Data) != "3" {
		t.Errorf("c: %v", v)
	}
	if _, err := main.Update(ctx, func(tx *strata.Tx) error {
		tx.SetValue("bad", strata.JSON([]byte("nope")))
		return nil
	}); !errors.Is(err, strata.ErrInvalidValue) {
		t.Errorf("tx with a bad value: %v", err)
	}
	m, err := strata.MergeValues(&strata.Value{Kind: strata.KindCounter, Data: []byte("1")}, strata.Counter(3), strata.Counter(4))
	if err != nil || string(m.Data) != "6" {
		t.Errorf("MergeValues: %v, %v", m, err)
	}
	if _, err := strata.MergeValues(nil, strata.Raw([]byte("a")), strata.Raw([]byte("b"))); !errors.Is(err, strata.ErrConflict) {
		t.Errorf("MergeValues of raw: %v", err)
	}
}

func second[T any](_ T, err error) error        { return err }
func third[T, U any](_ T, _ U, err error) error { return err }

// TestConcurrentCounter: 8 goroutines × 500 increments of one counter on
// one branch add up to exactly 4,000: each write that loses the race for
// the head merges its increment into the new head.
func TestConcurrentCounter(t *testing.T) {
	kv, err := strata.Open(ctx, "mem://", strata.MaxRetries(1000))
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	main := kv.Branch("main")
	const writers, each = 8, 500
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, _, err := main.Add(ctx, "stats/hits", 1); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	v := must[strata.Value](t)(main.GetValue(ctx, "stats/hits"))
	if n, err := v.Int(); err != nil || n != writers*each {
		t.Fatalf("hits = %d, %v; want %d", n, err, writers*each)
	}
	if log := must[[]strata.Commit](t)(kv.Log(ctx, "main", 0)); len(log) != writers*each {
		t.Errorf("%d commits, want %d", len(log), writers*each)
	}
}

// TestConcurrentJSONMembers: writers that each change their own member of
// one JSON document with SetValue lose nothing. Each reads the document,
// changes its member and writes it back BasedOn the commit it read, so the
// write merges with what the others changed in between.
func TestConcurrentJSONMembers(t *testing.T) {
	kv, err := strata.Open(ctx, "mem://", strata.MaxRetries(1000))
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	main := kv.Branch("main")
	mustHash(t)(main.SetValue(ctx, "doc", strata.JSON([]byte(`{"w0":0,"w1":0,"w2":0,"w3":0}`))))
	const writers, each = 4, 40
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= each; i++ {
				snap, err := kv.At(ctx, "main")
				if err == nil {
					var v strata.Value
					if v, err = snap.GetValue(ctx, "doc"); err == nil {
						doc := strings.Replace(string(v.Data), fmt.Sprintf(`"w%d":%d`, w, i-1), fmt.Sprintf(`"w%d":%d`, w, i), 1)
						_, err = main.SetValue(ctx, "doc", strata.JSON([]byte(doc)), strata.BasedOn(snap.Commit().Hash))
					}
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	v := must[strata.Value](t)(main.GetValue(ctx, "doc"))
	if want := `{"w0":40,"w1":40,"w2":40,"w3":40}`; string(v.Data) != want {
		t.Fatalf("doc = %s, want %s", v.Data, want)
	}
}

// TestConcurrentSetsSamePath: blind writes of one raw value still succeed
// under contention (the last one wins, as before merging existed), and a
// write that clashes with a directory still fails.
func TestConcurrentSetsSamePath(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if _, err := main.Set(ctx, "status", []byte(fmt.Sprintf("w%d-%d", w, i))); err != nil {
					t.Error(err)
					return
				}
				if _, err := main.Set(ctx, fmt.Sprintf("own/w%d", w), []byte(strconv.Itoa(i))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for w := 0; w < 4; w++ {
		if v := must[[]byte](t)(main.Get(ctx, fmt.Sprintf("own/w%d", w))); string(v) != "49" {
			t.Errorf("own/w%d = %q", w, v)
		}
	}
	if v := must[[]byte](t)(main.Get(ctx, "status")); !strings.HasSuffix(string(v), "-49") {
		t.Errorf("status = %q, want some writer's last value", v)
	}
	// BasedOn an old head: a value where a directory now is still fails.
	old := mustHash(t)(main.Head(ctx))
	set(t, kv, "main", "dir/x", "1")
	if _, err := main.Set(ctx, "dir", []byte("v"), strata.BasedOn(old)); !errors.Is(err, strata.ErrInvalidPath) {
		t.Errorf("value over a directory: %v", err)
	}
	// BasedOn an old head keeps what changed since, and the write's own
	// value wins where they clash.
	old = mustHash(t)(main.Head(ctx))
	set(t, kv, "main", "status", "newer")
	set(t, kv, "main", "other", "kept")
	mustHash(t)(main.Set(ctx, "status", []byte("mine"), strata.BasedOn(old)))
	if v := must[[]byte](t)(main.Get(ctx, "status")); string(v) != "mine" {
		t.Errorf("status = %q", v)
	}
	if v := must[[]byte](t)(main.Get(ctx, "other")); string(v) != "kept" {
		t.Errorf("other = %q", v)
	}
	if _, err := main.Set(ctx, "x", []byte("v"), strata.BasedOn(strata.Hash{1})); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("based on a missing commit: %v", err)
	}
}

// racing is a store whose first ref swap is preceded by hook, as if
// another writer had moved the branch just before.
type racing struct {
	backend.Store
	once sync.Once
	hook func()
}

func (r *racing) CompareAndSwapRef(ctx context.Context, name string, old, new strata.Hash) error {
	r.once.Do(r.hook)
	return r.Store.CompareAndSwapRef(ctx, name, old, new)
}

// TestMergeOnRetry makes a write lose the race for the head once, to a
// known concurrent change, and checks what the retry does with it.
func TestMergeOnRetry(t *testing.T) {
	type step func(b *strata.Branch) error
	setV := func(path string, v strata.Value) step {
		return func(b *strata.Branch) error { _, err := b.SetValue(ctx, path, v); return err }
	}
	for _, tc := range []struct {
		name         string
		setup, other step
		mine         step
		want         map[string]string
		wantErr      error
	}{
		{name: "counter",
			setup: setV("n", strata.Counter(5)),
			other: func(b *strata.Branch) error { _, _, err := b.Add(ctx, "n", 10); return err },
			mine:  func(b *strata.Branch) error { _, _, err := b.Add(ctx, "n", 1); return err },
			want:  map[string]string{"n": "16"}},
		{name: "counter set by both to one value",
			setup: setV("n", strata.Counter(5)),
			other: func(b *strata.Branch) error { _, _, err := b.Add(ctx, "n", 1); return err },
			mine:  func(b *strata.Branch) error { _, _, err := b.Add(ctx, "n", 1); return err },
			want:  map[string]string{"n": "7"}},
		{name: "json members",
			setup: setV("doc", strata.JSON([]byte(`{"a":0,"b":0}`))),
			other: setV("doc", strata.JSON([]byte(`{"a":0,"b":2}`))),
			mine:  setV("doc", strata.JSON([]byte(`{"a":1,"b":0}`))),
			want:  map[string]string{"doc": `{"a":1,"b":2}`}},
		{name: "json same member: mine wins, the rest merges",
			setup: setV("doc", strata.JSON([]byte(`{"a":0,"b":0,"c":0}`))),
			other: setV("doc", strata.JSON([]byte(`{"a":2,"b":2,"c":0}`))),
			mine:  setV("doc", strata.JSON([]byte(`{"a":1,"b":0,"c":1}`))),
			want:  map[string]string{"doc": `{"a":1,"b":2,"c":1}`}},
		{name: "text lines",
			setup: setV("t", strata.Text("1\n2\n3\n")),
			other: setV("t", strata.Text("1\n2\nthree\n")),
			mine:  setV("t", strata.Text("one\n2\n3\n")),
			want:  map[string]string{"t": "one\n2\nthree\n"}},
		{name: "raw value: mine wins",
			setup: setV("k", strata.Raw([]byte("0"))),
			other: setV("k", strata.Raw([]byte("theirs"))),
			mine:  setV("k", strata.Raw([]byte("mine"))),
			want:  map[string]string{"k": "mine"}},
		{name: "delete against a change: the delete wins",
			setup: setV("k", strata.Raw([]byte("0"))),
			other: setV("k", strata.Raw([]byte("theirs"))),
			mine:  func(b *strata.Branch) error { _, err := b.Delete(ctx, "k"); return err },
			want:  map[string]string{}},
		{name: "other paths are kept",
			setup: setV("k", strata.Raw([]byte("0"))),
			other: setV("x/y", strata.Raw([]byte("theirs"))),
			mine:  setV("k", strata.Raw([]byte("mine"))),
			want:  map[string]string{"k": "mine", "x/y": "theirs"}},
		{name: "value against a new directory fails as it would have",
			setup:   setV("k", strata.Raw([]byte("0"))),
			other:   setV("d/x", strata.Raw([]byte("theirs"))),
			mine:    setV("d", strata.Raw([]byte("mine"))),
			wantErr: strata.ErrInvalidPath},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := strata.New(memStore(t))
			if err := tc.setup(m.Branch("main")); err != nil {
				t.Fatal(err)
			}
			r := &racing{Store: m.Backend()}
			r.hook = func() {
				if err := tc.other(m.Branch("main")); err != nil {
					t.Error(err)
				}
			}
			kv := strata.New(r)
			err := tc.mine(kv.Branch("main"))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, must[map[string]string](t)(dumpBranch(kv, "main"))); diff != "" {
				t.Errorf("after the race (-want +got):\n%s", diff)
			}
			log := must[[]strata.Commit](t)(kv.Log(ctx, "main", 0))
			if len(log) != 3 || len(log[0].Parents) != 1 || log[0].Parents[0] != log[1].Hash {
				t.Errorf("history: %d commits, the last with parents %v", len(log), log[0].Parents)
			}
		})
	}
	// Update re-runs its function on the new head instead.
	m := strata.New(memStore(t))
	mustHash(t)(m.Branch("main").Set(ctx, "n", []byte("1")))
	r := &racing{Store: m.Backend(), hook: func() { mustHash(t)(m.Branch("main").Set(ctx, "n", []byte("5"))) }}
	runs := 0
	mustHash(t)(strata.New(r).Branch("main").Update(ctx, func(tx *strata.Tx) error {
		runs++
		v, err := tx.Get("n")
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(string(v))
		return tx.Set("n", []byte(strconv.Itoa(n*10)))
	}))
	if v := must[[]byte](t)(m.Branch("main").Get(ctx, "n")); string(v) != "50" || runs != 2 {
		t.Errorf("update: n = %s after %d runs, want 50 after 2", v, runs)
	}
}

func memStore(t *testing.T) backend.Store {
	kv := openMem(t)
	return kv.Backend()
}

// TestUpdateBasedOn: an Update based on an older commit runs on that
// commit's tree and merges into the current head.
func TestUpdateBasedOn(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	old := mustHash(t)(main.SetValue(ctx, "doc", strata.JSON([]byte(`{"a":0,"b":0}`))))
	mustHash(t)(main.SetValue(ctx, "doc", strata.JSON([]byte(`{"a":0,"b":5}`))))
	var saw string
	mustHash(t)(main.Update(ctx, func(tx *strata.Tx) error {
		v, err := tx.GetValue("doc")
		saw = string(v.Data)
		if err != nil {
			return err
		}
		return tx.SetValue("doc", strata.JSON([]byte(`{"a":1,"b":0}`)))
	}, strata.BasedOn(old)))
	if saw != `{"a":0,"b":0}` {
		t.Errorf("the function saw %s, want the old version", saw)
	}
	if v := must[[]byte](t)(main.Get(ctx, "doc")); string(v) != `{"a":1,"b":5}` {
		t.Errorf("doc = %s", v)
	}
}

// TestMergeRetriesWhenIntoMoves: a merge whose branch moves before the
// merge commit lands is computed again on the new head.
func TestMergeRetriesWhenIntoMoves(t *testing.T) {
	m := strata.New(memStore(t))
	set(t, m, "main", "a", "1")
	fork(t, m, "feature", "main")
	set(t, m, "feature", "f", "1")
	set(t, m, "main", "m", "1")
	r := &racing{Store: m.Backend(), hook: func() { set(t, m, "main", "late", "1") }}
	kv := strata.New(r)
	h := mustHash(t)(kv.Merge(ctx, "feature", "main"))
	c := must[strata.Commit](t)(kv.Commit(ctx, h.String()))
	late := must[strata.Commit](t)(kv.Commit(ctx, "main~1"))
	if len(c.Parents) != 2 || late.Message != "" || c.Parents[0] != late.Hash {
		t.Errorf("merge commit %+v", c)
	}
	want := map[string]string{"a": "1", "f": "1", "m": "1", "late": "1"}
	if diff := cmp.Diff(want, must[map[string]string](t)(dumpBranch(kv, "main"))); diff != "" {
		t.Errorf("after the merge: %s", diff)
	}
}
