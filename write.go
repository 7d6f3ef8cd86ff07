package strata

import (
	"context"
	"fmt"

	"github.com/stratakv/strata/branch"
	"github.com/stratakv/strata/tree"
)

// Set stores value at path in one new commit and returns its hash. It copies
// value. Directories on the way are created. If the value at path already
// equals value, no commit is made and the current head is returned. Setting a
// value where a directory is, or below a value, returns an error wrapping
// ErrInvalidPath.
func (b *Branch) Set(ctx context.Context, path string, value []byte, opts ...CommitOption) (Hash, error) {
	p, err := tree.CheckPath(path)
	if err != nil {
		return Hash{}, err
	}
	if err := b.writable(); err != nil {
		return Hash{}, err
	}
	// No copy here: the change runs (on this goroutine or the group's
	// committer's) only while Set waits for its result, and the Builder
	// copies value. SetPath takes the checked path whole: no segments.
	// The write's own setPath does it, not a closure: no allocation.
	w := newGroupWrite(ctx, true, nil, opts)
	w.path, w.value = p, value
	w.apply = w.setPath
	return b.run(ctx, w)
}

// Delete removes the value or whole directory at path in one new commit and
// returns its hash. It returns an error wrapping ErrNotFound if there is
// nothing at path. When another writer moves the branch first, it deletes
// again on the new head: a directory loses the entries added to it
// meanwhile too, as if the writes had been made one after the other.
func (b *Branch) Delete(ctx context.Context, path string, opts ...CommitOption) (Hash, error) {
	segs, err := tree.ParsePath(path)
	if err != nil {
		return Hash{}, err
	}
	if len(segs) == 0 {
		return Hash{}, fmt.Errorf("%w: refusing to delete the root; delete its entries one by one or delete the branch", ErrInvalidPath)
	}
	// Made again, not merged, on a head another writer moved: what it
	// removes is whatever is at path then (see ownChange).
	return b.write(ctx, false, func(ctx context.Context, t *tree.Builder) error {
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
		defer tx.done()
		if err := fn(tx); err != nil {
			return err
		}
		return tx.err
	}, opts)
}

// write is every branch write but a merge: it makes the change on the
// branch head's tree and commits it through the commit primitive. Writes
// to one branch from one KV queue behind one committer, which commits
// every waiting change in one atomic write (group commit, group.go); a
// group that loses the compare-and-swap to another writer is retried
// (see retry): a write that merges (Set, SetValue, Add) merges
// its change into the new head (see ownChange), any other (Update, Delete)
// re-applies it there.
func (b *Branch) write(ctx context.Context, merge bool, apply func(context.Context, *tree.Builder) error, opts []CommitOption) (Hash, error) {
	if err := b.writable(); err != nil {
		return Hash{}, err
	}
	return b.run(ctx, newGroupWrite(ctx, merge, apply, opts))
}

// writable returns the error of a write to the branch that cannot start:
// the KV is closed, or the branch's name is invalid.
func (b *Branch) writable() error {
	if err := b.kv.alive(); err != nil {
		return err
	}
	return branch.ValidateName(b.name)
}

// run runs write w through the branch's write queue, returns its result
// and gives w back to its pool.
func (b *Branch) run(ctx context.Context, w *groupWrite) (Hash, error) {
	h, err := b.kv.queue(b.name).do(ctx, b, w)
	w.free()
	return h, err
}
