package strata_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/internal/redistest"
)

// newObjects returns the objects kv holds that are not in before, sorted.
func newObjects(t *testing.T, kv *strata.KV, before map[strata.Hash]bool) []string {
	t.Helper()
	var out []string
	for h := range objectSet(t, kv) {
		if !before[h] {
			out = append(out, h.String())
		}
	}
	sort.Strings(out)
	return out
}

// touch10 makes one commit on main setting 10 keys to new values.
func touch10(t *testing.T, kv *strata.KV) {
	t.Helper()
	if _, err := kv.Branch("main").Update(context.Background(), func(tx *strata.Tx) error {
		for i := 0; i < 10; i++ {
			if err := tx.Set(fmt.Sprintf("d%d/k%d", i%7, i*29), []byte(fmt.Sprintf("new value %d, long enough for a contents object", i))); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestSyncIncrementalPushRoundTrips pushes one commit touching 10 keys on
// top of a 1,000-commit history the remote has: at most 4 round trips to
// the remote, and exactly the commit's new objects sent.
func TestSyncIncrementalPushRoundTrips(t *testing.T) {
	remotes := map[string]func(t *testing.T) string{
		"mem":    func(t *testing.T) string { return "mem://" },
		"pebble": func(t *testing.T) string { return t.TempDir() },
		"redis":  func(t *testing.T) string { return redistest.Start(t).URL("rt") },
	}
	for _, name := range []string{"mem", "pebble", "redis"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			src, dst := memKV(t), open(t, remotes[name](t))
			history(t, src, 1000)
			if _, err := strata.Clone(ctx, src, dst); err != nil {
				t.Fatal(err)
			}
			before := objectSet(t, src)
			touch10(t, src)
			want := newObjects(t, src, before)
			dstBefore := objectSet(t, dst)
			st, err := src.Push(ctx, dst, "main")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, newObjects(t, dst, dstBefore)); diff != "" {
				t.Errorf("objects received (-the commit's new objects +received):\n%s", diff)
			}
			if st.Objects != len(want) {
				t.Errorf("stats: %d objects sent, want %d", st.Objects, len(want))
			}
			if st.RoundTrips > 4 {
				t.Errorf("%d round trips, want at most 4", st.RoundTrips)
			}
			t.Logf("%d objects, %d round trips", st.Objects, st.RoundTrips)
			heads(t, src, dst)
			fsckClean(t, dst)
		})
	}
}

// TestSyncIncrementalPushMerge pushes several commits, a merge among
// them, above the remote head: exactly the new objects arrive.
func TestSyncIncrementalPushMerge(t *testing.T) {
	ctx := context.Background()
	src, dst := memKV(t), memKV(t)
	history(t, src, 300)
	if _, err := strata.Clone(ctx, src, dst); err != nil {
		t.Fatal(err)
	}
	before := objectSet(t, src)
	for i := 0; i < 5; i++ {
		if _, err := src.Branch("side").Set(ctx, fmt.Sprintf("side/%d", i), longValue(5000+i)); err != nil {
			t.Fatal(err)
		}
		if _, err := src.Branch("main").Set(ctx, fmt.Sprintf("d%d/new%d", i, i), longValue(6000+i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := src.Merge(ctx, "side", "main"); err != nil {
		t.Fatal(err)
	}
	touch10(t, src)
	// Only main's objects: side's commits are reachable from main now.
	want := newObjects(t, src, before)
	dstBefore := objectSet(t, dst)
	st, err := src.Push(ctx, dst, "main", strata.TransferBatch(8))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, newObjects(t, dst, dstBefore)); diff != "" {
		t.Errorf("objects received (-new in the source +received):\n%s", diff)
	}
	if st.Objects != len(want) {
		t.Errorf("stats: %d objects sent, want %d", st.Objects, len(want))
	}
	fsckClean(t, dst)
	ha, _ := src.Branch("main").Head(ctx)
	hb, _ := dst.Branch("main").Head(ctx)
	if ha != hb {
		t.Fatalf("remote head %s, want %s", hb, ha)
	}
}

// TestSyncFetchNothingNew fetches from a remote the local store is up to
// date with: exactly 1 round trip and nothing sent.
func TestSyncFetchNothingNew(t *testing.T) {
	for name, u := range map[string]func(t *testing.T) string{
		"mem":   func(t *testing.T) string { return "mem://" },
		"redis": func(t *testing.T) string { return redistest.Start(t).URL("fetch") },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			remote, local := open(t, u(t)), memKV(t)
			history(t, remote, 50)
			if _, err := remote.Branch("dev").Set(ctx, "dev/x", longValue(1)); err != nil {
				t.Fatal(err)
			}
			if _, err := remote.Tag(ctx, "v1", "main~3"); err != nil {
				t.Fatal(err)
			}
			if _, err := strata.Clone(ctx, remote, local); err != nil {
				t.Fatal(err)
			}
			// Clone carries the tags, as revisions of the clone.
			want, _ := remote.Resolve(ctx, "v1")
			if got, err := local.Resolve(ctx, "v1~1"); err != nil || want.IsZero() {
				t.Errorf("tag v1 after clone: %v (remote's %s)", err, want)
			} else if wantParent, _ := remote.Resolve(ctx, "v1~1"); got != wantParent {
				t.Errorf("v1~1 in the clone = %s, want %s", got, wantParent)
			}
			st, err := local.Fetch(ctx, remote, "origin")
			if err != nil {
				t.Fatal(err)
			}
			if st.RoundTrips != 1 || st.Objects != 0 || st.Refs != 0 {
				t.Errorf("fetch with nothing new: %d round trips, %d objects, %d refs; want 1, 0, 0", st.RoundTrips, st.Objects, st.Refs)
			}
			// Something new: fetched, and tracking refs move.
			h, err := remote.Branch("main").Set(ctx, "new", longValue(2))
			if err != nil {
				t.Fatal(err)
			}
			st, err = local.Fetch(ctx, remote, "origin")
			if err != nil {
				t.Fatal(err)
			}
			if got, err := local.Resolve(ctx, "origin/main"); err != nil || got != h {
				t.Errorf("origin/main at %s (%v), want %s", got, err, h)
			}
			if st.Objects == 0 || st.Refs != 1 {
				t.Errorf("fetch of one commit: %+v", st)
			}
			fsckClean(t, local)
		})
	}
}

// TestSyncFetchKeepsMovedTag: a remote tag that the local store has at
// another commit is reported in KeptTags and left alone; Force moves it.
func TestSyncFetchKeepsMovedTag(t *testing.T) {
	ctx := context.Background()
	remote, local := memKV(t), memKV(t)
	history(t, remote, 10)
	old, err := remote.Tag(ctx, "v1", "main~2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strata.Clone(ctx, remote, local); err != nil {
		t.Fatal(err)
	}
	moved, err := remote.Tag(ctx, "v1", "main", strata.Force())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Tag(ctx, "v2", "main~1"); err != nil {
		t.Fatal(err)
	}
	st, err := local.Fetch(ctx, remote, "origin")
	if err != nil {
		t.Fatal(err)
	}
	want := []strata.KeptTag{{Name: "v1", Local: old, Remote: moved}}
	if diff := cmp.Diff(want, st.KeptTags); diff != "" {
		t.Errorf("kept tags (-want +got):\n%s", diff)
	}
	tags := func() map[string]strata.Hash {
		ts, err := local.Tags(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]strata.Hash{}
		for _, tg := range ts {
			m[tg.Name] = tg.Commit
		}
		return m
	}
	v2, _ := remote.Resolve(ctx, "v2")
	if diff := cmp.Diff(map[string]strata.Hash{"v1": old, "v2": v2}, tags()); diff != "" {
		t.Errorf("local tags after fetch (-want +got):\n%s", diff)
	}
	st, err = local.Fetch(ctx, remote, "origin", strata.Force())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.KeptTags) != 0 {
		t.Errorf("forced fetch kept %v", st.KeptTags)
	}
	if diff := cmp.Diff(map[string]strata.Hash{"v1": moved, "v2": v2}, tags()); diff != "" {
		t.Errorf("local tags after a forced fetch (-want +got):\n%s", diff)
	}
}

