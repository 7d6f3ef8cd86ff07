package strata

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/branch"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/internal/codec"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/transfer"
	"github.com/stratakv/strata/tree"
)

// SyncStats is what a Clone, Fetch, Pull or Push did.
type SyncStats struct {
	Objects    int           `json:"objects"`     // objects written to the destination
	Bytes      int64         `json:"bytes"`       // their encoded size
	RoundTrips int           `json:"round_trips"` // calls to the remote store (Clone: to both stores)
	Refs       int           `json:"refs"`        // refs created or moved in the destination
	Elapsed    time.Duration `json:"elapsed_ns"`
	Head       Hash          `json:"head"` // Pull: the local branch's head; Push: the remote branch's
	// KeptTags lists the remote's tags that Fetch (or Pull) left alone
	// because the local store has a tag of the same name at another
	// commit: a tag never moves without Force. Sorted by name.
	KeptTags []KeptTag `json:"kept_tags,omitempty"`
}

// KeptTag is a tag that exists on both sides at different commits and
// that a Fetch without Force did not move.
type KeptTag struct {
	Name   string `json:"name"`   // the tag's name, without "tags/"
	Local  Hash   `json:"local"`  // where the local tag points (unchanged)
	Remote Hash   `json:"remote"` // where the remote's tag points
}

// SyncOption configures Clone, Fetch and Push; Pull takes MergeOptions
// and these too (Progress, TransferBatch).
type SyncOption interface{ applySync(*syncOptions) }

type syncOptions struct {
	depth    int
	track    string // see Tracking
	force    bool
	batch    int
	branch   string
	progress func(SyncStats)
	err      error
}

func (o *syncOptions) fail(err error) {
	if o.err == nil {
		o.err = err
	}
}

func newSyncOptions(opts []SyncOption) syncOptions {
	var o syncOptions
	for _, f := range opts {
		f.applySync(&o)
	}
	return o
}

// syncOption is a SyncOption that Pull accepts among its MergeOptions; it
// changes nothing in a merge.
type syncOption func(*syncOptions)

func (f syncOption) applySync(o *syncOptions) { f(o) }
func (f syncOption) applyMerge(*mergeOptions) {}

// Depth makes Clone copy only the last n commits of each branch's history:
// the commits at the cut are recorded as shallow (refs shallow/<hex>).
// n < 1 is an error wrapping ErrInvalidOption, and so is Depth given to
// Fetch, Pull or Push: cutting a history the store already holds in full
// would hide it.
func Depth(n int) SyncOption {
	return syncOption(func(o *syncOptions) {
		if n < 1 {
			o.fail(fmt.Errorf("%w: Depth(%d): a clone needs at least 1 commit", ErrInvalidOption, n))
			return
		}
		o.depth = n
	})
}

// Tracking makes Push, after it succeeded, point kv's remote-tracking ref
// NAME/BRANCH (remotes/NAME/BRANCH) at the remote branch's new head, as
// git push does, so that the revision NAME/BRANCH shows what was pushed
// without a fetch. The ref is a local record only: if moving it fails
// (another process moved it meanwhile), Push still reports success and the
// next Fetch sets it. A name that is not a valid remote name is an error.
func Tracking(name string) SyncOption {
	return syncOption(func(o *syncOptions) {
		if err := validateRemoteName(name); err != nil {
			o.fail(fmt.Errorf("%w: Tracking(%q): %w", ErrInvalidOption, name, err))
			return
		}
		o.track = name
	})
}

// trackPush moves kv's remote-tracking ref for branchName to head after a
// successful Push with Tracking, on a best-effort basis (see Tracking).
func (r *syncRun) trackPush(ctx context.Context, kv *KV, branchName string, head Hash) {
	if r.o.track == "" {
		return
	}
	name := trackPrefix + r.o.track + "/" + branchName
	old, err := kv.store.GetRef(ctx, name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return
	}
	if old != head && kv.store.CompareAndSwapRef(ctx, name, old, head) == nil {
		r.stats.Refs++
	}
}

