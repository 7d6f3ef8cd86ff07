package mem

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/watchhub"
)

// Compile-time checks that Store implements the backend interfaces.
var (
	_ backend.Store          = (*Store)(nil)
	_ backend.ObjectLister   = (*Store)(nil)
	_ backend.ObjectScanner  = (*Store)(nil)
	_ backend.ObjectDeleter  = (*Store)(nil)
	_ backend.BatchGetter    = (*Store)(nil)
	_ backend.RefWatcher     = (*Store)(nil)
	_ backend.RefCommitter   = (*Store)(nil)
	_ backend.OwnedCommitter = (*Store)(nil)
	_ backend.ObjectFencer   = (*Store)(nil)
)

// WatchBuffer is the number of events a watcher's channel buffers. When a
// watcher falls further behind, new events for it are dropped and its
// channel is closed after the buffered ones (see backend.RefWatcher);
// writers never wait for watchers.
const WatchBuffer = watchhub.Buffer

// Store is an in-memory backend.Store. The zero value is not usable; call
// New. A Store is safe for concurrent use by multiple goroutines.
//
// Every method first returns an error wrapping ctx.Err() if ctx is done, and
// after Close returns an error wrapping backend.ErrClosed; in both cases it
// changes nothing.
type Store struct {
	mu       sync.RWMutex
	closed   bool
	objects  objects                 // see objects.go
	refs     map[string]backend.Hash // never holds ZeroHash
	watchers watchhub.Hub
	fences   backend.Fences // every write holds mu, Has reads it: see backend.Fences
}

// New returns a new, empty Store.
func New() *Store {
	return &Store{
		objects: newObjects(),
		refs:    make(map[string]backend.Hash),
	}
}

// clone returns a copy of b that is never nil, so that an empty object is
// told apart from a missing one.
func clone(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}

// Get returns a copy of the bytes stored under h, which the caller owns. If
// h is not stored it returns an error wrapping backend.ErrNotFound.
func (s *Store) Get(ctx context.Context, h backend.Hash) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mem: get %s: %w", h.Short(), err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, fmt.Errorf("mem: get %s: %w", h.Short(), backend.ErrClosed)
	}
	b, ok := s.objects.get(h)
	if !ok {
		return nil, fmt.Errorf("mem: get %s: %w", h.Short(), backend.ErrNotFound)
	}
	return clone(b), nil
}

// Put stores a copy of every object's Data under its Hash; the caller may
// reuse the slices once Put returns. An object that is already stored is
// left as it is. Put stores either all objects or, on error, none.
func (s *Store) Put(ctx context.Context, objs []backend.Object) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem: put %d objects: %w", len(objs), err)
	}
	copies := make([][]byte, len(objs)) // copied before taking the lock
	for i, o := range objs {
		copies[i] = clone(o.Data)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("mem: put %d objects: %w", len(objs), backend.ErrClosed)
	}
	s.fences.Stored(objs)
	for i, o := range objs {
		s.objects.put(o.Hash, copies[i], true)
	}
	return nil
}

// Has reports, for each hash in hs, whether it is stored. The result has
// len(hs) entries in the same order.
func (s *Store) Has(ctx context.Context, hs []backend.Hash) ([]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mem: has %d hashes: %w", len(hs), err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, fmt.Errorf("mem: has %d hashes: %w", len(hs), backend.ErrClosed)
	}
	has := make([]bool, len(hs))
	for i, h := range hs {
		has[i] = s.objects.has(h)
	}
	s.fences.Present(hs, has)
	return has, nil
}

// GetMany returns a copy of the bytes stored under each hash in hs, in the
// same order; the caller owns them. A missing object is a nil entry, not an
// error; a stored empty object is a non-nil empty entry.
func (s *Store) GetMany(ctx context.Context, hs []backend.Hash) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mem: get %d objects: %w", len(hs), err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, fmt.Errorf("mem: get %d objects: %w", len(hs), backend.ErrClosed)
	}
	out := make([][]byte, len(hs))
	for i, h := range hs {
		if b, ok := s.objects.get(h); ok {
			out[i] = clone(b)
		}
	}
	return out, nil
}