// TestSyncBothWaysCluster runs TestSyncBothWays's directions with a
// 3-master Redis Cluster on one side.
func TestSyncBothWaysCluster(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	others := map[string]func(t *testing.T) string{
		"mem":    func(t *testing.T) string { return "mem://" },
		"pebble": func(t *testing.T) string { return t.TempDir() },
		"redis":  func(t *testing.T) string { return redistest.Start(t).URL("sync") },
	}
	n := 0
	for _, other := range []string{"mem", "pebble", "redis"} {
		t.Run("cluster-"+other, func(t *testing.T) {
			n++
			bothWays(t, c.URL(fmt.Sprintf("from%d", n)), others[other](t))
		})
		t.Run(other+"-cluster", func(t *testing.T) {
			n++
			bothWays(t, others[other](t), c.URL(fmt.Sprintf("to%d", n)))
		})
	}
	t.Run("cluster-cluster", func(t *testing.T) {
		bothWays(t, c.URL("a"), c.URL("b"))
	})
}

// pushChild is the child process of TestSyncPushKilled: it pushes main
// from the store at $STRATA_PUSH_SRC to the one at $STRATA_PUSH_DST in
// batches of 8 objects, prints "batch N" after each batch it wrote, and
// after the third one blocks reading its standard input, so that the
// parent kills it in the middle of the transfer.
func pushChild() {
	ctx := context.Background()
	src, err := strata.Open(ctx, os.Getenv("STRATA_PUSH_SRC"))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	dst, err := strata.Open(ctx, os.Getenv("STRATA_PUSH_DST"))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	batches, last := 0, 0
	_, err = src.Push(ctx, dst, "main", strata.TransferBatch(8), strata.Progress(func(s strata.SyncStats) {
		if s.Objects == last {
			return
		}
		last = s.Objects
		batches++
		fmt.Printf("batch %d %d\n", batches, s.Objects)
		if batches == 3 {
			bufio.NewReader(os.Stdin).ReadString('\n') // wait to be killed
		}
	}))
	fmt.Println("finished", err)
	os.Exit(3)
}

