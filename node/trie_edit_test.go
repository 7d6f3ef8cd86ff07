package node_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/node"
)

// TestTrieWithChild checks that WithChild gives exactly NewTrie's trie
// (bytes, prefix, count, self) for the changed children, with and without
// a self entry and for prefixes of each string-header size, and refuses
// a missing child, an empty one, a count that fits in one node and one
// that overflows.
func TestTrieWithChild(t *testing.T) {
	hash := func(i int) (h backend.Hash) {
		h[0], h[31] = byte(i), byte(i>>8)
		return h
	}
	for _, prefix := range []string{"", "k", string(bytes.Repeat([]byte("p"), 40)), string(bytes.Repeat([]byte("q"), 300))} {
		for _, self := range []*node.Entry{nil, {Name: prefix, Kind: node.KindInline, Inline: []byte("self")}} {
			if self != nil && prefix == "" {
				continue
			}
			for _, last := range []byte{'z', 'c'} { // 'c': consecutive child bytes, found without a search
				children := []node.Child{{Byte: 'a', Count: 100, Hash: hash(1)}, {Byte: 'b', Count: 50, Hash: hash(2)}, {Byte: last, Count: 7, Hash: hash(3)}}
				x, err := node.NewTrie(prefix, self, children)
				if err != nil {
					t.Fatal(err)
				}
				orig, origCount := bytes.Clone(x.Encoded()), x.Count
				for i, c := range children {
					name := fmt.Sprintf("prefix %d bytes, self %v, child %c", len(prefix), self != nil, c.Byte)
					c.Count, c.Hash = c.Count+1000, hash(100+i)
					got, ok := x.WithChild(c)
					if !ok {
						t.Fatalf("%s: refused", name)
					}
					changed := append([]node.Child{}, children...)
					changed[i] = c
					want, err := node.NewTrie(prefix, self, changed)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got.Encoded(), want.Encoded()) || got.Prefix != prefix || got.Count != want.Count ||
						got.Self != self || got.NumChildren() != 3 || got.Child(i) != c {
						t.Errorf("%s: got %x (prefix %q, count %d), want %x", name, got.Encoded(), got.Prefix, got.Count, want.Encoded())
					}
					for b := range 256 {
						gc, gok := got.ChildFor(byte(b))
						wc, wok := want.ChildFor(byte(b))
						if gc != wc || gok != wok {
							t.Errorf("%s: ChildFor(%q) = %v, %v; NewTrie's %v, %v", name, byte(b), gc, gok, wc, wok)
						}
					}
					if !bytes.Equal(x.Encoded(), orig) || x.Count != origCount {
						t.Errorf("%s: the old trie's encoding changed", name)
					}
				}
				for _, c := range []node.Child{
					{Byte: 'y', Count: 5, Hash: hash(4)},           // no such child
					{Byte: 'a', Count: 0},                          // empty
					{Byte: 'a', Count: 1, Hash: hash(5)},           // 1+50+7 (+1) fits in a node
					{Byte: last, Count: ^uint64(0), Hash: hash(6)}, // overflows
				} {
					if got, ok := x.WithChild(c); ok || got != nil {
						t.Errorf("prefix %d bytes: WithChild(%c, %d) = %v, %v, want a refusal", len(prefix), c.Byte, c.Count, got, ok)
					}
				}
			}
		}
	}
}
