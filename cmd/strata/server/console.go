package server

import "github.com/stratakv/strata/cmd/strata/console"

// consoleRoutes mounts the web console (package console) at "/": every
// path no other route claims.
func (s *Server) consoleRoutes() {
	s.mux.Handle("/", console.New(s.kv, console.Options{
		Tokens:   s.opts.Tokens,
		ReadOnly: s.opts.ReadOnly,
		Logger:   s.opts.Logger,
	}))
}
