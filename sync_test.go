package strata_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/internal/redistest"
	"github.com/stratakv/strata/transfer"
)

// objectSet lists every object a store holds.
func objectSet(t *testing.T, kv *strata.KV) map[strata.Hash]bool {
	t.Helper()
	strata.WaitCommitGraph(kv) // the commit-graph runs of kv's commits so far are stored
	l, ok := kv.Backend().(backend.ObjectLister)
	if !ok {
		t.Fatal("backend lists no objects")
	}
	set := map[strata.Hash]bool{}
	if err := l.ListObjects(context.Background(), nil, func(h backend.Hash) error { set[h] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	return set
}

func memKV(t *testing.T) *strata.KV {
	t.Helper()
	kv, err := strata.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kv.Close() })
	return kv
}

func longValue(i int) []byte {
	return []byte(fmt.Sprintf("value %d, long enough to be a contents object of its own", i))
}

// history writes n commits on main, each setting one of 300 keys.
func history(t *testing.T, kv *strata.KV, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		if _, err := kv.Branch("main").Set(ctx, fmt.Sprintf("d%d/k%d", i%7, i%300), longValue(i)); err != nil {
			t.Fatal(err)
		}
	}
}

func fsckClean(t *testing.T, kv *strata.KV) {
	t.Helper()
	rep, err := kv.Fsck(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) > 0 {
		t.Fatalf("fsck: %v", rep.Problems)
	}
}

