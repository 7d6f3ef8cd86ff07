package server

import "net/http"

// proofRoutes registers this file's routes.
func (s *Server) proofRoutes() {
	s.handle("GET /v1/proof/{path...}", http.HandlerFunc(s.proof))
}

// proof serves GET /v1/proof/{path...}?at=REV (default main): the Merkle
// proof of the value at path in revision REV, in its serialized form
// {"commit":HASH,"path":…,"objects":[base64…]} (docs/FORMAT.md), with
// ETag "<commit>". A client checks it with strata.VerifyProof against a
// commit hash it trusts. When nothing is at path, the answer is still 200
// with a proof of absence. Errors: 400 for a bad path or revision, 404 for
// an unknown revision. It needs read access.
func (s *Server) proof(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, false, "") {
		return
	}
	p, err := s.kv.Prove(r.Context(), query(r, "at", defaultBranch), r.PathValue("path"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", `"`+p.Commit.String()+`"`)
	writeJSON(w, http.StatusOK, p)
}
