package layered

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratakv/strata/backend"
)

// Options configure New. Nil options mean the defaults.
type Options struct {
	// WatchRefs keeps the refs under WatchPrefix current from a watch on
	// the back (if the back is a backend.RefWatcher) and answers reads of
	// them without asking the back. False reads every ref from the back.
	WatchRefs bool
	// WatchPrefix is the prefix of the refs the watch keeps; empty means
	// every ref (reading a revision looks up tags and shallow markers as
	// well as branches, so a warm read needs them all).
	WatchPrefix string
	// NoCacheWrites stores written objects only in the back; false keeps
	// them in the front as well once the back has accepted them (in the
	// background, off the write path, best effort).
	NoCacheWrites bool
}

// Store is a layered backend.Store. It is safe for concurrent use. It
// implements every optional upgrade; BatchGetter and RefCommitter work
// over any back (with backend.GetMany's and backend.PutAndSwapRef's
// fallbacks), while ObjectLister, ObjectDeleter, RefWatcher and
// RefRepairer pass through to the back and return an error wrapping
// errors.ErrUnsupported when the back lacks them.
type Store struct {
	front, back backend.Store
	opts        Options
	closed      atomic.Bool
	w           *watch // nil without a watch

	keepMu   sync.RWMutex
	keepq    chan keepItem // written objects for the front; closed by Close
	keepDone chan struct{} // closed when the keeper has stopped
}

// keepItem is a batch of written objects for the front, or (done not nil)
// a barrier: done is closed once every earlier batch is in the front.
type keepItem struct {
	objs []backend.Object
	done chan struct{}
}

// keepQueue is how many batches of written objects may wait for the
// front; more are not cached.
const keepQueue = 64

var (
	_ backend.Store         = (*Store)(nil)
	_ backend.BatchGetter   = (*Store)(nil)
	_ backend.RefCommitter  = (*Store)(nil)
	_ backend.RefWatcher    = (*Store)(nil)
	_ backend.ObjectLister  = (*Store)(nil)
	_ backend.ObjectDeleter = (*Store)(nil)
	_ backend.RefRepairer   = (*Store)(nil)
)

// New returns a store that caches back's objects in front. It takes
// ownership of both: Close closes them. With Options.WatchRefs and a back
// that is a backend.RefWatcher, New starts the watch and waits (within
// ctx) until the refs have been listed once; if that fails it returns the
// error and closes nothing (a back that answers errors.ErrUnsupported is
// used without a watch).
func New(ctx context.Context, front, back backend.Store, opts *Options) (*Store, error) {
	s := &Store{front: front, back: back}
	if opts != nil {
		s.opts = *opts
	}
	s.keepq, s.keepDone = make(chan keepItem, keepQueue), make(chan struct{})
	if wr, ok := back.(backend.RefWatcher); ok && s.opts.WatchRefs {
		w, err := startWatch(ctx, wr, back, s.opts.WatchPrefix)
		switch {
		case errors.Is(err, errors.ErrUnsupported):
			// A back that cannot watch after all (an HTTP store whose
			// server's store cannot): every ref read goes to the back.
		case err != nil:
			return nil, err
		default:
			s.w = w
		}
	}
	go s.keeper()
	return s, nil
}

// keeper stores written objects in the front, off the write path: the
// front is a cache, so a write need not wait for (or fsync) it.
func (s *Store) keeper() {
	defer close(s.keepDone)
	for it := range s.keepq {
		if it.done != nil {
			close(it.done)
			continue
		}
		_ = s.front.Put(context.Background(), it.objs)
	}
}

// keepLater queues a copy of written objects for the front, or drops them
// when the queue is full or the store closed (they are fetched from the
// back when next read).
func (s *Store) keepLater(objs []backend.Object) {
	if s.opts.NoCacheWrites || len(objs) == 0 {
		return
	}
	s.keepMu.RLock()
	defer s.keepMu.RUnlock()
	if s.closed.Load() {
		return
	}
	cp := make([]backend.Object, len(objs))
	for i, o := range objs {
		cp[i] = backend.Object{Hash: o.Hash, Data: slices.Clone(o.Data)}
	}
	select {
	case s.keepq <- keepItem{objs: cp}:
	default:
	}
}

