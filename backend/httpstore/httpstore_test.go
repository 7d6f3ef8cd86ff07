package httpstore_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/backendtest"
	"github.com/stratakv/strata/backend/httpstore"
	"github.com/stratakv/strata/backend/mem"
)

// serve starts a real server on loopback over a new mem store, with opts,
// and returns its URL.
func serve(t *testing.T, opts *httpstore.HandlerOptions) (string, *mem.Store) {
	t.Helper()
	m := mem.New()
	srv := httptest.NewServer(httpstore.NewHandler(m, opts))
	t.Cleanup(func() { srv.Close(); m.Close() })
	return srv.URL, m
}

func open(t *testing.T, url string, opts *httpstore.Options) *httpstore.Store {
	t.Helper()
	s, err := httpstore.Open(t.Context(), url, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Store {
		url, _ := serve(t, nil)
		return open(t, url, nil)
	})
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in, base, token string
		ok              bool
	}{
		{"http://127.0.0.1:7070", "http://127.0.0.1:7070", "", true},
		{"https://example.com/strata/?token=s3cret", "https://example.com/strata", "s3cret", true},
		{"http://h:1?token=s3cret&cache=/tmp/x", "", "", false},
		{"http://h:1?tokn=s3cret", "", "", false},
		{"http://user:s3cret@h:1", "", "", false},
		{"ftp://h", "", "", false},
		{"http://", "", "", false},
		{"http://h:1/#frag", "", "", false},
	} {
		base, token, err := httpstore.ParseURL(tc.in)
		if tc.ok != (err == nil) || base != tc.base || token != tc.token {
			t.Errorf("ParseURL(%q) = %q, %q, %v; want %q, %q, ok=%v", tc.in, base, token, err, tc.base, tc.token, tc.ok)
		}
		if err != nil {
			if !errors.Is(err, backend.ErrInvalidURL) {
				t.Errorf("ParseURL(%q): %v does not wrap ErrInvalidURL", tc.in, err)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("ParseURL(%q): error shows the secret: %v", tc.in, err)
			}
		}
	}
}

// TestAuthorize checks that the hook sees what each request asks and that
// its errors reach the client as sentinels, the token never in a message.
func TestAuthorize(t *testing.T) {
	var seen []httpstore.Access
	url, _ := serve(t, &httpstore.HandlerOptions{Authorize: func(r *http.Request, a httpstore.Access) error {
		switch r.Header.Get("Authorization") {
		case "Bearer good":
		case "Bearer reader":
			if a.Write {
				return httpstore.ErrForbidden
			}
		default:
			return httpstore.ErrUnauthorized
		}
		seen = append(seen, a)
		return nil
	}})
	ctx := t.Context()

	_, err := httpstore.Open(ctx, url+"?token=wrong-s3cret", nil)
	if !errors.Is(err, httpstore.ErrUnauthorized) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open with a wrong token: %v; want ErrUnauthorized without the token", err)
	}
	t.Setenv(httpstore.TokenEnv, "")
	if _, err := httpstore.Open(ctx, url, nil); !errors.Is(err, httpstore.ErrUnauthorized) {
		t.Errorf("Open without a token: %v; want ErrUnauthorized", err)
	}

	r := open(t, url, &httpstore.Options{Token: "reader"})
	defer r.Close()
	h := backendtest.HashOf("x")
	if err := r.CompareAndSwapRef(ctx, "heads/main", backend.ZeroHash, h); !errors.Is(err, httpstore.ErrForbidden) {
		t.Errorf("CAS with a read token: %v; want ErrForbidden", err)
	}

	t.Setenv(httpstore.TokenEnv, "good")
	seen = nil
	w := open(t, url, nil)
	defer w.Close()
	if err := w.PutAndSwapRef(ctx, []backend.Object{{Hash: h, Data: []byte("x")}}, "heads/main", backend.ZeroHash, h); err != nil {
		t.Fatal(err)
	}
	if err := w.DeleteObjects(ctx, []backend.Hash{h}); err != nil {
		t.Fatal(err)
	}
	want := []httpstore.Access{{}, {Write: true, Ref: "heads/main"}, {Write: true, DeleteObjects: true}}
	if len(seen) != len(want) {
		t.Fatalf("hook saw %+v; want %+v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Errorf("hook call %d saw %+v; want %+v", i, seen[i], want[i])
		}
	}
}