// cloneOnly returns an error wrapping ErrInvalidOption if o holds an
// option only Clone takes, for op.
func (o *syncOptions) cloneOnly(op string) error {
	if o.depth > 0 {
		return fmt.Errorf("%w: Depth is for Clone, not %s", ErrInvalidOption, op)
	}
	return nil
}

// SingleBranch makes Clone copy only branch name (and the tags).
func SingleBranch(name string) SyncOption {
	return syncOption(func(o *syncOptions) { o.branch = name })
}

// Progress calls fn with the running statistics after every round trip
// of a transfer, on the calling goroutine.
func Progress(fn func(SyncStats)) interface {
	SyncOption
	MergeOption
} {
	return syncOption(func(o *syncOptions) { o.progress = fn })
}

// TransferBatch sets how many hashes are asked, and objects written, per
// round trip (default 512). n < 1 is an error wrapping ErrInvalidOption.
func TransferBatch(n int) interface {
	SyncOption
	MergeOption
} {
	return syncOption(func(o *syncOptions) {
		if n < 1 {
			o.fail(fmt.Errorf("%w: TransferBatch(%d): at least 1 object per batch", ErrInvalidOption, n))
			return
		}
		o.batch = n
	})
}

// syncRun is one sync operation's statistics and stores.
type syncRun struct {
	stats SyncStats
	start time.Time
	o     syncOptions
	// remote is the store whose calls count as round trips; nil counts
	// the calls to both stores (Clone).
	remote backend.Store
}

func newRun(o syncOptions) *syncRun { return &syncRun{start: time.Now(), o: o} }

// trip counts one call to s if it is the remote store.
func (r *syncRun) trip(s backend.RefStore) {
	if r.remote == nil || s == backend.RefStore(r.remote) {
		r.stats.RoundTrips++
	}
}

func (r *syncRun) done() *SyncStats {
	r.stats.Elapsed = time.Since(r.start)
	return &r.stats
}

// listRefs lists the refs of s under prefix, counting the round trip.
func (r *syncRun) listRefs(ctx context.Context, s backend.RefStore, prefix string) ([]backend.Ref, error) {
	r.trip(s)
	return s.ListRefs(ctx, prefix)
}

// cas moves ref name in s, counting the round trip and the ref.
func (r *syncRun) cas(ctx context.Context, s backend.RefStore, name string, old, new Hash) error {
	r.trip(s)
	if err := s.CompareAndSwapRef(ctx, name, old, new); err != nil {
		return fmt.Errorf("ref %s: %w", name, err)
	}
	r.stats.Refs++
	return nil
}

// shallowSet returns the commits kv's history is cut at.
func (r *syncRun) shallowSet(ctx context.Context, kv *KV) (map[Hash]bool, error) {
	refs, err := r.listRefs(ctx, kv.store, shallowPrefix)
	if err != nil {
		return nil, err
	}
	set := make(map[Hash]bool, len(refs))
	for _, ref := range refs {
		set[ref.Hash] = true
	}
	return set, nil
}

