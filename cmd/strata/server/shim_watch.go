package server

// TEMPORARY file: minimal versions of helpers the serve helper adds to
// this package (middleware.go, errors.go, api.go), so that watch.go and
// proof.go build on the watch branch. It is replaced by the serve helper's
// versions at merge: delete this file then.

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"unicode/utf8"

	"github.com/stratakv/strata"
)

const defaultBranch = "main"

func (s *Server) handle(pattern string, h http.Handler)       { s.mux.Handle(pattern, h) }
func (s *Server) handleStream(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, name := http.StatusInternalServerError, "internal"
	switch {
	case errors.Is(err, strata.ErrNotFound) && !errors.Is(err, strata.ErrCorrupt):
		code, name = http.StatusNotFound, "not_found"
	case errors.Is(err, strata.ErrInvalidPath), errors.Is(err, strata.ErrInvalidBranch),
		errors.Is(err, strata.ErrInvalidRevision):
		code, name = http.StatusBadRequest, "invalid"
	}
	writeJSON(w, code, map[string]string{"error": err.Error(), "code": name})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request, write bool, branch string) bool {
	g, ok := s.grant(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "a valid bearer token is required", "code": "unauthorized"})
		return false
	}
	if write && !g.MayWrite(branch) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "forbidden", "code": "forbidden"})
		return false
	}
	return true
}

func query(r *http.Request, name, def string) string {
	if v := r.URL.Query().Get(name); v != "" {
		return v
	}
	return def
}

type changeJSON struct {
	Op        string  `json:"op"`
	Path      string  `json:"path"`
	Old       *string `json:"old,omitempty"`
	New       *string `json:"new,omitempty"`
	OldBase64 *string `json:"oldBase64,omitempty"`
	NewBase64 *string `json:"newBase64,omitempty"`
}

func bytesJSON(b []byte) (text, b64 *string) {
	if b == nil {
		return nil, nil
	}
	if utf8.Valid(b) {
		s := string(b)
		return &s, nil
	}
	s := base64.StdEncoding.EncodeToString(b)
	return nil, &s
}
