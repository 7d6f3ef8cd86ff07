package tree

import (
	"context"
	"sort"
	"strings"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/node"
)

// Op is the kind of a Change.
type Op uint8

// Change operations.
const (
	Added    Op = iota + 1 // a value appeared
	Modified               // a value changed
	Removed                // a value disappeared
)

func (o Op) String() string {
	switch o {
	case Added:
		return "add"
	case Modified:
		return "modify"
	case Removed:
		return "remove"
	}
	return "?"
}

// Change is one value that differs between two trees. Old is the zero
// Entry for Added and New the zero Entry for Removed; Bytes reads them.
type Change struct {
	Op       Op
	Path     string
	Old, New node.Entry
}

// Diff returns the values that differ between the stored trees a and b,
// sorted by path bytes. It descends only where hashes differ (directories,
// and the parts of large directories), so its cost follows the size of the
// change, not of the trees. A zero hash stands for the empty tree.
func Diff(ctx context.Context, st *node.Store, a, b backend.Hash) ([]Change, error) {
	var out []Change
	if err := diffDir(ctx, st, "", a, b, &out); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// DiffUnder is Diff keeping only the values at or under path (a path as
// CheckPath returns it; "" for the whole tree). It reads only the
// directories on the way to path in each tree and, below path, those that
// differ, so its cost follows the size of the change under path, whatever
// changed elsewhere. A path that is absent from a tree, or that goes
// through a value there, has nothing under it in that tree.
func DiffUnder(ctx context.Context, st *node.Store, a, b backend.Hash, path string) ([]Change, error) {
	if path == "" {
		return Diff(ctx, st, a, b)
	}
	parent, name := "", path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		parent, name = path[:i], path[i+1:]
	}
	ea, err := entryAt(ctx, st, a, parent, name)
	if err != nil {
		return nil, err
	}
	eb, err := entryAt(ctx, st, b, parent, name)
	if err != nil {
		return nil, err
	}
	var out []Change
	if err := diffEntry(ctx, st, parent, ea, eb, &out); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// entryAt returns the entry called name in the directory at path parent
// ("" for the root) of the tree root, or nil if there is none (a
// directory on the way is absent or a value).
func entryAt(ctx context.Context, st dirLoader, root backend.Hash, parent, name string) (*node.Entry, error) {
	h, at := root, ""
	for rest := parent; rest != ""; {
		seg, tail, _ := strings.Cut(rest, "/")
		e, ok, err := find(ctx, st, h, seg)
		if err != nil {
			return nil, atDirName(at, err)
		}
		if !ok || e.Kind != node.KindNode {
			return nil, nil
		}
		h, at, rest = e.Hash, join(at, seg), tail
	}
	e, ok, err := find(ctx, st, h, name)
	if err != nil {
		return nil, atDirName(at, err)
	}
	if !ok {
		return nil, nil
	}
	return &e, nil
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "/" + name
}

// diffDir compares two objects holding (parts of) the same directory, at
// path prefix, recursing into subdirectories that differ.
func diffDir(ctx context.Context, st dirLoader, prefix string, a, b backend.Hash, out *[]Change) error {
	err := pairs(ctx, st, a, b, func(ea, eb *node.Entry) error {
		return diffEntry(ctx, st, prefix, ea, eb, out)
	})
	return atDirName(strings.TrimSuffix(prefix, "/"), err)
}

// pairs calls fn for every name whose entry differs between two objects
// holding (parts of) the same directory, with nil for a side that lacks
// the name. It descends only where hashes differ: into the children of
// two indexes with the same prefix, or into the one child of an index
// that holds the whole of an index with a longer prefix; it compares
// entry by entry only where the shapes differ (a node on either side, or
// indexes over disjoint name ranges). A zero hash is the empty directory.
// The calls are not in name order.
func pairs(ctx context.Context, st dirLoader, a, b backend.Hash, fn func(ea, eb *node.Entry) error) error {
	if a == b || (isEmpty(a) && isEmpty(b)) {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	da, err := load(ctx, st, a)
	if err != nil {
		return err
	}
	db, err := load(ctx, st, b)
	if err != nil {
		return err
	}
	self := func(ea, eb *node.Entry) error {
		if ea == nil && eb == nil || ea != nil && eb != nil && ea.Equal(eb) {
			return nil
		}
		return fn(ea, eb)
	}
	if xa, xb := da.Index, db.Index; xa != nil && xb != nil {
		switch {
		case xa.Prefix == xb.Prefix:
			if err := self(xa.Self, xb.Self); err != nil {
				return err
			}
			i, j, na, nb := 0, 0, xa.NumChildren(), xb.NumChildren()
			for i < na || j < nb {
				var ha, hb backend.Hash
				switch {
				case j == nb || (i < na && xa.Child(i).Byte < xb.Child(j).Byte):
					ha = xa.Child(i).Hash
					i++
				case i == na || xb.Child(j).Byte < xa.Child(i).Byte:
					hb = xb.Child(j).Hash
					j++
				default:
					ha, hb = xa.Child(i).Hash, xb.Child(j).Hash
					i++
					j++
				}
				if err := pairs(ctx, st, ha, hb, fn); err != nil {
					return err
				}
			}
			return nil
		case len(xa.Prefix) < len(xb.Prefix) && strings.HasPrefix(xb.Prefix, xa.Prefix):
			// b is all inside one child of a.
			if err := self(xa.Self, nil); err != nil {
				return err
			}
			c := xb.Prefix[len(xa.Prefix)]
			matched := false
			for ch := range xa.Children() {
				other := backend.Hash{}
				if ch.Byte == c {
					other, matched = b, true
				}
				if err := pairs(ctx, st, ch.Hash, other, fn); err != nil {
					return err
				}
			}
			if !matched {
				return pairs(ctx, st, backend.Hash{}, b, fn)
			}
			return nil
		case len(xb.Prefix) < len(xa.Prefix) && strings.HasPrefix(xa.Prefix, xb.Prefix):
			// a is all inside one child of b: the mirror image.
			if err := self(nil, xb.Self); err != nil {
				return err
			}
			c := xa.Prefix[len(xb.Prefix)]
			matched := false
			for ch := range xb.Children() {
				other := backend.Hash{}
				if ch.Byte == c {
					other, matched = a, true
				}
				if err := pairs(ctx, st, other, ch.Hash, fn); err != nil {
					return err
				}
			}
			if !matched {
				return pairs(ctx, st, a, backend.Hash{}, fn)
			}
			return nil
		}
		// Disjoint name ranges: everything in a went, everything in b came.
	}
	// A node on at least one side (at most node.MaxEntries entries), or
	// disjoint indexes: compare entry by entry.
	ea, err := entriesOf(ctx, st, da, a)
	if err != nil {
		return err
	}
	eb, err := entriesOf(ctx, st, db, b)
	if err != nil {
		return err
	}
	i, j := 0, 0
	for i < len(ea) || j < len(eb) {
		var pa, pb *node.Entry
		switch {
		case j == len(eb) || (i < len(ea) && ea[i].Name < eb[j].Name):
			pa = &ea[i]
			i++
		case i == len(ea) || eb[j].Name < ea[i].Name:
			pb = &eb[j]
			j++
		default:
			pa, pb = &ea[i], &eb[j]
			i++
			j++
		}
		if err := self(pa, pb); err != nil {
			return err
		}
	}
	return nil
}

// diffEntry compares one name present in a, b or both (nil when absent).
func diffEntry(ctx context.Context, st dirLoader, prefix string, ea, eb *node.Entry, out *[]Change) error {
	if ea == nil && eb == nil || ea != nil && eb != nil && ea.Equal(eb) {
		return nil
	}
	var name string
	if ea != nil {
		name = ea.Name
	} else {
		name = eb.Name
	}
	p := join(prefix, name)
	dirA := ea != nil && ea.Kind == node.KindNode
	dirB := eb != nil && eb.Kind == node.KindNode
	valA := ea != nil && !dirA
	valB := eb != nil && !dirB
	if valA && valB {
		*out = append(*out, Change{Op: Modified, Path: p, Old: *ea, New: *eb})
		return nil
	}
	if valA {
		*out = append(*out, Change{Op: Removed, Path: p, Old: *ea})
	}
	if valB {
		*out = append(*out, Change{Op: Added, Path: p, New: *eb})
	}
	if dirA || dirB {
		var ha, hb backend.Hash
		if dirA {
			ha = ea.Hash
		}
		if dirB {
			hb = eb.Hash
		}
		return diffDir(ctx, st, p, ha, hb, out)
	}
	return nil
}

// entriesOf returns every entry of the loaded directory object d (hash h).
func entriesOf(ctx context.Context, st dirLoader, d node.Dir, h backend.Hash) ([]node.Entry, error) {
	if d.Leaf != nil {
		return d.Leaf.Entries(), nil
	}
	return allEntries(ctx, st, h)
}
