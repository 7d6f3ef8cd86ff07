package strata_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata"
)

// squashHistory writes 20 commits on main of kv, with a merge from branch
// side at the 15th, and returns main's log (newest first).
func squashHistory(t *testing.T, kv *strata.KV) []strata.Commit {
	t.Helper()
	main := kv.Branch("main")
	for i := 0; i < 20; i++ {
		if i == 14 {
			must[strata.Hash](t)(kv.Branch("side").Reset(ctx, "main"))
			must[strata.Hash](t)(kv.Branch("side").Set(ctx, "side/x", longValue(700)))
			if _, err := kv.Merge(ctx, "side", "main", strata.Message("merge side")); err != nil {
				t.Fatal(err)
			}
			if err := kv.DeleteBranch(ctx, "side"); err != nil {
				t.Fatal(err)
			}
		}
		must[strata.Hash](t)(main.Set(ctx, fmt.Sprintf("k/%d", i%6), longValue(i),
			strata.Author(fmt.Sprintf("author%d", i)), strata.Message(fmt.Sprintf("commit %d", i)),
			strata.Time(time.Unix(1700000000+int64(i), 0))))
	}
	return must[[]strata.Commit](t)(kv.Log(ctx, "main", 0))
}

// TestSquashKeepsLaterCommits: after a squash, the branch has one root
// commit with the tree of the squashed commit, and above it the later
// commits, each with its old tree (every path and value), author, time
// and message; a merge among them keeps only its first parent.
func TestSquashKeepsLaterCommits(t *testing.T) {
	kv := memKV(t)
	old := squashHistory(t, kv)
	const keep = 8 // main~8 is the newest squashed commit
	var trees []map[string]string
	for i := 0; i <= keep; i++ {
		trees = append(trees, dumpAt(t, kv, old[i].Hash.String()))
	}
	head, err := kv.Branch("main").Squash(ctx, fmt.Sprintf("main~%d", keep))
	if err != nil {
		t.Fatal(err)
	}
	log := must[[]strata.Commit](t)(kv.Log(ctx, "main", 0))
	if len(log) != keep+1 || log[0].Hash != head {
		t.Fatalf("log after squash: %d commits, head %s; want %d, head %s", len(log), log[0].Hash.Short(), keep+1, head.Short())
	}
	for i, c := range log {
		if diff := cmp.Diff(trees[i], dumpAt(t, kv, c.Hash.String())); diff != "" {
			t.Errorf("main~%d: tree changed (-before +after):\n%s", i, diff)
		}
		if i == keep {
			break
		}
		o := old[i]
		if c.Hash == o.Hash || c.Tree != o.Tree || c.Author != o.Author || c.Message != o.Message || !c.Time.Equal(o.Time) || len(c.Parents) != 1 {
			t.Errorf("main~%d rewritten as %+v; old %+v", i, c, o)
		}
	}
	root := log[keep]
	want := "squash of history up to " + old[keep].Hash.String()
	if len(root.Parents) != 0 || root.Message != want || root.Tree != old[keep].Tree {
		t.Errorf("root %+v; want no parents, message %q, tree %s", root, want, old[keep].Tree.Short())
	}
	fsckClean(t, kv)
	if _, err := kv.Branch("main").Squash(ctx, old[keep+1].Hash.String()); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("squash before a commit no longer on the branch: %v; want ErrNotFound", err)
	}
}

