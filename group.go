package strata

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// Group commit. Writes to one branch from one KV (Set, SetValue, Delete,
// Add, Update) queue behind one committer instead of racing each other for
// the head. The first writer to find the queue idle becomes the committer:
// it commits its own change, then hands the queue to the first writer that
// arrived meanwhile, which commits every change waiting at that moment as
// one group: one commit per change, in arrival order, each parented on the
// one before (so the history is the chain serial writes would make), all
// stored and the head moved from the old head to the last of them in one
// atomic write (one backend.PutAndSwapRef). A lone writer finds the queue
// idle and commits on its own goroutine, as it would without a queue.
// Before a committer (either kind) takes the waiting writes, it gives the
// writers of the last group, just woken, a moment to queue again (see
// gather): writers that write one after another then form one group per
// atomic write, not two groups in turn.
//
// A change that fails on its own (its error, or nothing to change) is left
// out of the group and decides only its caller. A group that loses the
// compare-and-swap to a writer elsewhere is made again on the new head,
// each change merged or re-applied as a single write's would be (see
// ownChange). If the group's write fails otherwise, its outcome is
// unknown, and every caller whose commit was in the group gets the same
// error wrapping errCommitFailed. No caller sees success unless its commit
// landed. A waiter whose context is done before a committer takes it into
// a group leaves the queue at once with an error wrapping its context's,
// nothing written for it (one handed the queue with its context done hands
// it on); once in a group, it waits for the group's outcome, which may
// land. See docs/ARCHITECTURE.md, "Group commit".

// writeQueue is the queue of writes to one branch of one KV.
type writeQueue struct {
	mu      sync.Mutex
	busy    bool          // a committer is at work
	waiting []*groupWrite // in arrival order

	// The last group committed: how many writes it had, how long it took
	// and when it ended (see gather).
	last     int
	lastTook time.Duration
	lastEnd  time.Time
}

// maxGather bounds the moment gather waits (a variable so that tests can
// lengthen it).
var maxGather = time.Millisecond

// groupWrite is one caller's write in a queue: its change, and once done,
// its result.
type groupWrite struct {
	ctx   context.Context // the caller's, for its change
	merge bool
	apply func(context.Context, *tree.Builder) error
	co    commitOptions
	own   ownChange      // the change as last made, kept across attempts (see commitGroup)
	self  [1]*groupWrite // a group of this write alone, without allocating

	done chan struct{} // closed when hash and err are set, or lead is
	lead bool          // the caller is to commit the next group
	next *groupWrite   // the write its caller wakes once woken with its result (see commit)

	hash     Hash
	err      error
	panicked any            // what the change's function panicked with, to re-panic in its caller
	inGroup  bool           // in the last attempt, hash depended on the group's write
	cm       *commit.Commit // in the last attempt, the commit made, if any
	size     int            // and the size of its encoding

	// A Set's path and value, for setPath; setPath is the method value
	// w.setPathTo, made once per pooled write (see groupWrites) so that a
	// Set allocates no closure.
	path    string
	value   []byte
	setPath func(context.Context, *tree.Builder) error
}

// setPathTo is a Set's change: its value at its path.
func (w *groupWrite) setPathTo(ctx context.Context, t *tree.Builder) error {
	return t.SetPath(ctx, w.path, w.value)
}

// newGroupWrite returns a write of a change, from a pool of them (see
// free).
func newGroupWrite(ctx context.Context, merge bool, apply func(context.Context, *tree.Builder) error, opts []CommitOption) *groupWrite {
	w := groupWrites.Get().(*groupWrite)
	w.ctx, w.merge, w.apply = ctx, merge, apply
	w.co.set(opts)
	w.own = ownChange{merge: merge, basedOn: w.co.basedOn}
	return w
}

// groupWrites holds the writes free gave back, zeroed but for setPath.
var groupWrites = sync.Pool{New: func() any {
	w := new(groupWrite)
	w.setPath = w.setPathTo
	return w
}}

// free gives w (and its change's pooled Builder) back for reuse, once its
// caller has its result from writeQueue.do: nothing refers to w then. A
// committer touches the writes of its group last when it closes the
// second one's done (commit), and each caller woken touches the next
// write last when it closes that one's done (do); a write that left the
// queue unwritten was removed from it first. A caller whose write
// panicked re-panics before it gets here, and its write goes to the
// garbage collector.
func (w *groupWrite) free() {
	w.own.release()
	*w = groupWrite{setPath: w.setPath}
	groupWrites.Put(w)
}

