package httpstore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/stratakv/strata/backend"
)

// Errors of the HTTP store, besides the backend sentinels that the
// server's answers map to.
var (
	// ErrUnreachable: the server cannot be reached, or it went away in
	// the middle of a request or a watch.
	ErrUnreachable = errors.New("unreachable")
	// ErrUnauthorized: the server wants a token and the request had none,
	// or one it does not know (HTTP 401).
	ErrUnauthorized = errors.New("unauthorized: missing or unknown token")
	// ErrForbidden: the token does not allow the request, e.g. a write
	// with a read token or to a branch outside the token's prefix (HTTP
	// 403).
	ErrForbidden = errors.New("forbidden")
	// ErrTooLarge: a request beyond the protocol's limits (HTTP 413).
	ErrTooLarge = errors.New("request too large")
	// ErrBusy: the server holds as many garbage collectors' fences as it
	// allows (HandlerOptions.MaxFences; HTTP 429).
	ErrBusy = errors.New("server busy")
	// ErrInvalid: the server refused the request as malformed, or as
	// naming a ref its Authorize hook does not accept (HTTP 400). An
	// Authorize hook returns an error wrapping it to answer 400.
	ErrInvalid = errors.New("invalid request")
)

// TokenEnv is the environment variable Open reads a token from when the
// URL and the options carry none.
const TokenEnv = "STRATA_TOKEN"

// Options configure Open. Nil options, and each zero field, mean the
// defaults.
type Options struct {
	// Token is sent as "Authorization: Bearer TOKEN". Empty means the
	// URL's token parameter, else $STRATA_TOKEN, else none.
	Token string
	// DialTimeout bounds connecting to the server; zero means 5 seconds.
	DialTimeout time.Duration
	// ResponseTimeout bounds the wait for the headers of an answer once a
	// request is sent; zero means 60 seconds. Reading a large body is
	// bounded only by the context.
	ResponseTimeout time.Duration
	// MaxConns is the most connections to the server at once (idle ones
	// are kept for reuse); zero means 16.
	MaxConns int
	// TLSConfig is used for https URLs; nil means the system's roots.
	TLSConfig *tls.Config
}

// Store is a backend.Store served by a strata server over HTTP. It is safe
// for concurrent use. Besides backend.Store it implements BatchGetter,
// RefCommitter (one request per commit), RefWatcher, ObjectLister,
// ObjectDeleter, ObjectFencer and RefRepairer; the last five answer an
// error wrapping errors.ErrUnsupported when the server's own store lacks
// them.
type Store struct {
	base   string // scheme://host[/path], no query
	where  string // "store BASE", for messages
	token  string
	client *http.Client
	closed atomic.Bool
	done   context.Context // canceled by Close: ends watches
	cancel context.CancelFunc
	fences bool // the server's store keeps fences (info), see fence.go
}

var (
	_ backend.Store         = (*Store)(nil)
	_ backend.BatchGetter   = (*Store)(nil)
	_ backend.RefCommitter  = (*Store)(nil)
	_ backend.RefWatcher    = (*Store)(nil)
	_ backend.ObjectLister  = (*Store)(nil)
	_ backend.ObjectDeleter = (*Store)(nil)
	_ backend.RefRepairer   = (*Store)(nil)
)

// ParseURL checks an http:// or https:// store URL,
// http://HOST[:PORT][/PATH][?token=TOKEN], and returns the server's base
// URL (without the query) and the token ("" if none). Any other form, or
// another parameter, returns an error wrapping backend.ErrInvalidURL that
// never shows the token.
func ParseURL(rawURL string) (base, token string, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", "", fmt.Errorf("%w: an http(s) store URL that does not parse", backend.ErrInvalidURL)
	}
	q, qerr := url.ParseQuery(u.RawQuery)
	token = q.Get("token")
	u.RawQuery = ""
	where := u.Redacted()
	switch {
	case qerr != nil:
		return "", "", fmt.Errorf("%w: %q: bad query", backend.ErrInvalidURL, where)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", "", fmt.Errorf("%w: %q: want http:// or https://", backend.ErrInvalidURL, where)
	case u.Host == "":
		return "", "", fmt.Errorf("%w: %q: no host", backend.ErrInvalidURL, where)
	case u.User != nil:
		return "", "", fmt.Errorf("%w: %q: give the token as ?token=, not as user information", backend.ErrInvalidURL, where)
	case u.Fragment != "":
		return "", "", fmt.Errorf("%w: %q: a fragment", backend.ErrInvalidURL, where)
	}
	for k, v := range q {
		if k != "token" || len(v) != 1 {
			return "", "", fmt.Errorf("%w: %q: unknown or repeated parameter %q (want token)", backend.ErrInvalidURL, where, k)
		}
	}
	return strings.TrimSuffix(u.String(), "/"), token, nil
}

