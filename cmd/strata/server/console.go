package server

import (
	"context"
	"net/http"

	"github.com/stratakv/strata/cmd/strata/console"
)

// consoleRoutes mounts the web console (package console) at "/": every
// path no other route claims. The console checks tokens itself (it sends a
// visitor without one to its sign-in page), so its routes are public to
// the middleware; its live-update stream has no time limit.
func (s *Server) consoleRoutes() {
	h := console.New(s.kv, console.Options{
		Tokens:   s.opts.Tokens,
		ReadOnly: s.opts.ReadOnly,
		Logger:   s.opts.Logger,
	})
	s.handlePublic("/", h)
	s.register("GET /-/events", s.chain("GET /-/events", s.untilDrain(s.countStream(h)), false, true))
}

// untilDrain runs h with a request context that is also cancelled by
// Drain, so that a long-lived response h serves until its context is done
// ends when the server shuts down.
func (s *Server) untilDrain(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
