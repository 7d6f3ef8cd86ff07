package strata

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/branch"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// Side names one of the three versions in a merge: Base (the common
// ancestor), Ours (the branch merged into) or Theirs (what is merged in).
type Side = contents.Side

// The sides of a merge.
const (
	Base   = contents.Base
	Ours   = contents.Ours
	Theirs = contents.Theirs
)

// ConflictKind says what kind of disagreement a Conflict is: its String is
// "content", "delete", "directory" or "type".
type ConflictKind = tree.ConflictKind

// The kinds of conflict.
const (
	// ConflictContent: both sides changed a value differently and its
	// merge function could not combine the changes.
	ConflictContent = tree.ConflictContent
	// ConflictDelete: one side changed a value, the other removed it.
	ConflictDelete = tree.ConflictDelete
	// ConflictDirectory: a value on one side, a directory on the other.
	ConflictDirectory = tree.ConflictDirectory
	// ConflictType: both sides changed a value, to different kinds.
	ConflictType = tree.ConflictType
)

// Conflict is one path that a merge could not settle.
type Conflict struct {
	Path string
	Kind ConflictKind
	// Base, Ours and Theirs are the values at Path in the merge base and
	// on the two sides; nil where that side has nothing there, or a
	// directory.
	Base, Ours, Theirs *Value
	// Detail says what conflicts, in words, such as
	// `JSON field "/owner" changed differently on both sides` or
	// "changed on ours, removed on theirs".
	Detail string
	// Fields are the JSON Pointers (RFC 6901) of the conflicting members
	// of a JSON value ("" for the whole document); nil otherwise.
	Fields []string
}

// String returns "PATH KIND: DETAIL".
func (c Conflict) String() string { return fmt.Sprintf("%s %s: %s", c.Path, c.Kind, c.Detail) }

func newConflict(c tree.Conflict) Conflict {
	return Conflict{Path: c.Path, Kind: c.Kind, Base: valuePtr(c.Base), Ours: valuePtr(c.Ours),
		Theirs: valuePtr(c.Theirs), Detail: c.Detail, Fields: c.Fields}
}

// MergeConflictError is the error of a merge, revert or cherry-pick that
// found conflicts it could not settle. Nothing was written. It wraps
// ErrConflict; get at it with errors.As.
type MergeConflictError struct {
	Op        string     // what was being done: "merge feature into main"
	Conflicts []Conflict // every conflict, sorted by path
}

func (e *MergeConflictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d %s", e.Op, len(e.Conflicts), plural(len(e.Conflicts), "conflict", "conflicts"))
	for i, c := range e.Conflicts {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Conflicts)-3)
			break
		}
		sep := ": "
		if i > 0 {
			sep = "; "
		}
		b.WriteString(sep + c.String())
	}
	return b.String()
}

// Unwrap returns ErrConflict.
func (e *MergeConflictError) Unwrap() error { return ErrConflict }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// MergeFunc merges the value at path that both sides of a merge changed
// differently: base, ours and theirs are the three versions (nil where a
// side has nothing there, so a removal against a change reaches it too).
// It returns the merged value, or nil to remove the path. An error that
// wraps ErrConflict makes the path a conflict described by the error's
// message; any other error stops the merge. MergeValues is the default it
// replaces. It must be deterministic and safe for concurrent use.
type MergeFunc func(ctx context.Context, path string, base, ours, theirs *Value) (*Value, error)

type pathMerger struct {
	prefix []string
	fn     MergeFunc
	err    error // the prefix is not a valid path
}

// MergeWith registers fn to merge the values at prefix and below it (a
// path prefix, segment by segment: "config" covers "config/a" but not
// "configs"; "" covers everything), in place of the built-in merge of
// their kind, in every merge the KV makes: Merge, Revert, CherryPick and
// the merges of concurrent writes. When several prefixes cover a path, the
// longest wins. An invalid prefix makes those merges fail with
// ErrInvalidPath.
func MergeWith(prefix string, fn MergeFunc) OpenOption {
	segs, err := tree.ParsePath(prefix)
	return func(o *openOptions) { o.mergers = append(o.mergers, pathMerger{segs, fn, err}) }
}

