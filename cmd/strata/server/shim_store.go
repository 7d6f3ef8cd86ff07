package server

// Temporary, replaced by the serve helper's versions at merge: minimal
// stand-ins for the server's shared helpers so that store.go builds and is
// tested on its own branch.

import (
	"encoding/json"
	"net/http"
)

// handle registers h for pattern (temporary, replaced by the serve
// helper's versions at merge).
func (s *Server) handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// writeError answers err (temporary, replaced by the serve helper's
// versions at merge).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error(), "code": "internal"})
}

// writeJSON answers v as JSON (temporary, replaced by the serve helper's
// versions at merge).
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// authorize checks a request's grant (temporary, replaced by the serve
// helper's versions at merge).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, write bool, branch string) bool {
	g, ok := s.grant(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "code": "unauthorized"})
		return false
	}
	if write && !g.MayWrite(branch) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "forbidden", "code": "forbidden"})
		return false
	}
	return true
}
