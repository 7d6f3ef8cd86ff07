package mem_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/backendtest"
	"github.com/stratakv/strata/backend/mem"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Store { return mem.New() })
}

// newStore returns a Store that is closed when the test ends.
func newStore(t *testing.T) *mem.Store {
	t.Helper()
	s := mem.New()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestCloseClosesWatchers(t *testing.T) {
	s := mem.New()
	ch, err := s.WatchRefs(t.Context(), "")
	if err != nil {
		t.Fatalf("WatchRefs: %v", err)
	}
	if err := s.CompareAndSwapRef(t.Context(), "refs/heads/main", backend.ZeroHash, backendtest.HashOf("a")); err != nil {
		t.Fatalf("CompareAndSwapRef: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if ev, ok := <-ch; !ok || ev.Name != "refs/heads/main" {
		t.Errorf("first receive after Close = %+v, %t; want the event buffered before Close", ev, ok)
	}
	select {
	case ev, ok := <-ch:
		if ok {
			t.Errorf("received %+v after Close; want the channel closed", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch channel still open after Close")
	}
}

// TestSlowWatcherDropsEvents checks that a watcher that does not read never
// blocks writers, and gets the first WatchBuffer events in order.
func TestSlowWatcherDropsEvents(t *testing.T) {
	s := newStore(t)
	ch, err := s.WatchRefs(t.Context(), "")
	if err != nil {
		t.Fatalf("WatchRefs: %v", err)
	}
	const n = mem.WatchBuffer + 100
	value := func(i int) backend.Hash { return backendtest.HashOf(fmt.Sprint(i)) }
	done := make(chan error, 1)
	go func() {
		old := backend.ZeroHash
		for i := range n {
			if err := s.CompareAndSwapRef(t.Context(), "refs/heads/main", old, value(i)); err != nil {
				done <- err
				return
			}
			old = value(i)
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("CompareAndSwapRef: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("writers blocked on a watcher that does not read")
	}

	old := backend.ZeroHash
	for i := range mem.WatchBuffer {
		want := backend.RefEvent{Name: "refs/heads/main", Old: old, New: value(i)}
		if diff := cmp.Diff(want, <-ch); diff != "" {
			t.Fatalf("event %d mismatch (-want +got):\n%s", i, diff)
		}
		old = value(i)
	}
	select {
	case ev := <-ch:
		t.Errorf("received %+v beyond the buffer of %d; want it dropped", ev, mem.WatchBuffer)
	default:
	}
}

// TestListObjectsCallbackUsesStore checks the documented promise that fn
// may call the Store.
func TestListObjectsCallbackUsesStore(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	objs := []backend.Object{{Hash: backendtest.HashOf("a"), Data: []byte("a")}, {Hash: backendtest.HashOf("b"), Data: []byte("b")}}
	if err := s.Put(ctx, objs); err != nil {
		t.Fatalf("Put: %v", err)
	}
	var seen []string
	err := s.ListObjects(ctx, nil, func(h backend.Hash) error {
		b, err := s.Get(ctx, h)
		if err != nil {
			return err
		}
		seen = append(seen, string(b))
		return s.DeleteObjects(ctx, []backend.Hash{h})
	})
	if err != nil {
		t.Fatalf("ListObjects: %v", err)
	}
	if len(seen) != 2 {
		t.Errorf("ListObjects reported %q, want both objects", seen)
	}
	has, err := s.Has(ctx, []backend.Hash{backendtest.HashOf("a"), backendtest.HashOf("b")})
	if diff := cmp.Diff([]bool{false, false}, has); err != nil || diff != "" {
		t.Errorf("Has after deleting from the callback = %v, %v; want [false false]", has, err)
	}
}

// TestErrorsNameTheirSubject checks that errors carry the hash or ref name
// they are about, as well as the sentinel.
func TestErrorsNameTheirSubject(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	h := backendtest.HashOf("a")
	if err := s.CompareAndSwapRef(ctx, "refs/heads/main", backend.ZeroHash, h); err != nil {
		t.Fatalf("CompareAndSwapRef: %v", err)
	}
	_, getErr := s.Get(ctx, h)
	_, refErr := s.GetRef(ctx, "refs/heads/dev")
	cases := []struct {
		name     string
		err      error
		sentinel error
		mention  string
	}{
		{"Get missing", getErr, backend.ErrNotFound, h.Short()},
		{"GetRef missing", refErr, backend.ErrNotFound, `"refs/heads/dev"`},
		{"create existing", s.CompareAndSwapRef(ctx, "refs/heads/main", backend.ZeroHash, h), backend.ErrExists, h.Short()},
		{"wrong old", s.CompareAndSwapRef(ctx, "refs/heads/main", backendtest.HashOf("b"), h), backend.ErrConflict, backendtest.HashOf("b").Short()},
		{"update absent", s.CompareAndSwapRef(ctx, "refs/heads/dev", h, backendtest.HashOf("b")), backend.ErrConflict, "is absent"},
	}
	for _, tc := range cases {
		if !errors.Is(tc.err, tc.sentinel) {
			t.Errorf("%s: %v; want an error wrapping %v", tc.name, tc.err, tc.sentinel)
		}
		if tc.err != nil && !strings.Contains(tc.err.Error(), tc.mention) {
			t.Errorf("%s: %q does not mention %s", tc.name, tc.err, tc.mention)
		}
	}
	if err := s.CompareAndSwapRef(ctx, "refs/heads/main", backendtest.HashOf("b"), h); errors.Is(err, backend.ErrExists) {
		t.Errorf("a wrong non-zero old = %v; want ErrConflict but not ErrExists", err)
	}
}

// TestNoEventForAbsentToAbsent checks that a swap that changes nothing
// because the ref stays absent is not reported, and that a swap to the same
// value is.
func TestNoEventForAbsentToAbsent(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	ch, err := s.WatchRefs(ctx, "")
	if err != nil {
		t.Fatalf("WatchRefs: %v", err)
	}
	h := backendtest.HashOf("a")
	for _, sw := range []struct{ old, new backend.Hash }{
		{backend.ZeroHash, backend.ZeroHash},
		{backend.ZeroHash, h},
		{h, h},
	} {
		if err := s.CompareAndSwapRef(ctx, "refs/heads/main", sw.old, sw.new); err != nil {
			t.Fatalf("CompareAndSwapRef: %v", err)
		}
	}
	want := []backend.RefEvent{
		{Name: "refs/heads/main", New: h},
		{Name: "refs/heads/main", Old: h, New: h},
	}
	got := []backend.RefEvent{<-ch, <-ch}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
}
