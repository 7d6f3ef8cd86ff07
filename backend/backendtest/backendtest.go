package backendtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stratakv/strata/backend"
)

// timeout bounds every wait for something another goroutine or the backend
// does asynchronously (watch events, a channel being closed).
const timeout = 10 * time.Second

// Run runs the conformance suite as subtests of t. open returns a new, empty store; Run closes it.
//
// open is called once per subtest, with that subtest's t, and may register
// cleanups on it (removing a directory, stopping a server); they run after
// Run has closed the store. open may call t.Fatal if it cannot open a store.
func Run(t *testing.T, open func(t *testing.T) backend.Store) {
	t.Helper()

	probe := open(t)
	if probe == nil {
		t.Fatal("open returned a nil backend.Store")
	}
	_, isLister := probe.(backend.ObjectLister)
	_, isDeleter := probe.(backend.ObjectDeleter)
	_, isFencer := probe.(backend.ObjectFencer)
	_, isScanner := probe.(backend.ObjectScanner)
	_, isBatchGetter := probe.(backend.BatchGetter)
	_, isWatcher := probe.(backend.RefWatcher)
	_, isCommitter := probe.(backend.RefCommitter)
	_, isRepairer := probe.(backend.RefRepairer)
	if sc, ok := probe.(backend.ObjectScanner); ok {
		// A wrapper may scan only if the store under it can.
		err := sc.ScanObjects(t.Context(), func(backend.Hash, []byte) error { return nil })
		if errors.Is(err, errors.ErrUnsupported) {
			t.Logf("%T cannot scan objects here: %v", probe, err)
			isScanner = false
		}
	}
	if fc, ok := probe.(backend.ObjectFencer); ok {
		// A store may keep fences only in some configurations.
		f, err := fc.FenceObjects(t.Context())
		switch {
		case errors.Is(err, errors.ErrUnsupported):
			t.Logf("%T cannot keep fences here: %v", probe, err)
			isFencer = false
		case err != nil:
			t.Fatalf("FenceObjects on a new, empty %T: %v", probe, err)
		default:
			f.Release()
		}
	}
	if err := probe.Close(); err != nil {
		t.Fatalf("Close of a new, empty %T: %v", probe, err)
	}

	groups := []struct {
		name    string
		enabled bool
		tests   []test
	}{
		{"Objects", true, objectTests},
		{"Refs", true, refTests},
		{"Lifecycle", true, lifecycleTests},
		{"Model", true, modelTests},
		{"ObjectLister", isLister, listerTests},
		{"ObjectDeleter", isDeleter, deleterTests},
		{"ObjectFencer", isFencer, fencerTests},
		{"ObjectScanner", isScanner, scannerTests},
		{"BatchGetter", isBatchGetter, batchGetterTests},
		{"RefWatcher", isWatcher, watcherTests},
		{"RefCommitter", isCommitter, committerTests},
		{"RefRepairer", isRepairer, repairerTests},
	}
	for _, g := range groups {
		if !g.enabled {
			t.Logf("%T does not implement backend.%s; its tests are not run", probe, g.name)
			continue
		}
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					tc.fn(t, openStore(t, open))
				})
			}
		})
	}
}

// test is one conformance test; it gets a new, empty store.
type test struct {
	name string
	fn   func(t *testing.T, s backend.Store)
}

// openStore opens a store for one subtest and closes it when the subtest
// ends. Close must succeed, also when the test has closed the store already.
func openStore(t *testing.T, open func(t *testing.T) backend.Store) backend.Store {
	t.Helper()
	s := open(t)
	if s == nil {
		t.Fatal("open returned a nil backend.Store")
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close at the end of the test: %v", err)
		}
	})
	return s
}

// HashOf derives a hash from a label, for tests of backends: backends
// never hash, so any 32 bytes will do, and deriving them from labels keeps
// tests readable. Every backend's tests use this one helper.
func HashOf(label string) backend.Hash {
	return backend.Hash(sha256.Sum256([]byte(label)))
}

// objectOf returns an object whose hash and data are derived from label.
func objectOf(label string) backend.Object {
	return backend.Object{Hash: HashOf(label), Data: []byte("data of " + label)}
}

// hashes returns the hashes of objs.
func hashes(objs ...backend.Object) []backend.Hash {
	hs := make([]backend.Hash, len(objs))
	for i, o := range objs {
		hs[i] = o.Hash
	}
	return hs
}

