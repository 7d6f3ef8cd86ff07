package strata

import (
	"context"
	"fmt"
	"time"

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
	// Shallow is set by Log on a commit marked shallow (a shallow clone
	// cut history below it): its parents are absent by design and the
	// log ends there. Parents still lists them.
	Shallow bool
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

// TreeHash returns the hash of the directory at path ("" is the root: the
// commit's tree), which Tx.SetTree grafts at any path of any branch. Equal
// directories have equal hashes. It returns an error wrapping ErrNotFound
// if nothing is at path and ErrInvalidPath if a value is there.
func (s *Snapshot) TreeHash(ctx context.Context, path string) (Hash, error) {
	if err := s.kv.alive(); err != nil {
		return Hash{}, err
	}
	segs, err := tree.ParsePath(path)
	if err != nil {
		return Hash{}, err
	}
	h, isDir, err := s.tree.SubtreeHash(ctx, segs)
	if err != nil {
		return Hash{}, fmt.Errorf("at %s: %w", s.commit.Hash.Short(), err)
	}
	if !isDir {
		return Hash{}, fmt.Errorf("%w: at %s: %q is a value, not a directory", ErrInvalidPath, s.commit.Hash.Short(), path)
	}
	return h, nil
}

func (kv *KV) snapshotAt(ctx context.Context, h Hash) (*Snapshot, error) {
	c, err := kv.loadCommit(ctx, h)
	if err != nil {
		return nil, err
	}
	return &Snapshot{kv: kv, commit: c, tree: tree.New(kv.nodes, c.Tree)}, nil
}

func (kv *KV) loadCommit(ctx context.Context, h Hash) (Commit, error) {
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
	return kv.loadCommit(ctx, h)
}