// mergeFunc returns the tree merge callback for the registered MergeFuncs,
// or nil if there are none.
func (kv *KV) mergeFunc() func(context.Context, string, *contents.Contents, *contents.Contents, *contents.Contents) (*contents.Contents, bool, error) {
	if len(kv.opts.mergers) == 0 {
		return nil
	}
	return func(ctx context.Context, path string, b, o, t *contents.Contents) (*contents.Contents, bool, error) {
		segs := strings.Split(path, "/")
		var best *pathMerger
		for i := range kv.opts.mergers {
			m := &kv.opts.mergers[i]
			if m.err != nil {
				return nil, false, fmt.Errorf("merge function: %w", m.err)
			}
			if len(m.prefix) <= len(segs) && (best == nil || len(m.prefix) >= len(best.prefix)) && equalSegs(m.prefix, segs[:len(m.prefix)]) {
				best = m
			}
		}
		if best == nil {
			return nil, false, nil
		}
		r, err := best.fn(ctx, path, valuePtr(b), valuePtr(o), valuePtr(t))
		if err != nil {
			return nil, false, err
		}
		return contentsPtr(r), true, nil
	}
}

func equalSegs(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// Resolution says how a ResolveFunc settles a conflict; its zero value
// leaves the conflict unsettled.
type Resolution struct {
	set   bool
	keep  Side
	value *Value
}

// Keep settles a conflict by keeping one side's version of the path as it
// is: its value, its directory or its absence.
func Keep(s Side) Resolution { return Resolution{set: true, keep: s} }

// Replace settles a conflict by storing v at the path.
func Replace(v Value) Resolution { return Resolution{set: true, value: &v} }

// Drop settles a conflict by removing the path: no value, no directory.
func Drop() Resolution { return Resolution{set: true} }

// ResolveFunc settles the conflicts a merge finds, one at a time. It
// returns how (the zero Resolution leaves the conflict to be reported); an
// error stops the merge.
type ResolveFunc func(ctx context.Context, c Conflict) (Resolution, error)

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
	maxDepth int
	maxBases int
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

// MaxDepth bounds a merge-base search: it fails with an error wrapping
// ErrLimit rather than look at commits more than n generations (by
// height) below the higher of the two revisions (default DefaultMaxDepth).
func MaxDepth(n int) MergeOption {
	return mergeOption(func(o *mergeOptions) { o.maxDepth = max(n, 0) })
}

// MaxBases bounds the number of merge bases (lowest common ancestors) a
// search may find before it fails with an error wrapping ErrLimit
// (default DefaultMaxBases; criss-cross histories have several).
func MaxBases(n int) MergeOption {
	return mergeOption(func(o *mergeOptions) { o.maxBases = max(n, 1) })
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

// MergeBase returns the merge bases of revisions a and b: their lowest
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
	ha, err := kv.Resolve(ctx, a)
	if err != nil {
		return nil, err
	}
	hb, err := kv.Resolve(ctx, b)
	if err != nil {
		return nil, err
	}
	bases, err := kv.lcas(ctx, []Hash{ha}, []Hash{hb}, &o)
	if err != nil {
		return nil, fmt.Errorf("merge base of %q and %q: %w", a, b, err)
	}
	return bases, nil
}

// lcaNode is one commit seen by a merge-base search.
type lcaNode struct {
	h       Hash
	height  uint64
	parents []Hash
	flags   uint8
	queued  bool
}

const (
	fromA uint8 = 1 << iota // reachable from the first set
	fromB                   // reachable from the second
	stale                   // an ancestor of a common ancestor
)

type lcaQueue []*lcaNode

func (q lcaQueue) Len() int { return len(q) }
func (q lcaQueue) Less(i, j int) bool {
	if q[i].height != q[j].height {
		return q[i].height > q[j].height
	}
	return string(q[i].h[:]) < string(q[j].h[:])
}
func (q lcaQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *lcaQueue) Push(x any)   { *q = append(*q, x.(*lcaNode)) }
func (q *lcaQueue) Pop() any {
	old := *q
	n := old[len(old)-1]
	*q = old[:len(old)-1]
	return n
}

// lcas returns the lowest common ancestors of the commit sets as and bs.
// It visits commits in decreasing height, so every child of a commit is
// seen (and has passed on its flags) before the commit itself: a commit
// reachable from both sides and not yet marked stale is a lowest common
// ancestor, and marks its own ancestors stale. It stops when only stale
// commits are left to visit.
func (kv *KV) lcas(ctx context.Context, as, bs []Hash, o *mergeOptions) ([]Hash, error) {
	seen := map[Hash]*lcaNode{}
	q := &lcaQueue{}
	nonStale := 0
	var top uint64
	visit := func(h Hash, flags uint8) error {
		n := seen[h]
		if n == nil {
			c, err := commit.Load(ctx, kv.store, kv.nodes, h)
			if err != nil {
				return err
			}
			n = &lcaNode{h: h, height: c.Height, parents: c.Parents}
			seen[h] = n
		}
		if n.flags|flags == n.flags {
			return nil
		}
		if n.queued && n.flags&stale == 0 && flags&stale != 0 {
			nonStale--
		}
		n.flags |= flags
		if !n.queued {
			n.queued = true
			heap.Push(q, n)
			if n.flags&stale == 0 {
				nonStale++
			}
		}
		return nil
	}
	for _, h := range as {
		if err := visit(h, fromA); err != nil {
			return nil, err
		}
	}
	for _, h := range bs {
		if err := visit(h, fromB); err != nil {
			return nil, err
		}
	}
	for _, n := range *q {
		top = max(top, n.height)
	}
	var out []*lcaNode
	for visited := 0; nonStale > 0; visited++ {
		if visited%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		n := heap.Pop(q).(*lcaNode)
		n.queued = false
		flags := n.flags
		if flags&stale == 0 {
			nonStale--
			if top-n.height > uint64(o.maxDepth) {
				return nil, fmt.Errorf("%w: no merge base within %d generations (MaxDepth) of commit %s", ErrLimit, o.maxDepth, n.h.Short())
			}
			if flags&(fromA|fromB) == fromA|fromB {
				out = append(out, n)
				if len(out) > o.maxBases {
					return nil, fmt.Errorf("%w: more than %d merge bases (MaxBases)", ErrLimit, o.maxBases)
				}
				flags |= stale
			}
		}
		for _, p := range n.parents {
			if err := visit(p, flags); err != nil {
				return nil, fmt.Errorf("history of %s: %w", n.h.Short(), err)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return lcaQueue(out).Less(i, j) })
	hs := make([]Hash, len(out))
	for i, n := range out {
		hs[i] = n.h
	}
	return hs, nil
}

// maxVirtualDepth bounds the recursion of baseTree: merging merge bases
// that themselves have several merge bases, and so on.
const maxVirtualDepth = 16

// baseTree returns the tree to merge against for the merge bases bases:
// the empty tree for none, the base's tree for one, and for several a
// virtual ancestor, made by merging them one by one (each pair against
// its own merge base, recursively). Conflicts within the virtual ancestor
// take the older base's version, so the real merge sees both sides'
// versions as changes and reports the conflict if they still disagree.
func (kv *KV) baseTree(ctx context.Context, bases []Hash, o *mergeOptions, depth int) (Hash, error) {
	treeOf := func(h Hash) (Hash, error) {
		c, err := commit.Load(ctx, kv.store, kv.nodes, h)
		if err != nil {
			return Hash{}, err
		}
		return c.Tree, nil
	}
	switch {
	case len(bases) == 0:
		return node.Empty, nil
	case len(bases) == 1:
		return treeOf(bases[0])
	case depth >= maxVirtualDepth:
		return Hash{}, fmt.Errorf("%w: merge bases nested more than %d deep", ErrLimit, maxVirtualDepth)
	}
	virtual, err := treeOf(bases[0])
	if err != nil {
		return Hash{}, err
	}
	set := []Hash{bases[0]}
	for _, h := range bases[1:] {
		sub, err := kv.lcas(ctx, set, []Hash{h}, o)
		if err != nil {
			return Hash{}, err
		}
		bt, err := kv.baseTree(ctx, sub, o, depth+1)
		if err != nil {
			return Hash{}, err
		}
		next, err := treeOf(h)
		if err != nil {
			return Hash{}, err
		}
		res, err := tree.Merge(ctx, kv.nodes, bt, virtual, next, &tree.MergeOptions{Func: kv.mergeFunc(), Prefer: Base})
		if err != nil {
			return Hash{}, err
		}
		// The final merge may keep base entries: store what they need.
		if len(res.Objects) > 0 {
			if err := kv.store.Put(ctx, res.Objects); err != nil {
				return Hash{}, fmt.Errorf("virtual merge base: %w", err)
			}
		}
		virtual = res.Root
		set = append(set, h)
	}
	return virtual, nil
}

// Merge merges revision from (a branch or a commit) into branch into and
// returns into's new head. If into already contains from, nothing
// changes. If from contains into, into moves forward to from (a
// fast-forward) unless NoFastForward is given. Otherwise the two trees are
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
	if o.commit.message == "" {
		o.commit.message = fmt.Sprintf("merge %s into %s", from, into)
	}
	op := fmt.Sprintf("merge %s into %s", from, into)
	var lastErr error
	for attempt := 0; attempt < kv.opts.maxRetries; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return Hash{}, err
			}
		}
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
		bases, err := kv.lcas(ctx, []Hash{ours}, []Hash{theirs}, &o)
		if err != nil {
			return Hash{}, fmt.Errorf("%s: %w", op, err)
		}
		if len(bases) == 1 && bases[0] == theirs {
			return ours, nil // already merged
		}
		if len(bases) == 1 && bases[0] == ours && !o.noFF {
			err := kv.branches.CompareAndSwap(ctx, into, ours, theirs)
			if err == nil {
				return theirs, nil
			}
			if !errors.Is(err, ErrConflict) {
				return Hash{}, err
			}
			lastErr = err
			continue
		}
		h, err := kv.mergeCommit(ctx, op, into, ours, theirs, bases, &o)
		if err == nil || !errors.Is(err, errHeadMoved) {
			return h, err
		}
		lastErr = err
	}
	return Hash{}, fmt.Errorf("%s: gave up after %d attempts: %w", op, kv.opts.maxRetries, lastErr)
}

