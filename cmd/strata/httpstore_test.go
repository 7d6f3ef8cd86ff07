package main

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/cmd/strata/server"
	"github.com/stratakv/strata/cmd/strata/server/auth"
)

// serveForCLI serves a new in-memory store over HTTP on a loopback port,
// in this process, with tokens (none if empty).
func serveForCLI(t *testing.T, tokens string) string {
	t.Helper()
	kv, err := strata.Open(t.Context(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	var opts server.Options
	if tokens != "" {
		if opts.Tokens, err = auth.Parse(strings.NewReader(tokens)); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(server.New(kv, opts).Handler())
	t.Cleanup(func() { srv.Close(); kv.Close() })
	return srv.URL
}

// TestCLIHTTPStore runs the CLI against -s http://…: set, get, log,
// branch and fsck through a server, with and without a local cache.
func TestCLIHTTPStore(t *testing.T) {
	t.Parallel()
	url := serveForCLI(t, "")
	for _, u := range []string{url, url + "?cache=" + t.TempDir()} {
		s := newStore(t)
		s.dir = u // $STRATA_STORE
		c1 := s.set("a", "1")
		s.set("b/c", "2")
		if out := s.ok("get", "a"); out != "1" && out != "1\n" {
			t.Errorf("get a through %s = %q", u, out)
		}
		if out := s.ok("log", "--oneline"); strings.Count(out, "\n") < 2 || !strings.Contains(out, c1[:12]) {
			t.Errorf("log through %s:\n%s", u, out)
		}
		s.ok("branch", "dev-x", "main")
		if out := s.ok("branch"); !strings.Contains(out, "dev-x") || !strings.Contains(out, "main") {
			t.Errorf("branch through %s: %q", u, out)
		}
		s.ok("fsck")
		s.fails(exitNotFound, "get", "nope")
		s.ok("branch", "-d", "dev-x")
	}
}

// TestCLIHTTPToken: a missing or wrong token is refused with one clear
// line that never shows the token; a good one from $STRATA_TOKEN works.
func TestCLIHTTPToken(t *testing.T) {
	t.Parallel()
	url := serveForCLI(t, "g00d-t0ken write\n")
	const wrong = "wr0ng-s3cret"
	for _, env := range [][]string{
		{"STRATA_STORE=" + url + "?token=" + wrong, "STRATA_TOKEN="},
		{"STRATA_STORE=" + url, "STRATA_TOKEN=" + wrong},
		{"STRATA_STORE=" + url, "STRATA_TOKEN="},
	} {
		r, err := runStrata(env, t.TempDir(), nil, "get", "a")
		if err != nil {
			t.Fatal(err)
		}
		checkRun(t, []string{"get", "a"}, r)
		if r.code == exitOK || r.code == exitNotFound {
			t.Errorf("%v: exit %d; want a failure", env, r.code)
		}
		if !strings.Contains(r.stderr, "unauthorized") || strings.Contains(r.stderr+r.stdout, wrong) {
			t.Errorf("%v: stderr %q should say unauthorized and not show the token", env, r.stderr)
		}
	}
	r, err := runStrata([]string{"STRATA_STORE=" + url, "STRATA_TOKEN=g00d-t0ken"}, t.TempDir(), nil, "set", "a", "1")
	if err != nil {
		t.Fatal(err)
	}
	if r.code != exitOK {
		t.Errorf("set with a good token: exit %d: %s", r.code, r.stderr)
	}
}
