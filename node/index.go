package node

import (
	"fmt"
	"sort"
	"strings"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/internal/codec"
)

// MaxEntries is the most entries a Node may hold. A directory with more
// entries is stored as an Index: a canonical trie of nodes keyed by the
// bytes of the entry names (see Index and docs/FORMAT.md).
const MaxEntries = 128

// Child is one subtree of an Index: every entry in it has a name that starts
// with the Index's Prefix followed by Byte.
type Child struct {
	Byte  byte
	Count uint64       // entries in the subtree
	Hash  backend.Hash // a Node (at most MaxEntries entries) or an Index
}

// Index is one level of a large directory (more than MaxEntries entries).
//
// Its shape is a function of the set of entries alone, never of the order
// of edits: for a set S of more than MaxEntries entries, Prefix is the
// longest common prefix of their names, Self is the entry named exactly
// Prefix (if any), and there is one Child for each byte b that follows
// Prefix in some name, holding the subset of names starting with Prefix+b,
// itself stored the same way (a Node when it has at most MaxEntries
// entries). Equal sets therefore always give equal hashes.
type Index struct {
	Prefix   string
	Count    uint64 // entries in the whole directory below this index
	Self     *Entry // the entry named Prefix, or nil
	Children []Child
}

// ChildFor returns the child holding names that continue Prefix with b.
func (x *Index) ChildFor(b byte) (Child, bool) {
	i := sort.Search(len(x.Children), func(i int) bool { return x.Children[i].Byte >= b })
	if i < len(x.Children) && x.Children[i].Byte == b {
		return x.Children[i], true
	}
	return Child{}, false
}

// Refs returns the hashes x refers to (its self entry's, then its
// children's), for walking the object graph.
func (x *Index) Refs() []backend.Hash {
	hs := make([]backend.Hash, 0, len(x.Children)+1)
	if x.Self != nil && x.Self.Kind != KindInline {
		hs = append(hs, x.Self.Hash)
	}
	for i := range x.Children {
		hs = append(hs, x.Children[i].Hash)
	}
	return hs
}

// check verifies the invariants that can be seen without loading children.
func (x *Index) check() error {
	var sum uint64
	if x.Self != nil {
		if !ValidName(x.Prefix) {
			return fmt.Errorf("self entry has the invalid name %q", x.Prefix)
		}
		if x.Self.Name != x.Prefix {
			return fmt.Errorf("self entry %q is not named after the prefix %q", x.Self.Name, x.Prefix)
		}
		if !validKind(x.Self.Kind) {
			return fmt.Errorf("self entry has unknown kind %d", x.Self.Kind)
		}
		sum++
	}
	if x.Prefix != "" && strings.ContainsAny(x.Prefix, "/\x00") {
		return fmt.Errorf("prefix %q contains '/' or NUL", x.Prefix)
	}
	for i, c := range x.Children {
		if c.Count == 0 {
			return fmt.Errorf("child %d is empty", c.Byte)
		}
		if i > 0 && x.Children[i-1].Byte >= c.Byte {
			return fmt.Errorf("children %d and %d are not sorted and unique", x.Children[i-1].Byte, c.Byte)
		}
		if c.Byte == '/' || c.Byte == 0 {
			return fmt.Errorf("child byte %d cannot appear in a name", c.Byte)
		}
		if sum+c.Count < sum {
			return fmt.Errorf("child counts overflow")
		}
		sum += c.Count
	}
	if sum != x.Count {
		return fmt.Errorf("count %d, but its parts hold %d", x.Count, sum)
	}
	if x.Count <= MaxEntries {
		return fmt.Errorf("count %d fits in one node (at most %d)", x.Count, MaxEntries)
	}
	if x.Self == nil && len(x.Children) < 2 {
		return fmt.Errorf("prefix %q is not the longest common prefix", x.Prefix)
	}
	return nil
}

// EncodeIndex returns the canonical encoding of x:
// [tag=4, version, prefix str, count uint64, self, children] where self is
// [] or [kind uint8, hash bin32 or inline value bin] and children is [[byte uint8, count uint64,
// hash bin32]...] sorted by byte. The result is a fresh slice the caller
// owns, allocated once at its exact size.
func EncodeIndex(x *Index) ([]byte, error) {
	if err := x.checkEncodable(); err != nil {
		return nil, err
	}
	return appendIndex(make([]byte, 0, indexSize(x)), x), nil
}

