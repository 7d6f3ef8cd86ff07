package strata

import (
	"container/heap"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/branch"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/tree"
)

// Commit describes one commit.
type Commit struct {
	Hash    Hash
	Tree    Hash   // root node of the commit's tree
	Parents []Hash // first parent first; none for a root commit
	Author  string
	Message string
	Time    time.Time
	Height  uint64 // 1 + the greatest parent height
}

func newCommit(h Hash, c *commit.Commit) Commit {
	return Commit{
		Hash: h, Tree: c.Tree, Parents: append([]Hash(nil), c.Parents...), Author: c.Author,
		Message: c.Message, Time: time.Unix(0, c.Time), Height: c.Height,
	}
}

// Snapshot is a read-only view of the tree of one commit. It is immutable and
// safe for concurrent use.
type Snapshot struct {
	kv     *KV
	commit Commit
	tree   *tree.Tree
}

// Commit returns the commit the snapshot shows.
func (s *Snapshot) Commit() Commit { return s.commit }

// Get returns the value at path, or an error wrapping ErrNotFound.
func (s *Snapshot) Get(ctx context.Context, path string) ([]byte, error) {
	if err := s.kv.alive(); err != nil {
		return nil, err
	}
	segs, err := tree.ParsePath(path)
	if err != nil {
		return nil, err
	}
	return s.get(ctx, segs)
}

func (s *Snapshot) get(ctx context.Context, segs []string) ([]byte, error) {
	v, err := s.tree.Get(ctx, segs)
	if err != nil {
		return nil, fmt.Errorf("at %s: %w", s.commit.Hash.Short(), err)
	}
	return v, nil
}

// List returns the children of the directory at path, sorted by name
// bytes; After and Limit select a page. It returns an error wrapping
// ErrNotFound if there is no directory at path.
func (s *Snapshot) List(ctx context.Context, path string, opts ...ListOption) ([]Entry, error) {
	if err := s.kv.alive(); err != nil {
		return nil, err
	}
	segs, err := tree.ParsePath(path)
	if err != nil {
		return nil, err
	}
	es, err := s.tree.List(ctx, segs, page(opts))
	if err != nil {
		return nil, fmt.Errorf("at %s: %w", s.commit.Hash.Short(), err)
	}
	return entries(es), nil
}

// Len returns the number of entries of the directory at path.
func (s *Snapshot) Len(ctx context.Context, path string) (int, error) {
	if err := s.kv.alive(); err != nil {
		return 0, err
	}
	segs, err := tree.ParsePath(path)
	if err != nil {
		return 0, err
	}
	n, err := s.tree.Len(ctx, segs)
	if err != nil {
		return 0, fmt.Errorf("at %s: %w", s.commit.Hash.Short(), err)
	}
	return n, nil
}

func (kv *KV) snapshotAt(ctx context.Context, h Hash) (*Snapshot, error) {
	c, err := kv.commit(ctx, h)
	if err != nil {
		return nil, err
	}
	return &Snapshot{kv: kv, commit: c, tree: tree.New(kv.nodes, c.Tree)}, nil
}

func (kv *KV) commit(ctx context.Context, h Hash) (Commit, error) {
	c, err := commit.Load(ctx, kv.store, kv.nodes, h)
	if err != nil {
		return Commit{}, err
	}
	return newCommit(h, c), nil
}

// At returns a read-only view of revision rev (see Resolve).
func (kv *KV) At(ctx context.Context, rev string) (*Snapshot, error) {
	h, err := kv.Resolve(ctx, rev)
	if err != nil {
		return nil, err
	}
	return kv.snapshotAt(ctx, h)
}

// Commit returns the commit that revision rev names.
func (kv *KV) Commit(ctx context.Context, rev string) (Commit, error) {
	h, err := kv.Resolve(ctx, rev)
	if err != nil {
		return Commit{}, err
	}
	return kv.commit(ctx, h)
}

