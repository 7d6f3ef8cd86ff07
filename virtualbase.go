package strata

import (
	"context"
	"fmt"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// maxVirtualDepth bounds the recursion of virtualBase: merging merge
// bases that themselves have several merge bases, and so on.
const maxVirtualDepth = 16

// baseTree is the tree a merge is made against, with the new objects it
// needs that are not stored yet: a virtual ancestor's objects are stored
// only with the merge commit that uses them, in the same atomic write.
type baseTree struct {
	root    Hash
	objects []backend.Object
}

// virtualBase returns the tree to merge against for the merge bases
// bases, searching merge bases of merge bases within bounds: the empty
// tree for none, the base's tree for one, and for several
// a virtual ancestor, made by merging them one by one (each pair against
// its own merge base, recursively). Conflicts within the virtual ancestor
// take the older base's version, so the real merge sees both sides'
// versions as changes and reports the conflict if they still disagree.
func (kv *KV) virtualBase(ctx context.Context, bases []Hash, bounds commit.Bounds, depth int) (baseTree, error) {
	treeOf := func(h Hash) (Hash, error) {
		c, err := commit.Load(ctx, kv.store, kv.nodes, h)
		if err != nil {
			return Hash{}, err
		}
		return c.Tree, nil
	}
	switch {
	case len(bases) == 0:
		return baseTree{root: node.Empty}, nil
	case len(bases) == 1:
		root, err := treeOf(bases[0])
		return baseTree{root: root}, err
	case depth >= maxVirtualDepth:
		return baseTree{}, fmt.Errorf("%w: merge bases nested more than %d deep", ErrLimit, maxVirtualDepth)
	}
	first, err := treeOf(bases[0])
	if err != nil {
		return baseTree{}, err
	}
	virtual := baseTree{root: first}
	set := []Hash{bases[0]}
	for _, h := range bases[1:] {
		sub, err := commit.MergeBases(ctx, kv.store, kv.nodes, set, []Hash{h}, bounds)
		if err != nil {
			return baseTree{}, err
		}
		bt, err := kv.virtualBase(ctx, sub, bounds, depth+1)
		if err != nil {
			return baseTree{}, err
		}
		next, err := treeOf(h)
		if err != nil {
			return baseTree{}, err
		}
		unstored := append(append([]backend.Object(nil), bt.objects...), virtual.objects...)
		res, err := tree.Merge(ctx, kv.nodes, bt.root, virtual.root, next, &tree.MergeOptions{Func: kv.mergeFunc(), Prefer: contents.Base, Unstored: unstored})
		if err != nil {
			return baseTree{}, err
		}
		// The merge that uses the virtual base may keep entries of it:
		// the objects they need go out with that merge's commit.
		virtual = baseTree{root: res.Root, objects: res.Objects}
		set = append(set, h)
	}
	return virtual, nil
}