// errHeadMoved: the branch moved while a merge was computed.
var errHeadMoved = fmt.Errorf("branch moved during the merge: %w", ErrConflict)

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
	bt, err := kv.baseTree(ctx, bases, o, 0)
	if err != nil {
		return Hash{}, fmt.Errorf("%s: %w", op, err)
	}
	res, err := tree.Merge(ctx, kv.nodes, bt, oc.Tree, tc.Tree, kv.treeOptions(o))
	if err != nil {
		return Hash{}, fmt.Errorf("%s: %w", op, err)
	}
	if len(res.Conflicts) > 0 {
		return Hash{}, conflictError(op, res.Conflicts)
	}
	return kv.commitOn(ctx, into, ours, res, []Hash{ours, theirs}, max(oc.Height, tc.Height)+1, o.commit)
}

func conflictError(op string, cs []tree.Conflict) error {
	e := &MergeConflictError{Op: op, Conflicts: make([]Conflict, len(cs))}
	for i, c := range cs {
		e.Conflicts[i] = newConflict(c)
	}
	return e
}

// commitOn commits a merged tree on branch name, moving it from head; it
// returns errHeadMoved if the branch is no longer at head.
func (kv *KV) commitOn(ctx context.Context, name string, head Hash, res *tree.MergeResult, parents []Hash, height uint64, co commitOptions) (Hash, error) {
	if co.author == "" {
		co.author = "strata"
	}
	when := co.time
	if when.IsZero() {
		when = time.Now()
	}
	c := commit.Object(&commit.Commit{
		Tree: res.Root, Parents: parents, Author: co.author, Message: co.message,
		Time: when.UnixNano(), Height: height,
	})
	err := kv.branches.Commit(ctx, kv.store, append(res.Objects, c), name, head, c.Hash)
	switch {
	case err == nil:
		return c.Hash, nil
	case errors.Is(err, ErrConflict):
		return Hash{}, errHeadMoved
	}
	return Hash{}, err
}