// sortHashes sorts hs bytewise, in place, and returns it.
func sortHashes(hs []backend.Hash) []backend.Hash {
	slices.SortFunc(hs, backend.Hash.Compare)
	return hs
}

// equateEmpty lets a nil and an empty slice compare equal, for results whose
// contract does not say which of the two an empty answer is.
var equateEmpty = cmpopts.EquateEmpty()

func mustPut(t *testing.T, s backend.ObjectStore, objs ...backend.Object) {
	t.Helper()
	if err := s.Put(t.Context(), objs); err != nil {
		t.Fatalf("Put of %d objects: %v", len(objs), err)
	}
}

func mustGet(t *testing.T, s backend.ObjectStore, h backend.Hash) []byte {
	t.Helper()
	b, err := s.Get(t.Context(), h)
	if err != nil {
		t.Fatalf("Get(%s): %v", h.Short(), err)
	}
	return b
}

// wantData checks that h is stored with exactly the bytes want.
func wantData(t *testing.T, s backend.ObjectStore, h backend.Hash, want []byte) {
	t.Helper()
	got, err := s.Get(t.Context(), h)
	if err != nil {
		t.Errorf("Get(%s): %v; want %d bytes", h.Short(), err, len(want))
		return
	}
	if msg := diffBytes(want, got); msg != "" {
		t.Errorf("Get(%s): %s", h.Short(), msg)
	}
}

// wantNotFound checks that Get(h) fails with ErrNotFound.
func wantNotFound(t *testing.T, s backend.ObjectStore, h backend.Hash) {
	t.Helper()
	b, err := s.Get(t.Context(), h)
	if !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get(%s) = %d bytes, %v; want an error wrapping backend.ErrNotFound", h.Short(), len(b), err)
	}
}

// wantHas checks Has(hs) against want.
func wantHas(t *testing.T, s backend.ObjectStore, hs []backend.Hash, want []bool) {
	t.Helper()
	got, err := s.Has(t.Context(), hs)
	if err != nil {
		t.Errorf("Has of %d hashes: %v", len(hs), err)
		return
	}
	if len(got) != len(hs) {
		t.Errorf("Has of %d hashes returned %d results", len(hs), len(got))
		return
	}
	for i := range hs {
		if got[i] != want[i] {
			t.Errorf("Has(...)[%d] (hash %s) = %t, want %t", i, hs[i].Short(), got[i], want[i])
		}
	}
}

// diffBytes describes how got differs from want, or returns "". Large
// values are described by length and first difference, not dumped.
func diffBytes(want, got []byte) string {
	if bytes.Equal(want, got) {
		return ""
	}
	if len(want) <= 64 && len(got) <= 64 {
		return fmt.Sprintf("bytes mismatch (-want +got):\n%s", cmp.Diff(want, got, equateEmpty))
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	return fmt.Sprintf("got %d bytes, want %d; first difference at offset %d", len(got), len(want), i)
}

func mustCAS(t *testing.T, s backend.RefStore, name string, old, new backend.Hash) {
	t.Helper()
	if err := s.CompareAndSwapRef(t.Context(), name, old, new); err != nil {
		t.Fatalf("CompareAndSwapRef(%q, %s -> %s): %v", name, old.Describe(), new.Describe(), err)
	}
}

// wantRef checks that name points at want; a zero want means absent, which
// GetRef must report with ErrNotFound.
func wantRef(t *testing.T, s backend.RefStore, name string, want backend.Hash) {
	t.Helper()
	got, err := s.GetRef(t.Context(), name)
	switch {
	case want.IsZero():
		if !errors.Is(err, backend.ErrNotFound) {
			t.Errorf("GetRef(%q) = %s, %v; want an error wrapping backend.ErrNotFound", name, got.Short(), err)
		}
	case err != nil:
		t.Errorf("GetRef(%q): %v; want %s", name, err, want.Short())
	case got != want:
		t.Errorf("GetRef(%q) = %s, want %s", name, got.Short(), want.Short())
	}
}

// wantRefs checks ListRefs(prefix) against want.
func wantRefs(t *testing.T, s backend.RefStore, prefix string, want []backend.Ref) {
	t.Helper()
	got, err := s.ListRefs(t.Context(), prefix)
	if err != nil {
		t.Errorf("ListRefs(%q): %v", prefix, err)
		return
	}
	if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
		t.Errorf("ListRefs(%q) mismatch (-want +got):\n%s", prefix, diff)
	}
}

// canceledContext returns a context that is already canceled.
func canceledContext(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}
