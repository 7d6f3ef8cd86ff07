package strata_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/internal/redistest"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// gcGarbage gives kv a history on main and a deleted branch's objects
// to collect.
func gcGarbage(t *testing.T, kv *strata.KV) {
	t.Helper()
	history(t, kv, 20)
	must[strata.Hash](t)(kv.Branch("tmp").Reset(ctx, "main"))
	for i := range 10 {
		must[strata.Hash](t)(kv.Branch("tmp").Set(ctx, fmt.Sprintf("tmp/%d", i), longValue(5000+i)))
	}
	if err := kv.DeleteBranch(ctx, "tmp"); err != nil {
		t.Fatal(err)
	}
}

// TestGCScanMatchesWalk: GC with the backend's object scan (the marks
// follow links kept in memory) finds exactly what GC reading the
// reachable objects one by one finds: the same objects listed, marked and
// deleted, the same bytes freed; on mem, Pebble and Redis.
func TestGCScanMatchesWalk(t *testing.T) {
	for name, store := range gcStores {
		t.Run(name, func(t *testing.T) {
			kv := open(t, store(t))
			gcGarbage(t, kv)
			live := reachableFromBranches(t, kv)
			walked := must[*strata.GCStats](t)(kv.GC(ctx, strata.DryRun(), strata.GCNoScan()))
			scanned := must[*strata.GCStats](t)(kv.GC(ctx, strata.DryRun()))
			if walked.Scanned || !scanned.Scanned {
				t.Fatalf("Scanned: %v without a scan, %v with one; want false, true", walked.Scanned, scanned.Scanned)
			}
			type counts struct {
				Listed, Marked, Deleted int
				Freed                   int64
			}
			w := counts{walked.Listed, walked.Marked, walked.Deleted, walked.Freed}
			s := counts{scanned.Listed, scanned.Marked, scanned.Deleted, scanned.Freed}
			if diff := cmp.Diff(w, s); diff != "" {
				t.Errorf("GC with a scan vs without (-walk +scan):\n%s", diff)
			}
			if s.Marked != len(live) || s.Deleted == 0 {
				t.Errorf("GC with a scan marked %d objects, would delete %d; want %d marked, some deleted", s.Marked, s.Deleted, len(live))
			}
			st := must[*strata.GCStats](t)(kv.GC(ctx, strata.GCGrace(0)))
			if st.Deleted != s.Deleted {
				t.Errorf("GC deleted %d objects, its dry run said %d", st.Deleted, s.Deleted)
			}
			if diff := cmp.Diff(live, objectSet(t, kv)); diff != "" {
				t.Errorf("objects after GC are not those main reaches (-want +got):\n%s", diff)
			}
			fsckClean(t, kv)
		})
	}
}

// TestGCScanVerifies: a scanned object is re-hashed before its links are
// trusted. A reachable directory object whose bytes were replaced by
// those of another valid directory (the empty one: it decodes, and lists
// no children) would, trusted, hide everything below it from the mark;
// GC stops with ErrCorrupt naming it before it deletes anything. A
// reachable value with a flipped byte stops it too; an unreachable one
// does not (it is collected). On mem, Pebble and Redis.
func TestGCScanVerifies(t *testing.T) {
	for name, store := range gcStores {
		t.Run(name, func(t *testing.T) {
			for _, c := range []string{"node", "contents"} {
				t.Run(c, func(t *testing.T) {
					kv := open(t, store(t))
					gcGarbage(t, kv)
					var h strata.Hash
					var bad []byte
					if c == "node" {
						snap := must[*strata.Snapshot](t)(kv.At(ctx, "main"))
						sub, _, err := tree.New(node.NewStore(kv.Backend(), -1), snap.Commit().Tree).SubtreeHash(ctx, []string{"d0"})
						if err != nil {
							t.Fatal(err)
						}
						h, bad = sub, node.EmptyLeaf.Object().Data
					} else {
						h = valueHash(t, kv, "main", "d0/k0")
						bad = must[[]byte](t)(kv.Backend().Get(ctx, h))
						bad[len(bad)-1] ^= 0x20
					}
					damage(t, kv, h, bad)
					before := objectSet(t, kv)
					st, err := kv.GC(ctx, strata.GCGrace(0))
					if !errors.Is(err, strata.ErrCorrupt) || errors.Is(err, strata.ErrMissing) || !st.Scanned {
						t.Fatalf("GC with a corrupt reachable %s: %v (scanned %v); want ErrCorrupt, not ErrMissing, after a scan", c, err, st.Scanned)
					}
					if st.Deleted != 0 {
						t.Errorf("GC deleted %d objects of a damaged store", st.Deleted)
					}
					if diff := cmp.Diff(before, objectSet(t, kv)); diff != "" {
						t.Errorf("GC changed a damaged store:\n%s", diff)
					}
				})
			}
			t.Run("unreachable", func(t *testing.T) {
				kv := open(t, store(t))
				gcGarbage(t, kv)
				live := reachableFromBranches(t, kv)
				var h strata.Hash
				for o := range objectSet(t, kv) {
					if !live[o] {
						h = o
						break
					}
				}
				b := must[[]byte](t)(kv.Backend().Get(ctx, h))
				b[0] ^= 0xff
				damage(t, kv, h, b)
				if _, err := kv.GC(ctx, strata.GCGrace(0)); err != nil {
					t.Fatalf("GC with a corrupt unreachable object: %v", err)
				}
				if diff := cmp.Diff(live, objectSet(t, kv)); diff != "" {
					t.Errorf("objects after GC are not those main reaches (-want +got):\n%s", diff)
				}
			})
		})
	}
}

// TestGCLayered: GC through a layered store (?cache=DIR) scans the back
// when the back can (Redis), lists and walks when it cannot (the HTTP
// store), and either way finds what a walk finds and leaves exactly what
// the branches reach.
func TestGCLayered(t *testing.T) {
	stores := map[string]struct {
		url  func(t *testing.T) string
		scan bool
	}{
		"redis": {func(t *testing.T) string { return redistest.Start(t).URL("gc") }, true},
		"http":  {func(t *testing.T) string { u, _ := serveStore(t); return u }, false},
	}
	for name, c := range stores {
		t.Run(name, func(t *testing.T) {
			u := c.url(t)
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			kv := open(t, u+sep+"cache="+filepath.Join(t.TempDir(), "cache"))
			gcGarbage(t, kv)
			live := reachableFromBranches(t, kv)
			walked := must[*strata.GCStats](t)(kv.GC(ctx, strata.DryRun(), strata.GCNoScan()))
			st := must[*strata.GCStats](t)(kv.GC(ctx, strata.DryRun()))
			if st.Scanned != c.scan {
				t.Errorf("Scanned %v, want %v", st.Scanned, c.scan)
			}
			if st.Listed != walked.Listed || st.Marked != walked.Marked || st.Deleted != walked.Deleted || st.Deleted == 0 {
				t.Errorf("GC listed, marked, would delete %d, %d, %d; a walk %d, %d, %d (some to delete)",
					st.Listed, st.Marked, st.Deleted, walked.Listed, walked.Marked, walked.Deleted)
			}
			must[*strata.GCStats](t)(kv.GC(ctx, strata.GCGrace(0)))
			if diff := cmp.Diff(live, objectSet(t, kv)); diff != "" {
				t.Errorf("objects after GC are not those main reaches (-want +got):\n%s", diff)
			}
			fsckClean(t, kv)
		})
	}
}
