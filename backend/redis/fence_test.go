package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/backendtest"
	"github.com/stratakv/strata/backend/redis"
	"github.com/stratakv/strata/internal/redistest"
)

func obj(label string) backend.Object {
	return backend.Object{Hash: backendtest.HashOf(label), Data: []byte("data of " + label)}
}

// TestFenceAcrossClients: a fence begun by one client (the collector)
// remembers what other clients (writers in other processes) store, find
// with Has, or commit; the fenced delete keeps those and deletes the
// rest. Release leaves no key behind.
func TestFenceAcrossClients(t *testing.T) {
	srv := redistest.Start(t)
	ctx := t.Context()
	prefix := randomPrefix()
	gc, w := open(t, srv.URL(prefix)), open(t, srv.URL(prefix))
	a, b, c, d, e := obj("a"), obj("b"), obj("c"), obj("d"), obj("e")
	if err := w.Put(ctx, []backend.Object{a, b, c, e}); err != nil {
		t.Fatal(err)
	}
	f, err := gc.FenceObjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	if err := w.Put(ctx, []backend.Object{a}); err != nil {
		t.Fatal(err)
	}
	if has, err := w.Has(ctx, []backend.Hash{b.Hash}); err != nil || !has[0] {
		t.Fatalf("Has(b) = %v, %v", has, err)
	}
	if err := w.PutAndSwapRef(ctx, []backend.Object{d}, "heads/main", backend.ZeroHash, d.Hash); err != nil {
		t.Fatal(err)
	}
	kept, err := gc.DeleteObjectsFenced(ctx, f, []backend.Hash{a.Hash, b.Hash, c.Hash, d.Hash, e.Hash})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]backend.Hash{a.Hash, b.Hash, d.Hash}, kept); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	has, err := w.Has(ctx, []backend.Hash{a.Hash, b.Hash, c.Hash, d.Hash, e.Hash})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]bool{true, true, false, true, false}, has); diff != "" {
		t.Errorf("stored after the fenced delete (-want +got):\n%s", diff)
	}

	raw := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = raw.Close() })
	id := redis.FenceID(f)
	if n, err := raw.Exists(ctx, prefix+":fences", prefix+":fences:"+id).Result(); err != nil || n != 2 {
		t.Errorf("EXISTS of the fences key and the fence's set = %d, %v; want 2", n, err)
	}
	f.Release()
	if keys, err := raw.Keys(ctx, prefix+":fences*").Result(); err != nil || len(keys) != 0 {
		t.Errorf("keys of fences after Release: %q, %v; want none", keys, err)
	}
}

// fenceStore starts a Redis server and returns a Store on it under a new
// prefix, a plain client of the server to look at its keys, and the
// prefix.
func fenceStore(t *testing.T) (*redis.Store, *goredis.Client, string) {
	t.Helper()
	srv := redistest.Start(t)
	prefix := randomPrefix()
	s := open(t, srv.URL(prefix))
	raw := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = raw.Close() })
	return s, raw, prefix
}