// Resolve turns a revision into a commit hash. A revision is a base followed
// by any number of suffixes:
//
//	main        a branch name (branches win over hashes)
//	3fa4…       a full 64-digit commit hash, or a unique prefix of at least 4
//	REV~N       the N-th first-parent ancestor (REV~ is REV~1)
//	REV^N       the N-th parent (REV^ is REV^1, REV^0 is REV itself)
//
// Bad syntax returns an error wrapping ErrInvalidRevision; a revision that
// names nothing (no such branch or commit, history too short, ambiguous
// prefix) wraps ErrNotFound.
func (kv *KV) Resolve(ctx context.Context, rev string) (Hash, error) {
	if err := kv.alive(); err != nil {
		return Hash{}, err
	}
	i := strings.IndexAny(rev, "~^")
	if i < 0 {
		i = len(rev)
	}
	h, err := kv.resolveBase(ctx, rev, rev[:i])
	if err != nil {
		return Hash{}, err
	}
	for s := rev[i:]; s != ""; {
		op := s[0]
		s = s[1:]
		j := strings.IndexAny(s, "~^")
		if j < 0 {
			j = len(s)
		}
		n := 1
		if j > 0 {
			n, err = strconv.Atoi(s[:j])
			if err != nil || n < 0 {
				return Hash{}, fmt.Errorf("%w: %q: %q is not a count", ErrInvalidRevision, rev, s[:j])
			}
		}
		s = s[j:]
		if h, err = kv.ancestor(ctx, rev, h, op, n); err != nil {
			return Hash{}, err
		}
	}
	return h, nil
}

func (kv *KV) ancestor(ctx context.Context, rev string, h Hash, op byte, n int) (Hash, error) {
	if op == '^' {
		if n == 0 {
			return h, nil
		}
		c, err := commit.Load(ctx, kv.store, kv.nodes, h)
		if err != nil {
			return Hash{}, err
		}
		if n > len(c.Parents) {
			return Hash{}, fmt.Errorf("revision %q: commit %s has %d parents: %w", rev, h.Short(), len(c.Parents), ErrNotFound)
		}
		return c.Parents[n-1], nil
	}
	for k := 0; k < n; k++ {
		c, err := commit.Load(ctx, kv.store, kv.nodes, h)
		if err != nil {
			return Hash{}, err
		}
		if len(c.Parents) == 0 {
			return Hash{}, fmt.Errorf("revision %q: history ends after %d generations: %w", rev, k, ErrNotFound)
		}
		h = c.Parents[0]
	}
	return h, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func (kv *KV) resolveBase(ctx context.Context, rev, base string) (Hash, error) {
	if base == "" {
		return Hash{}, fmt.Errorf("%w: %q: empty revision", ErrInvalidRevision, rev)
	}
	if branch.ValidateName(base) == nil {
		h, err := kv.branches.Head(ctx, base)
		if err == nil || !errors.Is(err, ErrNotFound) {
			return h, err
		}
	}
	if !isHex(base) || len(base) > 2*backend.HashSize {
		if err := branch.ValidateName(base); err != nil {
			return Hash{}, fmt.Errorf("%w: %q is neither a branch name nor a hexadecimal hash", ErrInvalidRevision, base)
		}
		return Hash{}, fmt.Errorf("revision %q: no branch %q: %w", rev, base, ErrNotFound)
	}
	if len(base) == 2*backend.HashSize {
		h, err := backend.ParseHash(base)
		if err != nil {
			return Hash{}, fmt.Errorf("%w: %v", ErrInvalidRevision, err)
		}
		if _, err := commit.Load(ctx, kv.store, kv.nodes, h); err != nil {
			// A hash the user typed names no stored link: its absence
			// is not damage.
			if errors.Is(err, ErrMissing) {
				return Hash{}, fmt.Errorf("revision %q: no branch or commit: %w", rev, ErrNotFound)
			}
			return Hash{}, err
		}
		return h, nil
	}
	if len(base) < 4 {
		return Hash{}, fmt.Errorf("revision %q: no branch %q, and a hash prefix needs at least 4 digits: %w", rev, base, ErrNotFound)
	}
	return kv.resolvePrefix(ctx, rev, strings.ToLower(base))
}

// resolvePrefix finds the one commit whose hash starts with the hex digits p.
func (kv *KV) resolvePrefix(ctx context.Context, rev, p string) (Hash, error) {
	lister, ok := kv.store.(backend.ObjectLister)
	if !ok {
		return Hash{}, fmt.Errorf("revision %q: this backend cannot look up abbreviated hashes; give all 64 digits: %w", rev, ErrNotFound)
	}
	prefix, _ := hex.DecodeString(p[:len(p)/2*2])
	var found []Hash
	err := lister.ListObjects(ctx, prefix, func(h Hash) error {
		if !strings.HasPrefix(h.String(), p) {
			return nil
		}
		if _, err := commit.Load(ctx, kv.store, kv.nodes, h); err != nil {
			if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNotFound) {
				return nil // not a commit (or unreadable): not a candidate
			}
			return err
		}
		found = append(found, h)
		return nil
	})
	if err != nil {
		return Hash{}, err
	}
	switch len(found) {
	case 0:
		return Hash{}, fmt.Errorf("revision %q: no branch or commit: %w", rev, ErrNotFound)
	case 1:
		return found[0], nil
	}
	return Hash{}, fmt.Errorf("revision %q: prefix is ambiguous (%d commits match; give more digits): %w", rev, len(found), ErrNotFound)
}

