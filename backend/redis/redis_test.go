package redis_test

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/backendtest"
	"github.com/stratakv/strata/backend/redis"
	"github.com/stratakv/strata/internal/redistest"
)

func hashesOf(objs []backend.Object) []backend.Hash {
	hs := make([]backend.Hash, len(objs))
	for i, o := range objs {
		hs[i] = o.Hash
	}
	return hs
}

// randomPrefix returns a fresh key prefix, so that stores on one server do
// not see each other.
func randomPrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

// open opens a Store for rawURL and closes it when the test ends.
func open(t *testing.T, rawURL string) *redis.Store {
	t.Helper()
	s, err := redis.Open(t.Context(), rawURL)
	if err != nil {
		t.Fatalf("Open(%s): %v", redis.Redact(rawURL), err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	backendtest.Run(t, func(t *testing.T) backend.Store {
		s, err := redis.Open(t.Context(), srv.URL(randomPrefix()))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestConformanceCluster(t *testing.T) {
	cluster := redistest.StartCluster(t, 3)
	backendtest.Run(t, func(t *testing.T) backend.Store {
		s, err := redis.Open(t.Context(), cluster.URL(randomPrefix()))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
	t.Run("ObjectsSpread", func(t *testing.T) {
		// Object keys carry no hash tag, so they spread over every master.
		prefix := randomPrefix()
		s := open(t, cluster.URL(prefix))
		var objs []backend.Object
		for i := range 60 {
			objs = append(objs, backend.Object{Hash: backendtest.HashOf(fmt.Sprint(i)), Data: []byte{byte(i)}})
		}
		if err := s.Put(t.Context(), objs); err != nil {
			t.Fatalf("Put: %v", err)
		}
		for _, n := range cluster.Nodes {
			keys, err := n.Do("KEYS", prefix+":o:*")
			if err != nil {
				t.Fatalf("KEYS on %s: %v", n.Addr(), err)
			}
			if keys == "" {
				t.Errorf("master %s holds none of 60 objects", n.Addr())
			}
		}
	})
}

func TestSentinel(t *testing.T) {
	primary := redistest.Start(t)
	sentinel := redistest.StartSentinel(t, primary, "strata-master")
	s := open(t, sentinel.SentinelURL(randomPrefix()))
	ctx := t.Context()
	o := backend.Object{Hash: backendtest.HashOf("a"), Data: []byte("a")}
	if err := s.Put(ctx, []backend.Object{o}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := s.CompareAndSwapRef(ctx, "refs/heads/main", backend.ZeroHash, o.Hash); err != nil {
		t.Fatalf("CompareAndSwapRef: %v", err)
	}
	// The data went to the master that Sentinel named.
	if n, err := primary.Do("DBSIZE"); err != nil || n != "2" {
		t.Errorf("DBSIZE on the primary = %s, %v; want 2 (one object, one refs hash)", n, err)
	}
}

// TestKeyLayout checks the key layout that docs/FORMAT.md documents, with
// a client of its own.
func TestKeyLayout(t *testing.T) {
	srv := redistest.Start(t)
	ctx := t.Context()
	s := open(t, srv.URL("lay"))
	raw := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = raw.Close() })

	events := raw.Subscribe(ctx, "lay:refs:events")
	t.Cleanup(func() { _ = events.Close() })
	if _, err := events.Receive(ctx); err != nil {
		t.Fatalf("SUBSCRIBE: %v", err)
	}

	h := backendtest.HashOf("obj")
	h[3] = '*' // glob characters in a hash must not confuse ListObjects
	h[4] = '['
	if err := s.Put(ctx, []backend.Object{{Hash: h, Data: []byte("bytes")}}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if got, err := raw.Get(ctx, "lay:o:"+string(h[:])).Result(); err != nil || got != "bytes" {
		t.Errorf(`GET "lay:o:"+hash = %q, %v; want "bytes"`, got, err)
	}
	if err := s.CompareAndSwapRef(ctx, "refs/heads/main", backend.ZeroHash, h); err != nil {
		t.Fatalf("CompareAndSwapRef: %v", err)
	}
	if got, err := raw.HGet(ctx, "lay:refs", "refs/heads/main").Result(); err != nil || got != string(h[:]) {
		t.Errorf(`HGET lay:refs refs/heads/main = %x, %v; want the 32 raw bytes %x`, got, err, h[:])
	}
	msg, err := events.ReceiveMessage(ctx)
	if err != nil {
		t.Fatalf("receiving the event: %v", err)
	}
	want := "\x01" + string(backend.ZeroHash[:]) + string(h[:]) + "refs/heads/main"
	if msg.Payload != want {
		t.Errorf("event payload = %x, want %x", msg.Payload, want)
	}
	if keys, err := raw.Keys(ctx, "*").Result(); err != nil || len(keys) != 2 {
		t.Errorf("KEYS * = %q, %v; want the object and the refs hash", keys, err)
	}

	var listed []backend.Hash
	if err := s.ListObjects(ctx, h[:5], func(h backend.Hash) error { listed = append(listed, h); return nil }); err != nil {
		t.Fatalf("ListObjects: %v", err)
	}
	if diff := cmp.Diff([]backend.Hash{h}, listed); diff != "" {
		t.Errorf("ListObjects of a prefix with glob characters mismatch (-want +got):\n%s", diff)
	}

	// A ref value that is not a hash is reported, not misread.
	raw.HSet(ctx, "lay:refs", "refs/heads/bad", "short")
	if _, err := s.GetRef(ctx, "refs/heads/bad"); !errors.Is(err, backend.ErrCorrupt) {
		t.Errorf("GetRef of a malformed value = %v; want an error wrapping backend.ErrCorrupt", err)
	}
	if _, err := s.ListRefs(ctx, "refs/"); !errors.Is(err, backend.ErrCorrupt) {
		t.Errorf("ListRefs over a malformed value = %v; want an error wrapping backend.ErrCorrupt", err)
	}
}

// TestPrefixesAreSeparate checks that two stores with different prefixes
// on one server see nothing of each other.
func TestPrefixesAreSeparate(t *testing.T) {
	srv := redistest.Start(t)
	ctx := t.Context()
	a, b := open(t, srv.URL("alpha")), open(t, srv.URL("alpha-2"))
	o := backend.Object{Hash: backendtest.HashOf("x"), Data: []byte("x")}
	if err := a.Put(ctx, []backend.Object{o}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := a.CompareAndSwapRef(ctx, "refs/heads/main", backend.ZeroHash, o.Hash); err != nil {
		t.Fatalf("CompareAndSwapRef: %v", err)
	}
	if _, err := b.Get(ctx, o.Hash); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get on the other prefix = %v; want ErrNotFound", err)
	}
	if has, err := b.Has(ctx, []backend.Hash{o.Hash}); err != nil || has[0] {
		t.Errorf("Has on the other prefix = %v, %v; want [false]", has, err)
	}
	if refs, err := b.ListRefs(ctx, ""); err != nil || len(refs) != 0 {
		t.Errorf("ListRefs on the other prefix = %v, %v; want none", refs, err)
	}
	n := 0
	if err := b.ListObjects(ctx, nil, func(backend.Hash) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("ListObjects on the other prefix reported %d objects, %v; want none", n, err)
	}
	// The same ref name is independent on each prefix.
	if err := b.CompareAndSwapRef(ctx, "refs/heads/main", backend.ZeroHash, backendtest.HashOf("y")); err != nil {
		t.Errorf("CompareAndSwapRef creating the same name on the other prefix: %v", err)
	}
}

// TestWatchOtherStore checks that a watcher sees, in order, the swaps that
// another Store, with its own client, makes.
func TestWatchOtherStore(t *testing.T) {
	srv := redistest.Start(t)
	ctx := t.Context()
	prefix := randomPrefix()
	watching, writing := open(t, srv.URL(prefix)), open(t, srv.URL(prefix))
	ch, err := watching.WatchRefs(ctx, "refs/heads/")
	if err != nil {
		t.Fatalf("WatchRefs: %v", err)
	}
	const n = 200
	var want []backend.RefEvent
	old := backend.ZeroHash
	for i := range n {
		next := backendtest.HashOf(fmt.Sprint(i))
		if err := writing.CompareAndSwapRef(ctx, "refs/heads/main", old, next); err != nil {
			t.Fatalf("CompareAndSwapRef %d: %v", i, err)
		}
		want = append(want, backend.RefEvent{Name: "refs/heads/main", Old: old, New: next})
		old = next
	}
	var got []backend.RefEvent
	timeout := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case ev := <-ch:
			got = append(got, ev)
		case <-timeout:
			t.Fatalf("received %d of %d events", len(got), n)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
}

// TestKillRestart kills the server with SIGKILL while stores use it: calls
// fail with a clear error meanwhile, work again after the restart, and
// everything acknowledged before the kill is there (appendfsync always).
func TestKillRestart(t *testing.T) {
	srv := redistest.Start(t, redistest.WithAOF())
	ctx := t.Context()
	s := open(t, srv.URL("crash"))
	var objs []backend.Object
	for i := range 100 {
		objs = append(objs, backend.Object{Hash: backendtest.HashOf(fmt.Sprint(i)), Data: []byte(fmt.Sprint("data ", i))})
	}
	if err := s.Put(ctx, objs); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := s.CompareAndSwapRef(ctx, "refs/heads/main", backend.ZeroHash, objs[99].Hash); err != nil {
		t.Fatalf("CompareAndSwapRef: %v", err)
	}

	watch, err := s.WatchRefs(ctx, "")
	if err != nil {
		t.Fatalf("WatchRefs: %v", err)
	}

	srv.Kill()
	start := time.Now()
	_, err = s.Get(ctx, objs[0].Hash)
	t.Logf("Get while the server is down took %v: %v", time.Since(start), err)
	if !errors.Is(err, redis.ErrUnavailable) || !errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get while the server is down = %v; want an error wrapping ErrUnavailable and ECONNREFUSED, not ErrNotFound", err)
	}
	if err != nil && !strings.Contains(err.Error(), srv.Addr()) {
		t.Errorf("the error %q does not name the server %s", err, srv.Addr())
	}
	err = s.CompareAndSwapRef(ctx, "refs/heads/main", objs[99].Hash, objs[0].Hash)
	if !errors.Is(err, redis.ErrUnavailable) || errors.Is(err, backend.ErrConflict) {
		t.Errorf("CompareAndSwapRef while the server is down = %v; want an error wrapping ErrUnavailable", err)
	}
	if _, err := redis.Open(ctx, srv.URL("crash")+"&max_retries=-1"); !errors.Is(err, redis.ErrUnavailable) || !strings.Contains(err.Error(), srv.Addr()) {
		t.Errorf("Open while the server is down = %v; want an error wrapping ErrUnavailable naming %s", err, srv.Addr())
	}

	srv.Restart()
	restarted := time.Now()
	// go-redis redials on the next command, unless so many dials failed that
	// its pool waits for a background probe (one per second); allow for that.
	var got []byte
	for {
		if got, err = s.Get(ctx, objs[0].Hash); err == nil || time.Since(restarted) > 5*time.Second {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("the first successful Get came %v after the restart", time.Since(restarted))
	if err != nil || string(got) != "data 0" {
		t.Fatalf("Get after the restart = %q, %v; want %q", got, err, "data 0")
	}
	has, err := s.Has(ctx, hashesOf(objs))
	if err != nil {
		t.Fatalf("Has after the restart: %v", err)
	}
	for i, ok := range has {
		if !ok {
			t.Errorf("object %d, acknowledged before the kill, is gone after the restart", i)
		}
	}
	if h, err := s.GetRef(ctx, "refs/heads/main"); err != nil || h != objs[99].Hash {
		t.Errorf("GetRef after the restart = %s, %v; want %s", h.Short(), err, objs[99].Hash.Short())
	}
	if err := s.CompareAndSwapRef(ctx, "refs/heads/main", objs[99].Hash, objs[0].Hash); err != nil {
		t.Errorf("CompareAndSwapRef after the restart: %v", err)
	}

	// The watcher's subscription comes back by itself. Events published
	// before it has are lost (pub/sub is at most once), so keep swapping
	// until one arrives.
	cur := objs[0].Hash
	for i := 0; ; i++ {
		next := objs[i%2].Hash
		if next == cur {
			next = objs[2].Hash
		}
		if err := s.CompareAndSwapRef(ctx, "refs/heads/main", cur, next); err != nil {
			t.Fatalf("CompareAndSwapRef after the restart: %v", err)
		}
		cur = next
		select {
		case ev, ok := <-watch:
			if !ok {
				t.Fatal("the watch channel was closed by the restart")
			}
			t.Logf("a watcher from before the kill received %s %s -> %s %v after the restart",
				ev.Name, ev.Old.Short(), ev.New.Short(), time.Since(restarted))
			return
		case <-time.After(100 * time.Millisecond):
		}
		if time.Since(restarted) > 10*time.Second {
			t.Fatal("a watcher from before the kill received no event within 10 s of the restart")
		}
	}
}

func TestACL(t *testing.T) {
	const user, password = "strata-user", "Corr3ct-Horse"
	srv := redistest.Start(t, redistest.WithUser(user, password))
	ctx := t.Context()
	s := open(t, srv.URL(randomPrefix()))
	if err := s.CompareAndSwapRef(ctx, "refs/heads/main", backend.ZeroHash, backendtest.HashOf("a")); err != nil {
		t.Fatalf("CompareAndSwapRef as %s: %v", user, err)
	}

	for _, bad := range []string{
		"redis://" + user + ":Wr0ng-Horse@" + srv.Addr(),
		"redis://nobody:" + password + "@" + srv.Addr(),
		"redis://" + srv.Addr(),
	} {
		_, err := redis.Open(ctx, bad)
		if err == nil {
			t.Errorf("Open(%s) succeeded", redis.Redact(bad))
			continue
		}
		msg := err.Error()
		t.Logf("Open(%s): %s", redis.Redact(bad), msg)
		if strings.Contains(msg, "Wr0ng") || strings.Contains(msg, password) {
			t.Errorf("the error shows a password: %s", msg)
		}
		if !strings.Contains(msg, srv.Addr()) || !(strings.Contains(msg, "WRONGPASS") || strings.Contains(msg, "NOAUTH")) {
			t.Errorf("the error %q does not name the server and the refusal", msg)
		}
		if errors.Is(err, redis.ErrUnavailable) {
			t.Errorf("a refused login wraps ErrUnavailable: %v", err)
		}
	}
}

func TestTLS(t *testing.T) {
	srv := redistest.Start(t, redistest.WithTLS())
	ctx := t.Context()
	url := srv.URL(randomPrefix())
	if !strings.HasPrefix(url, "rediss://") {
		t.Fatalf("URL of a TLS server = %s", url)
	}
	s := open(t, url)
	if err := s.Put(ctx, []backend.Object{{Hash: backendtest.HashOf("a"), Data: []byte("over TLS")}}); err != nil {
		t.Fatalf("Put over TLS: %v", err)
	}
	if b, err := s.Get(ctx, backendtest.HashOf("a")); err != nil || string(b) != "over TLS" {
		t.Errorf("Get over TLS = %q, %v", b, err)
	}
	ch, err := s.WatchRefs(ctx, "")
	if err != nil {
		t.Fatalf("WatchRefs over TLS: %v", err)
	}
	if err := s.CompareAndSwapRef(ctx, "refs/heads/main", backend.ZeroHash, backendtest.HashOf("a")); err != nil {
		t.Fatalf("CompareAndSwapRef over TLS: %v", err)
	}
	select {
	case ev := <-ch:
		if ev.Name != "refs/heads/main" {
			t.Errorf("event over TLS = %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Error("no event over TLS")
	}

	// With a client certificate too.
	f := srv.TLS()
	open(t, fmt.Sprintf("rediss://%s?tls_ca=%s&tls_cert=%s&tls_key=%s", srv.Addr(), f.CA, f.ClientCert, f.ClientKey))

	// Without the test CA the server's certificate is not trusted...
	_, err = redis.Open(ctx, "rediss://"+srv.Addr())
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Open without the CA = %v; want a certificate error", err)
	}
	// ...unless verification is off.
	open(t, "rediss://"+srv.Addr()+"?tls_insecure=true")
	// Plain text to a TLS port fails.
	if _, err := redis.Open(ctx, "redis://"+srv.Addr()+"?dial_timeout=300ms&read_timeout=300ms&max_retries=-1"); err == nil {
		t.Error("Open with redis:// of a TLS server succeeded")
	}
}

// TestWaitReplicas checks wait=N: ref updates succeed when the replica
// acknowledges them and fail with ErrNotReplicated when too few replicas
// exist.
func TestWaitReplicas(t *testing.T) {
	primary := redistest.Start(t)
	replica := redistest.Start(t, redistest.WithReplicaOf(primary))
	ctx := t.Context()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := replica.Do("INFO", "replication")
		if err == nil && strings.Contains(info, "master_link_status:up") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica did not connect: %v\n%s", err, info)
		}
		time.Sleep(20 * time.Millisecond)
	}
	prefix := randomPrefix()

	s := open(t, primary.URL(prefix)+"&wait=1")
	start := time.Now()
	if err := s.CompareAndSwapRef(ctx, "refs/heads/main", backend.ZeroHash, backendtest.HashOf("a")); err != nil {
		t.Fatalf("CompareAndSwapRef with wait=1 and one replica: %v", err)
	}
	t.Logf("CompareAndSwapRef with wait=1 took %v", time.Since(start))
	if v, err := replica.Do("HGET", prefix+":refs", "refs/heads/main"); err != nil || v != raw(backendtest.HashOf("a")) {
		t.Errorf("the replica holds %x, %v; want the new value", v, err)
	}
	err := s.CompareAndSwapRef(ctx, "refs/heads/main", backendtest.HashOf("b"), backendtest.HashOf("c"))
	if !errors.Is(err, backend.ErrConflict) {
		t.Errorf("a conflicting CompareAndSwapRef with wait=1 = %v; want ErrConflict", err)
	}

	// A replica refuses writes, and so every write fails, all of Put's
	// pipeline included.
	ro := open(t, replica.URL(prefix))
	objs := []backend.Object{{Hash: backendtest.HashOf("x"), Data: []byte("x")}, {Hash: backendtest.HashOf("y"), Data: []byte("y")}}
	if err := ro.Put(ctx, objs); err == nil || !strings.Contains(err.Error(), "READONLY") {
		t.Errorf("Put on a replica = %v; want a READONLY error", err)
	}
	if err := ro.CompareAndSwapRef(ctx, "refs/heads/other", backend.ZeroHash, backendtest.HashOf("x")); err == nil || errors.Is(err, backend.ErrConflict) {
		t.Errorf("CompareAndSwapRef on a replica = %v; want an error other than ErrConflict", err)
	}

	s2 := open(t, primary.URL(prefix)+"&wait=2&wait_timeout=200ms")
	err = s2.CompareAndSwapRef(ctx, "refs/heads/main", backendtest.HashOf("a"), backendtest.HashOf("b"))
	if !errors.Is(err, redis.ErrNotReplicated) {
		t.Errorf("CompareAndSwapRef with wait=2 and one replica = %v; want ErrNotReplicated", err)
	}
	// The update happened on the primary all the same.
	if h, err := s.GetRef(ctx, "refs/heads/main"); err != nil || h != backendtest.HashOf("b") {
		t.Errorf("GetRef after the unreplicated update = %s, %v; want it updated", h.Short(), err)
	}
}

// TestNewFromClient checks that a Store on the caller's client leaves the
// client open when it is closed.
func TestNewFromClient(t *testing.T) {
	srv := redistest.Start(t)
	ctx := t.Context()
	client := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	s, err := redis.NewFromClient(client, "")
	if err != nil {
		t.Fatalf("NewFromClient: %v", err)
	}
	if _, err := s.WatchRefs(ctx, ""); err != nil {
		t.Fatalf("WatchRefs: %v", err)
	}
	if err := s.CompareAndSwapRef(ctx, "HEAD", backend.ZeroHash, backendtest.HashOf("a")); err != nil {
		t.Fatalf("CompareAndSwapRef: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.GetRef(ctx, "HEAD"); !errors.Is(err, backend.ErrClosed) {
		t.Errorf("GetRef after Close = %v; want ErrClosed", err)
	}
	if n, err := client.HLen(ctx, redis.DefaultPrefix+":refs").Result(); err != nil || n != 1 {
		t.Errorf("the caller's client after Close: HLEN = %d, %v; want 1 and no error", n, err)
	}

	for _, bad := range []string{"a:b", "{x}", strings.Repeat("p", 200)} {
		if _, err := redis.NewFromClient(client, bad); !errors.Is(err, backend.ErrInvalidURL) {
			t.Errorf("NewFromClient with prefix %q = %v; want ErrInvalidURL", bad, err)
		}
	}
}

// raw returns the 32 bytes of h as a string, as Redis stores them.
func raw(h backend.Hash) string { return string(h[:]) }

// TestCommitNeedsItsObjects checks that a small commit's ref moves only
// if its objects are stored: when the MSET before the commit script fails
// (here, a user whose ACL forbids MSET), PutAndSwapRef returns the error
// and the script leaves the ref where it was.
func TestCommitNeedsItsObjects(t *testing.T) {
	srv := redistest.Start(t)
	if _, err := srv.Do("ACL", "SETUSER", "nomset", "on", ">Corr3ct-Horse", "~*", "&*", "+@all", "-mset"); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	ctx := t.Context()
	prefix := randomPrefix()
	s := open(t, "redis://nomset:Corr3ct-Horse@"+srv.Addr()+"/0?prefix="+prefix)
	a := backend.Object{Hash: backendtest.HashOf("a"), Data: []byte("a")}
	b := backend.Object{Hash: backendtest.HashOf("b"), Data: []byte("b")}
	// Without objects there is no MSET: the ref moves (and the server
	// learns the script, so that the next commit runs it).
	if err := s.PutAndSwapRef(ctx, nil, "heads/main", backend.ZeroHash, a.Hash); err != nil {
		t.Fatalf("PutAndSwapRef of no objects: %v", err)
	}
	err := s.PutAndSwapRef(ctx, []backend.Object{b}, "heads/main", a.Hash, b.Hash)
	if err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("PutAndSwapRef without MSET permission: %v, want a NOPERM error", err)
	}
	if h, err := s.GetRef(ctx, "heads/main"); err != nil || h != a.Hash {
		t.Errorf("ref after a commit whose objects were not stored: %s, %v; want %s", h.Describe(), err, a.Hash.Short())
	}

	// MSET fails again, but b is stored by then (by a user who may): the
	// script finds every object and moves the ref, so the commit has
	// landed and must not be reported as failed.
	admin := open(t, srv.URL(prefix))
	if err := admin.Put(ctx, []backend.Object{b}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAndSwapRef(ctx, []backend.Object{b}, "heads/main", a.Hash, b.Hash); err != nil {
		t.Fatalf("PutAndSwapRef of stored objects without MSET permission: %v, want nil (the ref moved)", err)
	}
	if h, err := s.GetRef(ctx, "heads/main"); err != nil || h != b.Hash {
		t.Errorf("ref after the commit: %s, %v; want %s", h.Describe(), err, b.Hash.Short())
	}
	// From a stale head it is a conflict, whatever MSET answered.
	if err := s.PutAndSwapRef(ctx, []backend.Object{b}, "heads/main", a.Hash, b.Hash); !errors.Is(err, backend.ErrConflict) {
		t.Errorf("PutAndSwapRef from a stale head without MSET permission: %v, want ErrConflict", err)
	}
}

// TestCommitAfterScriptFlush checks that a small commit still lands, its
// objects stored under their keys, when the server has forgotten the
// commit script (SCRIPT FLUSH, or a restart) between two commits: the
// EVALSHA fails with NOSCRIPT and PutAndSwapRef sends the script's source.
func TestCommitAfterScriptFlush(t *testing.T) {
	srv := redistest.Start(t)
	ctx := t.Context()
	s := open(t, srv.URL(randomPrefix()))
	head := backend.ZeroHash
	for i := range 3 {
		objs := []backend.Object{
			{Hash: backendtest.HashOf(fmt.Sprint("leaf", i)), Data: []byte(fmt.Sprint("leaf ", i))},
			{Hash: backendtest.HashOf(fmt.Sprint("empty", i))},
			{Hash: backendtest.HashOf(fmt.Sprint("commit", i)), Data: []byte(fmt.Sprint("commit ", i))},
		}
		next := objs[len(objs)-1].Hash
		if _, err := srv.Do("SCRIPT", "FLUSH"); err != nil {
			t.Fatalf("SCRIPT FLUSH: %v", err)
		}
		if err := s.PutAndSwapRef(ctx, objs, "heads/main", head, next); err != nil {
			t.Fatalf("commit %d after SCRIPT FLUSH: %v", i, err)
		}
		if h, err := s.GetRef(ctx, "heads/main"); err != nil || h != next {
			t.Fatalf("ref after commit %d: %s, %v; want %s", i, h.Describe(), err, next.Short())
		}
		got, err := s.GetMany(ctx, hashesOf(objs))
		if err != nil {
			t.Fatal(err)
		}
		for j, o := range objs {
			if got[j] == nil || string(got[j]) != string(o.Data) {
				t.Errorf("commit %d, object %d: stored %q, want %q", i, j, got[j], o.Data)
			}
		}
		// From the old head it is a conflict naming the new one.
		if err := s.PutAndSwapRef(ctx, objs, "heads/main", head, next); !errors.Is(err, backend.ErrConflict) && !errors.Is(err, backend.ErrExists) {
			t.Errorf("commit %d again from the old head: %v, want a conflict", i, err)
		}
		head = next
	}
}