// checkEncodable returns the error EncodeIndex returns for x, if any.
func (x *Index) checkEncodable() error {
	if err := x.check(); err != nil {
		return fmt.Errorf("node: index: %v", err)
	}
	if x.Self != nil {
		return checkInline(x.Self)
	}
	return nil
}

// indexSize is the size of x's encoding.
func indexSize(x *Index) int {
	size := codec.SizeHeader(4) + codec.SizeString(len(x.Prefix)) + codec.SizeUint64 +
		1 + codec.SizeArrayLen(len(x.Children)) + len(x.Children)*minChildSize
	if x.Self != nil {
		size += codec.SizeUint8 + refSize(x.Self)
	}
	return size
}

// appendIndex appends x's encoding (x checked by checkEncodable) to b.
// The children come last, each exactly minChildSize bytes (see Trie).
func appendIndex(b []byte, x *Index) []byte {
	b = codec.AppendHeader(b, codec.TagIndex, 4)
	b = codec.AppendString(b, x.Prefix)
	b = codec.AppendUint64(b, x.Count)
	if x.Self == nil {
		b = append(b, 0x90) // fixarray of 0
	} else {
		b = append(b, 0x92) // fixarray of 2
		b = codec.AppendUint8(b, uint8(x.Self.Kind))
		b = appendRef(b, x.Self)
	}
	b = codec.AppendArrayLen(b, len(x.Children))
	for i := range x.Children {
		c := &x.Children[i]
		b = append(b, 0x93) // fixarray of 3
		b = codec.AppendUint8(b, c.Byte)
		b = codec.AppendUint64(b, c.Count)
		b = codec.AppendHash(b, &c.Hash)
	}
	return b
}

// minChildSize is the bytes an encoded index child takes: fixarray, a
// uint8 byte, a uint64 count and a 32-byte hash.
const minChildSize = 1 + 2 + 9 + 2 + backend.HashSize

// DecodeIndex decodes an encoded Index, checking its invariants and that it
// is encoded canonically (docs/FORMAT.md). Anything else, and malformed
// input, returns an error wrapping backend.ErrCorrupt.
func DecodeIndex(b []byte) (*Index, error) {
	x := &Index{}
	err := codec.Decode(b, codec.TagIndex, 4, func(r *codec.Reader) error {
		var err error
		if x.Prefix, err = r.String("prefix"); err != nil {
			return err
		}
		if x.Count, err = r.Uint64("count"); err != nil {
			return err
		}
		n, err := r.ArrayLen("self", 1)
		if err != nil {
			return err
		}
		switch n {
		case 0:
		case 2:
			k, err := r.Uint8("self kind")
			if err != nil {
				return err
			}
			x.Self = &Entry{Name: x.Prefix, Kind: Kind(k)}
			if !validKind(x.Self.Kind) {
				return codec.Corruptf(codec.TagIndex, "self entry has unknown kind %d", k)
			}
			if err := decodeRef(r, x.Self.Kind, x.Self); err != nil {
				return codec.Corruptf(codec.TagIndex, "self entry: %v", err)
			}
		default:
			return codec.Corruptf(codec.TagIndex, "self has %d fields", n)
		}
		if n, err = r.ArrayLen("children", minChildSize); err != nil {
			return err
		}
		if n > 256 {
			return codec.Corruptf(codec.TagIndex, "%d children", n)
		}
		x.Children = make([]Child, n)
		for i := range x.Children {
			c := &x.Children[i]
			if f, err := r.ArrayLen("child", 1); err != nil {
				return err
			} else if f != 3 {
				return codec.Corruptf(codec.TagIndex, "child %d has %d fields", i, f)
			}
			if c.Byte, err = r.Uint8("child byte"); err != nil {
				return err
			}
			if c.Count, err = r.Uint64("child count"); err != nil {
				return err
			}
			if c.Hash, err = r.Hash("child hash"); err != nil {
				return err
			}
		}
		if err := x.check(); err != nil {
			return codec.Corruptf(codec.TagIndex, "%v", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return x, nil
}

// IndexObject returns x's encoding keyed by its hash.
func IndexObject(x *Index) (backend.Object, error) {
	b, err := EncodeIndex(x)
	if err != nil {
		return backend.Object{}, err
	}
	return backend.Object{Hash: codec.Sum(b), Data: b}, nil
}
