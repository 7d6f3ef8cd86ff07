// Package node encodes, hashes and reads tree nodes: the directory objects
// of strata. A Node lists a directory's entries, each a name and the hash of
// either a value (a contents object) or a subdirectory (another node),
// sorted by the bytes of the name. The exact encoding is in docs/FORMAT.md.
package node

import (
	"fmt"
	"sort"
	"strings"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/internal/codec"
)

// Kind says what an entry points at.
type Kind uint8

// Entry kinds.
const (
	KindContents Kind = 1 // the entry is a value: Hash names a contents object
	KindNode     Kind = 2 // the entry is a directory: Hash names a node or an index
	KindInline   Kind = 3 // the entry is a value of at most MaxInline bytes, held in Inline
)

// MaxInline is the size of the largest value stored inline in its
// directory entry. A longer value is a contents object named by its hash.
// The rule depends only on the value's length, so it keeps hashes
// canonical.
const MaxInline = 32

// IsValue reports whether the entry is a value (inline or a contents
// object) rather than a directory.
func (e *Entry) IsValue() bool { return e.Kind != KindNode }

// Equal reports whether two entries are identical (two nils are equal).
func (e *Entry) Equal(o *Entry) bool {
	if e == nil || o == nil {
		return e == o
	}
	return e.Name == o.Name && e.Kind == o.Kind && e.Hash == o.Hash && string(e.Inline) == string(o.Inline)
}

func validKind(k Kind) bool { return k == KindContents || k == KindNode || k == KindInline }

// refSize is the size of an entry's encoded reference: its hash, or its
// inline value.
func refSize(e *Entry) int {
	if e.Kind == KindInline {
		return codec.SizeBytes(len(e.Inline))
	}
	return codec.SizeHash
}

// appendRef appends an entry's reference: its hash, or its inline value
// (which the caller has checked is at most MaxInline bytes).
func appendRef(b []byte, e *Entry) []byte {
	if e.Kind == KindInline {
		return codec.AppendBytes(b, e.Inline)
	}
	return codec.AppendHash(b, &e.Hash)
}

// checkInline returns an error if e is an inline value too long to be one.
func checkInline(e *Entry) error {
	if e.Kind == KindInline && len(e.Inline) > MaxInline {
		return fmt.Errorf("node: inline value of %q has %d bytes, at most %d", e.Name, len(e.Inline), MaxInline)
	}
	return nil
}

// decodeRef reads an entry's reference for kind k into e: a hash, or an
// inline value of at most MaxInline bytes (copied).
func decodeRef(r *codec.Reader, k Kind, e *Entry) error {
	if k != KindInline {
		h, err := r.Hash("entry hash")
		e.Hash = h
		return err
	}
	b, err := r.Bytes("inline value")
	if err != nil {
		return err
	}
	if len(b) > MaxInline {
		return fmt.Errorf("inline value of %d bytes, at most %d", len(b), MaxInline)
	}
	e.Inline = append(make([]byte, 0, len(b)), b...)
	return nil
}

// Entry is one named child of a directory.
type Entry struct {
	Name   string
	Kind   Kind
	Hash   backend.Hash // for KindContents and KindNode
	Inline []byte       // the bytes of a KindInline value; shared, must not be modified
}

// Node is a directory: its entries sorted by name bytes, names unique.
type Node struct {
	Entries []Entry
}

// Find returns the entry called name, using binary search.
func (n *Node) Find(name string) (Entry, bool) {
	i := sort.Search(len(n.Entries), func(i int) bool { return n.Entries[i].Name >= name })
	if i < len(n.Entries) && n.Entries[i].Name == name {
		return n.Entries[i], true
	}
	return Entry{}, false
}

// Refs returns the hashes n refers to (its entries' contents objects and
// subdirectories), for walking the object graph without interpreting
// entries.
// It returns nil if every entry is an inline value.
func (n *Node) Refs() []backend.Hash {
	k := 0
	for i := range n.Entries {
		if n.Entries[i].Kind != KindInline {
			k++
		}
	}
	if k == 0 {
		return nil
	}
	hs := make([]backend.Hash, 0, k)
	for i := range n.Entries {
		if e := &n.Entries[i]; e.Kind != KindInline {
			hs = append(hs, e.Hash)
		}
	}
	return hs
}

// ValidName reports whether name may be an entry name: non-empty, not "."
// or "..", and free of "/" and NUL bytes.
func ValidName(name string) bool {
	return name != "" && name != "." && name != ".." &&
		strings.IndexByte(name, '/') < 0 && strings.IndexByte(name, 0) < 0
}

// Encode returns the canonical encoding of n:
// [tag=2, version, [[name str, kind uint8, hash bin32]...]].
// It returns an error if the entries are not sorted, unique and validly named,
// since such a node would not be canonical. The result is a fresh slice the
// caller owns, allocated once at its exact size.
func Encode(n *Node) ([]byte, error) { return encode(n.Entries, nil) }

