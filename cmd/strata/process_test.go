package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/pebble"
	"github.com/stratakv/strata/contents"
)

// TestConcurrentProcesses: four strata processes each running 25 sets of
// distinct keys on one on-disk store at once. Pebble locks the directory,
// so each process waits for the lock; all 100 keys must end up present.
func TestConcurrentProcesses(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.ok("init")
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for p := 0; p < 4; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				args := []string{"set", fmt.Sprintf("p%d/k%02d", p, i), fmt.Sprintf("%d-%d", p, i)}
				r, err := runStrata([]string{"STRATA_STORE=" + s.dir}, s.cwd, nil, args...)
				if err == nil {
					checkRun(t, args, r)
				}
				if err != nil || r.code != 0 {
					errs <- fmt.Sprintf("process %d set %d: exit %d, %v: %s", p, i, r.code, err, r.stderr)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	for p := 0; p < 4; p++ {
		var want []string
		for i := 0; i < 25; i++ {
			want = append(want, fmt.Sprintf("k%02d", i))
		}
		if diff := cmp.Diff(want, lines(s.ok("ls", fmt.Sprintf("p%d", p)))); diff != "" {
			t.Errorf("p%d: %s", p, diff)
		}
	}
	if n := len(lines(s.ok("log"))); n == 0 {
		t.Error("empty log")
	}
	if got := len(decodeLines[map[string]any](t, s.ok("log", "--json"))); got != 100 {
		t.Errorf("%d commits, want 100", got)
	}
}

// TestFsck: a clean store exits 0. Then the bytes stored under a value's
// hash are replaced by flipped ones (through the backend, as a bad disk or
// a buggy tool would leave them): fsck must exit 4 naming the hash and the
// path, and get must report the value as corrupt (exit 4), never print it.
func TestFsck(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	// Longer than an inline value, so it is an object of its own.
	const host = "db1.internal.example.com:5432/primary"
	s.ok("set", "config/db/host", host)
	s.ok("set", "config/db/port", "5432")
	if out := s.ok("fsck"); !strings.Contains(out, "0 problems") {
		t.Fatalf("fsck of a clean store: %q", out)
	}
	h := flipValue(t, s.dir, host)
	r := s.run(nil, "fsck")
	if r.code != 4 {
		t.Fatalf("fsck of a corrupt store: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "corrupt contents "+h.String()) || !strings.Contains(r.stdout, "config/db/host") {
		t.Errorf("fsck output does not name the corrupt value, its hash and its path: %q", r.stdout)
	}
	r = s.run(nil, "get", "config/db/host")
	if r.code != 4 || r.stdout != "" || !strings.Contains(r.stderr, "corrupt") || !strings.Contains(r.stderr, h.String()) {
		t.Errorf("get of a corrupt value: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if out := s.ok("get", "config/db/port"); out != "5432" {
		t.Errorf("an intact value beside it: %q", out)
	}
}

// flipValue finds the contents object holding value in the on-disk store
// at dir and replaces its bytes with a copy that has one bit flipped. It
// returns the object's hash.
func flipValue(t *testing.T, dir string, value string) backend.Hash {
	t.Helper()
	st, err := pebble.Open(context.Background(), dir, &pebble.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	want := contents.Object(contents.Raw([]byte(value)))
	b, err := st.Get(context.Background(), want.Hash)
	if err != nil {
		t.Fatalf("value %q not stored: %v", value, err)
	}
	b[len(b)-1] ^= 0x01
	if err := st.DeleteObjects(context.Background(), []backend.Hash{want.Hash}); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(context.Background(), []backend.Object{{Hash: want.Hash, Data: b}}); err != nil {
		t.Fatal(err)
	}
	return want.Hash
}

// TestLsPagesAndLogPath: ls --after/--limit page through a directory larger
// than one node; log -- PATH keeps only the commits that changed PATH.
func TestLsPagesAndLogPath(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	// More names than fit in one node (node.MaxEntries), one set each.
	const n = 140
	for i := 0; i < n; i++ {
		s.ok("set", fmt.Sprintf("big/k%03d", i), "v")
		if i == 70 {
			s.ok("set", "other", "x")
		}
	}
	var all []string
	after := ""
	for {
		args := []string{"ls", "big", "--limit", "32"}
		if after != "" {
			args = append(args, "--after", after)
		}
		page := lines(s.ok(args...))
		if len(page) == 0 {
			break
		}
		if len(page) > 32 {
			t.Fatalf("page of %d names", len(page))
		}
		all = append(all, page...)
		after = page[len(page)-1]
	}
	var want []string
	for i := 0; i < n; i++ {
		want = append(want, fmt.Sprintf("k%03d", i))
	}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("pages: %s", diff)
	}
	if r := s.run(nil, "ls", "big", "--limit", "-1"); r.code != 2 {
		t.Errorf("negative limit: exit %d", r.code)
	}
	if got := decodeLines[map[string]any](t, s.ok("log", "--json", "--", "other")); len(got) != 1 {
		t.Errorf("log -- other: %d commits, want 1", len(got))
	}
	if got := decodeLines[map[string]any](t, s.ok("log", "main", "--json", "--", "big/k007")); len(got) != 1 {
		t.Errorf("log main -- big/k007: %d commits, want 1", len(got))
	}
	if got := decodeLines[map[string]any](t, s.ok("log", "--json", "-n", "5", "--", "big")); len(got) != 5 {
		t.Errorf("log -n 5 -- big: %d commits, want 5", len(got))
	}
	if r := s.run(nil, "log", "--", "a//b"); r.code != 2 {
		t.Errorf("log -- a//b: exit %d", r.code)
	}
}
