package transfer

import (
	"fmt"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/internal/codec"
	"github.com/stratakv/strata/node"
)

// Links checks that data hashes to h, and returns the objects it links
// to: for a commit, its tree then its parents, and the decoded commit;
// for a directory or index object, its children (contents objects and
// subdirectories); nothing for a contents object or a commit-graph run
// (which keeps no commit alive). Commits, index objects, contents and
// runs are decoded as Walk decodes them; a directory object's structure
// is read (docs/FORMAT.md: the entry arrays, kinds, hashes and inline
// values, nothing trailing) without checking its names (valid, sorted,
// unique), which tell nothing about its links. Bytes that do not hash to
// h or whose links cannot be read return an error wrapping
// backend.ErrCorrupt, naming h. It is safe to call from many goroutines;
// garbage collection uses it to trust the links of the objects it
// scanned.
func Links(h backend.Hash, data []byte) (*commit.Commit, []backend.Hash, error) {
	c, kids, err := AppendLinks(nil, h, data)
	if len(kids) == 0 {
		kids = nil
	}
	return c, kids, err
}

// AppendLinks is Links appending the links to dst (for a caller that
// keeps many objects' links in a few large slices): it returns dst
// extended; the object's links are the part after len(dst).
func AppendLinks(dst []backend.Hash, h backend.Hash, data []byte) (*commit.Commit, []backend.Hash, error) {
	if err := codec.Verify(h, data); err != nil {
		return nil, dst, err
	}
	if tag, _ := codec.TagOf(data); tag == codec.TagNode {
		out, err := nodeLinks(dst, data)
		if err != nil {
			return nil, dst, fmt.Errorf("object %s: %w", h, err)
		}
		return nil, out, nil
	}
	c, kids, err := links(data)
	if err != nil {
		return nil, dst, fmt.Errorf("object %s: %w", h, err)
	}
	return c, append(dst, kids...), nil
}

// nodeLinks appends to hs the hashes of an encoded directory object's
// entries that are not inline values: the links node.Decode's Refs gives, without
// building the entries. It parses the bytes directly (the format is in
// docs/FORMAT.md: [0x93, uint8 tag, uint8 version, [[name str, uint8
// kind, ref bin]...]]): on a large store most of GC's decoding is here.
// It accepts every canonical encoding node.Decode accepts, and checks
// the structure (markers, lengths in bounds, kinds, 32-byte hashes,
// nothing trailing), not the canonical forms of lengths nor the names.
func nodeLinks(hs []backend.Hash, data []byte) ([]backend.Hash, error) {
	if len(data) < 5 || data[0] != 0x93 || data[1] != 0xcc || data[2] != byte(codec.TagNode) ||
		data[3] != 0xcc || data[4] != codec.FormatVersion {
		return nil, codec.Corruptf(codec.TagNode, "not a version %d directory object header", codec.FormatVersion)
	}
	n, i, ok := msgLen(data, 5, lenArray)
	if !ok {
		return nil, codec.Corruptf(codec.TagNode, "bad entries array at byte %d", 5)
	}
	if n > node.MaxEntries {
		return nil, codec.Corruptf(codec.TagNode, "%d entries, at most %d", n, node.MaxEntries)
	}
	for e := range n {
		if i >= len(data) || data[i] != 0x93 {
			return nil, codec.Corruptf(codec.TagNode, "entry %d: not an array of 3 at byte %d", e, i)
		}
		l, j, ok := msgLen(data, i+1, lenStr)
		if !ok || l > len(data)-j {
			return nil, codec.Corruptf(codec.TagNode, "entry %d: bad name at byte %d", e, i+1)
		}
		i = j + l
		if i+2 > len(data) || data[i] != 0xcc {
			return nil, codec.Corruptf(codec.TagNode, "entry %d: bad kind at byte %d", e, i)
		}
		k := node.Kind(data[i+1])
		l, j, ok = msgLen(data, i+2, lenBin)
		if !ok || l > len(data)-j {
			return nil, codec.Corruptf(codec.TagNode, "entry %d: bad reference at byte %d", e, i+2)
		}
		switch k {
		case node.KindInline:
		case node.KindContents, node.KindNode:
			if l != backend.HashSize {
				return nil, codec.Corruptf(codec.TagNode, "entry %d: hash of %d bytes", e, l)
			}
			hs = append(hs, backend.Hash(data[j:j+l]))
		default:
			return nil, codec.Corruptf(codec.TagNode, "entry %d has unknown kind %d", e, k)
		}
		i = j + l
	}
	if i != len(data) {
		return nil, codec.Corruptf(codec.TagNode, "%d trailing bytes", len(data)-i)
	}
	return hs, nil
}

// The kinds of length msgLen reads.
const (
	lenArray = iota // fixarray, array16, array32
	lenStr          // fixstr, str8, str16, str32
	lenBin          // bin8, bin16, bin32
)

// msgLen reads the length of a MessagePack array, string or byte string
// whose header starts at data[i], and returns it with the index after
// the header; ok is false if the marker is not of that kind or the
// header is cut short.
func msgLen(data []byte, i, kind int) (n, next int, ok bool) {
	if i >= len(data) {
		return 0, 0, false
	}
	c := data[i]
	w := 0
	switch kind {
	case lenArray:
		switch {
		case c&0xf0 == 0x90:
			return int(c & 0x0f), i + 1, true
		case c == 0xdc:
			w = 2
		case c == 0xdd:
			w = 4
		}
	case lenStr:
		switch {
		case c&0xe0 == 0xa0:
			return int(c & 0x1f), i + 1, true
		case c == 0xd9:
			w = 1
		case c == 0xda:
			w = 2
		case c == 0xdb:
			w = 4
		}
	case lenBin:
		switch c {
		case 0xc4:
			w = 1
		case 0xc5:
			w = 2
		case 0xc6:
			w = 4
		}
	}
	if w == 0 || i+1+w > len(data) {
		return 0, 0, false
	}
	for _, b := range data[i+1 : i+1+w] {
		n = n<<8 | int(b)
	}
	return n, i + 1 + w, n >= 0
}

// links decodes data (checked exactly as the node, commit and contents
// decoders check) and returns its links and the commit if it is one.
func links(data []byte) (*commit.Commit, []backend.Hash, error) {
	tag, _ := codec.TagOf(data)
	switch tag {
	case codec.TagCommit:
		c, err := commit.Decode(data)
		if err != nil {
			return nil, nil, err
		}
		return c, c.Refs(), nil
	case codec.TagNode:
		// A Leaf checks the node as Decode does, without building an
		// Entry (and a name string) per entry.
		l, err := node.DecodeLeaf(data)
		if err != nil {
			return nil, nil, err
		}
		return nil, l.Refs(), nil
	case codec.TagIndex:
		x, err := node.DecodeIndex(data)
		if err != nil {
			return nil, nil, err
		}
		return nil, x.Refs(), nil
	case codec.TagContents:
		_, err := contents.Decode(data)
		return nil, nil, err
	case codec.TagGraph:
		// A commit-graph run (a graph/ ref names one): derived data
		// that lists commits but keeps none of them alive.
		_, err := commit.DecodeRun(data)
		return nil, nil, err
	}
	return nil, nil, codec.Corruptf(tag, "not a stored object")
}
