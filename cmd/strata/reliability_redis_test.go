package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/stratakv/strata/internal/redistest"
)

// runStrata runs the binary with args and stdin (nil: none), in dir, with
// the environment plus env, and returns what it did; the error is for a
// binary that could not be run at all. Callers check the result with
// checkRun; store.run does both.
func runStrata(env []string, dir string, stdin []byte, args ...string) (result, error) {
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		return r, err
	}
	return r, nil
}

// checkRun checks what every run of strata must satisfy: no panic or
// stack trace in any output, nothing on standard error on success, and
// exactly one "strata: " line on it on failure. It reports with t.Errorf,
// so it may be called from any goroutine.
func checkRun(t testing.TB, args []string, r result) {
	t.Helper()
	for _, out := range []struct{ name, text string }{{"stdout", r.stdout}, {"stderr", r.stderr}} {
		if strings.Contains(out.text, "goroutine ") || strings.Contains(out.text, "panic") {
			t.Errorf("strata %q: stack trace or panic on %s:\n%s", args, out.name, out.text)
		}
	}
	if r.code == 0 && r.stderr != "" && !syncSummary(args, r.stderr) {
		t.Errorf("strata %q succeeded but wrote to stderr: %q", args, r.stderr)
	}
	if r.code != 0 {
		if !strings.HasPrefix(r.stderr, "strata: ") || !strings.HasSuffix(r.stderr, "\n") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("strata %q: exit %d, stderr is not one \"strata: \" line: %q", args, r.code, r.stderr)
		}
	}
}

// deadPort returns a loopback port that nothing listens on: one the kernel
// handed out and that was closed again.
func deadPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// storeCommands are the commands each hostile URL is tried with: the ones
// that create a store and the ones that only read.
var storeCommands = [][]string{{"get", "a"}, {"set", "a", "v"}, {"init"}, {"ls"}, {"fsck"}}

// TestHostileStoreURLs (issue 9, finding 4): store URLs that do not parse,
// or name no reachable server, with a password placed every way a user
// might place it. For get, set, init, ls and fsck: the password never
// appears on standard output or standard error, in any spelling; an
// invalid URL exits 2 and an unreachable server 4, with one "strata: "
// line (checked by store.run); and nothing is created in the working
// directory (a URL is never taken for a directory name).
func TestHostileStoreURLs(t *testing.T) {
	t.Parallel()
	const pw = "Hunter2Pw"
	port, port2 := deadPort(t), deadPort(t)
	dead := fmt.Sprintf("127.0.0.1:%d", port)
	cases := []struct {
		url     string
		code    int
		secrets []string // what must not be shown; pw is always checked
	}{
		// Issue 9's cases: net/url once quoted them whole.
		{"redis://:" + pw + "@127.0.0.1:abc/0", 2, nil},
		{"redis://:" + pw + "@[::1", 2, nil},
		{"redis://:Hun%zzter2Pw@127.0.0.1:1/0", 2, []string{"Hun%zzter2Pw", "zzter2"}},
		{"redis://:" + pw + "@127.0.0 .1:1/0", 2, nil},
		{"redis://:" + pw + "@127.0.0.1:1/0\n", 2, nil},
		// Passwords with characters that end the user information early.
		{"redis://u:Hun@ter2Pw@127.0.0.1:abc", 2, []string{"Hun@ter2Pw", "ter2Pw"}},
		{"redis://u:Hun/ter2Pw@127.0.0.1:1", 2, []string{"ter2Pw"}},
		{"redis://u:Hun?ter2Pw@127.0.0.1:1", 2, []string{"ter2Pw"}},
		{"redis://u:Hun#ter2Pw@127.0.0.1:1", 2, []string{"ter2Pw"}},
		{"redis://u:Hünter2Pw☃@127.0.0.1:1", 2, []string{"Hünter2Pw"}},
		{"redis://u:Hun ter2Pw@127.0.0.1:1", 2, []string{"ter2Pw"}},
		// Passwords in parameters and seed addresses.
		{"redis://127.0.0.1:1?password=" + pw, 2, nil},
		{"redis://127.0.0.1:1?tls_insecure=1?password=" + pw, 2, nil},
		{"redis://127.0.0.1:1?addr=u:" + pw + "@h2:2", 2, nil},
		{"redis://:" + pw + "@127.0.0.1:1?master=m&addr=:" + pw + "@s2:2", 2, nil},
		{"redis://u:" + pw + "@127.0.0.1:1?cluster=true&master=m", 2, nil},
		{"redis://u:" + pw + "@127.0.0.1:1/3?addr=h2:2", 2, nil},
		{"redis://u:" + pw + "@127.0.0.1:1?prefix=a:b", 2, nil},
		{"rediss://u:" + pw + "@127.0.0.1:1?tls_ca=/nonexistent/ca.pem", 2, nil},
		// Not quite URLs.
		{"redis:" + pw + "@127.0.0.1:1", 2, nil},
		{"redis:/u:" + pw + "@127.0.0.1:1", 2, nil},
		{"u:" + pw + "@redis://127.0.0.1:1", 2, nil},
		{"ftp://u:" + pw + "@127.0.0.1:1", 2, nil},
		{"pebble://u:" + pw + "@host/dir", 2, nil},
		// Well-formed, but nothing answers.
		{"redis://:" + pw + "@" + dead + "/0", 4, nil},
		{"redis://alice:" + pw + "@" + dead + "/0?prefix=app", 4, nil},
		{"redis://u:%48%75%6E%74%65%72%32%50%77@" + dead, 4, []string{"%48%75%6E%74%65%72%32%50%77"}},
		{"redis://u:Hun%40ter2Pw@" + dead, 4, []string{"Hun@ter2Pw", "Hun%40ter2Pw", "ter2Pw"}},
		{fmt.Sprintf("redis://u:%s@%s?addr=127.0.0.1:%d", pw, dead, port2), 4, nil},
		{"unix://u:" + pw + "@/nonexistent/redis.sock", 4, nil},
	}
	for _, tc := range cases {
		for _, args := range storeCommands {
			t.Run(fmt.Sprintf("%q/%s", tc.url, args[0]), func(t *testing.T) {
				if tc.code == 4 {
					t.Parallel() // go-redis retries the dial for a second or two
				}
				s := newStore(t)
				r := s.run(nil, append([]string{"-s", tc.url}, args...)...)
				if r.code != tc.code {
					t.Errorf("exit %d, want %d; stderr %q", r.code, tc.code, r.stderr)
				}
				for _, secret := range append([]string{pw}, tc.secrets...) {
					if strings.Contains(r.stdout+r.stderr, secret) {
						t.Errorf("the output shows %q:\nstdout %q\nstderr %q", secret, r.stdout, r.stderr)
					}
				}
				if entries, err := os.ReadDir(s.cwd); err != nil || len(entries) != 0 {
					t.Errorf("the working directory holds %v (%v); a URL was taken for a path", entries, err)
				}
				t.Log(strings.TrimSpace(r.stderr))
			})
		}
	}
}

