package strata

import (
	"context"
	"slices"

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

// Diff returns the values that differ from revision from to revision to,
// sorted by path bytes. Its cost follows the size of the change: directories
// with equal hashes are skipped without being read.
func (kv *KV) Diff(ctx context.Context, from, to string) ([]Change, error) {
	a, err := kv.Commit(ctx, from)
	if err != nil {
		return nil, err
	}
	b, err := kv.Commit(ctx, to)
	if err != nil {
		return nil, err
	}
	return kv.diffTrees(ctx, a.Tree, b.Tree)
}

func (kv *KV) diffTrees(ctx context.Context, a, b Hash) ([]Change, error) {
	return kv.diffTreesUnder(ctx, a, b, "")
}

// diffTreesUnder is diffTrees keeping only the changes at or under prefix
// (a checked path; "" for all), reading only their values.
func (kv *KV) diffTreesUnder(ctx context.Context, a, b Hash, prefix string) ([]Change, error) {
	tcs, err := tree.Diff(ctx, kv.nodes, a, b)
	if err != nil {
		return nil, err
	}
	if prefix != "" {
		tcs = slices.DeleteFunc(tcs, func(tc tree.Change) bool { return !underPrefix(tc.Path, prefix) })
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
