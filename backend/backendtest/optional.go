package backendtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
)

var listerTests = []test{
	{"All", testListObjectsAll},
	{"Prefix", testListObjectsPrefix},
	{"Stop", testListObjectsStop},
}

var deleterTests = []test{
	{"Delete", testDeleteObjects},
}

var batchGetterTests = []test{
	{"GetMany", testGetMany},
}

var watcherTests = []test{
	{"Events", testWatchEvents},
	{"Cancel", testWatchCancel},
}

// listObjects returns the hashes ListObjects reports for prefix, sorted, and
// fails the test if one is reported twice.
func listObjects(t *testing.T, l backend.ObjectLister, prefix []byte) []backend.Hash {
	t.Helper()
	var got []backend.Hash
	seen := make(map[backend.Hash]bool)
	err := l.ListObjects(t.Context(), prefix, func(h backend.Hash) error {
		if seen[h] {
			t.Errorf("ListObjects(%x) reported %s twice", prefix, h.Short())
		}
		seen[h] = true
		got = append(got, h)
		return nil
	})
	if err != nil {
		t.Fatalf("ListObjects(%x): %v", prefix, err)
	}
	return sortHashes(got)
}

func testListObjectsAll(t *testing.T, s backend.Store) {
	l := s.(backend.ObjectLister)
	if got := listObjects(t, l, nil); len(got) != 0 {
		t.Errorf("ListObjects(nil) on an empty store reported %d hashes", len(got))
	}
	var want []backend.Hash
	for i := range 300 {
		o := objectOf(fmt.Sprintf("list/%d", i))
		want = append(want, o.Hash)
		mustPut(t, s, o)
	}
	sortHashes(want)
	for _, prefix := range [][]byte{nil, {}} {
		if diff := cmp.Diff(want, listObjects(t, l, prefix)); diff != "" {
			t.Errorf("ListObjects(%#v) mismatch (-want +got):\n%s", prefix, diff)
		}
	}
}

// testListObjectsPrefix uses hashes whose first two bytes are chosen to
// catch off-by-one range scans: prefixes of 0x00 and 0xff bytes, whose
// upper bound cannot be computed by incrementing the last byte.
func testListObjectsPrefix(t *testing.T, s backend.Store) {
	l := s.(backend.ObjectLister)
	var all []backend.Hash
	for _, b0 := range []byte{0x00, 0x01, 0x7f, 0xfe, 0xff} {
		for _, b1 := range []byte{0x00, 0x01, 0xff} {
			for k := range 2 {
				o := objectOf(fmt.Sprintf("prefix/%02x%02x/%d", b0, b1, k))
				o.Hash[0], o.Hash[1] = b0, b1
				all = append(all, o.Hash)
				mustPut(t, s, o)
			}
		}
	}
	sortHashes(all)
	absent := HashOf("absent")
	prefixes := [][]byte{
		{}, {0x00}, {0x01}, {0x7f}, {0x80}, {0xfe}, {0xff},
		{0x00, 0x00}, {0x00, 0xff}, {0x01, 0x01}, {0x01, 0xff}, {0x7f, 0x02},
		{0xfe, 0xff}, {0xff, 0x00}, {0xff, 0xff},
		all[7][:], all[7][:backend.HashSize-1], absent[:],
	}
	for _, prefix := range prefixes {
		var want []backend.Hash
		for _, h := range all {
			if bytes.HasPrefix(h[:], prefix) {
				want = append(want, h)
			}
		}
		if diff := cmp.Diff(want, listObjects(t, l, prefix), equateEmpty); diff != "" {
			t.Errorf("ListObjects(%x) mismatch (-want +got):\n%s", prefix, diff)
		}
	}
}

func testListObjectsStop(t *testing.T, s backend.Store) {
	l := s.(backend.ObjectLister)
	for i := range 10 {
		mustPut(t, s, objectOf(fmt.Sprintf("stop/%d", i)))
	}
	errStop := errors.New("stop here")
	for _, stopAt := range []int{1, 3, 10} {
		calls := 0
		err := l.ListObjects(t.Context(), nil, func(backend.Hash) error {
			calls++
			if calls == stopAt {
				return errStop
			}
			return nil
		})
		if !errors.Is(err, errStop) {
			t.Errorf("ListObjects with fn failing on call %d = %v; want fn's error", stopAt, err)
		}
		if calls != stopAt {
			t.Errorf("ListObjects called fn %d times after it failed on call %d", calls, stopAt)
		}
	}
}

