package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/cmd/strata/console"
	"github.com/stratakv/strata/cmd/strata/server/auth"
)

// fetch does a request and returns the status and body.
func fetch(t *testing.T, c *http.Client, method, u string, form url.Values) (int, string, http.Header) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

// TestPages checks every page's status, and a piece of what it shows, on
// an open server (no tokens).
func TestPages(t *testing.T) {
	kv, h := newStore(t)
	srv := newServer(t, kv, console.Options{PageSize: 5})
	c := noRedirect()
	tests := []struct {
		path     string
		code     int
		contains []string
		lacks    []string
	}{
		{"/", 200, []string{">main<", ">feature<", ">team/x<", ">v1<", "merge feature into main", "Create branch"}, nil},
		{"/branches", 200, []string{">main<"}, nil},
		{"/tree/main", 200, []string{">config/<", ">big/<", ">README<", "text", "merge feature into main"}, nil},
		{"/tree/main/", 200, []string{">config/<"}, nil},
		// Page one of big: its first five names, directories first.
		{"/tree/main/big", 200, []string{">k00<", ">k04<", "after=k04"}, []string{">k05<", ">sub/<"}},
		{"/tree/main/big?after=k04", 200, []string{">k05<", ">k09<", "after=k09", "First page"}, []string{">k04<", ">k10<"}},
		{"/tree/main/big?after=k09", 200, []string{">sub/<", ">k10<", ">k11<", `href="/tree/main/">../<`}, []string{"after="}},
		{"/tree/main/big/sub", 200, []string{`href="/tree/main/big">../<`}, nil},
		{"/tree/team%2Fx/config", 200, []string{">app.json<", `href="/value/team%2Fx/config/app.json"`}, nil},
		{"/tree/v1/config", 200, []string{">app.json<"}, nil},
		{"/tree/" + h.root.String() + "/big/sub", 200, []string{">inner<"}, nil},
		{"/tree/main/nope", 404, []string{"404", "nope"}, nil},
		{"/tree/main~99", 404, []string{"404"}, nil},
		{"/tree/nobranch", 404, []string{"404"}, nil},
		{"/tree/main~x", 400, []string{"400", "invalid revision"}, nil},
		{"/tree/main/README", 302, nil, nil},
		{"/value/main/README", 200, []string{"line 2 changed", `id="L5"`, "second commit", "first commit"}, []string{"notes on main"}},
		{"/value/main/config/app.json", 200, []string{`&#34;port&#34;: 8080`, "json"}, nil},
		{"/value/v1/config/app.json", 200, []string{"&#34;port&#34;: 80</td>"}, nil},
		{"/value/main/bin/blob", 200, []string{"00 01 02 ff 61 62", "|....ab|"}, nil},
		{"/value/main/nope", 404, []string{"404"}, nil},
		{"/value/main/config", 302, nil, nil},
		{"/value/main~x/README", 400, []string{"400"}, nil},
		{"/raw/main/README", 200, []string{"strata console\nline 2 changed\nline three\nline four\nline five\n"}, nil},
		{"/raw/main/nope", 404, nil, nil},
		{"/raw/ma..in/README", 400, nil, nil},
		{"/log/main", 200, []string{"merge feature into main", "add a feature", "notes on main", "second commit", "first commit", "<svg", "merge</span>"}, nil},
		{"/log/main?path=README", 200, []string{"second commit", "first commit"}, []string{"notes on main", "add a feature"}},
		{"/log/main?path=../x", 400, nil, nil},
		{"/log/nobranch", 404, nil, nil},
		{"/log/main~x", 400, nil, nil},
		{"/commit/" + h.second.String(), 200, []string{"line 2 changed", "line two", "and a longer body", "db.host", "&#34;db1&#34;", "&#34;db2&#34;", "debug", "grace"}, nil},
		{"/commit/" + h.second.String() + "?view=split", 200, []string{`class="diff split"`, "line 2 changed"}, nil},
		{"/commit/" + h.root.String(), 200, []string{"none (a root commit)", "big/k00", "bin/blob", "Binary value"}, nil},
		{"/commit/main", 200, []string{"feature.txt", "a feature"}, nil},
		{"/commit/deadbeef", 404, nil, nil},
		{"/commit/main~x", 400, nil, nil},
		{"/compare/v1...main", 200, []string{"line 2 changed", "feature.txt", "notes on main", "add a feature"}, nil},
		{"/compare/v1...main?view=split", 200, []string{`class="diff split"`}, nil},
		{"/compare/main...feature", 200, []string{"notes"}, nil},
		{"/compare/v1", 400, nil, nil},
		{"/compare/v1...nobranch", 404, nil, nil},
		{"/compare/main~x...v1", 400, nil, nil},
		{"/compare", 200, []string{"Compare two revisions"}, nil},
		{"/compare?a=v1&b=team%2Fx", 302, nil, nil},
		{"/edit/main/README", 200, []string{"<textarea", "line 2 changed", `name="csrf"`, `name="head" value="` + mustHead(t, kv, "main")}, nil},
		{"/edit/main/big", 200, []string{"Add a value", `value="big/"`}, nil},
		{"/edit/main", 200, []string{"Add a value"}, nil},
		{"/edit/nobranch/README", 404, nil, nil},
		{"/edit/no..branch/README", 400, nil, nil},
		{"/signin", 200, []string{`name="token"`}, nil},
		{"/-/static/console.css", 200, []string{"--bg"}, nil},
		{"/-/static/console.js", 200, []string{"EventSource"}, nil},
		{"/-/static/nope.js", 404, nil, nil},
		{"/nothing/here", 404, []string{"404"}, nil},
		{"/-/events?branch=no..pe", 400, nil, nil},
	}
	for _, tc := range tests {
		code, body, hdr := fetch(t, c, "GET", srv.URL+tc.path, nil)
		if code != tc.code {
			t.Errorf("GET %s: status %d, want %d\n%s", tc.path, code, tc.code, body)
			continue
		}
		for _, s := range tc.contains {
			if !strings.Contains(body, s) {
				t.Errorf("GET %s: body lacks %q", tc.path, s)
			}
		}
		for _, s := range tc.lacks {
			if strings.Contains(body, s) {
				t.Errorf("GET %s: body has %q", tc.path, s)
			}
		}
		if strings.HasPrefix(hdr.Get("Content-Type"), "text/html") && hdr.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no Content-Security-Policy", tc.path)
		}
	}
}