// ListObjects calls fn with the hash of every stored object whose first
// bytes equal prefix (every object for an empty prefix), in ascending
// bytewise order. It takes a snapshot of the matching hashes first and
// holds no lock while calling fn, so fn may use the Store; objects stored
// or deleted meanwhile may or may not be reported. ListObjects stops and
// returns fn's error unchanged if fn returns one, and returns an error
// wrapping ctx.Err() if ctx is done before it finishes.
func (s *Store) ListObjects(ctx context.Context, prefix []byte, fn func(backend.Hash) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem: list objects %x: %w", prefix, err)
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return fmt.Errorf("mem: list objects %x: %w", prefix, backend.ErrClosed)
	}
	var hs []backend.Hash
	s.objects.each(func(h backend.Hash) {
		if bytes.HasPrefix(h[:], prefix) {
			hs = append(hs, h)
		}
	})
	s.mu.RUnlock()

	slices.SortFunc(hs, backend.Hash.Compare)
	for _, h := range hs {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("mem: list objects %x: %w", prefix, err)
		}
		if err := fn(h); err != nil {
			return err
		}
	}
	return nil
}

// ScanObjects calls fn with the hash and a copy of the bytes of every
// stored object (backend.ObjectScanner), in ascending bytewise order of
// the hashes. It takes a snapshot of the hashes first and reads each
// object's bytes just before its call, holding no lock while calling fn,
// so fn may use the Store; an object deleted meanwhile is skipped, one
// stored meanwhile is not reported. It stops and returns fn's error
// unchanged if fn returns one, and returns an error wrapping ctx.Err() if
// ctx is done before it finishes.
func (s *Store) ScanObjects(ctx context.Context, fn func(backend.Hash, []byte) error) error {
	var hs []backend.Hash
	if err := s.ListObjects(ctx, nil, func(h backend.Hash) error {
		hs = append(hs, h)
		return nil
	}); err != nil {
		return err
	}
	for _, h := range hs {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("mem: scan objects: %w", err)
		}
		s.mu.RLock()
		b, ok := s.objects.get(h)
		closed := s.closed
		if ok {
			b = clone(b)
		}
		s.mu.RUnlock()
		if closed {
			return fmt.Errorf("mem: scan objects: %w", backend.ErrClosed)
		}
		if !ok {
			continue
		}
		if err := fn(h, b); err != nil {
			return err
		}
	}
	return nil
}

// DeleteObjects removes every object in hs. Hashes that are not stored are
// ignored, so deleting an absent object succeeds.
func (s *Store) DeleteObjects(ctx context.Context, hs []backend.Hash) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem: delete %d objects: %w", len(hs), err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("mem: delete %d objects: %w", len(hs), backend.ErrClosed)
	}
	for _, h := range hs {
		s.objects.del(h)
	}
	return nil
}

// FenceObjects implements backend.ObjectFencer.
func (s *Store) FenceObjects(ctx context.Context) (backend.Fence, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mem: fence objects: %w", err)
	}
	// Writes hold mu while they record: under it, Begin sees none in
	// progress.
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("mem: fence objects: %w", backend.ErrClosed)
	}
	return s.fences.Begin(), nil
}

// DeleteObjectsFenced implements backend.ObjectFencer: under the lock that
// every write holds, it deletes the objects of hs that f has not
// remembered, and returns the others.
func (s *Store) DeleteObjectsFenced(ctx context.Context, f backend.Fence, hs []backend.Hash) ([]backend.Hash, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mem: delete %d objects: %w", len(hs), err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("mem: delete %d objects: %w", len(hs), backend.ErrClosed)
	}
	del, kept, ok := s.fences.Split(f, hs)
	if !ok {
		return nil, fmt.Errorf("mem: delete %d objects: %w", len(hs), backend.ErrBadFence)
	}
	for _, h := range del {
		s.objects.del(h)
	}
	return kept, nil
}

