package transfer

import (
	"context"
	"fmt"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/internal/codec"
	"github.com/stratakv/strata/node"
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
}

// Walk reads every object reachable from heads in src (commits, their
// trees, directory and index objects, contents; a commit-graph run is a
// leaf), level by level, in
// batches (one GetMany per batch), once each, re-hashing and decoding
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
	// A commit's parents are one level below it, so a commit's level is
	// its depth (0 for a head).
	frontier := w.fresh(heads)
	for level := 0; len(frontier) > 0; level++ {
		todo, err := w.todo(ctx, frontier)
		if err != nil {
			return err
		}
		var next []backend.Hash
		for i := 0; i < len(todo); i += w.opt.Batch {
			kids, err := w.read(ctx, todo[i:min(i+w.opt.Batch, len(todo))], level)
			if err != nil {
				return err
			}
			next = append(next, kids...)
		}
		frontier = w.fresh(next)
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

// read reads hs, verifies and decodes each, visits it, and returns the
// children to look at next.
func (w *walker) read(ctx context.Context, hs []backend.Hash, level int) ([]backend.Hash, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	datas, err := backend.GetMany(ctx, w.src, hs)
	if err != nil {
		return nil, fmt.Errorf("read %d objects from the source: %w", len(hs), err)
	}
	var next []backend.Hash
	for i, h := range hs {
		data := datas[i]
		if data == nil {
			return nil, fmt.Errorf("source object %s: %w", h, backend.ErrMissing)
		}
		if err := codec.Verify(h, data); err != nil {
			return nil, fmt.Errorf("source object: %w", err)
		}
		kids, err := w.children(h, data, level)
		if err != nil {
			return nil, fmt.Errorf("source object %s: %w", h, err)
		}
		if err := w.opt.Visit(h, data, kids); err != nil {
			return nil, err
		}
		next = append(next, kids...)
	}
	if w.opt.Batched != nil {
		w.opt.Batched()
	}
	return next, nil
}

// children decodes data and returns the objects it links to that are to
// be walked too.
func (w *walker) children(h backend.Hash, data []byte, level int) ([]backend.Hash, error) {
	tag, _ := codec.TagOf(data)
	switch tag {
	case codec.TagCommit:
		c, err := commit.Decode(data)
		if err != nil {
			return nil, err
		}
		if w.opt.Children != nil {
			return w.opt.Children(h, c, level), nil
		}
		return c.Refs(), nil
	case codec.TagNode:
		n, err := node.Decode(data)
		if err != nil {
			return nil, err
		}
		return n.Refs(), nil
	case codec.TagIndex:
		x, err := node.DecodeIndex(data)
		if err != nil {
			return nil, err
		}
		return x.Refs(), nil
	case codec.TagContents:
		_, err := contents.Decode(data)
		return nil, err
	case codec.TagGraph:
		// A commit-graph run (a graph/ ref names one): derived data
		// that lists commits but keeps none of them alive.
		_, err := commit.DecodeRun(data)
		return nil, err
	}
	return nil, codec.Corruptf(tag, "not a stored object")
}
