package strata

import (
	"context"
	"fmt"

	"github.com/stratakv/strata/branch"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/tree"
)

// MergeOption configures Merge, MergeBase, Revert and CherryPick. Every
// CommitOption is one too, and sets the commit the merge makes.
type MergeOption interface{ applyMerge(*mergeOptions) }

type mergeOption func(*mergeOptions)

func (f mergeOption) applyMerge(o *mergeOptions) { f(o) }

func (f CommitOption) applyMerge(o *mergeOptions) { f(&o.commit) }

type mergeOptions struct {
	commit   commitOptions
	prefer   Side
	resolve  ResolveFunc
	noFF     bool
	ffOnly   bool
	maxDepth int
	maxBases int
	shallow  map[Hash]bool // loaded by mergeBases; see shallowSet
	err      error         // the first out-of-range option
}

// DefaultMaxDepth and DefaultMaxBases are the bounds of a merge-base
// search unless MaxDepth and MaxBases say otherwise.
const (
	DefaultMaxDepth = 1 << 20
	DefaultMaxBases = 16
)

func newMergeOptions(opts []MergeOption) mergeOptions {
	o := mergeOptions{maxDepth: DefaultMaxDepth, maxBases: DefaultMaxBases}
	for _, f := range opts {
		f.applyMerge(&o)
	}
	if o.noFF && o.ffOnly && o.err == nil {
		o.err = fmt.Errorf("%w: NoFastForward and FastForwardOnly exclude each other", ErrInvalidOption)
	}
	return o
}

// Prefer settles every conflict from side s (Ours, Theirs or Base):
// within a value where its kind allows (a clashing region of text, a
// clashing member of a JSON object), otherwise for the whole path, so all
// changes that do not clash are still merged. With Resolver, it applies
// to the conflicts the ResolveFunc leaves.
func Prefer(s Side) MergeOption { return mergeOption(func(o *mergeOptions) { o.prefer = s }) }

// Resolver calls fn for each conflict the merge functions leave, to
// settle it (see ResolveFunc).
func Resolver(fn ResolveFunc) MergeOption {
	return mergeOption(func(o *mergeOptions) { o.resolve = fn })
}

// NoFastForward makes Merge write a merge commit even when the branch
// could simply move forward to the merged revision.
func NoFastForward() MergeOption { return mergeOption(func(o *mergeOptions) { o.noFF = true }) }

// FastForwardOnly makes Merge only ever move the branch forward: when a
// merge commit would be needed (the branch has commits the merged
// revision lacks), Merge writes nothing and returns an error wrapping
// ErrConflict. Given with NoFastForward, it is an error wrapping
// ErrInvalidOption.
func FastForwardOnly() MergeOption { return mergeOption(func(o *mergeOptions) { o.ffOnly = true }) }

// DepthOption is MaxDepth's option: it is both a MergeOption and a
// LogOption.
type DepthOption int

// MaxDepth bounds a walk down history by commit height. A merge-base
// search (Merge, MergeBase, Revert, CherryPick) fails with an error
// wrapping ErrLimit rather than look at commits more than n generations
// below the higher of the two revisions (default DefaultMaxDepth). Log
// stops, without an error, at commits more than n generations below the
// revision it starts from (default: no bound), so a PathFilter walk that
// finds nothing need not read the whole history. A negative n is an error
// wrapping ErrInvalidOption from the call it is given to.
func MaxDepth(n int) DepthOption { return DepthOption(n) }

func (n DepthOption) check() error {
	if n < 0 {
		return fmt.Errorf("%w: MaxDepth(%d): a depth cannot be negative", ErrInvalidOption, int(n))
	}
	return nil
}

func (n DepthOption) applyMerge(o *mergeOptions) {
	if err := n.check(); err != nil {
		o.fail(err)
		return
	}
	o.maxDepth = int(n)
}

func (n DepthOption) applyLog(o *logOptions) {
	if err := n.check(); err != nil {
		o.fail(err)
		return
	}
	o.maxDepth, o.hasDepth = int(n), true
}

// MaxBases bounds the number of merge bases (lowest common ancestors) a
// search may find before it fails with an error wrapping ErrLimit
// (default DefaultMaxBases; criss-cross histories have several). n < 1 is
// an error wrapping ErrInvalidOption from the call it is given to.
func MaxBases(n int) MergeOption {
	return mergeOption(func(o *mergeOptions) {
		if n < 1 {
			o.fail(fmt.Errorf("%w: MaxBases(%d): a search must be allowed at least 1 base", ErrInvalidOption, n))
			return
		}
		o.maxBases = n
	})
}

// fail records the first out-of-range option.
func (o *mergeOptions) fail(err error) {
	if o.err == nil {
		o.err = err
	}
}

// common ancestors, the common ancestors that are not ancestors of another
// common ancestor. There is one in a simple fork, several after
// criss-cross merges, and none when the histories are disjoint (a nil
// slice, not an error). They are sorted by height, highest first, then by
// hash. The search walks down from both revisions in order of commit
// height, so it stops as soon as every path has met the other side's
// history; a search that would look more than MaxDepth generations below
// the higher revision, or find more than MaxBases bases, fails with an
// error wrapping ErrLimit.
func (kv *KV) MergeBase(ctx context.Context, a, b string, opts ...MergeOption) ([]Hash, error) {
	o := newMergeOptions(opts)
	if o.err != nil {
		return nil, o.err
	}
	ha, err := kv.Resolve(ctx, a)
	if err != nil {
		return nil, err
	}
	hb, err := kv.Resolve(ctx, b)
	if err != nil {
		return nil, err
	}
	bases, err := kv.mergeBases(ctx, []Hash{ha}, []Hash{hb}, &o)
	if err != nil {
		return nil, fmt.Errorf("merge base of %q and %q: %w", a, b, err)
	}
	return bases, nil
}