func testDeleteObjects(t *testing.T, s backend.Store) {
	d := s.(backend.ObjectDeleter)
	ctx := t.Context()
	a, b, c, absent := objectOf("a"), objectOf("b"), objectOf("c"), objectOf("absent")
	mustPut(t, s, a, b, c)

	for _, hs := range [][]backend.Hash{nil, {}} {
		if err := d.DeleteObjects(ctx, hs); err != nil {
			t.Errorf("DeleteObjects(%#v): %v", hs, err)
		}
	}
	if err := d.DeleteObjects(ctx, hashes(a, absent, c, a)); err != nil {
		t.Fatalf("DeleteObjects of two present, one absent and one repeated hash: %v", err)
	}
	wantNotFound(t, s, a.Hash)
	wantNotFound(t, s, c.Hash)
	wantData(t, s, b.Hash, b.Data)
	wantHas(t, s, hashes(a, b, c), []bool{false, true, false})
	if l, ok := s.(backend.ObjectLister); ok {
		if diff := cmp.Diff([]backend.Hash{b.Hash}, listObjects(t, l, nil)); diff != "" {
			t.Errorf("ListObjects after DeleteObjects mismatch (-want +got):\n%s", diff)
		}
	}

	if err := d.DeleteObjects(ctx, hashes(a)); err != nil {
		t.Errorf("DeleteObjects of an object deleted before: %v", err)
	}
	// A deleted object can be stored again.
	mustPut(t, s, a)
	wantData(t, s, a.Hash, a.Data)
}

func testGetMany(t *testing.T, s backend.Store) {
	bg := s.(backend.BatchGetter)
	ctx := t.Context()
	a, b, absent := objectOf("a"), objectOf("b"), objectOf("absent")
	empty := backend.Object{Hash: HashOf("empty"), Data: []byte{}}
	mustPut(t, s, a, b, empty)

	for _, hs := range [][]backend.Hash{nil, {}} {
		got, err := bg.GetMany(ctx, hs)
		if err != nil || len(got) != 0 {
			t.Errorf("GetMany(%#v) = %d entries, %v; want none and no error", hs, len(got), err)
		}
	}

	hs := hashes(b, absent, a, b, absent)
	got, err := bg.GetMany(ctx, hs)
	if err != nil {
		t.Fatalf("GetMany: %v", err)
	}
	// A missing object is a nil entry, which cmp tells apart from an empty one.
	want := [][]byte{b.Data, nil, a.Data, b.Data, nil}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("GetMany(b, absent, a, b, absent) mismatch (-want +got):\n%s", diff)
	}
	got[0][0] = 'X'
	wantData(t, s, b.Hash, b.Data)

	got, err = bg.GetMany(ctx, hashes(absent))
	if err != nil || len(got) != 1 || got[0] != nil {
		t.Errorf("GetMany(absent) = %q, %v; want one nil entry and no error", got, err)
	}

	// A present empty object must be told apart from a missing one.
	got, err = bg.GetMany(ctx, hashes(empty, absent))
	if err != nil || len(got) != 2 || got[0] == nil || len(got[0]) != 0 || got[1] != nil {
		t.Errorf("GetMany(empty, absent) = %#v, %v; want a non-nil empty entry, a nil entry and no error", got, err)
	}
}

// recv receives n events from ch, failing the test if they do not arrive
// in time or the channel is closed early.
func recv(t *testing.T, ch <-chan backend.RefEvent, n int) []backend.RefEvent {
	t.Helper()
	var got []backend.RefEvent
	deadline := time.After(timeout)
	for len(got) < n {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("watch channel closed after %d of %d events: %+v", len(got), n, got)
			}
			got = append(got, ev)
		case <-deadline:
			t.Fatalf("received %d of %d events within %v: %+v", len(got), n, timeout, got)
		}
	}
	return got
}

