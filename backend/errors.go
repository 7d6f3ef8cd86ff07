package backend

import (
	"errors"
	"fmt"
)

// Sentinel errors of the storage contract. Every layer wraps them with
// context ("object 3fa4…: %w"), so callers must compare with errors.Is,
// never with ==. The layers above define their own errors beside the code
// that returns them (tree.ErrInvalidPath, branch.ErrInvalidBranch,
// contents.ErrInvalidValue, commit.ErrLimit).
var (
	// ErrNotFound: the object, ref, branch, path or revision does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a compare-and-swap found a value other than the expected
	// one, or a write lost to a concurrent writer more times than allowed.
	ErrConflict = errors.New("conflict")
	// ErrExists: the thing to be created already exists. It wraps
	// ErrConflict, so errors.Is(err, ErrConflict) holds as well.
	ErrExists = fmt.Errorf("already exists (%w)", ErrConflict)
	// ErrCorrupt: stored bytes do not hash to their key, or do not decode.
	ErrCorrupt = errors.New("corrupt object")
	// ErrMissing: an object that a stored link names (a ref, a commit's
	// tree or parent, a directory entry) is not in the store. That is
	// damage, not absence: it wraps ErrCorrupt, never ErrNotFound. Backends
	// never return it (their Get reports ErrNotFound); the layers that
	// follow links do.
	ErrMissing = fmt.Errorf("missing object (%w)", ErrCorrupt)
	// ErrClosed: the store was used after Close.
	ErrClosed = errors.New("store closed")
	// ErrInvalidHash: a string or byte slice is not a well-formed hash.
	ErrInvalidHash = errors.New("invalid hash")
	// ErrInvalidURL: a store URL cannot be parsed or names an unknown backend.
	ErrInvalidURL = errors.New("invalid store URL")
	// ErrReadOnly: a write to a store opened read-only.
	ErrReadOnly = errors.New("store opened read-only")
	// ErrBadFence is returned by ObjectFencer.DeleteObjectsFenced for a
	// fence that is released or belongs to another store.
	ErrBadFence = errors.New("fence released or of another store")
)