// TestSquashThenGCErases: a value that existed only in the squashed
// history is, after squash and GC, unreadable from every revision (the
// old commits are gone) and in no stored object; another branch that
// reaches the old history keeps it until it is deleted too.
func TestSquashThenGCErases(t *testing.T) {
	for name, store := range gcStores {
		t.Run(name, func(t *testing.T) {
			kv := open(t, store(t))
			main := kv.Branch("main")
			secretLong := []byte("secret: the personal data of someone who asked to be forgotten")
			secretShort := []byte("pin 4711-0815")
			for i := 0; i < 10; i++ {
				must[strata.Hash](t)(main.Set(ctx, fmt.Sprintf("k/%d", i), longValue(i)))
			}
			must[strata.Hash](t)(main.Set(ctx, "people/ann", secretLong))
			must[strata.Hash](t)(main.Set(ctx, "people/pin", secretShort))
			withSecret := must[strata.Hash](t)(main.Set(ctx, "k/x", longValue(99)))
			must[strata.Hash](t)(main.Delete(ctx, "people"))
			cut := must[strata.Hash](t)(main.Set(ctx, "k/y", longValue(100)))
			for i := 0; i < 5; i++ {
				must[strata.Hash](t)(main.Set(ctx, fmt.Sprintf("later/%d", i), longValue(200+i)))
			}
			must[strata.Hash](t)(kv.Branch("archive").Reset(ctx, withSecret.String()))
			want := dumpAt(t, kv, "main")
			if _, err := main.Squash(ctx, cut.String()); err != nil {
				t.Fatal(err)
			}
			if _, err := kv.GC(ctx, strata.GCGrace(0)); err != nil {
				t.Fatal(err)
			}
			// The archive branch still reaches the old history.
			if v, err := kv.Branch("archive").Get(ctx, "people/ann"); err != nil || !bytes.Equal(v, secretLong) {
				t.Fatalf("archive after GC: %q, %v", v, err)
			}
			if err := kv.DeleteBranch(ctx, "archive"); err != nil {
				t.Fatal(err)
			}
			st, err := kv.GC(ctx, strata.GCGrace(0))
			if err != nil {
				t.Fatal(err)
			}
			if st.Deleted == 0 {
				t.Errorf("GC after deleting the archive deleted nothing")
			}
			for h := range objectSet(t, kv) {
				b, err := kv.Backend().Get(ctx, h)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(b, secretLong) || bytes.Contains(b, secretShort) {
					t.Errorf("object %s still holds the erased data", h.Short())
				}
			}
			if _, err := kv.Branch("main").Get(ctx, "people/ann"); !errors.Is(err, strata.ErrNotFound) {
				t.Errorf("main: people/ann: %v; want ErrNotFound", err)
			}
			if _, err := dumpRev(kv, withSecret.String()); err == nil {
				t.Errorf("the old commit %s is still readable", withSecret.Short())
			}
			for _, c := range must[[]strata.Commit](t)(kv.Log(ctx, "main", 0)) {
				m := dumpAt(t, kv, c.Hash.String())
				for p := range m {
					if strings.HasPrefix(p, "people/") {
						t.Errorf("commit %s holds %s", c.Hash.Short(), p)
					}
				}
			}
			fsckClean(t, kv)
			if diff := cmp.Diff(want, dumpAt(t, kv, "main")); diff != "" {
				t.Errorf("main changed:\n%s", diff)
			}
		})
	}
}

// TestSquashWithConcurrentWriter: squashes run while a writer commits on
// the same branch. Each squash either lands (with every commit the
// writer made before it, rewritten) or fails with ErrConflict; no
// acknowledged write is ever lost.
func TestSquashWithConcurrentWriter(t *testing.T) {
	kv := memKV(t)
	history(t, kv, 10)
	writer := strata.New(kv.Backend())
	const n = 300
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			if _, err := writer.Branch("main").Set(ctx, fmt.Sprintf("w/%d", i), []byte(fmt.Sprint(i))); err != nil {
				t.Errorf("writer: %v", err)
				return
			}
		}
	}()
	squashes, conflicts := 0, 0
	one := strata.New(kv.Backend(), strata.MaxRetries(1))
	for i := 0; i < 30; i++ {
		_, err := one.Branch("main").Squash(ctx, "main~1")
		switch {
		case err == nil:
			squashes++
		case errors.Is(err, strata.ErrConflict):
			conflicts++
		default:
			t.Fatal(err)
		}
	}
	wg.Wait()
	t.Logf("%d squashes landed, %d lost the race", squashes, conflicts)
	if squashes == 0 {
		t.Errorf("no squash landed")
	}
	got := dumpAt(t, kv, "main")
	for i := 0; i < n; i++ {
		if k := fmt.Sprintf("w/%d", i); got[k] != fmt.Sprint(i) {
			t.Errorf("main: %s = %q after squashes; want %q", k, got[k], fmt.Sprint(i))
		}
	}
	fsckClean(t, kv)
}
