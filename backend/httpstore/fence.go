package httpstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratakv/strata/backend"
)

// DefaultFenceIdle is how long the server keeps a garbage collector's
// fence (POST /v1/store/fence) that its client neither renews nor uses:
// a client that went away leaves a fence that is released after this
// long. The client renews its fences every quarter of it.
const DefaultFenceIdle = 10 * time.Minute

// DefaultMaxFences is the most fences a handler holds at once unless
// HandlerOptions.MaxFences says otherwise.
const DefaultMaxFences = 16

// maxFenceIdle bounds the idle time a client accepts from a server, and
// minRenew the interval of its renewals.
const (
	maxFenceIdle = 24 * time.Hour
	minRenew     = 10 * time.Millisecond
)

var _ backend.ObjectFencer = (*Store)(nil)

var _ backend.FenceReleaser = (*fence)(nil)

// serverFences are the fences a handler holds for its clients, by id.
type serverFences struct {
	mu sync.Mutex
	m  map[string]*serverFence
}

type serverFence struct {
	f     backend.Fence
	timer *time.Timer // releases the fence when its client stops using it
}

// fenceAnswer is what POST /v1/store/fence answers.
type fenceAnswer struct {
	Fence  string `json:"fence"`   // the fence's id
	IdleMS int64  `json:"idle_ms"` // released after this long unused
}

func (h *handler) fencer() (backend.ObjectFencer, error) {
	fc, ok := h.s.(backend.ObjectFencer)
	if !ok {
		return nil, fmt.Errorf("fencing objects: %w", errors.ErrUnsupported)
	}
	return fc, nil
}

// fenceIdle returns HandlerOptions.FenceIdle or its default.
func (h *handler) fenceIdle() time.Duration {
	if h.opts.FenceIdle > 0 {
		return h.opts.FenceIdle
	}
	return DefaultFenceIdle
}

