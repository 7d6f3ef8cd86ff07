package strata_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/backend/pebble"
	"github.com/stratakv/strata/internal/redistest"
	"github.com/stratakv/strata/transfer"
)

// gcStores are the backends GC runs on in the tests.
var gcStores = map[string]func(t *testing.T) string{
	"mem":    func(t *testing.T) string { return "mem://" },
	"pebble": func(t *testing.T) string { return t.TempDir() },
	"redis":  func(t *testing.T) string { return redistest.Start(t).URL("gc") },
}

// reachableFromBranches returns the objects reachable from kv's
// branches, copied by the transfer engine into an empty store (the
// test's model of what GC must keep when branches are the only refs).
// Commits marked shallow end the walk, as they end a clone's.
func reachableFromBranches(t *testing.T, kv *strata.KV) map[strata.Hash]bool {
	t.Helper()
	bs, err := kv.Branches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var hs []backend.Hash
	for _, b := range bs {
		hs = append(hs, b.Head)
	}
	cut, err := kv.Backend().ListRefs(ctx, "shallow/")
	if err != nil {
		t.Fatal(err)
	}
	stop := map[backend.Hash]bool{}
	for _, r := range cut {
		stop[r.Hash] = true
	}
	m := mem.New()
	if _, err := transfer.Objects(ctx, kv.Backend(), m, hs, transfer.Options{Stop: stop}); err != nil {
		t.Fatal(err)
	}
	return objectSet(t, strata.New(m))
}

// TestGCDeletedBranch: after a branch is deleted, GC deletes exactly the
// objects only it reached (counted, bytes too), and everything main
// reaches is intact: fsck clean, every value readable, the same objects;
// on mem, Pebble, Redis and a 3-master Redis Cluster (objects spread over
// slots: SCAN on every master, pipelined deletes split by slot).
func TestGCDeletedBranch(t *testing.T) {
	stores := map[string]func(t *testing.T) string{
		"redis-cluster": func(t *testing.T) string { return redistest.StartCluster(t, 3).URL("gc") },
	}
	for name, store := range gcStores {
		stores[name] = store
	}
	for name, store := range stores {
		t.Run(name, func(t *testing.T) {
			kv := open(t, store(t))
			history(t, kv, 40)
			if _, err := kv.Branch("feature").Reset(ctx, "main"); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 20; i++ {
				if _, err := kv.Branch("feature").Set(ctx, fmt.Sprintf("f/k%d", i), longValue(1000+i)); err != nil {
					t.Fatal(err)
				}
			}
			want := dumpAt(t, kv, "main")
			before := objectSet(t, kv)
			if err := kv.DeleteBranch(ctx, "feature"); err != nil {
				t.Fatal(err)
			}
			live := reachableFromBranches(t, kv)
			var wantFreed int64
			gone := 0
			for h := range before {
				if !live[h] {
					gone++
					b, err := kv.Backend().Get(ctx, h)
					if err != nil {
						t.Fatal(err)
					}
					wantFreed += int64(len(b))
				}
			}
			if gone < 40 {
				t.Fatalf("only %d objects unique to the branch; the test needs more", gone)
			}
			st, err := kv.GC(ctx, strata.GCGrace(0))
			if err != nil {
				t.Fatal(err)
			}
			if st.Deleted != gone || st.Freed != wantFreed || st.Listed != len(before) || st.Marked != len(live) {
				t.Errorf("GC stats %+v; want Deleted %d, Freed %d, Listed %d, Marked %d", st, gone, wantFreed, len(before), len(live))
			}
			if diff := cmp.Diff(live, objectSet(t, kv)); diff != "" {
				t.Errorf("objects after GC are not those main reaches (-want +got):\n%s", diff)
			}
			fsckClean(t, kv)
			if diff := cmp.Diff(want, dumpAt(t, kv, "main")); diff != "" {
				t.Errorf("main changed (-before +after):\n%s", diff)
			}
			again, err := kv.GC(ctx, strata.GCGrace(0))
			if err != nil || again.Deleted != 0 {
				t.Errorf("second GC deleted %d objects, %v; want 0", again.Deleted, err)
			}
		})
	}
}