// Open connects to the strata server at rawURL (see ParseURL) and checks
// that it speaks this protocol and accepts the token. An unreachable
// server returns an error wrapping ErrUnreachable; a refused token one
// wrapping ErrUnauthorized. Close the store when done.
func Open(ctx context.Context, rawURL string, opts *Options) (*Store, error) {
	base, token, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Token != "" {
		token = o.Token
	}
	if token == "" {
		token = os.Getenv(TokenEnv)
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.ResponseTimeout <= 0 {
		o.ResponseTimeout = 60 * time.Second
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 16
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       o.TLSConfig,
		TLSHandshakeTimeout:   o.DialTimeout,
		ResponseHeaderTimeout: o.ResponseTimeout,
		MaxIdleConns:          o.MaxConns,
		MaxIdleConnsPerHost:   o.MaxConns,
		MaxConnsPerHost:       o.MaxConns,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	done, cancel := context.WithCancel(context.Background())
	s := &Store{base: base, where: "store " + base, token: token, client: &http.Client{Transport: tr}, done: done, cancel: cancel}
	var in info
	if err := s.getJSON(ctx, "/v1/store/info", &in); err != nil {
		s.Close()
		return nil, err
	}
	if in.Protocol != Version {
		s.Close()
		return nil, fmt.Errorf("%s: the server speaks protocol version %d, this client %d", s.where, in.Protocol, Version)
	}
	s.fences = in.Fence
	return s, nil
}

// Close ends every watch and closes idle connections; later calls return
// errors wrapping backend.ErrClosed. It does not affect the server. Close
// is idempotent.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.cancel()
	s.client.CloseIdleConnections()
	return nil
}

// remoteError is an error the server answered: its message and the
// sentinel of its code.
type remoteError struct {
	msg      string
	sentinel error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.sentinel }

// errorOf turns an error body into an error wrapping its sentinel.
func (s *Store) errorOf(e errorBody, status int) error {
	if sentinel, ok := codeErrors[e.Code]; ok {
		return fmt.Errorf("%s: %w", s.where, &remoteError{msg: e.Error, sentinel: sentinel})
	}
	return fmt.Errorf("%s: server error (HTTP %d): %s", s.where, status, e.Error)
}

// do sends a request and returns a response with a 2xx status; any other
// answer is returned as an error. The caller must close the body (with
// drain, to let the connection be reused).
func (s *Store) do(ctx context.Context, method, path string, q url.Values, body io.Reader) (*http.Response, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("%s: %w", s.where, backend.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", s.where, err)
	}
	u := s.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.where, err)
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, s.transportError(ctx, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer drain(resp.Body)
	var e errorBody
	if json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e) != nil || e.Code == "" {
		e = errorBody{Error: http.StatusText(resp.StatusCode), Code: ""}
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			e.Code = "unauthorized"
		case http.StatusForbidden:
			e.Code = "forbidden"
		case http.StatusNotFound:
			e.Error = "no such endpoint (is this a strata server?)"
		}
	}
	return nil, s.errorOf(e, resp.StatusCode)
}

// transportError wraps an error of the HTTP client: ctx's error if ctx is
// done, else ErrUnreachable. Messages never carry the token (it travels
// only in a header).
func (s *Store) transportError(ctx context.Context, err error) error {
	if s.closed.Load() {
		return fmt.Errorf("%s: %w", s.where, backend.ErrClosed)
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%s: %w", s.where, cerr)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s: %w: %v", s.where, ErrUnreachable, err)
}

// drain reads a little of what is left of body, so the connection can be
// reused, and closes it.
func drain(body io.ReadCloser) {
	io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	body.Close()
}