// beginFence serves POST /v1/store/fence: it begins a fence on the
// server's store and keeps it until the client releases it or leaves it
// unused for the idle time.
func (h *handler) beginFence(w http.ResponseWriter, r *http.Request) error {
	fc, err := h.fencer()
	if err != nil {
		return err
	}
	f, err := fc.FenceObjects(r.Context())
	if err != nil {
		return err
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	idle := h.fenceIdle()
	limit := h.opts.MaxFences
	if limit <= 0 {
		limit = DefaultMaxFences
	}
	h.fences.mu.Lock()
	if len(h.fences.m) >= limit {
		h.fences.mu.Unlock()
		f.Release()
		return fmt.Errorf("%d fences held already: %w", limit, ErrBusy)
	}
	if h.fences.m == nil {
		h.fences.m = map[string]*serverFence{}
	}
	h.fences.m[id] = &serverFence{f: f, timer: time.AfterFunc(idle, func() { h.releaseFence(id) })}
	h.fences.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(fenceAnswer{Fence: id, IdleMS: idle.Milliseconds()})
}

// heldFence returns the fence the request's fence parameter names, its
// idle timer restarted, or an error wrapping backend.ErrBadFence.
func (h *handler) heldFence(r *http.Request) (backend.Fence, error) {
	id := r.URL.Query().Get("fence")
	h.fences.mu.Lock()
	defer h.fences.mu.Unlock()
	sf, ok := h.fences.m[id]
	// With mu held and the fence still in the map, a timer that cannot
	// be stopped has fired: its release is waiting for mu.
	if !ok || !sf.timer.Stop() {
		return nil, ownError{fmt.Errorf("fence %q: %w (released, or unused for %v)", id, backend.ErrBadFence, h.fenceIdle())}
	}
	sf.timer.Reset(h.fenceIdle())
	return sf.f, nil
}

// renewFence serves POST /v1/store/fence/renew?fence=ID.
func (h *handler) renewFence(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.heldFence(r); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// endFence serves POST /v1/store/fence/release?fence=ID; an unknown id
// is fine (the fence is gone either way).
func (h *handler) endFence(w http.ResponseWriter, r *http.Request) error {
	h.releaseFence(r.URL.Query().Get("fence"))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// releaseFences releases every fence the handler holds.
func (h *handler) releaseFences() {
	h.fences.mu.Lock()
	ids := make([]string, 0, len(h.fences.m))
	for id := range h.fences.m {
		ids = append(ids, id)
	}
	h.fences.mu.Unlock()
	for _, id := range ids {
		h.releaseFence(id)
	}
}

func (h *handler) releaseFence(id string) {
	h.fences.mu.Lock()
	sf, ok := h.fences.m[id]
	delete(h.fences.m, id)
	h.fences.mu.Unlock()
	if ok {
		sf.timer.Stop()
		sf.f.Release()
	}
}

// deleteFenced serves POST /v1/store/delete?fence=ID: the fenced delete,
// answering the hashes it kept.
func (h *handler) deleteFenced(w http.ResponseWriter, r *http.Request, hs []backend.Hash) error {
	fc, err := h.fencer()
	if err != nil {
		return err
	}
	f, err := h.heldFence(r)
	if err != nil {
		return err
	}
	kept, err := fc.DeleteObjectsFenced(r.Context(), f, hs)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	return writeHashes(w, kept)
}

// fence is a fence that the server holds for this client.
type fence struct {
	s        *Store
	id       string
	stop     context.CancelFunc // ends ctx: stops the renewals (Release)
	ctx      context.Context    // of the renewals; also done at Store.Close
	done     chan struct{}
	once     sync.Once
	released atomic.Bool
}

// FenceObjects implements backend.ObjectFencer: the server begins a fence
// on its own store (which must be a backend.ObjectFencer, else the error
// wraps errors.ErrUnsupported) and holds it for this client, which renews
// it every quarter of the server's idle time until Release. Every write
// that reaches the server's store, through any client or the server's
// own process, is remembered by it.
func (s *Store) FenceObjects(ctx context.Context) (backend.Fence, error) {
	if !s.fences {
		if err := s.alive(ctx); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s: fence objects: the server's store keeps no fences: %w", s.where, errors.ErrUnsupported)
	}
	resp, err := s.do(ctx, http.MethodPost, "/v1/store/fence", nil, nil)
	if err != nil {
		return nil, err
	}
	defer drain(resp.Body)
	var a fenceAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || a.Fence == "" || a.IdleMS <= 0 {
		if err == nil {
			err = fmt.Errorf("answer without a fence id or idle time")
		}
		return nil, fmt.Errorf("%s: fence objects: %w", s.where, err)
	}
	f := &fence{s: s, id: a.Fence, done: make(chan struct{})}
	f.ctx, f.stop = context.WithCancel(s.done)
	idle := time.Duration(min(a.IdleMS, maxFenceIdle.Milliseconds())) * time.Millisecond
	go f.renew(max(idle/4, minRenew))
	return f, nil
}

// renew renews the fence every interval until Release; a renewal that
// fails is tried again at the next tick.
func (f *fence) renew(interval time.Duration) {
	defer close(f.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-f.ctx.Done(): // released, or the Store is closed
			return
		case <-t.C:
			if resp, err := f.s.do(f.ctx, http.MethodPost, "/v1/store/fence/renew", url.Values{"fence": {f.id}}, nil); err == nil {
				drain(resp.Body)
			}
		}
	}
}

// Release implements backend.Fence: it stops the renewals and asks the
// server to release the fence, waiting for it for up to 30 seconds (if
// the server cannot be reached, it releases it after its idle time).
func (f *fence) Release() { f.ReleaseContext(context.Background()) }

// ReleaseContext implements backend.FenceReleaser: Release, giving up on
// the server once ctx is done.
func (f *fence) ReleaseContext(ctx context.Context) {
	f.once.Do(func() {
		f.released.Store(true)
		f.stop()
		<-f.done
		if ctx.Err() != nil {
			return
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if resp, err := f.s.do(ctx, http.MethodPost, "/v1/store/fence/release", url.Values{"fence": {f.id}}, nil); err == nil {
			drain(resp.Body)
		}
	})
}

// DeleteObjectsFenced implements backend.ObjectFencer: one request per
// MaxBatch hashes, each a fenced delete on the server's store.
func (s *Store) DeleteObjectsFenced(ctx context.Context, bf backend.Fence, hs []backend.Hash) ([]backend.Hash, error) {
	f, ok := bf.(*fence)
	if !ok || f.s != s || f.released.Load() {
		return nil, fmt.Errorf("%s: delete %d objects: %w", s.where, len(hs), backend.ErrBadFence)
	}
	if len(hs) == 0 {
		return nil, s.alive(ctx)
	}
	var kept []backend.Hash
	for start := 0; start < len(hs); start += MaxBatch {
		part := hs[start:min(start+MaxBatch, len(hs))]
		resp, err := s.do(ctx, http.MethodPost, "/v1/store/delete", url.Values{"fence": {f.id}}, hashesBody(part))
		if err != nil {
			return nil, err
		}
		k, err := readHashes(resp.Body)
		drain(resp.Body)
		if err != nil {
			return nil, s.transportError(ctx, err)
		}
		asked := make(map[backend.Hash]bool, len(part))
		for _, h := range part {
			asked[h] = true
		}
		for _, h := range k {
			if !asked[h] {
				return nil, fmt.Errorf("%s: delete %d objects: the server kept %s, which was not asked", s.where, len(part), h.Short())
			}
		}
		kept = append(kept, k...)
	}
	return kept, nil
}