// LogOption filters a log.
type LogOption func(*logOptions)

type logOptions struct {
	path    []string
	hasPath bool
	pathErr error
}

// PathFilter keeps in a log only the commits that changed something at or
// below path: those whose value or subtree at path differs from that of
// each of their parents (a merge that took path unchanged from one parent
// is left out, as git does). Each commit costs O(depth of path) reads of
// (usually cached) directory objects; no unchanged subtree is read.
func PathFilter(path string) LogOption {
	return func(o *logOptions) {
		o.path, o.pathErr = tree.ParsePath(path)
		o.hasPath = true
	}
}

// Log returns up to n commits reachable from revision rev (all if n <= 0),
// newest first: ordered by time, then height, then hash, each commit once.
// A PathFilter keeps only the commits that changed that path.
func (kv *KV) Log(ctx context.Context, rev string, n int, opts ...LogOption) ([]Commit, error) {
	if err := kv.alive(); err != nil {
		return nil, err
	}
	var lo logOptions
	for _, f := range opts {
		f(&lo)
	}
	if lo.pathErr != nil {
		return nil, lo.pathErr
	}
	h, err := kv.Resolve(ctx, rev)
	if err != nil {
		return nil, err
	}
	var out []Commit
	q := &commitQueue{}
	seen := map[Hash]bool{h: true}
	first, err := kv.commit(ctx, h)
	if err != nil {
		return nil, err
	}
	heap.Push(q, first)
	// The subtree hash at the filtered path, by commit tree.
	at := func(treeHash Hash) (Hash, error) {
		sh, _, err := tree.New(kv.nodes, treeHash).SubtreeHash(ctx, lo.path)
		if errors.Is(err, ErrNotFound) {
			return Hash{}, nil
		}
		return sh, err
	}
	for q.Len() > 0 && (n <= 0 || len(out) < n) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := heap.Pop(q).(Commit)
		keep := true
		var mine Hash
		if lo.hasPath {
			if mine, err = at(c.Tree); err != nil {
				return nil, err
			}
			keep = len(c.Parents) > 0 || !mine.IsZero()
		}
		for _, p := range c.Parents {
			if seen[p] && !lo.hasPath {
				continue
			}
			pc, err := kv.commit(ctx, p)
			if err != nil {
				return nil, fmt.Errorf("history of %s: %w", c.Hash.Short(), err)
			}
			if lo.hasPath && keep {
				theirs, err := at(pc.Tree)
				if err != nil {
					return nil, err
				}
				keep = theirs != mine
			}
			if !seen[p] {
				seen[p] = true
				heap.Push(q, pc)
			}
		}
		if keep {
			out = append(out, c)
		}
	}
	return out, nil
}

type commitQueue []Commit

func (q commitQueue) Len() int { return len(q) }
func (q commitQueue) Less(i, j int) bool {
	a, b := q[i], q[j]
	if !a.Time.Equal(b.Time) {
		return a.Time.After(b.Time)
	}
	if a.Height != b.Height {
		return a.Height > b.Height
	}
	return a.Hash.String() > b.Hash.String()
}
func (q commitQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *commitQueue) Push(x any)   { *q = append(*q, x.(Commit)) }
func (q *commitQueue) Pop() any {
	old := *q
	c := old[len(old)-1]
	*q = old[:len(old)-1]
	return c
}