// flushKeeps waits until the objects queued for the front are in it, so
// that a deletion from the front is not undone by a queued write.
func (s *Store) flushKeeps(ctx context.Context) error {
	done := make(chan struct{})
	s.keepMu.RLock()
	if s.closed.Load() {
		s.keepMu.RUnlock()
		return fmt.Errorf("layered store: %w", backend.ErrClosed)
	}
	select {
	case s.keepq <- keepItem{done: done}:
	case <-ctx.Done():
		s.keepMu.RUnlock()
		return ctx.Err()
	}
	s.keepMu.RUnlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the watch and closes the front and the back. It is
// idempotent.
func (s *Store) Close() error {
	s.keepMu.Lock()
	if s.closed.Swap(true) {
		s.keepMu.Unlock()
		return nil
	}
	close(s.keepq)
	s.keepMu.Unlock()
	<-s.keepDone
	if s.w != nil {
		s.w.stop()
	}
	return errors.Join(s.back.Close(), s.front.Close())
}

// alive returns ErrClosed after Close, else ctx's error.
func (s *Store) alive(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("layered store: %w", backend.ErrClosed)
	}
	return ctx.Err()
}

// Get returns the object from the front, else from the back (keeping it
// in the front), else an error wrapping backend.ErrNotFound.
func (s *Store) Get(ctx context.Context, h backend.Hash) ([]byte, error) {
	if err := s.alive(ctx); err != nil {
		return nil, err
	}
	b, err := s.front.Get(ctx, h)
	if err == nil {
		return b, nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return nil, cerr
	}
	b, err = s.back.Get(ctx, h)
	if err != nil {
		return nil, err
	}
	s.keep(ctx, []backend.Object{{Hash: h, Data: b}})
	return b, nil
}

// keep stores objects in the front, best effort: the front is a cache,
// and an object it failed to keep is fetched again next time.
func (s *Store) keep(ctx context.Context, objs []backend.Object) {
	if len(objs) > 0 {
		_ = s.front.Put(ctx, objs)
	}
}

// GetMany implements backend.BatchGetter: one batch from the front, one
// batch from the back for the misses.
func (s *Store) GetMany(ctx context.Context, hs []backend.Hash) ([][]byte, error) {
	if err := s.alive(ctx); err != nil {
		return nil, err
	}
	out, err := backend.GetMany(ctx, s.front, hs)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		out = make([][]byte, len(hs)) // a failing cache: ask the back for all
	}
	var miss []backend.Hash
	var at []int
	for i, b := range out {
		if b == nil {
			miss = append(miss, hs[i])
			at = append(at, i)
		}
	}
	if len(miss) == 0 {
		return out, nil
	}
	got, err := backend.GetMany(ctx, s.back, miss)
	if err != nil {
		return nil, err
	}
	var kept []backend.Object
	for j, b := range got {
		if b != nil {
			out[at[j]] = b
			kept = append(kept, backend.Object{Hash: miss[j], Data: b})
		}
	}
	s.keep(ctx, kept)
	return out, nil
}

// Has reports which objects are stored: those in the front, and those
// the back has of the rest. An object deleted from the back by another
// client (garbage collection elsewhere) may still be reported, and read,
// from the front.
func (s *Store) Has(ctx context.Context, hs []backend.Hash) ([]bool, error) {
	if err := s.alive(ctx); err != nil {
		return nil, err
	}
	out, err := s.front.Has(ctx, hs)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		out = make([]bool, len(hs))
	}
	var rest []backend.Hash
	var at []int
	for i, ok := range out {
		if !ok {
			rest = append(rest, hs[i])
			at = append(at, i)
		}
	}
	if len(rest) == 0 {
		return out, nil
	}
	got, err := s.back.Has(ctx, rest)
	if err != nil {
		return nil, err
	}
	for j, ok := range got {
		out[at[j]] = ok
	}
	return out, nil
}

