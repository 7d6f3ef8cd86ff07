package server

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/stratakv/strata"
)

// The error codes of the JSON API: the "code" member of every error body.
const (
	codeNotFound     = "not_found"
	codeInvalid      = "invalid"
	codeConflict     = "conflict"
	codeUnauthorized = "unauthorized"
	codeForbidden    = "forbidden"
	codeInternal     = "internal"
)

// Errors of the server itself, mapped by writeError like the store's
// sentinel errors.
var (
	// errInvalid is a request that does not parse: a bad query parameter,
	// JSON body or header (400).
	errInvalid = errors.New("invalid request")
	// errPrecondition is an If-Match that does not name the branch head
	// (412).
	errPrecondition = errors.New("precondition failed")
	// errForbidden is a write the token or the server does not allow (403).
	errForbidden = errors.New("forbidden")
	// errUnauthorized is a request without a valid token (401).
	errUnauthorized = errors.New("unauthorized: a valid bearer token is required")
	// errTooLarge is a request body over the size limit (413).
	errTooLarge = errors.New("request body too large")
)

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
	// Conflicts lists what a merge could not settle (409 from /v1/merge).
	Conflicts []conflictJSON `json:"conflicts,omitempty"`
}

// conflictJSON is one strata.Conflict in an error body.
type conflictJSON struct {
	Path   string   `json:"path"`
	Reason string   `json:"reason"`
	Detail string   `json:"detail"`
	Fields []string `json:"fields,omitempty"`
	Base   *string  `json:"base"`
	Ours   *string  `json:"ours"`
	Theirs *string  `json:"theirs"`
}

// status returns the HTTP status and code for err: the one place where
// errors become statuses. Unknown errors are 500 "internal".
func status(err error) (int, string) {
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, errUnauthorized):
		return http.StatusUnauthorized, codeUnauthorized
	case errors.Is(err, errForbidden), errors.Is(err, strata.ErrReadOnly):
		return http.StatusForbidden, codeForbidden
	case errors.Is(err, errPrecondition):
		return http.StatusPreconditionFailed, codeConflict
	case errors.As(err, &mbe), errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge, codeInvalid
	case errors.Is(err, strata.ErrNotFound) && !errors.Is(err, strata.ErrCorrupt):
		return http.StatusNotFound, codeNotFound
	case errors.Is(err, errInvalid), errors.Is(err, strata.ErrInvalidPath),
		errors.Is(err, strata.ErrInvalidBranch), errors.Is(err, strata.ErrInvalidRevision),
		errors.Is(err, strata.ErrInvalidValue), errors.Is(err, strata.ErrInvalidOption), errors.Is(err, strata.ErrInvalidURL),
		errors.Is(err, strata.ErrLimit):
		return http.StatusBadRequest, codeInvalid
	case errors.Is(err, strata.ErrExists), errors.Is(err, strata.ErrConflict):
		return http.StatusConflict, codeConflict
	case errors.Is(err, strata.ErrClosed):
		return http.StatusServiceUnavailable, codeInternal
	}
	return http.StatusInternalServerError, codeInternal
}

// writeError answers a request with err as a JSON error body
// {"error": "…", "code": "…"} and the status that err maps to: ErrNotFound
// 404, ErrInvalid* 400, ErrConflict and ErrExists 409 (a
// *strata.MergeConflictError adds "conflicts"), a failed If-Match 412,
// ErrReadOnly and a write the token may not do 403, a missing or unknown
// token 401 (with WWW-Authenticate: Bearer), a body over the limit 413,
// anything else 500. A 500 says only "internal error": its cause goes to
// the log, never to the client. Every handler reports errors through it.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, name := status(err)
	body := errorBody{Error: s.publicError(r, err), Code: name}
	var mce *strata.MergeConflictError
	if errors.As(err, &mce) {
		for _, c := range mce.Conflicts {
			body.Conflicts = append(body.Conflicts, conflictJSON{Path: c.Path, Reason: c.Reason.String(),
				Detail: c.Detail, Fields: c.Fields, Base: valueString(c.Base), Ours: valueString(c.Ours),
				Theirs: valueString(c.Theirs)})
		}
	}
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="strata"`)
	}
	writeJSON(w, code, body)
}

// publicError returns the message of err fit for the client: err's own
// for an error of the client's (status below 500); for a server error,
// "internal error" (or "store closed"), after logging err, whose text may
// name files, hosts or other internals.
func (s *Server) publicError(r *http.Request, err error) string {
	code, _ := status(err)
	if code < 500 {
		return err.Error()
	}
	s.opts.Logger.ErrorContext(r.Context(), "request failed",
		"method", r.Method, "path", r.URL.Path, "err", err.Error())
	if code == http.StatusServiceUnavailable {
		return "store closed"
	}
	return "internal error"
}

// valueString returns v's bytes as a string, or nil for no value.
func valueString(v *strata.Value) *string {
	if v == nil {
		return nil
	}
	s := string(v.Data)
	return &s
}

// writeJSON answers with status and v encoded as JSON (Content-Type
// application/json). An encoding error after the header is written cannot
// be reported and is dropped.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}
