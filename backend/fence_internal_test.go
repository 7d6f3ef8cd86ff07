package backend

import "testing"

// TestNarrowBoundsTheFence: once narrowed, a fence kept in memory holds
// only the candidates writers touched, whatever else they store.
func TestNarrowBoundsTheFence(t *testing.T) {
	var fs Fences
	f := fs.Begin().(*localFence)
	defer f.Release()
	obj := func(i int) Object { return Object{Hash: Hash{byte(i), byte(i >> 8)}} }
	for i := range 100 {
		fs.Stored([]Object{obj(i)})
	}
	if len(f.seen) != 100 {
		t.Fatalf("before Narrow the fence holds %d objects, want 100", len(f.seen))
	}
	candidate := func(h Hash) bool { return h[1] == 0 && h[0]%10 == 0 } // objects 0, 10, …, 250
	f.Narrow(candidate)
	if len(f.seen) != 10 {
		t.Errorf("after Narrow the fence holds %d objects, want the 10 candidates", len(f.seen))
	}
	for i := range 10_000 {
		fs.Stored([]Object{obj(100 + i)})
	}
	fs.Present([]Hash{obj(5).Hash, obj(200).Hash}, []bool{true, true})
	// Objects 0, 10, …, 250: 200 found again, 5 no candidate.
	if len(f.seen) != 26 {
		t.Errorf("after 10,000 more writes the fence holds %d objects, want the 26 candidates", len(f.seen))
	}
	f.Release()
	f.Narrow(candidate) // released: nothing
	if f.seen != nil {
		t.Error("a released fence holds objects again after Narrow")
	}
}
