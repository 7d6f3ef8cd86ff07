package backend

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Object is one content-addressed object: its encoded bytes and the hash the
// layer above computed for them. Backends store Data under Hash unchanged.
type Object struct {
	Hash Hash
	Data []byte
}

// ObjectStore is an append-only, content-addressed store.
//
// Implementations must be safe for concurrent use. They never hash and never
// inspect Data. Putting an object that is already present is a no-op that
// succeeds. Every method returns an error wrapping ErrClosed after Close and
// returns ctx.Err() (wrapped) if ctx is done before the work starts.
type ObjectStore interface {
	// Get returns the bytes stored under h, or an error wrapping ErrNotFound.
	// The caller owns the returned slice and may keep or modify it.
	Get(ctx context.Context, h Hash) ([]byte, error)
	// Put stores all objects. It returns only after every object is stored
	// (durably, for a durable backend). The store does not keep references
	// to the callers' slices after Put returns. On error, any subset of the
	// objects may have been stored; none is ever stored partially.
	Put(ctx context.Context, objs []Object) error
	// Has reports, for each hash, whether it is stored; the result has
	// len(hs) entries in the same order.
	Has(ctx context.Context, hs []Hash) ([]bool, error)
}

// Ref is one named reference.
type Ref struct {
	Name string
	Hash Hash
}

// RefStore maps names to hashes.
//
// Implementations must be safe for concurrent use, across processes if the
// backend is shared by several processes. Names are opaque non-empty
// strings; the layers above choose and validate them.
type RefStore interface {
	// GetRef returns the hash that name points at, or an error wrapping
	// ErrNotFound if the name is absent.
	GetRef(ctx context.Context, name string) (Hash, error)
	// ListRefs returns every ref whose name starts with prefix, sorted by
	// name. An empty prefix lists all refs.
	ListRefs(ctx context.Context, prefix string) ([]Ref, error)
	// CompareAndSwapRef atomically sets name to new if it currently points
	// at old. An old of ZeroHash means "name must be absent"; a new of
	// ZeroHash deletes the name. A missing name never matches a non-zero
	// old. When the current value differs from old it changes nothing and
	// returns an error wrapping ErrConflict. A durable backend makes the
	// change durable before returning nil.
	CompareAndSwapRef(ctx context.Context, name string, old, new Hash) error
}

// Store is a complete backend: an object store, a ref store and Close.
// After Close every method returns an error wrapping ErrClosed; Close itself
// is idempotent.
type Store interface {
	ObjectStore
	RefStore
	io.Closer
}

// ObjectLister is an optional upgrade of ObjectStore that enumerates stored
// objects, used by fsck, garbage collection and abbreviated-hash lookup.
type ObjectLister interface {
	// ListObjects calls fn with the hash of every stored object whose first
	// bytes equal prefix (all objects for an empty prefix), in no particular
	// order. It stops and returns fn's error if fn returns one.
	ListObjects(ctx context.Context, prefix []byte, fn func(Hash) error) error
}

// ObjectScanner is an optional upgrade of ObjectStore that reads every
// stored object, bytes included, in one pass over the object key space:
// sequential reads on a disk store, a cursor and batched reads on a
// network store, instead of one random read per object. Garbage
// collection uses it to mark without reading objects one by one.
type ObjectScanner interface {
	// ScanObjects calls fn with the hash and bytes of every stored
	// object, each once, in no particular order (ascending hash order on
	// an ordered backend). data is valid only until fn returns (a
	// backend may reuse its buffer): fn copies what it keeps. fn runs
	// on the calling goroutine, one call at a time, with no lock held,
	// and may use the store; objects stored or deleted
	// meanwhile may or may not be seen. The backend does not check that
	// data hashes to h (backends never hash): the caller must. It stops
	// and returns fn's error unchanged if fn returns one, and returns an
	// error wrapping ctx.Err() if ctx is done before it finishes. A
	// wrapper whose store under it cannot scan returns an error wrapping
	// errors.ErrUnsupported before calling fn.
	ScanObjects(ctx context.Context, fn func(h Hash, data []byte) error) error
}

// ObjectDeleter is an optional upgrade of ObjectStore that removes objects,
// for garbage collection and repair. Deleting an absent object succeeds.
type ObjectDeleter interface {
	DeleteObjects(ctx context.Context, hs []Hash) error
}

// Compacter is an optional upgrade of ObjectStore for a backend that
// keeps deleted data on disk until it compacts (an LSM tree such as
// Pebble). Compact rewrites the object key space so that the space of
// deleted objects is returned to the file system; garbage collection
// calls it after deleting. It is safe to call while others read and
// write, and changes no object's presence or bytes.
type Compacter interface {
	Compact(ctx context.Context) error
}

// BatchGetter is an optional upgrade of ObjectStore that fetches many
// objects in one request (one round trip on a network backend). The result
// has len(hs) entries; a missing object is a nil entry, not an error, and a
// stored object is never nil, even when its Data is empty.
type BatchGetter interface {
	GetMany(ctx context.Context, hs []Hash) ([][]byte, error)
}

// RefCommitter is an optional upgrade of Store that stores objects and
// moves a ref in one atomic step: one durable write (one fsync, one round
// trip) instead of a Put followed by a CompareAndSwapRef. The ref moves from
// old to new exactly as CompareAndSwapRef would; when the ref is not at old
// it returns an error wrapping ErrConflict and may or may not have stored
// the objects (which are harmless without a ref). When it returns nil, the
// objects and the ref are both durable.
type RefCommitter interface {
	PutAndSwapRef(ctx context.Context, objs []Object, name string, old, new Hash) error
}