func (s *Store) getJSON(ctx context.Context, path string, v any) error {
	resp, err := s.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return err
	}
	defer drain(resp.Body)
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return s.transportError(ctx, err)
	}
	return nil
}

// hashesBody returns hs as a request body.
func hashesBody(hs []backend.Hash) io.Reader {
	var b bytes.Buffer
	b.Grow(len(hs) * backend.HashSize)
	writeHashes(&b, hs)
	return &b
}

// Get returns the object stored under h, or an error wrapping
// backend.ErrNotFound. The caller owns the returned slice.
func (s *Store) Get(ctx context.Context, h backend.Hash) ([]byte, error) {
	got, err := s.GetMany(ctx, []backend.Hash{h})
	if err != nil {
		return nil, err
	}
	if got[0] == nil {
		return nil, fmt.Errorf("%s: object %s: %w", s.where, h.Short(), backend.ErrNotFound)
	}
	return got[0], nil
}

// GetMany implements backend.BatchGetter: one request per MaxBatch hashes,
// the objects streamed back in order.
func (s *Store) GetMany(ctx context.Context, hs []backend.Hash) ([][]byte, error) {
	out := make([][]byte, 0, len(hs))
	for start := 0; start < len(hs) || start == 0; start += MaxBatch {
		part := hs[start:min(start+MaxBatch, len(hs))]
		resp, err := s.do(ctx, http.MethodPost, "/v1/store/get", nil, hashesBody(part))
		if err != nil {
			return nil, err
		}
		br := bufio.NewReaderSize(resp.Body, 64<<10)
		for range part {
			st, err := br.ReadByte()
			if err == nil && st == entryPresent {
				var b []byte
				if b, err = readBytes(br, MaxObject); err == nil {
					out = append(out, b)
					continue
				}
			}
			if err != nil {
				drain(resp.Body)
				return nil, s.transportError(ctx, fmt.Errorf("reading objects: %w", unexpected(err)))
			}
			switch st {
			case entryMissing:
				out = append(out, nil)
			case entryError:
				e := readErrorFrame(br)
				drain(resp.Body)
				return nil, s.errorOf(e, 0)
			default:
				drain(resp.Body)
				return nil, fmt.Errorf("%s: malformed answer to get (entry %d)", s.where, st)
			}
		}
		drain(resp.Body)
		if len(hs) == 0 {
			break
		}
	}
	return out, nil
}

// Has reports which of hs are stored: one request per MaxBatch hashes.
func (s *Store) Has(ctx context.Context, hs []backend.Hash) ([]bool, error) {
	out := make([]bool, 0, len(hs))
	for start := 0; start < len(hs) || start == 0; start += MaxBatch {
		part := hs[start:min(start+MaxBatch, len(hs))]
		resp, err := s.do(ctx, http.MethodPost, "/v1/store/has", nil, hashesBody(part))
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBatch+1))
		drain(resp.Body)
		if err != nil {
			return nil, s.transportError(ctx, err)
		}
		if len(b) != len(part) {
			return nil, fmt.Errorf("%s: malformed answer to has: %d entries for %d hashes", s.where, len(b), len(part))
		}
		for _, f := range b {
			out = append(out, f == 1)
		}
		if len(hs) == 0 {
			break
		}
	}
	return out, nil
}

// chunks splits objs into batches within the protocol's limits.
func chunks(objs []backend.Object) [][]backend.Object {
	var out [][]backend.Object
	start, size := 0, 0
	for i, o := range objs {
		n := backend.HashSize + len(o.Data) + 10
		if i > start && (i-start == MaxBatch || size+n > chunkBytes) {
			out = append(out, objs[start:i])
			start, size = i, 0
		}
		size += n
	}
	return append(out, objs[start:])
}

// objectsBody streams objs as a request body, encoded as it is sent.
func objectsBody(objs []backend.Object) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriterSize(pw, 64<<10)
		for _, o := range objs {
			writeObject(bw, o)
		}
		pw.CloseWithError(bw.Flush())
	}()
	return pr
}

// Put stores objs: one request per batch within the protocol's limits.
func (s *Store) Put(ctx context.Context, objs []backend.Object) error {
	for _, c := range chunks(objs) {
		if err := s.send(ctx, "/v1/store/put", nil, c); err != nil {
			return err
		}
	}
	return nil
}

