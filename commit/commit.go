// Package commit encodes, hashes and reads commits: a root tree, its
// parents, who made it, why, when, and its height in the history graph. The
// exact encoding is in docs/FORMAT.md.
package commit

import (
	"context"
	"fmt"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/internal/codec"
)

// Commit is one version of the whole tree.
type Commit struct {
	Tree    backend.Hash   // the root node
	Parents []backend.Hash // ordered; empty for a root commit
	Author  string
	Message string
	Time    int64  // Unix nanoseconds
	Height  uint64 // 1 + the greatest parent height; 1 for a root commit
}

// Refs returns the hashes c refers to: its tree, then its parents.
func (c *Commit) Refs() []backend.Hash {
	return append([]backend.Hash{c.Tree}, c.Parents...)
}

// Encode returns the canonical encoding of c:
// [tag=3, version, tree bin32, [parent bin32...], author str, message str,
// time int64, height uint64], integers at fixed width. The result is a
// fresh slice the caller owns.
func Encode(c *Commit) []byte {
	size := codec.SizeHeader(6) + codec.SizeHash +
		codec.SizeArrayLen(len(c.Parents)) + len(c.Parents)*codec.SizeHash +
		codec.SizeString(len(c.Author)) + codec.SizeString(len(c.Message)) +
		codec.SizeInt64 + codec.SizeUint64
	b := make([]byte, 0, size)
	b = codec.AppendHeader(b, codec.TagCommit, 6)
	b = codec.AppendHash(b, &c.Tree)
	b = codec.AppendArrayLen(b, len(c.Parents))
	for i := range c.Parents {
		b = codec.AppendHash(b, &c.Parents[i])
	}
	b = codec.AppendString(b, c.Author)
	b = codec.AppendString(b, c.Message)
	b = codec.AppendInt64(b, c.Time)
	return codec.AppendUint64(b, c.Height)
}

// Decode decodes an encoded Commit. Only the canonical encoding is
// accepted (docs/FORMAT.md): anything else, and malformed input, returns an
// error wrapping backend.ErrCorrupt.
func Decode(b []byte) (*Commit, error) {
	c := &Commit{}
	err := codec.Decode(b, codec.TagCommit, 6, func(r *codec.Reader) error {
		var err error
		if c.Tree, err = r.Hash("tree"); err != nil {
			return err
		}
		n, err := r.ArrayLen("parents", 2+backend.HashSize)
		if err != nil {
			return err
		}
		if n > 0 {
			c.Parents = make([]backend.Hash, n)
		}
		for i := range c.Parents {
			if c.Parents[i], err = r.Hash("parent"); err != nil {
				return err
			}
		}
		if c.Author, err = r.String("author"); err != nil {
			return err
		}
		if c.Message, err = r.String("message"); err != nil {
			return err
		}
		if c.Time, err = r.Int64("time"); err != nil {
			return err
		}
		if c.Height, err = r.Uint64("height"); err != nil {
			return err
		}
		if c.Height == 0 {
			return codec.Corruptf(codec.TagCommit, "height 0")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Object returns c's encoding keyed by its hash, ready for ObjectStore.Put.
func Object(c *Commit) backend.Object {
	b := Encode(c)
	return backend.Object{Hash: codec.Sum(b), Data: b}
}

// Get reads the commit h from s, verifying its hash. It returns an error
// wrapping backend.ErrMissing if h is absent (damage, since a link named
// it) and backend.ErrCorrupt (naming h) if the stored bytes do not hash to h or do not decode.
func Get(ctx context.Context, s backend.ObjectStore, h backend.Hash) (*Commit, error) {
	b, err := codec.Read(ctx, s, h)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", h, err)
	}
	c, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", h, err)
	}
	return c, nil
}

// Cache is where Load keeps decoded commits; *node.Store is one.
type Cache interface {
	Cached(h backend.Hash) (any, bool)
	Remember(h backend.Hash, v any, size int)
}

// Load is Get through a cache of decoded commits. The returned commit is
// shared and must not be modified.
func Load(ctx context.Context, s backend.ObjectStore, c Cache, h backend.Hash) (*Commit, error) {
	if v, ok := c.Cached(h); ok {
		if cm, ok := v.(*Commit); ok {
			return cm, nil
		}
	}
	cm, err := Get(ctx, s, h)
	if err != nil {
		return nil, err
	}
	c.Remember(h, cm, 64+len(cm.Author)+len(cm.Message)+32*len(cm.Parents))
	return cm, nil
}
