package tree

import (
	"context"
	"strings"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/node"
)

// NewObjects calls emit with every object of tree b (directory objects,
// index objects and contents objects) that is not at the same place in
// tree a, children before the objects that refer to them: the objects a
// store holding tree a (and so every object below it) needs to hold tree b
// too. Like Diff, it descends only where hashes differ, so its cost
// follows the size of the change. visit is asked before an object is
// walked; when it returns false the object and everything below it are
// skipped (the caller has emitted them already, for another tree). A zero
// hash stands for the empty tree; node.Empty is emitted like any other
// object when it is b's root and a's differs. Loading a directory object
// that st lacks returns its error.
func NewObjects(ctx context.Context, st *node.Store, a, b backend.Hash, visit func(backend.Hash) bool, emit func(backend.Hash) error) error {
	w := &newObjs{st: st, visit: visit, emit: emit}
	if b == node.Empty && a != b {
		if visit(b) {
			return emit(b)
		}
		return nil
	}
	return w.dir(ctx, a, b)
}

type newObjs struct {
	st    *node.Store
	visit func(backend.Hash) bool
	emit  func(backend.Hash) error
}

// dir walks directory object b (a part of a directory), whose counterpart
// in the old tree is a (zero if none).
func (w *newObjs) dir(ctx context.Context, a, b backend.Hash) error {
	if a == b || isEmpty(b) || !w.visit(b) {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	da, err := load(ctx, w.st, a)
	if err != nil {
		return err
	}
	db, err := load(ctx, w.st, b)
	if err != nil {
		return err
	}
	if err := w.parts(ctx, a, da, b, db); err != nil {
		return err
	}
	return w.emit(b)
}

// parts walks what b holds below itself.
func (w *newObjs) parts(ctx context.Context, a backend.Hash, da node.Dir, b backend.Hash, db node.Dir) error {
	if xa, xb := da.Index, db.Index; xa != nil && xb != nil {
		switch {
		case xa.Prefix == xb.Prefix:
			if err := w.entry(ctx, xa.Self, xb.Self); err != nil {
				return err
			}
			for cb := range xb.Children() {
				ca, _ := xa.ChildFor(cb.Byte)
				if err := w.dir(ctx, ca.Hash, cb.Hash); err != nil {
					return err
				}
			}
			return nil
		case len(xa.Prefix) < len(xb.Prefix) && strings.HasPrefix(xb.Prefix, xa.Prefix):
			// b is all inside one child of a: compare b with that child.
			ca, _ := xa.ChildFor(xb.Prefix[len(xa.Prefix)])
			da, err := load(ctx, w.st, ca.Hash)
			if err != nil {
				return err
			}
			return w.parts(ctx, ca.Hash, da, b, db)
		case len(xb.Prefix) < len(xa.Prefix) && strings.HasPrefix(xa.Prefix, xb.Prefix):
			// a is all inside one child of b.
			if err := w.entry(ctx, nil, xb.Self); err != nil {
				return err
			}
			c := xa.Prefix[len(xb.Prefix)]
			for cb := range xb.Children() {
				var ca backend.Hash
				if cb.Byte == c {
					ca = a
				}
				if err := w.dir(ctx, ca, cb.Hash); err != nil {
					return err
				}
			}
			return nil
		}
	}
	// A node on at least one side, or disjoint indexes: match b's entries
	// with a's by name, walking b's own index objects.
	ea, err := entriesOf(ctx, w.st, da, a)
	if err != nil {
		return err
	}
	old := make(map[string]*node.Entry, len(ea))
	for i := range ea {
		old[ea[i].Name] = &ea[i]
	}
	return w.all(ctx, a, db, old)
}

// all walks directory object d (already visited) against the old entries.
func (w *newObjs) all(ctx context.Context, a backend.Hash, d node.Dir, old map[string]*node.Entry) error {
	if d.Leaf != nil {
		for i := range d.Leaf.Len() {
			e := d.Leaf.Entry(i)
			if err := w.entry(ctx, old[e.Name], &e); err != nil {
				return err
			}
		}
		return nil
	}
	x := d.Index
	if x.Self != nil {
		if err := w.entry(ctx, old[x.Self.Name], x.Self); err != nil {
			return err
		}
	}
	for c := range x.Children() {
		if c.Hash == a || !w.visit(c.Hash) {
			continue
		}
		dc, err := load(ctx, w.st, c.Hash)
		if err != nil {
			return err
		}
		if err := w.all(ctx, a, dc, old); err != nil {
			return err
		}
		if err := w.emit(c.Hash); err != nil {
			return err
		}
	}
	return nil
}

// entry walks entry eb of the new tree, whose old counterpart is ea.
func (w *newObjs) entry(ctx context.Context, ea, eb *node.Entry) error {
	if eb == nil || ea != nil && ea.Equal(eb) {
		return nil
	}
	switch eb.Kind {
	case node.KindContents:
		if ea != nil && ea.Kind == node.KindContents && ea.Hash == eb.Hash {
			return nil
		}
		if !w.visit(eb.Hash) {
			return nil
		}
		return w.emit(eb.Hash)
	case node.KindNode:
		var ha backend.Hash
		if ea != nil && ea.Kind == node.KindNode {
			ha = ea.Hash
		}
		return w.dir(ctx, ha, eb.Hash)
	}
	return nil // an inline value has no object of its own
}
