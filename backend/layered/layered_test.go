package layered_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/backendtest"
	"github.com/stratakv/strata/backend/httpstore"
	"github.com/stratakv/strata/backend/layered"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/backend/pebble"
)

func newLayered(t *testing.T, front, back backend.Store, opts *layered.Options) *layered.Store {
	t.Helper()
	s, err := layered.New(t.Context(), front, back, opts)
	if err != nil {
		t.Fatalf("layered.New: %v", err)
	}
	return s
}

func TestConformanceMem(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Store {
		return newLayered(t, mem.New(), mem.New(), nil)
	})
}

// TestConformanceMemWatched runs the suite with the watch keeping every
// ref the suite uses ("refs/..."), so refs are read from the watch state.
func TestConformanceMemWatched(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Store {
		return newLayered(t, mem.New(), mem.New(), &layered.Options{WatchRefs: true, WatchPrefix: "refs/"})
	})
}

// counting wraps a handler and counts its requests.
type counting struct {
	h http.Handler
	n atomic.Int64
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	c.h.ServeHTTP(w, r)
}

// serveHTTP starts a real HTTP store server on loopback over a mem store.
func serveHTTP(t *testing.T) (string, *counting) {
	t.Helper()
	m := mem.New()
	c := &counting{h: httpstore.NewHandler(m, nil)}
	srv := httptest.NewServer(c)
	t.Cleanup(func() { srv.Close(); m.Close() })
	return srv.URL, c
}

func openPebbleHTTP(t *testing.T, url string, opts *layered.Options) *layered.Store {
	t.Helper()
	front, err := pebble.Open(t.Context(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	back, err := httpstore.Open(t.Context(), url, nil)
	if err != nil {
		front.Close()
		t.Fatal(err)
	}
	return newLayered(t, front, back, opts)
}

func TestConformancePebbleHTTP(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Store {
		url, _ := serveHTTP(t)
		return openPebbleHTTP(t, url, &layered.Options{WatchRefs: true, WatchPrefix: "refs/"})
	})
}

// TestWarmReadsNoRequest checks that, once warm, reads of objects and of
// an unchanged watched ref send no request to the back's server, and
// that a change by another client is seen through the watch.
func TestWarmReadsNoRequest(t *testing.T) {
	url, c := serveHTTP(t)
	ctx := t.Context()
	obj := backend.Object{Hash: backendtest.HashOf("o"), Data: []byte("o")}
	other, err := httpstore.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.PutAndSwapRef(ctx, []backend.Object{obj}, "heads/main", backend.ZeroHash, obj.Hash); err != nil {
		t.Fatal(err)
	}
	s := openPebbleHTTP(t, url, &layered.Options{WatchRefs: true})
	defer s.Close()
	if _, err := s.Get(ctx, obj.Hash); err != nil { // warm-up: into the front
		t.Fatal(err)
	}

	before := c.n.Load()
	for range 10 {
		h, err := s.GetRef(ctx, "heads/main")
		if err != nil || h != obj.Hash {
			t.Fatalf("GetRef = %s, %v; want %s", h.Short(), err, obj.Hash.Short())
		}
		refs, err := s.ListRefs(ctx, "heads/")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]backend.Ref{{Name: "heads/main", Hash: obj.Hash}}, refs); diff != "" {
			t.Fatalf("ListRefs mismatch (-want +got):\n%s", diff)
		}
		if _, err := s.Get(ctx, obj.Hash); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetRef(ctx, "heads/none"); !errors.Is(err, backend.ErrNotFound) {
			t.Fatalf("GetRef of a missing branch: %v; want ErrNotFound", err)
		}
	}
	if n := c.n.Load() - before; n != 0 {
		t.Errorf("warm reads sent %d requests; want 0", n)
	}

	// Own writes are read back at once.
	obj2 := backend.Object{Hash: backendtest.HashOf("o2"), Data: []byte("o2")}
	if err := s.PutAndSwapRef(ctx, []backend.Object{obj2}, "heads/main", obj.Hash, obj2.Hash); err != nil {
		t.Fatal(err)
	}
	if h, err := s.GetRef(ctx, "heads/main"); err != nil || h != obj2.Hash {
		t.Fatalf("GetRef after an own commit = %s, %v; want %s", h.Short(), err, obj2.Hash.Short())
	}
	// Once the stream has delivered the own commit (its event may even
	// overtake the commit's answer), reads are local again.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		before := c.n.Load()
		if _, err := s.GetRef(ctx, "heads/main"); err != nil {
			t.Fatal(err)
		}
		if c.n.Load() == before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("reads of heads/main still ask the server 10 s after an own commit")
		}
	}
	// A conflict with a stale head refreshes.
	if err := s.CompareAndSwapRef(ctx, "heads/main", obj.Hash, obj.Hash); !errors.Is(err, backend.ErrConflict) {
		t.Fatalf("CAS from a stale head: %v; want ErrConflict", err)
	}
	if h, err := s.GetRef(ctx, "heads/main"); err != nil || h != obj2.Hash {
		t.Fatalf("GetRef after a conflict = %s, %v; want %s", h.Short(), err, obj2.Hash.Short())
	}

	// Another client's commit reaches the state through the watch.
	obj3 := backend.Object{Hash: backendtest.HashOf("o3"), Data: []byte("o3")}
	if err := other.PutAndSwapRef(ctx, []backend.Object{obj3}, "heads/main", obj2.Hash, obj3.Hash); err != nil {
		t.Fatal(err)
	}
	waitRef(t, s, "heads/main", obj3.Hash)
}

