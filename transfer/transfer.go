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
// missing. The package moves no ref: the caller marks the cut commits of
// a shallow transfer before the first object is written (Options.Cut),
// and moves other refs after Objects returns, by compare-and-swap.
package transfer

import (
	"context"
	"fmt"
	"time"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
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
	// Cut, if set, is called once, after the walk and before the first
	// object is written, with the commits whose parents will not be sent
	// (cut: what Stats.Shallow lists) and those whose parents will
	// (whole), if there are any. The caller records the cut ones as
	// shallow in the destination there, and drops such a record of a
	// whole one (a commit a shallow transfer marked, then not stored, or
	// that GC deleted): a cut commit stored before its mark would read as
	// damaged (its parents absent) and, being present, would be pruned by
	// every later transfer; a whole one stored under a mark would hide
	// its parents. An error stops the transfer with nothing written.
	Cut func(ctx context.Context, cut, whole []backend.Hash) error
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
	t := &xfer{src: src, dst: dst, opt: opt, found: map[backend.Hash]*obj{}}
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
	whole    []backend.Hash        // commits sent with their parents
}

func (t *xfer) progress() {
	if t.opt.Progress != nil {
		t.opt.Progress(t.stats)
	}
}

func (t *xfer) run(ctx context.Context, heads []backend.Hash) error {
	src := countedSrc{t.src, &t.stats}
	err := Walk(ctx, src, heads, WalkOptions{
		Batch: t.opt.Batch,
		Have:  t.missingMask,
		Children: func(h backend.Hash, c *commit.Commit, level int) []backend.Hash {
			return t.cut(h, c, level)
		},
		Visit: func(h backend.Hash, data []byte, kids []backend.Hash) error {
			t.found[h] = &obj{data: data, children: kids}
			t.order = append(t.order, h)
			return nil
		},
		Batched: t.progress,
	})
	if err != nil {
		return err
	}
	if t.opt.Cut != nil && len(t.stats.Shallow)+len(t.whole) > 0 {
		if err := t.opt.Cut(ctx, t.stats.Shallow, t.whole); err != nil {
			return err
		}
	}
	return t.write(ctx)
}

// countedSrc counts the source's round trips in stats.
type countedSrc struct {
	backend.ObjectStore
	stats *Stats
}

func (c countedSrc) GetMany(ctx context.Context, hs []backend.Hash) ([][]byte, error) {
	c.stats.RoundTrips++
	c.stats.SrcTrips++
	return backend.GetMany(ctx, c.ObjectStore, hs)
}

// cut returns the children of commit c (hash h, at level) to follow:
// only its tree at the source's own cut (Options.Stop) and at the depth
// limit (Options.Depth), recording it in Stats.Shallow; all its links
// otherwise.
func (t *xfer) cut(h backend.Hash, c *commit.Commit, level int) []backend.Hash {
	if t.opt.Stop[h] {
		// The source's own cut: the destination must mark it too,
		// or the parents it lacks would read as damage.
		t.stats.Shallow = append(t.stats.Shallow, h)
		return []backend.Hash{c.Tree}
	}
	if t.opt.Depth > 0 && level+1 >= t.opt.Depth && len(c.Parents) > 0 {
		t.stats.Shallow = append(t.stats.Shallow, h)
		return []backend.Hash{c.Tree}
	}
	if len(c.Parents) > 0 {
		t.whole = append(t.whole, h)
	}
	return c.Refs()
}

// missingMask asks the destination which of hs it has.
func (t *xfer) missingMask(ctx context.Context, hs []backend.Hash) ([]bool, error) {
	has, err := t.dst.Has(ctx, hs)
	t.stats.RoundTrips++
	t.stats.DstTrips++
	if err != nil {
		return nil, fmt.Errorf("ask destination for %d objects: %w", len(hs), err)
	}
	return has, nil
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