// TestRedisInitHidesPassword (issue 9, finding 4): init on a Redis store
// with a password says where the store is without the password, before
// and after the store holds data; so does the error for a wrong password.
func TestRedisInitHidesPassword(t *testing.T) {
	t.Parallel()
	const pw = "Init-S3cret"
	srv := redistest.Start(t, redistest.WithPassword(pw))
	s := newStore(t)
	u := srv.URL("init")
	if !strings.Contains(u, pw) {
		t.Fatalf("the server's URL %q has no password; the test would prove nothing", u)
	}
	// A Redis store has no existence apart from its data, so even the
	// first init may say "reinitialized"; either way it names the store.
	for i := 0; i < 2; i++ {
		out := s.ok("-s", u, "init")
		if strings.Contains(out, pw) {
			t.Errorf("init printed the password: %q", out)
		}
		if !strings.Contains(out, "initialized") || !strings.Contains(out, " strata store in redis://") || !strings.Contains(out, srv.Addr()) || !strings.Contains(out, "xxxxx") {
			t.Errorf("init printed %q; want the redacted URL of %s", out, srv.Addr())
		}
		s.set("k", "v", "-s", u)
	}
	r := s.fails(4, "-s", strings.Replace(u, pw, "Wrong-S3cret", 1), "init")
	if strings.Contains(r.stdout+r.stderr, "S3cret") {
		t.Errorf("init with a wrong password shows it: %q %q", r.stdout, r.stderr)
	}
}

// TestRedisDown (issue 9, finding 5): with the Redis server gone, every
// command exits 4 with exactly one "strata: " line (go-redis's own logger
// once added four lines of its own before it) that names the server's
// address and not its password.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	const pw = "Down-S3cret"
	srv := redistest.Start(t, redistest.WithPassword(pw))
	s := newStore(t)
	u := srv.URL("down")
	s.set("k", "v", "-s", u)
	srv.Kill()
	var wg sync.WaitGroup
	for _, args := range append(storeCommands, []string{"log"}, []string{"branch"}) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := append([]string{"-s", u}, args...)
			r, err := runStrata([]string{"STRATA_STORE=" + s.dir}, s.cwd, nil, args...)
			if err != nil {
				t.Errorf("strata %q: %v", args, err)
				return
			}
			checkRun(t, args, r)
			if r.code != 4 {
				t.Errorf("strata %q with the server down: exit %d, want 4: %q", args, r.code, r.stderr)
			}
			if !strings.HasPrefix(r.stderr, "strata: redis "+srv.Addr()+": ") {
				t.Errorf("strata %q: stderr %q does not start by naming the server %s", args, r.stderr, srv.Addr())
			}
			if strings.Contains(r.stdout+r.stderr, pw) {
				t.Errorf("strata %q shows the password: %q", args, r.stderr)
			}
		}()
	}
	wg.Wait()
}
