package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/cmd/strata/server/auth"
)

//go:embed templates static
var assets embed.FS

// Options configure the console. The zero value lets everyone read and
// write, with default page sizes, and discards logs.
type Options struct {
	// Tokens, if not nil, is required to see any page: a visitor without a
	// known token is sent to /signin. nil lets everyone read and write.
	Tokens *auth.Tokens
	// ReadOnly hides every form and refuses every write, whatever the token.
	ReadOnly bool
	// Logger receives errors that are not the visitor's fault; nil discards.
	Logger *slog.Logger
	// PageSize is the number of directory entries or commits on one page;
	// 0 means 100.
	PageSize int
}

// sidCookie holds a random per-browser value that CSRF tokens are bound to.
const sidCookie = "strata_console"

type console struct {
	kv      *strata.KV
	opts    Options
	tmpl    map[string]*template.Template
	csrfKey []byte
	mux     *http.ServeMux
}

// New returns the console over kv as an http.Handler that expects to be
// mounted at "/". It does not close kv. It is safe for concurrent use.
func New(kv *strata.KV, opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	c := &console{kv: kv, opts: opts, mux: http.NewServeMux(), csrfKey: make([]byte, 32)}
	_, _ = rand.Read(c.csrfKey) // never fails (crypto/rand crashes the program instead)
	c.tmpl = parseTemplates()
	c.routes()
	return c
}

// AssetsFS returns the files the console embeds (templates and static
// files), for measuring and testing.
func AssetsFS() fs.FS { return assets }

func (c *console) routes() {
	static, _ := fs.Sub(assets, "static")
	fileServer := http.StripPrefix("/-/static/", http.FileServerFS(static))
	c.mux.Handle("GET /-/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(w, r)
	}))
	c.mux.HandleFunc("GET /signin", c.signinPage)
	c.mux.HandleFunc("POST /signin", c.signin)
	c.mux.HandleFunc("POST /signout", c.signout)

	c.mux.Handle("GET /{$}", c.read(c.branchesPage))
	c.mux.Handle("GET /branches", c.read(c.branchesPage))
	c.mux.Handle("POST /branches", c.write(c.createBranch))
	c.mux.Handle("POST /branches/delete", c.write(c.deleteBranch))
	c.mux.Handle("GET /tree/{rev}", c.read(c.treePage))
	c.mux.Handle("GET /tree/{rev}/{path...}", c.read(c.treePage))
	c.mux.Handle("GET /value/{rev}/{path...}", c.read(c.valuePage))
	c.mux.Handle("GET /raw/{rev}/{path...}", c.read(c.rawValue))
	c.mux.Handle("GET /log/{rev}", c.read(c.logPage))
	c.mux.Handle("GET /commit/{rev}", c.read(c.commitPage))
	c.mux.Handle("GET /compare/{spec}", c.read(c.comparePage))
	c.mux.Handle("GET /compare", c.read(c.compareForm))
	c.mux.Handle("GET /edit/{branch}", c.read(c.editPage))
	c.mux.Handle("GET /edit/{branch}/{path...}", c.read(c.editPage))
	c.mux.Handle("POST /edit/{branch}", c.write(c.edit))
	c.mux.Handle("GET /-/events", c.read(c.events))
	c.mux.Handle("/", c.read(func(w http.ResponseWriter, r *http.Request, s *session) {
		c.fail(w, r, s, http.StatusNotFound, "No such page", fmt.Errorf("nothing is served at %s", r.URL.Path))
	}))
}

func (c *console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	c.mux.ServeHTTP(w, r)
}

// session is what the console knows about a request's visitor.
type session struct {
	Grant    auth.Grant
	SignedIn bool   // a known token came with the request
	Open     bool   // the server has no tokens: everyone reads and writes
	SID      string // the per-browser CSRF cookie's value ("" until set)
	CSRF     string // the CSRF token forms must carry
}

