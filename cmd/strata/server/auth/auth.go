// Package auth decides what a request to strata serve may do: it reads a
// tokens file and maps a bearer token to a Grant.
//
// A tokens file holds one token per line:
//
//	TOKEN read|write [BRANCH-PREFIX]
//
// Blank lines and lines starting with '#' are ignored; a token may be
// listed once. A write token with a branch prefix may write only branches
// whose names start with that prefix (it may read everything). Tokens are compared in constant time and never
// appear in an error message.
package auth

import (
	"bufio"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// ErrInvalidTokens reports a tokens file that does not parse.
var ErrInvalidTokens = errors.New("invalid tokens file")

// CookieName is the cookie in which the web console keeps a signed-in
// token; Token reads it when a request has no Authorization header.
const CookieName = "strata_token"

// Grant is what a token allows.
type Grant struct {
	// Write allows writes; without it a token only reads.
	Write bool
	// BranchPrefix, if not empty, limits writes to branches whose names
	// start with it.
	BranchPrefix string
}

// Full is the grant of a server without a tokens file: read and write
// everything.
var Full = Grant{Write: true}

// MayWrite reports whether g allows writing branch (or, for a write not
// tied to a branch such as creating a tag, an empty branch name: then only
// a grant without a branch prefix allows it).
func (g Grant) MayWrite(branch string) bool {
	if !g.Write {
		return false
	}
	if g.BranchPrefix == "" {
		return true
	}
	return branch != "" && strings.HasPrefix(branch, g.BranchPrefix)
}

type entry struct {
	token []byte
	grant Grant
}

// Tokens is a parsed tokens file. It is safe for concurrent use.
type Tokens struct {
	entries []entry
}

// Load reads a tokens file.
func Load(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokens file: %w", err)
	}
	defer f.Close()
	t, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("tokens file %s: %w", path, err)
	}
	return t, nil
}

// Parse reads tokens from r. Errors name the line, never the token.
func Parse(r io.Reader) (*Tokens, error) {
	t := &Tokens{}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || len(f) > 3 {
			return nil, fmt.Errorf("line %d: want TOKEN read|write [BRANCH-PREFIX]: %w", n, ErrInvalidTokens)
		}
		var g Grant
		switch f[1] {
		case "read":
		case "write":
			g.Write = true
		default:
			return nil, fmt.Errorf("line %d: access %q is neither read nor write: %w", n, f[1], ErrInvalidTokens)
		}
		if len(f) == 3 {
			g.BranchPrefix = f[2]
		}
		if _, dup := t.Lookup(f[0]); dup {
			return nil, fmt.Errorf("line %d: a token listed before (which grant would hold?): %w", n, ErrInvalidTokens)
		}
		t.entries = append(t.entries, entry{token: []byte(f[0]), grant: g})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(t.entries) == 0 {
		return nil, fmt.Errorf("no tokens: %w", ErrInvalidTokens)
	}
	return t, nil
}

// Lookup returns the grant of token. It compares token with every known
// token in constant time, so the time it takes does not say how much of a
// token was right.
func (t *Tokens) Lookup(token string) (Grant, bool) {
	var found Grant
	ok := 0
	for _, e := range t.entries {
		if subtle.ConstantTimeCompare(e.token, []byte(token)) == 1 {
			found, ok = e.grant, 1
		}
	}
	return found, ok == 1
}

// Token returns the token a request carries: from "Authorization: Bearer
// TOKEN", else from the console's cookie, else "". Only the console, whose
// forms carry a CSRF token, may accept the cookie: a browser sends it with
// requests another page of the same site makes.
func Token(r *http.Request) string {
	if r.Header.Get("Authorization") != "" {
		return BearerToken(r)
	}
	if c, err := r.Cookie(CookieName); err == nil {
		return c.Value
	}
	return ""
}

// BearerToken returns the token of the request's "Authorization: Bearer
// TOKEN" header, or "" without one. It ignores the console's cookie: the
// JSON API and the HTTP store use it, so that a page of another origin on
// the same site cannot make a signed-in browser write through them (a
// cross-site request forgery: SameSite cookies are still sent by the same
// site, e.g. another port of the same host).
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if h == "" {
		return ""
	}
	// The scheme is case-insensitive (RFC 9110, section 11.1).
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}