func mustHead(t *testing.T, kv *strata.KV, branch string) string {
	t.Helper()
	h, err := kv.Branch(branch).Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

var (
	csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	headRE = regexp.MustCompile(`name="head" value="([0-9a-f]*)"`)
)

// signedIn returns a client with a cookie jar, signed in with token (none
// for "").
func signedIn(t *testing.T, base, token string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := noRedirect()
	c.Jar = jar
	if token != "" {
		code, body, hdr := fetch(t, c, "POST", base+"/signin", url.Values{"csrf": {signinForm(t, c, base)}, "token": {token}, "next": {"/tree/main"}})
		if code != http.StatusSeeOther || hdr.Get("Location") != "/tree/main" {
			t.Fatalf("sign in: %d %s\n%s", code, hdr.Get("Location"), body)
		}
		sc := hdr.Get("Set-Cookie")
		for _, want := range []string{auth.CookieName + "=", "HttpOnly", "SameSite=Strict", "Path=/"} {
			if !strings.Contains(sc, want) {
				t.Errorf("sign-in cookie %q lacks %q", sc, want)
			}
		}
	}
	return c
}

// signinForm loads the sign-in page with c (which keeps the per-browser
// cookie it sets) and returns the form's CSRF token.
func signinForm(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	code, body, _ := fetch(t, c, "GET", base+"/signin", nil)
	m := csrfRE.FindStringSubmatch(body)
	if code != 200 || m == nil {
		t.Fatalf("GET /signin: %d, csrf field %v\n%s", code, m, body)
	}
	return m[1]
}

// editForm loads the edit page and returns its CSRF token and head.
func editForm(t *testing.T, c *http.Client, u string) (csrf, head string) {
	t.Helper()
	code, body, _ := fetch(t, c, "GET", u, nil)
	if code != 200 {
		t.Fatalf("GET %s: %d\n%s", u, code, body)
	}
	m, n := csrfRE.FindStringSubmatch(body), headRE.FindStringSubmatch(body)
	if m == nil || n == nil {
		t.Fatalf("GET %s: no csrf or head field", u)
	}
	return m[1], n[1]
}

// TestSignInCSRF checks that POST /signin needs the pre-session CSRF
// token that GET /signin binds to the per-browser cookie, so that another
// site cannot sign a visitor in with its own token (login CSRF).
func TestSignInCSRF(t *testing.T) {
	kv, _ := newStore(t)
	srv := newServer(t, kv, console.Options{Tokens: testTokens(t)})
	newClient := func() *http.Client {
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		c := noRedirect()
		c.Jar = jar
		return c
	}
	signedInAs := func(c *http.Client) bool {
		code, _, _ := fetch(t, c, "GET", srv.URL+"/tree/main", nil)
		return code == 200
	}
	form := func(csrf string) url.Values {
		v := url.Values{"token": {readToken}, "next": {"/tree/main"}}
		if csrf != "" {
			v.Set("csrf", csrf)
		}
		return v
	}

	// A cross-site post: no per-browser cookie, no token.
	victim := newClient()
	if code, body, hdr := fetch(t, victim, "POST", srv.URL+"/signin", form("")); code != http.StatusForbidden || hdr.Get("Set-Cookie") != "" {
		t.Errorf("POST /signin without cookie or csrf: %d, Set-Cookie %q\n%s", code, hdr.Get("Set-Cookie"), body)
	}
	// The browser has the cookie (it saw the sign-in page) but the
	// attacker's form cannot know the token.
	csrf := signinForm(t, victim, srv.URL)
	if code, _, _ := fetch(t, victim, "POST", srv.URL+"/signin", form("")); code != http.StatusForbidden {
		t.Errorf("POST /signin without csrf: %d, want 403", code)
	}
	// Another browser's token does not fit this browser's cookie.
	other := newClient()
	if code, _, _ := fetch(t, victim, "POST", srv.URL+"/signin", form(signinForm(t, other, srv.URL))); code != http.StatusForbidden {
		t.Errorf("POST /signin with another browser's csrf: %d, want 403", code)
	}
	if signedInAs(victim) {
		t.Fatal("signed in after refused posts")
	}
	// With the form's own token: signed in.
	if code, _, hdr := fetch(t, victim, "POST", srv.URL+"/signin", form(csrf)); code != http.StatusSeeOther || hdr.Get("Location") != "/tree/main" {
		t.Fatalf("POST /signin with csrf: %d to %q", code, hdr.Get("Location"))
	}
	if !signedInAs(victim) {
		t.Fatal("not signed in after a post with the csrf token")
	}
}

func TestSignInAndGrants(t *testing.T) {
	kv, _ := newStore(t)
	srv := newServer(t, kv, console.Options{Tokens: testTokens(t)})

	anon := signedIn(t, srv.URL, "")
	code, _, hdr := fetch(t, anon, "GET", srv.URL+"/tree/main", nil)
	if code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/signin?next=") {
		t.Errorf("anonymous GET /tree/main: %d to %q, want 303 to /signin", code, hdr.Get("Location"))
	}
	if code, _, _ := fetch(t, anon, "GET", srv.URL+"/-/events?branch=main", nil); code != http.StatusUnauthorized {
		t.Errorf("anonymous events: %d, want 401", code)
	}
	if code, body, _ := fetch(t, anon, "POST", srv.URL+"/signin", url.Values{"csrf": {signinForm(t, anon, srv.URL)}, "token": {"wrong"}}); code != http.StatusUnauthorized || !strings.Contains(body, "not known") {
		t.Errorf("sign in with a wrong token: %d", code)
	}
	if code, _, hdr := fetch(t, anon, "POST", srv.URL+"/signin", url.Values{"csrf": {signinForm(t, anon, srv.URL)}, "token": {readToken}, "next": {"//evil.example/"}}); code != http.StatusSeeOther || hdr.Get("Location") != "/" {
		t.Errorf("sign in with an off-site next: %d to %q, want 303 to /", code, hdr.Get("Location"))
	}

	reader := signedIn(t, srv.URL, readToken)
	if code, body, _ := fetch(t, reader, "GET", srv.URL+"/value/main/README", nil); code != 200 || strings.Contains(body, "/edit/") || strings.Contains(body, "Create branch") {
		t.Errorf("read token on a value page: %d, edit link shown: %v", code, strings.Contains(body, "/edit/"))
	}
	if code, _, _ := fetch(t, reader, "GET", srv.URL+"/edit/main/README", nil); code != http.StatusForbidden {
		t.Errorf("read token GET /edit: %d, want 403", code)
	}

	team := signedIn(t, srv.URL, teamToken)
	if code, _, _ := fetch(t, team, "GET", srv.URL+"/edit/main/README", nil); code != http.StatusForbidden {
		t.Errorf("team token GET /edit/main: %d, want 403", code)
	}
	csrf, head := editForm(t, team, srv.URL+"/edit/team%2Fx/README")
	code, body, _ := fetch(t, team, "POST", srv.URL+"/edit/team%2Fx", url.Values{
		"csrf": {csrf}, "head": {head}, "path": {"README"}, "kind": {"text"}, "value": {"team\r\nedit\r\n"}, "message": {"team edit"},
	})
	if code != http.StatusSeeOther {
		t.Fatalf("team token POST /edit/team/x: %d\n%s", code, body)
	}
	got, err := kv.Branch("team/x").Get(context.Background(), "README")
	if err != nil || string(got) != "team\nedit\n" {
		t.Errorf("team/x README = %q, %v; want the edit with LF line ends", got, err)
	}
	// A read token's CSRF token is valid, but the grant is not.
	code, _, _ = fetch(t, reader, "POST", srv.URL+"/edit/main", url.Values{"path": {"README"}, "kind": {"text"}, "value": {"x"}, "message": {"m"}})
	if code != http.StatusForbidden {
		t.Errorf("read token POST /edit without csrf: %d, want 403", code)
	}

	// Signing out needs the CSRF token of the page's form: another page
	// cannot sign a visitor out.
	if code, _, _ := fetch(t, reader, "POST", srv.URL+"/signout", url.Values{}); code != http.StatusForbidden {
		t.Errorf("sign out without the CSRF token: %d, want 403", code)
	}
	if code, _, _ := fetch(t, reader, "GET", srv.URL+"/", nil); code != http.StatusOK {
		t.Errorf("after a refused sign-out GET /: %d, want 200 (still signed in)", code)
	}
	signout := func(c *http.Client) {
		m := csrfRE.FindStringSubmatch(mustGet(t, c, srv.URL+"/"))
		if m == nil {
			t.Fatal("no CSRF token in the sign-out form")
		}
		code, _, hdr := fetch(t, c, "POST", srv.URL+"/signout", url.Values{"csrf": {m[1]}})
		if code != http.StatusSeeOther || !strings.Contains(hdr.Get("Set-Cookie"), "Max-Age=0") {
			t.Errorf("sign out: %d, cookie %q", code, hdr.Get("Set-Cookie"))
		}
	}
	signout(reader)
	if code, _, _ := fetch(t, reader, "GET", srv.URL+"/", nil); code != http.StatusSeeOther {
		t.Errorf("after sign-out GET /: %d, want 303", code)
	}
}

