package strata

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stratakv/strata/tree"
)

// LogOption filters or bounds a log: PathFilter, MaxDepth.
type LogOption interface{ applyLog(*logOptions) }

type logOption func(*logOptions)

func (f logOption) applyLog(o *logOptions) { f(o) }

type logOptions struct {
	path     []string
	hasPath  bool
	maxDepth int
	hasDepth bool
	err      error // the first bad option
}

// fail records the first bad option.
func (o *logOptions) fail(err error) {
	if o.err == nil {
		o.err = err
	}
}

// PathFilter keeps in a log only the commits that changed something at or
// below path: those whose value or subtree at path differs from that of
// each of their parents (a merge that took path unchanged from one parent
// is left out, as git does). Each commit costs O(depth of path) reads of
// (usually cached) directory objects; no unchanged subtree is read.
func PathFilter(path string) LogOption {
	return logOption(func(o *logOptions) {
		segs, err := tree.ParsePath(path)
		if err != nil {
			o.fail(err)
		}
		o.path, o.hasPath = segs, true
	})
}

// Log returns up to n commits reachable from revision rev (all if n <= 0),
// newest first: ordered by time, then height, then hash, each commit once.
// rev may also be a range A..B (git's syntax): the commits reachable from
// B and not from A. Both ends are required ("A.." and "..B" are errors
// wrapping ErrInvalidRevision: strata has no HEAD to default to). A
// PathFilter keeps only the commits that changed that path; MaxDepth
// stops the walk at commits more than n generations below rev (below B
// for a range). A commit marked shallow (a shallow clone cut history
// below it) ends the walk like a root commit, with Commit.Shallow set;
// its absent parents are not an error.
func (kv *KV) Log(ctx context.Context, rev string, n int, opts ...LogOption) ([]Commit, error) {
	if err := kv.alive(); err != nil {
		return nil, err
	}
	var lo logOptions
	for _, f := range opts {
		f.applyLog(&lo)
	}
	if lo.err != nil {
		return nil, lo.err
	}
	shallow, err := kv.shallowSet(ctx)
	if err != nil {
		return nil, err
	}
	var hide *hidden
	if from, to, ok := strings.Cut(rev, ".."); ok {
		if strings.HasPrefix(to, ".") {
			return nil, fmt.Errorf("%w: %q: the symmetric difference A...B is not supported; use A..B", ErrInvalidRevision, rev)
		}
		if from == "" || to == "" {
			return nil, fmt.Errorf("%w: range %q needs a revision on both sides of \"..\"", ErrInvalidRevision, rev)
		}
		a, err := kv.Resolve(ctx, from)
		if err != nil {
			return nil, err
		}
		hide = &hidden{kv: kv, seen: map[Hash]bool{a: true}, shallow: shallow}
		ac, err := kv.loadCommit(ctx, a)
		if err != nil {
			return nil, err
		}
		heap.Push(&hide.queue, ac)
		rev = to
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
	var floor uint64 // the lowest height MaxDepth lets the walk visit
	if lo.hasDepth && first.Height > uint64(lo.maxDepth) {
		floor = first.Height - uint64(lo.maxDepth)
	}
	// visible reports whether the walk shows commit c: not hidden by the
	// range's left side, and within MaxDepth.
	visible := func(c Commit) (bool, error) {
		if c.Height < floor {
			return false, nil
		}
		if hide == nil {
			return true, nil
		}
		in, err := hide.reaches(ctx, c)
		return !in, err
	}
	if ok, err := visible(first); err != nil || !ok {
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
		parents := c.Parents
		if shallow[c.Hash] {
			// History was cut here on purpose: the parents are absent
			// by design, and the commit ends the log like a root.
			c.Shallow, parents = true, nil
		}
		keep := true
		var mine Hash
		if lo.hasPath {
			if mine, err = at(c.Tree); err != nil {
				return nil, err
			}
			keep = len(parents) > 0 || !mine.IsZero()
		}
		for _, p := range parents {
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
				ok, err := visible(pc)
				if err != nil {
					return nil, err
				}
				if ok {
					heap.Push(q, pc)
				}
			}
		}
		if keep {
			out = append(out, c)
		}
	}
	return out, nil
}

// hidden is the left side A of a range A..B: the commits reachable from
// A, found lazily, highest first, only as far down as the walk of B needs.
type hidden struct {
	kv    *KV
	queue heightQueue   // found commits not expanded yet
	seen  map[Hash]bool // every commit found reachable from A
	// shallow commits, whose parents are absent by design (see shallowSet)
	shallow map[Hash]bool
}

// reaches reports whether c is reachable from A. A commit's parents are
// lower than it, so once every found commit higher than c is expanded,
// every commit of c's height reachable from A has been found.
func (h *hidden) reaches(ctx context.Context, c Commit) (bool, error) {
	for h.queue.Len() > 0 && h.queue[0].Height > c.Height {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		top := heap.Pop(&h.queue).(Commit)
		if h.shallow[top.Hash] {
			continue
		}
		for _, p := range top.Parents {
			if h.seen[p] {
				continue
			}
			h.seen[p] = true
			pc, err := h.kv.loadCommit(ctx, p)
			if err != nil {
				return false, fmt.Errorf("history of %s: %w", top.Hash.Short(), err)
			}
			heap.Push(&h.queue, pc)
		}
	}
	return h.seen[c.Hash], nil
}

// heightQueue is a max-heap of commits by height.
type heightQueue []Commit

func (q heightQueue) Len() int           { return len(q) }
func (q heightQueue) Less(i, j int) bool { return q[i].Height > q[j].Height }
func (q heightQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *heightQueue) Push(x any)        { *q = append(*q, x.(Commit)) }
func (q *heightQueue) Pop() any {
	old := *q
	c := old[len(old)-1]
	*q = old[:len(old)-1]
	return c
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
