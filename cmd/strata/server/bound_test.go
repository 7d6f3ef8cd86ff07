package server

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
)

// TestLogBounded checks that /v1/log answers at most Options.MaxLog
// commits (n=0 and a larger n included), says so with truncated and a
// next revision that continues the history, and that a ?path= walk stops
// MaxLogWalk generations down, also saying so.
func TestLogBounded(t *testing.T) {
	h := newHarness(t, "mem://", Options{MaxLog: 3, MaxLogWalk: 4})
	var hashes []string // oldest first
	hashes = append(hashes, commitOf(t, h.want(200, "PUT", "/v1/values/p", "p0")))
	for i := 1; i < 8; i++ {
		hashes = append(hashes, commitOf(t, h.want(200, "PUT", "/v1/values/q", fmt.Sprint(i))))
	}
	logOf := func(query string) logAnswer {
		t.Helper()
		return decodeJSON[logAnswer](t, h.want(200, "GET", "/v1/log?"+query, ""))
	}
	hashesOf := func(a logAnswer) []string {
		out := []string{}
		for _, c := range a.Commits {
			out = append(out, c.Hash)
		}
		return out
	}
	newest3 := []string{hashes[7], hashes[6], hashes[5]}
	for _, q := range []string{"n=0", "n=3", "n=100000"} {
		a := logOf(q)
		if diff := cmp.Diff(newest3, hashesOf(a)); diff != "" || !a.Truncated || a.Next != hashes[4] {
			t.Fatalf("%s: truncated %v next %q, want %q; %s", q, a.Truncated, a.Next, hashes[4], diff)
		}
	}
	// Following next pages through the whole history; the last page is
	// not truncated.
	var all []string
	rev := "main"
	for range 10 {
		a := logOf("n=0&rev=" + rev)
		all = append(all, hashesOf(a)...)
		if !a.Truncated {
			break
		}
		rev = a.Next
	}
	want := []string{}
	for i := len(hashes) - 1; i >= 0; i-- {
		want = append(want, hashes[i])
	}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Fatalf("paged log: %s", diff)
	}
	if a := logOf("n=2"); len(a.Commits) != 2 || !a.Truncated {
		t.Fatalf("n=2: %d commits, truncated %v", len(a.Commits), a.Truncated)
	}
	if a := logOf("n=0&rev=" + hashes[2]); len(a.Commits) != 3 || a.Truncated || a.Next != "" {
		t.Fatalf("exactly 3 commits: %d commits, truncated %v next %q", len(a.Commits), a.Truncated, a.Next)
	}
	// p changed only in the first commit, 7 generations below main: the
	// walk stops 4 generations down without finding it.
	a := logOf("path=p")
	if len(a.Commits) != 0 || !a.Truncated || a.Next != hashes[2] {
		t.Fatalf("path=p from main: %d commits, truncated %v next %q, want %q", len(a.Commits), a.Truncated, a.Next, hashes[2])
	}
	// From next, the walk reaches it.
	a = logOf("path=p&rev=" + a.Next)
	if diff := cmp.Diff([]string{hashes[0]}, hashesOf(a)); diff != "" || a.Truncated {
		t.Fatalf("path=p from next: truncated %v %s", a.Truncated, diff)
	}
	// A tip 5 generations high is walked whole.
	if a := logOf("path=p&rev=" + hashes[4]); len(a.Commits) != 1 || a.Truncated {
		t.Fatalf("path=p within the walk: %d commits, truncated %v", len(a.Commits), a.Truncated)
	}
}

