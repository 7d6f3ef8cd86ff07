package server

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stratakv/strata/cmd/strata/server/auth"
)

const tokensFile = `# tokens of the tests
reader-7f3a9c read
writer-b41e77 write
team-c9d2e1 write team/
`

func tokenHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	toks, err := auth.Parse(strings.NewReader(tokensFile))
	if err != nil {
		t.Fatal(err)
	}
	opts.Tokens = toks
	return newHarness(t, "mem://", opts)
}

// TestAuth: without a token every route but /healthz, /metrics and the
// OpenAPI document is 401 (with WWW-Authenticate); a read token reads
// and gets 403 for every write; a write token with a branch prefix writes
// only those branches and no tags; a wrong token is never echoed, in an
// answer or in the log.
func TestAuth(t *testing.T) {
	h := tokenHarness(t, Options{})
	for _, route := range [][2]string{
		{"GET", "/v1/values/k"}, {"PUT", "/v1/values/k"}, {"DELETE", "/v1/values/k"}, {"POST", "/v1/update"},
		{"GET", "/v1/list/"}, {"GET", "/v1/log"}, {"GET", "/v1/diff"}, {"GET", "/v1/commits/main"},
		{"GET", "/v1/branches"}, {"POST", "/v1/branches"}, {"DELETE", "/v1/branches/main"}, {"GET", "/v1/branches/main"},
		{"GET", "/v1/tags"}, {"POST", "/v1/tags"}, {"DELETE", "/v1/tags/t"}, {"GET", "/v1/tags/t"}, {"POST", "/v1/merge"},
	} {
		r := h.want(401, route[0], route[1], "")
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("%v: WWW-Authenticate %q", route, r.header.Get("WWW-Authenticate"))
		}
		h.wantError(401, codeUnauthorized, route[0], route[1], "")
	}
	h.want(200, "GET", "/healthz", "")
	h.want(200, "GET", "/metrics", "")
	h.want(200, "GET", "/v1/openapi.json", "")

	const wrong = "wrong-token-5d1f08"
	h.token = wrong
	e := h.wantError(401, codeUnauthorized, "GET", "/v1/values/k?token="+wrong, "")
	h.wantError(401, codeUnauthorized, "PUT", "/v1/values/k", "v", "Cookie", auth.CookieName+"=x")

	h.token = "writer-b41e77"
	h.want(200, "PUT", "/v1/values/k", "v")
	h.want(200, "PUT", "/v1/values/k?branch=other", "v")
	h.want(201, "POST", "/v1/tags", `{"name": "t"}`)

	h.token = "reader-7f3a9c"
	h.want(200, "GET", "/v1/values/k", "")
	h.want(200, "GET", "/v1/branches", "")
	for _, w := range [][3]string{
		{"PUT", "/v1/values/k", "v"}, {"DELETE", "/v1/values/k", ""}, {"POST", "/v1/update", `{"set": {"a": "b"}}`},
		{"POST", "/v1/branches", `{"name": "x"}`}, {"DELETE", "/v1/branches/other", ""},
		{"POST", "/v1/tags", `{"name": "u"}`}, {"DELETE", "/v1/tags/t", ""},
		{"POST", "/v1/merge", `{"from": "other"}`},
	} {
		h.wantError(403, codeForbidden, w[0], w[1], w[2])
	}

	h.token = "team-c9d2e1"
	h.want(200, "PUT", "/v1/values/k?branch=team/a", "v")
	h.want(201, "POST", "/v1/branches", `{"name": "team/b", "from": "main"}`)
	h.want(200, "POST", "/v1/merge", `{"from": "main", "into": "team/a"}`)
	h.want(204, "DELETE", "/v1/branches/team/b", "")
	h.wantError(403, codeForbidden, "PUT", "/v1/values/k", "v")
	h.wantError(403, codeForbidden, "PUT", "/v1/values/k?branch=teams", "v")
	h.wantError(403, codeForbidden, "POST", "/v1/update?branch=other", `{"set": {"a": "b"}}`)
	h.wantError(403, codeForbidden, "POST", "/v1/merge", `{"from": "team/a", "into": "main"}`)
	h.wantError(403, codeForbidden, "POST", "/v1/branches", `{"name": "x"}`)
	h.wantError(403, codeForbidden, "DELETE", "/v1/branches/other", "")
	h.wantError(403, codeForbidden, "POST", "/v1/tags", `{"name": "u"}`)

	logs := h.logs.String()
	for _, tok := range []string{wrong, "writer-b41e77", "reader-7f3a9c", "team-c9d2e1"} {
		if strings.Contains(logs, tok) || strings.Contains(e.Error, tok) {
			t.Errorf("token %s printed:\n%s", tok, logs)
		}
	}
	if n := len(regexp.MustCompile(`"msg":"request"`).FindAllString(logs, -1)); n < 40 {
		t.Errorf("%d request lines in the log, want one per request", n)
	}
}

