// Package strata is a Git-like versioned key-value store.
//
// Values live at slash-separated paths ("config/db/host"). Every change is a
// commit; branches are named heads that move by atomic compare-and-swap; any
// two versions can be read and diffed. strata follows the design of Irmin: a
// backend supplies only an append-only content-addressed object store and a
// ref store with compare-and-swap, and contents, tree nodes, commits and
// branches are layered above it (see docs/ARCHITECTURE.md).
//
// KV is the entry point:
//
//	kv, err := strata.Open(ctx, "mem://")
//	main := kv.Branch("main")
//	_, err = main.Set(ctx, "config/db/host", []byte("db1"), strata.Message("point at db1"))
//	v, err := main.Get(ctx, "config/db/host")
//
// Branches merge three-way (KV.Merge, Branch.Revert, Branch.CherryPick);
// typed values (SetValue: text, JSON, counters) merge by their kind, and
// concurrent writes merge instead of overwriting (see docs/MERGE.md).
//
// KV.Watch streams a branch's head moves (filtered by WatchPrefix,
// resumed by WatchSince); KV.Prove and VerifyProof give and check Merkle
// proofs of a value; KV.GC and Branch.Squash keep a store small;
// Branch.ImportDocument, KV.ExportDocument, KV.ImportGit and KV.ExportGit
// move data in and out (see docs/OPERATIONS.md).
//
// Errors wrap the sentinel errors ErrNotFound, ErrConflict, ErrExists and
// ErrHeadMoved (both also ErrConflict), ErrCorrupt, ErrMissing (also
// ErrCorrupt, never ErrNotFound), ErrInvalidPath, ErrInvalidBranch,
// ErrInvalidRevision, ErrInvalidURL, ErrInvalidValue, ErrInvalidOption,
// ErrInvalidProof, ErrLimit, ErrReadOnly, ErrClosed and ErrTxDone; test them with
// errors.Is. A merge that finds conflicts returns a *MergeConflictError
// listing them.
package strata

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/httpstore"
	"github.com/stratakv/strata/backend/layered"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/backend/pebble"
	"github.com/stratakv/strata/backend/redis"
	"github.com/stratakv/strata/branch"
	"github.com/stratakv/strata/node"
)

// KV is a versioned key-value store over one backend. It is safe for
// concurrent use by many goroutines, and several KVs (in one or many
// processes) may share a backend that supports it: all shared state lives
// in the backend, and branches move only by compare-and-swap.
type KV struct {
	heads    lastHeads // branch name -> the head this KV last wrote
	queues   sync.Map  // branch name -> *writeQueue: see group.go
	graph    graphKeeper
	store    backend.Store
	nodes    *node.Store // directory objects through the decoded-object cache
	branches *branch.Store
	opts     openOptions
	closed   atomic.Bool // set by Close; see alive
	url      string      // the URL given to Open; "" for New (see URL)
}

// OpenOption configures Open and New.
type OpenOption func(*openOptions)

type openOptions struct {
	cacheBytes  int64
	maxRetries  int
	mustExist   bool
	readOnly    bool
	lockTimeout time.Duration
	mergers     []pathMerger // see MergeWith
	logger      *slog.Logger // see Logger; never nil after newOptions
	err         error        // the first out-of-range option; see alive
}

// MaxRetries sets how many times a write (or a merge) re-reads the branch
// head and merges or re-applies its change after losing a compare-and-swap
// to another writer before it gives up with ErrConflict. The default is
// 64; n < 1 is an error wrapping ErrInvalidOption (see Open and New).
func MaxRetries(n int) OpenOption {
	return func(o *openOptions) {
		if n < 1 {
			o.fail(fmt.Errorf("%w: MaxRetries(%d): at least 1 attempt is needed", ErrInvalidOption, n))
			return
		}
		o.maxRetries = n
	}
}

// fail records the first out-of-range option.
func (o *openOptions) fail(err error) {
	if o.err == nil {
		o.err = err
	}
}

// CacheSize sets the size, in bytes, of the cache of decoded directory
// objects shared by all reads and writes of the KV (default 256 MiB; a
// negative size disables it).
func CacheSize(bytes int64) OpenOption {
	return func(o *openOptions) { o.cacheBytes = bytes }
}

// MustExist makes Open fail with ErrNotFound instead of creating a store
// when an on-disk store does not exist yet.
func MustExist() OpenOption {
	return func(o *openOptions) { o.mustExist = true }
}

// ReadOnly opens an existing on-disk store for reading only: a missing
// store is ErrNotFound (as with MustExist), nothing in the directory is
// created or changed, no write permission is needed, and every write
// (Set, Delete, Update, Merge, CreateBranch, DeleteBranch, …) fails with
// an error wrapping ErrReadOnly. Read-only KVs share the directory lock
// with each other; a writer waits for them (see package backend/pebble).
// It has no effect on mem://, redis:// and http(s):// stores (nor on the
// cache of a ?cache=DIR URL, which is written even by reads).
func ReadOnly() OpenOption {
	return func(o *openOptions) { o.readOnly, o.mustExist = true, true }
}

// LockTimeout sets how long Open waits for another process that holds an
// on-disk store's lock (default 10s). A negative d is an error wrapping
// ErrInvalidOption.
func LockTimeout(d time.Duration) OpenOption {
	return func(o *openOptions) {
		if d < 0 {
			o.fail(fmt.Errorf("%w: LockTimeout(%v): a wait cannot be negative", ErrInvalidOption, d))
			return
		}
		o.lockTimeout = d
	}
}