// Merge merges revision from (a branch or a commit) into branch into and
// returns into's new head. If into already contains from, nothing
// changes. If from contains into, into moves forward to from (a
// fast-forward) unless NoFastForward is given. With FastForwardOnly, any
// other case returns an error wrapping ErrConflict. Otherwise the two trees are
// merged three-way against their merge base (a virtual one merged from
// several bases after criss-cross merges; the empty tree for disjoint
// histories), and a merge commit with parents [into's head, from] is
// written; its message defaults to "merge FROM into INTO".
//
// Values both sides changed merge with the MergeWith function that covers
// their path, else with the built-in merge of their kind (see
// MergeValues); Resolver and Prefer settle what is left. If conflicts
// remain, Merge writes nothing and returns a *MergeConflictError (wrapping
// ErrConflict) listing every one of them. If into moves while the merge
// is computed, it is computed again on the new head, up to MaxRetries
// times. A missing into returns ErrNotFound.
func (kv *KV) Merge(ctx context.Context, from, into string, opts ...MergeOption) (Hash, error) {
	if err := kv.alive(); err != nil {
		return Hash{}, err
	}
	if err := branch.ValidateName(into); err != nil {
		return Hash{}, err
	}
	o := newMergeOptions(opts)
	if o.err != nil {
		return Hash{}, o.err
	}
	if o.commit.message == "" {
		o.commit.message = fmt.Sprintf("merge %s into %s", from, into)
	}
	op := fmt.Sprintf("merge %s into %s", from, into)
	return kv.retry(ctx, op, func() (Hash, error) {
		theirs, err := kv.Resolve(ctx, from)
		if err != nil {
			return Hash{}, err
		}
		ours, err := kv.branches.Head(ctx, into)
		if err != nil {
			return Hash{}, err
		}
		if ours == theirs {
			return ours, nil
		}
		bases, err := kv.mergeBases(ctx, []Hash{ours}, []Hash{theirs}, &o)
		if err != nil {
			return Hash{}, fmt.Errorf("%s: %w", op, err)
		}
		if len(bases) == 1 && bases[0] == theirs {
			return ours, nil // already merged
		}
		if len(bases) == 1 && bases[0] == ours && !o.noFF {
			if err := kv.land(ctx, into, ours, theirs, nil, nil); err != nil {
				return Hash{}, err
			}
			return theirs, nil
		}
		if o.ffOnly {
			return Hash{}, fmt.Errorf("%s: not a fast-forward: %s has commits that %s lacks, so a merge commit would be needed: %w",
				op, into, from, ErrConflict)
		}
		return kv.mergeCommit(ctx, op, into, ours, theirs, bases, &o)
	})
}

// mergeBases returns the merge bases of the commit sets as and bs within
// o's bounds (see commit.MergeBases).
// The shallow commits (see shallowSet) are loaded into o once, so the
// virtual-base searches that follow treat them as roots too.
func (kv *KV) mergeBases(ctx context.Context, as, bs []Hash, o *mergeOptions) ([]Hash, error) {
	if o.shallow == nil {
		s, err := kv.shallowSet(ctx)
		if err != nil {
			return nil, err
		}
		o.shallow = s
	}
	return commit.MergeBases(ctx, kv.store, kv.nodes, as, bs, o.bounds())
}

// bounds returns the merge-base search bounds of o.
func (o *mergeOptions) bounds() commit.Bounds {
	return commit.Bounds{MaxDepth: o.maxDepth, MaxBases: o.maxBases, Shallow: o.shallow}
}

// mergeCommit merges theirs into ours (the head of branch into) and
// commits the result with both as parents.
func (kv *KV) mergeCommit(ctx context.Context, op, into string, ours, theirs Hash, bases []Hash, o *mergeOptions) (Hash, error) {
	oc, err := commit.Load(ctx, kv.store, kv.nodes, ours)
	if err != nil {
		return Hash{}, err
	}
	tc, err := commit.Load(ctx, kv.store, kv.nodes, theirs)
	if err != nil {
		return Hash{}, err
	}
	base, err := kv.virtualBase(ctx, bases, o.bounds(), 0)
	if err != nil {
		return Hash{}, fmt.Errorf("%s: %w", op, err)
	}
	to := kv.treeOptions(o)
	to.Unstored = base.objects
	res, err := tree.Merge(ctx, kv.nodes, base.root, oc.Tree, tc.Tree, to)
	if err != nil {
		return Hash{}, fmt.Errorf("%s: %w", op, err)
	}
	if len(res.Conflicts) > 0 {
		return Hash{}, conflictError(op, res.Conflicts)
	}
	return kv.commit(ctx, commitReq{branch: into, head: ours, tree: res.Root, objects: res.Objects, parents: []Hash{ours, theirs}, opts: o.commit})
}

// treeOptions returns the tree merge options for o.
func (kv *KV) treeOptions(o *mergeOptions) *tree.MergeOptions {
	to := &tree.MergeOptions{Func: kv.mergeFunc(), Prefer: o.prefer}
	if fn := o.resolve; fn != nil {
		to.Resolve = func(ctx context.Context, c tree.Conflict) (tree.Resolution, bool, error) {
			r, err := fn(ctx, newConflict(c))
			if err != nil || !r.set {
				return tree.Resolution{}, false, err
			}
			return tree.Resolution{Keep: r.keep, Value: contentsPtr(r.value)}, true, nil
		}
	}
	return to
}
