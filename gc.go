package strata

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/transfer"
)

// DefaultGCGrace is how long GC waits, after deleting, before its last
// check of the refs (see KV.GC), unless GCGrace says otherwise.
const DefaultGCGrace = 10 * time.Minute

// gcBatch is the number of objects read or deleted per round trip.
const gcBatch = 1024

// GCOption configures KV.GC.
type GCOption func(*gcOptions)

type gcOptions struct {
	noScan   bool
	dryRun   bool
	grace    time.Duration
	progress func(GCProgress)
}

// DryRun makes GC find and count what it would delete, and delete
// nothing (and not wait the grace period).
func DryRun() GCOption { return func(o *gcOptions) { o.dryRun = true } }

// GCNoScan makes GC list the objects and read the reachable ones one by
// one, as it does on a backend without backend.ObjectScanner, instead of
// scanning every object once (for comparison and tests).
func GCNoScan() GCOption { return func(o *gcOptions) { o.noScan = true } }

// GCGrace sets how long GC waits after deleting before its last check of
// the refs (default DefaultGCGrace; 0 does not wait). A concurrent writer
// must land a commit within this time of relying on an object it did not
// store itself (see KV.GC). A negative d is ErrInvalidOption.
func GCGrace(d time.Duration) GCOption {
	return func(o *gcOptions) { o.grace = d }
}

// GCProgressFunc sets a function GC calls, on its own goroutine, after
// each batch of work.
func GCProgressFunc(fn func(GCProgress)) GCOption {
	return func(o *gcOptions) { o.progress = fn }
}

// GCProgress is GC's running state, given to a GCProgressFunc.
type GCProgress struct {
	Phase string // "list", "mark", "delete", "wait" or "check"
	Done  int    // objects listed, marked or deleted so far in this phase
	Total int    // objects to delete ("delete"); 0 if unknown
}

// GCStats reports what KV.GC did.
type GCStats struct {
	Refs       int           // refs read as roots by the mark
	Listed     int           // objects in the store when GC listed them
	Marked     int           // objects reachable from the refs (visited by the marks)
	Deleted    int           // unreachable objects deleted (with DryRun: to delete)
	Freed      int64         // bytes of the deleted objects
	Rescued    int           // unreachable at the mark, but reachable again, or stored again by a writer (backend.ObjectFencer), before their delete: kept
	Restored   int           // deleted, then found reachable by the last check: stored again
	Compacted  bool          // the backend compacted the deleted range (backend.Compacter)
	DryRun     bool          // nothing was deleted
	Scanned    bool          // the objects were read in one scan (backend.ObjectScanner), and the marks followed their links in memory
	Fenced     bool          // the writers were fenced while GC listed and deleted (backend.ObjectFencer; step 0 of KV.GC)
	MarkTime   time.Duration // wall time of the first mark (with Scanned: the scan, which lists, reads, re-hashes and decodes every object, included)
	Elapsed    time.Duration // wall time of the whole GC, the grace period included
	LastCheck  time.Time     // when the last check read the refs
	Quarantine int64         // bytes held aside for the last check (deleted objects' copies)
}