func mustGet(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	_, body, _ := fetch(t, c, "GET", u, nil)
	return body
}

func TestEdit(t *testing.T) {
	ctx := context.Background()
	kv, _ := newStore(t)
	srv := newServer(t, kv, console.Options{Tokens: testTokens(t)})
	w := signedIn(t, srv.URL, writeToken)
	csrf, head := editForm(t, w, srv.URL+"/edit/main/config/app.json")
	post := func(form url.Values) (int, string, http.Header) {
		return fetch(t, w, "POST", srv.URL+"/edit/main", form)
	}
	edit := url.Values{"csrf": {csrf}, "head": {head}, "path": {"config/app.json"}, "kind": {"json"},
		"value": {`{"name": "app", "port": 9090}`}, "message": {"port 9090"}, "author": {"tester"}}

	// Without the CSRF token, or with a wrong one: refused, nothing written.
	for _, bad := range []string{"", "forged"} {
		f := url.Values{}
		for k, v := range edit {
			f[k] = v
		}
		f.Set("csrf", bad)
		if code, body, _ := post(f); code != http.StatusForbidden || !strings.Contains(body, "CSRF") {
			t.Errorf("POST with csrf %q: %d, want 403", bad, code)
		}
	}
	if now := mustHead(t, kv, "main"); now != head {
		t.Fatalf("a refused edit moved main to %s", now)
	}
	// A CSRF token of another browser (another sid cookie) is refused too.
	other := signedIn(t, srv.URL, writeToken)
	if code, _, _ := fetch(t, other, "POST", srv.URL+"/edit/main", edit); code != http.StatusForbidden {
		t.Errorf("POST with another browser's csrf: %d, want 403", code)
	}

	// Bad input is shown on the form.
	bad := url.Values{"csrf": {csrf}, "head": {head}, "path": {"config/app.json"}, "kind": {"json"}, "value": {"{not json"}, "message": {"m"}}
	if code, body, _ := post(bad); code != http.StatusBadRequest || !strings.Contains(body, "{not json") {
		t.Errorf("POST bad JSON: %d", code)
	}

	code, body, hdr := post(edit)
	if code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/value/main/config/app.json?saved=") {
		t.Fatalf("POST edit: %d %q\n%s", code, hdr.Get("Location"), body)
	}
	v, err := kv.Branch("main").GetValue(ctx, "config/app.json")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(`{"name":"app","port":9090}`, string(v.Data)); v.Kind != strata.KindJSON || diff != "" {
		t.Errorf("after the edit (kind %v): -want +got\n%s", v.Kind, diff)
	}
	log, err := kv.Log(ctx, "main", 1)
	if err != nil {
		t.Fatal(err)
	}
	if log[0].Message != "port 9090" || log[0].Author != "tester" {
		t.Errorf("new commit: %q by %q", log[0].Message, log[0].Author)
	}

	// The same form again: the branch has moved since, so it is a conflict,
	// shown with the text kept, and nothing is written.
	moved := mustHead(t, kv, "main")
	edit.Set("value", `{"port": 1}`)
	code, body, _ = post(edit)
	if code != http.StatusConflict || !strings.Contains(body, "Conflict") || !strings.Contains(body, "port&#34;: 1") {
		t.Errorf("stale POST: %d, want 409 with the text kept\n%s", code, body)
	}
	if now := mustHead(t, kv, "main"); now != moved {
		t.Errorf("a conflicting edit moved main")
	}

	// Add a value.
	csrf, head = editForm(t, w, srv.URL+"/edit/main/big")
	code, _, _ = post(url.Values{"csrf": {csrf}, "head": {head}, "new": {"1"}, "path": {"big/new"}, "kind": {"counter"}, "value": {"42"}, "message": {"add"}})
	if code != http.StatusSeeOther {
		t.Fatalf("POST add: %d", code)
	}
	if v, err := kv.Branch("main").GetValue(ctx, "big/new"); err != nil || v.Kind != strata.KindCounter || string(v.Data) != "42" {
		t.Errorf("added value: %v %q %v", v.Kind, v.Data, err)
	}

	// Create and delete a branch.
	if code, _, hdr := post2(t, w, srv.URL+"/branches", url.Values{"csrf": {csrf}, "name": {"fresh"}, "from": {"v1"}}); code != http.StatusSeeOther || hdr.Get("Location") != "/tree/fresh" {
		t.Errorf("create branch: %d %q", code, hdr.Get("Location"))
	}
	if h, err := kv.Resolve(ctx, "fresh"); err != nil || h.String() != mustResolve(t, kv, "v1") {
		t.Errorf("fresh = %v, %v; want v1", h, err)
	}
	if code, _, _ := post2(t, w, srv.URL+"/branches", url.Values{"csrf": {csrf}, "name": {"fresh"}, "from": {"v1"}}); code != http.StatusConflict {
		t.Errorf("create an existing branch: %d, want 409", code)
	}
	if code, _, _ := post2(t, w, srv.URL+"/branches", url.Values{"name": {"fresh2"}, "from": {"v1"}}); code != http.StatusForbidden {
		t.Errorf("create branch without csrf: %d, want 403", code)
	}
	if code, _, _ := post2(t, w, srv.URL+"/branches/delete", url.Values{"csrf": {csrf}, "name": {"fresh"}}); code != http.StatusSeeOther {
		t.Errorf("delete branch: %d", code)
	}
	if _, err := kv.Branch("fresh").Head(ctx); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("deleted branch: %v, want ErrNotFound", err)
	}
}