// Revert undoes the change commit rev made (relative to its first parent)
// on the branch's current head, as a three-way merge of the head and rev's
// parent against rev, and commits the result as one new commit whose
// message defaults to `revert "MESSAGE"` and the reverted hash. If the
// head no longer holds anything of that change, nothing is committed and
// the head is returned. Conflicts (a later change to the same values)
// write nothing and return a *MergeConflictError; Resolver and Prefer
// settle them as in Merge. A missing branch returns ErrNotFound.
func (b *Branch) Revert(ctx context.Context, rev string, opts ...MergeOption) (Hash, error) {
	return b.pick(ctx, rev, true, opts)
}

// CherryPick applies the change commit rev made (relative to its first
// parent) to the branch's current head, as a three-way merge of the head
// and rev against rev's parent, and commits the result as one new commit
// with rev's message and author unless options say otherwise. If the head
// already holds that change, nothing is committed and the head is
// returned. Conflicts write nothing and return a *MergeConflictError;
// Resolver and Prefer settle them as in Merge. A branch that does not exist
// yet is created.
func (b *Branch) CherryPick(ctx context.Context, rev string, opts ...MergeOption) (Hash, error) {
	return b.pick(ctx, rev, false, opts)
}

func (b *Branch) pick(ctx context.Context, rev string, revert bool, opts []MergeOption) (Hash, error) {
	if err := b.kv.alive(); err != nil {
		return Hash{}, err
	}
	if err := branch.ValidateName(b.name); err != nil {
		return Hash{}, err
	}
	kv := b.kv
	h, err := kv.Resolve(ctx, rev)
	if err != nil {
		return Hash{}, err
	}
	c, err := commit.Load(ctx, kv.store, kv.nodes, h)
	if err != nil {
		return Hash{}, err
	}
	parent := node.Empty
	if len(c.Parents) > 0 {
		p, err := commit.Load(ctx, kv.store, kv.nodes, c.Parents[0])
		if err != nil {
			return Hash{}, err
		}
		parent = p.Tree
	}
	o := newMergeOptions(opts)
	base, theirs := parent, c.Tree
	op := "cherry-pick " + h.Short()
	if revert {
		base, theirs = c.Tree, parent
		op = "revert " + h.Short()
		if o.commit.message == "" {
			subject, _, _ := strings.Cut(c.Message, "\n")
			o.commit.message = fmt.Sprintf("revert %q\n\nThis reverts commit %s.", subject, h)
		}
	} else {
		if o.commit.message == "" {
			o.commit.message = c.Message
		}
		if o.commit.author == "" {
			o.commit.author = c.Author
		}
	}
	op += " onto " + b.name
	var lastErr error
	for attempt := 0; attempt < kv.opts.maxRetries; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return Hash{}, err
			}
		}
		head, err := kv.branches.Head(ctx, b.name)
		if err != nil && (revert || !errors.Is(err, ErrNotFound)) {
			return Hash{}, err
		}
		ours, height := node.Empty, uint64(0)
		var parents []Hash
		if !head.IsZero() {
			hc, err := commit.Load(ctx, kv.store, kv.nodes, head)
			if err != nil {
				return Hash{}, err
			}
			ours, height, parents = hc.Tree, hc.Height, []Hash{head}
		}
		res, err := tree.Merge(ctx, kv.nodes, base, ours, theirs, kv.treeOptions(&o))
		if err != nil {
			return Hash{}, fmt.Errorf("%s: %w", op, err)
		}
		if len(res.Conflicts) > 0 {
			return Hash{}, conflictError(op, res.Conflicts)
		}
		if res.Root == ours || (head.IsZero() && res.Root == node.Empty) {
			return head, nil // nothing to do
		}
		nh, err := kv.commitOn(ctx, b.name, head, res, parents, height+1, o.commit)
		if err == nil || !errors.Is(err, errHeadMoved) {
			return nh, err
		}
		lastErr = err
	}
	return Hash{}, fmt.Errorf("%s: gave up after %d attempts: %w", op, kv.opts.maxRetries, lastErr)
}