// GC deletes the objects that no ref reaches, and returns what it did.
// Its roots are every ref in the ref store, whatever its namespace:
// branches, tags, remote-tracking refs, remotes' URLs and commit-graph
// runs (a run keeps itself alive, not the commits it lists), all but the
// shallow marks (shallow/HEX), which keep nothing alive: a shallow commit
// no other ref reaches is deleted, its mark left in place.
// The parents of a commit marked shallow are absent by design and are
// not followed. It needs a backend that lists and deletes objects
// (backend.ObjectLister and backend.ObjectDeleter; mem, Pebble and Redis
// do), and returns an error wrapping errors.ErrUnsupported otherwise.
//
// It runs while other processes read and write:
//
//  0. on a backend that fences its writers (backend.ObjectFencer: mem,
//     Pebble, Redis on one server or behind Sentinel, and the HTTP store
//     of a server whose store does; not a Redis Cluster, nor the layered
//     store), begin a fence: until the deletes are over, no object
//     that a writer stores (again) or that Has reports present after
//     this moment is deleted, whatever the refs say, so a commit built
//     on it may land at any moment and reads whole at once
//     (GCStats.Rescued counts them);
//  1. list every stored object (the set S); an object stored later is
//     never deleted by this run. On a backend that can scan its objects
//     (backend.ObjectScanner: mem, Pebble, Redis, and a layered store over
//     one of them) the listing reads every object's bytes in one pass over
//     the key space, re-hashes and decodes each one, and keeps the links
//     (child hashes) of those that verify in memory (GCStats.Scanned);
//  2. mark: read every ref and walk down from each, following the links
//     kept in memory, and reading, re-hashing and decoding every
//     reachable object the scan did not read (stored after it, or
//     without a scan) or found damaged; a missing or corrupt object stops
//     GC with ErrMissing or ErrCorrupt before anything is deleted;
//  3. the candidates are S minus the marked objects; GC reads each (to
//     count the bytes) and keeps a copy in a temporary file; a fence kept
//     in memory (backend.FenceNarrower: mem and Pebble) is narrowed to
//     them, so that from then on it remembers only the candidates that
//     writers store or find, not every object they store;
//  4. before deleting each batch it reads every ref again and marks from
//     each ref value not marked yet, down to marked objects (one
//     ListRefs when nothing moved), dropping every candidate that a ref
//     reaches again;
//  5. after deleting, it compacts the deleted range if the backend can
//     (backend.Compacter: Pebble returns the disk space);
//  6. it waits the grace period (GCGrace), then reads every ref once more
//     and marks from the values not marked yet; a deleted object that a
//     ref now reaches is stored again from its copy (GCStats.Restored).
//
// The marks of steps 4 and 6 follow the links kept in memory too, except
// through the objects this GC deleted: those are read from the store
// (or restored from their copies), so a ref that reaches one is noticed.
// The links of an object never change (its hash names its bytes); what
// the memory cannot tell is whether it is still stored, which only this
// GC (restoring it then) or another one changes.
//
// What a concurrent writer must satisfy: a commit must land (its ref
// move must succeed) within the grace period of the moment it obtained
// each object it refers to, unless it stored that object after GC's
// listing or, with a fence, stored it or found it with Has after the
// fence began. That covers objects it read and, without a fence, objects
// a Has said were present (a transfer skips those), objects whose Put
// was a no-op because they were present (an old value written again),
// and objects it stored while GC was listing. Every writer of this
// package lands within seconds, far inside the default 10 minutes. Such
// a commit that lands between a batch's step 4 ref read and its delete
// (one round trip) reads as damaged (ErrMissing) until the next check
// stores the objects again (the next batch's step 4, a check right after
// the last batch, or step 6). An object stored after step 1 finished is
// never deleted by this run, and a listed one only if no ref reached it
// at step 2 nor at its batch's step 4 (and, with a fence, no writer
// stored it or found it since the fence began).
//
// With DryRun it does steps 1–3 without the copy and deletes nothing.
// Cancelling ctx stops it between batches (objects deleted so far stay
// deleted, and GC skips the wait but still does step 6), and gives the
// release of a fence kept on a server a second (a fence not released
// there lapses by itself). The returned GCStats are valid on error too.
func (kv *KV) GC(ctx context.Context, opts ...GCOption) (*GCStats, error) {
	start := time.Now()
	st := &GCStats{}
	if err := kv.alive(); err != nil {
		return st, err
	}
	o := gcOptions{grace: DefaultGCGrace}
	for _, f := range opts {
		f(&o)
	}
	if o.grace < 0 {
		return st, fmt.Errorf("gc: grace period %v: %w", o.grace, ErrInvalidOption)
	}
	st.DryRun = o.dryRun
	kv.graph.wait() // the runs of this KV's commits so far are stored, and kept
	lister, ok := kv.store.(backend.ObjectLister)
	if !ok {
		return st, fmt.Errorf("gc: the backend cannot list objects: %w", errors.ErrUnsupported)
	}
	deleter, ok := kv.store.(backend.ObjectDeleter)
	if !ok && !o.dryRun {
		return st, fmt.Errorf("gc: the backend cannot delete objects: %w", errors.ErrUnsupported)
	}
	g := &gc{kv: kv, o: o, st: st, marked: map[Hash]bool{}}
	defer func() { st.Elapsed = time.Since(start) }()
	if f, ok := kv.store.(backend.ObjectFencer); ok && !o.dryRun {
		// Before the listing: every object a writer stores from now on,
		// or learns from Has is there, is never deleted by this run.
		switch fence, err := f.FenceObjects(ctx); {
		case err == nil:
			defer func() { releaseFence(ctx, fence) }()
			g.fencer, g.fence = f, fence
			st.Fenced = true
		case !errors.Is(err, errors.ErrUnsupported):
			return st, fmt.Errorf("gc: %w", err)
		}
	}

	var listed []Hash
	markStart := time.Now()
	if sc, ok := kv.store.(backend.ObjectScanner); ok && !o.noScan {
		var err error
		switch listed, err = g.scan(ctx, sc); {
		case err == nil:
			st.Scanned = true
		case errors.Is(err, errors.ErrUnsupported):
			// A wrapper whose store under it cannot scan: list instead.
			g.links, g.commits = nil, nil
		default:
			return st, err
		}
	}
	if !st.Scanned {
		err := lister.ListObjects(ctx, nil, func(h Hash) error {
			listed = append(listed, h)
			if len(listed)%gcBatch == 0 {
				g.report("list", len(listed), 0)
			}
			return nil
		})
		if err != nil {
			return st, fmt.Errorf("gc: list objects: %w", err)
		}
		markStart = time.Now()
	}
	st.Listed = len(listed)

	if _, err := g.mark(ctx, "mark"); err != nil {
		return st, err
	}
	st.MarkTime = time.Since(markStart)

	var cands []Hash
	for _, h := range listed {
		if !g.marked[h] {
			cands = append(cands, h)
		}
	}
	listed = nil
	if o.dryRun {
		for i := 0; i < len(cands); i += gcBatch {
			batch := cands[i:min(i+gcBatch, len(cands))]
			datas, err := backend.GetMany(ctx, kv.store, batch)
			if err != nil {
				return st, fmt.Errorf("gc: read unreachable objects: %w", err)
			}
			for _, d := range datas {
				if d != nil { // one already gone (another GC) is not counted
					st.Deleted++
					st.Freed += int64(len(d))
				}
			}
			g.report("delete", st.Deleted, len(cands))
		}
		return st, nil
	}

	if n, ok := g.fence.(backend.FenceNarrower); ok {
		// From now on the fence need remember only what may be deleted:
		// it then grows with the candidates writers store again, not
		// with every object they store while the deletes run.
		slices.SortFunc(cands, Hash.Compare)
		n.Narrow(func(h Hash) bool {
			_, found := slices.BinarySearchFunc(cands, h, Hash.Compare)
			return found
		})
	}
	q, err := newQuarantine()
	if err != nil {
		return st, err
	}
	defer q.close()
	g.q = q
	delErr := g.delete(ctx, deleter, cands)
	if g.fence != nil {
		// Deleting is over: the fence, which remembers the candidates
		// writers store or find (every object, if it cannot narrow),
		// need not grow through the grace period.
		releaseFence(ctx, g.fence)
	}
	if delErr == nil && st.Deleted > 0 {
		// Check at once too, not only after the grace period: a commit
		// that landed during the last batch on an object it deleted gets
		// it back now.
		if _, err := g.mark(ctx, ""); err != nil {
			delErr = err
		}
	}
	if delErr == nil && st.Deleted > 0 {
		if c, ok := kv.store.(backend.Compacter); ok {
			if err := c.Compact(ctx); err != nil {
				delErr = fmt.Errorf("gc: compact: %w", err)
			} else {
				st.Compacted = true
			}
		}
	}
	if st.Deleted > 0 && delErr == nil && o.grace > 0 {
		g.report("wait", 0, 0)
		t := time.NewTimer(o.grace)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	if st.Deleted > 0 || st.Rescued > 0 {
		// The last check runs even if ctx is done: it may have to put
		// back an object that a commit landed on meanwhile.
		if _, err := g.mark(context.WithoutCancel(ctx), "check"); err != nil {
			return st, errors.Join(delErr, fmt.Errorf("gc: last check: %w", err))
		}
	}
	st.Quarantine = q.size
	if delErr == nil {
		delErr = ctx.Err()
	}
	return st, delErr
}

type gc struct {
	kv     *KV
	o      gcOptions
	st     *GCStats
	marked map[Hash]bool
	// links holds the links of every object the scan read, re-hashed
	// and decoded (nil without a scan); commits, which of them are
	// commits. An object deleted by this GC is removed from links.
	links   map[Hash][]Hash
	commits map[Hash]bool
	q       *quarantine // copies of the deleted objects (nil for a dry run)
	done    int         // objects marked in the current phase
	// fence, on a backend.ObjectFencer that can keep one (nil otherwise
	// and for a dry run): the objects that writers store, or find with
	// Has, while it stands are not deleted.
	fencer backend.ObjectFencer
	fence  backend.Fence
}

func (g *gc) report(phase string, done, total int) {
	if g.o.progress != nil && phase != "" {
		g.o.progress(GCProgress{Phase: phase, Done: done, Total: total})
	}
}

// scan reads every stored object with the backend's ObjectScanner,
// re-hashes and decodes each one (transfer.Links, on the scanner's
// calling goroutine, while the backend reads ahead) and keeps its links
// in g.links, so that the marks follow links in memory instead of
// reading the reachable objects one by one. An object whose bytes do not
// hash to its key or do not decode gets no links: a mark that reaches it
// reads it again from the store (transfer.Walk), which reports the
// damage. It returns the hashes of every object scanned.
func (g *gc) scan(ctx context.Context, sc backend.ObjectScanner) ([]Hash, error) {
	g.links = map[Hash][]Hash{}
	g.commits = map[Hash]bool{}
	var all []Hash
	// The links are appended to large slabs, not one slice per object.
	// A slab with fewer than slabMin free places is replaced (an object
	// with more links gets a slice of its own from append).
	const slabSize, slabMin = 1 << 16, 512
	var slab []Hash
	err := sc.ScanObjects(ctx, func(h Hash, data []byte) error {
		all = append(all, h)
		if len(all)%gcBatch == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			g.report("list", len(all), 0)
		}
		if cap(slab)-len(slab) < slabMin {
			slab = make([]Hash, 0, slabSize)
		}
		c, out, err := transfer.AppendLinks(slab, h, data)
		if err != nil {
			return nil // damaged: not trusted, read again if reached
		}
		var kids []Hash
		if len(out) > len(slab) {
			kids = out[len(slab):len(out):len(out)]
		}
		slab = out
		g.links[h] = kids
		if c != nil {
			g.commits[h] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("gc: scan objects: %w", err)
	}
	return all, nil
}

// mark reads every ref and marks everything reachable from the values
// not marked yet, down to marked objects. It returns how many objects it
// marked; phase names it in progress reports ("" for none). It follows
// the links the scan kept in memory, and reads from the store (with
// transfer.Walk, re-hashing and decoding) every object the scan did not
// read or found damaged, and every object this GC deleted: one that is
// absent but held in the quarantine is stored again first. The parents
// of a shallow commit are not followed.
func (g *gc) mark(ctx context.Context, phase string) (int, error) {
	refs, err := g.kv.store.ListRefs(ctx, "")
	if err != nil {
		return 0, fmt.Errorf("gc: list refs: %w", err)
	}
	if phase == "mark" {
		g.st.Refs = len(refs)
	} else if phase == "check" {
		g.st.LastCheck = time.Now()
	}
	var heads []Hash
	shallow := map[Hash]bool{}
	for _, r := range refs {
		switch {
		case strings.HasPrefix(r.Name, shallowPrefix):
			// A shallow mark is no root: it only says where a history
			// that other refs reach is cut (and a shallow transfer marks
			// commits before it stores them).
			shallow[r.Hash] = true
		case !g.marked[r.Hash]:
			heads = append(heads, r.Hash)
		}
	}
	n := 0
	for len(heads) > 0 {
		unknown := g.markLinks(heads, shallow, &n)
		g.report(phase, n, 0)
		if len(unknown) == 0 {
			break
		}
		heads, err = g.walk(ctx, phase, unknown, shallow, &n)
		if err != nil {
			g.st.Marked += n
			return n, fmt.Errorf("gc: %s: %w", phase, err)
		}
	}
	g.st.Marked += n
	return n, nil
}

// markLinks marks, in memory, everything reachable from hs through the
// links the scan kept, counting in *n, and returns the objects reached
// whose links it does not hold.
func (g *gc) markLinks(hs []Hash, shallow map[Hash]bool, n *int) []Hash {
	var unknown []Hash
	stack := slices.Clone(hs)
	for len(stack) > 0 {
		h := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if g.marked[h] {
			continue
		}
		kids, ok := g.links[h]
		if !ok {
			unknown = append(unknown, h)
			continue
		}
		g.marked[h] = true
		*n++
		if shallow[h] && g.commits[h] && len(kids) > 0 {
			kids = kids[:1] // the tree: the history is cut here by design
		}
		for _, k := range kids {
			if !g.marked[k] {
				stack = append(stack, k)
			}
		}
	}
	return unknown
}

// walk reads and marks everything reachable from hs that is not marked
// and whose links the scan did not keep, with transfer.Walk, counting in
// *n, and returns the objects it reached whose links are kept (to be
// marked in memory).
func (g *gc) walk(ctx context.Context, phase string, hs []Hash, shallow map[Hash]bool, n *int) ([]Hash, error) {
	src := backend.ObjectStore(g.kv.store)
	if g.q != nil && len(g.q.at) > 0 {
		src = &restoring{ObjectStore: g.kv.store, g: g}
	}
	var kept []Hash
	err := transfer.Walk(ctx, src, hs, transfer.WalkOptions{
		Batch:    gcBatch,
		Parallel: runtime.GOMAXPROCS(0),
		Have: func(_ context.Context, hs []Hash) ([]bool, error) {
			out := make([]bool, len(hs))
			for i, h := range hs {
				_, known := g.links[h]
				out[i] = g.marked[h] || known
			}
			return out, nil
		},
		Children: func(h Hash, c *commit.Commit, _ int) []Hash {
			if shallow[h] {
				return []Hash{c.Tree} // the history is cut here by design
			}
			return c.Refs()
		},
		Visit: func(h Hash, _ []byte, kids []Hash) error {
			g.marked[h] = true
			*n++
			for _, k := range kids {
				if _, known := g.links[k]; known && !g.marked[k] {
					kept = append(kept, k)
				}
			}
			return nil
		},
		Batched: func() { g.report(phase, *n, 0) },
	})
	return kept, err
}

// fenceReleaseGrace bounds the release of GC's fence once GC's context is
// done.
const fenceReleaseGrace = time.Second

// releaseFence ends GC's fence (again: nothing). A fence kept on a server
// is released within ctx, or, if ctx is done already (GC was cancelled),
// within fenceReleaseGrace: a cancelled GC returns at once rather than
// after the store's own bound of 30 seconds on a server that does not
// answer, and the fence lapses there by itself.
func releaseFence(ctx context.Context, f backend.Fence) {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), fenceReleaseGrace)
		defer cancel()
	}
	backend.ReleaseFence(ctx, f)
}