// waitRef polls s until it reads name as want (failing after 10 s).
func waitRef(t *testing.T, s backend.RefStore, name string, want backend.Hash) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h, err := s.GetRef(t.Context(), name)
		if err == nil && h == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GetRef(%q) = %s, %v after 10 s; want %s", name, h.Short(), err, want.Short())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWatchRestart checks that a watch that breaks (the back's server
// going away would do it; here a DeleteRef, which watchers are not told
// of) makes reads go to the back until the refs are listed again.
func TestWatchRestart(t *testing.T) {
	back := mem.New()
	s := newLayered(t, mem.New(), back, &layered.Options{WatchRefs: true})
	defer s.Close()
	ctx := t.Context()
	h := backendtest.HashOf("a")
	if err := s.CompareAndSwapRef(ctx, "heads/a", backend.ZeroHash, h); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRef(ctx, "heads/a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRef(ctx, "heads/a"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("GetRef after DeleteRef: %v; want ErrNotFound", err)
	}
}

// TestReadOwnWritesABA: a writer that keeps swapping refs among a few
// values (so the same transitions recur: A→B, B→A, A→B…) always reads
// its own last write at once, however its swaps' events interleave with
// their answers; a second client watching the same back converges on the
// final values.
func TestReadOwnWritesABA(t *testing.T) {
	url, _ := serveHTTP(t)
	w := openPebbleHTTP(t, url, &layered.Options{WatchRefs: true})
	defer w.Close()
	r := openPebbleHTTP(t, url, &layered.Options{WatchRefs: true})
	defer r.Close()
	ctx := t.Context()
	values := []backend.Hash{backend.ZeroHash, backendtest.HashOf("a"), backendtest.HashOf("b")}
	names := []string{"heads/x", "heads/y"}
	cur := map[string]backend.Hash{}
	rng := rand.New(rand.NewPCG(1, 2))
	for step := range 400 {
		name := names[rng.IntN(len(names))]
		next := values[rng.IntN(len(values))]
		if next == cur[name] {
			continue
		}
		if err := w.CompareAndSwapRef(ctx, name, cur[name], next); err != nil {
			t.Fatalf("step %d: CAS %s %s -> %s: %v", step, name, cur[name].Describe(), next.Describe(), err)
		}
		cur[name] = next
		got, err := w.GetRef(ctx, name)
		if next.IsZero() {
			if !errors.Is(err, backend.ErrNotFound) {
				t.Fatalf("step %d: GetRef(%s) after deleting it = %s, %v; want ErrNotFound", step, name, got.Short(), err)
			}
		} else if err != nil || got != next {
			t.Fatalf("step %d: GetRef(%s) after an own swap = %s, %v; want %s", step, name, got.Describe(), err, next.Describe())
		}
	}
	for _, name := range names {
		if cur[name].IsZero() {
			continue
		}
		waitRef(t, r, name, cur[name])
		waitRef(t, w, name, cur[name])
	}
}

// TestBackGone: when the back's server goes away, ref reads stop coming
// from the watch state and fail with ErrUnreachable (no stale answers, no
// hang), while cached objects can still be read.
func TestBackGone(t *testing.T) {
	m := mem.New()
	defer m.Close()
	// Done ends watch streams, also one the client opens again while the
	// server is closing (srv.Close waits for every request).
	done := make(chan struct{})
	srv := httptest.NewServer(httpstore.NewHandler(m, &httpstore.HandlerOptions{Done: done}))
	s := openPebbleHTTP(t, srv.URL, &layered.Options{WatchRefs: true})
	defer s.Close()
	ctx := t.Context()
	obj := backend.Object{Hash: backendtest.HashOf("o"), Data: []byte("o")}
	if err := s.PutAndSwapRef(ctx, []backend.Object{obj}, "heads/main", backend.ZeroHash, obj.Hash); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, obj.Hash); err != nil {
		t.Fatal(err)
	}
	close(done)
	srv.CloseClientConnections()
	srv.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		_, err := s.GetRef(ctx, "heads/main")
		if errors.Is(err, httpstore.ErrUnreachable) {
			break
		}
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("GetRef from a gone back: %v; want ErrUnreachable once the watch has broken", err)
		}
	}
	if b, err := s.Get(ctx, obj.Hash); err != nil || string(b) != "o" {
		t.Errorf("Get of a cached object with the back gone = %q, %v", b, err)
	}
}

// TestWatchOverflow: when the back drops events because the watch fell
// behind, the last move among them, the watch stops answering from its
// state and reads the refs again, so reads do not stay stale.
func TestWatchOverflow(t *testing.T) {
	back := mem.New()
	s := newLayered(t, mem.New(), back, &layered.Options{WatchRefs: true})
	defer s.Close()
	ctx := t.Context()
	release := layered.HoldWatch(s)
	const n = mem.WatchBuffer + 10
	h := backendtest.HashOf("x")
	for i := range n {
		// Each ref moves once: no later event shows a gap.
		if err := back.CompareAndSwapRef(ctx, fmt.Sprintf("heads/b%05d", i), backend.ZeroHash, h); err != nil {
			release()
			t.Fatal(err)
		}
	}
	release()
	waitRef(t, s, fmt.Sprintf("heads/b%05d", n-1), h)
	refs, err := s.ListRefs(ctx, "heads/")
	if err != nil || len(refs) != n {
		t.Errorf("ListRefs after the overflow: %d refs, %v; want %d", len(refs), err, n)
	}
}
