package strata_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/internal/codec"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// damage replaces the object h in kv's backend by data (nil: deletes it).
func damage(t *testing.T, kv *strata.KV, h strata.Hash, data []byte) {
	t.Helper()
	s := kv.Backend()
	del, ok := s.(backend.ObjectDeleter)
	if !ok {
		t.Fatal("backend cannot delete objects")
	}
	if err := del.DeleteObjects(ctx, []backend.Hash{h}); err != nil {
		t.Fatal(err)
	}
	if data != nil {
		if err := s.Put(ctx, []backend.Object{{Hash: h, Data: data}}); err != nil {
			t.Fatal(err)
		}
	}
}

func testFsck(t *testing.T, kv *strata.KV) {
	main := kv.Branch("main")
	// Longer than node.MaxInline, so the value is a contents object of its own.
	const host = "db1.internal.example.com:5432/primary"
	must[strata.Hash](t)(main.Set(ctx, "config/db/host", []byte(host)))
	must[strata.Hash](t)(main.Set(ctx, "config/db/port", []byte("5432")))
	must[strata.Hash](t)(main.Set(ctx, "other/x", []byte("x")))
	rep := must[*strata.FsckReport](t)(kv.Fsck(ctx))
	if len(rep.Problems) != 0 || rep.Commits != 3 {
		t.Fatalf("clean store: %+v", rep)
	}
	snap := must[*strata.Snapshot](t)(kv.At(ctx, "main"))
	tr := tree.New(node.NewStore(kv.Backend(), -1), snap.Commit().Tree)

	// Flip a byte of the value at config/db/host.
	vh, _, err := tr.SubtreeHash(ctx, []string{"config", "db", "host"})
	if err != nil {
		t.Fatal(err)
	}
	orig := must[[]byte](t)(kv.Backend().Get(ctx, vh))
	flipped := append([]byte{}, orig...)
	flipped[len(flipped)-1] ^= 0x20
	damage(t, kv, vh, flipped)
	if v, err := main.Get(ctx, "config/db/host"); !errors.Is(err, strata.ErrCorrupt) || !strings.Contains(err.Error(), vh.String()) {
		t.Fatalf("get of a corrupt value = %q, %v; want ErrCorrupt naming %s", v, err, vh)
	}
	// Remove the node of other/.
	nh, _, err := tr.SubtreeHash(ctx, []string{"other"})
	if err != nil {
		t.Fatal(err)
	}
	damage(t, kv, nh, nil)

	rep = must[*strata.FsckReport](t)(kv.Fsck(ctx, "main"))
	if len(rep.Problems) != 2 {
		t.Fatalf("problems = %v", rep.Problems)
	}
	var corrupt, missing bool
	for _, p := range rep.Problems {
		switch {
		case p.Hash == vh && errors.Is(p.Err, strata.ErrCorrupt) && strings.HasSuffix(p.Where, "config/db/host") && p.Object == "contents":
			corrupt = true
		case p.Hash == nh && errors.Is(p.Err, strata.ErrMissing) && !errors.Is(p.Err, strata.ErrNotFound) && strings.HasSuffix(p.Where, "other/") && p.Object == "node":
			missing = true
		default:
			t.Errorf("unexpected problem %v", p)
		}
	}
	if !corrupt || !missing {
		t.Errorf("problems = %v", rep.Problems)
	}
	// Repair and re-check.
	damage(t, kv, vh, orig)
	if v := must[[]byte](t)(main.Get(ctx, "config/db/host")); string(v) != host {
		t.Errorf("after repair: %q", v)
	}
}

func TestFsckMem(t *testing.T) { testFsck(t, openMem(t)) }

