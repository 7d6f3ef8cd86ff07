package strata

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stratakv/strata/branch"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// Revert undoes the change commit rev made (relative to its first parent)
// on the branch's current head, as a three-way merge of the head and rev's
// parent against rev, and commits the result as one new commit whose
// message defaults to `revert "MESSAGE"` and the reverted hash. If the
// head no longer holds anything of that change, nothing is committed and
// the head is returned. Conflicts (a later change to the same values)
// write nothing and return a *MergeConflictError; Resolver and Prefer
// settle them as in Merge. A missing branch returns ErrNotFound.
func (b *Branch) Revert(ctx context.Context, rev string, opts ...MergeOption) (Hash, error) {
	return b.pick(ctx, rev, true, opts)
}

// CherryPick applies the change commit rev made (relative to its first
// parent) to the branch's current head, as a three-way merge of the head
// and rev against rev's parent, and commits the result as one new commit
// with rev's message and author unless options say otherwise. If the head
// already holds that change, nothing is committed and the head is
// returned. Conflicts write nothing and return a *MergeConflictError;
// Resolver and Prefer settle them as in Merge. A branch that does not exist
// yet is created.
func (b *Branch) CherryPick(ctx context.Context, rev string, opts ...MergeOption) (Hash, error) {
	return b.pick(ctx, rev, false, opts)
}

func (b *Branch) pick(ctx context.Context, rev string, revert bool, opts []MergeOption) (Hash, error) {
	if err := b.kv.alive(); err != nil {
		return Hash{}, err
	}
	if err := branch.ValidateName(b.name); err != nil {
		return Hash{}, err
	}
	kv := b.kv
	h, err := kv.Resolve(ctx, rev)
	if err != nil {
		return Hash{}, err
	}
	c, err := commit.Load(ctx, kv.store, kv.nodes, h)
	if err != nil {
		return Hash{}, err
	}
	parent := node.Empty
	if len(c.Parents) > 0 {
		p, err := commit.Load(ctx, kv.store, kv.nodes, c.Parents[0])
		if err != nil {
			return Hash{}, err
		}
		parent = p.Tree
	}
	o := newMergeOptions(opts)
	if o.err != nil {
		return Hash{}, o.err
	}
	base, theirs := parent, c.Tree
	op := "cherry-pick " + h.Short()
	if revert {
		base, theirs = c.Tree, parent
		op = "revert " + h.Short()
		if o.commit.message == "" {
			subject, _, _ := strings.Cut(c.Message, "\n")
			o.commit.message = fmt.Sprintf("revert %q\n\nThis reverts commit %s.", subject, h)
		}
	} else {
		if o.commit.message == "" {
			o.commit.message = c.Message
		}
		if o.commit.author == "" {
			o.commit.author = c.Author
		}
	}
	op += " onto " + b.name
	return kv.retry(ctx, op, func() (Hash, error) {
		head, err := kv.branches.Head(ctx, b.name)
		if err != nil && (revert || !errors.Is(err, ErrNotFound)) {
			return Hash{}, err
		}
		ours := node.Empty
		var parents []Hash
		if !head.IsZero() {
			hc, err := commit.Load(ctx, kv.store, kv.nodes, head)
			if err != nil {
				return Hash{}, err
			}
			ours, parents = hc.Tree, []Hash{head}
		}
		to := kv.treeOptions(&o)
		to.SameOnce = true // a change the head already made is rev's, applied
		res, err := tree.Merge(ctx, kv.nodes, base, ours, theirs, to)
		if err != nil {
			return Hash{}, fmt.Errorf("%s: %w", op, err)
		}
		if len(res.Conflicts) > 0 {
			return Hash{}, conflictError(op, res.Conflicts)
		}
		if res.Root == ours || (head.IsZero() && res.Root == node.Empty) {
			return head, nil // nothing to do
		}
		return kv.commit(ctx, commitReq{branch: b.name, head: head, tree: res.Root, objects: res.Objects, parents: parents, opts: o.commit})
	})
}
