package strata_test

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
)

// TestCommitGraphKeptByCommits: commits made through the write path (one
// writer, concurrent writers in groups, a merge) write their own
// commit-graph runs: afterwards exactly the commits whose height is a
// multiple of commit.RunLen have a run, though nobody called
// WriteCommitGraph; and MergeBase on a cold cache answers the same with
// the runs and after they are deleted. On mem and on Pebble.
func TestCommitGraphKeptByCommits(t *testing.T) {
	for _, name := range []string{"mem", "pebble"} {
		t.Run(name, func(t *testing.T) {
			u := "mem://"
			if name == "pebble" {
				u = filepath.Join(t.TempDir(), "db")
			}
			kv := open(t, u)
			main := kv.Branch("main")
			set := func(b *strata.Branch, i int) {
				t.Helper()
				if _, err := b.Set(ctx, fmt.Sprintf("%s/k%d", b.Name(), i%17), []byte(fmt.Sprint(i))); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 150 {
				set(main, i)
			}
			if err := kv.CreateBranch(ctx, "feature", "main~40"); err != nil {
				t.Fatal(err)
			}
			feature := kv.Branch("feature")
			var wg sync.WaitGroup
			for g := range 4 { // group commit: 4 writers at once
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 40 {
						if _, err := feature.Set(ctx, fmt.Sprintf("f%d/k%d", g, i), []byte("v")); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			for i := range 30 {
				set(main, 1000+i)
			}
			if _, err := kv.Merge(ctx, "feature", "main"); err != nil {
				t.Fatal(err)
			}
			for i := range 70 {
				set(main, 2000+i)
			}

			all, err := kv.Log(ctx, "main", 0)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, c := range all {
				if c.Height%commit.RunLen == 0 {
					want = append(want, commit.GraphRefPrefix+c.Hash.String())
				}
			}
			sort.Strings(want)
			refs, err := kv.Backend().ListRefs(ctx, commit.GraphRefPrefix)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, r := range refs {
				got = append(got, r.Name)
			}
			if len(want) < 5 {
				t.Fatalf("only %d commits start a run; the test needs more history", len(want))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("commit-graph refs (-commits starting a run +refs):\n%s", diff)
			}

			pairs := [][2]string{
				{"main", "feature"}, {"main~1", "feature~7"}, {"main~100", "feature"},
				{"feature~50", "main~3"}, {"main~75", "main~5"}, {"feature~1", "main~70^2~30"}, {"main~70^2~3", "main~71"},
			}
			bases := func() map[string][]strata.Hash {
				cold := strata.New(kv.Backend(), strata.CacheSize(-1)) // reads every object from the store
				out := map[string][]strata.Hash{}
				for _, p := range pairs {
					hs, err := cold.MergeBase(ctx, p[0], p[1])
					if err != nil {
						t.Fatalf("MergeBase %s %s: %v", p[0], p[1], err)
					}
					out[strings.Join(p[:], " ")] = hs
				}
				return out
			}
			withGraph := bases()
			for _, r := range refs {
				if err := kv.Backend().(backend.RefRepairer).DeleteRef(ctx, r.Name); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(withGraph, bases()); diff != "" {
				t.Errorf("merge bases (-with the commit graph +without):\n%s", diff)
			}
			fsckClean(t, kv)
		})
	}
}

// TestCommitGraphKeptPastShallowCut: commits on a shallow clone keep the
// commit graph without listing the shallow cuts, and so write no run that
// would reach past a cut (its ancestors are absent): the run of the first
// commit whose run would start above the cut and end below it is not
// written, a later one that fits above the cut is, and the clone stays
// clean (fsck, merge bases).
func TestCommitGraphKeptPastShallowCut(t *testing.T) {
	src := openMem(t)
	for i := range 100 {
		if _, err := src.Branch("main").Set(ctx, fmt.Sprintf("k%d", i%7), []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	dst := openMem(t)
	if _, err := strata.Clone(ctx, src, dst, strata.Depth(10)); err != nil { // the cut is at height 91
		t.Fatal(err)
	}
	main := dst.Branch("main")
	for i := range 100 { // heights 101 to 200: runs would start at 128 (reaching 65) and 192 (reaching 129)
		if _, err := main.Set(ctx, fmt.Sprintf("k%d", i%7), []byte(fmt.Sprint(1000+i))); err != nil {
			t.Fatal(err)
		}
	}
	log, err := dst.Log(ctx, "main", 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, c := range log {
		if c.Height == 192 {
			want = append(want, commit.GraphRefPrefix+c.Hash.String())
		}
	}
	refs, err := dst.Backend().ListRefs(ctx, commit.GraphRefPrefix)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, r := range refs {
		got = append(got, r.Name)
	}
	if len(want) != 1 {
		t.Fatalf("no commit at height 192 in the log (%d commits)", len(log))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("commit-graph refs (-the run above the cut +refs):\n%s", diff)
	}
	if _, err := dst.MergeBase(ctx, "main", "main~50"); err != nil {
		t.Fatal(err)
	}
	fsckClean(t, dst)
}
