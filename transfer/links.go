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
	if err := codec.Verify(h, data); err != nil {
		return nil, nil, err
	}
	var c *commit.Commit
	var kids []backend.Hash
	var err error
	if tag, _ := codec.TagOf(data); tag == codec.TagNode {
		kids, err = nodeLinks(data)
	} else {
		c, kids, err = links(data)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("object %s: %w", h, err)
	}
	return c, kids, nil
}

// nodeLinks reads the hashes of an encoded directory object's entries
// that are not inline values: the links of node.Decode's Refs, without
// building the entries.
func nodeLinks(data []byte) ([]backend.Hash, error) {
	var hs []backend.Hash
	err := codec.Decode(data, codec.TagNode, 1, func(r *codec.Reader) error {
		// An entry takes at least 7 bytes: fixarray, a one-byte name, a
		// uint8 kind and an empty inline value.
		n, err := r.ArrayLen("entries", 7)
		if err != nil {
			return err
		}
		if n > node.MaxEntries {
			return codec.Corruptf(codec.TagNode, "%d entries, at most %d", n, node.MaxEntries)
		}
		hs = make([]backend.Hash, 0, n)
		for i := range n {
			if f, err := r.ArrayLen("entry", 1); err != nil {
				return err
			} else if f != 3 {
				return codec.Corruptf(codec.TagNode, "entry %d has %d fields, want 3", i, f)
			}
			if _, err := r.StringBytes("entry name"); err != nil {
				return err
			}
			k, err := r.Uint8("entry kind")
			if err != nil {
				return err
			}
			switch node.Kind(k) {
			case node.KindInline:
				if _, err := r.Bytes("inline value"); err != nil {
					return err
				}
			case node.KindContents, node.KindNode:
				h, err := r.Hash("entry hash")
				if err != nil {
					return err
				}
				hs = append(hs, h)
			default:
				return codec.Corruptf(codec.TagNode, "entry %d has unknown kind %d", i, k)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(hs) == 0 {
		return nil, nil
	}
	return hs, nil
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
