package bench

import (
	"context"
	"errors"
)

// Workload names, in table order.
const (
	WLoad = "load"
	WSet  = "set"
	WGet  = "get"
	WDiff = "diff"
	WLog  = "log"
	WLs   = "ls"
	WMem  = "mem"
)

// Workloads lists every workload every target runs, in table order.
var Workloads = []string{WLoad, WSet, WGet, WDiff, WLog, WLs, WMem}

// The group-commit workloads: 1 and 8 goroutines committing one key each,
// at once, on one branch of one store, and 8 goroutines doing so each on
// a branch of its own (a Result's rate is commits/s, with p50 and p99
// commit latency). They run only on targets that implement
// ConcurrentCommitter.
const (
	WGroup1  = "group1"
	WGroup8  = "group8"
	WBranch8 = "branch8"
)

// GroupWorkloads lists the group-commit workloads, in table order (after
// Workloads).
var GroupWorkloads = []string{WGroup1, WGroup8, WBranch8}

// GroupWriters returns the number of writers of group-commit workload w.
func GroupWriters(w string) int {
	if w == WGroup8 || w == WBranch8 {
		return 8
	}
	return 1
}

// ConcurrentCommitter is a Target whose commits may be made from many
// goroutines at once.
type ConcurrentCommitter interface {
	Target
	// CommitConcurrently is Commit, safe for concurrent use: each call
	// makes its own commit on top of the head as it finds it.
	CommitConcurrently(ctx context.Context, cs []Change) error
	// CommitOnBranch is CommitConcurrently on branch number b (b >= 0) of
	// the target's own, which its first commit forks from the head of the
	// branch Load and Commit write.
	CommitOnBranch(ctx context.Context, b int, cs []Change) error
}

// Setter is a Target that can make Commit's commit of one change without
// naming it: the set workload uses Set when a target has it, so that its
// row counts the store's work and not the formatting of a Rev it ignores.
type Setter interface {
	Target
	// Set is Commit of the one change key=value, returning no Rev.
	Set(ctx context.Context, key string, value []byte) error
}

// Rev names one commit of a Target, in the target's own notation.
type Rev string

// Change is one key set to one value.
type Change struct {
	Key   string
	Value []byte
}

// Target is one system under test, holding one store. A Target is used by
// one goroutine at a time. Methods the target cannot do (Supports reports
// false) are never called.
type Target interface {
	// Supports reports whether the target can run workload w.
	Supports(w string) bool
	// Load writes every key of d with its gen-0 value, as one commit on
	// an empty store, and returns that commit.
	Load(ctx context.Context, d Dataset) (Rev, error)
	// Commit sets the keys of cs, which all exist, as one commit on top of
	// the current head and returns the new commit.
	Commit(ctx context.Context, cs []Change) (Rev, error)
	// Get returns the value of key at the current head.
	Get(ctx context.Context, key string) ([]byte, error)
	// Diff returns the number of keys whose values differ between two
	// commits.
	Diff(ctx context.Context, from, to Rev) (int, error)
	// LogPath walks the head's whole first-parent history and returns
	// how many commits changed the value at key: those whose value differs
	// from their parent's, and the root commit if it holds key. (Run makes
	// that history the load commit and 1,000 commits on top.)
	LogPath(ctx context.Context, key string) (int, error)
	// List returns the first limit names (sorted) of the directory dir;
	// a subdirectory's name has no trailing slash.
	List(ctx context.Context, dir string, limit int) ([]string, error)
	// Close releases the store and everything it holds (files too).
	Close() error
}

// Factory makes fresh, empty Targets of one kind.
type Factory struct {
	// Name is the backend column of the table, e.g. "strata-mem".
	Name string
	// Floor marks a raw backend without versioning. A floor's rows do
	// not depend on the layout: Run measures it once per N, under the
	// flat layout.
	Floor bool
	// New returns a new, empty target.
	New func(ctx context.Context) (Target, error)
	// Close, if not nil, releases what the factory holds (a server it
	// started) once Run is done with it.
	Close func() error
	// ServerFaults, if not nil, returns the minor page faults the
	// target's server process has taken so far (-1 if unknown), for
	// Result.ServerFaultsPerOp.
	ServerFaults func() int64
}

// serverFaults returns f.ServerFaults(), or -1 if f has none.
func (f Factory) serverFaults() int64 {
	if f.ServerFaults == nil {
		return -1
	}
	return f.ServerFaults()
}

// ErrUnsupported is returned by a Target method for a workload it does
// not support.
var ErrUnsupported = errors.New("workload not supported by this target")