func post2(t *testing.T, c *http.Client, u string, f url.Values) (int, string, http.Header) {
	t.Helper()
	return fetch(t, c, "POST", u, f)
}

func mustResolve(t *testing.T, kv *strata.KV, rev string) string {
	t.Helper()
	h, err := kv.Resolve(context.Background(), rev)
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func TestReadOnly(t *testing.T) {
	kv, _ := newStore(t)
	srv := newServer(t, kv, console.Options{ReadOnly: true})
	c := signedIn(t, srv.URL, "")
	if body := mustGet(t, c, srv.URL+"/value/main/README"); strings.Contains(body, "/edit/") {
		t.Error("a read-only console shows an edit link")
	}
	if code, _, _ := fetch(t, c, "GET", srv.URL+"/edit/main/README", nil); code != http.StatusForbidden {
		t.Errorf("read-only GET /edit: %d, want 403", code)
	}
}

// TestEvents reads the console's event stream: the current head first,
// then a move.
func TestEvents(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kv, _ := newStore(t)
	srv := newServer(t, kv, console.Options{})
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/-/events?branch=main", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	next := func() (string, map[string]any) {
		var event string
		var data map[string]any
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = line[7:]
			case strings.HasPrefix(line, "data: "):
				if err := json.Unmarshal([]byte(line[6:]), &data); err != nil {
					t.Fatal(err)
				}
			case line == "" && event != "":
				return event, data
			}
		}
		t.Fatalf("stream ended: %v", sc.Err())
		return "", nil
	}
	old := mustHead(t, kv, "main")
	if ev, d := next(); ev != "head" || d["head"] != old {
		t.Fatalf("first event %s %v, want head %s", ev, d, old)
	}
	h, err := kv.Branch("main").Set(ctx, "x", []byte("y"))
	if err != nil {
		t.Fatal(err)
	}
	ev, d := next()
	if diff := cmp.Diff(map[string]any{"branch": "main", "old": old, "new": h.String(), "changes": 1.0}, d); ev != "move" || diff != "" {
		t.Errorf("event %s: -want +got\n%s", ev, diff)
	}
}

