package commit

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/stratakv/strata/backend"
)

// ErrLimit is wrapped by a history search that needed more than a bound
// its caller set (Bounds).
var ErrLimit = errors.New("limit exceeded")

// Bounds limit a merge-base search.
type Bounds struct {
	// MaxDepth is how many generations (by height) below the higher
	// starting commit the search may look; 0 means only the starting
	// height.
	MaxDepth int
	// MaxBases is how many merge bases the search may find.
	MaxBases int
	// Shallow holds the commits below which history was cut on purpose
	// (a shallow clone): the search treats them as root commits and never
	// reads their parents, so their absence is not an error. Nil means
	// none.
	Shallow map[backend.Hash]bool
}

// MergeBases returns the lowest common ancestors of the commit sets as and
// bs: the commits reachable from both that are not ancestors of another
// such commit. There is one in a simple fork, several after criss-cross
// merges, none for disjoint histories (a nil slice, not an error). They are
// sorted by height, highest first, then by hash.
//
// The search reads commits through the cache c (see Load) and visits them
// in decreasing height, so every child of a commit has passed on its flags
// before the commit itself is seen: a commit reachable from both sides and
// not yet marked stale is a lowest common ancestor, and marks its own
// ancestors stale. It stops when only stale commits are left. A search
// that would pass b returns an error wrapping ErrLimit; a missing or
// corrupt commit returns the error of Load.
//
// If s is also a backend.RefStore, the search reads the commit-graph runs
// that WriteGraph left (one object per RunLen commits along a first-parent
// chain) instead of each commit of the run. Runs are only a shortcut: a
// missing, damaged or inconsistent run is ignored and the commits read.
func MergeBases(ctx context.Context, s backend.ObjectStore, c Cache, as, bs []backend.Hash, b Bounds) ([]backend.Hash, error) {
	g := newGraph(s, c)
	g.consume = true // visit asks for each commit once
	seen := map[backend.Hash]*lcaNode{}
	q := &lcaQueue{}
	nonStale := 0
	var top uint64
	visit := func(h backend.Hash, flags uint8) error {
		n := seen[h]
		if n == nil {
			e, _, err := g.entry(ctx, h)
			if err != nil {
				return err
			}
			n = &lcaNode{h: h, height: e.Height, parents: e.Parents}
			if b.Shallow[h] {
				n.parents = nil // history cut here by design
			}
			seen[h] = n
		}
		if n.flags|flags == n.flags {
			return nil
		}
		if n.queued && n.flags&stale == 0 && flags&stale != 0 {
			nonStale--
		}
		n.flags |= flags
		if !n.queued {
			n.queued = true
			heap.Push(q, n)
			if n.flags&stale == 0 {
				nonStale++
			}
		}
		return nil
	}
	for _, h := range as {
		if err := visit(h, fromA); err != nil {
			return nil, err
		}
	}
	for _, h := range bs {
		if err := visit(h, fromB); err != nil {
			return nil, err
		}
	}
	for _, n := range *q {
		top = max(top, n.height)
	}
	var out []*lcaNode
	for visited := 0; nonStale > 0; visited++ {
		if visited%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		n := heap.Pop(q).(*lcaNode)
		n.queued = false
		flags := n.flags
		if flags&stale == 0 {
			nonStale--
			if top-n.height > uint64(b.MaxDepth) {
				return nil, fmt.Errorf("%w: no merge base within %d generations (MaxDepth) of commit %s", ErrLimit, b.MaxDepth, n.h.Short())
			}
			if flags&(fromA|fromB) == fromA|fromB {
				out = append(out, n)
				if len(out) > b.MaxBases {
					return nil, fmt.Errorf("%w: more than %d merge bases (MaxBases)", ErrLimit, b.MaxBases)
				}
				flags |= stale
			}
		}
		for _, p := range n.parents {
			if err := visit(p, flags); err != nil {
				return nil, fmt.Errorf("history of %s: %w", n.h.Short(), err)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return lcaQueue(out).Less(i, j) })
	hs := make([]backend.Hash, len(out))
	for i, n := range out {
		hs[i] = n.h
	}
	return hs, nil
}

// lcaNode is one commit seen by a merge-base search.
type lcaNode struct {
	h       backend.Hash
	height  uint64
	parents []backend.Hash
	flags   uint8
	queued  bool
}

const (
	fromA uint8 = 1 << iota // reachable from the first set
	fromB                   // reachable from the second
	stale                   // an ancestor of a common ancestor
)

// lcaQueue orders commits by height, highest first, then by hash.
type lcaQueue []*lcaNode

func (q lcaQueue) Len() int { return len(q) }
func (q lcaQueue) Less(i, j int) bool {
	if q[i].height != q[j].height {
		return q[i].height > q[j].height
	}
	return string(q[i].h[:]) < string(q[j].h[:])
}
func (q lcaQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *lcaQueue) Push(x any)   { *q = append(*q, x.(*lcaNode)) }
func (q *lcaQueue) Pop() any {
	old := *q
	n := old[len(old)-1]
	*q = old[:len(old)-1]
	return n
}
