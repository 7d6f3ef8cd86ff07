package strata

import (
	"context"
	"fmt"

	"github.com/stratakv/strata/tree"
)

// Op is the kind of a Change.
type Op = tree.Op

// The kinds of change.
const (
	Added    = tree.Added
	Modified = tree.Modified
	Removed  = tree.Removed
)

// Change is one value that differs between two revisions. Old is nil for
// Added; New is nil for Removed.
type Change struct {
	Op       Op
	Path     string
	Old, New []byte
}

// DiffOption selects what Diff returns: DiffPath, DiffLimit.
type DiffOption interface{ applyDiff(*diffOptions) }

type diffOption func(*diffOptions)

func (f diffOption) applyDiff(o *diffOptions) { f(o) }

type diffOptions struct {
	prefix string // checked, without leading or trailing "/"; "" for all
	limit  int    // 0 for all
	err    error  // the first bad option
}

// DiffPath limits Diff to the values at or under path ("" or "/":
// everything). Only the directories on the way to path and those under it
// are read, so the cost follows the change under path. A bad path makes
// Diff return an error wrapping ErrInvalidPath.
func DiffPath(path string) DiffOption {
	return diffOption(func(o *diffOptions) {
		p, err := tree.CheckPath(path)
		if err != nil && o.err == nil {
			o.err = err
		}
		o.prefix = p
	})
}

// DiffLimit makes Diff return at most n changes, the first n by path, and
// read the values of those only; n <= 0 means no limit. Ask for one more
// than you will show to learn whether there are more.
func DiffLimit(n int) DiffOption {
	return diffOption(func(o *diffOptions) { o.limit = max(n, 0) })
}

// Diff returns the values that differ from revision from to revision to,
// sorted by path bytes (limited by DiffPath and DiffLimit, if given). Its
// cost follows the size of the change: directories with equal hashes are
// skipped without being read, and values are read only for the changes
// returned.
func (kv *KV) Diff(ctx context.Context, from, to string, opts ...DiffOption) ([]Change, error) {
	var o diffOptions
	for _, f := range opts {
		f.applyDiff(&o)
	}
	if o.err != nil {
		return nil, fmt.Errorf("diff %s..%s: %w", from, to, o.err)
	}
	a, err := kv.Commit(ctx, from)
	if err != nil {
		return nil, err
	}
	b, err := kv.Commit(ctx, to)
	if err != nil {
		return nil, err
	}
	return kv.diffTreesUnder(ctx, a.Tree, b.Tree, o.prefix, o.limit)
}

func (kv *KV) diffTrees(ctx context.Context, a, b Hash) ([]Change, error) {
	return kv.diffTreesUnder(ctx, a, b, "", 0)
}

// diffTreesUnder is diffTrees keeping only the changes at or under prefix
// (a checked path; "" for all), the first limit of them by path (0: all),
// reading only their values.
func (kv *KV) diffTreesUnder(ctx context.Context, a, b Hash, prefix string, limit int) ([]Change, error) {
	tcs, err := tree.DiffUnder(ctx, kv.nodes, a, b, prefix)
	if err != nil {
		return nil, err
	}
	if limit > 0 && len(tcs) > limit {
		tcs = tcs[:limit]
	}
	out := make([]Change, len(tcs))
	for i, tc := range tcs {
		out[i] = Change{Op: tc.Op, Path: tc.Path}
		if tc.Op != Added {
			if out[i].Old, err = tree.Bytes(ctx, kv.store, tc.Old, tc.Path); err != nil {
				return nil, err
			}
		}
		if tc.Op != Removed {
			if out[i].New, err = tree.Bytes(ctx, kv.store, tc.New, tc.Path); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// Changes returns what commit rev changed relative to its first parent (all
// its values, for a root commit or a shallow one, whose parents are absent
// by design).
func (kv *KV) Changes(ctx context.Context, rev string) ([]Change, error) {
	c, err := kv.Commit(ctx, rev)
	if err != nil {
		return nil, err
	}
	var parentTree Hash
	shallow := false
	if len(c.Parents) > 0 {
		s, err := kv.shallowSet(ctx)
		if err != nil {
			return nil, err
		}
		shallow = s[c.Hash] // history cut here: show it as a root
	}
	if len(c.Parents) > 0 && !shallow {
		p, err := kv.loadCommit(ctx, c.Parents[0])
		if err != nil {
			return nil, err
		}
		parentTree = p.Tree
	}
	return kv.diffTrees(ctx, parentTree, c.Tree)
}