// checkEntry returns an error if e cannot be encoded: an invalid name, an
// unknown kind or an inline value too long.
func checkEntry(e *Entry) error {
	if !ValidName(e.Name) {
		return fmt.Errorf("node: invalid entry name %q", e.Name)
	}
	if !validKind(e.Kind) {
		return fmt.Errorf("node: entry %q has unknown kind %d", e.Name, e.Kind)
	}
	return checkInline(e)
}

// entrySize is the size of e's encoding, its fixarray byte included.
func entrySize(e *Entry) int {
	return 1 + codec.SizeString(len(e.Name)) + codec.SizeUint8 + refSize(e)
}

// appendEntry appends e's encoding after its fixarray byte: name, kind,
// reference.
func appendEntry(b []byte, e *Entry) []byte {
	b = codec.AppendString(b, e.Name)
	b = codec.AppendUint8(b, uint8(e.Kind))
	return appendRef(b, e)
}

// encode is Encode of the entries es; if offs is not nil (it then has
// len(es) elements), it records where each entry's name starts.
func encode(es []Entry, offs []uint32) ([]byte, error) {
	if len(es) > MaxEntries {
		return nil, fmt.Errorf("node: %d entries, at most %d fit in one node", len(es), MaxEntries)
	}
	size := codec.SizeHeader(1) + codec.SizeArrayLen(len(es))
	for i := range es {
		e := &es[i]
		if err := checkEntry(e); err != nil {
			return nil, err
		}
		if i > 0 && es[i-1].Name >= e.Name {
			return nil, fmt.Errorf("node: entries %q and %q are not sorted and unique", es[i-1].Name, e.Name)
		}
		size += entrySize(e)
	}
	b := make([]byte, 0, size)
	b = codec.AppendHeader(b, codec.TagNode, 1)
	b = codec.AppendArrayLen(b, len(es))
	for i := range es {
		b = append(b, 0x93) // fixarray of 3
		if offs != nil {
			offs[i] = uint32(len(b))
		}
		b = appendEntry(b, &es[i])
	}
	return b, nil
}

// minEntrySize is the fewest bytes an encoded node entry takes:
// fixarray, a one-byte name, a uint8 kind and an empty inline value.
const minEntrySize = 1 + 2 + 2 + 2

// Decode decodes an encoded Node, checking that its entries are canonical
// (sorted, unique, valid names, known kinds, inline values of at most
// MaxInline bytes) and that it is encoded canonically (docs/FORMAT.md).
// Anything else, and malformed input, returns an error wrapping
// backend.ErrCorrupt.
func Decode(b []byte) (*Node, error) {
	n := &Node{}
	err := codec.Decode(b, codec.TagNode, 1, func(r *codec.Reader) error {
		l, err := r.ArrayLen("entries", minEntrySize)
		if err != nil {
			return err
		}
		if l > MaxEntries {
			return codec.Corruptf(codec.TagNode, "%d entries, at most %d", l, MaxEntries)
		}
		n.Entries = make([]Entry, l)
		for i := range n.Entries {
			e := &n.Entries[i]
			if f, err := r.ArrayLen("entry", 1); err != nil {
				return err
			} else if f != 3 {
				return codec.Corruptf(codec.TagNode, "entry %d has %d fields, want 3", i, f)
			}
			if e.Name, err = r.String("entry name"); err != nil {
				return err
			}
			k, err := r.Uint8("entry kind")
			if err != nil {
				return err
			}
			e.Kind = Kind(k)
			switch {
			case !ValidName(e.Name):
				return codec.Corruptf(codec.TagNode, "invalid entry name %q", e.Name)
			case !validKind(e.Kind):
				return codec.Corruptf(codec.TagNode, "entry %q has unknown kind %d", e.Name, k)
			case i > 0 && n.Entries[i-1].Name >= e.Name:
				return codec.Corruptf(codec.TagNode, "entries %q and %q are not sorted and unique", n.Entries[i-1].Name, e.Name)
			}
			if err := decodeRef(r, e.Kind, e); err != nil {
				return codec.Corruptf(codec.TagNode, "entry %q: %v", e.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

// Object returns n's encoding keyed by its hash, ready for ObjectStore.Put.
func Object(n *Node) (backend.Object, error) {
	b, err := Encode(n)
	if err != nil {
		return backend.Object{}, err
	}
	return backend.Object{Hash: codec.Sum(b), Data: b}, nil
}

// Empty is the hash of the node with no entries: the tree of an empty branch.
var Empty = func() backend.Hash {
	o, err := Object(&Node{})
	if err != nil {
		panic(err)
	}
	return o.Hash
}()
