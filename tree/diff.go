package tree

import (
	"context"
	"sort"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/node"
)

// Op is the kind of a Change.
type Op uint8

// Change operations.
const (
	Add    Op = iota + 1 // a value appeared
	Modify               // a value changed
	Remove               // a value disappeared
)

func (o Op) String() string {
	switch o {
	case Add:
		return "add"
	case Modify:
		return "modify"
	case Remove:
		return "remove"
	}
	return "?"
}

// Change is one value that differs between two trees. Old is the zero Hash
// for Add and New is the zero Hash for Remove; both name contents objects.
type Change struct {
	Op       Op
	Path     string
	Old, New backend.Hash
}

// Diff returns the values that differ between the stored trees a and b,
// sorted by path bytes. It descends only into directories whose hashes
// differ, so its cost follows the size of the change, not of the trees. A
// zero hash stands for the empty tree.
func Diff(ctx context.Context, objs backend.ObjectStore, a, b backend.Hash) ([]Change, error) {
	var out []Change
	if err := diffDir(ctx, objs, "", a, b, &out); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func loadOrEmpty(ctx context.Context, objs backend.ObjectStore, h backend.Hash) (*node.Node, error) {
	if h.IsZero() {
		return &node.Node{}, nil
	}
	return loadNode(ctx, objs, h)
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "/" + name
}

func diffDir(ctx context.Context, objs backend.ObjectStore, prefix string, a, b backend.Hash, out *[]Change) error {
	if a == b {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	na, err := loadOrEmpty(ctx, objs, a)
	if err != nil {
		return err
	}
	nb, err := loadOrEmpty(ctx, objs, b)
	if err != nil {
		return err
	}
	i, j := 0, 0
	for i < len(na.Entries) || j < len(nb.Entries) {
		var ea, eb *node.Entry
		switch {
		case j == len(nb.Entries) || (i < len(na.Entries) && na.Entries[i].Name < nb.Entries[j].Name):
			ea = &na.Entries[i]
			i++
		case i == len(na.Entries) || nb.Entries[j].Name < na.Entries[i].Name:
			eb = &nb.Entries[j]
			j++
		default:
			ea, eb = &na.Entries[i], &nb.Entries[j]
			i++
			j++
		}
		if err := diffEntry(ctx, objs, prefix, ea, eb, out); err != nil {
			return err
		}
	}
	return nil
}

// diffEntry compares one name present in a, b or both (nil when absent).
func diffEntry(ctx context.Context, objs backend.ObjectStore, prefix string, ea, eb *node.Entry, out *[]Change) error {
	if ea != nil && eb != nil && *ea == *eb {
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
		*out = append(*out, Change{Op: Modify, Path: p, Old: ea.Hash, New: eb.Hash})
		return nil
	}
	if valA {
		*out = append(*out, Change{Op: Remove, Path: p, Old: ea.Hash})
	}
	if valB {
		*out = append(*out, Change{Op: Add, Path: p, New: eb.Hash})
	}
	if dirA || dirB {
		var ha, hb backend.Hash
		if dirA {
			ha = ea.Hash
		}
		if dirB {
			hb = eb.Hash
		}
		return diffDir(ctx, objs, p, ha, hb, out)
	}
	return nil
}
