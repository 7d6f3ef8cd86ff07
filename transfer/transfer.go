// Package transfer copies the objects one store lacks from another: the
// engine under strata's Clone, Fetch, Pull and Push.
//
// A transfer walks the object graph down from the wanted heads (commits →
// trees → directory and index objects → contents; every object's children
// come from its decoder's Refs), asks the destination which hashes it
// already has in batches, prunes every object it has (strata's invariant:
// a store that holds an object holds everything below it), fetches the
// missing ones from the source in batches, re-hashes and decodes each, and
// writes them to the destination in batches, children before parents. So
// an interrupted transfer leaves the destination valid (every object it
// holds has all its children), and a rerun sends only what is still
// missing. The package moves no ref: the caller moves refs after Objects
// returns, by compare-and-swap.
package transfer

import (
	"context"
	"fmt"
	"time"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/internal/codec"
	"github.com/stratakv/strata/node"
)

// DefaultBatch is the number of hashes asked or objects written per round
// trip unless Options.Batch says otherwise.
const DefaultBatch = 512

// maxBatchBytes bounds the bytes of one Put batch.
const maxBatchBytes = 4 << 20

// Stats counts a transfer's work.
type Stats struct {
	Objects    int           // objects written to the destination
	Bytes      int64         // bytes of those objects
	RoundTrips int           // calls to the source's and the destination's stores
	SrcTrips   int           // of those, calls to the source's store
	DstTrips   int           // of those, calls to the destination's store
	Batches    int           // Put batches written to the destination
	Elapsed    time.Duration // wall time
	// Shallow lists the commits whose parents were not sent, because of
	// Options.Depth (the cut) or Options.Stop (the source's own cut),
	// sorted by discovery.
	Shallow []backend.Hash
}

// Options configures Objects. The zero value sends everything missing.
type Options struct {
	// Depth, if positive, sends only the last Depth commits of each head's
	// history (counted along every parent); the commits at the cut are
	// reported in Stats.Shallow.
	Depth int
	// Stop lists commits whose parents are not to be followed (the
	// source's own shallow cut: their parents are not in the source).
	Stop map[backend.Hash]bool
	// Batch is the number of hashes per Has or GetMany call and of objects
	// per Put call (default DefaultBatch).
	Batch int
	// Progress, if set, is called with the running statistics after each
	// round trip. It runs on the transfer's goroutine.
	Progress func(Stats)
}

// obj is one object the destination lacks.
type obj struct {
	data     []byte
	children []backend.Hash // those the destination lacks or may lack
}

// Objects sends to dst every object reachable from heads that dst lacks,
// reading them from src. Objects that src lacks are damage: an error
// wrapping backend.ErrMissing names the first; bytes that do not hash to
// their key or do not decode wrap backend.ErrCorrupt, and nothing is
// written then. Cancelling ctx stops it between batches; dst then holds a
// subset of the objects closed under children. The returned Stats are
// valid on error too.
func Objects(ctx context.Context, src, dst backend.ObjectStore, heads []backend.Hash, opt Options) (Stats, error) {
	start := time.Now()
	t := &xfer{src: src, dst: dst, opt: opt, found: map[backend.Hash]*obj{}, seen: map[backend.Hash]bool{}}
	if t.opt.Batch <= 0 {
		t.opt.Batch = DefaultBatch
	}
	err := t.run(ctx, heads)
	t.stats.Elapsed = time.Since(start)
	return t.stats, err
}

type xfer struct {
	src, dst backend.ObjectStore
	opt      Options
	stats    Stats
	found    map[backend.Hash]*obj // missing at dst, fetched from src
	order    []backend.Hash        // discovery order of found
	seen     map[backend.Hash]bool // asked about already
}

func (t *xfer) progress() {
	if t.opt.Progress != nil {
		t.opt.Progress(t.stats)
	}
}

func (t *xfer) run(ctx context.Context, heads []backend.Hash) error {
	// Walk level by level: a commit's parents are one level below it, so
	// a commit's level is its depth (0 for a head).
	frontier := t.fresh(heads)
	for level := 0; len(frontier) > 0; level++ {
		missing, err := t.missing(ctx, frontier)
		if err != nil {
			return err
		}
		var next []backend.Hash
		for i := 0; i < len(missing); i += t.opt.Batch {
			batch := missing[i:min(i+t.opt.Batch, len(missing))]
			kids, err := t.fetch(ctx, batch, level)
			if err != nil {
				return err
			}
			next = append(next, kids...)
		}
		frontier = t.fresh(next)
	}
	return t.write(ctx)
}

