package node_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/node"
)

// TestLeafMatchesNode: for random nodes, a Leaf made from the entries has
// exactly Encode's bytes, DecodeLeaf of those bytes reads the entries
// Decode reads, and Find, Search and Refs answer as the decoded Node does.
func TestLeafMatchesNode(t *testing.T) {
	rng := seed(t)
	for range 60 {
		n := randNode(rng)
		enc, err := node.Encode(n)
		if err != nil {
			t.Fatal(err)
		}
		made, err := node.NewLeaf(n.Entries)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(made.Encoded(), enc) {
			t.Fatalf("NewLeaf bytes differ from Encode's for %d entries", len(n.Entries))
		}
		read, err := node.DecodeLeaf(append([]byte{}, enc...))
		if err != nil {
			t.Fatal(err)
		}
		want, err := node.Decode(enc)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range []*node.Leaf{made, read} {
			if got := l.Entries(); !sameEntries(want.Entries, got) {
				t.Fatalf("entries (-Decode +Leaf):\n%s", cmp.Diff(want.Entries, got, cmpopts.EquateEmpty()))
			}
			if diff := cmp.Diff(want.Refs(), l.Refs(), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("refs (-Node +Leaf):\n%s", diff)
			}
			if l.Len() != len(want.Entries) {
				t.Fatalf("Len %d, want %d", l.Len(), len(want.Entries))
			}
			if o := l.Object(); o.Hash != node.Empty && len(want.Entries) == 0 {
				t.Fatalf("empty leaf hashes to %s, want %s", o.Hash, node.Empty)
			}
			probes := []string{"", "\xff\xff", randName(rng, 8)}
			for _, e := range want.Entries {
				probes = append(probes, e.Name, e.Name+"\x01")
			}
			for _, p := range probes {
				we, wok := want.Find(p)
				ge, gok := l.Find(p)
				if wok != gok || !we.Equal(&ge) && wok {
					t.Fatalf("Find %q = %+v, %v; want %+v, %v", p, ge, gok, we, wok)
				}
				wi := sort.Search(len(want.Entries), func(i int) bool { return want.Entries[i].Name >= p })
				if gi := l.Search(p); gi != wi {
					t.Fatalf("Search %q = %d, want %d", p, gi, wi)
				}
			}
		}
	}
}