// BasedOn says that a write's change was made against commit h (normally
// an earlier head of the branch, whose values the caller read): the change
// is applied to h's tree and then merged three-way into the branch's
// current head, with h's tree as the base, so that what other writers
// changed since h is kept. Read a JSON document at h, change one member,
// and write it back with BasedOn(h): a concurrent change to another member
// survives. It applies to Set, SetValue, Delete, Add and Update (whose
// function then runs on h's tree). Where the change clashes with a change
// made since h, the write's version wins (a clashing JSON member, a
// clashing region of text, a whole raw value); where a value and a
// directory clash, the change is made again on the current head.
func BasedOn(h Hash) CommitOption { return func(o *commitOptions) { o.basedOn = h } }

// ownChange is a write's own change, kept so that when another writer
// moves the head first the write can merge it into the new head instead
// of making it again from scratch: three-way, with the tree the change was
// made on as the base, so a counter's increments add up and edits of
// different members of a JSON value combine. The change is a blind write
// (Set, Delete, Add: it says what the value is to be), so where it clashes
// with the new head its version wins, at the finest grain the value's kind
// allows; where a value and a directory clash, it is made again on the new
// head (and fails there as it would have). Update re-runs its function on
// the new head instead, since it read what it wrote.
type ownChange struct {
	merge   bool // merge on retry; false: make the change again (Update)
	basedOn Hash // make the change on this commit's tree first (BasedOn)
	made    bool
	base    Hash             // the tree the change was made on
	root    Hash             // the tree it made
	objs    []backend.Object // the objects it made, perhaps not stored
}