// TestFsckWhereDeepHistory: on a history of a few hundred commits with a
// merge, the problems are described by revisions counting the parent
// steps (main~N, ^2 for a merged parent), each resolving to the commit
// whose object is damaged.
func TestFsckWhereDeepHistory(t *testing.T) {
	kv := openMem(t)
	main := kv.Branch("main")
	const n = 300
	var hs []strata.Hash
	for i := range n {
		hs = append(hs, must[strata.Hash](t)(main.Set(ctx, "k", []byte(fmt.Sprintf("value number %d, long enough to be its own object", i)))))
	}
	if err := kv.CreateBranch(ctx, "side", "main"); err != nil {
		t.Fatal(err)
	}
	sh := must[strata.Hash](t)(kv.Branch("side").Set(ctx, "s", []byte("side")))
	top := must[strata.Hash](t)(main.Set(ctx, "m", []byte("main")))
	must[strata.Hash](t)(kv.Merge(ctx, "side", "main"))
	if err := kv.DeleteBranch(ctx, "side"); err != nil {
		t.Fatal(err)
	}

	// The value set by the 11th commit, the side commit's tree, and the
	// 101st commit itself.
	snap := must[*strata.Snapshot](t)(kv.At(ctx, hs[10].String()))
	vh, _, err := tree.New(node.NewStore(kv.Backend(), -1), snap.Commit().Tree).SubtreeHash(ctx, []string{"k"})
	if err != nil {
		t.Fatal(err)
	}
	sideSnap := must[*strata.Snapshot](t)(kv.At(ctx, sh.String()))
	damage(t, kv, vh, nil)
	damage(t, kv, sideSnap.Commit().Tree, nil)
	damage(t, kv, hs[100], nil)

	rep := must[*strata.FsckReport](t)(kv.Fsck(ctx))
	type p struct{ Hash, Object, Where string }
	var got []p
	for _, pr := range rep.Problems {
		got = append(got, p{pr.Hash.String(), pr.Object, pr.Where})
	}
	// main~0 is the merge, main~1 the commit of m, main~2 = hs[n-1].
	want := []p{
		{hs[100].String(), "commit", fmt.Sprintf("main~%d", 2+(n-1-100))},
		{sideSnap.Commit().Tree.String(), "node", "main^2: commit " + sh.Short() + ": tree /"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	// The revisions resolve to the commits they describe.
	if h := must[strata.Hash](t)(kv.Resolve(ctx, "main~1")); h != top {
		t.Errorf("main~1 = %s, want the commit of m %s", h, top)
	}
	if h := must[strata.Hash](t)(kv.Resolve(ctx, fmt.Sprintf("main~%d", 2+(n-1-100)))); h != hs[100] {
		t.Errorf("main~%d = %s, want %s", 2+(n-1-100), h, hs[100])
	}
	// The value below the missing commit is not reached (the history is
	// cut there), so it is not reported; fsck from the 11th commit finds it.
	rep = must[*strata.FsckReport](t)(kv.Fsck(ctx, hs[20].String()))
	got = nil
	for _, pr := range rep.Problems {
		got = append(got, p{pr.Hash.String(), pr.Object, pr.Where})
	}
	want = []p{{vh.String(), "contents", fmt.Sprintf("%s~10: commit %s: tree /k", hs[20], hs[10].Short())}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems from %s (-want +got):\n%s", hs[20].Short(), diff)
	}
}

// TestFsckCommitGraphRuns: fsck of the whole store checks the commit-graph
// runs, which GC keeps (and refuses to run past when damaged): a run
// whose bytes are flipped is corrupt, one deleted is missing, and one
// that starts at another commit than its ref names is corrupt; each is
// one Problem naming the run object and the commit of its ref.
func TestFsckCommitGraphRuns(t *testing.T) {
	kv := openMem(t)
	for i := range 70 {
		must[strata.Hash](t)(kv.Branch("main").Set(ctx, fmt.Sprintf("k%d", i%5), []byte(fmt.Sprint(i))))
	}
	strata.WaitCommitGraph(kv)
	refs := must[[]backend.Ref](t)(kv.Backend().ListRefs(ctx, commit.GraphRefPrefix))
	if len(refs) != 1 {
		t.Fatalf("commit-graph refs %v; want one", refs)
	}
	name, run := refs[0].Name, refs[0].Hash
	of := strings.TrimPrefix(name, commit.GraphRefPrefix)
	if rep := must[*strata.FsckReport](t)(kv.Fsck(ctx)); len(rep.Problems) != 0 {
		t.Fatalf("clean store: %v", rep.Problems)
	}
	orig := must[[]byte](t)(kv.Backend().Get(ctx, run))
	flipped := append([]byte{}, orig...)
	flipped[len(flipped)-1] ^= 1
	// A run that decodes but belongs to another commit: the same run
	// without its first entry.
	es := must[[]commit.GraphEntry](t)(commit.DecodeRun(orig))
	other := commit.EncodeRun(es[1:])
	otherHash := backend.Object{Hash: codec.Sum(other), Data: other}
	for _, tc := range []struct {
		name   string
		damage func()
		hash   strata.Hash
		want   error
	}{
		{"flipped", func() { damage(t, kv, run, flipped) }, run, strata.ErrCorrupt},
		{"deleted", func() { damage(t, kv, run, nil) }, run, strata.ErrMissing},
		{"another commit's", func() {
			if err := kv.Backend().Put(ctx, []backend.Object{otherHash}); err != nil {
				t.Fatal(err)
			}
			if err := kv.Backend().CompareAndSwapRef(ctx, name, run, otherHash.Hash); err != nil {
				t.Fatal(err)
			}
		}, otherHash.Hash, strata.ErrCorrupt},
	} {
		tc.damage()
		if tc.hash == run {
			if _, err := kv.GC(ctx, strata.GCGrace(0)); !errors.Is(err, tc.want) {
				t.Errorf("%s: GC = %v; want it refused", tc.name, err)
			}
		}
		rep := must[*strata.FsckReport](t)(kv.Fsck(ctx))
		want := []strata.Problem{{Hash: tc.hash, Object: "commit-graph run", Where: of}}
		if d := cmp.Diff(want, rep.Problems, cmpopts.IgnoreFields(strata.Problem{}, "Err")); d != "" {
			t.Errorf("%s: problems (-want +got):\n%s", tc.name, d)
		} else if !errors.Is(rep.Problems[0].Err, tc.want) || rep.Problems[0].IsRef() {
			t.Errorf("%s: problem %v; want one wrapping %v, not a ref's", tc.name, rep.Problems[0], tc.want)
		}
		// Repair for the next case.
		damage(t, kv, run, orig)
		if err := kv.Backend().CompareAndSwapRef(ctx, name, tc.hash, run); err != nil && tc.hash != run {
			t.Fatal(err)
		}
	}
	if rep := must[*strata.FsckReport](t)(kv.Fsck(ctx)); len(rep.Problems) != 0 {
		t.Errorf("after the repairs: %v", rep.Problems)
	}
}