// TestReadOnly: a read-only server answers reads and refuses every write,
// whatever the token, with 403 "forbidden".
func TestReadOnly(t *testing.T) {
	for _, tokens := range []bool{false, true} {
		var h *harness
		if tokens {
			h = tokenHarness(t, Options{ReadOnly: true})
			h.token = "writer-b41e77"
		} else {
			h = newHarness(t, "mem://", Options{ReadOnly: true})
		}
		if _, err := h.kv.Branch("main").Set(t.Context(), "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		h.want(200, "GET", "/v1/values/k", "")
		for _, w := range [][3]string{
			{"PUT", "/v1/values/k", "v2"}, {"DELETE", "/v1/values/k", ""}, {"POST", "/v1/update", `{"set": {"a": "b"}}`},
			{"POST", "/v1/branches", `{"name": "x"}`}, {"DELETE", "/v1/branches/main", ""},
			{"POST", "/v1/tags", `{"name": "u"}`}, {"POST", "/v1/merge", `{"from": "main"}`},
		} {
			if e := h.wantError(403, codeForbidden, w[0], w[1], w[2]); !strings.Contains(e.Error, "read-only") {
				t.Errorf("%v: %q", w, e.Error)
			}
		}
		if r := h.want(200, "GET", "/v1/values/k", ""); string(r.body) != "v" {
			t.Fatalf("value after refused writes: %q", r.body)
		}
	}
}

// TestMetrics: /metrics counts requests by route and status, commits and
// watch clients; /healthz answers ok.
func TestMetrics(t *testing.T) {
	h := newHarness(t, "mem://", Options{})
	if r := h.want(200, "GET", "/healthz", ""); string(r.body) != "ok\n" {
		t.Fatalf("healthz: %q", r.body)
	}
	h.want(200, "PUT", "/v1/values/k", "v")
	h.want(200, "PUT", "/v1/values/k", "w")
	h.want(404, "GET", "/v1/values/nothing", "")

	// A real watch stream, open while the metrics are read.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", h.url+"/v1/watch?branch=main", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := ""
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m = string(h.want(200, "GET", "/metrics", "").body); strings.Contains(m, "strata_watch_clients 1\n") {
			break
		}
	}
	defer func() {
		cancel()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if strings.Contains(string(h.want(200, "GET", "/metrics", "").body), "strata_watch_clients 0\n") {
				return
			}
		}
		t.Error("strata_watch_clients did not return to 0 after the stream ended")
	}()
	for _, line := range []string{
		`strata_http_requests_total{code="200",route="PUT /v1/values/{path...}"} 2`,
		`strata_http_requests_total{code="404",route="GET /v1/values/{path...}"} 1`,
		`strata_http_requests_total{code="200",route="GET /healthz"} 1`,
		`strata_http_request_duration_seconds_count{route="PUT /v1/values/{path...}"} 2`,
		"strata_commits_total 2",
		"strata_objects_sent_total 0",
		"strata_watch_clients 1",
	} {
		if !strings.Contains(m, line+"\n") {
			t.Errorf("metrics lack %q", line)
		}
	}
	// A route never requested has no series (the middleware makes a
	// route's series at its first request, not when it registers it).
	if route := `route="POST /v1/merge"`; strings.Contains(m, route) {
		t.Errorf("metrics have a series of a route never requested: %s", route)
	}
}

// TestAPIIgnoresConsoleCookie: the JSON API and the HTTP store take the
// token only from the Authorization header. The console's cookie, which a
// browser also sends with a form or text/plain POST made by a page of
// another port of the same host (same site), must not let such a page
// write through the API, which has no CSRF token.
func TestAPIIgnoresConsoleCookie(t *testing.T) {
	h := tokenHarness(t, Options{})
	cookie := auth.CookieName + "=writer-b41e77"
	for _, w := range [][3]string{
		{"POST", "/v1/update", `{"set": {"a": "b"}}`},
		{"PUT", "/v1/values/k", "v"},
		{"POST", "/v1/branches", `{"name": "x"}`},
		{"POST", "/v1/tags", `{"name": "t"}`},
		{"GET", "/v1/values/k", ""},
	} {
		h.wantError(401, codeUnauthorized, w[0], w[1], w[2], "Cookie", cookie, "Content-Type", "text/plain")
	}
	h.want(401, "GET", "/v1/store/refs?prefix=", "", "Cookie", cookie)
	// The same token as a bearer token writes.
	h.want(200, "POST", "/v1/update", `{"set": {"a": "b"}}`, "Authorization", "Bearer writer-b41e77")
}

// TestEveryRouteNeedsToken: with a tokens file, every registered route but
// the public ones answers a request without a token with 401 (the console
// sends a visitor to its sign-in page instead), so that a route added
// later without the token check fails here.
func TestEveryRouteNeedsToken(t *testing.T) {
	h := tokenHarness(t, Options{})
	public := map[string]bool{"GET /healthz": true, "GET /metrics": true, "GET /v1/openapi.json": true}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	param := regexp.MustCompile(`\{[a-z]+(\.\.\.)?\}`)
	for _, pattern := range h.srv.patterns {
		if public[pattern] {
			continue
		}
		method, path, ok := strings.Cut(pattern, " ")
		if !ok {
			method, path = "GET", pattern
		}
		path = param.ReplaceAllString(path, "x")
		if strings.HasSuffix(path, "/") {
			path += "info" // a path under a subtree pattern
		}
		req, err := http.NewRequest(method, h.url+path, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch {
		case pattern == "/" || pattern == "GET /-/events":
			// The console: a page sends to sign-in, its stream is 401.
			if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s without a token: %s, want a redirect to sign in or 401", method, path, resp.Status)
			}
		case resp.StatusCode != http.StatusUnauthorized:
			t.Errorf("%s %s (route %q) without a token: %s, want 401", method, path, pattern, resp.Status)
		}
	}
	if len(h.srv.patterns) < 20 {
		t.Fatalf("only %d routes registered", len(h.srv.patterns))
	}
}
