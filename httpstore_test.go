package strata_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend/httpstore"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/internal/codec"
)

// serveStore starts a real HTTP store server on loopback over a new
// in-memory store, verifying put objects' hashes as strata serve does, and
// returns its URL and a KV over the served store itself.
func serveStore(t *testing.T) (string, *strata.KV) {
	t.Helper()
	m := mem.New()
	srv := httptest.NewServer(httpstore.NewHandler(m, &httpstore.HandlerOptions{Verify: codec.Sum}))
	t.Cleanup(func() { srv.Close(); m.Close() })
	return srv.URL, strata.New(m)
}

// TestModelHTTP runs the model-based test through the HTTP store,
// reopening the client at random steps.
func TestModelHTTP(t *testing.T) {
	url, _ := serveStore(t)
	kv := openURL(t, url)
	defer func() { kv.Close() }()
	modelTest(t, 300, kv, func(old *strata.KV) *strata.KV {
		if err := old.Close(); err != nil {
			t.Fatal(err)
		}
		kv = openURL(t, url)
		return kv
	})
}

// TestModelLayeredHTTP runs the model-based test through a layered store:
// an on-disk cache (cache=DIR) before the HTTP store, reopened at random
// steps with the cache kept.
func TestModelLayeredHTTP(t *testing.T) {
	url, _ := serveStore(t)
	u := url + "?cache=" + filepath.Join(t.TempDir(), "cache")
	kv := openURL(t, u)
	defer func() { kv.Close() }()
	modelTest(t, 300, kv, func(old *strata.KV) *strata.KV {
		if err := old.Close(); err != nil {
			t.Fatal(err)
		}
		kv = openURL(t, u)
		return kv
	})
}

// TestCloneAndPushHTTP clones from a server and pushes back to it.
func TestCloneAndPushHTTP(t *testing.T) {
	url, served := serveStore(t)
	if _, err := served.Branch("main").Set(ctx, "a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	remote := openURL(t, url)
	defer remote.Close()
	local := openURL(t, filepath.Join(t.TempDir(), "local"))
	defer local.Close()
	if _, err := strata.Clone(ctx, remote, local); err != nil {
		t.Fatalf("Clone from %s: %v", url, err)
	}
	if v, err := local.Branch("main").Get(ctx, "a"); err != nil || string(v) != "1" {
		t.Fatalf("cloned a = %q, %v; want 1", v, err)
	}
	if _, err := local.Branch("main").Set(ctx, "b", []byte("2")); err != nil {
		t.Fatal(err)
	}
	if _, err := local.Push(ctx, remote, "main"); err != nil {
		t.Fatalf("Push to %s: %v", url, err)
	}
	for path, want := range map[string]string{"a": "1", "b": "2"} {
		if v, err := served.Branch("main").Get(ctx, path); err != nil || string(v) != want {
			t.Errorf("pushed %s on the server = %q, %v; want %q", path, v, err, want)
		}
	}
}

// TestOpenHTTPErrors: a server that is not there, and a refused token.
func TestOpenHTTPErrors(t *testing.T) {
	srv := httptest.NewServer(httpstore.NewHandler(mem.New(), &httpstore.HandlerOptions{
		Authorize: func(*http.Request, httpstore.Access) error { return httpstore.ErrUnauthorized },
	}))
	_, err := strata.Open(ctx, srv.URL+"?token=s3cret")
	if !errors.Is(err, httpstore.ErrUnauthorized) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open with a refused token: %v; want ErrUnauthorized, without the token", err)
	}
	srv.Close()
	_, err = strata.Open(ctx, srv.URL+"?token=s3cret&cache="+t.TempDir())
	if !errors.Is(err, httpstore.ErrUnreachable) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open of a stopped server: %v; want ErrUnreachable, without the token", err)
	}
}

// counter counts the requests a handler serves.
type counter struct {
	h http.Handler
	n atomic.Int64
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	c.h.ServeHTTP(w, r)
}