// applyEdits is the model of Leaf.Edit: edits applied to sorted entries.
func applyEdits(es []node.Entry, edits []node.Edit) []node.Entry {
	m := map[string]node.Entry{}
	for _, e := range es {
		m[e.Name] = e
	}
	for _, ed := range edits {
		if ed.Del {
			delete(m, ed.Name)
		} else {
			m[ed.Name] = ed.Entry
		}
	}
	out := make([]node.Entry, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// TestLeafEdit: Leaf.Edit of random edits (replacing, adding and deleting
// entries, deleting absent names) gives exactly the leaf NewLeaf makes of
// the edited entries, or ok false when they no longer fit in one node.
func TestLeafEdit(t *testing.T) {
	rng := seed(t)
	fits, overflows := 0, 0
	for range 200 {
		n := randNode(rng)
		l, err := node.NewLeaf(n.Entries)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]node.Edit{}
		for range 1 + rng.IntN(6) {
			var name string
			if len(n.Entries) > 0 && rng.IntN(2) == 0 {
				name = n.Entries[rng.IntN(len(n.Entries))].Name
			} else {
				name = randName(rng, []int{4, 40}[rng.IntN(2)])
			}
			if rng.IntN(3) == 0 {
				byName[name] = node.Edit{Name: name, Del: true}
			} else {
				byName[name] = node.Edit{Name: name, Entry: randEntry(rng, name)}
			}
		}
		var edits []node.Edit
		for _, ed := range byName {
			edits = append(edits, ed)
		}
		sort.Slice(edits, func(i, j int) bool { return edits[i].Name < edits[j].Name })
		want := applyEdits(n.Entries, edits)
		got, ok, err := l.Edit(edits)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) > node.MaxEntries {
			overflows++
			if ok || got != nil {
				t.Fatalf("Edit to %d entries: ok %v, want false", len(want), ok)
			}
			continue
		}
		fits++
		if !ok {
			t.Fatalf("Edit to %d entries: ok false", len(want))
		}
		wantEnc, err := node.Encode(&node.Node{Entries: want})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Encoded(), wantEnc) {
			t.Fatalf("Edit bytes differ from Encode of the edited entries (%d -> %d entries)", len(n.Entries), len(want))
		}
		if es := got.Entries(); !sameEntries(want, es) {
			t.Fatalf("edited entries (-want +got):\n%s", cmp.Diff(want, es, cmpopts.EquateEmpty()))
		}
		if l.HasRefs() != hasRef(n.Entries) || hasRef(want) && !got.HasRefs() {
			t.Fatalf("HasRefs: %v before (want %v), %v after (refs: %v)", l.HasRefs(), hasRef(n.Entries), got.HasRefs(), hasRef(want))
		}
	}
	t.Logf("fits %d, overflows %d", fits, overflows)
	// A full leaf: replacing an entry fits, adding one does not.
	full := &node.Node{}
	for i := range node.MaxEntries {
		full.Entries = append(full.Entries, node.Entry{Name: fmt.Sprintf("k%03d", i), Kind: node.KindInline})
	}
	l, err := node.NewLeaf(full.Entries)
	if err != nil {
		t.Fatal(err)
	}
	repl := node.Edit{Name: "k005", Entry: node.Entry{Name: "k005", Kind: node.KindInline, Inline: []byte("x")}}
	if got, ok, err := l.Edit([]node.Edit{repl}); err != nil || !ok || got.Len() != node.MaxEntries {
		t.Errorf("replacing in a full leaf: ok %v, %v", ok, err)
	}
	add := node.Edit{Name: "k999", Entry: node.Entry{Name: "k999", Kind: node.KindInline}}
	if got, ok, err := l.Edit([]node.Edit{add}); err != nil || ok || got != nil {
		t.Errorf("adding to a full leaf: ok %v, %v; want ok false", ok, err)
	}
}

// TestLeafEditNoOp: edits that change nothing (each puts back an equal
// entry, or deletes a name the leaf does not hold) return the leaf itself,
// so that a tree writer keeps the directory's hash without encoding or
// hashing anything; any edit that changes a byte (another value of the
// same size, another kind, a hash for an inline value) returns a new leaf
// with exactly the edited entries.
func TestLeafEditNoOp(t *testing.T) {
	rng := seed(t)
	noops, changed := 0, 0
	for range 300 {
		n := randNode(rng)
		if len(n.Entries) == 0 {
			continue
		}
		l, err := node.NewLeaf(n.Entries)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]node.Edit{}
		for range 1 + rng.IntN(6) {
			if rng.IntN(3) == 0 {
				name := randName(rng, 5) + "~absent"
				byName[name] = node.Edit{Name: name, Del: true}
				continue
			}
			e := n.Entries[rng.IntN(len(n.Entries))]
			e.Inline = bytes.Clone(e.Inline) // equal, not the same memory
			byName[e.Name] = node.Edit{Name: e.Name, Entry: e}
		}
		mutate := rng.IntN(2) == 0
		if mutate {
			e := n.Entries[rng.IntN(len(n.Entries))]
			switch {
			case e.Kind == node.KindInline && len(e.Inline) > 0:
				e.Inline = bytes.Clone(e.Inline)
				e.Inline[rng.IntN(len(e.Inline))] ^= 1 // the same size
			case e.Kind == node.KindInline:
				e.Kind, e.Hash = node.KindContents, backend.Hash{1}
			default:
				e.Hash[rng.IntN(len(e.Hash))] ^= 1
			}
			byName[e.Name] = node.Edit{Name: e.Name, Entry: e}
		}
		var edits []node.Edit
		for _, ed := range byName {
			edits = append(edits, ed)
		}
		sort.Slice(edits, func(i, j int) bool { return edits[i].Name < edits[j].Name })
		got, ok, err := l.Edit(edits)
		if err != nil || !ok {
			t.Fatalf("Edit: ok %v, %v", ok, err)
		}
		wantEnc, err := node.Encode(&node.Node{Entries: applyEdits(n.Entries, edits)})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Encoded(), wantEnc) {
			t.Fatalf("Edit bytes differ from Encode of the edited entries (mutated %v)", mutate)
		}
		switch {
		case !mutate && got != l:
			t.Fatalf("edits that change nothing returned a new leaf, not the leaf itself")
		case mutate && got == l:
			t.Fatalf("an edit that changes an entry returned the leaf itself")
		case mutate:
			changed++
		default:
			noops++
		}
	}
	if noops == 0 || changed == 0 {
		t.Fatalf("%d no-op cases, %d changing ones: the test tests too little", noops, changed)
	}
}

