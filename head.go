package strata

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratakv/strata/branch"
	"github.com/stratakv/strata/internal/codec"
)

// Reset moves the branch to the commit that revision rev names, whatever
// the branch's history (git reset --hard, Irmin's Head.set): the commits
// it leaves behind stay in the store. A branch that does not exist is
// created. It returns the new head; a branch already there is not
// written. The move is a compare-and-swap from the head Reset read,
// retried like any write if another writer moves the branch first. It
// returns an error wrapping ErrNotFound if rev names nothing,
// ErrInvalidRevision for bad syntax and ErrInvalidBranch for a bad name.
func (b *Branch) Reset(ctx context.Context, rev string) (Hash, error) {
	if err := b.kv.alive(); err != nil {
		return Hash{}, err
	}
	if err := branch.ValidateName(b.name); err != nil {
		return Hash{}, err
	}
	to, err := b.kv.Resolve(ctx, rev)
	if err != nil {
		return Hash{}, err
	}
	return b.kv.retry(ctx, fmt.Sprintf("reset branch %q", b.name), func() (Hash, error) {
		head, err := b.kv.branches.Head(ctx, b.name)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Hash{}, err
		}
		if head == to {
			return to, nil
		}
		if err := b.kv.land(ctx, b.name, head, to, nil, nil); err != nil {
			return Hash{}, err
		}
		return to, nil
	})
}

// CompareAndSwap moves the branch from commit old to commit new in one
// atomic step (Irmin's Head.test_and_set), without retrying: it is the
// building block of a caller's own optimistic loop. A zero old means the
// branch must not exist yet (CompareAndSwap then creates it). new must
// be a commit in the store: a zero new is an error wrapping
// ErrInvalidValue (DeleteBranch deletes a branch), a hash that names no
// object wraps ErrNotFound, and one that names another kind of object
// wraps ErrInvalidValue. When the branch is not at old, nothing changes
// and the error wraps ErrConflict.
func (b *Branch) CompareAndSwap(ctx context.Context, old, new Hash) error {
	if err := b.kv.alive(); err != nil {
		return err
	}
	if err := branch.ValidateName(b.name); err != nil {
		return err
	}
	op := fmt.Sprintf("compare-and-swap branch %q", b.name)
	if new.IsZero() {
		return fmt.Errorf("%s: %w: the new head is the zero hash (use DeleteBranch to delete a branch)", op, ErrInvalidValue)
	}
	if err := b.kv.checkObject(ctx, new, "commit", codec.TagCommit); err != nil {
		return fmt.Errorf("%s: new head: %w", op, err)
	}
	if err := b.kv.land(ctx, b.name, old, new, nil, nil); err != nil {
		return fmt.Errorf("%s from %s: %w", op, shortOrNone(old), err)
	}
	return nil
}

// shortOrNone is h's short form, or "nothing" for the zero hash.
func shortOrNone(h Hash) string {
	if h.IsZero() {
		return "nothing"
	}
	return h.Short()
}

// checkObject checks that h, a hash a caller gave, names a stored object
// of one of the kinds tags, called what in messages. An absent object is
// an error wrapping ErrNotFound (the caller named it: its absence is not
// damage), another kind one wrapping ErrInvalidValue, and bytes that do
// not match h one wrapping ErrCorrupt.
func (kv *KV) checkObject(ctx context.Context, h Hash, what string, tags ...codec.Tag) error {
	data, err := codec.Read(ctx, kv.store, h)
	switch {
	case errors.Is(err, ErrMissing):
		return fmt.Errorf("%s %s: no such object: %w", what, h.Short(), ErrNotFound)
	case err != nil:
		return err
	}
	tag, _ := codec.TagOf(data)
	for _, t := range tags {
		if tag == t {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is a %s object, not a %s", ErrInvalidValue, h.Short(), tag, what)
}
