package server

import "github.com/stratakv/strata/cmd/strata/console"

// consoleRoutes mounts the web console (package console) at "/": every
// path no other route claims. The console checks tokens itself (it sends a
// visitor without one to its sign-in page), so its routes are public to
// the middleware; its live-update stream is a stream (see stream).
func (s *Server) consoleRoutes() {
	h := console.New(s.kv, console.Options{
		Tokens:   s.opts.Tokens,
		ReadOnly: s.opts.ReadOnly,
		Logger:   s.opts.Logger,
	})
	s.handlePublic("/", h)
	s.register("GET /-/events", s.chain("GET /-/events", s.stream(h), false, true))
}
