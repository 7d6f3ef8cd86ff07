package transfer

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/internal/codec"
)

// WalkOptions configures Walk. Only Visit is required.
type WalkOptions struct {
	// Batch is the number of hashes per Have and GetMany call (default
	// DefaultBatch).
	Batch int
	// Have, if set, is asked in batches which of the objects about to be
	// read the caller has already (done, or known complete): those and
	// everything below them are skipped. The result has one entry per
	// hash. Without it every reachable object is visited.
	Have func(ctx context.Context, hs []backend.Hash) ([]bool, error)
	// Children, if set, chooses which links of commit c (hash h, at level:
	// 0 for a head, one more per parent step) to follow; by default all
	// of them (its tree and its parents). A shallow cut returns only the
	// tree.
	Children func(h backend.Hash, c *commit.Commit, level int) []backend.Hash
	// Visit is called once per object read, after its bytes were
	// re-hashed and decoded, with the links it will follow. data is the
	// caller's to keep. An error stops the walk and is returned.
	Visit func(h backend.Hash, data []byte, kids []backend.Hash) error
	// Batched, if set, is called after each batch read.
	Batched func()
	// Parallel, if more than 1, splits every large batch among that many
	// goroutines, each reading (GetMany) and decoding its part; src must
	// then be safe for concurrent use. Visit still runs on Walk's
	// goroutine.
	Parallel int
}

// Walk reads every object reachable from heads in src (commits, their
// trees, directory and index objects, contents; a commit-graph run is a
// leaf), once each: first the commits, level by level (one read per
// level), then everything else, level by level in full batches (one
// GetMany per batch); re-hashing and decoding
// every one, and calls opt.Visit for each. It is the one walk over the
// object graph: transfers (Objects) and garbage collection use it.
// An object src lacks stops it with an error wrapping backend.ErrMissing
// naming the object; bytes that do not hash to their key or do not decode
// stop it with one wrapping backend.ErrCorrupt. Cancelling ctx stops it
// between batches.
func Walk(ctx context.Context, src backend.ObjectStore, heads []backend.Hash, opt WalkOptions) error {
	w := &walker{src: src, opt: opt, seen: map[backend.Hash]bool{}}
	if w.opt.Batch <= 0 {
		w.opt.Batch = DefaultBatch
	}
	// First the history, level by level: a commit's parents are one level
	// below it, so a commit's level is its depth (0 for a head). A
	// linear history is one read per commit, so the trees wait: the links
	// that are not parents are collected and walked afterwards, level by
	// level in full batches.
	frontier := w.fresh(heads)
	var rest []backend.Hash
	for level := 0; len(frontier) > 0; level++ {
		var next []backend.Hash
		err := w.level(ctx, frontier, level, func(c *commit.Commit, kids []backend.Hash) {
			for _, k := range kids {
				if c != nil && k != c.Tree {
					next = append(next, k) // a parent
				} else {
					rest = append(rest, k)
				}
			}
		})
		if err != nil {
			return err
		}
		frontier = w.fresh(next)
	}
	for frontier = w.fresh(rest); len(frontier) > 0; {
		var next []backend.Hash
		err := w.level(ctx, frontier, 0, func(_ *commit.Commit, kids []backend.Hash) {
			next = append(next, kids...)
		})
		if err != nil {
			return err
		}
		frontier = w.fresh(next)
	}
	return nil
}

// level reads the objects of hs that Have does not report, in batches,
// and hands each one's decoded commit (nil for another object) and the
// links to follow to add.
func (w *walker) level(ctx context.Context, hs []backend.Hash, level int, add func(*commit.Commit, []backend.Hash)) error {
	todo, err := w.todo(ctx, hs)
	if err != nil {
		return err
	}
	for i := 0; i < len(todo); i += w.opt.Batch {
		if err := w.read(ctx, todo[i:min(i+w.opt.Batch, len(todo))], level, add); err != nil {
			return err
		}
	}
	return nil
}

type walker struct {
	src  backend.ObjectStore
	opt  WalkOptions
	seen map[backend.Hash]bool // queued already
}

// fresh returns the hashes of hs not queued yet, once each.
func (w *walker) fresh(hs []backend.Hash) []backend.Hash {
	var out []backend.Hash
	for _, h := range hs {
		if !w.seen[h] {
			w.seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// todo returns the hashes of hs that Have does not report, asking in
// batches.
func (w *walker) todo(ctx context.Context, hs []backend.Hash) ([]backend.Hash, error) {
	if w.opt.Have == nil {
		return hs, nil
	}
	var out []backend.Hash
	for i := 0; i < len(hs); i += w.opt.Batch {
		batch := hs[i:min(i+w.opt.Batch, len(hs))]
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		has, err := w.opt.Have(ctx, batch)
		if err != nil {
			return nil, err
		}
		for j, ok := range has {
			if !ok {
				out = append(out, batch[j])
			}
		}
		if w.opt.Batched != nil {
			w.opt.Batched()
		}
	}
	return out, nil
}

// read reads hs, verifies and decodes each, visits it, and hands it to
// add with the links to follow. The batch is read in hash order (a
// sorted batch reads an ordered store's key space in one pass), split
// among opt.Parallel goroutines when it is large; Visit and add run on
// the caller's goroutine, in hash order.
func (w *walker) read(ctx context.Context, hs []backend.Hash, level int, add func(*commit.Commit, []backend.Hash)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	hs = slices.Clone(hs)
	slices.SortFunc(hs, backend.Hash.Compare)
	type decoded struct {
		data []byte
		c    *commit.Commit
		kids []backend.Hash
	}
	out := make([]decoded, len(hs))
	part := func(lo, hi int) error {
		datas, err := backend.GetMany(ctx, w.src, hs[lo:hi])
		if err != nil {
			return fmt.Errorf("read %d objects from the source: %w", hi-lo, err)
		}
		for i, data := range datas {
			h := hs[lo+i]
			if data == nil {
				return fmt.Errorf("source object %s: %w", h, backend.ErrMissing)
			}
			if err := codec.Verify(h, data); err != nil {
				return fmt.Errorf("source object: %w", err)
			}
			c, kids, err := w.children(h, data, level)
			if err != nil {
				return fmt.Errorf("source object %s: %w", h, err)
			}
			out[lo+i] = decoded{data, c, kids}
		}
		return nil
	}
	if p := w.opt.Parallel; p > 1 && len(hs) >= 64*p {
		errs := make([]error, p)
		var wg sync.WaitGroup
		for j := range p {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[j] = part(j*len(hs)/p, (j+1)*len(hs)/p)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
	} else if err := part(0, len(hs)); err != nil {
		return err
	}
	for i, h := range hs {
		if err := w.opt.Visit(h, out[i].data, out[i].kids); err != nil {
			return err
		}
		add(out[i].c, out[i].kids)
	}
	if w.opt.Batched != nil {
		w.opt.Batched()
	}
	return nil
}

// children decodes data and returns the objects it links to that are to
// be walked too, and the decoded commit if it is one.
func (w *walker) children(h backend.Hash, data []byte, level int) (*commit.Commit, []backend.Hash, error) {
	c, kids, err := links(data)
	if err != nil || c == nil || w.opt.Children == nil {
		return c, kids, err
	}
	return c, w.opt.Children(h, c, level), nil
}
