package node_test

import (
	"bytes"
	"errors"
	"fmt"
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

func TestInlineValues(t *testing.T) {
	n := &node.Node{Entries: []node.Entry{
		{Name: "a", Kind: node.KindInline, Inline: []byte{}},
		{Name: "b", Kind: node.KindInline, Inline: bytes.Repeat([]byte{0}, node.MaxInline)},
		{Name: "c", Kind: node.KindContents, Hash: h(1)},
	}}
	b, err := node.Encode(n)
	if err != nil {
		t.Fatal(err)
	}
	got, err := node.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n.Entries {
		if !n.Entries[i].Equal(&got.Entries[i]) {
			t.Errorf("entry %d: %+v, want %+v", i, got.Entries[i], n.Entries[i])
		}
	}
	if diff := cmp.Diff([]backend.Hash{h(1)}, got.Refs()); diff != "" {
		t.Errorf("children: %s", diff)
	}
	tooLong := &node.Node{Entries: []node.Entry{{Name: "a", Kind: node.KindInline, Inline: make([]byte, node.MaxInline+1)}}}
	if _, err := node.Encode(tooLong); err == nil {
		t.Error("encoded an inline value over MaxInline")
	}
}

func TestMaxEntries(t *testing.T) {
	n := &node.Node{}
	for i := 0; i <= node.MaxEntries; i++ {
		n.Entries = append(n.Entries, node.Entry{Name: fmt.Sprintf("k%04d", i), Kind: node.KindContents, Hash: h(1)})
	}
	if _, err := node.Encode(n); err == nil {
		t.Fatal("encoded a node over MaxEntries")
	}
}

func TestIndexRoundTripAndChecks(t *testing.T) {
	good := &node.Index{Prefix: "k", Count: 200, Children: []node.Child{{Byte: '0', Count: 100, Hash: h(1)}, {Byte: '1', Count: 100, Hash: h(2)}}}
	b, err := node.EncodeIndex(good)
	if err != nil {
		t.Fatal(err)
	}
	got, err := node.DecodeIndex(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(good, got); diff != "" {
		t.Error(diff)
	}
	withSelf := &node.Index{Prefix: "k", Count: 201, Self: &node.Entry{Name: "k", Kind: node.KindInline, Inline: []byte("v")},
		Children: []node.Child{{Byte: '0', Count: 200, Hash: h(1)}}}
	if b, err := node.EncodeIndex(withSelf); err != nil {
		t.Fatal(err)
	} else if got, err := node.DecodeIndex(b); err != nil || !got.Self.Equal(withSelf.Self) {
		t.Fatalf("self: %+v, %v", got, err)
	}
	for name, x := range map[string]*node.Index{
		"count too small": {Prefix: "k", Count: 100, Children: []node.Child{{Byte: '0', Count: 50, Hash: h(1)}, {Byte: '1', Count: 50, Hash: h(2)}}},
		"counts disagree": {Prefix: "k", Count: 300, Children: []node.Child{{Byte: '0', Count: 100, Hash: h(1)}, {Byte: '1', Count: 100, Hash: h(2)}}},
		"one child":       {Prefix: "k", Count: 200, Children: []node.Child{{Byte: '0', Count: 200, Hash: h(1)}}},
		"unsorted":        {Prefix: "k", Count: 200, Children: []node.Child{{Byte: '1', Count: 100, Hash: h(1)}, {Byte: '0', Count: 100, Hash: h(2)}}},
		"slash byte":      {Prefix: "k", Count: 200, Children: []node.Child{{Byte: '/', Count: 100, Hash: h(1)}, {Byte: '0', Count: 100, Hash: h(2)}}},
		"self not prefix": {Prefix: "k", Count: 201, Self: &node.Entry{Name: "x", Kind: 1, Hash: h(3)}, Children: []node.Child{{Byte: '0', Count: 200, Hash: h(1)}}},
		"empty child":     {Prefix: "k", Count: 200, Children: []node.Child{{Byte: '0', Count: 0, Hash: h(1)}, {Byte: '1', Count: 200, Hash: h(2)}}},
	} {
		if _, err := node.EncodeIndex(x); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
	// Corrupt bytes of a good index decode to ErrCorrupt.
	if _, err := node.DecodeIndex(b[:len(b)-5]); !errors.Is(err, backend.ErrCorrupt) {
		t.Errorf("truncated index: %v", err)
	}
}