// TestDiffBounded checks that /v1/diff answers at most Options.MaxDiff
// changes, the first by path, with truncated set, and no truncated when
// the changes fit.
func TestDiffBounded(t *testing.T) {
	h := newHarness(t, "mem://", Options{MaxDiff: 3})
	c0 := commitOf(t, h.want(200, "PUT", "/v1/values/base", "0"))
	h.want(200, "POST", "/v1/update", `{"set": {"d/e": "5", "d/a": "1", "d/c": "3", "d/b": "2", "d/d": "4"}}`)
	type answer struct {
		Changes   []changeJSON
		Truncated bool
	}
	a := decodeJSON[answer](t, h.want(200, "GET", "/v1/diff?from="+c0+"&to=main", ""))
	var paths []string
	for _, c := range a.Changes {
		paths = append(paths, c.Path)
	}
	if diff := cmp.Diff([]string{"d/a", "d/b", "d/c"}, paths); diff != "" || !a.Truncated {
		t.Fatalf("diff: truncated %v %s", a.Truncated, diff)
	}
	h.want(200, "POST", "/v1/update", `{"delete": ["d/a", "d/b", "d/c"]}`)
	a = decodeJSON[answer](t, h.want(200, "GET", "/v1/diff?from="+c0+"&to=main", ""))
	if len(a.Changes) != 2 || a.Truncated {
		t.Fatalf("small diff: %d changes, truncated %v", len(a.Changes), a.Truncated)
	}
	// Exactly MaxDiff changes (the three deletes) is not truncated.
	a = decodeJSON[answer](t, h.want(200, "GET", "/v1/diff?from=main~1&to=main", ""))
	if len(a.Changes) != 3 || a.Truncated {
		t.Fatalf("diff of exactly the cap: %d changes, truncated %v", len(a.Changes), a.Truncated)
	}
}

// refusingStore fails every read of an object that holds marker.
type refusingStore struct {
	backend.Store
	marker []byte
}

func (s refusingStore) Get(ctx context.Context, h backend.Hash) ([]byte, error) {
	b, err := s.Store.Get(ctx, h)
	if err == nil && bytes.Contains(b, s.marker) {
		return nil, fmt.Errorf("object %s: read of a value outside the path", h.Short())
	}
	return b, err
}

// TestDiffPathReadsOnlyUnder: /v1/diff with a path reads no value outside
// the path (here any read of a value changed outside it fails), and with
// the cap reads only the values it answers and one more.
func TestDiffPathReadsOnlyUnder(t *testing.T) {
	m := mem.New()
	w := strata.New(m)
	t.Cleanup(func() { w.Close() }) // after the harness's KV: both close m
	marker := []byte("OUTSIDE-THE-PATH")
	main := w.Branch("main")
	for i := range 2 {
		if _, err := main.Update(t.Context(), func(tx *strata.Tx) error {
			tx.Set("in/k", []byte(fmt.Sprint(i)))
			tx.Set("in/l", []byte(fmt.Sprint(i)))
			for j := range 50 {
				tx.Set(fmt.Sprintf("out/k%02d", j), append(bytes.Repeat(marker, 10), fmt.Sprint(i)...))
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	h := newHarnessKV(t, strata.New(refusingStore{Store: m, marker: marker}), Options{MaxDiff: 1})
	type answer struct {
		Changes   []changeJSON
		Truncated bool
	}
	a := decodeJSON[answer](t, h.want(200, "GET", "/v1/diff?from=main~1&to=main&path=in", ""))
	if len(a.Changes) != 1 || a.Changes[0].Path != "in/k" || !a.Truncated {
		t.Errorf("diff under in capped at 1: %+v; want in/k, truncated", a)
	}
	a = decodeJSON[answer](t, h.want(200, "GET", "/v1/diff?from=main~1&to=main&path=nothing/here", ""))
	if len(a.Changes) != 0 || a.Truncated {
		t.Errorf("diff under nothing/here: %+v; want no change", a)
	}
	// The first changes by path are in/k and in/l: a cap of 1 reads the
	// values of those two at most (the second to tell the truncation).
	a = decodeJSON[answer](t, h.want(200, "GET", "/v1/diff?from=main~1&to=main", ""))
	if len(a.Changes) != 1 || a.Changes[0].Path != "in/k" || !a.Truncated {
		t.Errorf("diff capped at 1: %+v; want in/k, truncated", a)
	}
}
