package strata

import (
	"context"
	"fmt"
	"strings"

	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/tree"
)

// MergeFunc merges the value at path that both sides of a merge changed
// differently: base, ours and theirs are the three versions (nil where a
// side has nothing there, so a removal against a change reaches it too).
// It returns the merged value, or nil to remove the path. An error that
// wraps ErrConflict makes the path a conflict described by the error's
// message; any other error stops the merge. MergeValues is the default it
// replaces. It must be deterministic and safe for concurrent use.
type MergeFunc func(ctx context.Context, path string, base, ours, theirs *Value) (*Value, error)

type pathMerger struct {
	prefix []string
	fn     MergeFunc
	err    error // the prefix is not a valid path
}

// MergeWith registers fn to merge the values at prefix and below it (a
// path prefix, segment by segment: "config" covers "config/a" but not
// "configs"; "" covers everything), in place of the built-in merge of
// their kind, in every merge the KV makes: Merge, Revert, CherryPick and
// the merges of concurrent writes. When several prefixes cover a path, the
// longest wins. An invalid prefix makes those merges fail with
// ErrInvalidPath.
func MergeWith(prefix string, fn MergeFunc) OpenOption {
	segs, err := tree.ParsePath(prefix)
	return func(o *openOptions) { o.mergers = append(o.mergers, pathMerger{segs, fn, err}) }
}

// mergeFunc returns the tree merge callback for the registered MergeFuncs,
// or nil if there are none.
func (kv *KV) mergeFunc() func(context.Context, string, *contents.Contents, *contents.Contents, *contents.Contents) (*contents.Contents, bool, error) {
	if len(kv.opts.mergers) == 0 {
		return nil
	}
	return func(ctx context.Context, path string, b, o, t *contents.Contents) (*contents.Contents, bool, error) {
		segs := strings.Split(path, "/")
		var best *pathMerger
		for i := range kv.opts.mergers {
			m := &kv.opts.mergers[i]
			if m.err != nil {
				return nil, false, fmt.Errorf("merge function: %w", m.err)
			}
			if len(m.prefix) <= len(segs) && (best == nil || len(m.prefix) >= len(best.prefix)) && equalSegs(m.prefix, segs[:len(m.prefix)]) {
				best = m
			}
		}
		if best == nil {
			return nil, false, nil
		}
		r, err := best.fn(ctx, path, valuePtr(b), valuePtr(o), valuePtr(t))
		if err != nil {
			return nil, false, err
		}
		return contentsPtr(r), true, nil
	}
}

func equalSegs(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// Resolution says how a ResolveFunc settles a conflict; its zero value
// leaves the conflict unsettled.
type Resolution struct {
	set   bool
	keep  Side
	value *Value
}

// Keep settles a conflict by keeping one side's version of the path as it
// is: its value, its directory or its absence.
func Keep(s Side) Resolution { return Resolution{set: true, keep: s} }

// Replace settles a conflict by storing v at the path.
func Replace(v Value) Resolution { return Resolution{set: true, value: &v} }

// Drop settles a conflict by removing the path: no value, no directory.
func Drop() Resolution { return Resolution{set: true} }

// ResolveFunc settles the conflicts a merge finds, one at a time. It
// returns how (the zero Resolution leaves the conflict to be reported); an
// error stops the merge.
type ResolveFunc func(ctx context.Context, c Conflict) (Resolution, error)

// MergeBase returns the merge bases of revisions a and b: their lowest
