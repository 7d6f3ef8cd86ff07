package node

import (
	"fmt"
	"hash/maphash"
	"sort"
	"testing"
)

// TestLeafTableLayout: the find table of a leaf of every size that gets
// one (minTabled to MaxEntries entries) is laid out as makeTable says: a
// power of two of slots, at most three quarters full, each entry's
// offset in exactly one slot with the top 16 bits of its name's hash
// above it, reachable from its name's home slot without crossing an
// empty one. Find then answers as a binary search of the names does, for
// every name, for names just below and just above each, and for names
// before and after them all; Search is that binary search.
func TestLeafTableLayout(t *testing.T) {
	for n := minTabled; n <= MaxEntries; n++ {
		es := make([]Entry, n)
		names := make([]string, n)
		for i := range es {
			names[i] = fmt.Sprintf("k00123%03d", 2*i+1) // odd numbers: room between them
			es[i] = Entry{Name: names[i], Kind: KindInline, Inline: []byte(names[i])}
		}
		l, err := NewLeaf(es)
		if err != nil {
			t.Fatal(err)
		}
		tab := l.makeTable()
		m := len(tab)
		if m != tableSize(n) || m&(m-1) != 0 || 4*n > 3*m || (m > 8 && 4*n <= 3*m/2) {
			t.Fatalf("n %d: %d slots (tableSize %d): want the least power of two that n fill at most 3/4 of", n, m, tableSize(n))
		}
		if got := l.tableOf(); len(got) != m || &got[0] != &tab[0] {
			t.Fatalf("n %d: tableOf is not the table made", n)
		}
		used := 0
		for _, sl := range tab {
			if sl != 0 {
				used++
			}
		}
		if used != n {
			t.Fatalf("n %d: %d slots used", n, used)
		}
		for i, name := range names {
			h := maphash.String(tableSeed, name)
			want := uint32(h>>48)<<16 | l.offs[i]
			j := int(h & uint64(m-1))
			for ; tab[j] != want; j = (j + 1) % m {
				if tab[j] == 0 {
					t.Fatalf("n %d: %q not found probing from its home %d", n, name, h&uint64(m-1))
				}
			}
		}
		queries := []string{"", "a", "k", "k00123", "k00123000", "k00123999", "k001239", "k0012", "l", "k00123\x00"}
		for i := range n {
			queries = append(queries, names[i], fmt.Sprintf("k00123%03d", 2*i), fmt.Sprintf("k00123%03d", 2*i+2), names[i]+"\x00")
		}
		for _, q := range queries {
			want := sort.SearchStrings(names, q)
			if got := l.Search(q); got != want {
				t.Fatalf("n %d: Search(%q) = %d, want %d", n, q, got, want)
			}
			e, ok := l.Find(q)
			if found := want < n && names[want] == q; ok != found || ok && (e.Name != q || string(e.Inline) != q) {
				t.Fatalf("n %d: Find(%q) = %q %q, %v; want found %v", n, q, e.Name, e.Inline, ok, found)
			}
		}
	}
}

// TestLeafTableCollisions: names whose hashes share their home slot and
// their top 16 bits (forced by a table built by hand, every slot's tag
// the same) are still told apart by their names.
func TestLeafTableCollisions(t *testing.T) {
	es := make([]Entry, minTabled)
	for i := range es {
		n := fmt.Sprintf("n%03d", i)
		es[i] = Entry{Name: n, Kind: KindInline, Inline: []byte(n)}
	}
	l, err := NewLeaf(es)
	if err != nil {
		t.Fatal(err)
	}
	// Every entry in a run of slots from n000's home, all with n000's
	// tag: a search for n000 meets all of them, and must compare names
	// to find its own (the last of the run).
	tab := make([]uint32, tableSize(len(es)))
	h := maphash.String(tableSeed, "n000")
	tag, home := uint32(h>>48)<<16, int(h&uint64(len(tab)-1))
	for i := range l.offs {
		tab[(home+i)%len(tab)] = tag | l.offs[len(l.offs)-1-i]
	}
	for _, e := range es {
		if got, ok := l.findIn(tab, "n000"); !ok || got.Name != "n000" {
			t.Fatalf("findIn(n000) = %q, %v", got.Name, ok)
		}
		if got, ok := l.findIn(tab, e.Name); ok && got.Name != e.Name {
			t.Fatalf("findIn(%s) = %q", e.Name, got.Name)
		}
	}
}
