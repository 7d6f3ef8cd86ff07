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
// Errors wrap the sentinel errors ErrNotFound, ErrConflict, ErrCorrupt,
// ErrInvalidPath, ErrInvalidBranch, ErrInvalidRevision, ErrInvalidURL,
// ErrInvalidValue, ErrLimit and ErrClosed; test them with errors.Is. A
// merge that finds conflicts returns a *MergeConflictError listing them.
package strata

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/backend/pebble"
	"github.com/stratakv/strata/backend/redis"
	"github.com/stratakv/strata/branch"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// KV is a versioned key-value store over one backend. It is safe for
// concurrent use by many goroutines, and several KVs (in one or many
// processes) may share a backend that supports it: all shared state lives
// in the backend, and branches move only by compare-and-swap.
type KV struct {
	heads    sync.Map // branch name -> Hash: the head this KV last wrote
	store    backend.Store
	nodes    *node.Store // directory objects through the decoded-object cache
	branches *branch.Store
	opts     openOptions
	closed   atomic.Bool // set by Close; see alive
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
}

// MaxRetries sets how many times a write (or a merge) re-reads the branch
// head and merges or re-applies its change after losing a compare-and-swap
// to another writer before it gives up with ErrConflict. The default is
// 64; n < 1 means 1.
func MaxRetries(n int) OpenOption {
	return func(o *openOptions) { o.maxRetries = max(n, 1) }
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
// It has no effect on mem:// and redis:// stores.
func ReadOnly() OpenOption {
	return func(o *openOptions) { o.readOnly, o.mustExist = true, true }
}

// LockTimeout sets how long Open waits for another process that holds an
// on-disk store's lock (default 10s).
func LockTimeout(d time.Duration) OpenOption {
	return func(o *openOptions) { o.lockTimeout = d }
}

func newOptions(opts []OpenOption) openOptions {
	o := openOptions{maxRetries: 64}
	for _, f := range opts {
		f(&o)
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
//
// Only the scheme (the text before "://") is read here; the rest of the URL
// goes to its backend's parser. An on-disk store is created if missing
// unless MustExist is given. An unknown scheme or a malformed URL returns
// an error wrapping ErrInvalidURL; no error shows a password (see
// RedactURL).
func Open(ctx context.Context, storeURL string, opts ...OpenOption) (*KV, error) {
	o := newOptions(opts)
	s, err := openBackend(ctx, storeURL, o)
	if err != nil {
		return nil, err
	}
	return newKV(s, o), nil
}

func newKV(s backend.Store, o openOptions) *KV {
	return &KV{store: s, nodes: node.NewStore(s, o.cacheBytes), branches: branch.New(s), opts: o}
}

func openBackend(ctx context.Context, storeURL string, o openOptions) (backend.Store, error) {
	spec, err := parseStoreURL(storeURL)
	if err != nil {
		return nil, err
	}
	switch spec.kind {
	case kindMem:
		return mem.New(), nil
	case kindRedis:
		return redis.OpenConfig(ctx, spec.redis)
	}
	return openPebble(ctx, spec.dir, o)
}

func openPebble(ctx context.Context, dir string, o openOptions) (backend.Store, error) {
	return pebble.Open(ctx, dir, &pebble.Options{MustExist: o.mustExist, ReadOnly: o.readOnly, LockTimeout: o.lockTimeout})
}

// New returns a KV over a backend the caller opened. Close closes it.
func New(s backend.Store, opts ...OpenOption) *KV {
	return newKV(s, newOptions(opts))
}

// Backend returns the store under kv, for tools that work on objects
// directly (fsck, sync). Writing to it bypasses strata's checks.
func (kv *KV) Backend() backend.Store { return kv.store }

// Close closes the backend. Every later call of a method of kv, or of a
// Branch, Snapshot or Tx obtained from it (even before Close), returns an
// error wrapping ErrClosed, whatever caches could still answer it. Close
// is idempotent.
func (kv *KV) Close() error {
	kv.closed.Store(true)
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
	return nil
}

// CommitOption sets a field of the commit a write makes.
type CommitOption func(*commitOptions)

type commitOptions struct {
	message string
	author  string
	time    time.Time
	basedOn Hash // see BasedOn
}

// Message sets the commit message.
func Message(msg string) CommitOption { return func(o *commitOptions) { o.message = msg } }

// Author sets the commit author (default "strata").
func Author(name string) CommitOption { return func(o *commitOptions) { o.author = name } }

// Time sets the commit time (default: the time of the write). Giving a
// fixed time makes commit hashes reproducible.
func Time(t time.Time) CommitOption { return func(o *commitOptions) { o.time = t } }

// Branch returns a handle on the branch called name. It does no I/O and
// always succeeds; an invalid name makes every method of the handle return
// an error wrapping ErrInvalidBranch. A branch that does not exist yet is
// created by its first write.
func (kv *KV) Branch(name string) *Branch { return &Branch{kv: kv, name: name} }

// Branch is a handle on one branch of a KV. It is safe for concurrent use.
// Writes through it move the branch head by compare-and-swap, retrying on
// conflict, so concurrent writers never lose each other's changes to
// different paths.
type Branch struct {
	kv   *KV
	name string
}

// Name returns the branch name.
func (b *Branch) Name() string { return b.name }

// Head returns the commit the branch points at, or an error wrapping
// ErrNotFound if the branch does not exist (has no commits).
func (b *Branch) Head(ctx context.Context) (Hash, error) {
	if err := b.kv.alive(); err != nil {
		return Hash{}, err
	}
	return b.kv.branches.Head(ctx, b.name)
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
	segs, err := tree.ParsePath(path)
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
	v, err := tree.New(b.kv.nodes, c.Tree).Get(ctx, segs)
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

// ListOption selects part of a directory listing.
type ListOption func(*tree.Page)

// After makes List start after the entry called name (which need not
// exist): the next page after a previous page's last name.
func After(name string) ListOption { return func(p *tree.Page) { p.After = name } }

// Limit makes List return at most n entries (n <= 0: no limit). Listing a
// page costs O(depth + n), not O(size of the directory).
func Limit(n int) ListOption { return func(p *tree.Page) { p.Limit = n } }

func page(opts []ListOption) tree.Page {
	var p tree.Page
	for _, f := range opts {
		f(&p)
	}
	return p
}

// Set stores value at path in one new commit and returns its hash. It copies
// value. Directories on the way are created. If the value at path already
// equals value, no commit is made and the current head is returned. Setting a
// value where a directory is, or below a value, returns an error wrapping
// ErrInvalidPath.
func (b *Branch) Set(ctx context.Context, path string, value []byte, opts ...CommitOption) (Hash, error) {
	segs, err := tree.ParsePath(path)
	if err != nil {
		return Hash{}, err
	}
	value = append([]byte{}, value...)
	return b.write(ctx, true, func(ctx context.Context, t *tree.Builder) error {
		return t.Set(ctx, segs, value)
	}, opts)
}

// Delete removes the value or whole directory at path in one new commit and
// returns its hash. It returns an error wrapping ErrNotFound if there is
// nothing at path.
func (b *Branch) Delete(ctx context.Context, path string, opts ...CommitOption) (Hash, error) {
	segs, err := tree.ParsePath(path)
	if err != nil {
		return Hash{}, err
	}
	if len(segs) == 0 {
		return Hash{}, fmt.Errorf("%w: refusing to delete the root; delete its entries one by one or delete the branch", ErrInvalidPath)
	}
	return b.write(ctx, true, func(ctx context.Context, t *tree.Builder) error {
		existed, err := t.Delete(ctx, segs)
		if err == nil && !existed {
			return fmt.Errorf("delete %q on branch %q: %w", tree.JoinPath(segs), b.name, ErrNotFound)
		}
		return err
	}, opts)
}

// Update runs fn with a transaction on the branch's current head and
// commits everything fn changed as one commit, returning its hash. If fn
// returns an error, nothing is written and Update returns that error. If
// another writer moves the branch before the commit lands, Update runs fn
// again on the new head, so fn may run more than once and must not have
// effects outside tx. If fn changes nothing, no commit is made and the
// current head (the zero Hash for a branch without commits) is returned.
func (b *Branch) Update(ctx context.Context, fn func(tx *Tx) error, opts ...CommitOption) (Hash, error) {
	return b.write(ctx, false, func(ctx context.Context, t *tree.Builder) error {
		tx := &Tx{ctx: ctx, kv: b.kv, t: t}
		if err := fn(tx); err != nil {
			return err
		}
		return tx.err
	}, opts)
}

// write is every branch write: read head, build, write objects, then
// compare-and-swap the head, retrying on conflict: a write that merges
// (Set, Delete, Add) merges its change into the new head (see
// ownChange), any other re-applies it there. Objects always land before
// the head moves.
func (b *Branch) write(ctx context.Context, merge bool, apply func(context.Context, *tree.Builder) error, opts []CommitOption) (Hash, error) {
	if err := b.kv.alive(); err != nil {
		return Hash{}, err
	}
	if err := branch.ValidateName(b.name); err != nil {
		return Hash{}, err
	}
	co := commitOptions{author: "strata"}
	for _, f := range opts {
		f(&co)
	}
	// The first attempt may start from the head this KV itself last wrote
	// to the branch, without reading it: on a network backend that saves a
	// round trip. Only a successful compare-and-swap from that guess counts.
	// A lost race, nothing to change, or an error from the change itself is
	// judged again on the real head; but a failed commit is returned as it
	// is, since it may have landed (a reply lost after the server ran it)
	// and making the change again could apply it twice.
	if guess, ok := b.kv.lastHead(b.name); ok {
		h, err := b.attempt(ctx, guess, &ownChange{merge: merge, basedOn: co.basedOn}, apply, co)
		switch {
		case err == nil && !h.IsZero():
			return h, nil
		case errors.Is(err, errCommitFailed):
			return Hash{}, err
		}
	}
	var lastErr error
	own := &ownChange{merge: merge, basedOn: co.basedOn}
	for attempt := 0; attempt < b.kv.opts.maxRetries; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return Hash{}, err
			}
		}
		head, err := b.kv.branches.Head(ctx, b.name)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Hash{}, err
		}
		h, err := b.attempt(ctx, head, own, apply, co)
		switch {
		case err == nil && h.IsZero():
			return head, nil // nothing changed
		case err == nil:
			return h, nil
		case !errors.Is(err, errLostRace):
			return Hash{}, err
		}
		lastErr = err
	}
	return Hash{}, fmt.Errorf("branch %q: gave up after %d attempts: %w", b.name, b.kv.opts.maxRetries, lastErr)
}