// TestLeafEditRejects: edits that are not sorted and unique, or store an
// entry Encode would refuse, return an error and no leaf.
func TestLeafEditRejects(t *testing.T) {
	l, err := node.NewLeaf([]node.Entry{{Name: "a", Kind: node.KindInline, Inline: []byte("1")}})
	if err != nil {
		t.Fatal(err)
	}
	val := func(name string) node.Entry {
		return node.Entry{Name: name, Kind: node.KindInline, Inline: []byte("x")}
	}
	for name, edits := range map[string][]node.Edit{
		"unsorted":      {{Name: "c", Entry: val("c")}, {Name: "b", Entry: val("b")}},
		"duplicate":     {{Name: "b", Del: true}, {Name: "b", Entry: val("b")}},
		"invalid name":  {{Name: "x/y", Entry: val("x/y")}},
		"name mismatch": {{Name: "b", Entry: val("c")}},
		"unknown kind":  {{Name: "b", Entry: node.Entry{Name: "b", Kind: 9}}},
		"long inline":   {{Name: "b", Entry: node.Entry{Name: "b", Kind: node.KindInline, Inline: make([]byte, node.MaxInline+1)}}},
	} {
		if got, _, err := l.Edit(edits); err == nil || got != nil {
			t.Errorf("%s: Edit = %v, %v; want an error", name, got, err)
		}
	}
}

// TestLeafReadsAllocateNothing: Find, Search and Entry on a leaf allocate
// nothing.
func TestLeafReadsAllocateNothing(t *testing.T) {
	n := randNode(rand.New(rand.NewPCG(1, 2)))
	for len(n.Entries) < 10 {
		n = randNode(rand.New(rand.NewPCG(uint64(len(n.Entries)), 3)))
	}
	l, err := node.NewLeaf(n.Entries)
	if err != nil {
		t.Fatal(err)
	}
	name := n.Entries[len(n.Entries)/2].Name
	if a := testing.AllocsPerRun(100, func() {
		if _, ok := l.Find(name); !ok {
			t.Fatal("not found")
		}
		_ = l.Entry(l.Search(name))
	}); a != 0 {
		t.Errorf("%v allocations per Find, want 0", a)
	}
}