// Put stores objs in the back, then (unless NoCacheWrites) in the front.
func (s *Store) Put(ctx context.Context, objs []backend.Object) error {
	if err := s.alive(ctx); err != nil {
		return err
	}
	if err := s.back.Put(ctx, objs); err != nil {
		return err
	}
	s.keepLater(objs)
	return nil
}

// PutAndSwapRef implements backend.RefCommitter: one step on the back
// (one round trip when the back is a RefCommitter).
func (s *Store) PutAndSwapRef(ctx context.Context, objs []backend.Object, name string, old, new backend.Hash) error {
	if err := s.alive(ctx); err != nil {
		return err
	}
	seq := s.seq()
	err := backend.PutAndSwapRef(ctx, s.back, objs, name, old, new)
	s.swapped(ctx, name, old, new, seq, err)
	if err != nil {
		return err
	}
	s.keepLater(objs)
	return nil
}

// CompareAndSwapRef swaps name on the back.
func (s *Store) CompareAndSwapRef(ctx context.Context, name string, old, new backend.Hash) error {
	if err := s.alive(ctx); err != nil {
		return err
	}
	seq := s.seq()
	err := s.back.CompareAndSwapRef(ctx, name, old, new)
	s.swapped(ctx, name, old, new, seq, err)
	return err
}

// seq returns the number of events the watch has applied (0 without a
// watch), taken before a swap so that an event that overtakes the swap's
// answer can be recognised.
func (s *Store) seq() uint64 {
	if s.w == nil {
		return 0
	}
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	return s.w.seq
}

// swapped tells the watch about a swap of name from old to new on the
// back, begun when the watch had applied seq events, that returned err:
// on success, reads of name go to the back until the stream has delivered
// it; on a conflict, the ref is re-read from the back.
func (s *Store) swapped(ctx context.Context, name string, old, new backend.Hash, seq uint64, err error) {
	if s.w == nil || !strings.HasPrefix(name, s.w.prefix) {
		return
	}
	switch {
	case err == nil:
		s.w.expect(name, old, new, seq)
	case errors.Is(err, backend.ErrConflict):
		cur, gerr := s.back.GetRef(ctx, name)
		if gerr != nil && !errors.Is(gerr, backend.ErrNotFound) {
			s.w.unsure(name) // cannot tell: read from the back
			return
		}
		s.w.refresh(name, cur, seq)
	default:
		s.w.unsure(name) // the swap may or may not have happened
	}
}

// GetRef returns the hash name points at: from the watch state for a
// watched ref the state is sure of, else from the back.
func (s *Store) GetRef(ctx context.Context, name string) (backend.Hash, error) {
	if err := s.alive(ctx); err != nil {
		return backend.ZeroHash, err
	}
	if s.w != nil {
		if h, ok, known := s.w.get(name); known {
			if !ok {
				return h, fmt.Errorf("ref %q: %w", name, backend.ErrNotFound)
			}
			return h, nil
		}
	}
	return s.back.GetRef(ctx, name)
}

// ListRefs returns the refs under prefix: from the watch state when it
// covers prefix and is sure of every ref under it, else from the back.
func (s *Store) ListRefs(ctx context.Context, prefix string) ([]backend.Ref, error) {
	if err := s.alive(ctx); err != nil {
		return nil, err
	}
	if s.w != nil {
		if refs, known := s.w.list(prefix); known {
			return refs, nil
		}
	}
	return s.back.ListRefs(ctx, prefix)
}

// ListObjects implements backend.ObjectLister by listing the back.
func (s *Store) ListObjects(ctx context.Context, prefix []byte, fn func(backend.Hash) error) error {
	if err := s.alive(ctx); err != nil {
		return err
	}
	l, ok := s.back.(backend.ObjectLister)
	if !ok {
		return fmt.Errorf("layered store: listing objects: the back %T cannot: %w", s.back, errors.ErrUnsupported)
	}
	return l.ListObjects(ctx, prefix, fn)
}

