package node

import (
	"fmt"
	"sort"
	"testing"
	"unsafe"
)

// TestLeafKeyLayout: the search keys of a leaf of every keyed size (32 to
// MaxEntries entries) are laid out as makeKeys says: a key per entry
// holding its name's bytes after the shared prefix and its entry's
// offset; then the summary, the greatest key of each group of keyStride
// keys; then the prefix's length. An array of over 512 bytes starts on a
// 64-byte boundary, so that a group is one cache line. Search and Find
// answer as a binary search of the names for every name, for a name just
// below and just above each, and for names before and after them all, so
// that the first and last keys of every group, and a partial last group,
// are searched.
func TestLeafKeyLayout(t *testing.T) {
	for n := minKeyed; n <= MaxEntries; n++ {
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
		k := l.makeKeys()
		if len(k) != keyWords(n) {
			t.Fatalf("n %d: %d words of keys, want %d", n, len(k), keyWords(n))
		}
		if a := uintptr(unsafe.Pointer(&k[0])); len(k)*8 > 512 && a%64 != 0 {
			t.Fatalf("n %d: keys of %d bytes at %#x: want a 64-byte boundary", n, len(k)*8, a)
		}
		if got := l.keysOf(); len(got) != len(k) || &got[0] != &k[0] {
			t.Fatalf("n %d: keysOf is not the keys made", n)
		}
		p := len("k001230") // the names' shared prefix: their numbers run from 001 to 099 ...
		if n > 50 {
			p = len("k00123") // ... or to 101 and beyond
		}
		if got := int(k[len(k)-1]); got != p {
			t.Fatalf("n %d: prefix length %d, want %d", n, got, p)
		}
		for i := range n {
			if want := nameKey(names[i][p:]) | uint64(l.offs[i]); k[i] != want {
				t.Fatalf("n %d: key %d = %#x, want %#x", n, i, k[i], want)
			}
		}
		sum := k[n : len(k)-1]
		if len(sum) != (n+keyStride-1)/keyStride {
			t.Fatalf("n %d: a summary of %d keys", n, len(sum))
		}
		for g := range sum {
			if last := min(g*keyStride+keyStride, n) - 1; sum[g] != k[last] {
				t.Fatalf("n %d: summary %d = %#x, want key %d, %#x", n, g, sum[g], last, k[last])
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