// queue returns the write queue of branch name.
func (kv *KV) queue(name string) *writeQueue {
	if q, ok := kv.queues.Load(name); ok {
		return q.(*writeQueue)
	}
	q, _ := kv.queues.LoadOrStore(name, &writeQueue{})
	return q.(*writeQueue)
}

// do runs w: as the committer if the queue is idle, else by waiting for a
// committer to commit it (or to hand it the queue). It returns w's commit,
// or the head if w changed nothing, or w's error.
func (q *writeQueue) do(ctx context.Context, b *Branch, w *groupWrite) (Hash, error) {
	q.mu.Lock()
	if q.busy {
		w.done = make(chan struct{})
		q.waiting = append(q.waiting, w)
		q.mu.Unlock()
		select {
		case <-w.done:
		case <-ctx.Done():
			q.mu.Lock()
			if i := slices.Index(q.waiting, w); i >= 0 {
				// No committer has taken w yet: it leaves, unwritten.
				q.waiting = slices.Delete(q.waiting, i, i+1)
				q.mu.Unlock()
				return Hash{}, fmt.Errorf("branch %q: %w", b.name, ctx.Err())
			}
			q.mu.Unlock()
			// A committer took w into its group, whose outcome w must
			// wait for, or handed w the queue: done is closed, or soon.
			<-w.done
		}
		if !w.lead {
			if w.next != nil {
				close(w.next.done)
			}
			return w.result()
		}
		q.mu.Lock()
		if err := ctx.Err(); err != nil {
			// Handed the queue with nothing to commit of its own: w
			// passes it on and leaves, unwritten.
			q.handOff()
			q.mu.Unlock()
			return Hash{}, fmt.Errorf("branch %q: %w", b.name, err)
		}
	}
	q.busy = true
	q.gather(ctx)
	w.self[0] = w
	group := append(w.self[:1], q.waiting...)
	q.waiting = nil
	q.mu.Unlock()
	q.commit(ctx, b, group)
	return w.result()
}

// gather gives the writers of the last group, woken with their results, a
// moment to queue again before a new committer takes the waiting writes,
// so that writers that write one after another form one group per atomic
// write instead of two groups in turn (one being written while the other
// fills up). Until as many writes wait as the last group had, it yields
// the processor, until a tenth of the time the last group took to commit,
// and at most maxGather, has passed since that group ended: a writer that
// does not come back costs at most that, a writer that comes after the
// moment has passed or after a group of one nothing, and one whose
// context is done stops waiting. q.mu is held; gather releases it while it
// yields.
func (q *writeQueue) gather(ctx context.Context) {
	if q.last <= 1 {
		return
	}
	deadline := q.lastEnd.Add(min(q.lastTook/10, maxGather))
	for len(q.waiting)+1 < q.last && time.Now().Before(deadline) && ctx.Err() == nil {
		q.mu.Unlock()
		runtime.Gosched()
		q.mu.Lock()
	}
}

// errPanicked is w.err of a write whose change's function panicked; its
// caller re-panics with the value instead of returning it.
var errPanicked = errors.New("the change's function panicked")

// result returns w's result to its caller, on the caller's goroutine: a
// panic of the change's function goes on up the stack of the caller whose
// function it was, whichever writer's goroutine ran it.
func (w *groupWrite) result() (Hash, error) {
	if w.panicked != nil {
		panic(w.panicked)
	}
	return w.hash, w.err
}

// make makes w's change on tree cur. A panic in the change's function is
// kept in w.panicked (see result) and makes the change fail on its own, so
// it never unwinds the goroutine that commits the group.
func (w *groupWrite) make(kv *KV, st *node.Store, cur Hash) (objs []backend.Object, root Hash, err error) {
	defer func() {
		if r := recover(); r != nil {
			w.panicked, err = r, errPanicked
		}
	}()
	return w.own.make(w.ctx, kv, st, cur, w.apply)
}