// fresh returns the hashes of hs not asked about yet, once each.
func (t *xfer) fresh(hs []backend.Hash) []backend.Hash {
	var out []backend.Hash
	for _, h := range hs {
		if !t.seen[h] {
			t.seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// missing returns the hashes of hs that dst lacks, asking in batches.
func (t *xfer) missing(ctx context.Context, hs []backend.Hash) ([]backend.Hash, error) {
	var out []backend.Hash
	for i := 0; i < len(hs); i += t.opt.Batch {
		batch := hs[i:min(i+t.opt.Batch, len(hs))]
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		has, err := t.dst.Has(ctx, batch)
		t.stats.RoundTrips++
		t.stats.DstTrips++
		if err != nil {
			return nil, fmt.Errorf("ask destination for %d objects: %w", len(batch), err)
		}
		for j, ok := range has {
			if !ok {
				out = append(out, batch[j])
			}
		}
		t.progress()
	}
	return out, nil
}

// fetch reads hs from src, verifies and decodes each, records it, and
// returns the children to look at next.
func (t *xfer) fetch(ctx context.Context, hs []backend.Hash, level int) ([]backend.Hash, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	datas, err := backend.GetMany(ctx, t.src, hs)
	t.stats.RoundTrips++
	t.stats.SrcTrips++
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
		kids, err := t.children(h, data, level)
		if err != nil {
			return nil, fmt.Errorf("source object %s: %w", h, err)
		}
		t.found[h] = &obj{data: data, children: kids}
		t.order = append(t.order, h)
		next = append(next, kids...)
	}
	t.progress()
	return next, nil
}

// children decodes data and returns the objects it links to that are to
// be sent too.
func (t *xfer) children(h backend.Hash, data []byte, level int) ([]backend.Hash, error) {
	tag, _ := codec.TagOf(data)
	switch tag {
	case codec.TagCommit:
		c, err := commit.Decode(data)
		if err != nil {
			return nil, err
		}
		if t.opt.Stop[h] {
			// The source's own cut: the destination must mark it too,
			// or the parents it lacks would read as damage.
			t.stats.Shallow = append(t.stats.Shallow, h)
			return []backend.Hash{c.Tree}, nil
		}
		if t.opt.Depth > 0 && level+1 >= t.opt.Depth && len(c.Parents) > 0 {
			t.stats.Shallow = append(t.stats.Shallow, h)
			return []backend.Hash{c.Tree}, nil
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
	}
	return nil, codec.Corruptf(tag, "not an object a transfer sends")
}

// write stores the found objects in dst, children before parents, in
// batches.
func (t *xfer) write(ctx context.Context) error {
	var batch []backend.Object
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		err := t.dst.Put(ctx, batch)
		t.stats.RoundTrips++
		t.stats.DstTrips++
		if err != nil {
			return fmt.Errorf("write %d objects to the destination: %w", len(batch), err)
		}
		t.stats.Batches++
		t.stats.Objects += len(batch)
		t.stats.Bytes += int64(size)
		batch, size = batch[:0:0], 0
		t.progress()
		return nil
	}
	// Iterative post-order over the found objects: an object is written
	// only after every child it has in found.
	done := make(map[backend.Hash]bool, len(t.found))
	type frame struct {
		h backend.Hash
		i int
	}
	for _, root := range t.order {
		if done[root] {
			continue
		}
		stack := []frame{{root, 0}}
		done[root] = true
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			o := t.found[f.h]
			if f.i < len(o.children) {
				c := o.children[f.i]
				f.i++
				if _, ok := t.found[c]; ok && !done[c] {
					done[c] = true
					stack = append(stack, frame{c, 0})
				}
				continue
			}
			stack = stack[:len(stack)-1]
			batch = append(batch, backend.Object{Hash: f.h, Data: o.data})
			size += len(o.data)
			if len(batch) >= t.opt.Batch || size >= maxBatchBytes {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}