// OwnedCommitter is an optional upgrade of RefCommitter for a backend that
// keeps objects in memory, so that a commit need not copy the bytes it
// has just built. PutOwnedAndSwapRef does exactly what PutAndSwapRef does,
// except that it may keep the objects' Data slices themselves instead of
// copies.
//
// Ownership: by calling it the caller hands the Data slices over for good,
// whatever the outcome. From the call on, neither the caller nor anyone it
// shares them with may write to them (through any slice sharing their
// backing array, spare capacity included); they may go on reading them.
// The backend never writes to them either, and Get and GetMany still
// return copies. Only bytes built for this write and never modified again
// may be passed (see the function PutOwnedAndSwapRef).
//
// A wrapper that embeds a concrete store implementing OwnedCommitter and
// overrides PutAndSwapRef must override PutOwnedAndSwapRef too (routing it
// to its own PutAndSwapRef, say), or owned commits bypass its override.
type OwnedCommitter interface {
	RefCommitter
	PutOwnedAndSwapRef(ctx context.Context, objs []Object, name string, old, new Hash) error
}

// RefEvent reports that a ref moved from Old to New. A ZeroHash Old means
// the ref was created; a ZeroHash New means it was deleted.
type RefEvent struct {
	Name     string
	Old, New Hash
}

// RefWatcher is an optional upgrade of RefStore that reports ref changes.
type RefWatcher interface {
	// WatchRefs delivers an event for every successful CompareAndSwapRef on
	// a name starting with prefix, in the order they took effect, until ctx
	// is done; then it closes the channel. The backend never blocks writers
	// on a slow watcher: when a consumer falls behind by more than the
	// backend's buffer, the backend drops events and closes the channel
	// after those it buffered (it may also close it when the stream breaks
	// or the store closes). A consumer that sees the channel closed while
	// its ctx is not done may have missed events: it must re-read the refs
	// it follows, and call WatchRefs again to go on watching.
	WatchRefs(ctx context.Context, prefix string) (<-chan RefEvent, error)
}

// GetMany fetches many objects from s, in one request if s implements
// BatchGetter and one by one otherwise. Missing objects are nil entries;
// stored ones, even empty ones, are not.
func GetMany(ctx context.Context, s ObjectStore, hs []Hash) ([][]byte, error) {
	if bg, ok := s.(BatchGetter); ok {
		return bg.GetMany(ctx, hs)
	}
	out := make([][]byte, len(hs))
	for i, h := range hs {
		b, err := s.Get(ctx, h)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				continue
			}
			return nil, err
		}
		if b == nil {
			b = []byte{} // stored but empty: not to be mistaken for missing
		}
		out[i] = b
	}
	return out, nil
}

// RefRepairer is an optional upgrade of RefStore for repairing a ref store
// that holds a damaged ref: one whose stored value is not a hash, which
// GetRef and ListRefs report as ErrCorrupt and CompareAndSwapRef cannot
// compare. Without it, such a ref can only be removed by the backend's own
// tools.
type RefRepairer interface {
	// RefNames returns the name of every ref that starts with prefix (all
	// refs for an empty prefix), sorted by name, whatever their stored
	// values, damaged ones included.
	RefNames(ctx context.Context, prefix string) ([]string, error)
	// DeleteRef removes ref name unconditionally, whatever it holds.
	// Deleting an absent name succeeds. It is for repair: unlike
	// CompareAndSwapRef it can remove a value another writer just set,
	// and watchers are not told of it. A durable backend makes the
	// deletion durable before returning nil.
	DeleteRef(ctx context.Context, name string) error
}

// PutAndSwapRef stores objs and moves ref name from old to new (a zero old
// means "name must be absent"): in one atomic step if s implements
// RefCommitter, otherwise with one Put (none for no objects) and then
// CompareAndSwapRef, so the objects are always stored before the ref can
// point at them. A ref that is not at old returns an error wrapping
// ErrConflict; the objects may or may not have been stored then, which is
// harmless without a ref.
func PutAndSwapRef(ctx context.Context, s Store, objs []Object, name string, old, new Hash) error {
	if c, ok := s.(RefCommitter); ok {
		return c.PutAndSwapRef(ctx, objs, name, old, new)
	}
	if len(objs) > 0 {
		if err := s.Put(ctx, objs); err != nil {
			return fmt.Errorf("write objects: %w", err)
		}
	}
	return s.CompareAndSwapRef(ctx, name, old, new)
}

// PutOwnedAndSwapRef is PutAndSwapRef for objects whose bytes the caller
// hands over (see OwnedCommitter for exactly what that forbids): s may
// keep objs' Data slices instead of copying them if it implements
// OwnedCommitter; otherwise it is PutAndSwapRef, and the slices are the
// caller's again once it returns.
func PutOwnedAndSwapRef(ctx context.Context, s Store, objs []Object, name string, old, new Hash) error {
	if c, ok := s.(OwnedCommitter); ok {
		return c.PutOwnedAndSwapRef(ctx, objs, name, old, new)
	}
	return PutAndSwapRef(ctx, s, objs, name, old, new)
}
