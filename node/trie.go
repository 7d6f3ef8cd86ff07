package node

import (
	"encoding/binary"
	"iter"
	"sync/atomic"
	"unsafe"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/internal/codec"
)

// Trie is an index object (one level of a large directory, see Index) held
// as its canonical encoding: the form a Store caches and a tree edit
// writes. Its prefix, count and self entry are decoded; its children are
// read from the encoding on demand, without allocating, since every
// encoded child has the same size and the children end the encoding. It
// costs the encoded bytes and a small header, where a decoded Index costs
// about twice that.
//
// A Trie read often also links its children's decoded objects (see Kid
// and link.go).
//
// A Trie is immutable (but for its links) and safe for concurrent use.
// Prefix, Count and Self must not be modified; Self (nil if the directory
// has no entry named Prefix) is shared.
type Trie struct {
	Prefix string               // the longest common prefix of the names below it
	Count  uint64               // entries in the whole directory below this index
	Self   *Entry               // the entry named Prefix, or nil
	data   *byte                // the canonical encoding (EncodeIndex): size bytes (see enc)
	kids   atomic.Pointer[kids] // the kid table, once made (see Kid)
	size   int32
	n      int32        // children
	state  atomic.Int32 // see stateUsed
	// If the children's bytes are consecutive (every byte from the
	// first child's to the last's has a child), ChildFor finds child b at
	// b - first without searching. (The fields fit the Trie in 64 bytes,
	// one cache line.)
	first byte
	dense bool
}

// Offsets within an encoded child: fixarray, 0xcc byte, 0xcf count (8
// bytes), 0xc4 0x20 hash (32 bytes).
const (
	childByteAt  = 2
	childCountAt = 4
	childHashAt  = 14
)

// NewTrie encodes the index object made of self (nil for none) and
// children (sorted by byte, none empty) under prefix, its count the sum of
// theirs. It returns an error if EncodeIndex would for that Index. It
// copies what it needs of children; self is kept (with what its name and
// inline value refer to), and must not be modified afterwards.
func NewTrie(prefix string, self *Entry, children []Child) (*Trie, error) {
	var count uint64
	if self != nil {
		count++
	}
	for i := range children {
		count += children[i].Count // an overflow fails the check below
	}
	x := Index{Prefix: prefix, Count: count, Self: self, Children: children}
	if err := x.checkEncodable(); err != nil {
		return nil, err
	}
	data := appendIndex(make([]byte, 0, indexSize(&x)), &x)
	return newTrie(data, &x), nil
}

// newTrie returns the Trie of x, whose encoding is data; the prefix
// aliases data.
func newTrie(data []byte, x *Index) *Trie {
	t := &Trie{Count: x.Count, Self: x.Self, data: unsafe.SliceData(data), size: int32(len(data)), n: int32(len(x.Children))}
	if n := len(x.Children); n > 0 {
		t.first = x.Children[0].Byte
		t.dense = int(x.Children[n-1].Byte)-int(t.first) == n-1
	}
	if n := len(x.Prefix); n > 0 {
		at := codec.SizeHeader(4) + codec.SizeString(n) - n
		t.Prefix = unsafe.String(&data[at], n)
	}
	return t
}

// WithChild returns t with its child for c.Byte replaced by c and its
// count changed to match: the Trie NewTrie makes of the same prefix, self
// entry and children, made by copying t's encoding and rewriting the two
// counts and the hash (a commit that changes one name in a large
// directory changes one child of each index on its path). It returns ok
// false, and no Trie, if t has no child for c.Byte, c is empty, or the
// new count overflows or would fit in one node (NewTrie refuses those).
func (t *Trie) WithChild(c Child) (_ *Trie, ok bool) {
	lo, found := t.childIndex(c.Byte)
	if !found || c.Count == 0 {
		return nil, false
	}
	old := t.childCount(lo)
	count := t.Count - old + c.Count
	if count <= MaxEntries || count < c.Count { // fits in a node, or overflows
		return nil, false
	}
	data := append(make([]byte, 0, t.size), t.enc()...)
	at := t.countAt()
	binary.BigEndian.PutUint64(data[at:], count)
	ch := data[len(data)-(int(t.n)-lo)*minChildSize:]
	binary.BigEndian.PutUint64(ch[childCountAt:], c.Count)
	copy(ch[childHashAt:childHashAt+backend.HashSize], c.Hash[:])
	nt := &Trie{Count: count, Self: t.Self, data: unsafe.SliceData(data), size: t.size, n: t.n, first: t.first, dense: t.dense} // the same child bytes
	if n := len(t.Prefix); n > 0 {
		nt.Prefix = unsafe.String(&data[at-1-n], n) // it ends at the count's 0xcf
	}
	return nt, true
}

