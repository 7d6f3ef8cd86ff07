package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stratakv/strata"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is a Server over a store on a real loopback listener.
type harness struct {
	t    *testing.T
	kv   *strata.KV
	srv  *Server
	url  string
	logs *syncBuffer
	// token, if not empty, is sent as a bearer token by do.
	token string
}

// stores are the store URLs the API tests run on: in memory and on disk.
func stores(t *testing.T) map[string]string {
	return map[string]string{"mem": "mem://", "pebble": filepath.Join(t.TempDir(), "store")}
}

func newHarness(t *testing.T, storeURL string, opts Options) *harness {
	t.Helper()
	kv, err := strata.Open(context.Background(), storeURL)
	if err != nil {
		t.Fatal(err)
	}
	return newHarnessKV(t, kv, opts)
}

func newHarnessKV(t *testing.T, kv *strata.KV, opts Options) *harness {
	t.Helper()
	logs := &syncBuffer{}
	opts.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	srv := New(kv, opts)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		if err := kv.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return &harness{t: t, kv: kv, srv: srv, url: ts.URL, logs: logs}
}

// reply is one HTTP response, read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a value of type T.
func decodeJSON[T any](t *testing.T, r reply) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return v
}

// do sends a request with body and headers (pairs of name, value) and
// returns the response.
func (h *harness) do(method, path, body string, headers ...string) reply {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

// want sends a request and fails the test unless it answers status; it
// returns the response.
func (h *harness) want(status int, method, path, body string, headers ...string) reply {
	h.t.Helper()
	r := h.do(method, path, body, headers...)
	if r.status != status {
		h.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, status, r.body)
	}
	return r
}

// wantError sends a request and checks that it fails with status and
// code; it returns the error message.
func (h *harness) wantError(status int, code, method, path, body string, headers ...string) errorBody {
	h.t.Helper()
	r := h.want(status, method, path, body, headers...)
	e := decodeJSON[errorBody](h.t, r)
	if e.Code != code || e.Error == "" {
		h.t.Fatalf("%s %s: error %+v, want code %q", method, path, e, code)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		h.t.Fatalf("%s %s: error Content-Type %q", method, path, ct)
	}
	return e
}

// commitOf returns the commit of a write's answer.
func commitOf(t *testing.T, r reply) string {
	t.Helper()
	c := decodeJSON[commitAnswer](t, r).Commit
	if _, err := strata.ParseHash(c); err != nil {
		t.Fatalf("answer %s: %v", r.body, err)
	}
	return c
}