// send posts objs to path and expects no content back.
func (s *Store) send(ctx context.Context, path string, q url.Values, objs []backend.Object) error {
	for _, o := range objs {
		if len(o.Data) > MaxObject {
			return fmt.Errorf("%s: object %s of %d bytes: %w", s.where, o.Hash.Short(), len(o.Data), ErrTooLarge)
		}
	}
	var body io.Reader = http.NoBody
	if len(objs) > 0 {
		body = objectsBody(objs)
	}
	resp, err := s.do(ctx, http.MethodPost, path, q, body)
	if err != nil {
		return err
	}
	drain(resp.Body)
	return nil
}

// swapQuery returns the parameters of a swap.
func swapQuery(name string, old, new backend.Hash) url.Values {
	q := url.Values{"name": {name}}
	if !old.IsZero() {
		q.Set("old", old.String())
	}
	if !new.IsZero() {
		q.Set("new", new.String())
	}
	return q
}

// GetRef returns the hash name points at, or an error wrapping
// backend.ErrNotFound.
func (s *Store) GetRef(ctx context.Context, name string) (backend.Hash, error) {
	resp, err := s.do(ctx, http.MethodGet, "/v1/store/ref", url.Values{"name": {name}}, nil)
	if err != nil {
		return backend.ZeroHash, err
	}
	defer drain(resp.Body)
	var h backend.Hash
	if _, err := io.ReadFull(resp.Body, h[:]); err != nil {
		return h, s.transportError(ctx, fmt.Errorf("reading ref %q: %w", name, err))
	}
	return h, nil
}

// ListRefs returns the refs whose names start with prefix, sorted by name.
func (s *Store) ListRefs(ctx context.Context, prefix string) ([]backend.Ref, error) {
	var refs []backend.Ref
	err := s.stream(ctx, "/v1/store/refs", url.Values{"prefix": {prefix}}, func(br *bufio.Reader) error {
		name, err := readBytes(br, maxName)
		if err != nil {
			return err
		}
		h, err := readHash(br)
		refs = append(refs, backend.Ref{Name: string(name), Hash: h})
		return err
	})
	return refs, err
}

// RefNames implements backend.RefRepairer.
func (s *Store) RefNames(ctx context.Context, prefix string) ([]string, error) {
	var names []string
	err := s.stream(ctx, "/v1/store/refnames", url.Values{"prefix": {prefix}}, func(br *bufio.Reader) error {
		name, err := readBytes(br, maxName)
		names = append(names, string(name))
		return err
	})
	return names, err
}

// stream reads a list stream from path, calling item for each item.
func (s *Store) stream(ctx context.Context, path string, q url.Values, item func(*bufio.Reader) error) error {
	resp, err := s.do(ctx, http.MethodGet, path, q, nil)
	if err != nil {
		return err
	}
	defer drain(resp.Body)
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	for {
		t, err := br.ReadByte()
		if err != nil {
			return s.transportError(ctx, fmt.Errorf("list cut short: %w", unexpected(err)))
		}
		switch t {
		case streamEnd:
			return nil
		case streamError:
			return s.errorOf(readErrorFrame(br), 0)
		case streamItem:
			if err := item(br); err != nil {
				var ie itemError
				if errors.As(err, &ie) {
					return ie.err
				}
				return s.transportError(ctx, fmt.Errorf("list cut short: %w", err))
			}
		default:
			return fmt.Errorf("%s: malformed list (frame %q)", s.where, t)
		}
	}
}

// itemError carries the error of a ListObjects callback through stream.
type itemError struct{ err error }

func (e itemError) Error() string { return e.err.Error() }

// CompareAndSwapRef moves name from old to new on the server, or returns
// an error wrapping backend.ErrConflict.
func (s *Store) CompareAndSwapRef(ctx context.Context, name string, old, new backend.Hash) error {
	return s.send(ctx, "/v1/store/cas", swapQuery(name, old, new), nil)
}

// PutAndSwapRef implements backend.RefCommitter: objects and swap in one
// request (the server makes it one atomic step if its store can). Objects
// beyond one request's limits are put first.
func (s *Store) PutAndSwapRef(ctx context.Context, objs []backend.Object, name string, old, new backend.Hash) error {
	cs := chunks(objs)
	for _, c := range cs[:len(cs)-1] {
		if err := s.send(ctx, "/v1/store/put", nil, c); err != nil {
			return err
		}
	}
	return s.send(ctx, "/v1/store/commit", swapQuery(name, old, new), cs[len(cs)-1])
}