// TestVerify checks that a server with Verify refuses an object that does
// not hash to its key.
func TestVerify(t *testing.T) {
	sum := func(b []byte) backend.Hash { return backendtest.HashOf(string(b)) }
	url, m := serve(t, &httpstore.HandlerOptions{Verify: sum})
	s := open(t, url, nil)
	defer s.Close()
	ctx := t.Context()
	good := backend.Object{Hash: sum([]byte("a")), Data: []byte("a")}
	bad := backend.Object{Hash: sum([]byte("a")), Data: []byte("b")}
	if err := s.Put(ctx, []backend.Object{bad}); !errors.Is(err, backend.ErrCorrupt) {
		t.Errorf("Put of a mislabelled object: %v; want ErrCorrupt", err)
	}
	if err := s.PutAndSwapRef(ctx, []backend.Object{bad}, "heads/x", backend.ZeroHash, bad.Hash); !errors.Is(err, backend.ErrCorrupt) {
		t.Errorf("PutAndSwapRef of a mislabelled object: %v; want ErrCorrupt", err)
	}
	if _, err := m.Get(ctx, bad.Hash); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("the mislabelled object reached the store: %v", err)
	}
	if err := s.Put(ctx, []backend.Object{good}); err != nil {
		t.Errorf("Put of a good object: %v", err)
	}
}

// TestServerGone checks that a server that goes away mid-use gives an
// error wrapping ErrUnreachable, ends watches, and never hangs.
func TestServerGone(t *testing.T) {
	m := mem.New()
	defer m.Close()
	srv := httptest.NewServer(httpstore.NewHandler(m, nil))
	s := open(t, srv.URL+"?token=s3cret", nil)
	defer s.Close()
	ctx := t.Context()
	ch, err := s.WatchRefs(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ListRefs(ctx, ""); err != nil {
		t.Fatal(err)
	}
	srv.CloseClientConnections()
	srv.Close()
	waitClosed(t, ch) // closed when the stream breaks
	_, err = s.GetRef(ctx, "heads/main")
	if !errors.Is(err, httpstore.ErrUnreachable) {
		t.Fatalf("GetRef from a server that went away: %v; want ErrUnreachable", err)
	}
	if !strings.Contains(err.Error(), "store "+srv.URL) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %q should name the server and not the token", err)
	}
	if _, err := httpstore.Open(ctx, srv.URL, nil); !errors.Is(err, httpstore.ErrUnreachable) {
		t.Errorf("Open of a stopped server: %v; want ErrUnreachable", err)
	}
}

// TestKeepAlive checks that requests reuse connections.
func TestKeepAlive(t *testing.T) {
	m := mem.New()
	defer m.Close()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(httpstore.NewHandler(m, nil))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	s := open(t, srv.URL, nil)
	defer s.Close()
	ctx := context.Background()
	h := backendtest.HashOf("k")
	for range 50 {
		if err := s.Put(ctx, []backend.Object{{Hash: h, Data: []byte("k")}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, h); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetRef(ctx, "heads/none"); !errors.Is(err, backend.ErrNotFound) {
			t.Fatalf("GetRef of a missing ref: %v", err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("150 sequential requests used %d connections; want 1", n)
	}
}

// TestWatchDone: closing HandlerOptions.Done ends watch streams, so a
// graceful shutdown need not wait for them.
func TestWatchDone(t *testing.T) {
	done := make(chan struct{})
	url, _ := serve(t, &httpstore.HandlerOptions{Done: done})
	s := open(t, url, nil)
	defer s.Close()
	ch, err := s.WatchRefs(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	close(done)
	waitClosed(t, ch)
}

// waitClosed fails unless ch is closed within 10 s.
func waitClosed(t *testing.T, ch <-chan backend.RefEvent) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the watch channel is still open 10 s after its stream should have ended")
		}
	}
}

// TestTLS: an https:// URL, with the server's certificate trusted through
// Options.TLSConfig; without it the certificate is refused.
func TestTLS(t *testing.T) {
	m := mem.New()
	defer m.Close()
	srv := httptest.NewUnstartedServer(httpstore.NewHandler(m, nil))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	defer srv.Close()
	tlsConfig := srv.Client().Transport.(*http.Transport).TLSClientConfig
	s := open(t, srv.URL, &httpstore.Options{TLSConfig: tlsConfig})
	defer s.Close()
	h := backendtest.HashOf("t")
	if err := s.CompareAndSwapRef(t.Context(), "heads/t", backend.ZeroHash, h); err != nil {
		t.Fatalf("CAS over TLS: %v", err)
	}
	if _, err := httpstore.Open(t.Context(), srv.URL, nil); !errors.Is(err, httpstore.ErrUnreachable) {
		t.Errorf("Open of an untrusted certificate: %v; want ErrUnreachable", err)
	}
}

// failingStore fails every object read and ref read with an error that
// names a secret, as a damaged disk might.
type failingStore struct{ *mem.Store }

var errSecret = errors.New("/var/secret/disk on fire")

func (failingStore) Get(context.Context, backend.Hash) ([]byte, error) { return nil, errSecret }

func (failingStore) GetMany(context.Context, []backend.Hash) ([][]byte, error) {
	return nil, errSecret
}

func (failingStore) GetRef(context.Context, string) (backend.Hash, error) {
	return backend.Hash{}, errSecret
}

// TestInternalErrorHidden: the client of a store that fails with an
// unknown error sees only "internal error", in a plain error response and
// in an error frame of a streamed answer; the cause goes to the handler's
// log.
func TestInternalErrorHidden(t *testing.T) {
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	m := mem.New()
	defer m.Close()
	srv := httptest.NewServer(httpstore.NewHandler(failingStore{m}, &httpstore.HandlerOptions{Logger: logger}))
	defer srv.Close()
	s := open(t, srv.URL, nil)
	defer s.Close()
	if _, err := s.GetRef(t.Context(), "heads/main"); err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "internal error") {
		t.Errorf("GetRef: %v, want internal error without the cause", err)
	}
	if _, err := s.Get(t.Context(), backend.Hash{1}); err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "internal error") {
		t.Errorf("Get: %v, want internal error without the cause", err)
	}
	srv.Close() // waits for the handlers, and so for their log lines
	if n := strings.Count(logs.String(), "disk on fire"); n != 2 {
		t.Errorf("the cause is in the log %d times, want 2:\n%s", n, logs.String())
	}
}

