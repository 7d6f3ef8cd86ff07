package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/httpstore"
	"github.com/stratakv/strata/branch"
	"github.com/stratakv/strata/internal/codec"
)

// storeRoutes mounts the HTTP store (package backend/httpstore, protocol
// in docs/PROTOCOL.md) at /v1/store/: the served store's two primitive
// stores, which make http:// and https:// store URLs. Objects put through
// it are verified to hash to their keys, so a client cannot store garbage
// under a hash; its requests are authorized by storeAccess. Its ref
// watches end when the server drains.
func (s *Server) storeRoutes() {
	h := httpstore.NewHandler(s.kv.Backend(), &httpstore.HandlerOptions{
		Authorize: s.storeAccess,
		Verify:    codec.Sum,
		Done:      s.draining,
		Logger:    s.opts.Logger,
	})
	// Like a stream: no time limit (its ref watches last as long as the
	// client wants) and no body limit of the server's (the handler caps
	// its batches itself; docs/PROTOCOL.md).
	s.register("/v1/store/", s.chain("/v1/store/", s.requireToken(s.countStoreWatch(h)), false, false))
}

// storeAccess authorizes a request to the HTTP store by the request's
// grant: every valid token reads; storing objects (harmless without a
// ref) needs a write grant; moving a branch ref ("heads/NAME") needs a
// grant that may write that branch; moving any other ref (tags, remotes)
// or deleting objects needs a write grant without a branch prefix. A
// read-only server refuses every write with backend.ErrReadOnly.
func (s *Server) storeAccess(r *http.Request, a httpstore.Access) error {
	g, ok := s.grant(r)
	if !ok {
		return httpstore.ErrUnauthorized
	}
	if !a.Write {
		return nil
	}
	if s.opts.ReadOnly {
		return fmt.Errorf("the server is read-only: %w", backend.ErrReadOnly)
	}
	switch name, isBranch := strings.CutPrefix(a.Ref, branch.RefPrefix); {
	case a.Ref == "" && !a.DeleteObjects:
		if g.Write {
			return nil
		}
	case isBranch:
		if g.MayWrite(name) {
			return nil
		}
		return fmt.Errorf("%w: the token may not write branch %q", httpstore.ErrForbidden, name)
	default:
		if g.MayWrite("") {
			return nil
		}
	}
	return fmt.Errorf("%w: the token may not do this write", httpstore.ErrForbidden)
}

// countStoreWatch is h with the HTTP store's watch requests made streams
// (see stream).
func (s *Server) countStoreWatch(h http.Handler) http.Handler {
	counted := s.stream(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/store/watch" {
			counted.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}
