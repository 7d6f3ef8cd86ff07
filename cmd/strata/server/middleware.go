package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus collectors, registered in the
// server's own registry (so that many servers can live in one process) and
// served at /metrics. Other files of the package update them: commits
// (each write that made a commit), objectsSent (objects served by the HTTP
// store), watchClients (open watch streams).
type metrics struct {
	registry     *prometheus.Registry
	requests     *prometheus.CounterVec   // by route and status
	latency      *prometheus.HistogramVec // seconds, by route
	commits      prometheus.Counter
	objectsSent  prometheus.Counter
	watchClients prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_http_requests_total",
			Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "strata_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"route"}),
		commits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_commits_total",
			Help: "Writes (and merges) through the JSON API that succeeded; one that changed nothing counts too.",
		}),
		objectsSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_objects_sent_total",
			Help: "Objects sent to clients of the HTTP store.",
		}),
		watchClients: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "strata_watch_clients",
			Help: "Open watch streams: /v1/watch, the console's live updates (/-/events) and the HTTP store's ref watches (/v1/store/watch).",
		}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.commits, m.objectsSent, m.watchClients,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// handle registers h for pattern (a net/http.ServeMux pattern such as
// "GET /v1/values/{path...}") behind the middleware chain: panic recovery,
// one slog line per request, metrics by pattern, the request body limit
// (Options.MaxBody, 413), read and write deadlines of Options.RequestTimeout, and
// authentication: a request without a valid token gets 401 before h runs.
// h must still call s.authorize(w, r, true, branch) before any write.
// Use handleStream for long-lived responses and handlePublic for routes
// that need no token.
func (s *Server) handle(pattern string, h http.Handler) {
	s.register(pattern, s.chain(pattern, s.requireToken(h), true, true))
}

// handleStream is handle for a long-lived response (the watch stream):
// without the write deadline, and made a stream (see stream).
func (s *Server) handleStream(pattern string, h http.Handler) {
	s.register(pattern, s.chain(pattern, s.requireToken(s.stream(h)), false, true))
}

// stream is h as a long-lived response that lasts until its request's
// context is done: counted in the watch-clients gauge while it runs, and
// with a context that Drain also cancels, so it ends when the server shuts
// down. Every stream route goes through it: /v1/watch, the console's
// /-/events and the HTTP store's /v1/store/watch.
func (s *Server) stream(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.metrics.watchClients.Inc()
		defer s.metrics.watchClients.Dec()
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		go func() {
			select {
			case <-s.draining:
				cancel()
			case <-ctx.Done():
			}
		}()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// handlePublic is handle without authentication, for /healthz, /metrics
// and pages that must be reachable before signing in.
func (s *Server) handlePublic(pattern string, h http.Handler) {
	s.register(pattern, s.chain(pattern, h, true, true))
}

// register adds h to the mux and pattern to s.patterns.
func (s *Server) register(pattern string, h http.Handler) {
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(pattern, h)
}

// requireToken answers 401 to a request without a valid token.
func (s *Server) requireToken(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorize(w, r, false, "") {
			return
		}
		h.ServeHTTP(w, r)
	})
}

// authorize reports whether the request may go on: a read (write false)
// needs a valid token when the server has a tokens file; a write also needs
// a write token whose branch prefix admits branch ("" for a write not tied
// to a branch, such as creating a tag: only a token without a prefix
// may) and a server that is not read-only. Otherwise it answers 401 (no or
// unknown token, with WWW-Authenticate) or 403 and returns false. The
// token never appears in the answer.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, write bool, branch string) bool {
	g, ok := s.grant(r)
	if !ok {
		s.writeError(w, r, errUnauthorized)
		return false
	}
	if !write {
		return true
	}
	switch {
	case s.opts.ReadOnly:
		s.writeError(w, r, fmt.Errorf("%w: the server is read-only", errForbidden))
		return false
	case !g.Write:
		s.writeError(w, r, fmt.Errorf("%w: the token may only read", errForbidden))
		return false
	case !g.MayWrite(branch):
		what := "branch " + branch
		if branch == "" {
			what = "this (not limited to one branch)"
		}
		s.writeError(w, r, fmt.Errorf("%w: the token may not write %s", errForbidden, what))
		return false
	}
	return true
}

// recorder remembers the status and size of a response. It unwraps to the
// underlying writer, so http.ResponseController (flushing, deadlines)
// works through it.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(p)
	rec.bytes += int64(n)
	return n, err
}

// Flush lets streaming handlers flush without a ResponseController.
func (rec *recorder) Flush() {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	http.NewResponseController(rec.ResponseWriter).Flush()
}

func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// chain wraps h in the middleware every route shares: recovery, logging
// and metrics, and, if deadline is true, the read and write deadlines of
// Options.RequestTimeout and, if limitBody is true, the body limit of
// Options.MaxBody.
//
// The route's metrics are looked up once, at its first request (so that a
// route never requested has no series), not per request, and the request
// line is built only when the logger is enabled at Info: the chain's cost
// is on every write's round trip (docs/PERF.md, issue 13).
func (s *Server) chain(route string, h http.Handler, deadline, limitBody bool) http.Handler {
	latency := sync.OnceValue(func() prometheus.Observer { return s.metrics.latency.WithLabelValues(route) })
	requests := s.metrics.requests.MustCurryWith(prometheus.Labels{"route": route})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		if deadline && s.opts.RequestTimeout > 0 {
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(start.Add(s.opts.RequestTimeout))
			_ = rc.SetWriteDeadline(start.Add(s.opts.RequestTimeout))
		}
		if limitBody && r.Body != nil && s.opts.MaxBody > 0 {
			r.Body = http.MaxBytesReader(rec, r.Body, s.opts.MaxBody)
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.opts.Logger.ErrorContext(r.Context(), "panic serving request",
					"method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if rec.status == 0 {
					s.writeError(rec, r, fmt.Errorf("panic"))
				}
			}
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			d := time.Since(start)
			requests.WithLabelValues(strconv.Itoa(rec.status)).Inc()
			latency().Observe(d.Seconds())
			if s.opts.Logger.Enabled(r.Context(), slog.LevelInfo) {
				s.opts.Logger.InfoContext(r.Context(), "request",
					"method", r.Method, "path", logPath(r.URL), "status", rec.status,
					"bytes", rec.bytes, "duration", d, "remote", r.RemoteAddr)
			}
		}()
		h.ServeHTTP(rec, r)
	})
}

// logPath returns the path and query of u for a log line, with the value
// of a "token" parameter replaced by "xxxxx": a token never reaches a log.
func logPath(u *url.URL) string {
	if u.RawQuery == "" {
		return u.Path
	}
	q := u.Query()
	for k := range q {
		if strings.EqualFold(k, "token") {
			q.Set(k, "xxxxx")
		}
	}
	return u.Path + "?" + q.Encode()
}
