package strata

import (
	"context"
	"fmt"

	"github.com/stratakv/strata/internal/codec"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// Tx is a set of changes made inside Branch.Update. Reads through a Tx see
// its own changes. A Tx is valid only during the call of the function it was
// passed to, and is not safe for concurrent use: once the function has
// returned (or panicked), every method returns an error wrapping ErrTxDone
// (the Tx's Builder goes back to a pool for the next write).
type Tx struct {
	ctx context.Context
	kv  *KV
	t   *tree.Builder // nil once the function returned (see done)
	err error         // the first failed change; Update returns it
}

// usable returns the error of a call that cannot use tx: the KV is
// closed (ErrClosed, as for every handle), or tx's function returned.
func (tx *Tx) usable() error {
	if err := tx.kv.alive(); err != nil {
		return err
	}
	if tx.t == nil {
		return fmt.Errorf("%w: a Tx used after its Update's function returned", ErrTxDone)
	}
	return nil
}

// done ends tx: Update defers it, so that it runs however the function
// ends, a panic included.
func (tx *Tx) done() { tx.t = nil }

func (tx *Tx) fail(err error) error {
	if tx.err == nil {
		tx.err = err
	}
	return err
}

// Set records value at path (copying it). An invalid path or a
// value/directory clash is returned and also makes Update fail, even if the
// caller ignores it.
func (tx *Tx) Set(path string, value []byte) error {
	if err := tx.usable(); err != nil {
		return tx.fail(err)
	}
	p, err := tree.CheckPath(path)
	if err != nil {
		return tx.fail(err)
	}
	if err := tx.t.SetPath(tx.ctx, p, value); err != nil {
		return tx.fail(err)
	}
	return nil
}

// SetTree puts the stored directory whose hash is dir (from
// Snapshot.TreeHash, of any revision) at path, replacing whatever was
// there, a value or a directory, and creating directories on the way; at
// "" (the root) it replaces the whole tree. It grafts the directory by
// hash, in O(depth of path), without reading the values below it, so a
// directory of any size is copied or moved in one commit (Irmin's
// set_tree). The empty directory (node's Empty hash, or the zero Hash)
// deletes what was at path. A hash that names no stored object is an
// error wrapping ErrNotFound, one that names a value or a commit rather
// than a directory wraps ErrInvalidValue, and a path below a value wraps
// ErrInvalidPath; each also makes Update fail.
func (tx *Tx) SetTree(path string, dir Hash) error {
	if err := tx.usable(); err != nil {
		return tx.fail(err)
	}
	segs, err := tree.ParsePath(path)
	if err != nil {
		return tx.fail(err)
	}
	if !dir.IsZero() && dir != node.Empty {
		if err := tx.kv.checkObject(tx.ctx, dir, "directory", codec.TagNode, codec.TagIndex); err != nil {
			return tx.fail(fmt.Errorf("set tree at %q: %w", path, err))
		}
	}
	if err := tx.t.SetTree(tx.ctx, segs, dir); err != nil {
		return tx.fail(fmt.Errorf("set tree at %q: %w", path, err))
	}
	return nil
}

// Delete removes the value or directory at path. Deleting a path that does
// not exist is not an error inside a transaction; an invalid path is, and
// makes Update fail.
func (tx *Tx) Delete(path string) error {
	if err := tx.usable(); err != nil {
		return tx.fail(err)
	}
	segs, err := tree.ParsePath(path)
	if err != nil {
		return tx.fail(err)
	}
	if len(segs) == 0 {
		return tx.fail(fmt.Errorf("%w: refusing to delete the root", ErrInvalidPath))
	}
	if _, err := tx.t.Delete(tx.ctx, segs); err != nil {
		return tx.fail(err)
	}
	return nil
}

// Get returns the value at path as the transaction sees it, or an error
// wrapping ErrNotFound.
func (tx *Tx) Get(path string) ([]byte, error) {
	if err := tx.usable(); err != nil {
		return nil, err
	}
	segs, err := tree.ParsePath(path)
	if err != nil {
		return nil, err
	}
	return tx.t.Get(tx.ctx, segs)
}

// List returns the children of the directory at path as the transaction
// sees it.
func (tx *Tx) List(path string, opts ...ListOption) ([]Entry, error) {
	if err := tx.usable(); err != nil {
		return nil, err
	}
	segs, err := tree.ParsePath(path)
	if err != nil {
		return nil, err
	}
	es, err := tx.t.List(tx.ctx, segs, page(opts))
	return entries(es), err
}
