package strata

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/stratakv/strata/commit"
)

// graphKeeper writes the commit-graph runs of the commits a KV makes (see
// KV.keepGraph) on a goroutine of its own, so that neither a commit's
// caller nor a group's committer waits for them. Writing a run costs a
// read of its ref, reads of its ancestors (usually cached), the run's
// encoding and one more atomic write: a round trip or two on Redis and a
// synced write on Pebble, once every commit.RunLen commits, which a
// writer paid before its commit returned and the writers of a group all
// waited for.
//
// The goroutine starts when a run is queued and no goroutine is at work,
// and ends when the queue is empty: an idle KV has none. Close waits for
// the queue to drain (see close), so every run queued before Close is
// written, or has failed, before the backend closes. Runs are derived
// data: a failed write fails no commit (a search reads commits where a run
// is missing, and KV.WriteCommitGraph fills gaps); it is reported to the
// KV's Logger. Once Close has begun, a failed write drops the runs queued
// behind it (logged with their number), so that a backend gone away holds
// Close for one failed write (at most runTimeout), not one per run. (A
// run that would reach past a shallow clone's cut is not written, and
// that is no failure: see writeRun.)
type graphKeeper struct {
	mu      sync.Mutex
	idle    sync.Cond // signalled when the goroutine ends; L is &mu (see newKV)
	pending []Hash    // commits whose runs are to be written, in order
	running bool      // a goroutine is writing runs
	closed  bool      // Close has begun: nothing more is queued
}

// maxPendingRuns bounds the queue of runs to write: a writer that finds it
// full writes its run itself, so that runs never pile up behind a slow
// backend (a queue this long means the backend takes longer to write a
// run than commit.RunLen commits do to land).
const maxPendingRuns = 16

// keep writes the run of commit h: on the keeper's goroutine, or, if the
// queue is full, on the caller's within ctx (the commit's). Once Close
// has begun it writes nothing.
func (g *graphKeeper) keep(ctx context.Context, kv *KV, h Hash) {
	g.mu.Lock()
	switch {
	case g.closed:
		g.mu.Unlock()
		return
	case len(g.pending) >= maxPendingRuns:
		g.mu.Unlock()
		_ = kv.writeRun(ctx, h) // reported by writeRun
		return
	}
	g.pending = append(g.pending, h)
	start := !g.running
	g.running = true
	g.mu.Unlock()
	if start {
		go g.run(kv)
	}
}

// run writes the queued runs in order until the queue is empty.
func (g *graphKeeper) run(kv *KV) {
	for {
		g.mu.Lock()
		if len(g.pending) == 0 {
			g.running = false
			g.pending = nil
			g.idle.Broadcast()
			g.mu.Unlock()
			return
		}
		h := g.pending[0]
		g.pending = g.pending[1:]
		g.mu.Unlock()
		if err := kv.writeRun(context.Background(), h); err != nil {
			g.mu.Lock()
			dropped := 0
			if g.closed {
				// Close is waiting, and the backend may be failing or
				// gone: the runs queued behind are dropped rather than
				// each made to fail in turn, which would hold Close
				// for as long.
				dropped = len(g.pending)
				g.pending = g.pending[:0]
			}
			g.mu.Unlock()
			if dropped > 0 {
				kv.opts.logger.Warn("commit-graph runs not written: the KV is closing and the last write failed",
					"runs", dropped)
			}
		}
	}
}

// wait returns once every run queued so far is written (or has failed).
func (g *graphKeeper) wait() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.running {
		g.idle.Wait()
	}
}

// close stops the queueing of runs and waits for those queued to be
// written.
func (g *graphKeeper) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.wait()
}

// runTimeout bounds the write of one run, so that a backend that hangs
// cannot hold Close for ever.
const runTimeout = time.Minute

// writeRun writes the commit-graph run of commit h (whose height is a
// multiple of commit.RunLen) within ctx and runTimeout, and returns the
// error, which it reports to the KV's Logger (see Logger and graphKeeper):
// nobody waits for a run. A run that would reach past a shallow clone's
// cut is not written, and writeRun returns nil for it. A panic, which
// only a bug could cause, drops the run (reported with its stack, and
// returned as an error) rather than the process.
func (kv *KV) writeRun(ctx context.Context, h Hash) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("commit-graph run of %s: panic: %v", h.Short(), r)
			kv.opts.logger.Error("commit-graph run not written: panic",
				"commit", h.String(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		} else if err != nil {
			kv.opts.logger.Warn("commit-graph run not written", "commit", h.String(), "error", err)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	_, err = commit.WriteRun(ctx, kv.store, kv.nodes, h, nil)
	if errors.Is(err, ErrMissing) {
		// Likely a run that would reach past a shallow clone's cut, whose
		// parents are absent by design: a commit does not list the cuts
		// (see keepGraph), so they are read now, when it matters. Such a
		// run is not written, and that is no failure.
		if shallow, serr := kv.shallowSet(ctx); serr == nil && len(shallow) > 0 {
			_, err = commit.WriteRun(ctx, kv.store, kv.nodes, h, shallow)
		}
	}
	return err
}