// TestDecodeLeafCorrupt: DecodeLeaf rejects what Decode rejects, with an
// error wrapping backend.ErrCorrupt.
func TestDecodeLeafCorrupt(t *testing.T) {
	enc, err := node.Encode(&node.Node{Entries: []node.Entry{
		{Name: "a", Kind: node.KindInline, Inline: []byte("1")},
		{Name: "b", Kind: node.KindInline, Inline: []byte("2")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	unsorted := bytes.Replace(append([]byte{}, enc...), []byte{0xa1, 'b'}, []byte{0xa1, 'a'}, 1)
	for name, b := range map[string][]byte{
		"truncated": enc[:len(enc)-1],
		"trailing":  append(append([]byte{}, enc...), 0),
		"unsorted":  unsorted,
		"empty":     nil,
	} {
		if _, err := node.DecodeLeaf(b); !errors.Is(err, backend.ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
		if _, err := node.Decode(b); !errors.Is(err, backend.ErrCorrupt) {
			t.Errorf("%s: Decode: %v, want ErrCorrupt", name, err)
		}
	}
}

// sameEntries reports whether a and b hold equal entries (Entry.Equal), a
// fast check before cmp.Diff explains a difference.
func sameEntries(a, b []node.Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(&b[i]) {
			return false
		}
	}
	return true
}

func hasRef(es []node.Entry) bool {
	for _, e := range es {
		if e.Kind != node.KindInline {
			return true
		}
	}
	return false
}

// TestLeafHasRefs checks that a leaf of inline values only says so,
// however it was made, and one with a contents object or a directory
// entry does not.
func TestLeafHasRefs(t *testing.T) {
	inline := []node.Entry{{Name: "a", Kind: node.KindInline, Inline: []byte("1")}, {Name: "b", Kind: node.KindInline}}
	l, err := node.NewLeaf(inline)
	if err != nil {
		t.Fatal(err)
	}
	back, err := node.DecodeLeaf(l.Encoded())
	if err != nil {
		t.Fatal(err)
	}
	same, _, err := l.Edit([]node.Edit{{Name: "c", Entry: node.Entry{Name: "c", Kind: node.KindInline}}})
	if err != nil {
		t.Fatal(err)
	}
	for name, l := range map[string]*node.Leaf{"NewLeaf": l, "DecodeLeaf": back, "Edit": same} {
		if l.HasRefs() {
			t.Errorf("%s of inline values only: HasRefs true", name)
		}
	}
	for _, k := range []node.Kind{node.KindContents, node.KindNode} {
		ed := node.Edit{Name: "c", Entry: node.Entry{Name: "c", Kind: k, Hash: backend.Hash{1}}}
		withRef, _, err := l.Edit([]node.Edit{ed})
		if err != nil {
			t.Fatal(err)
		}
		back, err := node.DecodeLeaf(withRef.Encoded())
		if err != nil {
			t.Fatal(err)
		}
		made, err := node.NewLeaf(append(append([]node.Entry(nil), inline...), ed.Entry))
		if err != nil {
			t.Fatal(err)
		}
		for name, l := range map[string]*node.Leaf{"NewLeaf": made, "DecodeLeaf": back, "Edit": withRef} {
			if !l.HasRefs() {
				t.Errorf("%s with a kind %d entry: HasRefs false", name, k)
			}
		}
	}
}

// TestOneEntryLeaf: a leaf of one entry (whose offsets are shared by every
// such leaf) reads back its entry, for names whose string headers differ
// in size, is edited like any leaf, and costs two allocations: the Leaf
// and its encoding.
func TestOneEntryLeaf(t *testing.T) {
	for _, n := range []int{1, 31, 32, 255, 256, 1000} {
		name := string(bytes.Repeat([]byte{'n'}, n))
		for _, e := range []node.Entry{
			{Name: name, Kind: node.KindInline, Inline: []byte("value")},
			{Name: name, Kind: node.KindContents, Hash: backend.Hash{1, 2, 3}},
		} {
			l, err := node.NewLeaf([]node.Entry{e})
			if err != nil {
				t.Fatal(err)
			}
			if got := l.Entries(); !sameEntries([]node.Entry{e}, got) || l.Name(0) != name {
				t.Fatalf("name of %d bytes: entries %+v, want %+v", n, got, e)
			}
			if f, ok := l.Find(name); !ok || !f.Equal(&e) {
				t.Fatalf("name of %d bytes: Find = %+v, %v", n, f, ok)
			}
			add := node.Entry{Name: "a", Kind: node.KindInline}
			l2, ok, err := l.Edit([]node.Edit{{Name: "a", Entry: add}})
			if err != nil || !ok {
				t.Fatalf("Edit: %v, %v", ok, err)
			}
			if got := l2.Entries(); !sameEntries([]node.Entry{add, e}, got) {
				t.Fatalf("name of %d bytes: edited entries %+v", n, got)
			}
			es := []node.Entry{e}
			if a := testing.AllocsPerRun(20, func() { node.NewLeaf(es) }); a != 2 {
				t.Errorf("NewLeaf of one entry: %v allocations, want 2", a)
			}
		}
	}
}
