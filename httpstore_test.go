package strata_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

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