// wantNoEvent fails if an event is ready on ch.
func wantNoEvent(t *testing.T, ch <-chan backend.RefEvent, what string) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if ok {
			t.Errorf("%s: unexpected event %+v", what, ev)
		}
	default:
	}
}

func testWatchEvents(t *testing.T, s backend.Store) {
	w := s.(backend.RefWatcher)
	ctx := t.Context()
	z := backend.ZeroHash
	a, b, c, d := HashOf("a"), HashOf("b"), HashOf("c"), HashOf("d")

	mustCAS(t, s, "refs/heads/before", z, a) // before watching: not reported
	heads, err := w.WatchRefs(ctx, "refs/heads/")
	if err != nil {
		t.Fatalf("WatchRefs(%q): %v", "refs/heads/", err)
	}
	all, err := w.WatchRefs(ctx, "")
	if err != nil {
		t.Fatalf("WatchRefs(%q): %v", "", err)
	}

	ops := []struct {
		name     string
		old, new backend.Hash
		fail     bool
	}{
		{"refs/heads/main", z, a, false},
		{"refs/tags/v1", z, a, false},
		{"refs/heads/main", a, b, false},
		{"refs/heads/main", c, d, true}, // conflict: no event
		{"refs/headsX", z, a, false},
		{"refs/heads/main", b, z, false},
		{"refs/heads/main", b, z, true}, // conflict: no event
		{"refs/heads/zz", z, c, false},
	}
	var wantHeads, wantAll []backend.RefEvent
	for _, op := range ops {
		err := s.CompareAndSwapRef(ctx, op.name, op.old, op.new)
		if op.fail {
			if !errors.Is(err, backend.ErrConflict) {
				t.Fatalf("CompareAndSwapRef(%q, %s -> %s) = %v; want an error wrapping backend.ErrConflict",
					op.name, op.old.Describe(), op.new.Describe(), err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("CompareAndSwapRef(%q, %s -> %s): %v", op.name, op.old.Describe(), op.new.Describe(), err)
		}
		ev := backend.RefEvent{Name: op.name, Old: op.old, New: op.new}
		wantAll = append(wantAll, ev)
		if strings.HasPrefix(op.name, "refs/heads/") {
			wantHeads = append(wantHeads, ev)
		}
	}

	// The last operation matches both prefixes, so a filtered-out or
	// misordered event shows up before it.
	if diff := cmp.Diff(wantHeads, recv(t, heads, len(wantHeads))); diff != "" {
		t.Errorf("events for prefix %q mismatch (-want +got):\n%s", "refs/heads/", diff)
	}
	if diff := cmp.Diff(wantAll, recv(t, all, len(wantAll))); diff != "" {
		t.Errorf("events for prefix %q mismatch (-want +got):\n%s", "", diff)
	}
	wantNoEvent(t, heads, `after the expected events for prefix "refs/heads/"`)
	wantNoEvent(t, all, `after the expected events for prefix ""`)
}

func testWatchCancel(t *testing.T, s backend.Store) {
	w := s.(backend.RefWatcher)
	z := backend.ZeroHash
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	canceled, err := w.WatchRefs(ctx, "")
	if err != nil {
		t.Fatalf("WatchRefs: %v", err)
	}
	other, err := w.WatchRefs(t.Context(), "")
	if err != nil {
		t.Fatalf("WatchRefs: %v", err)
	}
	mustCAS(t, s, "refs/heads/a", z, HashOf("a"))
	cancel()

	// The channel is closed, possibly after events still buffered.
	deadline := time.After(timeout)
	for open := true; open; {
		select {
		case _, open = <-canceled:
		case <-deadline:
			t.Fatalf("watch channel still open %v after its context was canceled", timeout)
		}
	}

	// Other watchers are unaffected.
	mustCAS(t, s, "refs/heads/b", z, HashOf("b"))
	want := []backend.RefEvent{
		{Name: "refs/heads/a", New: HashOf("a")},
		{Name: "refs/heads/b", New: HashOf("b")},
	}
	if diff := cmp.Diff(want, recv(t, other, len(want))); diff != "" {
		t.Errorf("events of a second watcher after the first was canceled mismatch (-want +got):\n%s", diff)
	}
}