// TestAssetsSize keeps the embedded files under 200 KB.
func TestAssetsSize(t *testing.T) {
	var total int64
	err := fs.WalkDir(console.AssetsFS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		total += info.Size()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("embedded assets: %d bytes", total)
	if total == 0 || total > 200_000 {
		t.Errorf("embedded assets are %d bytes, want 1..200000", total)
	}
}

// TestBigCommit: a commit of 1005 values lists 1000 changes (200 with
// diffs) and counts the rest.
func TestBigCommit(t *testing.T) {
	ctx := context.Background()
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	if _, err := kv.Branch("main").Update(ctx, func(tx *strata.Tx) error {
		for i := range 1005 {
			if err := tx.Set(fmt.Sprintf("v/%04d", i), []byte("x\n")); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, kv, console.Options{})
	code, body, _ := fetch(t, noRedirect(), "GET", srv.URL+"/commit/main", nil)
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	for _, want := range []string{"1005 changes", "v/0199", "v/0999", "…and 5 more changed values", "Not shown: too many changes"} {
		if !strings.Contains(body, want) {
			t.Errorf("big commit page lacks %q", want)
		}
	}
	if strings.Contains(body, "v/1000") {
		t.Error("big commit page lists change 1001")
	}
	if n := strings.Count(body, `class="diff`); n != 200 {
		t.Errorf("%d diffs shown, want 200", n)
	}
}

// TestLogDepth: a path-filtered log walks a bounded number of generations
// and offers to search deeper.
func TestLogDepth(t *testing.T) {
	ctx := context.Background()
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	b := kv.Branch("main")
	if _, err := b.Set(ctx, "rare", []byte("1"), strata.Message("the rare change")); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		if _, err := b.Set(ctx, "often", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	srv := newServer(t, kv, console.Options{})
	c := noRedirect()
	_, body, _ := fetch(t, c, "GET", srv.URL+"/log/main?path=rare&depth=5", nil)
	if strings.Contains(body, "the rare change") || !strings.Contains(body, "depth=50") {
		t.Errorf("depth 5: the rare change shown or no deeper link\n%s", body)
	}
	_, body, _ = fetch(t, c, "GET", srv.URL+"/log/main?path=rare&depth=50", nil)
	if !strings.Contains(body, "the rare change") || strings.Contains(body, "depth=500") {
		t.Errorf("depth 50: the rare change not shown, or a deeper link\n%s", body)
	}
	_, body, _ = fetch(t, c, "GET", srv.URL+"/log/main?path=rare", nil)
	if !strings.Contains(body, "the rare change") {
		t.Error("default depth: the rare change not shown")
	}
}

// secretFailure is a backend whose ref reads fail with an error that names
// a secret: a console page must not show it.
type secretFailure struct{ backend.Store }

var errSecret = errors.New("/var/secret/disk on fire")

func (*secretFailure) GetRef(context.Context, string) (backend.Hash, error) {
	return backend.Hash{}, errSecret
}

func (*secretFailure) ListRefs(context.Context, string) ([]backend.Ref, error) {
	return nil, errSecret
}

// TestInternalErrorHidden: a page that fails with an error the console
// does not know is a 500 that says "internal error"; the cause goes to the
// log only, as with the JSON API.
func TestInternalErrorHidden(t *testing.T) {
	kv := strata.New(&secretFailure{Store: mem.New()})
	defer kv.Close()
	var logs strings.Builder
	srv := newServer(t, kv, console.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for _, path := range []string{"/", "/tree/main", "/-/events?branch=main"} {
		code, body, _ := fetch(t, http.DefaultClient, "GET", srv.URL+path, nil)
		if code != http.StatusInternalServerError || strings.Contains(body, "secret") || !strings.Contains(body, "internal error") {
			t.Errorf("GET %s: %d %q, want 500 without the cause", path, code, body)
		}
	}
	if !strings.Contains(logs.String(), "disk on fire") {
		t.Errorf("the cause is not in the log: %s", logs.String())
	}
}

// TestClosedStorePage: a page of a closed store is 503.
func TestClosedStorePage(t *testing.T) {
	kv := strata.New(mem.New())
	srv := newServer(t, kv, console.Options{})
	if err := kv.Close(); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := fetch(t, http.DefaultClient, "GET", srv.URL+"/", nil); code != http.StatusServiceUnavailable {
		t.Errorf("GET /: %d %q, want 503", code, body)
	}
}