// send copies to dst every object reachable from heads that it lacks, and
// records the cut commits of a shallow transfer as shallow in dst, adding
// them to marks, dst's shallow set (nil: read it from dst when needed),
// from which it also drops the commits it stores with their parents.
// stop is src's shallow set; nil reads it from src.
func (r *syncRun) send(ctx context.Context, src, dst *KV, heads []Hash, stop, marks map[Hash]bool) error {
	if stop == nil {
		var err error
		if stop, err = r.shallowSet(ctx, src); err != nil {
			return fmt.Errorf("read the source's shallow commits: %w", err)
		}
	}
	base := r.stats
	refs := 0 // the shallow marks, counted after the transfer's stats
	st, err := transfer.Objects(ctx, src.store, dst.store, heads, transfer.Options{
		Depth: r.o.depth, Stop: stop, Batch: r.o.batch,
		Progress: func(s transfer.Stats) {
			if r.o.progress != nil {
				r.o.progress(r.add(base, s, dst.store))
			}
		},
		// The cut commits are marked before any object is stored, so
		// that dst never holds one without its mark, and a commit stored
		// with its parents loses a mark left from before.
		Cut: func(ctx context.Context, cut, whole []Hash) error {
			if marks == nil {
				var err error
				if marks, err = r.shallowSet(ctx, dst); err != nil {
					return fmt.Errorf("read the destination's shallow commits: %w", err)
				}
			}
			for _, h := range whole {
				if !marks[h] {
					continue
				}
				r.trip(dst.store)
				err := dst.store.CompareAndSwapRef(ctx, shallowPrefix+h.String(), h, Hash{})
				if err != nil && !errors.Is(err, ErrConflict) {
					return fmt.Errorf("unmark %s shallow: %w", h.Short(), err)
				}
				delete(marks, h)
			}
			for _, h := range cut {
				if marks[h] {
					continue // a rerun finds its marks
				}
				r.trip(dst.store)
				err := dst.store.CompareAndSwapRef(ctx, shallowPrefix+h.String(), Hash{}, h)
				switch {
				case err == nil:
					refs++
				case !errors.Is(err, ErrConflict):
					return fmt.Errorf("mark %s shallow: %w", h.Short(), err)
				}
				marks[h] = true
			}
			return nil
		},
	})
	trips := r.stats.RoundTrips - base.RoundTrips
	r.stats = r.add(base, st, dst.store)
	r.stats.RoundTrips += trips
	r.stats.Refs += refs
	if errors.Is(err, ErrCorrupt) {
		// The transfer checks what it reads from src, not dst.
		return fmt.Errorf("the store copied from is damaged: %w", err)
	}
	return err
}

// add returns base plus a transfer's statistics, counting the calls to
// the remote store only (both stores when r.remote is nil).
func (r *syncRun) add(base SyncStats, s transfer.Stats, dst backend.Store) SyncStats {
	base.Objects += s.Objects
	base.Bytes += s.Bytes
	switch {
	case r.remote == nil:
		base.RoundTrips += s.RoundTrips
	case r.remote == dst:
		base.RoundTrips += s.DstTrips
	default:
		base.RoundTrips += s.SrcTrips
	}
	base.Elapsed = time.Since(r.start)
	return base
}

// Fetch copies from remote every branch's and tag's objects that kv
// lacks, then points the remote-tracking refs remotes/NAME/BRANCH at the
// remote's branches (readable as the revision NAME/BRANCH) and creates the
// remote's tags that kv lacks (a tag kv has is never moved). With name ""
// it updates no remote-tracking ref. Objects are all stored before any
// ref moves, so a cancelled or failed Fetch leaves kv valid and a rerun
// sends only what is still missing. It returns what it did, even on error.
func (kv *KV) Fetch(ctx context.Context, remote *KV, name string, opts ...SyncOption) (*SyncStats, error) {
	r := newRun(newSyncOptions(opts))
	_, err := kv.fetch(ctx, r, remote, name)
	return r.done(), err
}

