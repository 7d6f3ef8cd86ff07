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
	"time"

	"github.com/stratakv/strata/backend"
)

// DefaultFenceIdle is how long the server keeps a garbage collector's
// fence (POST /v1/store/fence) that its client neither renews nor uses:
// a client that went away leaves a fence that is released after this
// long. The client renews its fences every quarter of it.
const DefaultFenceIdle = 10 * time.Minute

var _ backend.ObjectFencer = (*Store)(nil)

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
	h.fences.mu.Lock()
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
	if !ok {
		return nil, fmt.Errorf("fence %q: %w (released, or unused for %v)", id, backend.ErrBadFence, h.fenceIdle())
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
	s    *Store
	id   string
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// FenceObjects implements backend.ObjectFencer: the server begins a fence
// on its own store (which must be a backend.ObjectFencer, else the error
// wraps errors.ErrUnsupported) and holds it for this client, which renews
// it every quarter of the server's idle time until Release. Every write
// that reaches the server's store, through any client or the server's
// own process, is remembered by it.
func (s *Store) FenceObjects(ctx context.Context) (backend.Fence, error) {
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
	f := &fence{s: s, id: a.Fence, stop: make(chan struct{}), done: make(chan struct{})}
	go f.renew(time.Duration(a.IdleMS) * time.Millisecond / 4)
	return f, nil
}

// renew renews the fence every interval until Release; a renewal that
// fails is tried again at the next tick.
func (f *fence) renew(interval time.Duration) {
	defer close(f.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-f.stop
		cancel()
	}()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
			if resp, err := f.s.do(ctx, http.MethodPost, "/v1/store/fence/renew", url.Values{"fence": {f.id}}, nil); err == nil {
				drain(resp.Body)
			}
		}
	}
}

// Release implements backend.Fence: it stops the renewals and asks the
// server to release the fence (if the server cannot be reached, it
// releases it after its idle time).
func (f *fence) Release() {
	f.once.Do(func() {
		close(f.stop)
		<-f.done
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
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
	if !ok || f.s != s {
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
		kept = append(kept, k...)
	}
	return kept, nil
}
