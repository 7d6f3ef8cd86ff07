package tree

import (
	"testing"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/node"
)

// TestWriterHashClash: a writer indexes its pending objects by the first
// 8 bytes of their hashes; objects whose hashes share those bytes must
// still be told apart, before and after the index is made, and after a
// writer takes over another's list (absorb).
func TestWriterHashClash(t *testing.T) {
	mk := func(i int, clash bool) backend.Hash {
		var h backend.Hash
		h[8], h[9] = byte(i), byte(i>>8)
		if !clash {
			h[0], h[1] = byte(i), byte(i>>8)|0x80
		}
		return h
	}
	var hs []backend.Hash
	for i := 0; i < 3*smallWriter; i++ {
		hs = append(hs, mk(i, i%3 == 0)) // every third shares its first 8 bytes (all zero)
	}
	w := newWriter(nil)
	for i, h := range hs {
		w.add(backend.Object{Hash: h, Data: []byte{byte(i)}}, node.Dir{})
		w.add(backend.Object{Hash: h, Data: []byte{0xff}}, node.Dir{}) // a duplicate is not added
	}
	if len(w.pending) != len(hs) {
		t.Fatalf("%d pending, want %d", len(w.pending), len(hs))
	}
	check := func(w *writer) {
		t.Helper()
		for i, h := range hs {
			p := w.get(h)
			if p == nil || p.obj.Hash != h || p.obj.Data[0] != byte(i) {
				t.Fatalf("get(object %d) = %+v", i, p)
			}
		}
		if p := w.get(mk(1000, true)); p != nil {
			t.Fatalf("get of an absent hash sharing 8 bytes = %+v", p)
		}
		if p := w.get(mk(1000, false)); p != nil {
			t.Fatalf("get of an absent hash = %+v", p)
		}
	}
	check(w)
	parent := newWriter(nil)
	parent.absorb(w)
	check(parent)
	other := newWriter(nil)
	other.add(backend.Object{Hash: mk(2000, true), Data: []byte{1}}, node.Dir{})
	other.absorb(w)
	check(other)
	if len(other.pending) != len(hs)+1 {
		t.Fatalf("%d pending after absorb, want %d", len(other.pending), len(hs)+1)
	}
}
