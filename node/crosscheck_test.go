package node_test

import (
	"bytes"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/node"
)

// This file checks the hand-written encoders against the reflective
// MessagePack library they replaced: for random nodes and index objects,
// the new bytes equal the bytes of the old encoder (kept below as the
// reference), a generic MessagePack decoder reads the new bytes as the
// values docs/FORMAT.md specifies, and the canonical decoder reads the
// reference bytes back to the same object.

// refEncode is the node encoder as it was before it was written by hand:
// vmihailenco/msgpack's streaming Encoder with the FORMAT.md widths.
func refEncode(t *testing.T, n *node.Node) []byte {
	return refObject(t, 2, 1, func(enc *msgpack.Encoder) error {
		if err := enc.EncodeArrayLen(len(n.Entries)); err != nil {
			return err
		}
		for i := range n.Entries {
			e := &n.Entries[i]
			if err := enc.EncodeArrayLen(3); err != nil {
				return err
			}
			if err := enc.EncodeString(e.Name); err != nil {
				return err
			}
			if err := enc.EncodeUint8(uint8(e.Kind)); err != nil {
				return err
			}
			if err := refEncodeRef(enc, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// refEncodeIndex is the index encoder as it was before, as refEncode.
func refEncodeIndex(t *testing.T, x *node.Index) []byte {
	return refObject(t, 4, 4, func(e *msgpack.Encoder) error {
		if err := e.EncodeString(x.Prefix); err != nil {
			return err
		}
		if err := e.EncodeUint64(x.Count); err != nil {
			return err
		}
		if x.Self == nil {
			if err := e.EncodeArrayLen(0); err != nil {
				return err
			}
		} else {
			if err := e.EncodeArrayLen(2); err != nil {
				return err
			}
			if err := e.EncodeUint8(uint8(x.Self.Kind)); err != nil {
				return err
			}
			if err := refEncodeRef(e, x.Self); err != nil {
				return err
			}
		}
		if err := e.EncodeArrayLen(len(x.Children)); err != nil {
			return err
		}
		for _, c := range x.Children {
			if err := e.EncodeArrayLen(3); err != nil {
				return err
			}
			if err := e.EncodeUint8(c.Byte); err != nil {
				return err
			}
			if err := e.EncodeUint64(c.Count); err != nil {
				return err
			}
			if err := e.EncodeBytes(c.Hash[:]); err != nil {
				return err
			}
		}
		return nil
	})
}

func refEncodeRef(enc *msgpack.Encoder, e *node.Entry) error {
	if e.Kind == node.KindInline {
		b := e.Inline
		if b == nil {
			b = []byte{}
		}
		return enc.EncodeBytes(b)
	}
	return enc.EncodeBytes(e.Hash[:])
}

// refObject is the old codec.Encode: array header, tag, version, body.
func refObject(t *testing.T, tag uint8, n int, body func(*msgpack.Encoder) error) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	err := enc.EncodeArrayLen(2 + n)
	if err == nil {
		err = enc.EncodeUint8(tag)
	}
	if err == nil {
		err = enc.EncodeUint8(1)
	}
	if err == nil {
		err = body(enc)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// generic decodes b with msgpack's generic decoder into []any.
func generic(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := msgpack.Unmarshal(b, &v); err != nil {
		t.Fatalf("msgpack.Unmarshal(%x): %v", b, err)
	}
	return v
}

func seed(t *testing.T) *rand.Rand {
	s := uint64(time.Now().UnixNano())
	t.Logf("seed %d", s)
	return rand.New(rand.NewPCG(s, 1))
}

// randName returns a valid entry name of 1 to max bytes: any bytes but '/'
// and NUL, not "." or "..".
func randName(rng *rand.Rand, max int) string {
	for {
		b := make([]byte, 1+rng.IntN(max))
		for i := range b {
			for b[i] == 0 || b[i] == '/' {
				b[i] = byte(rng.UintN(256))
			}
		}
		if node.ValidName(string(b)) {
			return string(b)
		}
	}
}

func randHash(rng *rand.Rand) backend.Hash {
	var h backend.Hash
	for i := range h {
		h[i] = byte(rng.UintN(256))
	}
	return h
}

func randEntry(rng *rand.Rand, name string) node.Entry {
	e := node.Entry{Name: name, Kind: node.Kind(1 + rng.IntN(3))}
	if e.Kind == node.KindInline {
		e.Inline = make([]byte, rng.IntN(node.MaxInline+1))
		for i := range e.Inline {
			e.Inline[i] = byte(rng.UintN(256))
		}
	} else {
		e.Hash = randHash(rng)
	}
	return e
}

// randNode returns a node of up to MaxEntries entries whose names are up
// to 300 bytes long (fixstr, str8 and str16 headers; fixarray and array16).
func randNode(rng *rand.Rand) *node.Node {
	names := map[string]bool{}
	for range rng.IntN(node.MaxEntries + 1) {
		max := []int{4, 31, 40, 300}[rng.IntN(4)]
		names[randName(rng, max)] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	n := &node.Node{}
	for _, name := range sorted {
		n.Entries = append(n.Entries, randEntry(rng, name))
	}
	return n
}

// randIndex returns a valid index object: a random prefix, an optional
// self entry, and 2 to 256 children (or 1 with a self entry) with random
// counts that add up to more than MaxEntries.
func randIndex(rng *rand.Rand) *node.Index {
	x := &node.Index{}
	if rng.IntN(4) > 0 {
		x.Prefix = randName(rng, []int{4, 40, 300}[rng.IntN(3)])
	}
	if x.Prefix != "" && rng.IntN(2) == 0 {
		e := randEntry(rng, x.Prefix)
		x.Self = &e
		x.Count = 1
	}
	var bytes []byte
	if rng.IntN(3) == 0 { // consecutive bytes (a Trie finds them without searching)
		for b := 48 + rng.IntN(200); len(bytes) < 2+rng.IntN(20) && b < 256; b++ {
			bytes = append(bytes, byte(b))
		}
	} else {
		for b := 1; b < 256; b++ {
			if b != '/' && rng.IntN(4) == 0 {
				bytes = append(bytes, byte(b))
			}
		}
	}
	if len(bytes) < 2 {
		bytes = []byte{'a', 'b'}
	}
	for _, b := range bytes {
		c := node.Child{Byte: b, Count: 1 + rng.Uint64N(1<<40), Hash: randHash(rng)}
		x.Children = append(x.Children, c)
		x.Count += c.Count
	}
	return x
}

func entryValue(e *node.Entry) any {
	if e.Kind == node.KindInline {
		if e.Inline == nil {
			return []byte{}
		}
		return e.Inline
	}
	return e.Hash[:]
}

// nodeValue is n as msgpack's generic decoder reads its encoding.
func nodeValue(n *node.Node) any {
	es := []any{}
	for i := range n.Entries {
		e := &n.Entries[i]
		es = append(es, []any{e.Name, uint8(e.Kind), entryValue(e)})
	}
	return []any{uint8(2), uint8(1), es}
}

// indexValue is x as msgpack's generic decoder reads its encoding.
func indexValue(x *node.Index) any {
	self := []any{}
	if x.Self != nil {
		self = []any{uint8(x.Self.Kind), entryValue(x.Self)}
	}
	cs := []any{}
	for _, c := range x.Children {
		cs = append(cs, []any{c.Byte, c.Count, c.Hash[:]})
	}
	return []any{uint8(4), uint8(1), x.Prefix, x.Count, self, cs}
}

var equateEmpty = cmpopts.EquateEmpty()

func TestEncodeMatchesReflectiveMsgpack(t *testing.T) {
	rng := seed(t)
	for i := range 100 {
		n := randNode(rng)
		got, err := node.Encode(n)
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		if want := refEncode(t, n); !bytes.Equal(got, want) {
			t.Fatalf("node %d: Encode\n%x\nreflective encoder\n%x", i, got, want)
		}
		if !cmp.Equal(nodeValue(n), generic(t, got)) {
			diff := cmp.Diff(nodeValue(n), generic(t, got))
			t.Fatalf("node %d: generic decode of Encode (-want +got):\n%s", i, diff)
		}
		back, err := node.Decode(refEncode(t, n))
		if err != nil {
			t.Fatalf("node %d: Decode of the reflective encoding: %v", i, err)
		}
		if !cmp.Equal(n, back, equateEmpty) {
			diff := cmp.Diff(n, back, equateEmpty)
			t.Fatalf("node %d: Decode of the reflective encoding (-want +got):\n%s", i, diff)
		}
	}
}

func TestEncodeIndexMatchesReflectiveMsgpack(t *testing.T) {
	rng := seed(t)
	for i := range 100 {
		x := randIndex(rng)
		got, err := node.EncodeIndex(x)
		if err != nil {
			t.Fatalf("index %d: %v", i, err)
		}
		if want := refEncodeIndex(t, x); !bytes.Equal(got, want) {
			t.Fatalf("index %d: EncodeIndex\n%x\nreflective encoder\n%x", i, got, want)
		}
		if !cmp.Equal(indexValue(x), generic(t, got)) {
			diff := cmp.Diff(indexValue(x), generic(t, got))
			t.Fatalf("index %d: generic decode of EncodeIndex (-want +got):\n%s", i, diff)
		}
		back, err := node.DecodeIndex(refEncodeIndex(t, x))
		if err != nil {
			t.Fatalf("index %d: DecodeIndex of the reflective encoding: %v", i, err)
		}
		if !cmp.Equal(x, back, equateEmpty) {
			diff := cmp.Diff(x, back, equateEmpty)
			t.Fatalf("index %d: DecodeIndex of the reflective encoding (-want +got):\n%s", i, diff)
		}
	}
}

// TestEncodeAllocatesOnce checks that encoding a node or an index
// allocates only its result, sized exactly.
func TestEncodeAllocatesOnce(t *testing.T) {
	rng := seed(t)
	n := randNode(rng)
	x := randIndex(rng)
	for _, c := range []struct {
		name string
		f    func() ([]byte, error)
	}{
		{"node", func() ([]byte, error) { return node.Encode(n) }},
		{"index", func() ([]byte, error) { return node.EncodeIndex(x) }},
	} {
		b, err := c.f()
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != cap(b) {
			t.Errorf("%s: %d bytes in a buffer of %d", c.name, len(b), cap(b))
		}
		if a := testing.AllocsPerRun(20, func() { _, _ = c.f() }); a != 1 {
			t.Errorf("%s: %v allocations per encode, want 1", c.name, a)
		}
	}
}

func TestEncodeRejectsLongInline(t *testing.T) {
	e := node.Entry{Name: "a", Kind: node.KindInline, Inline: make([]byte, node.MaxInline+1)}
	if _, err := node.Encode(&node.Node{Entries: []node.Entry{e}}); err == nil {
		t.Error("Encode of a node with a 33-byte inline value: no error")
	}
	x := &node.Index{Prefix: "a", Count: 201, Self: &e, Children: []node.Child{{Byte: 'b', Count: 200}}}
	if _, err := node.EncodeIndex(x); err == nil {
		t.Error("EncodeIndex with a 33-byte inline self value: no error")
	}
}

// TestTrieMatchesIndex checks the encoded form of an index object against
// the decoded one: NewTrie encodes exactly as EncodeIndex, DecodeTrie
// reads what DecodeIndex reads, and every child read from the encoding
// (by position, by byte, as refs) is the decoded one.
func TestTrieMatchesIndex(t *testing.T) {
	rng := seed(t)
	for i := range 200 {
		x := randIndex(rng)
		want, err := node.EncodeIndex(x)
		if err != nil {
			t.Fatalf("index %d: %v", i, err)
		}
		kids := append([]node.Child(nil), x.Children...)
		made, err := node.NewTrie(x.Prefix, x.Self, kids)
		if err != nil {
			t.Fatalf("index %d: NewTrie: %v", i, err)
		}
		clear(kids) // NewTrie must not keep the caller's slice
		read, err := node.DecodeTrie(want)
		if err != nil {
			t.Fatalf("index %d: DecodeTrie: %v", i, err)
		}
		for name, tr := range map[string]*node.Trie{"NewTrie": made, "DecodeTrie": read} {
			if !bytes.Equal(tr.Encoded(), want) {
				t.Fatalf("index %d: %s encoding\n%x\nEncodeIndex\n%x", i, name, tr.Encoded(), want)
			}
			if o, _ := node.IndexObject(x); tr.Object().Hash != o.Hash {
				t.Fatalf("index %d: %s hash %s, IndexObject %s", i, name, tr.Object().Hash, o.Hash)
			}
			if !cmp.Equal(x, tr.Index(), equateEmpty) {
				t.Fatalf("index %d: %s decoded (-want +got):\n%s", i, name, cmp.Diff(x, tr.Index(), equateEmpty))
			}
			if tr.Prefix != x.Prefix || tr.Count != x.Count || !tr.Self.Equal(x.Self) || tr.NumChildren() != len(x.Children) {
				t.Fatalf("index %d: %s header %q %d %v %d, want %q %d %v %d", i, name,
					tr.Prefix, tr.Count, tr.Self, tr.NumChildren(), x.Prefix, x.Count, x.Self, len(x.Children))
			}
			for b := range 256 {
				gc, gok := tr.ChildFor(byte(b))
				wc, wok := x.ChildFor(byte(b))
				if gc != wc || gok != wok {
					t.Fatalf("index %d: %s ChildFor(%d) = %v %v, want %v %v", i, name, b, gc, gok, wc, wok)
				}
			}
			var got []node.Child
			for c := range tr.Children() {
				got = append(got, c)
			}
			if !cmp.Equal(x.Children, got) {
				t.Fatalf("index %d: %s Children (-want +got):\n%s", i, name, cmp.Diff(x.Children, got))
			}
			if !cmp.Equal(x.Refs(), tr.Refs()) {
				t.Fatalf("index %d: %s Refs (-want +got):\n%s", i, name, cmp.Diff(x.Refs(), tr.Refs()))
			}
		}
	}
}

// TestNewTrieRejects checks that NewTrie refuses what EncodeIndex refuses:
// an index that is not canonical, or a self entry that cannot be encoded.
func TestNewTrieRejects(t *testing.T) {
	long := node.Entry{Name: "a", Kind: node.KindInline, Inline: make([]byte, node.MaxInline+1)}
	ok := node.Entry{Name: "a", Kind: node.KindInline, Inline: []byte("v")}
	for name, c := range map[string]struct {
		prefix string
		self   *node.Entry
		kids   []node.Child
	}{
		"long inline self":   {"a", &long, []node.Child{{Byte: 'b', Count: 200}}},
		"one child, no self": {"a", nil, []node.Child{{Byte: 'b', Count: 200}}},
		"small":              {"a", &ok, []node.Child{{Byte: 'b', Count: 50}, {Byte: 'c', Count: 50}}},
		"unsorted":           {"a", nil, []node.Child{{Byte: 'c', Count: 100}, {Byte: 'b', Count: 100}}},
		"empty child":        {"a", nil, []node.Child{{Byte: 'b', Count: 200}, {Byte: 'c'}}},
		"slash":              {"a", nil, []node.Child{{Byte: '/', Count: 100}, {Byte: 'c', Count: 100}}},
		"overflow":           {"a", nil, []node.Child{{Byte: 'b', Count: 1 << 63}, {Byte: 'c', Count: 1 << 63}}},
	} {
		if _, err := node.NewTrie(c.prefix, c.self, c.kids); err == nil {
			t.Errorf("%s: NewTrie: no error", name)
		}
		x := &node.Index{Prefix: c.prefix, Self: c.self, Children: c.kids}
		if c.self != nil {
			x.Count++
		}
		for _, k := range c.kids {
			x.Count += k.Count
		}
		if _, err := node.EncodeIndex(x); err == nil {
			t.Errorf("%s: EncodeIndex: no error (the case does not test NewTrie)", name)
		}
	}
}

// TestNewTrieAllocates checks that making a Trie allocates its encoding
// and its header only.
func TestNewTrieAllocates(t *testing.T) {
	x := randIndex(seed(t))
	if a := testing.AllocsPerRun(20, func() { _, _ = node.NewTrie(x.Prefix, x.Self, x.Children) }); a != 2 {
		t.Errorf("%v allocations per NewTrie, want 2", a)
	}
}