func TestSyncIncrementalPushSendsOnlyNewObjects(t *testing.T) {
	ctx := context.Background()
	src, dst := memKV(t), memKV(t)
	history(t, src, 1000)
	if _, err := strata.Clone(ctx, src, dst); err != nil {
		t.Fatal(err)
	}
	before := objectSet(t, src)
	if _, err := src.Branch("main").Update(ctx, func(tx *strata.Tx) error {
		for i := 0; i < 10; i++ {
			if err := tx.Set(fmt.Sprintf("d%d/k%d", i%7, i*29), []byte(fmt.Sprintf("new value %d, long enough for a contents object", i))); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var want []strata.Hash
	for h := range objectSet(t, src) {
		if !before[h] {
			want = append(want, h)
		}
	}
	dstBefore := objectSet(t, dst)
	st, err := src.Push(ctx, dst, "main")
	if err != nil {
		t.Fatal(err)
	}
	var got []strata.Hash
	for h := range objectSet(t, dst) {
		if !dstBefore[h] {
			got = append(got, h)
		}
	}
	sortHashes := func(hs []strata.Hash) {
		for i := range hs {
			for j := i + 1; j < len(hs); j++ {
				if hs[j].String() < hs[i].String() {
					hs[i], hs[j] = hs[j], hs[i]
				}
			}
		}
	}
	sortHashes(want)
	sortHashes(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("objects sent (-commit's new objects +received):\n%s", diff)
	}
	if st.Objects != len(want) {
		t.Errorf("stats: %d objects sent, want %d", st.Objects, len(want))
	}
	t.Logf("incremental push: %d objects, %d bytes, %d round trips", st.Objects, st.Bytes, st.RoundTrips)
	heads(t, src, dst)
	fsckClean(t, dst)
	// Nothing new: nothing sent.
	st, err = src.Push(ctx, dst, "main")
	if err != nil || st.Objects != 0 {
		t.Fatalf("second push: %v, %+v", err, st)
	}
}

// heads checks that a and b have the same branches at the same commits.
func heads(t *testing.T, a, b *strata.KV) {
	t.Helper()
	ba, err := a.Branches(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	bb, err := b.Branches(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ba, bb); diff != "" {
		t.Errorf("branches differ (-a +b):\n%s", diff)
	}
}

// reachable returns the objects reachable from kv's branches, copied
// into an empty store by the transfer engine (which re-hashes each).
func reachable(t *testing.T, kv *strata.KV) map[strata.Hash]bool {
	t.Helper()
	bs, err := kv.Branches(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var hs []backend.Hash
	for _, b := range bs {
		hs = append(hs, b.Head)
	}
	m := mem.New()
	if _, err := transfer.Objects(context.Background(), kv.Backend(), m, hs, transfer.Options{}); err != nil {
		t.Fatal(err)
	}
	return objectSet(t, strata.New(m))
}

// sameObjects checks that fsck is clean on a and b and that the objects
// reachable from their branches are the same.
func sameObjects(t *testing.T, a, b *strata.KV) {
	t.Helper()
	fsckClean(t, a)
	fsckClean(t, b)
	if diff := cmp.Diff(reachable(t, a), reachable(t, b)); diff != "" {
		t.Errorf("reachable objects differ:\n%s", diff)
	}
}

func TestSyncBothWays(t *testing.T) {
	stores := map[string]func(t *testing.T) string{
		"mem":    func(t *testing.T) string { return "mem://" },
		"pebble": func(t *testing.T) string { return t.TempDir() },
		"redis":  func(t *testing.T) string { return redistest.Start(t).URL("sync") },
	}
	for _, from := range []string{"mem", "pebble", "redis"} {
		for _, to := range []string{"mem", "pebble", "redis"} {
			t.Run(from+"-"+to, func(t *testing.T) {
				bothWays(t, stores[from](t), stores[to](t))
			})
		}
	}
}

func open(t *testing.T, u string) *strata.KV {
	t.Helper()
	kv, err := strata.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kv.Close() })
	return kv
}

func bothWays(t *testing.T, srcURL, dstURL string) {
	ctx := context.Background()
	a, b := open(t, srcURL), open(t, dstURL)
	history(t, a, 20)
	if _, err := a.Branch("dev").Set(ctx, "dev/x", longValue(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := strata.Clone(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	heads(t, a, b)
	for i := 0; i < 50; i++ {
		if _, err := a.Branch("main").Set(ctx, fmt.Sprintf("a/%d", i%9), longValue(i)); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Branch("main").Set(ctx, fmt.Sprintf("b/%d", i%9), longValue(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Merge(ctx, "dev", "main"); err != nil {
		t.Fatal(err)
	}
	// b pulls a (a merge commit), pushes back (a fast-forward for a).
	if _, err := b.Pull(ctx, a, "origin", "main"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Push(ctx, a, "main"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Pull(ctx, b, "b", "main"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Pull(ctx, a, "origin", "dev"); err != nil {
		t.Fatal(err)
	}
	ha, _ := a.Branch("main").Head(ctx)
	hb, _ := b.Branch("main").Head(ctx)
	if ha != hb {
		t.Fatalf("heads differ: %s %s", ha, hb)
	}
	heads(t, a, b)
	sameObjects(t, a, b)
	for _, k := range []string{"a/3", "b/3", "dev/x"} {
		va, err := a.Branch("main").Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		vb, err := b.Branch("main").Get(ctx, k)
		if err != nil || string(va) != string(vb) {
			t.Fatalf("%s: %q %q %v", k, va, vb, err)
		}
	}
}

func TestSyncInterruptedPush(t *testing.T) {
	ctx := context.Background()
	src := memKV(t)
	dst := open(t, t.TempDir())
	history(t, src, 10)
	if _, err := strata.Clone(ctx, src, dst); err != nil {
		t.Fatal(err)
	}
	old, _ := dst.Branch("main").Head(ctx)
	history(t, src, 200)
	before := objectSet(t, dst)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, err := src.Push(cctx, dst, "main", strata.TransferBatch(16), strata.Progress(func(s strata.SyncStats) {
		if s.Objects >= 3*16 {
			cancel()
		}
	}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("push: %v, want context.Canceled", err)
	}
	if h, _ := dst.Branch("main").Head(ctx); h != old {
		t.Fatalf("head moved to %s", h)
	}
	fsckClean(t, dst)
	partial := objectSet(t, dst)
	if len(partial)-len(before) != 3*16 {
		t.Fatalf("%d objects landed, want %d", len(partial)-len(before), 3*16)
	}
	st, err := src.Push(ctx, dst, "main", strata.TransferBatch(16))
	if err != nil {
		t.Fatal(err)
	}
	after := objectSet(t, dst)
	if st.Objects != len(after)-len(partial) {
		t.Errorf("rerun sent %d objects, but %d were missing", st.Objects, len(after)-len(partial))
	}
	heads(t, src, dst)
	sameObjects(t, src, dst)
}

func TestSyncNonFastForwardPush(t *testing.T) {
	ctx := context.Background()
	a, b := memKV(t), memKV(t)
	history(t, a, 5)
	if _, err := strata.Clone(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	a.Branch("main").Set(ctx, "x", []byte("a"))
	b.Branch("main").Set(ctx, "x", []byte("b"))
	ha, _ := a.Branch("main").Head(ctx)
	_, err := b.Push(ctx, a, "main")
	if !errors.Is(err, strata.ErrConflict) || !strings.Contains(err.Error(), "pull first") {
		t.Fatalf("push: %v, want ErrConflict saying to pull first", err)
	}
	if h, _ := a.Branch("main").Head(ctx); h != ha {
		t.Fatal("rejected push moved the head")
	}
	if _, err := b.Push(ctx, a, "main", strata.Force()); err != nil {
		t.Fatal(err)
	}
	heads(t, a, b)
}

func TestSyncPullConflict(t *testing.T) {
	ctx := context.Background()
	a, b := memKV(t), memKV(t)
	history(t, a, 5)
	if _, err := strata.Clone(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	a.Branch("main").Set(ctx, "x", []byte("a"))
	hb, _ := b.Branch("main").Set(ctx, "x", []byte("b"))
	_, err := b.Pull(ctx, a, "origin", "main")
	var mc *strata.MergeConflictError
	if !errors.As(err, &mc) || !errors.Is(err, strata.ErrConflict) {
		t.Fatalf("pull: %v, want *MergeConflictError", err)
	}
	if h, _ := b.Branch("main").Head(ctx); h != hb {
		t.Fatal("conflicting pull moved the branch")
	}
	if _, err := b.Pull(ctx, a, "origin", "main", strata.FastForwardOnly()); !errors.Is(err, strata.ErrConflict) {
		t.Fatalf("ff-only pull: %v", err)
	}
}

func TestSyncShallowClone(t *testing.T) {
	ctx := context.Background()
	a, b := memKV(t), memKV(t)
	history(t, a, 30)
	st, err := strata.Clone(ctx, a, b, strata.Depth(5))
	if err != nil {
		t.Fatal(err)
	}
	full, err := strata.Clone(ctx, a, memKV(t))
	if err != nil {
		t.Fatal(err)
	}
	if st.Objects >= full.Objects {
		t.Errorf("shallow clone sent %d objects, a full one %d", st.Objects, full.Objects)
	}
	for i := 25; i < 30; i++ {
		v, err := b.Branch("main").Get(ctx, fmt.Sprintf("d%d/k%d", i%7, i%300))
		if err != nil || string(v) != string(longValue(i)) {
			t.Fatalf("read: %q %v", v, err)
		}
	}
	refs, err := b.Backend().ListRefs(ctx, "shallow/")
	if err != nil || len(refs) != 1 {
		t.Fatalf("shallow refs %v %v", refs, err)
	}
	cut, _ := a.Resolve(ctx, "main~4")
	if refs[0].Hash != cut {
		t.Errorf("cut at %s, want main~4 %s", refs[0].Hash, cut)
	}
	if _, err := b.Branch("main").Set(ctx, "new", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Push(ctx, a, "main"); err != nil {
		t.Fatal(err)
	}
	heads(t, a, b)
	fsckClean(t, a)
}

// TestSyncFromAShallowStore: a clone of a shallow clone, and a push from a
// shallow clone into an empty store, carry the cut along (a shallow ref in
// the destination), so the destination is not damaged: log ends at the
// cut and fsck is clean. Depth is refused by Fetch and Push, which would
// otherwise cut a history the store holds in full.
func TestSyncFromAShallowStore(t *testing.T) {
	ctx := context.Background()
	a, mid := memKV(t), memKV(t)
	history(t, a, 20)
	if _, err := strata.Clone(ctx, a, mid, strata.Depth(3)); err != nil {
		t.Fatal(err)
	}
	cloned, pushed := memKV(t), memKV(t)
	if _, err := strata.Clone(ctx, mid, cloned); err != nil {
		t.Fatal(err)
	}
	if _, err := mid.Push(ctx, pushed, "main"); err != nil {
		t.Fatal(err)
	}
	for name, kv := range map[string]*strata.KV{"clone of a shallow clone": cloned, "push from a shallow clone": pushed} {
		refs, err := kv.Backend().ListRefs(ctx, "shallow/")
		if err != nil || len(refs) != 1 {
			t.Errorf("%s: shallow refs %v, %v; want the one cut", name, refs, err)
		}
		log, err := kv.Log(ctx, "main", 0)
		if err != nil || len(log) != 3 || !log[len(log)-1].Shallow {
			t.Errorf("%s: log of %d commits, %v; want 3 ending at the cut", name, len(log), err)
		}
		fsckClean(t, kv)
	}
	full := memKV(t)
	if _, err := strata.Clone(ctx, a, full); err != nil {
		t.Fatal(err)
	}
	history(t, a, 2)
	if _, err := full.Fetch(ctx, a, "origin", strata.Depth(1)); !errors.Is(err, strata.ErrInvalidOption) {
		t.Errorf("Fetch with Depth: %v, want ErrInvalidOption", err)
	}
	if _, err := full.Push(ctx, a, "main", strata.Depth(1)); !errors.Is(err, strata.ErrInvalidOption) {
		t.Errorf("Push with Depth: %v, want ErrInvalidOption", err)
	}
	if refs, err := full.Backend().ListRefs(ctx, "shallow/"); err != nil || len(refs) != 0 {
		t.Errorf("a full store got shallow refs %v, %v", refs, err)
	}
}

// TestWriteCommitGraphOnAShallowClone: writing the commit graph of a
// shallow clone stops at its cut instead of failing on the parents that
// are absent by design, and writes no run that reaches past it.
func TestWriteCommitGraphOnAShallowClone(t *testing.T) {
	ctx := context.Background()
	a, b := memKV(t), memKV(t)
	history(t, a, 200)
	if _, err := strata.Clone(ctx, a, b, strata.Depth(100)); err != nil {
		t.Fatal(err)
	}
	// Runs start at heights 192 and 128; the one at 128 would reach below
	// the cut at height 101, so only the one at 192 is written.
	n, err := b.WriteCommitGraph(ctx)
	if err != nil || n != 1 {
		t.Fatalf("WriteCommitGraph = %d, %v; want 1 run", n, err)
	}
	if _, err := b.Branch("main").Set(ctx, "new", []byte("v")); err != nil {
		t.Fatal(err)
	}
	bases, err := b.MergeBase(ctx, "main", "main~90")
	if want, _ := b.Resolve(ctx, "main~90"); err != nil || len(bases) != 1 || bases[0] != want {
		t.Errorf("MergeBase over the graph: %v, %v", bases, err)
	}
	fsckClean(t, b)
}

// TestSyncCloneRerun: a Clone interrupted after it made some of its refs
// is completed by running it again, which sends no object twice; a
// destination with a branch of its own is still refused.
func TestSyncCloneRerun(t *testing.T) {
	ctx := context.Background()
	src := open(t, filepath.Join(t.TempDir(), "src"))
	history(t, src, 10)
	if _, err := src.Branch("feature").Set(ctx, "f", []byte("1")); err != nil {
		t.Fatal(err)
	}
	dst := open(t, filepath.Join(t.TempDir(), "dst"))
	if _, err := strata.Clone(ctx, src, dst); err != nil {
		t.Fatal(err)
	}
	// As if the first run had stopped before its last refs: drop one
	// branch, its tracking ref and the remote.
	if err := dst.Backend().(backend.RefRepairer).DeleteRef(ctx, "heads/feature"); err != nil {
		t.Fatal(err)
	}
	if err := dst.Backend().(backend.RefRepairer).DeleteRef(ctx, "remotes/origin/feature"); err != nil {
		t.Fatal(err)
	}
	st, err := strata.Clone(ctx, src, dst)
	if err != nil {
		t.Fatalf("rerun: %v", err)
	}
	if st.Objects != 0 {
		t.Errorf("rerun sent %d objects, want 0", st.Objects)
	}
	heads(t, src, dst)
	fsckClean(t, dst)
	if _, err := dst.Branch("own").Set(ctx, "x", []byte("y")); err != nil {
		t.Fatal(err)
	}
	if _, err := strata.Clone(ctx, src, dst); !errors.Is(err, strata.ErrExists) {
		t.Errorf("clone into a store with a branch of its own: %v, want ErrExists", err)
	}
}

// TestSyncPushTracking: with Tracking, a successful push points the
// remote-tracking ref NAME/BRANCH at the pushed head; without it, Push
// leaves local refs alone; a bad name is an ErrInvalidOption.
func TestSyncPushTracking(t *testing.T) {
	ctx := context.Background()
	a, b := memKV(t), memKV(t)
	history(t, a, 3)
	if _, err := strata.Clone(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	h, err := b.Branch("main").Set(ctx, "new", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Push(ctx, a, "main"); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Resolve(ctx, "origin/main"); got == h {
		t.Errorf("origin/main moved by a push without Tracking")
	}
	if _, err := b.Push(ctx, a, "main", strata.Tracking("origin")); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Resolve(ctx, "origin/main"); err != nil || got != h {
		t.Errorf("origin/main after a push with Tracking = %s, %v; want %s", got, err, h)
	}
	if _, err := b.Push(ctx, a, "main", strata.Tracking("bad/name")); !errors.Is(err, strata.ErrInvalidOption) {
		t.Errorf("Tracking(\"bad/name\"): %v, want ErrInvalidOption", err)
	}
}
