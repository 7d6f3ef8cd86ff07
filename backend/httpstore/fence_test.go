package httpstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/backendtest"
	"github.com/stratakv/strata/backend/httpstore"
	"github.com/stratakv/strata/backend/mem"
)

// TestFenceIdle: the server releases a fence that its client neither
// renews nor uses (here, one begun by a bare request) after its idle
// time, and a fenced delete with it is then refused as ErrBadFence; a
// fence begun by the client, which renews it, outlives that time.
func TestFenceIdle(t *testing.T) {
	const idle = 2 * time.Second
	url, m := serve(t, &httpstore.HandlerOptions{FenceIdle: idle})
	s := open(t, url, nil)
	ctx := t.Context()
	a := backend.Object{Hash: backendtest.HashOf("a"), Data: []byte("a")}
	if err := m.Put(ctx, []backend.Object{a}); err != nil {
		t.Fatal(err)
	}

	resp, err := http.Post(url+"/v1/store/fence", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Fence  string `json:"fence"`
		IdleMS int64  `json:"idle_ms"`
	}
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if err != nil || got.Fence == "" || got.IdleMS != idle.Milliseconds() {
		t.Fatalf("POST /v1/store/fence: %+v, %v", got, err)
	}

	f, err := s.FenceObjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	if err := m.Put(ctx, []backend.Object{a}); err != nil { // a writer relies on a
		t.Fatal(err)
	}
	time.Sleep(idle + idle/2)

	resp, err = http.Post(url+"/v1/store/delete?fence="+got.Fence, "application/octet-stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Code string `json:"code"`
	}
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || e.Code != "bad_fence" {
		t.Errorf("fenced delete with a fence left idle for %v: HTTP %d, code %q; want 409 bad_fence", idle+idle/2, resp.StatusCode, e.Code)
	}

	kept, err := s.DeleteObjectsFenced(ctx, f, []backend.Hash{a.Hash})
	if err != nil || len(kept) != 1 {
		t.Errorf("fenced delete with the client's renewed fence after %v: kept %v, %v; want a kept", idle+idle/2, kept, err)
	}
	f.Release()
	if _, err := s.DeleteObjectsFenced(ctx, f, []backend.Hash{a.Hash}); !errors.Is(err, backend.ErrBadFence) {
		t.Errorf("fenced delete after Release: %v, want ErrBadFence", err)
	}
}

// TestFenceLimits: a handler holds at most MaxFences fences (then 429,
// ErrBusy), and a client of a server whose store keeps no fences gets
// errors.ErrUnsupported at once, so that GC goes on without one.
func TestFenceLimits(t *testing.T) {
	url, _ := serve(t, &httpstore.HandlerOptions{MaxFences: 1})
	s := open(t, url, nil)
	ctx := t.Context()
	f, err := s.FenceObjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.FenceObjects(ctx); !errors.Is(err, httpstore.ErrBusy) {
		t.Errorf("a second fence with MaxFences 1: %v, want ErrBusy", err)
	}
	f.Release()
	f2, err := s.FenceObjects(ctx)
	if err != nil {
		t.Errorf("a fence after the first was released: %v", err)
	} else {
		f2.Release()
	}

	plain := httptest.NewServer(httpstore.NewHandler(struct{ backend.Store }{mem.New()}, nil))
	t.Cleanup(plain.Close)
	if _, err := open(t, plain.URL, nil).FenceObjects(ctx); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("FenceObjects through a server whose store keeps none: %v, want ErrUnsupported", err)
	}
}

// TestFenceReleaseContext: ReleaseContext gives up once its context is
// done when the server does not answer the release (here, held), and the
// fence is released for its collector all the same.
func TestFenceReleaseContext(t *testing.T) {
	m := mem.New()
	held := make(chan struct{})
	h := httpstore.NewHandler(m, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/store/fence/release" {
			select { // a server that does not answer, until the test ends
			case <-held:
			case <-r.Context().Done():
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { close(held); srv.Close(); m.Close() })
	s := open(t, srv.URL, nil)
	ctx := t.Context()
	f, err := s.FenceObjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const bound = 2 * time.Second
	start := time.Now()
	rctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	backend.ReleaseFence(rctx, f)
	if took := time.Since(start); took >= bound {
		t.Errorf("ReleaseContext with a context done after 100ms returned after %s", took)
	}
	a := backend.Object{Hash: backendtest.HashOf("a"), Data: []byte("a")}
	if err := m.Put(ctx, []backend.Object{a}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteObjectsFenced(ctx, f, []backend.Hash{a.Hash}); !errors.Is(err, backend.ErrBadFence) {
		t.Errorf("fenced delete with a fence whose release gave up: %v, want ErrBadFence", err)
	}
}
