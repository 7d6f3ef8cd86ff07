package server

import (
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
	// WatchHeartbeat is the interval between the heartbeat comments of a
	// watch stream (watch.go). Zero or negative means DefaultWatchHeartbeat.
	WatchHeartbeat time.Duration
}

// DefaultWatchHeartbeat is the default of Options.WatchHeartbeat.
const DefaultWatchHeartbeat = 15 * time.Second

// Server serves one store over HTTP. It is safe for concurrent use.
type Server struct {
	kv   *strata.KV
	opts Options
	mux  *http.ServeMux
	// draining is closed by Drain: long-lived responses (watch streams)
	// end when it is.
	draining  chan struct{}
	drainOnce sync.Once
}

// New returns a server over kv. It does not close kv.
func New(kv *strata.KV, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.WatchHeartbeat <= 0 {
		opts.WatchHeartbeat = DefaultWatchHeartbeat
	}
	s := &Server{kv: kv, opts: opts, mux: http.NewServeMux(), draining: make(chan struct{})}
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
	s.apiRoutes()     // api.go: the JSON API
	s.watchRoutes()   // watch.go: the watch stream
	s.proofRoutes()   // proof.go: Merkle proofs
	s.storeRoutes()   // store.go: the HTTP store protocol
	s.consoleRoutes() // console.go: the web console
}

// grant returns what the request may do: auth.Full without a tokens file,
// else the grant of its token; ok is false for a missing or unknown token.
// A read-only server never grants a write.
func (s *Server) grant(r *http.Request) (g auth.Grant, ok bool) {
	g = auth.Full
	if s.opts.Tokens != nil {
		g, ok = s.opts.Tokens.Lookup(auth.Token(r))
		if !ok {
			return auth.Grant{}, false
		}
	}
	if s.opts.ReadOnly {
		g.Write = false
	}
	return g, true
}
