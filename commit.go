package strata

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
)

// CommitOption sets a field of the commit a write makes.
type CommitOption func(*commitOptions)

type commitOptions struct {
	message string
	author  string
	time    time.Time
	basedOn Hash // see BasedOn
	ifHead  Hash // see IfHead
	ifSet   bool // IfHead was given
}

// Message sets the commit message.
func Message(msg string) CommitOption { return func(o *commitOptions) { o.message = msg } }

// Author sets the commit author (default "strata").
func Author(name string) CommitOption { return func(o *commitOptions) { o.author = name } }

// Time sets the commit time (default: the time of the write). Giving a
// fixed time makes commit hashes reproducible.
func Time(t time.Time) CommitOption { return func(o *commitOptions) { o.time = t } }

// IfHead makes a write conditional, like a compare-and-set of the whole
// branch: it commits only if the branch head is commit h when its commit
// lands (a zero h: only if the branch does not exist), and otherwise
// changes nothing and returns an error wrapping ErrHeadMoved and
// ErrConflict. Such a write is never retried onto another head, nor
// merged into one. It is
// for optimistic concurrency: read at a commit, then write only if no one
// wrote since (the HTTP API's If-Match). It applies to the writes of a
// Branch: Set, SetValue, Delete, Add and Update.
func IfHead(h Hash) CommitOption {
	return func(o *commitOptions) { o.ifHead, o.ifSet = h, true }
}

// checkHead returns the error of a write with IfHead whose branch is at
// head instead, or nil.
func (co *commitOptions) checkHead(branch string, head Hash) error {
	if !co.ifSet || co.ifHead == head {
		return nil
	}
	want, at := "to be absent", "is at "+head.Short()
	if !co.ifHead.IsZero() {
		want = "at " + co.ifHead.Short()
	}
	if head.IsZero() {
		at = "does not exist"
	}
	return fmt.Errorf("branch %q expected %s, but it %s: %w: %w", branch, want, at, ErrHeadMoved, ErrConflict)
}

// defaultAuthor is the author of a commit that names none.
const defaultAuthor = "strata"

func newCommitOptions(opts []CommitOption) commitOptions {
	var co commitOptions
	co.set(opts)
	return co
}

// set applies opts to co. (Applying them in place spares a writer the
// allocation that newCommitOptions's escaping local costs.)
func (co *commitOptions) set(opts []CommitOption) {
	for _, f := range opts {
		f(co)
	}
}

// commitReq is what a writer asks the commit primitive for: a commit of
// tree (whose new objects, not stored yet, are objects) with parents
// (first parent first) on branch, which must still be at head (zero: the
// branch must not exist yet).
type commitReq struct {
	branch  string
	head    Hash
	tree    Hash
	objects []backend.Object
	parents []Hash
	opts    commitOptions
}

// commit is the one way every writer (Set, Delete, Update, SetValue, Add,
// Merge, Revert, CherryPick) makes a commit: it builds the commit object
// of r (author and time defaults, height from the parents) and lands it
// with land: one atomic object+ref write. It returns the new commit's
// hash, or an error wrapping errLostRace if the branch is not at r.head,
// or errCommitFailed if the write failed otherwise.
func (kv *KV) commit(ctx context.Context, r commitReq) (Hash, error) {
	var height uint64
	for _, p := range r.parents {
		pc, err := commit.Load(ctx, kv.store, kv.nodes, p)
		if err != nil {
			return Hash{}, fmt.Errorf("branch %q: parent %w", r.branch, err)
		}
		height = max(height, pc.Height)
	}
	c, cm := buildCommit(r.tree, r.parents, height+1, r.opts)
	if err := kv.land(ctx, r.branch, r.head, c.Hash, append(r.objects, c), cm); err != nil {
		return Hash{}, err
	}
	kv.keepGraph(ctx, c.Hash, cm.Height)
	return c.Hash, nil
}

