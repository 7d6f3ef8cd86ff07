package strata_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
)

// diffFixture commits two versions of a tree on main of kv, with changes
// of every shape: values and directories added, modified and removed, a
// value that becomes a directory, a name that is a prefix of another
// ("a", "ab"), and a directory large enough to be an index.
func diffFixture(t *testing.T, kv *strata.KV, big func(string) []byte) {
	t.Helper()
	main := kv.Branch("main")
	if _, err := main.Update(ctx, func(tx *strata.Tx) error {
		for _, kv := range [][2]string{
			{"a/x", "1"}, {"a/y/z", "1"}, {"ab", "1"}, {"v", "1"}, {"gone/d/e", "1"}, {"same/s", "1"},
		} {
			tx.Set(kv[0], []byte(kv[1]))
		}
		for i := range 300 {
			tx.Set(fmt.Sprintf("big/k%04d", i), big(fmt.Sprint(i)))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := main.Update(ctx, func(tx *strata.Tx) error {
		tx.Set("a/x", []byte("2"))
		tx.Delete("a/y/z")
		tx.Set("a/y/w", []byte("2"))
		tx.Set("ab", []byte("2"))
		tx.Delete("v")
		tx.Set("v/w", []byte("2"))
		tx.Delete("gone/d/e")
		for i := 0; i < 300; i += 7 {
			tx.Set(fmt.Sprintf("big/k%04d", i), big(fmt.Sprint(-i)))
		}
		tx.Delete("big/k0001")
		tx.Set("big/k9999", big("new"))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// underPath reports whether p is path or below it ("" is the root).
func underPath(p, path string) bool {
	return path == "" || p == path || strings.HasPrefix(p, path+"/")
}

// TestDiffPathAndLimit: Diff with DiffPath and DiffLimit returns what
// filtering and cutting the whole diff returns, for paths of every kind
// (a directory, a value, a value that became a directory, absent, through
// a value, inside a large directory) and limits below, at and above the
// number of changes.
func TestDiffPathAndLimit(t *testing.T) {
	kv := openMem(t)
	diffFixture(t, kv, func(s string) []byte { return []byte("value " + s) })
	all, err := kv.Diff(ctx, "main~1", "main")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"", "/", "a", "/a/", "a/y", "a/x", "ab", "v", "v/w", "gone", "gone/d", "none", "a/x/deeper",
		"same", "big", "big/k0007", "big/k0001", "big/k9999", "big/k0002",
	} {
		var want []strata.Change
		for _, c := range all {
			if underPath(c.Path, strings.Trim(path, "/")) {
				want = append(want, c)
			}
		}
		for _, limit := range []int{0, 1, 2, 5, len(want), len(want) + 1} {
			got, err := kv.Diff(ctx, "main~1", "main", strata.DiffPath(path), strata.DiffLimit(limit))
			if err != nil {
				t.Fatalf("path %q limit %d: %v", path, limit, err)
			}
			w := want
			if limit > 0 && len(w) > limit {
				w = w[:limit]
			}
			if diff := cmp.Diff(w, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("path %q limit %d (-want +got):\n%s", path, limit, diff)
			}
		}
	}
	if _, err := kv.Diff(ctx, "main~1", "main", strata.DiffPath("a//b")); !errors.Is(err, strata.ErrInvalidPath) {
		t.Errorf("DiffPath(\"a//b\"): %v; want ErrInvalidPath", err)
	}
}

// refusingStore fails every read of an object that holds marker.
type refusingStore struct {
	backend.Store
	marker []byte
}

var errRefused = errors.New("read of an object outside the path")

func (s refusingStore) Get(ctx context.Context, h backend.Hash) ([]byte, error) {
	b, err := s.Store.Get(ctx, h)
	if err == nil && bytes.Contains(b, s.marker) {
		return nil, fmt.Errorf("object %s: %w", h.Short(), errRefused)
	}
	return b, err
}

// TestDiffPathReadsNoValueOutside: a diff limited to a path reads no value
// outside it (here every changed value under big/ is an object that
// cannot be read), and a limited diff reads only the values it returns.
func TestDiffPathReadsNoValueOutside(t *testing.T) {
	m := mem.New()
	w := strata.New(m) // closed after kv: it owns m
	defer w.Close()
	marker := []byte("OUTSIDE-THE-PATH")
	diffFixture(t, w, func(s string) []byte {
		return append(bytes.Repeat(marker, 20), s...) // not inline: an object of its own
	})
	kv := strata.New(refusingStore{Store: m, marker: marker})
	defer kv.Close()
	if _, err := kv.Diff(ctx, "main~1", "main"); !errors.Is(err, errRefused) {
		t.Fatalf("the whole diff: %v; want the refused read (the test needs it)", err)
	}
	got, err := kv.Diff(ctx, "main~1", "main", strata.DiffPath("a"))
	if err != nil {
		t.Fatalf("diff under a: %v", err)
	}
	var paths []string
	for _, c := range got {
		paths = append(paths, c.Op.String()+" "+c.Path)
	}
	if diff := cmp.Diff([]string{"modify a/x", "add a/y/w", "remove a/y/z"}, paths); diff != "" {
		t.Errorf("diff under a (-want +got):\n%s", diff)
	}
	// The first changes by path are "ab" and under "a": a limit of 4
	// reads no value under big/.
	if got, err = kv.Diff(ctx, "main~1", "main", strata.DiffLimit(4)); err != nil || len(got) != 4 {
		t.Errorf("diff limited to 4: %d changes, %v; want 4, no error", len(got), err)
	}
}
