package node

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

// TestLeafEditOffsets: Leaf.Edit gives the offsets and bytes NewLeaf of
// the edited entries gives, in an encoding exactly as long as it needs;
// a leaf whose edits all replace entries by ones of the same size shares
// the old leaf's offsets, any other has its own.
func TestLeafEditOffsets(t *testing.T) {
	es := make([]Entry, 100)
	for i := range es {
		es[i] = Entry{Name: fmt.Sprintf("k%03d", i), Kind: KindInline, Inline: []byte(fmt.Sprintf("v%07d", i))}
	}
	l, err := NewLeaf(es)
	if err != nil {
		t.Fatal(err)
	}
	set := func(name, v string) Edit {
		return Edit{Name: name, Entry: Entry{Name: name, Kind: KindInline, Inline: []byte(v)}}
	}
	for _, tc := range []struct {
		name  string
		edits []Edit
		share bool
	}{
		{"same sizes", []Edit{set("k000", "w0000000"), set("k050", "w0000050"), set("k099", "w0000099")}, true},
		{"a longer value", []Edit{set("k010", "w0000010"), set("k020", "w00000200")}, false},
		{"a shorter value", []Edit{set("k010", "w")}, false},
		{"an added entry", []Edit{set("k0500", "w0000050")}, false},
		{"a deletion", []Edit{{Name: "k050", Del: true}}, false},
		{"a deletion of an absent name", []Edit{{Name: "k0500", Del: true}, set("k060", "w0000060")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := l.Edit(tc.edits)
			if err != nil || !ok {
				t.Fatalf("Edit: ok %v, %v", ok, err)
			}
			want, err := NewLeaf(applyEditsModel(es, tc.edits))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.data, want.data) {
				t.Fatalf("bytes differ from NewLeaf's")
			}
			if cap(got.data) != len(got.data) {
				t.Errorf("encoding of %d bytes has a capacity of %d", len(got.data), cap(got.data))
			}
			if diff := cmp.Diff(want.offs, got.offs); diff != "" {
				t.Fatalf("offsets (-NewLeaf +Edit):\n%s", diff)
			}
			if shared := unsafe.SliceData(got.offs) == unsafe.SliceData(l.offs); shared != tc.share {
				t.Fatalf("offsets shared with the old leaf: %v, want %v", shared, tc.share)
			}
		})
	}
}

// applyEditsModel applies sorted edits to sorted entries, one by one.
func applyEditsModel(es []Entry, edits []Edit) []Entry {
	out := append([]Entry{}, es...)
	for _, ed := range edits {
		i := 0
		for i < len(out) && out[i].Name < ed.Name {
			i++
		}
		found := i < len(out) && out[i].Name == ed.Name
		switch {
		case ed.Del && found:
			out = append(out[:i], out[i+1:]...)
		case ed.Del:
		case found:
			out[i] = ed.Entry
		default:
			out = append(out[:i], append([]Entry{ed.Entry}, out[i:]...)...)
		}
	}
	return out
}

// TestLeafTableLimit: a leaf whose encoding is exactly 64 KB gets a find
// table once read often enough (every offset fits its slots' 16 bits),
// one a byte longer never does, and both find every entry and miss
// others.
func TestLeafTableLimit(t *testing.T) {
	prefix := strings.Repeat("p", 1000)
	for _, size := range []int{maxTabledBytes, maxTabledBytes + 1} {
		es := make([]Entry, 64)
		for i := range es {
			es[i] = Entry{Name: fmt.Sprintf("%sk%03d", prefix, i), Kind: KindInline, Inline: []byte("v")}
		}
		var l *Leaf
		for range 4 { // lengthen the last name until the encoding is size bytes
			var err error
			if l, err = NewLeaf(es); err != nil {
				t.Fatal(err)
			}
			last := &es[len(es)-1]
			last.Name += strings.Repeat("z", size-len(l.data))
		}
		if len(l.data) != size {
			t.Fatalf("leaf of %d bytes, want %d", len(l.data), size)
		}
		for range tableAfter + 1 {
			for _, e := range es {
				if got, ok := l.Find(e.Name); !ok || got.Name != e.Name {
					t.Fatalf("%d bytes: Find(%q) = %q, %v", size, e.Name, got.Name, ok)
				}
			}
			for _, miss := range []string{"a", prefix + "k0005", prefix + "k062z", "z"} {
				if _, ok := l.Find(miss); ok {
					t.Fatalf("%d bytes: Find(%q) found an entry", size, miss)
				}
			}
		}
		if tabled := l.tableOf() != nil; tabled != (size <= maxTabledBytes) {
			t.Errorf("leaf of %d bytes has a table: %v, want %v", size, tabled, size <= maxTabledBytes)
		}
	}
}
