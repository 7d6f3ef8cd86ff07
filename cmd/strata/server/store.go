package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/httpstore"
	"github.com/stratakv/strata/branch"
	"github.com/stratakv/strata/commit"
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
// read-only server refuses every write with backend.ErrReadOnly. A ref
// write whose name breaks the naming rules of its namespace (checkRefName)
// is refused with an error wrapping httpstore.ErrInvalid (400), except a
// deleteref (the repair of a damaged ref), which removes such a ref for a
// write grant without a branch prefix.
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
	if a.Ref != "" {
		if err := checkRefName(a.Ref); err != nil {
			if r.URL.Path != "/v1/store/deleteref" {
				return fmt.Errorf("%w: ref %q: %w", httpstore.ErrInvalid, a.Ref, err)
			}
			if g.MayWrite("") {
				return nil
			}
			return fmt.Errorf("%w: the token may not delete ref %q, whose name is invalid", httpstore.ErrForbidden, a.Ref)
		}
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

// checkRefName checks a ref name by the rules of its namespace
// (docs/FORMAT.md, "Refs"): "heads/BRANCH" and "tags/TAG" by
// branch.ValidateName's rules, "remotes/REMOTE/BRANCH" and
// "remote-urls/REMOTE" with a remote name of those rules without '/',
// "shallow/HASH" and "graph/HASH" with 64 hexadecimal digits; a name in
// any other namespace must itself follow branch.ValidateName's rules. It
// returns nil for a good name, else an error that says why.
func checkRefName(ref string) error {
	if name, ok := strings.CutPrefix(ref, branch.RefPrefix); ok {
		return branch.ValidateName(name)
	}
	if name, ok := strings.CutPrefix(ref, "tags/"); ok {
		return branch.ValidateRefName("tag", name)
	}
	if name, ok := strings.CutPrefix(ref, "remotes/"); ok {
		rem, br, ok := strings.Cut(name, "/")
		if !ok {
			return fmt.Errorf("invalid remote-tracking ref name: %q is not REMOTE/BRANCH", name)
		}
		if err := branch.ValidateRemoteName(rem); err != nil {
			return err
		}
		return branch.ValidateName(br)
	}
	if name, ok := strings.CutPrefix(ref, "remote-urls/"); ok {
		return branch.ValidateRemoteName(name)
	}
	for _, ns := range []string{"shallow/", commit.GraphRefPrefix} {
		if name, ok := strings.CutPrefix(ref, ns); ok {
			if _, err := backend.ParseHash(name); err != nil {
				return fmt.Errorf("invalid %sHASH ref name: %q is not 64 hexadecimal digits", ns, name)
			}
			return nil
		}
	}
	return branch.ValidateRefName("ref", ref)
}
