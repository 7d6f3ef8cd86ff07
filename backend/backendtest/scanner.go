package backendtest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
)

var scannerTests = []test{
	{"All", testScanObjectsAll},
	{"Stop", testScanObjectsStop},
	{"UseStore", testScanObjectsUseStore},
}

// scanObjects returns what ScanObjects reports, by hash, and fails the
// test if an object is reported twice.
func scanObjects(t *testing.T, sc backend.ObjectScanner) map[backend.Hash][]byte {
	t.Helper()
	got := map[backend.Hash][]byte{}
	err := sc.ScanObjects(t.Context(), func(h backend.Hash, data []byte) error {
		if _, dup := got[h]; dup {
			t.Errorf("ScanObjects reported %s twice", h.Short())
		}
		got[h] = bytes.Clone(data) // valid only during the call
		return nil
	})
	if err != nil {
		t.Fatalf("ScanObjects: %v", err)
	}
	return got
}

// testScanObjectsAll: every stored object is reported once with its
// bytes: more objects, and more bytes, than one chunk of a chunked scan,
// an empty object among them; changing the bytes fn is given changes
// nothing stored.
func testScanObjectsAll(t *testing.T, s backend.Store) {
	sc := s.(backend.ObjectScanner)
	if got := scanObjects(t, sc); len(got) != 0 {
		t.Errorf("ScanObjects on an empty store reported %d objects", len(got))
	}
	want := map[backend.Hash][]byte{}
	var objs []backend.Object
	for i := range 2100 {
		o := objectOf(fmt.Sprintf("scan/%d", i))
		if i%400 == 7 { // a few large ones: about 5 MB in all
			o.Data = bytes.Repeat([]byte{byte(i)}, 1<<20)
		}
		if i == 1000 {
			o.Data = []byte{}
		}
		objs = append(objs, o)
		want[o.Hash] = o.Data
	}
	for i := 0; i < len(objs); i += 500 {
		mustPut(t, s, objs[i:min(i+500, len(objs))]...)
	}
	got := scanObjects(t, sc)
	// The hashes with cmp; the bytes with bytes.Equal (cmp would compare
	// megabytes element by element).
	if diff := cmp.Diff(sortHashes(slices.Collect(maps.Keys(want))), sortHashes(slices.Collect(maps.Keys(got)))); diff != "" {
		t.Errorf("ScanObjects reported other hashes (-want +got):\n%s", diff)
	}
	for h, w := range want {
		if g, ok := got[h]; ok && !bytes.Equal(g, w) {
			t.Errorf("ScanObjects reported %s with %d bytes %.20q…, want %d bytes %.20q…", h.Short(), len(g), g, len(w), w)
		}
	}
	// Changing the bytes fn is given leaves the stored object unchanged.
	err := sc.ScanObjects(t.Context(), func(h backend.Hash, data []byte) error {
		for i := range data {
			data[i] ^= 0xff
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ScanObjects: %v", err)
	}
	for _, o := range objs[:50] {
		if g := mustGet(t, s, o.Hash); !bytes.Equal(g, o.Data) {
			t.Errorf("after changing the scanned bytes, Get(%s) = %.20q…, want %.20q…", o.Hash.Short(), g, o.Data)
		}
	}
}

// testScanObjectsStop: fn's error stops the scan and is returned
// unchanged.
func testScanObjectsStop(t *testing.T, s backend.Store) {
	sc := s.(backend.ObjectScanner)
	for i := range 50 {
		mustPut(t, s, objectOf(fmt.Sprintf("stop/%d", i)))
	}
	stop := errors.New("enough")
	calls := 0
	err := sc.ScanObjects(t.Context(), func(backend.Hash, []byte) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if err != stop { // unchanged, not wrapped
		t.Errorf("ScanObjects returned %v, want fn's error unchanged", err)
	}
	if calls != 3 {
		t.Errorf("fn called %d times, want 3 (no call after its error)", calls)
	}
}

// testScanObjectsUseStore: fn may use the store (it runs with no lock
// held): it reads and stores objects during the scan.
func testScanObjectsUseStore(t *testing.T, s backend.Store) {
	sc := s.(backend.ObjectScanner)
	var objs []backend.Object
	for i := range 30 {
		o := objectOf(fmt.Sprintf("use/%d", i))
		objs = append(objs, o)
		mustPut(t, s, o)
	}
	seen := 0
	err := sc.ScanObjects(t.Context(), func(h backend.Hash, data []byte) error {
		seen++
		if g, err := s.Get(t.Context(), h); err != nil || !bytes.Equal(g, data) {
			return fmt.Errorf("Get(%s) during the scan = %q, %v; want %q", h.Short(), g, err, data)
		}
		return s.Put(t.Context(), []backend.Object{objectOf(fmt.Sprintf("during/%s", h))})
	})
	if err != nil {
		t.Fatalf("ScanObjects: %v", err)
	}
	if seen < len(objs) {
		t.Errorf("ScanObjects reported %d objects, want at least the %d stored before it", seen, len(objs))
	}
	for _, o := range objs {
		mustGet(t, s, o.Hash)
	}
}