// gatedWriter passes a response's first write (a watch's ready frame) and
// holds every later one until gate is closed, as a client that does not
// read would once the connection's buffers are full.
type gatedWriter struct {
	http.ResponseWriter
	gate   <-chan struct{}
	writes int
}

func (w *gatedWriter) Write(p []byte) (int, error) {
	if w.writes++; w.writes > 1 {
		<-w.gate
	}
	return w.ResponseWriter.Write(p)
}

func (w *gatedWriter) Flush() { w.ResponseWriter.(http.Flusher).Flush() }

// overflowServer serves a mem store whose watch streams are held (see
// gatedWriter) until the returned release is called after moves, the
// number returned, that overflow the store's buffer: every ref moves
// once, so no later event of the same ref shows a gap.
func overflowServer(t *testing.T) (url string, m *mem.Store, moves int, release func()) {
	t.Helper()
	m = mem.New()
	h := httpstore.NewHandler(m, nil)
	gate := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/store/watch" {
			w = &gatedWriter{ResponseWriter: w, gate: gate}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.Close(); m.Close() })
	// More moves than the store's buffer and the server's write buffer
	// can hold while the stream is held: the last ones are dropped.
	moves = mem.WatchBuffer + 1000
	return srv.URL, m, moves, func() {
		for i := range moves {
			if err := m.CompareAndSwapRef(t.Context(), fmt.Sprintf("heads/b%05d", i), backend.ZeroHash, backendtest.HashOf("x")); err != nil {
				t.Fatal(err)
			}
		}
		close(gate)
	}
}

// TestWatchOverflowEndsStream: when the served store drops events because
// the stream's reader is slow, even if no later event of the same ref
// shows a gap, the server sends the overflow frame 'O' after the events
// that got through and ends the stream (docs/PROTOCOL.md).
func TestWatchOverflowEndsStream(t *testing.T) {
	url, _, n, release := overflowServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/store/watch?prefix=", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if b, err := br.ReadByte(); err != nil || b != 'R' {
		t.Fatalf("first frame %q, %v; want 'R'", b, err)
	}
	if _, err := binary.ReadUvarint(br); err != nil {
		t.Fatal(err)
	}
	release()
	events := 0
	for {
		b, err := br.ReadByte()
		if err != nil {
			t.Fatalf("the stream ended (%v) after %d of %d events without an overflow frame", err, events, n)
		}
		switch b {
		case 'H':
			continue
		case 'E':
			l, err := binary.ReadUvarint(br)
			if err == nil {
				_, err = br.Discard(int(l) + 2*backend.HashSize)
			}
			if err != nil {
				t.Fatalf("event %d: %v", events, err)
			}
			events++
			continue
		case 'O':
		default:
			t.Fatalf("frame %q after %d events", b, events)
		}
		break
	}
	if events >= n {
		t.Errorf("received all %d events; the test needs the store to drop some", n)
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Errorf("after the overflow frame: %q, %v; want the stream's end", rest, err)
	}
}