// fetch is Fetch; it returns the remote's branch heads.
func (kv *KV) fetch(ctx context.Context, r *syncRun, remote *KV, name string) (map[string]Hash, error) {
	if err := firstErr(kv.alive(), remote.alive(), r.o.err, r.o.cloneOnly("Fetch or Pull")); err != nil {
		return nil, err
	}
	if name != "" {
		if err := validateRemoteName(name); err != nil {
			return nil, err
		}
	}
	r.remote = remote.store
	// One round trip lists the remote's branches, tags and shallow cut.
	all, err := r.listRefs(ctx, remote.store, "")
	if err != nil {
		return nil, fmt.Errorf("fetch: list the remote's refs: %w", err)
	}
	var heads, tags []backend.Ref
	stop := map[Hash]bool{}
	for _, ref := range all {
		switch {
		case strings.HasPrefix(ref.Name, branch.RefPrefix):
			heads = append(heads, ref)
		case strings.HasPrefix(ref.Name, tagPrefix):
			tags = append(tags, ref)
		case strings.HasPrefix(ref.Name, shallowPrefix):
			stop[ref.Hash] = true
		}
	}
	var want []Hash
	for _, ref := range append(heads, tags...) {
		want = append(want, ref.Hash)
	}
	// A store that holds a commit holds everything below it, so only the
	// heads kv lacks need a transfer; asking kv costs no remote round trip.
	if len(want) > 0 {
		has, err := kv.store.Has(ctx, want)
		if err != nil {
			return nil, fmt.Errorf("fetch: %w", err)
		}
		var missing []Hash
		for i, ok := range has {
			if !ok {
				missing = append(missing, want[i])
			}
		}
		want = missing
	}
	if len(want) > 0 {
		if err := r.send(ctx, remote, kv, want, stop, nil); err != nil {
			return nil, fmt.Errorf("fetch: %w", err)
		}
	}
	theirs := map[string]Hash{}
	for _, ref := range heads {
		theirs[strings.TrimPrefix(ref.Name, branch.RefPrefix)] = ref.Hash
	}
	if name != "" {
		prefix := trackPrefix + name + "/"
		mine, err := r.listRefs(ctx, kv.store, prefix)
		if err != nil {
			return nil, fmt.Errorf("fetch: %w", err)
		}
		have := map[string]Hash{}
		for _, ref := range mine {
			have[ref.Name] = ref.Hash
		}
		for b, h := range theirs {
			if old := have[prefix+b]; old != h {
				if err := r.cas(ctx, kv.store, prefix+b, old, h); err != nil {
					return nil, fmt.Errorf("fetch: %w", err)
				}
			}
		}
	}
	if err := r.copyTags(ctx, kv, tags); err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	return theirs, nil
}

