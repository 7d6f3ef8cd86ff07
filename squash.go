package strata

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
)

// Squash replaces the branch's history at and below revision before with
// one root commit holding before's tree, and returns the branch's new
// head. It is for dropping history that must not be kept (a request to
// erase personal data) and for bounding a store's growth; it rewrites
// history, so call it only on an explicit request.
//
// before must name a commit on the branch's first-parent history (the
// head, its first parent, that one's first parent, …); otherwise Squash
// returns an error wrapping ErrNotFound and changes nothing. The new root
// commit has before's tree, no parents and the message "squash of
// history up to HASH" (before's hash), unless opts set a message, author
// or time (the defaults of any write: author "strata", now). Every commit
// above before on the first-parent history is made again on top of it,
// oldest first, with its own tree, author, time and message: their hashes
// change (a commit's hash covers its parents). A merge commit among them
// keeps only its first parent (its tree is unchanged): its other parents
// would keep the squashed history reachable.
//
// The branch moves from the head Squash read to the new head by
// compare-and-swap through the one commit primitive, in one atomic write
// of the new commits; if another writer moves the branch meanwhile,
// Squash starts again from the new head (so that writer's commit is
// rewritten too, never lost), up to MaxRetries times, then returns an
// error wrapping ErrConflict.
//
// The old commits stay in the store, and stay reachable from any other
// branch, tag or remote-tracking ref that reaches them; KV.GC deletes
// them (and every tree and value only they reach) once nothing does.
func (b *Branch) Squash(ctx context.Context, before string, opts ...CommitOption) (Hash, error) {
	if err := b.kv.alive(); err != nil {
		return Hash{}, err
	}
	if _, err := b.kv.branches.Head(ctx, b.name); err != nil {
		return Hash{}, fmt.Errorf("squash branch %q: %w", b.name, err)
	}
	base, err := b.kv.Resolve(ctx, before)
	if err != nil {
		return Hash{}, err
	}
	co := newCommitOptions(opts)
	if co.message == "" {
		co.message = "squash of history up to " + base.String()
	}
	return b.kv.retry(ctx, fmt.Sprintf("squash branch %q", b.name), func() (Hash, error) {
		return b.squash(ctx, base, co)
	})
}

// squash makes one attempt of Squash from the branch's current head.
func (b *Branch) squash(ctx context.Context, base Hash, co commitOptions) (Hash, error) {
	kv := b.kv
	head, err := kv.branches.Head(ctx, b.name)
	if err != nil {
		return Hash{}, fmt.Errorf("squash branch %q: %w", b.name, err)
	}
	bc, err := commit.Load(ctx, kv.store, kv.nodes, base)
	if err != nil {
		return Hash{}, fmt.Errorf("squash branch %q: %w", b.name, err)
	}
	// The commits above base on the first-parent history, newest first.
	var above []*commit.Commit
	for h := head; h != base; {
		c, err := commit.Load(ctx, kv.store, kv.nodes, h)
		if err != nil {
			return Hash{}, fmt.Errorf("squash branch %q: %w", b.name, err)
		}
		if len(c.Parents) == 0 || c.Height <= bc.Height {
			return Hash{}, fmt.Errorf("squash branch %q: %s is not on its first-parent history: %w", b.name, base.Short(), ErrNotFound)
		}
		above = append(above, c)
		h = c.Parents[0]
	}
	obj, cm := buildCommit(bc.Tree, nil, 1, co)
	objs := []backend.Object{obj}
	for i := len(above) - 1; i >= 0; i-- {
		// A copy of a commit keeps every field but its parent and height
		// as it is (an empty author too), so it is made directly rather
		// than by buildCommit, which fills in defaults.
		c := *above[i]
		c.Parents = []Hash{obj.Hash}
		c.Height = cm.Height + 1
		cm = &c
		obj = commit.Object(cm)
		objs = append(objs, obj)
	}
	if err := kv.land(ctx, b.name, head, obj.Hash, objs, cm); err != nil {
		if errors.Is(err, errLostRace) {
			return Hash{}, err
		}
		return Hash{}, fmt.Errorf("squash branch %q: %w", b.name, err)
	}
	return obj.Hash, nil
}
