package transfer

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/internal/codec"
	"github.com/stratakv/strata/node"
)

// testNode encodes a directory of n entries, every third one inline,
// every third one a subdirectory, the others contents objects.
func testNode(t testing.TB, n int) []byte {
	t.Helper()
	var es []node.Entry
	for i := range n {
		e := node.Entry{Name: fmt.Sprintf("e%03d", i), Hash: backend.Hash{byte(i), 1}}
		switch i % 3 {
		case 0:
			e.Kind, e.Hash, e.Inline = node.KindInline, backend.Hash{}, []byte(fmt.Sprint(i))
		case 1:
			e.Kind = node.KindNode
		default:
			e.Kind = node.KindContents
		}
		es = append(es, e)
	}
	b, err := node.Encode(&node.Node{Entries: es})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLinks: Links returns the links node.Decode, commit.Decode and
// node's Refs give, and refuses bytes that do not hash to the key or do
// not decode (ErrCorrupt naming the hash).
func TestLinks(t *testing.T) {
	for _, n := range []int{0, 1, 3, 7, node.MaxEntries} {
		b := testNode(t, n)
		want, err := node.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		c, got, err := Links(codec.Sum(b), b)
		if err != nil || c != nil {
			t.Fatalf("Links of a node of %d entries: commit %v, %v", n, c, err)
		}
		if diff := cmp.Diff(want.Refs(), got); diff != "" {
			t.Errorf("links of a node of %d entries (-Refs +Links):\n%s", n, diff)
		}
	}
	cm := &commit.Commit{Tree: backend.Hash{9}, Parents: []backend.Hash{{1}, {2}}, Author: "a", Message: "m", Time: 1, Height: 2}
	cb := commit.Encode(cm)
	c, got, err := Links(codec.Sum(cb), cb)
	if err != nil || c == nil {
		t.Fatalf("Links of a commit: %v, %v", c, err)
	}
	if diff := cmp.Diff([]backend.Hash{{9}, {1}, {2}}, got); diff != "" {
		t.Errorf("links of a commit (-want +got):\n%s", diff)
	}

	b := testNode(t, 5)
	h := codec.Sum(b)
	for name, data := range map[string][]byte{
		"another object's bytes": testNode(t, 4),
		"a flipped byte":         append(append([]byte{}, b[:len(b)-1]...), b[len(b)-1]^1),
	} {
		if _, _, err := Links(h, data); !errors.Is(err, backend.ErrCorrupt) {
			t.Errorf("Links of %s: %v, want ErrCorrupt", name, err)
		}
	}
	for name, data := range map[string][]byte{
		"truncated":      b[:len(b)-3],
		"trailing bytes": append(append([]byte{}, b...), 0),
		"not an object":  []byte("hello"),
	} {
		_, _, err := Links(codec.Sum(data), data)
		if !errors.Is(err, backend.ErrCorrupt) {
			t.Errorf("Links of a %s node: %v, want ErrCorrupt", name, err)
		}
	}
}

// FuzzNodeLinks: on any bytes that node.Decode accepts, the links-only
// reader returns exactly the node's Refs; it never panics on others.
func FuzzNodeLinks(f *testing.F) {
	for _, n := range []int{0, 1, 2, 5, 9} {
		f.Add(testNode(f, n))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := nodeLinks(nil, b)
		n, derr := node.Decode(b)
		if derr != nil {
			return
		}
		if err != nil {
			t.Fatalf("node.Decode accepts %x, nodeLinks: %v", b, err)
		}
		if diff := cmp.Diff(n.Refs(), got); diff != "" {
			t.Fatalf("links of %x (-Refs +nodeLinks):\n%s", b, diff)
		}
	})
}