// TestFenceReleaseContext: ReleaseContext gives up once its context is
// done when the server does not answer (here, paused: CLIENT PAUSE ALL,
// Redis 6.2 on), leaving the fence registered there to lapse but released
// for its collector (a fenced delete with it is refused); Release with a
// live context removes it.
func TestFenceReleaseContext(t *testing.T) {
	ctx := t.Context()
	s, raw, prefix := fenceStore(t)
	f, err := s.FenceObjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const pause = 4 * time.Second
	if err := raw.Do(ctx, "CLIENT", "PAUSE", pause.Milliseconds(), "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	rctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	backend.ReleaseFence(rctx, f)
	if took := time.Since(paused); took >= pause/2 {
		t.Errorf("ReleaseContext with a context done after 100ms returned after %s, with the server paused for %s", took, pause)
	}
	time.Sleep(time.Until(paused.Add(pause)))
	if n, err := raw.ZCard(ctx, prefix+":fences").Result(); err != nil || n != 1 {
		t.Errorf("fences registered after a release that gave up: %d, %v; want the fence, to lapse", n, err)
	}
	// Released for its collector all the same: no fenced delete with it.
	a := obj("a")
	if err := s.Put(ctx, []backend.Object{a}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteObjectsFenced(ctx, f, []backend.Hash{a.Hash}); !errors.Is(err, backend.ErrBadFence) {
		t.Errorf("DeleteObjectsFenced with a fence whose release gave up: %v, want an error wrapping ErrBadFence", err)
	}
	if has, err := s.Has(ctx, []backend.Hash{a.Hash}); err != nil || !has[0] {
		t.Errorf("Has(a) after the refused delete = %v, %v; want it stored", has, err)
	}
	g, err := s.FenceObjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	backend.ReleaseFence(ctx, g)
	if n, err := raw.ZScore(ctx, prefix+":fences", redis.FenceID(g)).Result(); !errors.Is(err, goredis.Nil) {
		t.Errorf("ZSCORE of a released fence = %v, %v; want none", n, err)
	}
}

// TestFenceLapses: a fence whose collector stopped renewing it lapses:
// the next write drops it and its set, and a fenced delete with it
// deletes nothing and reports ErrBadFence. A fence that is renewed does
// not lapse.
func TestFenceLapses(t *testing.T) {
	ctx := t.Context()
	s, raw, prefix := fenceStore(t)
	a, b := obj("a"), obj("b")

	// Renewed every second: its deadline moves on, and a fenced delete
	// works after its first deadline has passed.
	redis.SetFenceTTL(s, 4*time.Second)
	live, err := s.FenceObjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Release()
	if err := s.Put(ctx, []backend.Object{a}); err != nil {
		t.Fatal(err)
	}
	score := func() float64 {
		t.Helper()
		v, err := raw.ZScore(ctx, prefix+":fences", redis.FenceID(live)).Result()
		if err != nil {
			t.Fatalf("ZSCORE of the fence: %v", err)
		}
		return v
	}
	first := score()
	for deadline := time.Now().Add(30 * time.Second); score() < first+4000; {
		if time.Now().After(deadline) {
			t.Fatalf("the fence's deadline is still %.0f after 30 s (it was %.0f)", score(), first)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if kept, err := s.DeleteObjectsFenced(ctx, live, []backend.Hash{a.Hash}); err != nil || len(kept) != 1 {
		t.Errorf("fenced delete with a renewed fence past its first deadline: kept %v, %v; want a kept", kept, err)
	}
	live.Release()

	// A fence whose collector died: its deadline passes.
	dead, err := s.FenceObjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Release()
	id := redis.FenceID(dead)
	if err := s.Put(ctx, []backend.Object{a, b}); err != nil {
		t.Fatal(err)
	}
	if err := raw.ZAdd(ctx, prefix+":fences", goredis.Z{Score: 1, Member: id}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, []backend.Object{b}); err != nil { // drops it
		t.Fatal(err)
	}
	if keys, err := raw.Keys(ctx, prefix+":fences*").Result(); err != nil || len(keys) != 0 {
		t.Errorf("keys of fences after a write saw the fence lapsed: %q, %v; want none", keys, err)
	}
	_, err = s.DeleteObjectsFenced(ctx, dead, []backend.Hash{a.Hash, b.Hash})
	if !errors.Is(err, backend.ErrBadFence) {
		t.Errorf("fenced delete with a lapsed fence: %v, want ErrBadFence", err)
	}
	if has, err := s.Has(ctx, []backend.Hash{a.Hash, b.Hash}); err != nil || !has[0] || !has[1] {
		t.Errorf("objects after a refused fenced delete: %v, %v; want both stored", has, err)
	}
}

// TestCommitRetriesAfterFencedDelete: a small commit whose objects are
// taken between its MSET and its script (simulated: the first MSET is not
// sent) is sent once more and lands; when that happens twice, it fails
// and the ref stays.
func TestCommitRetriesAfterFencedDelete(t *testing.T) {
	srv := redistest.Start(t)
	ctx := t.Context()
	s := open(t, srv.URL(randomPrefix()))
	a, b, c := obj("a"), obj("b"), obj("c")
	redis.DropMSETs(s, 1)
	if err := s.PutAndSwapRef(ctx, []backend.Object{a, b}, "heads/main", backend.ZeroHash, b.Hash); err != nil {
		t.Fatalf("PutAndSwapRef with its first MSET lost: %v, want it sent again and landed", err)
	}
	if has, err := s.Has(ctx, []backend.Hash{a.Hash, b.Hash}); err != nil || !has[0] || !has[1] {
		t.Errorf("objects of the commit: %v, %v; want both stored", has, err)
	}
	if h, err := s.GetRef(ctx, "heads/main"); err != nil || h != b.Hash {
		t.Errorf("ref: %s, %v; want %s", h.Describe(), err, b.Hash.Short())
	}
	redis.DropMSETs(s, 2)
	if err := s.PutAndSwapRef(ctx, []backend.Object{c}, "heads/main", b.Hash, c.Hash); err == nil {
		t.Errorf("PutAndSwapRef with both MSETs lost: nil, want an error")
	}
	if h, err := s.GetRef(ctx, "heads/main"); err != nil || h != b.Hash {
		t.Errorf("ref after the failed commit: %s, %v; want %s", h.Describe(), err, b.Hash.Short())
	}
}