// TestWatchOverflowClosesClient: the client's channel closes after the
// events that got through when the server's store dropped some.
func TestWatchOverflowClosesClient(t *testing.T) {
	url, _, n, release := overflowServer(t)
	s := open(t, url, nil)
	defer s.Close()
	ch, err := s.WatchRefs(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	release()
	got := 0
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if ok {
				got++
				continue
			}
		case <-deadline:
			t.Fatalf("the watch channel is still open 10 s after the stream was released, with %d of %d events received", got, n)
		}
		break
	}
	if got >= n {
		t.Errorf("received all %d events; the test needs the store to drop some", n)
	}
}

// placedStore is a mem store whose ref errors name a place, as a Pebble
// store's name its directory.
type placedStore struct{ *mem.Store }

func (s placedStore) GetRef(ctx context.Context, name string) (backend.Hash, error) {
	h, err := s.Store.GetRef(ctx, name)
	if err != nil {
		err = fmt.Errorf("pebble /var/secret/st: get ref %q: %w", name, err)
	}
	return h, err
}

// damagedHash is the object placedStore reports as damaged.
var damagedHash = backendtest.HashOf("damaged")

func (s placedStore) Get(ctx context.Context, h backend.Hash) ([]byte, error) {
	if h == damagedHash {
		return nil, fmt.Errorf("pebble /var/secret/st: object %s: %w", h, backend.ErrCorrupt)
	}
	return s.Store.Get(ctx, h)
}

func (s placedStore) GetMany(ctx context.Context, hs []backend.Hash) ([][]byte, error) {
	for _, h := range hs {
		if h == damagedHash {
			return nil, fmt.Errorf("pebble /var/secret/st: object %s: %w", h, backend.ErrCorrupt)
		}
	}
	return s.Store.GetMany(ctx, hs)
}

func (s placedStore) CompareAndSwapRef(ctx context.Context, name string, old, new backend.Hash) error {
	if err := s.Store.CompareAndSwapRef(ctx, name, old, new); err != nil {
		return fmt.Errorf("pebble /var/secret/st: swap ref %q: %w", name, err)
	}
	return nil
}

// TestStoreErrorsHidePlace: a 4xx answer of a backend sentinel says what
// the request was about and the sentinel, not the served store's message
// (which names where it keeps its data); the client still tells the
// sentinel with errors.Is. The handler's own errors keep their detail.
func TestStoreErrorsHidePlace(t *testing.T) {
	m := mem.New()
	defer m.Close()
	srv := httptest.NewServer(httpstore.NewHandler(placedStore{m}, &httpstore.HandlerOptions{
		Verify: func(data []byte) backend.Hash { return backendtest.HashOf(string(data)) },
	}))
	defer srv.Close()
	s := open(t, srv.URL, nil)
	defer s.Close()
	ctx := t.Context()
	check := func(what string, err, sentinel error, want string) {
		t.Helper()
		if !errors.Is(err, sentinel) || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want %v saying %q, without the store's place", what, err, sentinel, want)
		}
	}
	_, err := s.GetRef(ctx, "heads/none")
	check("GetRef of a missing ref", err, backend.ErrNotFound, `ref "heads/none": not found`)
	h := backendtest.HashOf("a")
	if err := s.CompareAndSwapRef(ctx, "heads/main", backend.ZeroHash, h); err != nil {
		t.Fatal(err)
	}
	err = s.CompareAndSwapRef(ctx, "heads/main", backend.ZeroHash, h)
	check("a conflicting CompareAndSwapRef", err, backend.ErrConflict, `ref "heads/main": conflict`)
	err = s.Put(ctx, []backend.Object{{Hash: h, Data: []byte("not a")}})
	check("Put of an object that does not hash to its key", err, backend.ErrCorrupt, "data hashes to")
	_, err = s.Get(ctx, damagedHash)
	check("Get of a damaged object", err, backend.ErrCorrupt, "object "+damagedHash.String())
}