// MayWrite reports whether the visitor may write branch.
func (s *session) MayWrite(branch string) bool { return s.Grant.MayWrite(branch) }

type pageFunc func(http.ResponseWriter, *http.Request, *session)

// session works out the visitor of r; ok is false if the server has tokens
// and r carries none that is known.
func (c *console) session(w http.ResponseWriter, r *http.Request) (s *session, ok bool) {
	s = &session{Grant: auth.Full, Open: c.opts.Tokens == nil}
	token := auth.Token(r)
	if c.opts.Tokens != nil {
		g, known := c.opts.Tokens.Lookup(token)
		if !known {
			return s, false
		}
		s.Grant, s.SignedIn = g, true
	}
	if c.opts.ReadOnly {
		s.Grant.Write = false
	}
	s.SID = browserID(w, r)
	s.CSRF = c.csrfFor(s.SID, token)
	return s, true
}

// browserID returns the value of r's per-browser cookie; if r has none
// and w is not nil, it makes one and sets it on w ("" if w is nil).
func browserID(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(sidCookie); err == nil && ck.Value != "" {
		return ck.Value
	}
	if w == nil {
		return ""
	}
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	sid := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: sidCookie, Value: sid, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	return sid
}

// signinCSRF is the pre-session CSRF token of the sign-in form of a
// browser (sid): it keeps another site from signing a visitor in with the
// other site's token (login CSRF).
func (c *console) signinCSRF(sid string) string {
	m := hmac.New(sha256.New, c.csrfKey)
	m.Write([]byte("signin\x00"))
	m.Write([]byte(sid))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfFor is the CSRF token of a browser (sid) signed in with token.
func (c *console) csrfFor(sid, token string) string {
	m := hmac.New(sha256.New, c.csrfKey)
	m.Write([]byte(sid))
	m.Write([]byte{0})
	m.Write([]byte(token))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// read serves a page to every visitor who may read: others are sent to
// the sign-in page.
func (c *console) read(fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := c.session(w, r)
		if !ok {
			if r.URL.Path == "/-/events" {
				http.Error(w, "sign in first", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		fn(w, r, s)
	})
}

// write serves a form post: it needs a known token (on a server with
// tokens), write access (checked per branch by fn) and the CSRF token.
func (c *console) write(fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 32<<20)
		s, ok := c.session(nil, r)
		if !ok {
			c.fail(w, r, s, http.StatusUnauthorized, "Sign in first", errors.New("writing needs a token: sign in"))
			return
		}
		if err := r.ParseForm(); err != nil {
			c.fail(w, r, s, http.StatusBadRequest, "Bad form", err)
			return
		}
		got := r.PostForm.Get("csrf")
		if s.SID == "" || got == "" || !hmac.Equal([]byte(got), []byte(s.CSRF)) {
			c.fail(w, r, s, http.StatusForbidden, "Refused",
				errors.New("the form's CSRF token is missing or wrong: reload the page and try again"))
			return
		}
		if c.opts.ReadOnly {
			c.fail(w, r, s, http.StatusForbidden, "Read-only", errors.New("this server is read-only"))
			return
		}
		fn(w, r, s)
	})
}

// signinPage serves the sign-in form, with a pre-session CSRF token bound
// to the per-browser cookie, which it sets if the browser has none.
func (c *console) signinPage(w http.ResponseWriter, r *http.Request) {
	s, _ := c.session(w, r)
	if s.SID == "" {
		s.SID = browserID(w, r)
	}
	c.render(w, r, http.StatusOK, "signin", &page{Title: "Sign in", S: s, Data: map[string]any{
		"Next": safeNext(r.URL.Query().Get("next")), "Error": "", "CSRF": c.signinCSRF(s.SID),
	}})
}

