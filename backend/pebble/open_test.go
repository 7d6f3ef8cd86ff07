package pebble_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/backendtest"
	"github.com/stratakv/strata/backend/pebble"
)

func listDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// TestReadOnlySharesLock: read-only Stores of one directory may be open
// at once, exclude a writer while they are, and change nothing.
func TestReadOnlySharesLock(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, nil)
	if err := s.CompareAndSwapRef(t.Context(), "heads/main", backend.ZeroHash, backendtest.HashOf("a")); err != nil {
		t.Fatal(err)
	}
	mustClose(t, s)
	before := listDir(t, dir)

	r1 := open(t, dir, &pebble.Options{ReadOnly: true, LockTimeout: -1})
	r2 := open(t, dir, &pebble.Options{ReadOnly: true, LockTimeout: -1})
	for _, r := range []*pebble.Store{r1, r2} {
		if h, err := r.GetRef(t.Context(), "heads/main"); err != nil || h != backendtest.HashOf("a") {
			t.Errorf("GetRef = %s, %v", h.Short(), err)
		}
	}
	if w, err := pebble.Open(t.Context(), dir, &pebble.Options{LockTimeout: -1}); !errors.Is(err, pebble.ErrLocked) {
		if err == nil {
			w.Close()
		}
		t.Errorf("writable Open while readers are open = %v; want ErrLocked", err)
	}
	mustClose(t, r1)
	mustClose(t, r2)
	if diff := cmp.Diff(before, listDir(t, dir)); diff != "" {
		t.Errorf("read-only opens changed the directory (-before +after):\n%s", diff)
	}
	w := open(t, dir, &pebble.Options{LockTimeout: -1})
	if r, err := pebble.Open(t.Context(), dir, &pebble.Options{ReadOnly: true, LockTimeout: -1}); !errors.Is(err, pebble.ErrLocked) {
		if err == nil {
			r.Close()
		}
		t.Errorf("read-only Open while a writer is open = %v; want ErrLocked", err)
	}
	mustClose(t, w)
}

// TestOpenRefusesNonStores: Open creates a store only in a missing or
// empty directory, and leaves any other directory byte for byte as it was.
func TestOpenRefusesNonStores(t *testing.T) {
	t.Run("foreign", func(t *testing.T) {
		dir := t.TempDir()
		for n, d := range map[string]string{"LOCK": "user lock", "MANIFEST-000001": "user manifest"} {
			if err := os.WriteFile(filepath.Join(dir, n), []byte(d), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		before := listDir(t, dir)
		for _, o := range []*pebble.Options{nil, {MustExist: true}, {ReadOnly: true}} {
			if s, err := pebble.Open(t.Context(), dir, o); !errors.Is(err, pebble.ErrNotStore) {
				if err == nil {
					s.Close()
				}
				t.Errorf("Open(%+v) of a foreign directory = %v; want ErrNotStore", o, err)
			}
		}
		if diff := cmp.Diff(before, listDir(t, dir)); diff != "" {
			t.Errorf("Open changed a foreign directory (-before +after):\n%s", diff)
		}
	})
	t.Run("damaged", func(t *testing.T) {
		dir := t.TempDir()
		s := open(t, dir, nil)
		if err := s.Put(t.Context(), []backend.Object{{Hash: backendtest.HashOf("x"), Data: []byte("x")}}); err != nil {
			t.Fatal(err)
		}
		mustClose(t, s)
		for _, pat := range []string{"MANIFEST-*", "marker.*"} {
			ns, _ := filepath.Glob(filepath.Join(dir, pat))
			for _, n := range ns {
				if err := os.Remove(n); err != nil {
					t.Fatal(err)
				}
			}
		}
		before := listDir(t, dir)
		for _, o := range []*pebble.Options{nil, {MustExist: true}, {ReadOnly: true}} {
			if s, err := pebble.Open(t.Context(), dir, o); !errors.Is(err, backend.ErrCorrupt) {
				if err == nil {
					s.Close()
				}
				t.Errorf("Open(%+v) of a store without its MANIFEST = %v; want ErrCorrupt", o, err)
			}
		}
		if diff := cmp.Diff(before, listDir(t, dir)); diff != "" {
			t.Errorf("Open changed a damaged store (-before +after):\n%s", diff)
		}
	})
}

// TestOpenAfterInterruptedCreation: what a creation killed before its
// manifest became current leaves (Pebble's empty LOCK and a MANIFEST) is
// not a foreign directory; the next Open creates the store.
func TestOpenAfterInterruptedCreation(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"LOCK", "MANIFEST-000001"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := open(t, dir, nil)
	if err := s.Put(t.Context(), []backend.Object{{Hash: backendtest.HashOf("x"), Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
}
