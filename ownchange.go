package strata

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// BasedOn says that a write's change was made against commit h (normally
// an earlier head of the branch, whose values the caller read): the change
// is applied to h's tree and then merged three-way into the branch's
// current head, with h's tree as the base, so that what other writers
// changed since h is kept. Read a JSON document at h, change one member,
// and write it back with BasedOn(h): a concurrent change to another member
// survives. It applies to Set, SetValue, Delete, Add and Update (whose
// function then runs on h's tree). Where the change clashes with a change
// made since h, the write's version wins (a clashing JSON member, a
// clashing region of text, a whole raw value); where a value and a
// directory clash, the change is made again on the current head.
func BasedOn(h Hash) CommitOption { return func(o *commitOptions) { o.basedOn = h } }

// ownChange is a write's own change, kept so that when another writer
// moves the head first the write can merge it into the new head instead
// of making it again from scratch: three-way, with the tree the change was
// made on as the base, so a counter's increments add up and edits of
// different members of a JSON value combine. The change is a blind write
// (Set, SetValue, Add: it says what the value is to be), so where it clashes
// with the new head its version wins, at the finest grain the value's kind
// allows; where a value and a directory clash, it is made again on the new
// head (and fails there as it would have). Update re-runs its function on
// the new head instead, since it read what it wrote, and so does Delete:
// a merge would keep what another writer added inside a deleted directory
// (an addition on one side is no clash), which the delete, made after it,
// removes.
type ownChange struct {
	merge   bool // merge on retry; false: make the change again (Update)
	basedOn Hash // make the change on this commit's tree first (BasedOn)
	made    bool
	base    Hash             // the tree the change was made on
	root    Hash             // the tree it made
	objs    []backend.Object // the objects it made, perhaps not stored
	// replaced is what its objects supersede in base (tree.Builder.Replaced),
	// to forget from the node cache once they land as made (fresh: the
	// last make returned them, not a merge of them).
	replaced []Hash
	fresh    bool
	// pooled is the Builder of the last apply, from the pool
	// (tree.PooledBuilder): replaced aliases it, so it goes back only
	// once replaced is done with (release).
	pooled *tree.Builder
}

// release gives back the pooled Builder of the last apply, if any, and
// drops replaced, which aliases it.
func (c *ownChange) release() {
	c.pooled.Release()
	c.pooled, c.replaced = nil, nil
}

// make returns the tree the change makes on tree head (and its new
// objects): by merging the change made before, or by applying it. It
// reads directories through st: kv.nodes, or (for a group commit, see
// group.go) an overlay of it that also holds the group's objects not
// stored yet.
func (c *ownChange) make(ctx context.Context, kv *KV, st *node.Store, head Hash, apply func(context.Context, *tree.Builder) error) ([]backend.Object, Hash, error) {
	if !c.made && !c.basedOn.IsZero() {
		bc, err := commit.Load(ctx, st.Objects(), st, c.basedOn)
		if err != nil {
			if errors.Is(err, ErrMissing) { // a hash the caller gave, not a stored link
				return nil, Hash{}, fmt.Errorf("based on %s: no such commit: %w", c.basedOn.Short(), ErrNotFound)
			}
			return nil, Hash{}, fmt.Errorf("based on %s: %w", c.basedOn.Short(), err)
		}
		if _, _, err := c.apply(ctx, st, bc.Tree, apply); err != nil {
			return nil, Hash{}, err
		}
	}
	if c.made && head == c.base {
		c.fresh = true
		return c.objs, c.root, nil
	}
	if c.made && (c.merge || !c.basedOn.IsZero()) {
		res, err := c.mergeInto(ctx, kv, st, head)
		if err != nil || res != nil {
			c.fresh = false
			if err != nil {
				return nil, Hash{}, err
			}
			return res.Objects, res.Root, nil
		}
	}
	objs, root, err := c.apply(ctx, st, head, apply)
	c.fresh = err == nil
	return objs, root, err
}

// apply makes the change on tree base, with a Builder from the pool: no
// change function keeps it (an Update's Tx refuses use once its function
// has returned).
func (c *ownChange) apply(ctx context.Context, st *node.Store, base Hash, apply func(context.Context, *tree.Builder) error) ([]backend.Object, Hash, error) {
	c.release()
	t := tree.New(st, base).PooledBuilder()
	c.pooled = t
	if err := apply(ctx, t); err != nil {
		return nil, Hash{}, err
	}
	objs, root, err := t.Objects(ctx)
	if err != nil {
		return nil, Hash{}, err
	}
	c.made, c.base, c.root, c.objs, c.replaced = true, base, root, objs, t.Replaced()
	return objs, root, nil
}

// mergeInto merges the change into tree head, or returns nil if a value
// and a directory clash.
func (c *ownChange) mergeInto(ctx context.Context, kv *KV, st *node.Store, head Hash) (*tree.MergeResult, error) {
	o := &tree.MergeOptions{Func: kv.mergeFunc(), Unstored: c.objs}
	res, err := tree.Merge(ctx, st, c.base, head, c.root, o)
	if err != nil || len(res.Conflicts) == 0 {
		return res, err
	}
	for _, cf := range res.Conflicts {
		if cf.Reason == tree.ConflictDirectory {
			return nil, nil
		}
	}
	o.Prefer = contents.Theirs // the change's own version
	return tree.Merge(ctx, st, c.base, head, c.root, o)
}