// ScanObjects implements backend.ObjectScanner by scanning the back (the
// front holds only copies of some of its objects). If the back cannot, it
// returns an error wrapping errors.ErrUnsupported before calling fn, and
// a caller falls back to listing and reading objects.
func (s *Store) ScanObjects(ctx context.Context, fn func(backend.Hash, []byte) error) error {
	if err := s.alive(ctx); err != nil {
		return err
	}
	sc, ok := s.back.(backend.ObjectScanner)
	if !ok {
		return fmt.Errorf("layered store: scanning objects: the back %T cannot: %w", s.back, errors.ErrUnsupported)
	}
	return sc.ScanObjects(ctx, fn)
}

// DeleteObjects implements backend.ObjectDeleter: from the back, then
// from the front.
func (s *Store) DeleteObjects(ctx context.Context, hs []backend.Hash) error {
	if err := s.alive(ctx); err != nil {
		return err
	}
	d, ok := s.back.(backend.ObjectDeleter)
	if !ok {
		return fmt.Errorf("layered store: deleting objects: the back %T cannot: %w", s.back, errors.ErrUnsupported)
	}
	if err := d.DeleteObjects(ctx, hs); err != nil {
		return err
	}
	if err := s.flushKeeps(ctx); err != nil {
		return err
	}
	if fd, ok := s.front.(backend.ObjectDeleter); ok {
		return fd.DeleteObjects(ctx, hs)
	}
	return nil
}

// WatchRefs implements backend.RefWatcher with the back's watch.
func (s *Store) WatchRefs(ctx context.Context, prefix string) (<-chan backend.RefEvent, error) {
	if err := s.alive(ctx); err != nil {
		return nil, err
	}
	wr, ok := s.back.(backend.RefWatcher)
	if !ok {
		return nil, fmt.Errorf("layered store: watching refs: the back %T cannot: %w", s.back, errors.ErrUnsupported)
	}
	return wr.WatchRefs(ctx, prefix)
}

// RefNames implements backend.RefRepairer with the back's.
func (s *Store) RefNames(ctx context.Context, prefix string) ([]string, error) {
	if err := s.alive(ctx); err != nil {
		return nil, err
	}
	rr, ok := s.back.(backend.RefRepairer)
	if !ok {
		return nil, fmt.Errorf("layered store: listing ref names: the back %T cannot: %w", s.back, errors.ErrUnsupported)
	}
	return rr.RefNames(ctx, prefix)
}

// DeleteRef implements backend.RefRepairer with the back's. Watchers are
// not told of it, so the watch state is rebuilt.
func (s *Store) DeleteRef(ctx context.Context, name string) error {
	if err := s.alive(ctx); err != nil {
		return err
	}
	rr, ok := s.back.(backend.RefRepairer)
	if !ok {
		return fmt.Errorf("layered store: deleting a ref: the back %T cannot: %w", s.back, errors.ErrUnsupported)
	}
	err := rr.DeleteRef(ctx, name)
	if s.w != nil && strings.HasPrefix(name, s.w.prefix) {
		s.w.resync()
	}
	return err
}

// watch keeps the refs under a prefix current from the back's events.
type watch struct {
	prefix string
	wr     backend.RefWatcher
	rs     backend.RefStore

	mu      sync.Mutex
	valid   bool                     // refs reflects the stream
	epoch   int                      // counts subscriptions
	seq     uint64                   // counts the events applied
	refs    map[string]backend.Hash  // the refs, as the stream says
	recent  map[string][]seenEvent   // the last events applied per ref
	unsures map[string]bool          // refs to read from the back until a clean event
	expects map[string][]expectation // own swaps the stream has not delivered yet
	restart context.CancelFunc       // ends the current subscription
	cancel  context.CancelFunc       // ends the watch
	done    chan struct{}            // closed when the goroutine ends
}

