package strata

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/branch"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/node"
)

// Event reports that a branch moved, and what changed.
type Event struct {
	Branch string
	// Old is the head before the change (zero: the branch was created) and
	// New the head after it (zero: the branch was deleted).
	Old, New Hash
	// Changes are the values that differ between Old's tree and New's.
	Changes []Change
	// Err is set, on the last event before the channel closes, if watching
	// failed (for example the store became unreachable); it is nil when the
	// channel closes because ctx is done.
	Err error
}

// Watch reports every move of branch — made by this process or, on a
// shared backend such as Redis, by any other — as an Event with the diff it
// made, in order, until ctx is done; then it closes the channel. If the
// backend had to drop notifications because the reader fell behind, the
// next event covers the gap: its Old is the last head reported and its
// Changes the whole difference, so applying every event in order always
// reproduces the branch. It returns an error if the backend cannot watch.
func (kv *KV) Watch(ctx context.Context, name string) (<-chan Event, error) {
	if err := kv.alive(); err != nil {
		return nil, err
	}
	if err := branch.ValidateName(name); err != nil {
		return nil, err
	}
	w, ok := kv.store.(backend.RefWatcher)
	if !ok {
		return nil, fmt.Errorf("watch branch %q: this backend cannot report changes", name)
	}
	ctx, cancel := context.WithCancel(ctx)
	src, err := w.WatchRefs(ctx, branch.RefPrefix+name)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("watch branch %q: %w", name, err)
	}
	// Read the head after subscribing, so no move falls between the two.
	last, err := kv.branches.Head(ctx, name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		cancel()
		return nil, err
	}
	out := make(chan Event, 64)
	go func() {
		defer cancel()
		defer close(out)
		for ev := range src {
			if ev.Name != branch.RefPrefix+name || ev.New == last {
				continue
			}
			e := Event{Branch: name, Old: last, New: ev.New}
			e.Changes, e.Err = kv.diffHeads(ctx, last, ev.New)
			if e.Err != nil && ctx.Err() != nil {
				return
			}
			select {
			case out <- e:
			case <-ctx.Done():
				return
			}
			if e.Err != nil {
				return
			}
			last = ev.New
		}
	}()
	return out, nil
}

// diffHeads diffs the trees of two commits (zero: the empty tree).
func (kv *KV) diffHeads(ctx context.Context, a, b Hash) ([]Change, error) {
	tree := func(h Hash) (Hash, error) {
		if h.IsZero() {
			return node.Empty, nil
		}
		c, err := commit.Load(ctx, kv.store, kv.nodes, h)
		if err != nil {
			return Hash{}, err
		}
		return c.Tree, nil
	}
	ta, err := tree(a)
	if err != nil {
		return nil, err
	}
	tb, err := tree(b)
	if err != nil {
		return nil, err
	}
	return kv.diffTrees(ctx, ta, tb)
}