// Op is the kind of a Change.
type Op = tree.Op

// The kinds of change.
const (
	Add    = tree.Add
	Modify = tree.Modify
	Remove = tree.Remove
)

// Change is one value that differs between two revisions. Old is nil for
// Add; New is nil for Remove.
type Change struct {
	Op       Op
	Path     string
	Old, New []byte
}

// Diff returns the values that differ from revision from to revision to,
// sorted by path bytes. Its cost follows the size of the change: directories
// with equal hashes are skipped without being read.
func (kv *KV) Diff(ctx context.Context, from, to string) ([]Change, error) {
	a, err := kv.Commit(ctx, from)
	if err != nil {
		return nil, err
	}
	b, err := kv.Commit(ctx, to)
	if err != nil {
		return nil, err
	}
	return kv.diffTrees(ctx, a.Tree, b.Tree)
}

func (kv *KV) diffTrees(ctx context.Context, a, b Hash) ([]Change, error) {
	tcs, err := tree.Diff(ctx, kv.nodes, a, b)
	if err != nil {
		return nil, err
	}
	out := make([]Change, len(tcs))
	for i, tc := range tcs {
		out[i] = Change{Op: tc.Op, Path: tc.Path}
		if tc.Op != Add {
			if out[i].Old, err = tree.Value(ctx, kv.store, tc.Old, tc.Path); err != nil {
				return nil, err
			}
		}
		if tc.Op != Remove {
			if out[i].New, err = tree.Value(ctx, kv.store, tc.New, tc.Path); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// Changes returns what commit rev changed relative to its first parent (all
// its values, for a root commit).
func (kv *KV) Changes(ctx context.Context, rev string) ([]Change, error) {
	c, err := kv.Commit(ctx, rev)
	if err != nil {
		return nil, err
	}
	var parentTree Hash
	if len(c.Parents) > 0 {
		p, err := kv.commit(ctx, c.Parents[0])
		if err != nil {
			return nil, err
		}
		parentTree = p.Tree
	}
	return kv.diffTrees(ctx, parentTree, c.Tree)
}

// BranchInfo is a branch and its head.
type BranchInfo struct {
	Name string
	Head Hash
}

// CorruptBranchesError is returned by Branches (with the readable
// branches) when some branches' refs hold something other than a commit
// hash. It names them and wraps ErrCorrupt; DeleteBranch removes them.
type CorruptBranchesError = branch.CorruptError

// Branches lists every branch, sorted by name. If the refs of some
// branches are damaged, it returns the other branches together with a
// *CorruptBranchesError naming the damaged ones (wrapping ErrCorrupt), so
// one bad branch hides none of the others; a backend that cannot list
// damaged refs (no backend.RefRepairer) returns only the error.
func (kv *KV) Branches(ctx context.Context) ([]BranchInfo, error) {
	if err := kv.alive(); err != nil {
		return nil, err
	}
	bs, err := kv.branches.List(ctx)
	if bs == nil && err != nil {
		return nil, err
	}
	out := make([]BranchInfo, len(bs))
	for i, b := range bs {
		out[i] = BranchInfo{Name: b.Name, Head: b.Head}
	}
	return out, err
}

// CreateBranch creates branch name at revision rev. It returns an error
// wrapping ErrExists (and ErrConflict) if the branch exists, ErrInvalidBranch
// for a bad name and ErrNotFound if rev names nothing.
func (kv *KV) CreateBranch(ctx context.Context, name, rev string) error {
	if err := branch.ValidateName(name); err != nil {
		return err
	}
	h, err := kv.Resolve(ctx, rev)
	if err != nil {
		return err
	}
	return kv.branches.Create(ctx, name, h)
}

// DeleteBranch deletes branch name. Its commits stay in the store. It
// returns an error wrapping ErrNotFound if the branch does not exist. A
// branch whose ref is damaged (ErrCorrupt from Head or Branches) is
// deleted unconditionally, on every backend that implements
// backend.RefRepairer (mem, Pebble, Redis): that is its repair.
func (kv *KV) DeleteBranch(ctx context.Context, name string) error {
	if err := kv.alive(); err != nil {
		return err
	}
	return kv.branches.Delete(ctx, name)
}