// errLostRace wraps the conflict of a compare-and-swap that another writer
// won; write retries it.
var errLostRace = errors.New("lost the race for the branch head")

// errCommitFailed wraps an error from storing a commit and moving the head
// other than a lost race: the outcome is unknown, so write never retries it.
var errCommitFailed = errors.New("commit failed")

// attempt makes one try at moving the branch from head: it makes (or
// merges) the change on head's tree, stores the objects and the commit, and
// compare-and-swaps the branch. It returns the new commit, the zero Hash if
// the change leaves head's tree as it is, an error wrapping errLostRace
// (and the conflict) if another writer moved the branch first, or one
// wrapping errCommitFailed if storing the commit failed otherwise.
func (b *Branch) attempt(ctx context.Context, head Hash, own *ownChange, apply func(context.Context, *tree.Builder) error, co commitOptions) (Hash, error) {
	base, height := node.Empty, uint64(0)
	var parents []Hash
	if !head.IsZero() {
		c, err := commit.Load(ctx, b.kv.store, b.kv.nodes, head)
		if err != nil {
			return Hash{}, fmt.Errorf("branch %q: head %w", b.name, err)
		}
		base, height, parents = c.Tree, c.Height, []Hash{head}
	}
	objs, root, err := own.make(ctx, b.kv, base, apply)
	if err != nil {
		return Hash{}, err
	}
	if root == base {
		return Hash{}, nil
	}
	when := co.time
	if when.IsZero() {
		when = time.Now()
	}
	cm := &commit.Commit{
		Tree: root, Parents: parents, Author: co.author, Message: co.message,
		Time: when.UnixNano(), Height: height + 1,
	}
	c := commit.Object(cm)
	err = b.kv.branches.Commit(ctx, b.kv.store, append(objs, c), b.name, head, c.Hash)
	switch {
	case err == nil:
		b.kv.nodes.Remember(c.Hash, cm, len(c.Data))
		b.kv.setLastHead(b.name, c.Hash)
		return c.Hash, nil
	case errors.Is(err, ErrConflict):
		return Hash{}, fmt.Errorf("%w: %w", errLostRace, err)
	}
	return Hash{}, fmt.Errorf("%w: %w", errCommitFailed, err)
}

