package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratakv/strata/internal/redistest"
)

// TestWatchProcess: "strata watch" as a process on a Redis store prints
// the changes that other "strata set" processes make (first those made
// before it subscribed, through --since), one line each, as JSON with
// --json, and exits 0 on SIGINT.
func TestWatchProcess(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	s := newStore(t)
	u := srv.URL("watch")
	for _, asJSON := range []bool{false, true} {
		head := strings.TrimSpace(s.ok("-s", u, "set", "first", strconv.FormatBool(asJSON)))
		args := []string{"-s", u, "watch", "--since", head, "dir"}
		if asJSON {
			args = append(args, "--json")
		}
		cmd := exec.Command(binary, args...)
		cmd.Env = os.Environ()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		lines := make(chan string, 10)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		next := func() string {
			t.Helper()
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("watch ended: %v: %s", <-done, stderr.String())
				}
				return l
			case <-time.After(60 * time.Second):
				t.Fatalf("watch printed nothing: %s", stderr.String())
			}
			return ""
		}
		h := strings.TrimSpace(s.ok("-s", u, "set", "dir/x", "made by another process"))
		s.ok("-s", u, "set", "outside", "also "+strconv.FormatBool(asJSON))
		s.ok("-s", u, "rm", "dir/x")
		if asJSON {
			var ev struct {
				Branch, Old, New string
				Changes          []struct{ Op, Path, New string }
			}
			for _, want := range []string{"add dir/x", "", "remove dir/x"} {
				ev.Changes = nil
				l := next()
				if err := json.Unmarshal([]byte(l), &ev); err != nil {
					t.Fatal(err)
				}
				got := ""
				if len(ev.Changes) == 1 {
					got = ev.Changes[0].Op + " " + ev.Changes[0].Path
				}
				if got != want || len(ev.Changes) > 1 || ev.Branch != "main" {
					t.Fatalf("--json: %+v, want %q", ev, want)
				}
				if want == "add dir/x" && (ev.Old != head || ev.New != h || ev.Changes[0].New != "made by another process") {
					t.Fatalf("--json: %+v, want %s -> %s", ev, head, h)
				}
			}
		} else {
			for _, want := range []string{"A dir/x", "D dir/x"} {
				if got := next(); got != want {
					t.Fatalf("watch printed %q, want %q", got, want)
				}
			}
		}
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil || stderr.Len() > 0 {
				t.Fatalf("watch after SIGINT: %v, stderr %q; want exit 0 and nothing", err, stderr.String())
			}
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatal("watch did not exit on SIGINT")
		}
	}
}

// TestWatchRefusesLocalStores: watch on a store that no other process
// can write at the same time is a usage error.
func TestWatchRefusesLocalStores(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.set("k", "v")
	s.fails(2, "watch")
	s.fails(2, "-s", "mem://", "watch")
}

// TestProveVerify: prove writes a proof that verify checks with no store,
// printing the value; a proof of absence exits 1; a tampered proof, or
// one asked about another path or commit, exits 4; a bad commit exits 2.
func TestProveVerify(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.set("config/db/host", "db1.internal.example.com:5432/primary")
	head := s.set("config/db/port", "5432")
	proof := s.ok("prove", "config/db/host", "--at", head)
	nostore := &store{t: t, dir: s.dir + "-none", cwd: s.cwd} // verify needs no store
	r := nostore.run([]byte(proof), "verify", head, "config/db/host")
	if r.code != 0 || r.stdout != "db1.internal.example.com:5432/primary" {
		t.Fatalf("verify: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	absent := s.ok("prove", "config/none")
	nostore.run([]byte(absent), "verify", head, "config/none")
	if r := nostore.run([]byte(absent), "verify", head, "config/none"); r.code != 1 || r.stdout != "" {
		t.Errorf("verify absence: exit %d, %q", r.code, r.stdout)
	}
	if r := nostore.run([]byte(proof), "verify", head, "config/db/port"); r.code != 4 || r.stdout != "" {
		t.Errorf("verify another path: exit %d, %q", r.code, r.stdout)
	}
	if r := nostore.run([]byte(proof), "verify", strings.Repeat("0", 64), "config/db/host"); r.code != 4 {
		t.Errorf("verify another commit: exit %d", r.code)
	}
	var p struct {
		Commit, Path string
		Objects      [][]byte
	}
	if err := json.Unmarshal([]byte(proof), &p); err != nil {
		t.Fatal(err)
	}
	last := p.Objects[len(p.Objects)-1]
	last[len(last)-1] ^= 1 // a byte of the value
	tampered, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if r := nostore.run(tampered, "verify", head, "config/db/host"); r.code != 4 || r.stdout != "" || !strings.Contains(r.stderr, "invalid proof") {
		t.Errorf("verify a tampered proof: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	nostore.fails(2, "verify", "abc", "config/db/host")
	if nostore.exists() {
		t.Error("verify created a store")
	}
}

// TestWatchSinceAfterDelete: a watcher whose last event was the branch's
// deletion (new "") resumes with --since "" (or 64 zeros): the branch
// made again meanwhile arrives as one event from "" to its head.
func TestWatchSinceAfterDelete(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	s := newStore(t)
	u := srv.URL("resume")
	s.ok("-s", u, "set", "-b", "b", "old", "1")
	s.ok("-s", u, "branch", "-d", "b")
	h := strings.TrimSpace(s.ok("-s", u, "set", "-b", "b", "k", "again"))
	for _, since := range []string{"", strings.Repeat("0", 64)} {
		cmd := exec.Command(binary, "-s", u, "watch", "-b", "b", "--since", since, "--json")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(out)
			sc.Scan()
			line <- sc.Text()
		}()
		var l string
		select {
		case l = <-line:
		case <-time.After(60 * time.Second):
			t.Fatalf("--since %q printed nothing: %s", since, stderr.String())
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		var ev struct {
			Old, New string
			Changes  []struct{ Op, Path string }
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("--since %q: %q: %v (stderr %s)", since, l, err, stderr.String())
		}
		if ev.Old != "" || ev.New != h || len(ev.Changes) != 1 || ev.Changes[0].Path != "k" {
			t.Errorf("--since %q: %+v, want one event from \"\" to %s adding k", since, ev, h)
		}
	}
}