// TestSyncPushKilled kills (SIGKILL) a process in the middle of a push to
// a Pebble store: the destination's head has not moved, fsck is clean, and
// a rerun sends exactly the objects still missing.
func TestSyncPushKilled(t *testing.T) {
	ctx := context.Background()
	srcDir, dstDir := t.TempDir(), t.TempDir()
	src, dst := open(t, srcDir), open(t, dstDir)
	history(t, src, 10)
	if _, err := strata.Clone(ctx, src, dst); err != nil {
		t.Fatal(err)
	}
	old, _ := dst.Branch("main").Head(ctx)
	history(t, src, 200)
	before := objectSet(t, dst)
	src.Close()
	dst.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STRATA_PUSH_SRC="+srcDir, "STRATA_PUSH_DST="+dstDir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.HasPrefix(sc.Text(), "batch 3 ") {
			break
		}
	}
	if len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], "batch 3 ") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q before it was to be killed", lines)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	src, dst = open(t, srcDir), open(t, dstDir)
	if h, _ := dst.Branch("main").Head(ctx); h != old {
		t.Fatalf("head moved to %s by a killed push", h)
	}
	fsckClean(t, dst)
	partial := objectSet(t, dst)
	if len(partial) == len(before) {
		t.Fatal("the killed push wrote no objects; the test kills it too early")
	}
	st, err := src.Push(ctx, dst, "main", strata.TransferBatch(8))
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