// lastHead returns the head this KV last wrote to branch name, if any.
func (kv *KV) lastHead(name string) (Hash, bool) {
	v, ok := kv.heads.Load(name)
	if !ok {
		return Hash{}, false
	}
	return v.(Hash), true
}

func (kv *KV) setLastHead(name string, h Hash) { kv.heads.Store(name, h) }

// backoff sleeps a jittered, growing delay before retry attempt n.
func backoff(ctx context.Context, n int) error {
	limit := time.Duration(1<<min(n, 10)) * 20 * time.Microsecond
	d := time.Duration(rand.Int64N(int64(limit)) + 1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Tx is a set of changes made inside Branch.Update. Reads through a Tx see
// its own changes. A Tx is valid only during the call of the function it was
// passed to and is not safe for concurrent use.
type Tx struct {
	ctx context.Context
	kv  *KV
	t   *tree.Builder
	err error // the first failed change; Update returns it
}

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
	if err := tx.kv.alive(); err != nil {
		return tx.fail(err)
	}
	segs, err := tree.ParsePath(path)
	if err != nil {
		return tx.fail(err)
	}
	if err := tx.t.Set(tx.ctx, segs, value); err != nil {
		return tx.fail(err)
	}
	return nil
}

// Delete removes the value or directory at path. Deleting a path that does
// not exist is not an error inside a transaction; an invalid path is, and
// makes Update fail.
func (tx *Tx) Delete(path string) error {
	if err := tx.kv.alive(); err != nil {
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
	if err := tx.kv.alive(); err != nil {
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
	if err := tx.kv.alive(); err != nil {
		return nil, err
	}
	segs, err := tree.ParsePath(path)
	if err != nil {
		return nil, err
	}
	es, err := tx.t.List(tx.ctx, segs, page(opts))
	return entries(es), err
}

// Entry is one child of a directory.
type Entry struct {
	Name string
	Dir  bool // a subdirectory (printed with a trailing "/" by the CLI)
}

func entries(es []tree.Entry) []Entry {
	if es == nil {
		return nil
	}
	out := make([]Entry, len(es))
	for i, e := range es {
		out[i] = Entry{Name: e.Name, Dir: e.Dir}
	}
	return out
}