// delete reads, copies aside and deletes the candidates in batches,
// marking again from the refs before each batch and keeping every
// candidate marked meanwhile.
func (g *gc) delete(ctx context.Context, d backend.ObjectDeleter, cands []Hash) error {
	for i := 0; i < len(cands); i += gcBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		var batch []Hash
		for _, h := range cands[i:min(i+gcBatch, len(cands))] {
			if g.marked[h] {
				g.st.Rescued++ // reached by a ref again, seen by an earlier check
			} else {
				batch = append(batch, h)
			}
		}
		datas, err := backend.GetMany(ctx, g.kv.store, batch)
		if err != nil {
			return fmt.Errorf("gc: read unreachable objects: %w", err)
		}
		for j, h := range batch {
			if datas[j] == nil {
				delete(g.links, h) // a mark that reaches it must see it is gone
				continue           // gone already (another GC): nothing to keep
			}
			if err := g.q.add(h, datas[j]); err != nil {
				return err
			}
		}
		if _, err := g.mark(ctx, ""); err != nil {
			return err
		}
		var del []Hash
		var size int64
		for j, h := range batch {
			switch {
			case g.marked[h]:
				g.st.Rescued++
			case datas[j] != nil:
				del = append(del, h)
				size += int64(len(datas[j]))
			}
		}
		if len(del) == 0 {
			continue
		}
		// From now on a mark that reaches one reads it from the store
		// (and stores it again from the quarantine).
		for _, h := range del {
			delete(g.links, h)
		}
		n := len(del)
		if g.fence != nil {
			kept, err := g.fencer.DeleteObjectsFenced(ctx, g.fence, del)
			if err != nil {
				return fmt.Errorf("gc: delete %d objects: %w", len(del), err)
			}
			// Stored again (or found by Has) by a writer since the
			// fence began: still there, and the writer may rely on it.
			for _, h := range kept {
				size -= g.q.at[h][1] // the length of its copy
			}
			g.st.Rescued += len(kept)
			n -= len(kept)
		} else if err := d.DeleteObjects(ctx, del); err != nil {
			return fmt.Errorf("gc: delete %d objects: %w", len(del), err)
		}
		g.st.Deleted += n
		g.st.Freed += size
		g.report("delete", g.st.Deleted, len(cands))
	}
	return nil
}