// commit commits group (whose first write is the committer's own), wakes
// the others with their results, notes the group's size and time (see
// gather), and hands the queue to the first writer waiting, if any. If a
// change's function panics, the others are woken with an error and the
// panic goes on up the committer's stack. It wakes only the second write's
// caller, and each caller woken wakes the next one's (groupWrite.next), so
// the committer goes on at once (to its caller's next write) instead of
// waking them all first, and the callers come back one after another.
func (q *writeQueue) commit(ctx context.Context, b *Branch, group []*groupWrite) {
	finished, took := false, time.Duration(0)
	defer func() {
		if !finished {
			for _, w := range group[1:] {
				w.hash, w.err = Hash{}, fmt.Errorf("branch %q: %w: a write in the same group panicked", b.name, errCommitFailed)
			}
		}
		for i := 1; i+1 < len(group); i++ {
			group[i].next = group[i+1]
		}
		if len(group) > 1 {
			close(group[1].done)
		}
		var end time.Time
		if len(group) > 1 { // after a group of one, gather does not wait
			end = time.Now()
		}
		q.mu.Lock()
		q.last, q.lastTook, q.lastEnd = len(group), took, end
		q.handOff()
		q.mu.Unlock()
	}()
	var start time.Time
	if len(group) > 1 { // a group of one is not timed (see gather)
		start = time.Now()
	}
	b.commitGroup(ctx, group)
	finished = true
	if len(group) > 1 {
		took = time.Since(start)
	}
}

// handOff hands the queue to the first writer waiting, if any, or leaves
// it idle. q.mu is held.
func (q *writeQueue) handOff() {
	if len(q.waiting) == 0 {
		q.busy = false
		return
	}
	next := q.waiting[0]
	q.waiting = q.waiting[1:]
	next.lead = true
	close(next.done)
}

// commitGroup sets the result of every write of ws: it commits their
// changes in order as one chain moved onto the branch in one atomic write,
// retrying (see retry) when another writer moves the branch first. Like a
// single write, the first attempt starts from the head this KV last wrote
// to the branch, without reading it; only a group that lands from that
// guess decides anything, except a failed write (outcome unknown), which
// decides the writes in the group.
func (b *Branch) commitGroup(ctx context.Context, ws []*groupWrite) {
	kv := b.kv
	st, ov := kv.nodes, (*unstored)(nil)
	if len(ws) > 1 {
		// The write is the others' too: the committer's cancellation (or
		// deadline) does not cut it short; its own change is left out if
		// its context is done before the change is made.
		ctx = context.WithoutCancel(ctx)
		// Each change after the first starts from the tree the one before
		// made, not stored yet.
		ov = &unstored{ObjectStore: kv.store, objs: make(map[Hash]unstoredObject)}
		st = kv.nodes.Over(ov)
	}
	open := ws
	guess, guessed := kv.lastHead(b.name)
	if guessed {
		open, _ = b.groupAttempt(ctx, st, ov, guess, true, open)
		if len(open) == 0 {
			return
		}
	}
	_, err := kv.retry(ctx, fmt.Sprintf("branch %q", b.name), func() (Hash, error) {
		head, err := kv.branches.Head(ctx, b.name)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Hash{}, err
		}
		if guessed {
			// The changes left undecided were made on the guess. If it
			// is the head (they changed nothing, say), they stand as
			// made; if not, they are made again from scratch on the head.
			guessed = false
			if head != guess {
				for _, w := range open {
					w.own.release()
					w.own = ownChange{merge: w.merge, basedOn: w.co.basedOn}
				}
			}
		}
		open, err = b.groupAttempt(ctx, st, ov, head, false, open)
		return Hash{}, err
	})
	if err != nil {
		for _, w := range open {
			w.hash, w.err = Hash{}, err
		}
	}
}

