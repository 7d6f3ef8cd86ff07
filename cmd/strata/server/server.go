package server

import (
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/cmd/strata/server/auth"
)

// Options configure a Server. The zero value serves everything to everyone
// with default limits and discards logs.
type Options struct {
	// Tokens, if not nil, is required of every request except /healthz;
	// nil lets every request read and write.
	Tokens *auth.Tokens
	// ReadOnly refuses every write, whatever the token.
	ReadOnly bool
	// Logger receives one structured line per request; nil discards.
	Logger *slog.Logger
	// MaxBody limits the size of a request body in bytes; a larger body is
	// refused with 413. Zero means DefaultMaxBody; negative, no limit.
	MaxBody int64
	// RequestTimeout limits the time to answer a request (the write
	// deadline of every route but streams). Zero means
	// DefaultRequestTimeout; negative, no limit.
	RequestTimeout time.Duration
	// WatchHeartbeat is the interval between the heartbeat comments of a
	// watch stream (watch.go). Zero or negative means DefaultWatchHeartbeat.
	WatchHeartbeat time.Duration
	// MaxLog caps the commits one /v1/log answers (?n=0 and any larger n
	// mean MaxLog). Zero or negative means DefaultMaxLog.
	MaxLog int
	// MaxLogWalk caps the generations a /v1/log?path= walks below its
	// revision looking for commits that changed the path. Zero or
	// negative means DefaultMaxLogWalk.
	MaxLogWalk int
	// MaxDiff caps the changes one /v1/diff answers. Zero or negative
	// means DefaultMaxDiff.
	MaxDiff int
}

// The defaults of Options.
const (
	DefaultMaxBody        = 64 << 20
	DefaultRequestTimeout = 5 * time.Minute
	DefaultWatchHeartbeat = 15 * time.Second
	DefaultMaxLog         = 10000
	DefaultMaxLogWalk     = 100000
	DefaultMaxDiff        = 10000
)

// Server serves one store over HTTP. It is safe for concurrent use.
type Server struct {
	kv      *strata.KV
	opts    Options
	mux     *http.ServeMux
	metrics *metrics
	// draining is closed by Drain: long-lived responses (watch streams)
	// end when it is.
	draining  chan struct{}
	drainOnce sync.Once
	// patterns lists every registered route pattern, for the test that
	// holds them against the OpenAPI document.
	patterns []string
}

// New returns a server over kv. It does not close kv.
func New(kv *strata.KV, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBody == 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.RequestTimeout == 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.WatchHeartbeat <= 0 {
		opts.WatchHeartbeat = DefaultWatchHeartbeat
	}
	if opts.MaxLog <= 0 {
		opts.MaxLog = DefaultMaxLog
	}
	if opts.MaxLogWalk <= 0 {
		opts.MaxLogWalk = DefaultMaxLogWalk
	}
	if opts.MaxDiff <= 0 {
		opts.MaxDiff = DefaultMaxDiff
	}
	s := &Server{kv: kv, opts: opts, mux: http.NewServeMux(), metrics: newMetrics(), draining: make(chan struct{})}
	s.routes()
	return s
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// Drain ends long-lived responses, such as watch streams, so that
// http.Server.Shutdown, which waits for every response to end, can finish;
// register it with http.Server.RegisterOnShutdown. Other requests are not
// affected. It is idempotent and safe for concurrent use.
func (s *Server) Drain() { s.drainOnce.Do(func() { close(s.draining) }) }

// routes registers every route; each group lives in its own file.
func (s *Server) routes() {
	s.handlePublic("GET /healthz", http.HandlerFunc(s.healthz))
	s.handlePublic("GET /metrics", s.metrics.handler())
	s.apiRoutes()     // api.go: the JSON API
	s.watchRoutes()   // watch.go: the watch stream
	s.proofRoutes()   // proof.go: Merkle proofs
	s.storeRoutes()   // store.go: the HTTP store protocol
	s.consoleRoutes() // console.go: the web console
}

// grant returns what the request may do: auth.Full without a tokens file,
// else the grant of its bearer token (never the console's cookie: see
// auth.BearerToken); ok is false for a missing or unknown token.
// A read-only server never grants a write.
func (s *Server) grant(r *http.Request) (g auth.Grant, ok bool) {
	g = auth.Full
	if s.opts.Tokens != nil {
		g, ok = s.opts.Tokens.Lookup(auth.BearerToken(r))
		if !ok {
			return auth.Grant{}, false
		}
	}
	if s.opts.ReadOnly {
		g.Write = false
	}
	return g, true
}

// healthz answers 200 "ok" while the store answers, 503 otherwise. It
// reads one ref (the default branch's; absent is healthy), so that an
// unauthenticated probe costs the same however many branches there are.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if _, err := s.kv.Branch(defaultBranch).Head(r.Context()); err != nil && !errors.Is(err, strata.ErrNotFound) {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}
