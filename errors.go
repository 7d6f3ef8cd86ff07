package strata

import (
	"errors"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/branch"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/tree"
)

// The sentinel errors of strata, re-exported from the layer that defines
// each one (the storage contract's from package backend). Errors returned
// by strata wrap them with context; test them with errors.Is.
var (
	ErrNotFound        = backend.ErrNotFound             // path, branch, revision or object absent
	ErrConflict        = backend.ErrConflict             // lost a compare-and-swap too often, or a merge conflict (see MergeConflictError)
	ErrExists          = backend.ErrExists               // a branch to create exists (also ErrConflict)
	ErrCorrupt         = backend.ErrCorrupt              // stored bytes do not match their hash or do not decode
	ErrMissing         = backend.ErrMissing              // an object a stored link names is absent: damage (also ErrCorrupt, never ErrNotFound)
	ErrClosed          = backend.ErrClosed               // used after Close
	ErrInvalidPath     = tree.ErrInvalidPath             // bad path syntax, or a value/directory clash
	ErrInvalidBranch   = branch.ErrInvalidBranch         // bad branch name
	ErrInvalidRevision = errors.New("invalid revision")  // bad revision syntax
	ErrInvalidURL      = backend.ErrInvalidURL           // bad or unknown store URL
	ErrInvalidValue    = contents.ErrInvalidValue        // a typed value does not parse, or is not the kind needed
	ErrLimit           = commit.ErrLimit                 // a merge-base search passed MaxDepth or MaxBases
	ErrReadOnly        = backend.ErrReadOnly             // a write to a store opened with ReadOnly
	ErrInvalidOption   = errors.New("invalid option")    // an option out of its range (MaxDepth(-1), MaxBases(0), MaxRetries(0), …)
	ErrHeadMoved       = errors.New("branch head moved") // a write with IfHead found the branch at another commit (also ErrConflict)
	ErrTxDone          = errors.New("transaction done")  // a Tx used after its Update's function returned (as database/sql's ErrTxDone)
)

// Hash names a commit, tree node or value: 32 bytes of BLAKE3-256.
type Hash = backend.Hash

// ParseHash parses 64 hexadecimal digits into a Hash.
func ParseHash(s string) (Hash, error) { return backend.ParseHash(s) }

// The limits on a path: at most MaxPathSegments segments and MaxPathBytes
// bytes (slashes included). Every method that takes a path enforces them
// with ErrInvalidPath.
const (
	MaxPathSegments = tree.MaxPathSegments
	MaxPathBytes    = tree.MaxPathBytes
)

// ValidatePath checks a path's syntax without touching a store: segments
// split on "/", one leading and one trailing "/" ignored, no empty segment
// in the middle, ".", "..", or NUL byte, and at most MaxPathSegments
// segments and MaxPathBytes bytes. It returns an error wrapping
// ErrInvalidPath otherwise. "" (the root) is valid for List but
// not for Set, Get or Delete.
func ValidatePath(path string) error {
	_, err := tree.ParsePath(path)
	return err
}

// ValidateBranchName checks a branch name: letters, digits, '.', '_', '-'
// and '/'; not starting with '-' or '/', not ending with '/', no ".." or
// "//", at most 255 bytes. It returns an error wrapping ErrInvalidBranch
// otherwise.
func ValidateBranchName(name string) error { return branch.ValidateName(name) }