// Logger sets where the KV reports what its background work could not do,
// which no caller waits for and so no error can carry. Today that is the
// commit-graph run a commit's landing queues (see KV.WriteCommitGraph).
// Three records:
//
//   - Warn "commit-graph run not written", with attributes commit (the
//     hash) and error: a run whose write failed;
//   - Warn "commit-graph runs not written: the KV is closing and the last
//     write failed", with attribute runs: those queued behind that write,
//     dropped so that Close is not held by a backend gone away;
//   - Error "commit-graph run not written: panic", with attributes
//     commit, panic and stack: a bug.
//
// Runs never begun are not reported: that of a commit whose context was
// done when it landed, and those of commits landed after Close began. A
// run that would reach past a shallow clone's cut is not written, and
// that is no failure. In every case the commits stay whole and readable:
// merge-base searches read the commits a missing run would have listed,
// and KV.WriteCommitGraph writes it later. The default, and a nil l,
// discards these records. strata serve passes its request log.
func Logger(l *slog.Logger) OpenOption {
	return func(o *openOptions) { o.logger = l }
}

func newOptions(opts []OpenOption) openOptions {
	o := openOptions{maxRetries: 64}
	for _, f := range opts {
		f(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Open opens the store named by storeURL:
//
//	mem://                 a new in-memory store, gone when closed
//	pebble:///path/to/dir  the embedded on-disk store in a directory
//	/path/to/dir, ./dir    the same, written as a plain path
//	redis://[user:password@]host:port[/db][?prefix=NAME]
//	                       a Redis server shared by many processes; rediss://
//	                       for TLS, ?addr=host:port (repeated) for a Cluster,
//	                       ?master=NAME for Sentinel (see package backend/redis)
//	http://host:port[/path][?token=TOKEN]
//	                       a strata server (strata serve); https:// for TLS;
//	                       the token may come from $STRATA_TOKEN instead
//	                       (see package backend/httpstore)
//
// A redis, rediss, unix, http or https URL may add cache=DIR: objects are
// then cached in an on-disk store in DIR, and the branches are kept
// current from a watch, so warm reads of an unchanged branch make no round
// trip (see package backend/layered).
//
// Only the scheme (the text before "://") is read here; the rest of the URL
// goes to its backend's parser. An on-disk store is created if missing
// unless MustExist is given. An unknown scheme or a malformed URL returns
// an error wrapping ErrInvalidURL; no error shows a password (see
// RedactURL); an out-of-range option, one wrapping ErrInvalidOption.
func Open(ctx context.Context, storeURL string, opts ...OpenOption) (*KV, error) {
	o := newOptions(opts)
	if o.err != nil {
		return nil, o.err
	}
	s, err := openBackend(ctx, storeURL, o)
	if err != nil {
		return nil, err
	}
	kv := newKV(s, o)
	kv.url = absStoreURL(storeURL)
	return kv, nil
}

// URL returns the store URL kv was opened with, password included (show
// it only through RedactURL), or "" for a KV made by New. A directory given
// as a relative path is returned as an absolute one.
func (kv *KV) URL() string { return kv.url }

func newKV(s backend.Store, o openOptions) *KV {
	kv := &KV{store: s, nodes: node.NewStore(s, o.cacheBytes), branches: branch.New(s), opts: o}
	kv.graph.idle.L = &kv.graph.mu
	return kv
}

func openBackend(ctx context.Context, storeURL string, o openOptions) (backend.Store, error) {
	spec, err := parseStoreURL(storeURL)
	if err != nil {
		return nil, err
	}
	var back backend.Store
	switch spec.kind {
	case kindMem:
		return mem.New(), nil
	case kindRedis:
		back, err = redis.OpenConfig(ctx, spec.redis)
	case kindHTTP:
		back, err = httpstore.Open(ctx, spec.http, nil)
	default:
		return openPebble(ctx, spec.dir, o)
	}
	if err != nil || spec.cache == "" {
		return back, err
	}
	front, err := pebble.Open(ctx, spec.cache, &pebble.Options{LockTimeout: o.lockTimeout})
	if err != nil {
		back.Close()
		return nil, fmt.Errorf("cache %s: %w", spec.cache, err)
	}
	s, err := layered.New(ctx, front, back, &layered.Options{WatchRefs: true})
	if err != nil {
		front.Close()
		back.Close()
		return nil, err
	}
	return s, nil
}

func openPebble(ctx context.Context, dir string, o openOptions) (backend.Store, error) {
	return pebble.Open(ctx, dir, &pebble.Options{MustExist: o.mustExist, ReadOnly: o.readOnly, LockTimeout: o.lockTimeout})
}

// New returns a KV over a backend the caller opened. Close closes it. If
// an option is out of range, every method of the KV returns an error
// wrapping ErrInvalidOption (as Open would have).
func New(s backend.Store, opts ...OpenOption) *KV {
	return newKV(s, newOptions(opts))
}

// Backend returns the store under kv, for tools that work on objects
// directly (fsck, sync). Writing to it bypasses strata's checks.
func (kv *KV) Backend() backend.Store { return kv.store }

// Close closes the backend, once the commit-graph runs of commits made
// before it are written (see graphKeeper). Every later call of a method
// of kv, or of a Branch, Snapshot or Tx obtained from it (even before
// Close), returns an error wrapping ErrClosed, whatever caches could
// still answer it. Close is idempotent.
func (kv *KV) Close() error {
	kv.closed.Store(true)
	kv.graph.close()
	return kv.store.Close()
}

// alive returns an error wrapping ErrClosed once kv is closed. Every
// exported method that returns an error checks it first (most through
// Resolve, Branch.Head or Branch.write), so that nothing is served from
// the decoded-object cache after Close.
func (kv *KV) alive() error {
	if kv.closed.Load() {
		return fmt.Errorf("strata: %w", ErrClosed)
	}
	return kv.opts.err
}