// copyTags creates in kv the tags it lacks. A tag kv has at another
// commit is moved only with Force; otherwise it is left alone and listed
// in the statistics' KeptTags.
func (r *syncRun) copyTags(ctx context.Context, kv *KV, tags []backend.Ref) error {
	if len(tags) == 0 {
		return nil
	}
	mine, err := r.listRefs(ctx, kv.store, tagPrefix)
	if err != nil {
		return err
	}
	have := map[string]Hash{}
	for _, ref := range mine {
		have[ref.Name] = ref.Hash
	}
	for _, t := range tags {
		old, ok := have[t.Name]
		switch {
		case ok && old == t.Hash:
			continue
		case ok && !r.o.force:
			r.stats.KeptTags = append(r.stats.KeptTags, KeptTag{Name: strings.TrimPrefix(t.Name, tagPrefix), Local: old, Remote: t.Hash})
			continue
		}
		if err := r.cas(ctx, kv.store, t.Name, old, t.Hash); err != nil && !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return nil
}

// Pull fetches from remote (see Fetch; name "" updates no remote-tracking
// ref) and merges the remote's branch (remote-tracking NAME/BRANCH) into
// kv's branch of the same name with Merge and opts: a fast-forward, a
// merge commit, or a *MergeConflictError (wrapping ErrConflict) with
// nothing written to the branch; FastForwardOnly is honoured. A local
// branch that does not exist is created at the remote's head. Progress and
// TransferBatch are accepted among opts. A remote without the branch
// returns ErrNotFound. Into sets a different local branch.
func (kv *KV) Pull(ctx context.Context, remote *KV, name, branchName string, opts ...MergeOption) (*SyncStats, error) {
	return kv.PullInto(ctx, remote, name, branchName, branchName, opts...)
}

// PullInto is Pull merging the remote's branch into local branch into.
func (kv *KV) PullInto(ctx context.Context, remote *KV, name, branchName, into string, opts ...MergeOption) (*SyncStats, error) {
	var so syncOptions
	mopts := []MergeOption{Message(fmt.Sprintf("merge %s into %s", pullSource(name, branchName), into))}
	for _, o := range opts {
		if s, ok := o.(SyncOption); ok {
			s.applySync(&so)
		}
		mopts = append(mopts, o)
	}
	r := newRun(so)
	if err := branch.ValidateName(into); err != nil {
		return r.done(), err
	}
	if o := newMergeOptions(mopts); o.err != nil {
		return r.done(), o.err
	}
	theirs, err := kv.fetch(ctx, r, remote, name)
	if err != nil {
		return r.done(), err
	}
	h, ok := theirs[branchName]
	if !ok {
		return r.done(), fmt.Errorf("pull: the remote has no branch %q: %w", branchName, ErrNotFound)
	}
	_, err = kv.branches.Head(ctx, into)
	if errors.Is(err, ErrNotFound) {
		if err := kv.land(ctx, into, Hash{}, h, nil, nil); err != nil {
			return r.done(), fmt.Errorf("pull into %s: %w", into, err)
		}
		r.stats.Refs++
		r.stats.Head = h
		return r.done(), nil
	}
	if err != nil {
		return r.done(), err
	}
	head, err := kv.Merge(ctx, h.String(), into, mopts...)
	if err != nil {
		return r.done(), fmt.Errorf("pull %s into %s: %w", pullSource(name, branchName), into, err)
	}
	r.stats.Head = head
	return r.done(), nil
}

func pullSource(name, b string) string {
	if name == "" {
		return b
	}
	return name + "/" + b
}

// Push sends kv's branch to remote: the objects remote lacks, then the
// remote branch moves to kv's head by compare-and-swap. It moves only
// forward (the remote head must be an ancestor of kv's) unless Force is
// given; otherwise it changes nothing on the remote and returns an error
// wrapping ErrConflict that says to pull first. A missing local branch is
// ErrNotFound; the remote branch is created if missing. Objects are all
// stored before the branch moves, so a cancelled or failed Push leaves the
// remote valid, its branch unmoved, and a rerun sends only what is still
// missing. It returns what it did, even on error.
func (kv *KV) Push(ctx context.Context, remote *KV, branchName string, opts ...SyncOption) (*SyncStats, error) {
	r := newRun(newSyncOptions(opts))
	if err := firstErr(kv.alive(), remote.alive(), r.o.err, r.o.cloneOnly("Push")); err != nil {
		return r.done(), err
	}
	r.remote = remote.store
	mine, err := kv.branches.Head(ctx, branchName)
	if err != nil {
		return r.done(), fmt.Errorf("push: %w", err)
	}
	theirs, err := remote.branches.Head(ctx, branchName)
	r.stats.RoundTrips++
	if err != nil && !errors.Is(err, ErrNotFound) {
		return r.done(), fmt.Errorf("push: remote branch: %w", err)
	}
	r.stats.Head = theirs
	if theirs == mine {
		r.trackPush(ctx, kv, branchName, mine)
		return r.done(), nil
	}
	rejected := func() error {
		return fmt.Errorf("push %s: rejected: the remote branch is at %s, which %s does not contain (not a fast-forward); pull first, or force the push: %w",
			branchName, theirs.Short(), branchName, ErrConflict)
	}
	// Whether the push is a fast-forward is decided here when kv can
	// tell; when a shallow cut of kv's hides the answer, by the remote
	// once it holds mine's history (as git's receiving end decides).
	undecided := false
	if !theirs.IsZero() && !r.o.force {
		cut, err := kv.shallowSet(ctx)
		if err != nil {
			return r.done(), fmt.Errorf("push %s: %w", branchName, err)
		}
		switch ok, err := kv.descends(ctx, kv.store, mine, theirs, cut); {
		case errors.Is(err, errBelowCut):
			undecided = true
		case err != nil:
			return r.done(), fmt.Errorf("push %s: %w", branchName, err)
		case !ok:
			return r.done(), rejected()
		}
	}
	// A shallow remote lacks what lies below its cut, which the local
	// shortcut below would take it to hold.
	remoteCut, err := r.shallowSet(ctx, remote)
	if err != nil {
		return r.done(), fmt.Errorf("push %s: read the remote's shallow commits: %w", branchName, err)
	}
	// The usual case: the remote's head is a commit kv has, so kv can
	// work out locally what the remote lacks, with no Has round trips.
	var objs []backend.Object
	if len(remoteCut) == 0 {
		if objs, err = kv.pushObjects(ctx, theirs, mine); err != nil {
			return r.done(), fmt.Errorf("push %s: %w", branchName, err)
		}
	}
	if objs == nil {
		if err := r.send(ctx, kv, remote, []Hash{mine}, nil, remoteCut); err != nil {
			return r.done(), fmt.Errorf("push %s: %w", branchName, err)
		}
	} else if objs, err = r.putBatches(ctx, remote, objs); err != nil {
		return r.done(), fmt.Errorf("push %s: %w", branchName, err)
	}
	if undecided {
		// The remote now holds mine and what lies below it (down to
		// its own cuts): it can tell.
		counted := countedObjects{remote.store, &r.stats.RoundTrips}
		switch ok, err := remote.descends(ctx, counted, mine, theirs, remoteCut); {
		case errors.Is(err, errBelowCut):
			return r.done(), fmt.Errorf("push %s: rejected: the remote branch is at %s, and shallow history on both sides hides whether %s contains it; fetch first, or force the push: %w",
				branchName, theirs.Short(), branchName, ErrConflict)
		case err != nil:
			return r.done(), fmt.Errorf("push %s: on the remote: %w", branchName, err)
		case !ok:
			return r.done(), rejected()
		}
	}
	// The last batch of objects goes with the ref move, in one atomic
	// step where the backend can (one Pebble batch, one Redis script).
	r.stats.RoundTrips++
	if _, ok := remote.store.(backend.RefCommitter); !ok && len(objs) > 0 {
		r.stats.RoundTrips++ // a Put, then a CompareAndSwapRef
	}
	if err := remote.branches.Commit(ctx, objs, branchName, theirs, mine); err != nil {
		if errors.Is(err, ErrConflict) {
			return r.done(), fmt.Errorf("push %s: rejected: the remote branch moved during the push; pull first: %w", branchName, err)
		}
		return r.done(), fmt.Errorf("push %s: %w", branchName, err)
	}
	remote.heads.Store(branchName, mine)
	r.addObjects(objs)
	r.stats.Refs++
	r.stats.Head = mine
	r.trackPush(ctx, kv, branchName, mine)
	return r.done(), nil
}

// addObjects counts objs as sent.
func (r *syncRun) addObjects(objs []backend.Object) {
	r.stats.Objects += len(objs)
	for _, o := range objs {
		r.stats.Bytes += int64(len(o.Data))
	}
}

// putBatches writes all but the last batch of objs (children first) to
// remote, one Put per batch, and returns the last batch, which the caller
// writes with the ref move. When objs are more than one batch, it first
// asks remote which it has, in batches, and leaves those out: an earlier
// push that was interrupted may have sent them, and a rerun sends only
// what is still missing. Cancelling ctx stops it between batches.
func (r *syncRun) putBatches(ctx context.Context, remote *KV, objs []backend.Object) ([]backend.Object, error) {
	n := r.o.batch
	if n <= 0 {
		n = transfer.DefaultBatch
	}
	if len(objs) > n {
		var missing []backend.Object
		for i := 0; i < len(objs); i += n {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			batch := objs[i:min(i+n, len(objs))]
			hs := make([]Hash, len(batch))
			for j, o := range batch {
				hs[j] = o.Hash
			}
			r.stats.RoundTrips++
			has, err := remote.store.Has(ctx, hs)
			if err != nil {
				return nil, fmt.Errorf("ask the remote for %d objects: %w", len(hs), err)
			}
			for j, ok := range has {
				if !ok {
					missing = append(missing, batch[j])
				}
			}
		}
		objs = missing
	}
	for len(objs) > n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch := objs[:n]
		r.stats.RoundTrips++
		if err := remote.store.Put(ctx, batch); err != nil {
			return nil, fmt.Errorf("write %d objects to the remote: %w", len(batch), err)
		}
		r.addObjects(batch)
		objs = objs[n:]
		if r.o.progress != nil {
			st := r.stats
			st.Elapsed = time.Since(r.start)
			r.o.progress(st)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return objs, nil
}

// pushObjects returns the objects reachable from commit mine but not
// from commit theirs, children before parents, read from kv and checked
// against their hashes: what a store whose head is theirs lacks to hold
// mine (a store that holds a commit holds everything below it). It finds
// them locally: it walks kv's commits above theirs in order of height and
// diffs each one's tree against theirs's tree, descending only where
// hashes differ. It returns nil, nil when it cannot (theirs is zero or
// not in kv, or kv's history is shallow), and the caller then asks the
// remote with the general transfer.
func (kv *KV) pushObjects(ctx context.Context, theirs, mine Hash) ([]backend.Object, error) {
	if theirs.IsZero() {
		return nil, nil
	}
	has, err := kv.store.Has(ctx, []Hash{theirs})
	if err != nil || !has[0] {
		return nil, err
	}
	cut, err := kv.store.ListRefs(ctx, shallowPrefix)
	if err != nil || len(cut) > 0 {
		return nil, err
	}
	base, err := commit.Load(ctx, kv.store, kv.nodes, theirs)
	if err != nil {
		return nil, err
	}
	commits, err := kv.commitsAbove(ctx, mine, theirs)
	if err != nil {
		return nil, err
	}
	seen := map[Hash]bool{}
	visit := func(h Hash) bool {
		if seen[h] {
			return false
		}
		seen[h] = true
		return true
	}
	var order []Hash
	emit := func(h Hash) error { order = append(order, h); return nil }
	for i := len(commits) - 1; i >= 0; i-- { // oldest first
		c := commits[i]
		if err := tree.NewObjects(ctx, kv.nodes, base.Tree, c.c.Tree, visit, emit); err != nil {
			return nil, fmt.Errorf("commit %s: %w", c.h, err)
		}
		order = append(order, c.h)
	}
	objs := make([]backend.Object, 0, len(order))
	for i := 0; i < len(order); i += transfer.DefaultBatch {
		hs := order[i:min(i+transfer.DefaultBatch, len(order))]
		datas, err := backend.GetMany(ctx, kv.store, hs)
		if err != nil {
			return nil, err
		}
		for j, h := range hs {
			data := datas[j]
			if data == nil && h == node.Empty {
				o, err := node.Object(&node.Node{})
				if err != nil {
					return nil, err
				}
				data = o.Data
			}
			if data == nil {
				return nil, fmt.Errorf("object %s: %w", h, ErrMissing)
			}
			if err := codec.Verify(h, data); err != nil {
				return nil, err
			}
			objs = append(objs, backend.Object{Hash: h, Data: data})
		}
	}
	return objs, nil
}

type loadedCommit struct {
	h Hash
	c *commit.Commit
}

// commitsAbove returns the commits reachable from mine but not from
// theirs, highest first. It walks both histories together in order of
// height, marking what theirs reaches, and stops as soon as everything
// still to visit is reachable from theirs.
func (kv *KV) commitsAbove(ctx context.Context, mine, theirs Hash) ([]loadedCommit, error) {
	const (
		fromMine   = 1
		fromTheirs = 2
	)
	flags := map[Hash]uint8{}
	q := &aboveQueue{}
	pending := 0 // queued commits reachable from mine only
	mark := func(h Hash, f uint8) error {
		old, queued := flags[h]
		if queued {
			if old == fromMine && f&fromTheirs != 0 {
				pending--
			}
			flags[h] = old | f
			return nil
		}
		c, err := commit.Load(ctx, kv.store, kv.nodes, h)
		if err != nil {
			return err
		}
		flags[h] = f
		if f == fromMine {
			pending++
		}
		heap.Push(q, loadedCommit{h, c})
		return nil
	}
	if err := mark(theirs, fromTheirs); err != nil {
		return nil, err
	}
	if err := mark(mine, fromMine); err != nil {
		return nil, err
	}
	var out []loadedCommit
	for pending > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		lc := heap.Pop(q).(loadedCommit)
		f := flags[lc.h]
		if f == fromMine {
			pending--
			out = append(out, lc)
		}
		for _, p := range lc.c.Parents {
			if err := mark(p, f); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// aboveQueue is a max-heap of loaded commits by height.
type aboveQueue []loadedCommit

func (q aboveQueue) Len() int           { return len(q) }
func (q aboveQueue) Less(i, j int) bool { return q[i].c.Height > q[j].c.Height }
func (q aboveQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *aboveQueue) Push(x any)        { *q = append(*q, x.(loadedCommit)) }
func (q *aboveQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// errBelowCut is returned by descends when a shallow cut hides the
// answer.
var errBelowCut = errors.New("the answer lies below a shallow cut")

// descends reports whether commit anc is desc or one of its ancestors in
// kv. It walks down from desc only through commits higher than anc, so it
// never reads below anc; an anc that kv lacks is not an ancestor. It does
// not follow the parents of the commits in cut (kv's shallow commits,
// whose parents are absent by design): when one of them is higher than
// anc, and anc was not found, the answer is not known, and it returns
// errBelowCut.
// It reads through s, kv's store or a wrapper of it that counts calls.
func (kv *KV) descends(ctx context.Context, s backend.ObjectStore, desc, anc Hash, cut map[Hash]bool) (bool, error) {
	if desc == anc {
		return true, nil
	}
	has, err := s.Has(ctx, []Hash{anc})
	if err != nil {
		return false, err
	}
	if !has[0] {
		return false, nil
	}
	a, err := commit.Load(ctx, s, kv.nodes, anc)
	if err != nil {
		return false, err
	}
	seen := map[Hash]bool{desc: true}
	stack := []Hash{desc}
	hidden := false // a cut above anc was met
	for len(stack) > 0 {
		h := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		c, err := commit.Load(ctx, s, kv.nodes, h)
		if err != nil {
			return false, err
		}
		if cut[h] {
			// Its parents' hashes are known, not their commits.
			for _, p := range c.Parents {
				if p == anc {
					return true, nil
				}
			}
			hidden = hidden || len(c.Parents) > 0
			continue
		}
		for _, p := range c.Parents {
			if p == anc {
				return true, nil
			}
			if seen[p] {
				continue
			}
			seen[p] = true
			pc, err := commit.Load(ctx, s, kv.nodes, p)
			if err != nil {
				return false, err
			}
			if pc.Height > a.Height {
				stack = append(stack, p)
			}
		}
	}
	if hidden {
		return false, errBelowCut
	}
	return false, nil
}

// countedObjects counts the calls to an object store in *n.
type countedObjects struct {
	backend.ObjectStore
	n *int
}

func (c countedObjects) Get(ctx context.Context, h Hash) ([]byte, error) {
	*c.n++
	return c.ObjectStore.Get(ctx, h)
}

func (c countedObjects) Has(ctx context.Context, hs []Hash) ([]bool, error) {
	*c.n++
	return c.ObjectStore.Has(ctx, hs)
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