// DeleteRef implements backend.RefRepairer.
func (s *Store) DeleteRef(ctx context.Context, name string) error {
	return s.send(ctx, "/v1/store/deleteref", url.Values{"name": {name}}, nil)
}

// ListObjects implements backend.ObjectLister, streaming the hashes.
func (s *Store) ListObjects(ctx context.Context, prefix []byte, fn func(backend.Hash) error) error {
	return s.stream(ctx, "/v1/store/objects", url.Values{"prefix": {hex.EncodeToString(prefix)}}, func(br *bufio.Reader) error {
		h, err := readHash(br)
		if err != nil {
			return err
		}
		if err := fn(h); err != nil {
			return itemError{err}
		}
		return nil
	})
}

// DeleteObjects implements backend.ObjectDeleter.
func (s *Store) DeleteObjects(ctx context.Context, hs []backend.Hash) error {
	for start := 0; start < len(hs); start += MaxBatch {
		part := hs[start:min(start+MaxBatch, len(hs))]
		resp, err := s.do(ctx, http.MethodPost, "/v1/store/delete", nil, hashesBody(part))
		if err != nil {
			return err
		}
		drain(resp.Body)
	}
	if len(hs) == 0 {
		return s.alive(ctx)
	}
	return nil
}

// alive returns the error a call with no work returns: ErrClosed after
// Close, or ctx's error.
func (s *Store) alive(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("%s: %w", s.where, backend.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", s.where, err)
	}
	return nil
}

// watchBuffer is the number of events a watch channel buffers.
const watchBuffer = 1024

// WatchRefs implements backend.RefWatcher with one streaming request: it
// returns once the server has subscribed, so every swap after it returns
// is reported. The channel is closed when ctx is done, at Close, and also
// when the stream ends otherwise: the server went away, sent nothing (not
// even a heartbeat) for three heartbeat intervals, or ended the stream
// because this client fell behind. A consumer that sees the channel
// closed while its ctx is not done must re-read refs and watch again.
func (s *Store) WatchRefs(ctx context.Context, prefix string) (<-chan backend.RefEvent, error) {
	wctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.done, cancel)
	resp, err := s.do(wctx, http.MethodGet, "/v1/store/watch", url.Values{"prefix": {prefix}}, nil)
	if err != nil {
		stop()
		cancel()
		return nil, err
	}
	br := bufio.NewReader(resp.Body)
	idle := time.AfterFunc(3*defaultHeartbeat, cancel)
	t, err := br.ReadByte()
	var ms uint64
	if err == nil && t == frameReady {
		ms, err = binary.ReadUvarint(br)
	}
	if err != nil || t != frameReady {
		idle.Stop()
		stop()
		cancel()
		resp.Body.Close()
		if err == nil {
			err = fmt.Errorf("frame %q instead of ready", t)
		}
		return nil, s.transportError(ctx, fmt.Errorf("watch: %w", err))
	}
	// No frame for three heartbeats: the server or the network is gone.
	quiet := 3 * max(time.Duration(min(ms, 1<<40))*time.Millisecond, 100*time.Millisecond)
	ch := make(chan backend.RefEvent, watchBuffer)
	go func() {
		defer close(ch)
		defer stop()
		defer cancel()
		defer idle.Stop()
		defer resp.Body.Close()
		for {
			t, err := br.ReadByte()
			if err != nil {
				return
			}
			idle.Reset(quiet)
			switch t {
			case frameHeartbeat:
			case frameEvent:
				name, err := readBytes(br, maxName)
				if err != nil {
					return
				}
				var ev backend.RefEvent
				ev.Name = string(name)
				if ev.Old, err = readHash(br); err != nil {
					return
				}
				if ev.New, err = readHash(br); err != nil {
					return
				}
				select {
				case ch <- ev:
				case <-wctx.Done():
					return
				}
			default: // overflow, or a frame this version does not know
				return
			}
		}
	}()
	return ch, nil
}

// defaultHeartbeat bounds the wait for the ready frame of a watch, as
// three of the default heartbeat intervals.
const defaultHeartbeat = 15 * time.Second