// keepGraph keeps the commit graph current: called by the committer
// after commit h (of height height) has landed, it has h's commit-graph
// run written when h starts one (height a multiple of commit.RunLen), so
// that a merge-base search on a cold cache reads one run per
// commit.RunLen commits without anyone calling WriteCommitGraph. That is
// one more atomic write (run object and ref together) per commit.RunLen
// commits, none for the others, and reads of the run's ancestors, which
// the committer has usually just cached; the graph keeper makes them on
// its own goroutine, so the commit's callers do not wait for them (see
// graphKeeper). Runs are derived data: a failure fails nothing (the
// commit has landed; a search reads commits where a run is missing, and
// WriteCommitGraph fills the gaps) and is reported to the KV's Logger.
// Runs of commits that arrive otherwise (fetch, fast-forward) are written
// by WriteCommitGraph.
//
// It does not list the shallow cuts (kv.shallowSet), which costs a scan of
// every ref on mem and Redis, and so grows with the history (one graph ref
// per commit.RunLen commits): a run that would reach past a cut needs the
// cut's parents, which are absent by design, so writing it fails there;
// only then are the cuts listed (KV.writeRun), and the run is not written,
// without a report. Should a cut's parent be stored after all, the run
// lists true heights and parents, and searches never go past a cut anyway.
func (kv *KV) keepGraph(ctx context.Context, h Hash, height uint64) {
	if height%commit.RunLen != 0 || ctx.Err() != nil {
		return
	}
	kv.graph.keep(ctx, kv, h)
}

// buildCommit builds the commit object of tree with parents at height,
// filling in the defaults of co (author, time). It is the one commit
// builder: KV.commit and the group committer (group.go) both use it.
func buildCommit(tree Hash, parents []Hash, height uint64, co commitOptions) (backend.Object, *commit.Commit) {
	if co.author == "" {
		co.author = defaultAuthor
	}
	if co.time.IsZero() {
		co.time = time.Now()
	}
	cm := &commit.Commit{
		Tree: tree, Parents: parents, Author: co.author, Message: co.message,
		Time: co.time.UnixNano(), Height: height,
	}
	return commit.Object(cm), cm
}

// land stores objs and moves branch name from old to new in one atomic
// write (backend.PutOwnedAndSwapRef, through the branch store), then keeps
// what the write taught: the decoded commit cm (if not nil; its object is
// the last of objs) in the decoded-object cache, and new as the head this KV last wrote to the
// branch, where its next write starts (see lastHead). Every move of a
// branch head by a writer goes through here. A branch not at old returns
// an error wrapping errLostRace (and ErrConflict); any other failure one
// wrapping errCommitFailed, since the write may have landed.
//
// land hands objs' bytes over to the backend (see backend.OwnedCommitter):
// every object passed here is freshly encoded for this write (tree
// writer, commit and contents encoders, none of which reuses a buffer),
// and nothing writes to those bytes afterwards; the decoded-object cache
// and the group's overlay only read them.
func (kv *KV) land(ctx context.Context, name string, old, new Hash, objs []backend.Object, cm *commit.Commit) error {
	err := kv.branches.CommitOwned(ctx, objs, name, old, new)
	switch {
	case err == nil:
	case errors.Is(err, ErrConflict):
		return fmt.Errorf("%w: %w", errLostRace, err)
	default:
		return fmt.Errorf("%w: %w", errCommitFailed, err)
	}
	if cm != nil {
		size := 0
		if n := len(objs); n > 0 && objs[n-1].Hash == new {
			size = len(objs[n-1].Data)
		}
		kv.nodes.Remember(new, cm, size)
	}
	kv.heads.Store(name, new)
	return nil
}

// lastHead returns the head this KV last wrote to branch name, if any.
func (kv *KV) lastHead(name string) (Hash, bool) { return kv.heads.Load(name) }

// lastHeads maps branch names to heads (see lastHead). It is safe for
// concurrent use, and storing a branch's head again allocates nothing
// (a sync.Map boxes every value it stores).
type lastHeads struct {
	mu sync.Mutex
	m  map[string]Hash
}

// Store records h as branch name's head.
func (l *lastHeads) Store(name string, h Hash) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = make(map[string]Hash)
	}
	l.m[name] = h
}

// Load returns the head recorded for branch name, if any.
func (l *lastHeads) Load(name string) (Hash, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, ok := l.m[name]
	return h, ok
}
