package backendtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stratakv/strata/backend"
)

var lifecycleTests = []test{
	{"CanceledContext", testCanceledContext},
	{"DeadlineExceeded", testDeadlineExceeded},
	{"Closed", testClosed},
}

// call is one method call on a store, for the tests that expect every
// method to fail the same way.
type call struct {
	name string
	do   func(ctx context.Context) error
}

// calls returns one call of every method s has, with non-empty arguments so
// that no implementation can skip its checks for lack of work: a is a
// stored object, b an absent one, and ref points at a.
func calls(s backend.Store, a, b backend.Object, ref string) []call {
	cs := []call{
		{"Get", func(ctx context.Context) error { _, err := s.Get(ctx, a.Hash); return err }},
		{"Put", func(ctx context.Context) error { return s.Put(ctx, []backend.Object{b}) }},
		{"Has", func(ctx context.Context) error { _, err := s.Has(ctx, []backend.Hash{a.Hash, b.Hash}); return err }},
		{"GetRef", func(ctx context.Context) error { _, err := s.GetRef(ctx, ref); return err }},
		{"ListRefs", func(ctx context.Context) error { _, err := s.ListRefs(ctx, ""); return err }},
		{"CompareAndSwapRef update", func(ctx context.Context) error {
			return s.CompareAndSwapRef(ctx, ref, a.Hash, b.Hash)
		}},
		{"CompareAndSwapRef create", func(ctx context.Context) error {
			return s.CompareAndSwapRef(ctx, "refs/heads/new", backend.ZeroHash, b.Hash)
		}},
	}
	if l, ok := s.(backend.ObjectLister); ok {
		cs = append(cs, call{"ListObjects", func(ctx context.Context) error {
			return l.ListObjects(ctx, nil, func(h backend.Hash) error {
				return errors.New("ListObjects called fn although it had to fail")
			})
		}})
	}
	if sc, ok := s.(backend.ObjectScanner); ok {
		cs = append(cs, call{"ScanObjects", func(ctx context.Context) error {
			return sc.ScanObjects(ctx, func(backend.Hash, []byte) error {
				return errors.New("ScanObjects called fn although it had to fail")
			})
		}})
	}
	if d, ok := s.(backend.ObjectDeleter); ok {
		cs = append(cs, call{"DeleteObjects", func(ctx context.Context) error {
			return d.DeleteObjects(ctx, []backend.Hash{a.Hash})
		}})
	}
	if bg, ok := s.(backend.BatchGetter); ok {
		cs = append(cs, call{"GetMany", func(ctx context.Context) error {
			_, err := bg.GetMany(ctx, []backend.Hash{a.Hash, b.Hash})
			return err
		}})
	}
	if w, ok := s.(backend.RefWatcher); ok {
		cs = append(cs, call{"WatchRefs", func(ctx context.Context) error {
			_, err := w.WatchRefs(ctx, "")
			return err
		}})
	}
	return cs
}

// setUp stores a and points ref at it.
func setUp(t *testing.T, s backend.Store) (a, b backend.Object, ref string) {
	t.Helper()
	a, b, ref = objectOf("a"), objectOf("b"), "refs/heads/main"
	mustPut(t, s, a)
	mustCAS(t, s, ref, backend.ZeroHash, a.Hash)
	return a, b, ref
}

// wantUntouched checks that calls which had to fail before starting work
// did not change the store.
func wantUntouched(t *testing.T, s backend.Store, a, b backend.Object, ref string) {
	t.Helper()
	t.Log("checking that the calls that failed changed nothing")
	wantData(t, s, a.Hash, a.Data)
	wantNotFound(t, s, b.Hash)
	wantRef(t, s, ref, a.Hash)
	wantRef(t, s, "refs/heads/new", backend.ZeroHash)
}

func testCanceledContext(t *testing.T, s backend.Store) {
	a, b, ref := setUp(t, s)
	ctx := canceledContext(t)
	for _, c := range calls(s, a, b, ref) {
		if err := c.do(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context = %v; want an error wrapping context.Canceled", c.name, err)
		}
	}
	wantUntouched(t, s, a, b, ref)
}

func testDeadlineExceeded(t *testing.T, s backend.Store) {
	a, b, ref := setUp(t, s)
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	for _, c := range calls(s, a, b, ref) {
		if err := c.do(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s with an expired deadline = %v; want an error wrapping context.DeadlineExceeded", c.name, err)
		}
	}
	wantUntouched(t, s, a, b, ref)
}

func testClosed(t *testing.T, s backend.Store) {
	a, b, ref := setUp(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, c := range calls(s, a, b, ref) {
		if err := c.do(t.Context()); !errors.Is(err, backend.ErrClosed) {
			t.Errorf("%s after Close = %v; want an error wrapping backend.ErrClosed", c.name, err)
		}
	}
	// Close is idempotent (and Run closes the store once more).
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v; want nil", err)
	}
}
