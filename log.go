package strata

import (
	"container/heap"
	"context"
	"errors"
	"fmt"

	"github.com/stratakv/strata/tree"
)

// LogOption filters a log.
type LogOption func(*logOptions)

type logOptions struct {
	path    []string
	hasPath bool
	pathErr error
}

// PathFilter keeps in a log only the commits that changed something at or
// below path: those whose value or subtree at path differs from that of
// each of their parents (a merge that took path unchanged from one parent
// is left out, as git does). Each commit costs O(depth of path) reads of
// (usually cached) directory objects; no unchanged subtree is read.
func PathFilter(path string) LogOption {
	return func(o *logOptions) {
		o.path, o.pathErr = tree.ParsePath(path)
		o.hasPath = true
	}
}

// Log returns up to n commits reachable from revision rev (all if n <= 0),
// newest first: ordered by time, then height, then hash, each commit once.
// A PathFilter keeps only the commits that changed that path.
func (kv *KV) Log(ctx context.Context, rev string, n int, opts ...LogOption) ([]Commit, error) {
	if err := kv.alive(); err != nil {
		return nil, err
	}
	var lo logOptions
	for _, f := range opts {
		f(&lo)
	}
	if lo.pathErr != nil {
		return nil, lo.pathErr
	}
	h, err := kv.Resolve(ctx, rev)
	if err != nil {
		return nil, err
	}
	var out []Commit
	q := &commitQueue{}
	seen := map[Hash]bool{h: true}
	first, err := kv.loadCommit(ctx, h)
	if err != nil {
		return nil, err
	}
	heap.Push(q, first)
	// The subtree hash at the filtered path, by commit tree.
	at := func(treeHash Hash) (Hash, error) {
		sh, _, err := tree.New(kv.nodes, treeHash).SubtreeHash(ctx, lo.path)
		if errors.Is(err, ErrNotFound) {
			return Hash{}, nil
		}
		return sh, err
	}
	for q.Len() > 0 && (n <= 0 || len(out) < n) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := heap.Pop(q).(Commit)
		keep := true
		var mine Hash
		if lo.hasPath {
			if mine, err = at(c.Tree); err != nil {
				return nil, err
			}
			keep = len(c.Parents) > 0 || !mine.IsZero()
		}
		for _, p := range c.Parents {
			if seen[p] && !lo.hasPath {
				continue
			}
			pc, err := kv.loadCommit(ctx, p)
			if err != nil {
				return nil, fmt.Errorf("history of %s: %w", c.Hash.Short(), err)
			}
			if lo.hasPath && keep {
				theirs, err := at(pc.Tree)
				if err != nil {
					return nil, err
				}
				keep = theirs != mine
			}
			if !seen[p] {
				seen[p] = true
				heap.Push(q, pc)
			}
		}
		if keep {
			out = append(out, c)
		}
	}
	return out, nil
}

type commitQueue []Commit

func (q commitQueue) Len() int { return len(q) }
func (q commitQueue) Less(i, j int) bool {
	a, b := q[i], q[j]
	if !a.Time.Equal(b.Time) {
		return a.Time.After(b.Time)
	}
	if a.Height != b.Height {
		return a.Height > b.Height
	}
	return a.Hash.String() > b.Hash.String()
}
func (q commitQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *commitQueue) Push(x any)   { *q = append(*q, x.(Commit)) }
func (q *commitQueue) Pop() any {
	old := *q
	c := old[len(old)-1]
	*q = old[:len(old)-1]
	return c
}