// TestLayeredWarmReads: a KV opened on http://…?cache=DIR reads an
// unchanged branch, once warm, without sending a request (counted at the
// server), and sees another client's commit.
func TestLayeredWarmReads(t *testing.T) {
	m := mem.New()
	c := &counter{h: httpstore.NewHandler(m, &httpstore.HandlerOptions{Verify: codec.Sum})}
	srv := httptest.NewServer(c)
	defer srv.Close()
	served := strata.New(m)
	defer served.Close()
	if _, err := served.Branch("main").Set(ctx, "dir/a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	kv := openURL(t, srv.URL+"?cache="+t.TempDir())
	defer kv.Close()
	main := kv.Branch("main")
	read := func() {
		t.Helper()
		if v, err := main.Get(ctx, "dir/a"); err != nil || string(v) != "1" {
			t.Fatalf("Get dir/a = %q, %v; want 1", v, err)
		}
		if _, err := kv.Log(ctx, "main", 10); err != nil {
			t.Fatal(err)
		}
	}
	read() // warm-up
	before := c.n.Load()
	for range 5 {
		read()
	}
	if n := c.n.Load() - before; n != 0 {
		t.Errorf("warm reads of an unchanged branch sent %d requests; want 0", n)
	}

	// Another client's commit reaches the reader through the watch.
	if _, err := served.Branch("main").Set(ctx, "dir/a", []byte("2")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		v, err := main.Get(ctx, "dir/a")
		if err == nil && string(v) == "2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after another client's commit, Get dir/a = %q, %v for 10 s; want 2", v, err)
		}
	}
}

// TestCloneDoesNotRecordToken: cloning from a server with ?token= records
// the remote origin without the token (a reader of the clone, e.g. through
// strata serve, could read it otherwise), and so does AddRemote; the other
// parameters are kept.
func TestCloneDoesNotRecordToken(t *testing.T) {
	const tok = "s3cret-clone-4b1d"
	m := mem.New()
	srv := httptest.NewServer(httpstore.NewHandler(m, &httpstore.HandlerOptions{
		Verify: codec.Sum,
		Authorize: func(r *http.Request, _ httpstore.Access) error {
			if r.Header.Get("Authorization") != "Bearer "+tok {
				return httpstore.ErrUnauthorized
			}
			return nil
		},
	}))
	defer func() { srv.Close(); m.Close() }()
	if _, err := strata.New(m).Branch("main").Set(ctx, "a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	remote := openURL(t, srv.URL+"?token="+tok)
	defer remote.Close()
	local := openURL(t, filepath.Join(t.TempDir(), "local"))
	defer local.Close()
	if _, err := strata.Clone(ctx, remote, local); err != nil {
		t.Fatal(err)
	}
	// A rerun of an interrupted clone finds the origin it recorded.
	if _, err := strata.Clone(ctx, remote, local); err != nil {
		t.Fatalf("second Clone: %v", err)
	}
	if o, err := local.Remote(ctx, "origin"); err != nil || o.URL != srv.URL {
		t.Errorf("origin = %+v, %v; want URL %q without the token", o, err, srv.URL)
	}
	for in, want := range map[string]string{
		"http://h:1/p?token=" + tok:                  "http://h:1/p",
		"https://h?cache=/c&token=" + tok:            "https://h?cache=/c",
		"HTTPS://h?token=" + tok + "&cache=%2Fa%20b": "HTTPS://h?cache=%2Fa%20b",
		"http://h:1?%74oken=" + tok:                  "http://h:1", // the store decodes the name
		"http://h:1?cache=/c&%74ok%65n=" + tok:       "http://h:1?cache=/c",
		"redis://h:1/0":                              "redis://h:1/0",
	} {
		kv := openURL(t, "mem://")
		if err := kv.AddRemote(ctx, "r", in); err != nil {
			t.Fatal(err)
		}
		if r, err := kv.Remote(ctx, "r"); err != nil || r.URL != want {
			t.Errorf("AddRemote(%q): recorded %+v, %v; want %q", in, r, err, want)
		}
		kv.Close()
	}
}