// make returns the tree the change makes on tree head (and its new
// objects): by merging the change made before, or by applying it.
func (c *ownChange) make(ctx context.Context, kv *KV, head Hash, apply func(context.Context, *tree.Builder) error) ([]backend.Object, Hash, error) {
	if !c.made && !c.basedOn.IsZero() {
		bc, err := commit.Load(ctx, kv.store, kv.nodes, c.basedOn)
		if err != nil {
			if errors.Is(err, ErrMissing) { // a hash the caller gave, not a stored link
				return nil, Hash{}, fmt.Errorf("based on %s: no such commit: %w", c.basedOn.Short(), ErrNotFound)
			}
			return nil, Hash{}, fmt.Errorf("based on %s: %w", c.basedOn.Short(), err)
		}
		if _, _, err := c.apply(ctx, kv, bc.Tree, apply); err != nil {
			return nil, Hash{}, err
		}
	}
	if c.made && head == c.base {
		return c.objs, c.root, nil
	}
	if c.made && (c.merge || !c.basedOn.IsZero()) {
		res, err := c.mergeInto(ctx, kv, head)
		if err != nil || res != nil {
			if err != nil {
				return nil, Hash{}, err
			}
			return res.Objects, res.Root, nil
		}
	}
	return c.apply(ctx, kv, head, apply)
}

// apply makes the change on tree base.
func (c *ownChange) apply(ctx context.Context, kv *KV, base Hash, apply func(context.Context, *tree.Builder) error) ([]backend.Object, Hash, error) {
	t := tree.New(kv.nodes, base).Builder()
	if err := apply(ctx, t); err != nil {
		return nil, Hash{}, err
	}
	objs, root, err := t.Objects(ctx)
	if err != nil {
		return nil, Hash{}, err
	}
	c.made, c.base, c.root, c.objs = true, base, root, objs
	return objs, root, nil
}

// mergeInto merges the change into tree head, or returns nil if a value
// and a directory clash.
func (c *ownChange) mergeInto(ctx context.Context, kv *KV, head Hash) (*tree.MergeResult, error) {
	o := &tree.MergeOptions{Func: kv.mergeFunc(), Unstored: c.objs}
	res, err := tree.Merge(ctx, kv.nodes, c.base, head, c.root, o)
	if err != nil || len(res.Conflicts) == 0 {
		return res, err
	}
	for _, cf := range res.Conflicts {
		if cf.Kind == tree.ConflictDirectory {
			return nil, nil
		}
	}
	o.Prefer = Theirs // the change's own version
	return tree.Merge(ctx, kv.nodes, c.base, head, c.root, o)
}
