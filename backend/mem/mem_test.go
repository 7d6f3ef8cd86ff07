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
// blocks writers, gets the first WatchBuffer events in order, and then
// finds its channel closed (the rest were dropped).
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
	// The rest were dropped, and the channel says so by closing.
	select {
	case ev, ok := <-ch:
		if ok {
			t.Errorf("received %+v beyond the buffer of %d; want it dropped and the channel closed", ev, mem.WatchBuffer)
		}
	case <-time.After(10 * time.Second):
		t.Error("the channel of a watcher that fell behind is still open")
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

// TestPutOwnedKeepsBytes checks the difference between the two commits:
// PutAndSwapRef stores a copy of each object, PutOwnedAndSwapRef the
// caller's slice itself (seen here by breaking the ownership contract on
// purpose after the call), while Get still returns a copy of it and an
// empty object stays present.
func TestPutOwnedKeepsBytes(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	copied := []byte("copied")
	owned := []byte("owned")
	hc, ho, he := backendtest.HashOf("c"), backendtest.HashOf("o"), backendtest.HashOf("e")
	c1, c2 := backendtest.HashOf("commit 1"), backendtest.HashOf("commit 2")
	if err := s.PutAndSwapRef(ctx, []backend.Object{{Hash: hc, Data: copied}}, "r", backend.ZeroHash, c1); err != nil {
		t.Fatalf("PutAndSwapRef: %v", err)
	}
	if err := backend.PutOwnedAndSwapRef(ctx, s, []backend.Object{{Hash: ho, Data: owned}, {Hash: he}}, "r", c1, c2); err != nil {
		t.Fatalf("PutOwnedAndSwapRef: %v", err)
	}
	copied[0], owned[0] = 'X', 'X'
	got, err := s.GetMany(ctx, []backend.Hash{hc, ho, he})
	if err != nil {
		t.Fatalf("GetMany: %v", err)
	}
	want := [][]byte{[]byte("copied"), []byte("Xwned"), {}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetMany after writing to the put slices (-want +got):\n%s", diff)
	}
	if got[2] == nil {
		t.Error("the empty owned object reads back as nil (missing)")
	}
	got[1][1] = 'Y' // Get's result is a copy: this changes nothing stored
	if b, err := s.Get(ctx, ho); err != nil || string(b) != "Xwned" {
		t.Errorf("Get(%s) = %q, %v; want %q", ho.Short(), b, err, "Xwned")
	}
	if ref, err := s.GetRef(ctx, "r"); err != nil || ref != c2 {
		t.Errorf("GetRef(r) = %s, %v; want %s", ref.Short(), err, c2.Short())
	}
}

// TestPutOwnedConflictStoresNothing checks that an owned commit whose ref
// is not at old fails with ErrConflict and stores none of its objects.
func TestPutOwnedConflictStoresNothing(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	h := backendtest.HashOf("x")
	err := s.PutOwnedAndSwapRef(ctx, []backend.Object{{Hash: h, Data: []byte("x")}}, "r", backendtest.HashOf("old"), backendtest.HashOf("new"))
	if !errors.Is(err, backend.ErrConflict) {
		t.Fatalf("PutOwnedAndSwapRef on a missing ref = %v; want ErrConflict", err)
	}
	if has, err := s.Has(ctx, []backend.Hash{h}); err != nil || has[0] {
		t.Errorf("Has after the failed commit = %v, %v; want [false]", has, err)
	}
}

// TestSharedHashPrefix checks objects whose hashes share their first 8
// bytes (the object table's key; see objects.go): each is stored, read,
// listed and deleted on its own, whichever of them is deleted first.
func TestSharedHashPrefix(t *testing.T) {
	ctx := t.Context()
	mk := func(last byte) backend.Hash {
		var h backend.Hash
		copy(h[:8], "samepref")
		h[31] = last
		return h
	}
	for _, firstDeleted := range []int{0, 1, 2} {
		t.Run(fmt.Sprint("delete ", firstDeleted), func(t *testing.T) {
			s := newStore(t)
			hs := []backend.Hash{mk(1), mk(2), mk(3)}
			for i, h := range hs {
				if err := s.Put(ctx, []backend.Object{{Hash: h, Data: []byte{byte('a' + i)}}}); err != nil {
					t.Fatalf("Put: %v", err)
				}
			}
			// Putting again changes nothing.
			if err := s.Put(ctx, []backend.Object{{Hash: hs[1], Data: []byte("other")}}); err != nil {
				t.Fatalf("Put: %v", err)
			}
			got, err := s.GetMany(ctx, hs)
			if err != nil {
				t.Fatalf("GetMany: %v", err)
			}
			if diff := cmp.Diff([][]byte{[]byte("a"), []byte("b"), []byte("c")}, got); diff != "" {
				t.Errorf("GetMany (-want +got):\n%s", diff)
			}
			if err := s.DeleteObjects(ctx, hs[firstDeleted:firstDeleted+1]); err != nil {
				t.Fatalf("DeleteObjects: %v", err)
			}
			var listed []backend.Hash
			if err := s.ListObjects(ctx, []byte("same"), func(h backend.Hash) error {
				listed = append(listed, h)
				return nil
			}); err != nil {
				t.Fatalf("ListObjects: %v", err)
			}
			var want []backend.Hash
			for i, h := range hs {
				if i != firstDeleted {
					want = append(want, h)
				}
			}
			if diff := cmp.Diff(want, listed); diff != "" {
				t.Errorf("ListObjects after deleting %d (-want +got):\n%s", firstDeleted, diff)
			}
			has, err := s.Has(ctx, hs)
			if err != nil {
				t.Fatalf("Has: %v", err)
			}
			wantHas := []bool{true, true, true}
			wantHas[firstDeleted] = false
			if diff := cmp.Diff(wantHas, has); diff != "" {
				t.Errorf("Has after deleting %d (-want +got):\n%s", firstDeleted, diff)
			}
			// A new object with the same prefix after the deletion.
			h4 := mk(4)
			if err := s.Put(ctx, []backend.Object{{Hash: h4, Data: []byte("d")}}); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if err := s.DeleteObjects(ctx, want); err != nil {
				t.Fatalf("DeleteObjects: %v", err)
			}
			if b, err := s.Get(ctx, h4); err != nil || string(b) != "d" {
				t.Errorf("Get(h4) = %q, %v; want \"d\"", b, err)
			}
			for _, h := range hs {
				if _, err := s.Get(ctx, h); !errors.Is(err, backend.ErrNotFound) {
					t.Errorf("Get of a deleted object = %v; want ErrNotFound", err)
				}
			}
		})
	}
}

// BenchmarkPutAndSwapRef is the backend's part of one small commit (see
// backendtest.BenchPutAndSwapRef), with no I/O at all.
func BenchmarkPutAndSwapRef(b *testing.B) {
	s := mem.New()
	b.Cleanup(func() { _ = s.Close() })
	backendtest.BenchPutAndSwapRef(b, s)
}