// expectation is a value the back is known to have reached: by an own
// swap from old to h (exact: cleared when the stream delivers that swap)
// or seen after a conflict (cleared by any event for the ref).
type expectation struct {
	old, h backend.Hash
	exact  bool
	epoch  int
}

// seenEvent is an applied event and its number.
type seenEvent struct {
	seq      uint64
	old, new backend.Hash
}

// startWatch subscribes, lists the refs, and keeps them current in a
// goroutine until stop.
func startWatch(ctx context.Context, wr backend.RefWatcher, rs backend.RefStore, prefix string) (*watch, error) {
	wctx, cancel := context.WithCancel(context.Background())
	w := &watch{prefix: prefix, wr: wr, rs: rs, cancel: cancel, done: make(chan struct{})}
	ch, subCancel, err := w.subscribe(ctx, wctx)
	if err != nil {
		cancel()
		return nil, err
	}
	go w.run(wctx, ch, subCancel)
	return w, nil
}

// subscribe starts a subscription (ended by wctx or the returned cancel)
// and lists the refs; from then on refs reflects the stream. It waits for
// the listing within ctx.
func (w *watch) subscribe(ctx, wctx context.Context) (<-chan backend.RefEvent, context.CancelFunc, error) {
	w.mu.Lock()
	w.epoch++
	epoch := w.epoch
	w.mu.Unlock()
	sctx, cancel := context.WithCancel(wctx)
	stop := context.AfterFunc(ctx, cancel) // give up the first attempt with ctx
	defer stop()
	ch, err := w.wr.WatchRefs(sctx, w.prefix)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	refs, err := w.rs.ListRefs(sctx, w.prefix)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	if !stop() {
		cancel()
		return nil, nil, ctx.Err()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.refs = make(map[string]backend.Hash, len(refs))
	for _, r := range refs {
		w.refs[r.Name] = r.Hash
	}
	w.unsures = map[string]bool{}
	w.recent = map[string][]seenEvent{}
	for name, es := range w.expects {
		// Swaps that returned before this subscription began are in the
		// listing.
		es = slices.DeleteFunc(es, func(e expectation) bool { return e.epoch < epoch })
		if len(es) == 0 {
			delete(w.expects, name)
		} else {
			w.expects[name] = es
		}
	}
	w.valid = true
	w.restart = cancel
	return ch, cancel, nil
}

// run applies events, and subscribes again when the stream ends, until
// wctx is done.
func (w *watch) run(wctx context.Context, ch <-chan backend.RefEvent, cancel context.CancelFunc) {
	defer close(w.done)
	backoff := 10 * time.Millisecond
	for {
		for ev := range ch {
			w.apply(ev)
		}
		cancel()
		w.mu.Lock()
		w.valid = false
		w.mu.Unlock()
		for {
			if wctx.Err() != nil {
				return
			}
			var err error
			if ch, cancel, err = w.subscribe(wctx, wctx); err == nil {
				backoff = 10 * time.Millisecond
				break
			}
			select {
			case <-wctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}
}

// apply records one event. The event's New is the ref's value at that
// point of the stream whatever came before; an Old other than the value
// held means events were missed (or the stream is replaying changes the
// listing already holds), so the ref is read from the back until an event
// follows on cleanly.
func (w *watch) apply(ev backend.RefEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.refs[ev.Name] == ev.Old {
		delete(w.unsures, ev.Name)
	} else {
		w.unsures[ev.Name] = true
	}
	if ev.New.IsZero() {
		delete(w.refs, ev.Name)
	} else {
		w.refs[ev.Name] = ev.New
	}
	w.seq++
	r := append(w.recent[ev.Name], seenEvent{seq: w.seq, old: ev.Old, new: ev.New})
	if len(r) > recentEvents {
		r = r[1:]
	}
	w.recent[ev.Name] = r
	es := w.expects[ev.Name]
	if i := slices.IndexFunc(es, func(e expectation) bool { return e.exact && e.old == ev.Old && e.h == ev.New }); i >= 0 {
		es = es[i+1:]
	}
	es = slices.DeleteFunc(es, func(e expectation) bool { return !e.exact })
	if len(es) == 0 {
		delete(w.expects, ev.Name)
	} else {
		w.expects[ev.Name] = es
	}
}

// recentEvents is how many of the last events of each ref the watch
// remembers, to tell whether the stream delivered an own swap before the
// swap's answer arrived.
const recentEvents = 16

// seen reports whether the stream delivered, after its event number seq,
// an event for name matching match. Call with mu held.
func (w *watch) seen(name string, seq uint64, match func(seenEvent) bool) bool {
	return slices.ContainsFunc(w.recent[name], func(e seenEvent) bool { return e.seq > seq && match(e) })
}

// expect records an own swap of name from old to h, begun after event
// number seq, unless the stream has already delivered it (its event can
// overtake the swap's answer). A delivered event from old to h proves
// that only when no earlier own swap of name is still awaited and the
// state holds h: with A→B→A swaps, an event from old to h can be an
// earlier swap's, delivered late, and taking it for this one would let
// the state answer with a value the back has left.
func (w *watch) expect(name string, old, h backend.Hash, seq uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.expects[name]) == 0 && w.refs[name] == h &&
		w.seen(name, seq, func(e seenEvent) bool { return e.old == old && e.new == h }) {
		return
	}
	if w.expects == nil {
		w.expects = map[string][]expectation{}
	}
	w.expects[name] = append(w.expects[name], expectation{old: old, h: h, exact: true, epoch: w.epoch})
}

// refresh records that the back held h for name after a conflict in a
// swap begun after event number seq.
func (w *watch) refresh(name string, h backend.Hash, seq uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.refs[name] == h || w.seen(name, seq, func(e seenEvent) bool { return e.new == h }) {
		return
	}
	if w.expects == nil {
		w.expects = map[string][]expectation{}
	}
	w.expects[name] = append(w.expects[name], expectation{h: h, epoch: w.epoch})
}

// unsure makes reads of name go to the back until an event follows on
// cleanly.
func (w *watch) unsure(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.unsures != nil {
		w.unsures[name] = true
	}
}

// resync ends the current subscription: the watch lists the refs again.
func (w *watch) resync() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.valid = false
	if w.restart != nil {
		w.restart()
	}
}

// sure reports whether the state can answer for name. Call with mu held.
func (w *watch) sure(name string) bool {
	return !w.unsures[name] && len(w.expects[name]) == 0
}

// get returns name's value from the state; known is false when the state
// cannot answer (not watched, not in sync, or unsure of name).
func (w *watch) get(name string) (h backend.Hash, ok, known bool) {
	if !strings.HasPrefix(name, w.prefix) {
		return h, false, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.valid || !w.sure(name) {
		return h, false, false
	}
	h, ok = w.refs[name]
	return h, ok, true
}

// list returns the refs under prefix from the state, sorted; known is
// false when the state cannot answer for every ref under prefix.
func (w *watch) list(prefix string) (refs []backend.Ref, known bool) {
	if !strings.HasPrefix(prefix, w.prefix) {
		return nil, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.valid {
		return nil, false
	}
	for name := range w.unsures {
		if strings.HasPrefix(name, prefix) {
			return nil, false
		}
	}
	for name := range w.expects {
		if strings.HasPrefix(name, prefix) {
			return nil, false
		}
	}
	for name, h := range w.refs {
		if strings.HasPrefix(name, prefix) {
			refs = append(refs, backend.Ref{Name: name, Hash: h})
		}
	}
	slices.SortFunc(refs, func(a, b backend.Ref) int { return strings.Compare(a.Name, b.Name) })
	return refs, true
}

// stop ends the watch and waits for its goroutine.
func (w *watch) stop() {
	w.cancel()
	<-w.done
}