// GetRef returns the hash that name points at, or an error wrapping
// backend.ErrNotFound if name is absent.
func (s *Store) GetRef(ctx context.Context, name string) (backend.Hash, error) {
	if err := ctx.Err(); err != nil {
		return backend.ZeroHash, fmt.Errorf("mem: get ref %q: %w", name, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return backend.ZeroHash, fmt.Errorf("mem: get ref %q: %w", name, backend.ErrClosed)
	}
	h, ok := s.refs[name]
	if !ok {
		return backend.ZeroHash, fmt.Errorf("mem: get ref %q: %w", name, backend.ErrNotFound)
	}
	return h, nil
}

// ListRefs returns every ref whose name starts with prefix, sorted bytewise
// by name; an empty prefix lists all refs. The result is a new slice that
// the caller owns; it is empty, not an error, when no ref matches.
func (s *Store) ListRefs(ctx context.Context, prefix string) ([]backend.Ref, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mem: list refs %q: %w", prefix, err)
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, fmt.Errorf("mem: list refs %q: %w", prefix, backend.ErrClosed)
	}
	var refs []backend.Ref
	for name, h := range s.refs {
		if strings.HasPrefix(name, prefix) {
			refs = append(refs, backend.Ref{Name: name, Hash: h})
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(refs, func(a, b backend.Ref) int { return strings.Compare(a.Name, b.Name) })
	return refs, nil
}

// CompareAndSwapRef atomically sets name to new if it currently points at
// old. An old of backend.ZeroHash means "name must be absent"; a new of
// backend.ZeroHash deletes name. A missing name never matches a non-zero
// old. If the current value differs from old, CompareAndSwapRef changes
// nothing and returns an error wrapping backend.ErrConflict (and
// backend.ErrExists when old is ZeroHash and name exists).
//
// Every successful swap is reported to the watchers whose prefix name
// starts with, in the order the swaps took effect, except a swap from
// absent to absent, which changes nothing. A swap to the same value is
// reported.
func (s *Store) CompareAndSwapRef(ctx context.Context, name string, old, new backend.Hash) error {
	return s.swap(ctx, "compare-and-swap", nil, false, name, old, new)
}

// PutAndSwapRef implements backend.RefCommitter: under one lock it checks
// the ref, stores objs (copied) and moves the ref, or, if the ref is not at
// old, stores nothing and returns an error wrapping backend.ErrConflict.
func (s *Store) PutAndSwapRef(ctx context.Context, objs []backend.Object, name string, old, new backend.Hash) error {
	return s.swap(ctx, "commit", objs, false, name, old, new)
}

// PutOwnedAndSwapRef implements backend.OwnedCommitter: it is
// PutAndSwapRef, but it keeps the Data slices of the objects it stores
// rather than copies (the caller hands them over: see
// backend.OwnedCommitter). An empty Data is stored as a non-nil empty
// slice, so an empty object is still told apart from a missing one.
func (s *Store) PutOwnedAndSwapRef(ctx context.Context, objs []backend.Object, name string, old, new backend.Hash) error {
	return s.swap(ctx, "commit", objs, true, name, old, new)
}

// swap moves ref name from old to new and stores objs with it, copies of
// their bytes unless owned.
func (s *Store) swap(ctx context.Context, op string, objs []backend.Object, owned bool, name string, old, new backend.Hash) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem: %s ref %q: %w", op, name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("mem: %s ref %q: %w", op, name, backend.ErrClosed)
	}
	cur := s.refs[name] // ZeroHash if absent: refs never holds ZeroHash
	switch {
	case cur == old:
	case old.IsZero():
		return fmt.Errorf("mem: %s ref %q: is %s: %w", op, name, cur.Short(), backend.ErrExists)
	default:
		return fmt.Errorf("mem: %s ref %q: is %s, want %s: %w", op, name, cur.Describe(), old.Short(), backend.ErrConflict)
	}
	s.objects.touch(objs)
	s.fences.Stored(objs)
	for _, o := range objs {
		s.objects.put(o.Hash, o.Data, owned)
	}
	if new.IsZero() {
		delete(s.refs, name)
	} else {
		s.refs[name] = new
	}
	if !old.IsZero() || !new.IsZero() {
		// s.mu is held for writing, so events reach each watcher in the
		// order the swaps took effect.
		s.watchers.Notify(backend.RefEvent{Name: name, Old: old, New: new})
	}
	return nil
}

// WatchRefs returns a channel that receives an event for every successful
// CompareAndSwapRef on a name starting with prefix (every name for an empty
// prefix) made after WatchRefs returns, in the order they took effect. The
// channel is closed when ctx is done or the Store is closed. It buffers
// WatchBuffer events; an event that finds it full is dropped and the
// channel closed after the buffered events (see backend.RefWatcher): the
// consumer must re-read the refs and watch again.
func (s *Store) WatchRefs(ctx context.Context, prefix string) (<-chan backend.RefEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mem: watch refs %q: %w", prefix, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("mem: watch refs %q: %w", prefix, backend.ErrClosed)
	}
	return s.watchers.Watch(ctx, prefix)
}

// Close releases the Store's data and closes every watcher's channel. After
// Close every other method returns an error wrapping backend.ErrClosed.
// Close is idempotent and always returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.watchers.Close()
	s.objects, s.refs = objects{}, nil
	return nil
}

// RefNames implements backend.RefRepairer: the names of the refs that start
// with prefix, sorted. (A mem store only ever holds hashes.)
func (s *Store) RefNames(ctx context.Context, prefix string) ([]string, error) {
	refs, err := s.ListRefs(ctx, prefix)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.Name
	}
	return names, nil
}

// DeleteRef implements backend.RefRepairer: it removes ref name, if
// present, without comparing and without telling watchers.
func (s *Store) DeleteRef(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem: delete ref %q: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("mem: delete ref %q: %w", name, backend.ErrClosed)
	}
	delete(s.refs, name)
	return nil
}

var _ backend.RefRepairer = (*Store)(nil)