// groupAttempt makes one try at moving the branch from head with the
// changes of ws, in order, and returns the writes it left undecided. From
// a real head (guess false) it decides every write, unless it loses the
// race (an error wrapping errLostRace, every write undecided) or cannot
// read head (that error). From a guess, it decides the writes only if the
// group lands, and those in the group if its write fails.
func (b *Branch) groupAttempt(ctx context.Context, st *node.Store, ov *unstored, head Hash, guess bool, ws []*groupWrite) ([]*groupWrite, error) {
	kv := b.kv
	cur, prev := node.Empty, head
	var height uint64
	if !head.IsZero() {
		c, err := commit.Load(ctx, kv.store, kv.nodes, head)
		if err != nil {
			if guess {
				return ws, nil
			}
			return ws, fmt.Errorf("branch %q: head %w", b.name, err)
		}
		cur, height = c.Tree, c.Height
	}
	var objs []backend.Object
	made := 0
	for i, w := range ws {
		w.hash, w.err, w.panicked, w.inGroup, w.cm = Hash{}, nil, nil, false, nil
		if err := w.ctx.Err(); err != nil {
			w.err = err
			continue
		}
		if err := w.co.checkHead(b.name, prev); err != nil {
			if guess { // the guess may be stale: decide on the real head
				return ws, nil
			}
			w.err = err
			continue
		}
		os, root, err := w.make(kv, st, cur)
		switch {
		case err != nil:
			w.err = err
			continue
		case root == cur: // nothing changed: the head as it will be
			w.hash, w.inGroup = prev, prev != head
			continue
		}
		if ov != nil {
			ov.add(os, i)
		}
		var parents []Hash
		if !prev.IsZero() {
			parents = []Hash{prev}
		}
		height++
		c, cm := buildCommit(root, parents, height, w.co)
		if objs == nil {
			objs = append(os, c) // os has room for it (tree.Builder.Objects)
		} else {
			objs = append(append(objs, os...), c)
		}
		cur, prev = root, c.Hash
		w.hash, w.inGroup, w.cm, w.size = c.Hash, true, cm, len(c.Data)
		made++
	}
	if made == 0 {
		if guess {
			return ws, nil
		}
		return nil, nil
	}
	err := kv.land(ctx, b.name, head, prev, objs, nil)
	switch {
	case err == nil:
		for _, w := range ws {
			if w.cm != nil {
				kv.nodes.Remember(w.hash, w.cm, w.size)
			}
		}
		kv.nodes.Forget(superseded(ws, ov))
		for _, w := range ws {
			if w.cm != nil {
				kv.keepGraph(ctx, w.hash, w.cm.Height)
			}
		}
		return nil, nil
	case errors.Is(err, errLostRace):
		if guess {
			return ws, nil
		}
		return ws, err
	}
	// The group's write may have landed: every write in it gets the error;
	// the others are decided by their own results, made on the real head.
	var rest []*groupWrite
	for _, w := range ws {
		switch {
		case w.inGroup:
			w.hash, w.err = Hash{}, err
		case guess:
			rest = append(rest, w)
		}
	}
	return rest, nil
}

// superseded returns the directories to forget from the node cache once
// the commits of ws have landed (see node.Store.Forget): those their
// changes replaced (ownChange.replaced) that no later write of ws made
// again. In a group (ov, the group's objects, not nil) a write replaces
// what the one before it made, so the versions between the old head and
// the new one are forgotten too; but a later write may make again what an
// earlier one replaced (set a value back), and the new head holds that.
// As for a lone write, a directory that is also the same object elsewhere
// in the new tree (an identical directory) may be forgotten, which costs
// one read. A write whose objects are a merge of its change (not fresh)
// forgets nothing of its own. A lone write never replaces what it made
// (tree.Builder.Replaced); an object of ov made by the same position is
// from an earlier attempt of the group.
func superseded(ws []*groupWrite, ov *unstored) []Hash {
	var gone []Hash
	for i, w := range ws {
		if w.cm == nil || !w.own.fresh {
			continue
		}
		if ov == nil {
			return w.own.replaced
		}
		for _, h := range w.own.replaced {
			if o, in := ov.objs[h]; !in || o.by <= i {
				gone = append(gone, h)
			}
		}
	}
	return gone
}

// unstored is an object store that answers with the objects a group
// commit made but has not stored yet, then with the store under it. Only
// the committer uses it.
type unstored struct {
	backend.ObjectStore
	objs map[Hash]unstoredObject
}

// unstoredObject is an object of a group commit: its bytes, and the
// position in the group of the write that made it last.
type unstoredObject struct {
	data []byte
	by   int
}

// add adds the objects made by the write at position by in the group.
func (u *unstored) add(objs []backend.Object, by int) {
	for _, o := range objs {
		u.objs[o.Hash] = unstoredObject{o.Data, by}
	}
}

// Get returns an unstored object, or reads h from the store under u.
func (u *unstored) Get(ctx context.Context, h Hash) ([]byte, error) {
	if o, ok := u.objs[h]; ok {
		return o.data, nil
	}
	return u.ObjectStore.Get(ctx, h)
}

// Has reports which of hs are unstored objects or in the store under u.
func (u *unstored) Has(ctx context.Context, hs []Hash) ([]bool, error) {
	ok, err := u.ObjectStore.Has(ctx, hs)
	if err != nil {
		return nil, err
	}
	for i, h := range hs {
		if _, in := u.objs[h]; in {
			ok[i] = true
		}
	}
	return ok, nil
}
