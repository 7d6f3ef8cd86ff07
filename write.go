package strata

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratakv/strata/branch"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// Set stores value at path in one new commit and returns its hash. It copies
// value. Directories on the way are created. If the value at path already
// equals value, no commit is made and the current head is returned. Setting a
// value where a directory is, or below a value, returns an error wrapping
// ErrInvalidPath.
func (b *Branch) Set(ctx context.Context, path string, value []byte, opts ...CommitOption) (Hash, error) {
	segs, err := tree.ParsePath(path)
	if err != nil {
		return Hash{}, err
	}
	value = append([]byte{}, value...)
	return b.write(ctx, true, func(ctx context.Context, t *tree.Builder) error {
		return t.Set(ctx, segs, value)
	}, opts)
}

// Delete removes the value or whole directory at path in one new commit and
// returns its hash. It returns an error wrapping ErrNotFound if there is
// nothing at path.
func (b *Branch) Delete(ctx context.Context, path string, opts ...CommitOption) (Hash, error) {
	segs, err := tree.ParsePath(path)
	if err != nil {
		return Hash{}, err
	}
	if len(segs) == 0 {
		return Hash{}, fmt.Errorf("%w: refusing to delete the root; delete its entries one by one or delete the branch", ErrInvalidPath)
	}
	return b.write(ctx, true, func(ctx context.Context, t *tree.Builder) error {
		existed, err := t.Delete(ctx, segs)
		if err == nil && !existed {
			return fmt.Errorf("delete %q on branch %q: %w", tree.JoinPath(segs), b.name, ErrNotFound)
		}
		return err
	}, opts)
}

// Update runs fn with a transaction on the branch's current head and
// commits everything fn changed as one commit, returning its hash. If fn
// returns an error, nothing is written and Update returns that error. If
// another writer moves the branch before the commit lands, Update runs fn
// again on the new head, so fn may run more than once and must not have
// effects outside tx. If fn changes nothing, no commit is made and the
// current head (the zero Hash for a branch without commits) is returned.
func (b *Branch) Update(ctx context.Context, fn func(tx *Tx) error, opts ...CommitOption) (Hash, error) {
	return b.write(ctx, false, func(ctx context.Context, t *tree.Builder) error {
		tx := &Tx{ctx: ctx, kv: b.kv, t: t}
		if err := fn(tx); err != nil {
			return err
		}
		return tx.err
	}, opts)
}

// write is every branch write but a merge: it makes the change on the
// branch head's tree and commits it through the commit primitive,
// retrying (see retry) when another writer moves the branch first: a
// write that merges (Set, SetValue, Delete, Add) merges its change into
// the new head (see ownChange), any other (Update) re-applies it there.
func (b *Branch) write(ctx context.Context, merge bool, apply func(context.Context, *tree.Builder) error, opts []CommitOption) (Hash, error) {
	if err := b.kv.alive(); err != nil {
		return Hash{}, err
	}
	if err := branch.ValidateName(b.name); err != nil {
		return Hash{}, err
	}
	co := newCommitOptions(opts)
	// The first attempt may start from the head this KV itself last wrote
	// to the branch, without reading it: on a network backend that saves a
	// round trip. Only a successful compare-and-swap from that guess counts.
	// A lost race, nothing to change, or an error from the change itself is
	// judged again on the real head; but a failed commit is returned as it
	// is, since it may have landed (a reply lost after the server ran it)
	// and making the change again could apply it twice.
	if guess, ok := b.kv.lastHead(b.name); ok {
		h, err := b.attempt(ctx, guess, &ownChange{merge: merge, basedOn: co.basedOn}, apply, co)
		switch {
		case err == nil && !h.IsZero():
			return h, nil
		case errors.Is(err, errCommitFailed):
			return Hash{}, err
		}
	}
	own := &ownChange{merge: merge, basedOn: co.basedOn}
	return b.kv.retry(ctx, fmt.Sprintf("branch %q", b.name), func() (Hash, error) {
		head, err := b.kv.branches.Head(ctx, b.name)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Hash{}, err
		}
		h, err := b.attempt(ctx, head, own, apply, co)
		if err == nil && h.IsZero() {
			return head, nil // nothing changed
		}
		return h, err
	})
}

// attempt makes one try at moving the branch from head: it makes (or
// merges) the change on head's tree and commits the result. It returns the
// new commit, the zero Hash if the change leaves head's tree as it is, or
// the error of the change or of KV.commit.
func (b *Branch) attempt(ctx context.Context, head Hash, own *ownChange, apply func(context.Context, *tree.Builder) error, co commitOptions) (Hash, error) {
	base := node.Empty
	var parents []Hash
	if !head.IsZero() {
		c, err := commit.Load(ctx, b.kv.store, b.kv.nodes, head)
		if err != nil {
			return Hash{}, fmt.Errorf("branch %q: head %w", b.name, err)
		}
		base, parents = c.Tree, []Hash{head}
	}
	objs, root, err := own.make(ctx, b.kv, base, apply)
	if err != nil {
		return Hash{}, err
	}
	if root == base {
		return Hash{}, nil
	}
	return b.kv.commit(ctx, commitReq{branch: b.name, head: head, tree: root, objects: objs, parents: parents, opts: co})
}
