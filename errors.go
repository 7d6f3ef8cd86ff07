package strata

import "github.com/stratakv/strata/backend"

// The sentinel errors of strata, re-exported from package backend. Errors
// returned by strata wrap them with context; test them with errors.Is.
var (
	ErrNotFound        = backend.ErrNotFound        // path, branch, revision or object absent
	ErrConflict        = backend.ErrConflict        // lost a compare-and-swap too often, or a merge conflict
	ErrExists          = backend.ErrExists          // a branch to create exists (also ErrConflict)
	ErrCorrupt         = backend.ErrCorrupt         // stored bytes do not match their hash or do not decode
	ErrClosed          = backend.ErrClosed          // used after Close
	ErrInvalidPath     = backend.ErrInvalidPath     // bad path syntax, or a value/directory clash
	ErrInvalidBranch   = backend.ErrInvalidBranch   // bad branch name
	ErrInvalidRevision = backend.ErrInvalidRevision // bad revision syntax
	ErrInvalidURL      = backend.ErrInvalidURL      // bad or unknown store URL
)

// Hash names a commit, tree node or value: 32 bytes of BLAKE3-256.
type Hash = backend.Hash

// ParseHash parses 64 hexadecimal digits into a Hash.
func ParseHash(s string) (Hash, error) { return backend.ParseHash(s) }
