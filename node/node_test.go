package node_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/internal/codec"
	"github.com/stratakv/strata/node"
)

func h(b byte) backend.Hash {
	var x backend.Hash
	for i := range x {
		x[i] = b
	}
	return x
}

func TestRoundTrip(t *testing.T) {
	for _, n := range []*node.Node{
		{},
		{Entries: []node.Entry{{Name: "a", Kind: node.KindContents, Hash: h(1)}}},
		{Entries: []node.Entry{
			{Name: "A", Kind: node.KindNode, Hash: h(2)},
			{Name: "a", Kind: node.KindContents, Hash: h(1)},
			{Name: "é", Kind: node.KindContents, Hash: h(3)},
		}},
	} {
		b, err := node.Encode(n)
		if err != nil {
			t.Fatal(err)
		}
		got, err := node.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(len(n.Entries), len(got.Entries)); diff != "" {
			t.Fatal(diff)
		}
		for i := range n.Entries {
			if diff := cmp.Diff(n.Entries[i], got.Entries[i]); diff != "" {
				t.Errorf("entry %d: %s", i, diff)
			}
		}
		b2, _ := node.Encode(got)
		if !bytes.Equal(b, b2) {
			t.Errorf("re-encoding differs")
		}
	}
}

func TestEncodeRejectsNonCanonical(t *testing.T) {
	for name, n := range map[string]*node.Node{
		"unsorted":   {Entries: []node.Entry{{Name: "b", Kind: 1, Hash: h(1)}, {Name: "a", Kind: 1, Hash: h(1)}}},
		"duplicate":  {Entries: []node.Entry{{Name: "a", Kind: 1, Hash: h(1)}, {Name: "a", Kind: 2, Hash: h(1)}}},
		"slash":      {Entries: []node.Entry{{Name: "a/b", Kind: 1, Hash: h(1)}}},
		"empty name": {Entries: []node.Entry{{Name: "", Kind: 1, Hash: h(1)}}},
		"dotdot":     {Entries: []node.Entry{{Name: "..", Kind: 1, Hash: h(1)}}},
		"bad kind":   {Entries: []node.Entry{{Name: "a", Kind: 9, Hash: h(1)}}},
	} {
		if _, err := node.Encode(n); err == nil {
			t.Errorf("%s: Encode succeeded", name)
		}
	}
}

func TestDecodeCorrupt(t *testing.T) {
	good, _ := node.Encode(&node.Node{Entries: []node.Entry{{Name: "a", Kind: 1, Hash: h(1)}, {Name: "b", Kind: 2, Hash: h(2)}}})
	cases := map[string][]byte{
		"empty":     {},
		"truncated": good[:len(good)-3],
		"trailing":  append(append([]byte{}, good...), 0),
		"garbage":   []byte("not msgpack at all"),
	}
	// Swap the two entries' names to make them unsorted: "a" at offset of first name.
	unsorted := append([]byte{}, good...)
	ia, ib := bytes.IndexByte(unsorted, 'a'), bytes.IndexByte(unsorted, 'b')
	unsorted[ia], unsorted[ib] = 'b', 'a'
	cases["unsorted"] = unsorted
	for name, b := range cases {
		if _, err := node.Decode(b); !errors.Is(err, backend.ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}

func TestTypeTagsDiffer(t *testing.T) {
	// A node's bytes must not decode as another type, and vice versa.
	b, _ := node.Encode(&node.Node{})
	if b[2] != byte(codec.TagNode) { // [array marker, uint8 marker, tag, ...]
		t.Fatalf("tag byte = %d", b[2])
	}
	b[2] = byte(codec.TagContents)
	if _, err := node.Decode(b); !errors.Is(err, backend.ErrCorrupt) {
		t.Fatalf("decoding a contents-tagged object as node: %v", err)
	}
}

func TestFind(t *testing.T) {
	n := &node.Node{Entries: []node.Entry{{Name: "a", Kind: 1, Hash: h(1)}, {Name: "c", Kind: 2, Hash: h(3)}}}
	if e, ok := n.Find("c"); !ok || e.Hash != h(3) {
		t.Errorf("Find(c) = %v, %v", e, ok)
	}
	if _, ok := n.Find("b"); ok {
		t.Errorf("Find(b) found something")
	}
}
