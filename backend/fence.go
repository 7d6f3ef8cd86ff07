package backend

import (
	"context"
	"sync"
	"sync/atomic"
)

// ObjectFencer is an optional upgrade of ObjectDeleter that lets garbage
// collection delete objects without racing the writers of the store.
//
// Between FenceObjects and the fence's Release, the store remembers every
// object that a write stores (Put, PutAndSwapRef and the like, whether
// the object was there before or not) and every object that Has reports
// present. DeleteObjectsFenced deletes only the objects the fence has not
// remembered, atomically with respect to those writes: a concurrent write
// of one of them either comes first (and the object is kept) or stores it
// again after the delete. So a writer that stores an object, or learns
// from Has that it is there, may rely on it while the fence stands, even
// if the collector had found it unreachable before.
//
// A store whose writers all run in this process keeps its fences in
// memory (mem, Pebble, with Fences); a store shared by several processes
// keeps them where every writer records atomically with its write (Redis
// on one server, in Lua scripts).
type ObjectFencer interface {
	ObjectDeleter
	// FenceObjects begins a fence. The caller must Release it. A store
	// that cannot keep one in its present configuration returns an
	// error wrapping errors.ErrUnsupported.
	FenceObjects(ctx context.Context) (Fence, error)
	// DeleteObjectsFenced deletes the objects of hs that f has not
	// remembered, and returns those it kept (in the order of hs). For a
	// fence that is released, has lapsed or is not of this store it
	// deletes nothing and returns an error wrapping ErrBadFence.
	DeleteObjectsFenced(ctx context.Context, f Fence, hs []Hash) (kept []Hash, err error)
}

// Fence is a fence of an ObjectFencer. Release ends it (and forgets what
// it remembered); releasing it again does nothing.
type Fence interface {
	Release()
}

// FenceReleaser is an optional upgrade of Fence, for a fence kept on a
// server: ReleaseContext is Release, giving up once ctx is done instead of
// after the store's own bound. A fence the server did not hear released
// lapses there by itself (see the store's documentation); until then the
// store's writers keep recording into it.
type FenceReleaser interface {
	Fence
	ReleaseContext(ctx context.Context)
}

// ReleaseFence releases f, within ctx if f is a FenceReleaser.
func ReleaseFence(ctx context.Context, f Fence) {
	if r, ok := f.(FenceReleaser); ok {
		r.ReleaseContext(ctx)
		return
	}
	f.Release()
}

// FenceNarrower is an optional upgrade of Fence, for a fence kept in
// memory (Fences'): once the collector knows which objects it may delete
// (its candidates), Narrow makes the fence remember only those, forgetting
// the others it remembered, so that it grows with the candidates that
// writers store or find, not with every object stored while the collector
// runs. After Narrow, a fenced delete of an object outside may deletes it
// whatever the writers did: the collector deletes only candidates.
type FenceNarrower interface {
	Fence
	// Narrow restricts the fence to the objects for which may reports
	// true. may is called with the store's fence lock held, from the
	// writers' goroutines: it must be safe for concurrent use, fast, and
	// must not call the store.
	Narrow(may func(Hash) bool)
}

// Fences keeps the fences of a store that implements ObjectFencer (see
// mem and pebble). The zero value has no fence.
//
// The store orders its writes against its fenced deletes: each write (and
// each Has) holds the store's lock, or Fences' own (LockWrite), from
// before it records its objects (Stored, Present) until they are stored;
// each fenced delete holds it exclusively (LockDelete) across Split and
// the delete. Fences records into every open fence, so several collectors
// may run at once.
type Fences struct {
	gate sync.RWMutex // LockWrite / LockDelete
	open atomic.Int32 // fences not released; read without mu

	mu     sync.Mutex
	fences []*localFence
}

// localFence is a fence kept by Fences.
type localFence struct {
	fs   *Fences
	seen map[Hash]struct{} // guarded by fs.mu
	may  func(Hash) bool   // what it remembers, if not everything (Narrow); guarded by fs.mu
	done bool
}

var _ FenceNarrower = (*localFence)(nil)

// Narrow implements FenceNarrower.
func (f *localFence) Narrow(may func(Hash) bool) {
	fs := f.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f.done {
		return
	}
	f.may = may
	for h := range f.seen {
		if !may(h) {
			delete(f.seen, h)
		}
	}
}

// Begin opens a fence. It waits for the writes that hold LockWrite, so
// that every write after it is remembered.
func (fs *Fences) Begin() Fence {
	f := &localFence{fs: fs, seen: map[Hash]struct{}{}}
	fs.gate.Lock()
	fs.mu.Lock()
	fs.fences = append(fs.fences, f)
	fs.open.Add(1)
	fs.mu.Unlock()
	fs.gate.Unlock()
	return f
}

// Release implements Fence.
func (f *localFence) Release() {
	fs := f.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f.done {
		return
	}
	f.done = true
	for i, g := range fs.fences {
		if g == f {
			fs.fences = append(fs.fences[:i], fs.fences[i+1:]...)
			break
		}
	}
	fs.open.Add(-1)
	f.seen, f.may = nil, nil
}

// LockWrite and UnlockWrite bracket a write (or a Has) in a store that
// has no lock of its own ordering it against fenced deletes.
func (fs *Fences) LockWrite()   { fs.gate.RLock() }
func (fs *Fences) UnlockWrite() { fs.gate.RUnlock() }

// LockDelete and UnlockDelete bracket a fenced delete in such a store.
func (fs *Fences) LockDelete()   { fs.gate.Lock() }
func (fs *Fences) UnlockDelete() { fs.gate.Unlock() }

// Stored remembers, in every open fence, the objects a write stores.
func (fs *Fences) Stored(objs []Object) {
	fs.remember(len(objs), func(i int) (Hash, bool) { return objs[i].Hash, true })
}

// Present remembers, in every open fence, the objects of hs that Has
// found (has[i]).
func (fs *Fences) Present(hs []Hash, has []bool) {
	fs.remember(len(hs), func(i int) (Hash, bool) { return hs[i], has[i] })
}

// remember records, in every open fence, the hashes at(i) of the n
// objects for which it says so.
func (fs *Fences) remember(n int, at func(i int) (Hash, bool)) {
	if fs.open.Load() == 0 {
		return
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range fs.fences {
		for i := range n {
			if h, ok := at(i); ok && (f.may == nil || f.may(h)) {
				f.seen[h] = struct{}{}
			}
		}
	}
}

// Split returns the objects of hs that fence f has not remembered (to
// delete) and those it has (kept), each in the order of hs. ok is false
// if f is released or not one of fs's fences.
func (fs *Fences) Split(fence Fence, hs []Hash) (del, kept []Hash, ok bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f, mine := fence.(*localFence)
	if !mine || f.fs != fs || f.done {
		return nil, nil, false
	}
	for _, h := range hs {
		if _, seen := f.seen[h]; seen {
			kept = append(kept, h)
		} else {
			del = append(del, h)
		}
	}
	return del, kept, true
}
