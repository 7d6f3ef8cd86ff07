package tree

import (
	"context"
	"fmt"
	"testing"

	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/node"
)

// TestApplyKeepsUnchangedIndex: edits that leave a directory stored as an
// index as it was (deletions of names it does not hold: under a byte it
// has no child for, outside its prefix, its prefix itself, below a child;
// its self entry set to what it is) return the index's own hash and make
// no object, where it used to be encoded and hashed again. (A Builder
// sends such deletions for names set and deleted again in one write.)
// A real change among them still makes a new index.
func TestApplyKeepsUnchangedIndex(t *testing.T) {
	ctx := context.Background()
	st := node.NewStore(mem.New(), 0)
	b := Empty(st).Builder()
	for i := range 3000 {
		if err := b.SetPath(ctx, fmt.Sprintf("k%05d", i), []byte(fmt.Sprint("v", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.SetPath(ctx, "k0", []byte("self")); err != nil {
		t.Fatal(err)
	}
	root, err := b.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, err := st.Load(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if d.Index == nil || d.Index.Prefix != "k0" || d.Index.Self == nil {
		t.Fatalf("the test wants an index with prefix k0 and a self entry, got %+v", d)
	}
	self := *d.Index.Self
	del := func(name string) edit { return edit{Name: name, Del: true} }
	for _, tc := range []struct {
		name  string
		edits []edit
		same  bool
	}{
		{"no child for the byte", []edit{del("k09999")}, true},
		{"outside the prefix", []edit{del("j"), del("l")}, true},
		{"below a child", []edit{del("k012345")}, true},
		{"several at once", []edit{del("j"), del("k012345"), del("k09999")}, true},
		{"self set to itself", []edit{{Name: "k0", Entry: self}}, true},
		{"self deleted", []edit{del("k0")}, false},
		{"a real deletion among them", []edit{del("k00001"), del("k09999")}, false},
	} {
		w := newWriter(st)
		r, err := w.apply(ctx, root, tc.edits)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := r.hash == root && len(w.pending) == 0; got != tc.same {
			t.Errorf("%s: same hash and nothing made = %v (hash %s, %d objects made), want %v", tc.name, got, r.hash.Short(), len(w.pending), tc.same)
		}
		if tc.same && r.count != int(d.Index.Count) {
			t.Errorf("%s: count %d, want %d", tc.name, r.count, d.Index.Count)
		}
	}
}
