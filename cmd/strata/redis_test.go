package main

import (
	"strings"
	"testing"

	"github.com/stratakv/strata/internal/redistest"
)

// TestRedisStore: the command line works on a Redis store named with -s,
// shared between invocations; a wrong password is a clear error (exit 4)
// that never shows the password.
func TestRedisStore(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.WithPassword("s3cret-pw"))
	s := newStore(t)
	u := srv.URL("app")
	if h := strings.TrimSpace(s.ok("-s", u, "set", "k", "v")); len(h) != 64 {
		t.Fatalf("set printed %q", h)
	}
	if got := s.ok("-s", u, "get", "k"); got != "v" {
		t.Fatalf("get = %q", got)
	}
	if got := lines(s.ok("-s", u, "ls")); len(got) != 1 || got[0] != "k" {
		t.Fatalf("ls = %q", got)
	}
	// A store under another prefix on the same server is separate.
	other := strings.Replace(u, "prefix=app", "prefix=other", 1)
	if r := s.run(nil, "-s", other, "get", "k"); r.code != 1 {
		t.Errorf("get from another prefix: exit %d", r.code)
	}
	bad := strings.Replace(u, "s3cret-pw", "wrong-pw", 1)
	for _, args := range [][]string{{"-s", bad, "get", "k"}, {"-s", bad, "log", "--json"}} {
		r := s.run(nil, args...)
		if r.code != 4 {
			t.Errorf("%v: exit %d, want 4", args, r.code)
		}
		if strings.Contains(r.stderr+r.stdout, "wrong-pw") || strings.Contains(r.stderr+r.stdout, "s3cret-pw") {
			t.Errorf("%v: output shows the password: %q", args, r.stderr)
		}
	}
	if r := s.run(nil, "-s", u+"&bogus=1", "get", "k"); r.code != 2 {
		t.Errorf("unknown URL parameter: exit %d, want 2", r.code)
	}
	if r := s.run(nil, "-s", u, "fsck"); r.code != 0 {
		t.Errorf("fsck: exit %d: %s", r.code, r.stderr)
	}
}