// restoring reads through to the store, and stores again (from the
// quarantine) an object that this GC deleted and a ref now reaches.
// The walk may call GetMany from several goroutines: mu guards the
// restore.
type restoring struct {
	backend.ObjectStore
	g  *gc
	mu sync.Mutex
}

func (r *restoring) GetMany(ctx context.Context, hs []Hash) ([][]byte, error) {
	datas, err := backend.GetMany(ctx, r.ObjectStore, hs)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var back []backend.Object
	for i, h := range hs {
		if datas[i] != nil {
			continue
		}
		b, ok, err := r.g.q.get(h)
		if err != nil {
			return nil, err
		}
		if ok {
			datas[i] = b
			back = append(back, backend.Object{Hash: h, Data: b})
		}
	}
	if len(back) > 0 {
		if err := r.ObjectStore.Put(ctx, back); err != nil {
			return nil, fmt.Errorf("store %d deleted objects again: %w", len(back), err)
		}
		r.g.st.Restored += len(back)
	}
	return datas, nil
}

// quarantine keeps copies of deleted objects in a temporary file until
// GC's last check.
type quarantine struct {
	f    *os.File
	at   map[Hash][2]int64 // offset, length
	size int64
}

func newQuarantine() (*quarantine, error) {
	f, err := os.CreateTemp("", "strata-gc-*")
	if err != nil {
		return nil, fmt.Errorf("gc: %w", err)
	}
	return &quarantine{f: f, at: map[Hash][2]int64{}}, nil
}

func (q *quarantine) add(h Hash, b []byte) error {
	if _, ok := q.at[h]; ok {
		return nil
	}
	if _, err := q.f.Write(b); err != nil {
		return fmt.Errorf("gc: keep a copy of %s: %w", h, err)
	}
	q.at[h] = [2]int64{q.size, int64(len(b))}
	q.size += int64(len(b))
	return nil
}

func (q *quarantine) get(h Hash) ([]byte, bool, error) {
	at, ok := q.at[h]
	if !ok {
		return nil, false, nil
	}
	b := make([]byte, at[1])
	if _, err := q.f.ReadAt(b, at[0]); err != nil && !errors.Is(err, io.EOF) {
		return nil, false, fmt.Errorf("gc: read the copy of %s: %w", h, err)
	}
	return b, true, nil
}

func (q *quarantine) close() {
	q.f.Close()
	os.Remove(q.f.Name())
}