func (c *console) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	_ = r.ParseForm()
	token := strings.TrimSpace(r.PostForm.Get("token"))
	next := safeNext(r.PostForm.Get("next"))
	s := &session{Open: c.opts.Tokens == nil}
	if c.opts.Tokens == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.SID = browserID(nil, r)
	if got := r.PostForm.Get("csrf"); s.SID == "" || got == "" || !hmac.Equal([]byte(got), []byte(c.signinCSRF(s.SID))) {
		c.fail(w, r, s, http.StatusForbidden, "Refused",
			errors.New("the sign-in form's CSRF token is missing or wrong: reload the sign-in page and try again"))
		return
	}
	if _, ok := c.opts.Tokens.Lookup(token); !ok {
		c.render(w, r, http.StatusUnauthorized, "signin", &page{Title: "Sign in", S: s, Data: map[string]any{
			"Next": next, "Error": "That token is not known to this server.", "CSRF": c.signinCSRF(s.SID),
		}})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: auth.CookieName, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signout forgets the visitor's token. A signed-in visitor's form must
// carry the CSRF token, so that another page cannot sign them out.
func (c *console) signout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	_ = r.ParseForm()
	if s, ok := c.session(nil, r); ok && s.SignedIn && !hmac.Equal([]byte(r.PostForm.Get("csrf")), []byte(s.CSRF)) {
		c.fail(w, r, s, http.StatusForbidden, "Refused",
			errors.New("the form's CSRF token is missing or wrong: reload the page and try again"))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: auth.CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// safeNext keeps a redirect target on this server: a path that starts
// with one '/' and holds no backslash or control character (a browser
// drops tabs and newlines from a URL and reads a backslash as '/', so that
// "/\t/evil.example" would lead to another host).
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return r == '\\' || r < 0x20 || r == 0x7f }) {
		return "/"
	}
	return next
}

// status maps an error to an HTTP status: a bad revision, path, name or
// option is 400, a missing one 404 (but a missing object a stored link
// names, ErrMissing, is damage: 500), a lost race 409, a closed store 503.
func status(err error) int {
	switch {
	case errors.Is(err, strata.ErrInvalidRevision), errors.Is(err, strata.ErrInvalidPath),
		errors.Is(err, strata.ErrInvalidBranch), errors.Is(err, strata.ErrInvalidValue),
		errors.Is(err, strata.ErrInvalidOption), errors.Is(err, strata.ErrLimit):
		return http.StatusBadRequest
	case errors.Is(err, strata.ErrClosed):
		return http.StatusServiceUnavailable
	case errors.Is(err, strata.ErrNotFound) && !errors.Is(err, strata.ErrCorrupt):
		return http.StatusNotFound
	case errors.Is(err, strata.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, strata.ErrReadOnly):
		return http.StatusForbidden
	case errors.Is(err, context.Canceled):
		return 499
	}
	return http.StatusInternalServerError
}

// failErr renders the error page for err with the status it maps to.
func (c *console) failErr(w http.ResponseWriter, r *http.Request, s *session, err error) {
	code := status(err)
	title := http.StatusText(code)
	switch code {
	case http.StatusBadRequest:
		title = "Bad request"
	case http.StatusNotFound:
		title = "Not found"
	}
	c.fail(w, r, s, code, title, err)
}

// fail renders the error page with code, title and err's message. A
// server error (code 500 and above) shows only "internal error": its cause,
// which may name files, hosts or other internals, goes to the log.
func (c *console) fail(w http.ResponseWriter, r *http.Request, s *session, code int, title string, err error) {
	msg := c.publicError(r, code, err)
	if s == nil {
		s = &session{}
	}
	c.render(w, r, code, "error", &page{Title: title, S: s, Data: map[string]any{"Code": code, "Err": msg}})
}

// publicError returns the message of err fit for a visitor: err's own for
// a client error, "internal error" (after logging err) for a server error.
func (c *console) publicError(r *http.Request, code int, err error) string {
	if code < 500 {
		return err.Error()
	}
	c.opts.Logger.Error("console", "path", r.URL.Path, "err", err)
	return "internal error (the server's log has the cause)"
}
