package strata

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/branch"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/transfer"
)

// SyncStats is what a Clone, Fetch, Pull or Push did.
type SyncStats struct {
	Objects    int           `json:"objects"`     // objects written to the destination
	Bytes      int64         `json:"bytes"`       // their encoded size
	RoundTrips int           `json:"round_trips"` // calls to the two stores
	Refs       int           `json:"refs"`        // refs created or moved in the destination
	Elapsed    time.Duration `json:"elapsed_ns"`
	Head       Hash          `json:"head"` // Pull: the local branch's head; Push: the remote branch's
}

// SyncOption configures Clone, Fetch and Push; Pull takes MergeOptions
// and these too (Progress, TransferBatch).
type SyncOption interface{ applySync(*syncOptions) }

type syncOptions struct {
	depth    int
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
// n < 1 is an error wrapping ErrInvalidOption.
func Depth(n int) SyncOption {
	return syncOption(func(o *syncOptions) {
		if n < 1 {
			o.fail(fmt.Errorf("%w: Depth(%d): a clone needs at least 1 commit", ErrInvalidOption, n))
			return
		}
		o.depth = n
	})
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
}

func newRun(o syncOptions) *syncRun { return &syncRun{start: time.Now(), o: o} }

func (r *syncRun) done() *SyncStats {
	r.stats.Elapsed = time.Since(r.start)
	return &r.stats
}

// listRefs lists the refs of s under prefix, counting the round trip.
func (r *syncRun) listRefs(ctx context.Context, s backend.RefStore, prefix string) ([]backend.Ref, error) {
	r.stats.RoundTrips++
	return s.ListRefs(ctx, prefix)
}

// cas moves ref name in s, counting the round trip and the ref.
func (r *syncRun) cas(ctx context.Context, s backend.RefStore, name string, old, new Hash) error {
	r.stats.RoundTrips++
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
// records the cut commits of a shallow transfer as shallow in dst.
func (r *syncRun) send(ctx context.Context, src, dst *KV, heads []Hash) error {
	stop, err := r.shallowSet(ctx, src)
	if err != nil {
		return fmt.Errorf("read the source's shallow commits: %w", err)
	}
	base := r.stats
	st, err := transfer.Objects(ctx, src.store, dst.store, heads, transfer.Options{
		Depth: r.o.depth, Stop: stop, Batch: r.o.batch,
		Progress: func(s transfer.Stats) {
			if r.o.progress != nil {
				r.o.progress(r.add(base, s))
			}
		},
	})
	r.stats = r.add(base, st)
	if err != nil {
		return err
	}
	for _, h := range st.Shallow {
		err := r.cas(ctx, dst.store, shallowPrefix+h.String(), Hash{}, h)
		if err != nil && !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return nil
}

func (r *syncRun) add(base SyncStats, s transfer.Stats) SyncStats {
	base.Objects += s.Objects
	base.Bytes += s.Bytes
	base.RoundTrips += s.RoundTrips
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
	if err := firstErr(kv.alive(), remote.alive(), r.o.err); err != nil {
		return nil, err
	}
	if name != "" {
		if err := validateRemoteName(name); err != nil {
			return nil, err
		}
	}
	heads, err := r.listRefs(ctx, remote.store, branch.RefPrefix)
	if err != nil {
		return nil, fmt.Errorf("fetch: list the remote's branches: %w", err)
	}
	tags, err := r.listRefs(ctx, remote.store, tagPrefix)
	if err != nil {
		return nil, fmt.Errorf("fetch: list the remote's tags: %w", err)
	}
	var want []Hash
	for _, ref := range append(heads, tags...) {
		want = append(want, ref.Hash)
	}
	if err := r.send(ctx, remote, kv, want); err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
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

// copyTags creates in kv the tags it lacks; existing ones never move.
func (r *syncRun) copyTags(ctx context.Context, kv *KV, tags []backend.Ref) error {
	if len(tags) == 0 {
		return nil
	}
	mine, err := r.listRefs(ctx, kv.store, tagPrefix)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, ref := range mine {
		have[ref.Name] = true
	}
	for _, t := range tags {
		if have[t.Name] {
			continue
		}
		if err := r.cas(ctx, kv.store, t.Name, Hash{}, t.Hash); err != nil && !errors.Is(err, ErrConflict) {
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
	r.stats.RoundTrips++
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
	if err := firstErr(kv.alive(), remote.alive(), r.o.err); err != nil {
		return r.done(), err
	}
	r.o.depth = 0
	mine, err := kv.branches.Head(ctx, branchName)
	r.stats.RoundTrips++
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
		return r.done(), nil
	}
	if !theirs.IsZero() && !r.o.force {
		ok, err := kv.descends(ctx, mine, theirs)
		if err != nil {
			return r.done(), fmt.Errorf("push %s: %w", branchName, err)
		}
		if !ok {
			return r.done(), fmt.Errorf("push %s: rejected: the remote branch is at %s, which %s does not contain (not a fast-forward); pull first, or force the push: %w",
				branchName, theirs.Short(), branchName, ErrConflict)
		}
	}
	if err := r.send(ctx, kv, remote, []Hash{mine}); err != nil {
		return r.done(), fmt.Errorf("push %s: %w", branchName, err)
	}
	r.stats.RoundTrips++
	if err := remote.branches.CompareAndSwap(ctx, branchName, theirs, mine); err != nil {
		if errors.Is(err, ErrConflict) {
			return r.done(), fmt.Errorf("push %s: rejected: the remote branch moved during the push; pull first: %w", branchName, err)
		}
		return r.done(), fmt.Errorf("push %s: %w", branchName, err)
	}
	remote.heads.Store(branchName, mine)
	r.stats.Refs++
	r.stats.Head = mine
	return r.done(), nil
}

// descends reports whether commit anc is desc or one of its ancestors in
// kv. It walks down from desc only through commits higher than anc, so it
// never reads below anc (nor below a shallow cut under anc); an anc that
// kv lacks is not an ancestor.
func (kv *KV) descends(ctx context.Context, desc, anc Hash) (bool, error) {
	if desc == anc {
		return true, nil
	}
	has, err := kv.store.Has(ctx, []Hash{anc})
	if err != nil {
		return false, err
	}
	if !has[0] {
		return false, nil
	}
	a, err := commit.Load(ctx, kv.store, kv.nodes, anc)
	if err != nil {
		return false, err
	}
	seen := map[Hash]bool{desc: true}
	stack := []Hash{desc}
	for len(stack) > 0 {
		h := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		c, err := commit.Load(ctx, kv.store, kv.nodes, h)
		if err != nil {
			return false, err
		}
		for _, p := range c.Parents {
			if p == anc {
				return true, nil
			}
			if seen[p] {
				continue
			}
			seen[p] = true
			pc, err := commit.Load(ctx, kv.store, kv.nodes, p)
			if err != nil {
				return false, err
			}
			if pc.Height > a.Height {
				stack = append(stack, p)
			}
		}
	}
	return false, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
