package backendtest

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stratakv/strata/backend"
)

var repairerTests = []test{
	{"RefNames", testRefNames},
	{"DeleteRef", testDeleteRef},
}

func testRefNames(t *testing.T, s backend.Store) {
	r := s.(backend.RefRepairer)
	ctx := t.Context()
	names, err := r.RefNames(ctx, "")
	if err != nil || len(names) != 0 {
		t.Fatalf("RefNames on an empty store = %q, %v; want none", names, err)
	}
	for _, n := range []string{"heads/b", "tags/x", "heads/a", "heads/a/c"} {
		if err := s.CompareAndSwapRef(ctx, n, backend.ZeroHash, HashOf(n)); err != nil {
			t.Fatal(err)
		}
	}
	for prefix, want := range map[string][]string{
		"":       {"heads/a", "heads/a/c", "heads/b", "tags/x"},
		"heads/": {"heads/a", "heads/a/c", "heads/b"},
		"nope/":  nil,
	} {
		got, err := r.RefNames(ctx, prefix)
		if err != nil {
			t.Fatalf("RefNames(%q): %v", prefix, err)
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("RefNames(%q) mismatch (-want +got):\n%s", prefix, diff)
		}
	}
}

func testDeleteRef(t *testing.T, s backend.Store) {
	r := s.(backend.RefRepairer)
	ctx := t.Context()
	for _, n := range []string{"heads/a", "heads/b"} {
		if err := s.CompareAndSwapRef(ctx, n, backend.ZeroHash, HashOf(n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.DeleteRef(ctx, "heads/a"); err != nil {
		t.Fatalf("DeleteRef of a present ref: %v", err)
	}
	if _, err := s.GetRef(ctx, "heads/a"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("GetRef after DeleteRef: %v, want ErrNotFound", err)
	}
	if err := r.DeleteRef(ctx, "heads/a"); err != nil {
		t.Errorf("DeleteRef of an absent ref: %v, want success", err)
	}
	if h, err := s.GetRef(ctx, "heads/b"); err != nil || h != HashOf("heads/b") {
		t.Errorf("the other ref after DeleteRef: %v, %v", h.Short(), err)
	}
	// The name can be created again from absent.
	if err := s.CompareAndSwapRef(ctx, "heads/a", backend.ZeroHash, HashOf("again")); err != nil {
		t.Errorf("re-create after DeleteRef: %v", err)
	}
}