// dumpAt returns every path and value at revision rev.
func dumpAt(t *testing.T, kv *strata.KV, rev string) map[string]string {
	t.Helper()
	m, err := dumpRev(kv, rev)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGCDryRun: a dry run reports what a real run then deletes, and
// deletes nothing.
func TestGCDryRun(t *testing.T) {
	kv := memKV(t)
	history(t, kv, 20)
	must[strata.Hash](t)(kv.Branch("tmp").Reset(ctx, "main"))
	for i := 0; i < 10; i++ {
		must[strata.Hash](t)(kv.Branch("tmp").Set(ctx, fmt.Sprintf("t%d", i), longValue(500+i)))
	}
	if err := kv.DeleteBranch(ctx, "tmp"); err != nil {
		t.Fatal(err)
	}
	before := objectSet(t, kv)
	dry, err := kv.GC(ctx, strata.DryRun())
	if err != nil {
		t.Fatal(err)
	}
	if !dry.DryRun || dry.Deleted == 0 || dry.Fenced {
		t.Fatalf("dry run stats %+v; want objects to delete", dry)
	}
	if diff := cmp.Diff(before, objectSet(t, kv)); diff != "" {
		t.Fatalf("dry run changed the store:\n%s", diff)
	}
	real, err := kv.GC(ctx, strata.GCGrace(0))
	if err != nil {
		t.Fatal(err)
	}
	if real.Deleted != dry.Deleted || real.Freed != dry.Freed {
		t.Errorf("GC deleted %d objects (%d bytes), dry run said %d (%d)", real.Deleted, real.Freed, dry.Deleted, dry.Freed)
	}
}

// TestGCKeepsEveryRefNamespace: tags, remote-tracking refs, remotes' URLs
// and commit-graph runs keep their objects alive.
func TestGCKeepsEveryRefNamespace(t *testing.T) {
	ctx := context.Background()
	up, kv := memKV(t), memKV(t)
	history(t, up, 10)
	if err := kv.AddRemote(ctx, "origin", t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if _, err := strata.Clone(ctx, up, kv); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Branch("tagged").Reset(ctx, "main"); err != nil {
		t.Fatal(err)
	}
	must[strata.Hash](t)(kv.Branch("tagged").Set(ctx, "only-tagged", longValue(77)))
	must[strata.Hash](t)(kv.Tag(ctx, "v1", "tagged"))
	if err := kv.DeleteBranch(ctx, "tagged"); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.WriteCommitGraph(ctx); err != nil {
		t.Fatal(err)
	}
	before := objectSet(t, kv)
	st, err := kv.GC(ctx, strata.GCGrace(0))
	if err != nil {
		t.Fatal(err)
	}
	if st.Deleted != 0 {
		t.Errorf("GC deleted %d objects that refs reach", st.Deleted)
	}
	if diff := cmp.Diff(before, objectSet(t, kv)); diff != "" {
		t.Errorf("GC changed the store:\n%s", diff)
	}
	if v, err := kv.Branch("main").Get(ctx, "d0/k0"); err != nil || len(v) == 0 {
		t.Errorf("main: %q, %v", v, err)
	}
	fsckClean(t, kv)
}

// TestGCShallowClone: in a shallow clone the cut commits' parents are
// absent by design; GC marks through the cut without failing and deletes
// only what no ref reaches.
func TestGCShallowClone(t *testing.T) {
	a, b := memKV(t), memKV(t)
	history(t, a, 30)
	if _, err := strata.Clone(ctx, a, b, strata.Depth(5)); err != nil {
		t.Fatal(err)
	}
	must[strata.Hash](t)(b.Branch("x").Reset(ctx, "main"))
	must[strata.Hash](t)(b.Branch("x").Set(ctx, "x", longValue(9999)))
	if err := b.DeleteBranch(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	want := dumpAt(t, b, "main")
	live := reachableFromBranches(t, b)
	before := objectSet(t, b)
	st, err := b.GC(ctx, strata.GCGrace(0))
	if err != nil {
		t.Fatal(err)
	}
	if gone := len(before) - len(live); st.Deleted != gone || gone < 3 {
		t.Errorf("GC deleted %d objects; want the %d (at least 3: commit, root, value) of branch x", st.Deleted, gone)
	}
	if diff := cmp.Diff(live, objectSet(t, b)); diff != "" {
		t.Errorf("objects after GC (-want +got):\n%s", diff)
	}
	fsckClean(t, b)
	if diff := cmp.Diff(want, dumpAt(t, b, "main")); diff != "" {
		t.Errorf("main changed:\n%s", diff)
	}
	log, err := b.Log(ctx, "main", 0)
	if err != nil || len(log) != 5 {
		t.Errorf("log of the shallow clone: %d commits, %v; want 5", len(log), err)
	}
}

// TestGCStopsOnDamage: a store missing a reachable object makes GC stop
// with ErrMissing before it deletes anything.
func TestGCStopsOnDamage(t *testing.T) {
	kv := memKV(t)
	history(t, kv, 20)
	must[strata.Hash](t)(kv.Branch("tmp").Reset(ctx, "main"))
	must[strata.Hash](t)(kv.Branch("tmp").Set(ctx, "garbage", longValue(4242)))
	if err := kv.DeleteBranch(ctx, "tmp"); err != nil {
		t.Fatal(err)
	}
	// Damage: drop the value of d0/k0 that main reaches.
	h := valueHash(t, kv, "main", "d0/k0")
	if err := kv.Backend().(backend.ObjectDeleter).DeleteObjects(ctx, []backend.Hash{h}); err != nil {
		t.Fatal(err)
	}
	before := objectSet(t, kv)
	st, err := kv.GC(ctx, strata.GCGrace(0))
	if !errors.Is(err, strata.ErrMissing) || !errors.Is(err, strata.ErrCorrupt) {
		t.Fatalf("GC on a damaged store: %v; want ErrMissing", err)
	}
	if st.Deleted != 0 {
		t.Errorf("GC deleted %d objects of a damaged store", st.Deleted)
	}
	if diff := cmp.Diff(before, objectSet(t, kv)); diff != "" {
		t.Errorf("GC changed a damaged store:\n%s", diff)
	}
}

// valueHash returns the hash of the contents object at path on rev: the
// one object of the store that differs between two stores holding the
// same tree except for that value.
func valueHash(t *testing.T, kv *strata.KV, rev, path string) strata.Hash {
	t.Helper()
	all := objectSet(t, kv)
	v := must[[]byte](t)(kv.Branch(rev).Get(ctx, path))
	for h := range all {
		b, err := kv.Backend().Get(ctx, h)
		if err == nil && strings.Contains(string(b), string(v)) && len(b) < len(v)+16 {
			return h
		}
	}
	t.Fatalf("no contents object holds %q", v)
	return strata.Hash{}
}

// dirSize returns the bytes of the files under dir.
func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed by Pebble while we walk: counts as gone
		}
		if err != nil {
			return err
		}
		if !d.IsDir() {
			info, err := d.Info()
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestGCPebbleReturnsDiskSpace: GC of a deleted branch holding 8 MB of
// values shrinks the Pebble directory by most of it.
func TestGCPebbleReturnsDiskSpace(t *testing.T) {
	dir := t.TempDir()
	kv, err := strata.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	must[strata.Hash](t)(kv.Branch("main").Set(ctx, "keep", []byte("small")))
	big := make([]byte, 64<<10)
	rng := rand.NewChaCha8([32]byte{1})
	must[strata.Hash](t)(kv.Branch("big").Update(ctx, func(tx *strata.Tx) error {
		for i := 0; i < 128; i++ {
			rng.Read(big) // incompressible
			if err := tx.Set(fmt.Sprintf("blob/%d", i), big); err != nil {
				return err
			}
		}
		return nil
	}))
	if err := kv.DeleteBranch(ctx, "big"); err != nil {
		t.Fatal(err)
	}
	// Reopen: the log is replayed into tables, as in a store that has
	// been running a while.
	if err := kv.Close(); err != nil {
		t.Fatal(err)
	}
	kv = open(t, dir)
	before := dirSize(t, dir)
	st, err := kv.GC(ctx, strata.GCGrace(0))
	if err != nil {
		t.Fatal(err)
	}
	// Pebble removes the compacted tables in the background, moments
	// after the compaction: wait for the directory to shrink (or give up).
	after := dirSize(t, dir)
	for deadline := time.Now().Add(time.Minute); before-after < 6<<20 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		after = dirSize(t, dir)
	}
	if !st.Compacted || st.Freed < 8<<20 {
		t.Errorf("GC stats %+v; want 8 MiB freed and a compaction", st)
	}
	if before < 8<<20 || before-after < 6<<20 {
		t.Errorf("directory %d bytes before GC, %d after: shrank by less than 6 MiB", before, after)
	}
	t.Logf("directory: %d bytes before GC, %d after; GC freed %d bytes", before, after, st.Freed)
	if v, err := kv.Branch("main").Get(ctx, "keep"); err != nil || string(v) != "small" {
		t.Errorf("main after GC: %q, %v", v, err)
	}
}

// oldHistory writes, on branch old, the commits the writers of
// concurrentGC will make (p<id>/k<i> = i for each writer), and deletes
// the branch: its directory objects become garbage that the writers
// write again while GC deletes it (Put of an object present is a no-op),
// the case GC's re-checks and last check exist for.
func oldHistory(t *testing.T, kv *strata.KV, ids []string, n int) {
	t.Helper()
	for _, id := range ids {
		for i := 0; i < n; i++ {
			if _, err := kv.Branch("old").Set(ctx, fmt.Sprintf("p%s/k%04d", id, i), []byte(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := 0; i < 50; i++ {
		must[strata.Hash](t)(kv.Branch("old").Set(ctx, fmt.Sprintf("junk/%d", i), longValue(i)))
	}
	if err := kv.DeleteBranch(ctx, "old"); err != nil {
		t.Fatal(err)
	}
}

// gcUntil runs GC with a short grace period again and again until done
// is closed, and returns the total deleted.
func gcUntil(t *testing.T, kv *strata.KV, done <-chan struct{}) (deleted, runs int) {
	t.Helper()
	for {
		st, err := kv.GC(ctx, strata.GCGrace(20*time.Millisecond))
		if err != nil {
			t.Errorf("GC while writers commit: %v", err)
			return deleted, runs
		}
		deleted += st.Deleted
		runs++
		select {
		case <-done:
			return deleted, runs
		default:
		}
	}
}

// checkAcked checks that fsck is clean (every object main's history
// reaches is there and intact), that every acknowledged commit is in
// main's history, and that main holds every writer's keys.
func checkAcked(t *testing.T, kv *strata.KV, acked []string, ids []string, n int) {
	t.Helper()
	fsckClean(t, kv)
	log, err := kv.Log(ctx, "main", 0)
	if err != nil {
		t.Fatal(err)
	}
	inLog := map[string]bool{}
	for _, c := range log {
		inLog[c.Hash.String()] = true
	}
	for _, h := range acked {
		if !inLog[h] {
			t.Errorf("acknowledged commit %s is not in main's history", h)
		}
	}
	got := dumpAt(t, kv, "main")
	for _, id := range ids {
		for i := 0; i < n; i++ {
			k := fmt.Sprintf("p%s/k%04d", id, i)
			if got[k] != fmt.Sprint(i) {
				t.Errorf("main: %s = %q, want %q", k, got[k], fmt.Sprint(i))
			}
		}
	}
}

// TestGCWithWriterProcesses: GC runs again and again while 4 writer
// processes commit through Redis (each prints every acknowledged commit),
// writing again directory objects that GC is deleting. Nothing is lost:
// every acknowledged commit is there, complete, and fsck is clean.
func TestGCWithWriterProcesses(t *testing.T) {
	srv := redistest.Start(t)
	u := srv.URL("gcw")
	kv := open(t, u)
	ids := []string{"1", "2", "3", "4"}
	const n = 400
	oldHistory(t, kv, ids, n)
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	for _, id := range ids {
		lines, cmd := startWriter(t, u, id, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := 0
			for l := range lines {
				f := strings.Fields(l)
				if len(f) != 3 || f[0] != "done" {
					t.Errorf("writer %s: %s", id, l)
					continue
				}
				mu.Lock()
				acked = append(acked, f[2])
				mu.Unlock()
				k++
			}
			if err := cmd.Wait(); err != nil || k != n {
				t.Errorf("writer %s: %d commits, exit %v", id, k, err)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	deleted, runs := gcUntil(t, kv, done)
	if deleted == 0 {
		t.Errorf("%d GC runs deleted nothing", runs)
	}
	t.Logf("%d GC runs deleted %d objects while 4 processes made %d commits", runs, deleted, len(acked))
	checkAcked(t, kv, acked, ids, n)
	if st, err := kv.GC(ctx, strata.GCGrace(0)); err != nil {
		t.Fatal(err)
	} else {
		t.Logf("final GC: %+v", st)
	}
	checkAcked(t, kv, acked, ids, n)
}

// TestGCWithWriterGoroutines: the same on Pebble, whose directory one
// process at a time can open for writing: the 4 writers are goroutines
// of the GC's process, each with its own KV on the one store.
func TestGCWithWriterGoroutines(t *testing.T) {
	kv := open(t, t.TempDir())
	ids := []string{"1", "2", "3", "4"}
	const n = 150
	oldHistory(t, kv, ids, n)
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	for _, id := range ids {
		w := strata.New(kv.Backend())
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				h, err := w.Branch("main").Set(ctx, fmt.Sprintf("p%s/k%04d", id, i), []byte(fmt.Sprint(i)))
				if err != nil {
					t.Errorf("writer %s: %v", id, err)
					return
				}
				mu.Lock()
				acked = append(acked, h.String())
				mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	deleted, runs := gcUntil(t, kv, done)
	if deleted == 0 {
		t.Errorf("%d GC runs deleted nothing", runs)
	}
	t.Logf("%d GC runs deleted %d objects while 4 goroutines made %d commits", runs, deleted, len(acked))
	checkAcked(t, kv, acked, ids, n)
}

// TestGCFenceKeepsWhatWritersStoreAgain: on a store that fences its
// writers (mem, Pebble, Redis on one server, and any of them through the
// HTTP store), objects that a writer stores again while GC runs
// are never deleted, even though no ref reached them at any check: a
// commit that lands on them after GC's deletes reads them at once, and
// nothing has to be restored. (Without the fence, they are deleted and
// stored again only at the last check.)
func TestGCFenceKeepsWhatWritersStoreAgain(t *testing.T) {
	stores := map[string]func(t *testing.T) string{
		"mem": gcStores["mem"], "pebble": gcStores["pebble"], "redis": gcStores["redis"],
		// through strata serve's protocol, to a mem store
		"http": func(t *testing.T) string { u, _ := serveStore(t); return u },
	}
	for _, name := range []string{"mem", "pebble", "redis", "http"} {
		t.Run(name, func(t *testing.T) {
			kv := open(t, stores[name](t))
			if _, ok := kv.Backend().(backend.ObjectFencer); !ok {
				t.Fatalf("%T does not fence its writers", kv.Backend())
			}
			history(t, kv, 10)
			before := objectSet(t, kv)
			must[strata.Hash](t)(kv.Branch("old").Reset(ctx, "main"))
			for i := 0; i < 5; i++ {
				must[strata.Hash](t)(kv.Branch("old").Set(ctx, fmt.Sprintf("old/%d", i), longValue(300+i)))
			}
			oldHead := must[strata.Hash](t)(kv.Resolve(ctx, "old"))
			want := dumpAt(t, kv, "old")
			var hs []backend.Hash // the objects only old reaches
			for h := range objectSet(t, kv) {
				if !before[h] {
					hs = append(hs, h)
				}
			}
			datas, err := backend.GetMany(ctx, kv.Backend(), hs)
			if err != nil {
				t.Fatal(err)
			}
			again := make([]backend.Object, len(hs))
			for i, h := range hs {
				again[i] = backend.Object{Hash: h, Data: datas[i]}
			}
			if len(again) < 10 { // 5 commits, their values and trees
				t.Fatalf("old reaches only %d objects main does not", len(again))
			}
			for i := 0; i < 5; i++ {
				must[strata.Hash](t)(kv.Branch("junk").Set(ctx, fmt.Sprintf("junk/%d", i), longValue(400+i)))
			}
			for _, b := range []string{"old", "junk"} {
				if err := kv.DeleteBranch(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			stored, landed := false, false
			st, err := kv.GC(ctx, strata.GCGrace(time.Millisecond), strata.GCProgressFunc(func(p strata.GCProgress) {
				switch {
				case p.Phase == "mark" && !stored:
					// A writer stores old's objects again (as a commit
					// that rebuilds the same trees does) after the listing.
					stored = true
					if err := kv.Backend().Put(ctx, again); err != nil {
						t.Error(err)
					}
				case p.Phase == "wait" && !landed:
					// Its commit lands after every delete and before the
					// last check: it must read whole at once.
					landed = true
					if err := kv.Backend().CompareAndSwapRef(ctx, "heads/revived", backend.ZeroHash, oldHead); err != nil {
						t.Error(err)
					}
					got, err := dumpRev(kv, "revived")
					if err != nil {
						t.Errorf("revived branch right after GC's deletes: %v", err)
					} else if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("revived branch right after GC's deletes (-want +got):\n%s", diff)
					}
				}
			}))
			if err != nil {
				t.Fatal(err)
			}
			if !stored || !landed {
				t.Fatalf("GC had no mark or no wait phase (stats %+v)", st)
			}
			if !st.Fenced || st.Deleted == 0 || st.Rescued < len(again) || st.Restored != 0 {
				t.Errorf("GC stats %+v; want junk deleted, the %d objects stored again kept, none restored", st, len(again))
			}
			fsckClean(t, kv)
			if diff := cmp.Diff(want, dumpAt(t, kv, "revived")); diff != "" {
				t.Errorf("revived branch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGCLastCheckRestores: a branch that comes to point at deleted
// history during the grace period (as a writer that read a commit before
// GC deleted it and lands after) has that history stored again by GC's
// last check; a branch that moves onto unreachable history during the
// mark keeps it (the check before each delete batch).
func TestGCLastCheckRestores(t *testing.T) {
	for _, phase := range []string{"wait", "mark"} {
		t.Run(phase, func(t *testing.T) {
			kv := memKV(t)
			history(t, kv, 10)
			must[strata.Hash](t)(kv.Branch("old").Reset(ctx, "main"))
			for i := 0; i < 5; i++ {
				must[strata.Hash](t)(kv.Branch("old").Set(ctx, fmt.Sprintf("old/%d", i), longValue(300+i)))
			}
			oldHead := must[strata.Hash](t)(kv.Resolve(ctx, "old"))
			want := dumpAt(t, kv, "old")
			if err := kv.DeleteBranch(ctx, "old"); err != nil {
				t.Fatal(err)
			}
			moved := false
			st, err := kv.GC(ctx, strata.GCGrace(time.Millisecond), strata.GCProgressFunc(func(p strata.GCProgress) {
				if p.Phase == phase && !moved {
					moved = true
					if err := kv.Backend().CompareAndSwapRef(ctx, "heads/revived", backend.ZeroHash, oldHead); err != nil {
						t.Error(err)
					}
				}
			}))
			if err != nil {
				t.Fatal(err)
			}
			if !moved {
				t.Fatalf("no %s phase", phase)
			}
			switch phase {
			case "wait":
				if st.Deleted == 0 || st.Restored == 0 {
					t.Errorf("GC stats %+v; want objects deleted and then restored", st)
				}
			case "mark":
				if st.Deleted != 0 || st.Rescued == 0 {
					t.Errorf("GC stats %+v; want every candidate rescued, none deleted", st)
				}
			}
			fsckClean(t, kv)
			if diff := cmp.Diff(want, dumpAt(t, kv, "revived")); diff != "" {
				t.Errorf("revived branch (-want +got):\n%s", diff)
			}
		})
	}
}

// narrowSpy is a store whose fences report what GC narrows them to
// (backend.FenceNarrower).
type narrowSpy struct {
	fencedStore
	mu  sync.Mutex
	may []func(backend.Hash) bool
}

// fencedStore is what GC uses of mem's and Pebble's stores.
type fencedStore interface {
	backend.Store
	backend.ObjectLister
	backend.ObjectScanner
	backend.ObjectFencer
}

type spyFence struct {
	backend.Fence
	s *narrowSpy
}

func (f spyFence) Narrow(may func(backend.Hash) bool) {
	f.s.mu.Lock()
	f.s.may = append(f.s.may, may)
	f.s.mu.Unlock()
	f.Fence.(backend.FenceNarrower).Narrow(may)
}

func (s *narrowSpy) FenceObjects(ctx context.Context) (backend.Fence, error) {
	f, err := s.fencedStore.FenceObjects(ctx)
	if err != nil {
		return nil, err
	}
	return spyFence{f, s}, nil
}

// ScanObjects hands GC the objects in descending hash order, so that a
// GC that searched its candidates without sorting them would miss some.
func (s *narrowSpy) ScanObjects(ctx context.Context, fn func(backend.Hash, []byte) error) error {
	var objs []backend.Object
	if err := s.fencedStore.ScanObjects(ctx, func(h backend.Hash, data []byte) error {
		objs = append(objs, backend.Object{Hash: h, Data: bytes.Clone(data)})
		return nil
	}); err != nil {
		return err
	}
	slices.SortFunc(objs, func(a, b backend.Object) int { return b.Hash.Compare(a.Hash) })
	for _, o := range objs {
		if err := fn(o.Hash, o.Data); err != nil {
			return err
		}
	}
	return nil
}

func (s *narrowSpy) DeleteObjectsFenced(ctx context.Context, f backend.Fence, hs []backend.Hash) ([]backend.Hash, error) {
	if sf, ok := f.(spyFence); ok {
		f = sf.Fence
	}
	return s.fencedStore.DeleteObjectsFenced(ctx, f, hs)
}

// TestGCNarrowsItsFence: before it deletes, GC narrows a fence kept in
// memory to exactly its candidates (the unreachable objects), so that the
// fence no longer grows with every object writers store. The spy's scan
// lists the objects in descending hash order.
func TestGCNarrowsItsFence(t *testing.T) {
	t.Run("mem", func(t *testing.T) { testGCNarrowsItsFence(t, mem.New()) })
	t.Run("pebble", func(t *testing.T) {
		ps, err := pebble.Open(ctx, t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		testGCNarrowsItsFence(t, ps)
	})
}

func testGCNarrowsItsFence(t *testing.T, store fencedStore) {
	s := &narrowSpy{fencedStore: store}
	kv := strata.New(s)
	defer kv.Close()
	history(t, kv, 10)
	reachable := objectSet(t, kv)
	for i := 0; i < 5; i++ {
		must[strata.Hash](t)(kv.Branch("junk").Set(ctx, fmt.Sprintf("junk/%d", i), longValue(500+i)))
	}
	var junk []strata.Hash
	for h := range objectSet(t, kv) {
		if !reachable[h] {
			junk = append(junk, h)
		}
	}
	if err := kv.DeleteBranch(ctx, "junk"); err != nil {
		t.Fatal(err)
	}
	st, err := kv.GC(ctx, strata.GCGrace(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if st.Deleted != len(junk) {
		t.Errorf("GC deleted %d objects, want the %d only junk reached", st.Deleted, len(junk))
	}
	if len(s.may) != 1 {
		t.Fatalf("GC narrowed its fence %d times, want once", len(s.may))
	}
	may := s.may[0]
	for _, h := range junk {
		if !may(h) {
			t.Errorf("the fence was narrowed without candidate %s", h.Short())
		}
	}
	for h := range reachable {
		if may(h) {
			t.Errorf("the fence was narrowed to reachable object %s too", h.Short())
		}
	}
	fsckClean(t, kv)
}

// TestGCCancelledReleasesItsFence: a GC on Redis cancelled while it
// deletes still removes its fence from the server (within a second, see
// KV.GC), instead of leaving it to lapse while every writer records into it.
func TestGCCancelledReleasesItsFence(t *testing.T) {
	srv := redistest.Start(t)
	kv := open(t, srv.URL("gc"))
	history(t, kv, 5)
	for i := 0; i < 5; i++ {
		must[strata.Hash](t)(kv.Branch("junk").Set(ctx, fmt.Sprintf("junk/%d", i), longValue(600+i)))
	}
	if err := kv.DeleteBranch(ctx, "junk"); err != nil {
		t.Fatal(err)
	}
	raw := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = raw.Close() })
	gcCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	fenced := int64(-1)
	st, err := kv.GC(gcCtx, strata.GCProgressFunc(func(p strata.GCProgress) {
		if p.Phase == "delete" && fenced < 0 {
			fenced, _ = raw.ZCard(ctx, "gc:fences").Result()
			cancel()
		}
	}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("GC cancelled while deleting: %v (stats %+v), want an error wrapping context.Canceled", err, st)
	}
	if fenced != 1 {
		t.Fatalf("fences registered while GC deleted: %d, want 1", fenced)
	}
	if n, err := raw.ZCard(ctx, "gc:fences").Result(); err != nil || n != 0 {
		t.Errorf("fences registered after the cancelled GC returned: %d, %v; want none", n, err)
	}
	fsckClean(t, kv)
}