// countAt returns where the count's 8 bytes start in t's encoding: after
// the header, the prefix and the count's 0xcf byte.
func (t *Trie) countAt() int { return codec.SizeHeader(4) + codec.SizeString(len(t.Prefix)) + 1 }

// DecodeTrie decodes an encoded Index as a Trie, checking it exactly as
// DecodeIndex does; errors wrap backend.ErrCorrupt. The Trie keeps b: the
// caller must not modify b afterwards.
func DecodeTrie(b []byte) (*Trie, error) {
	x, err := DecodeIndex(b)
	if err != nil {
		return nil, err
	}
	return newTrie(b, x), nil
}

// NumChildren returns the number of children.
func (t *Trie) NumChildren() int { return int(t.n) }

// enc returns t's canonical encoding.
func (t *Trie) enc() []byte { return unsafe.Slice(t.data, t.size) }

// child returns the encoding of child i (0 <= i < NumChildren).
func (t *Trie) child(i int) []byte {
	at := int(t.size) - (int(t.n)-i)*minChildSize
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(t.data), at)), minChildSize)
}

// childCount returns the count of child i (0 <= i < NumChildren).
func (t *Trie) childCount(i int) uint64 {
	return binary.BigEndian.Uint64(t.child(i)[childCountAt:])
}

// ChildIndex returns the index of t's child for byte b (see Child), if t
// has one.
func (t *Trie) ChildIndex(b byte) (int, bool) { return t.childIndex(b) }

// ChildHash returns the hash of child i (0 <= i < NumChildren).
func (t *Trie) ChildHash(i int) (h backend.Hash) {
	copy(h[:], t.child(i)[childHashAt:])
	return h
}

// Child returns child i (0 <= i < NumChildren), in byte order.
func (t *Trie) Child(i int) Child {
	c := t.child(i)
	ch := Child{Byte: c[childByteAt], Count: binary.BigEndian.Uint64(c[childCountAt:])}
	copy(ch.Hash[:], c[childHashAt:])
	return ch
}

// Children yields every child in byte order, decoding each as it goes.
func (t *Trie) Children() iter.Seq[Child] {
	return func(yield func(Child) bool) {
		for i := range int(t.n) {
			if !yield(t.Child(i)) {
				return
			}
		}
	}
}

// ChildFor returns the child holding names that continue Prefix with b.
func (t *Trie) ChildFor(b byte) (Child, bool) {
	if i, ok := t.childIndex(b); ok {
		return t.Child(i), true
	}
	return Child{}, false
}

// childIndex returns the index of the child for byte b, if t has one:
// directly if the child bytes are consecutive, else by binary search.
func (t *Trie) childIndex(b byte) (int, bool) {
	n := int(t.n)
	if t.dense {
		i := int(b) - int(t.first)
		return i, i >= 0 && i < n
	}
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.child(m)[childByteAt] < b {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < n && t.child(lo)[childByteAt] == b
}

// Refs returns the hashes t refers to (its self entry's, then its
// children's), as Index.Refs does.
func (t *Trie) Refs() []backend.Hash {
	hs := make([]backend.Hash, 0, t.n+1)
	if t.Self != nil && t.Self.Kind != KindInline {
		hs = append(hs, t.Self.Hash)
	}
	for i := range int(t.n) {
		hs = append(hs, t.Child(i).Hash)
	}
	return hs
}

// Index returns t decoded, in a fresh Index the caller owns (its Self is
// shared with t).
func (t *Trie) Index() *Index {
	x := &Index{Prefix: t.Prefix, Count: t.Count, Self: t.Self, Children: make([]Child, t.n)}
	for i := range x.Children {
		x.Children[i] = t.Child(i)
	}
	return x
}

// Encoded returns t's canonical encoding, whose BLAKE3 hash names it. The
// bytes are shared and must not be modified.
func (t *Trie) Encoded() []byte { return t.enc() }

// Object returns t's encoding keyed by its hash, ready for
// ObjectStore.Put. The Data is shared with t and must not be modified.
func (t *Trie) Object() backend.Object {
	return backend.Object{Hash: codec.Sum(t.enc()), Data: t.enc()}
}
