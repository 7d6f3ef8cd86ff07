package strata

import (
	"context"
	"fmt"

	"github.com/stratakv/strata/branch"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/tree"
)

// Branch returns a handle on the branch called name. It does no I/O and
// always succeeds; an invalid name makes every method of the handle return
// an error wrapping ErrInvalidBranch. A branch that does not exist yet is
// created by its first write.
func (kv *KV) Branch(name string) *Branch {
	return &Branch{kv: kv, name: name, ref: branch.NewRef(name)}
}

// Branch is a handle on one branch of a KV. It is safe for concurrent use.
// Writes through it move the branch head by compare-and-swap, retrying on
// conflict, so concurrent writers never lose each other's changes to
// different paths.
type Branch struct {
	kv   *KV
	name string
	ref  branch.Ref // name, validated once for Head
}

// Name returns the branch name.
func (b *Branch) Name() string { return b.name }

// Head returns the commit the branch points at, or an error wrapping
// ErrNotFound if the branch does not exist (has no commits).
func (b *Branch) Head(ctx context.Context) (Hash, error) {
	if err := b.kv.alive(); err != nil {
		return Hash{}, err
	}
	return b.kv.branches.HeadOf(ctx, b.ref)
}

// snapshot returns the branch's current head as a snapshot.
func (b *Branch) snapshot(ctx context.Context) (*Snapshot, error) {
	h, err := b.Head(ctx)
	if err != nil {
		return nil, err
	}
	return b.kv.snapshotAt(ctx, h)
}

// Get returns the value at path on the branch's current head. It returns an
// error wrapping ErrNotFound if the branch or the value does not exist (a
// directory is not a value) and ErrInvalidPath for a malformed path. The
// caller owns the returned bytes.
func (b *Branch) Get(ctx context.Context, path string) ([]byte, error) {
	p, err := tree.CheckPath(path)
	if err != nil {
		return nil, err
	}
	head, err := b.Head(ctx)
	if err != nil {
		return nil, err
	}
	c, err := commit.Load(ctx, b.kv.store, b.kv.nodes, head)
	if err != nil {
		return nil, err
	}
	v, err := tree.New(b.kv.nodes, c.Tree).GetPath(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("branch %q at %s: %w", b.name, head.Short(), err)
	}
	return v, nil
}

// List returns the children of the directory at path ("" is the root) on
// the branch's current head, sorted by name bytes; After and Limit select a
// page. It returns an error wrapping ErrNotFound if the branch or the
// directory does not exist.
func (b *Branch) List(ctx context.Context, path string, opts ...ListOption) ([]Entry, error) {
	s, err := b.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return s.List(ctx, path, opts...)
}

// Len returns the number of entries of the directory at path on the
// branch's current head, in O(depth) whatever the directory's size.
func (b *Branch) Len(ctx context.Context, path string) (int, error) {
	s, err := b.snapshot(ctx)
	if err != nil {
		return 0, err
	}
	return s.Len(ctx, path)
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
// wrapping ErrExists (and ErrConflict) if the branch exists or a tag has
// that name (it would be ambiguous as a revision), ErrInvalidBranch for a
// bad name and ErrNotFound if rev names nothing.
func (kv *KV) CreateBranch(ctx context.Context, name, rev string) error {
	if err := branch.ValidateName(name); err != nil {
		return err
	}
	h, err := kv.Resolve(ctx, rev)
	if err != nil {
		return err
	}
	if err := kv.nameFree(ctx, tagPrefix+name, "tag"); err != nil {
		return fmt.Errorf("branch %q: %w", name, err)
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
