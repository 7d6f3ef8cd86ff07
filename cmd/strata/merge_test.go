package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func head(s *store, branch string) string {
	s.t.Helper()
	got := decodeLines[logEntry](s.t, s.ok("log", branch, "-n", "1", "--json"))
	if len(got) != 1 {
		s.t.Fatalf("log %s: %d commits", branch, len(got))
	}
	return got[0].Hash
}

// TestMergeConflictListing: a merge with conflicts prints one "C PATH
// KIND: DETAIL" line per conflict, exits 3 with one line on stderr, and
// leaves the branch as it was; --strategy settles them.
func TestMergeConflictListing(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.ok("set", "--type", "json", "svc/app", `{"owner":"ops","cpu":1}`)
	s.ok("set", "both", "base")
	s.ok("set", "gone", "base")
	s.ok("set", "clash", "base")
	s.ok("branch", "feature")
	s.ok("set", "-b", "feature", "--type", "json", "svc/app", `{"owner":"alice","cpu":1}`)
	s.ok("set", "-b", "feature", "both", "feature")
	s.ok("set", "-b", "feature", "gone", "changed")
	s.ok("rm", "-b", "feature", "clash")
	s.ok("set", "-b", "feature", "clash/inside", "x")
	s.ok("set", "-b", "feature", "only-feature", "f")
	s.ok("set", "--type", "json", "svc/app", `{"owner":"bob","cpu":2}`)
	s.ok("set", "both", "main")
	s.ok("rm", "gone")
	s.ok("set", "clash", "main")
	before := head(s, "main")
	r := s.fails(3, "merge", "feature")
	want := []string{
		"C both content: changed differently on both sides",
		"C clash directory: a value on ours, a directory on theirs",
		"C gone delete: removed on ours, changed on theirs",
		`C svc/app content: JSON field "/owner" changed differently on both sides`,
	}
	if diff := cmp.Diff(want, lines(r.stdout)); diff != "" {
		t.Errorf("conflict listing (-want +got):\n%s", diff)
	}
	if r.stderr != "strata: merge feature into main: 4 conflicts; main unchanged\n" {
		t.Errorf("stderr %q", r.stderr)
	}
	if got := head(s, "main"); got != before {
		t.Errorf("main moved from %s to %s", before, got)
	}
	if _, err := os.Stat(s.dir); err != nil {
		t.Fatal(err)
	}
	s.fails(2, "merge", "feature", "--strategy", "mine")
	s.fails(1, "merge", "nosuch")
	h := strings.TrimSpace(s.ok("merge", "feature", "--strategy", "theirs", "-m", "take theirs"))
	if got := head(s, "main"); got != h {
		t.Errorf("merge printed %s, main is at %s", h, got)
	}
	c := decodeLines[logEntry](t, s.ok("log", "-n", "1", "--json"))[0]
	if c.Message != "take theirs" || len(c.Parents) != 2 || c.Parents[0] != before || c.Parents[1] != head(s, "feature") {
		t.Errorf("merge commit %+v", c)
	}
	for path, want := range map[string]string{
		"svc/app": `{"cpu":2,"owner":"alice"}`, "both": "feature", "gone": "changed",
		"clash/inside": "x", "only-feature": "f",
	} {
		if got := s.ok("get", path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	// Merging again changes nothing; the other way is a fast-forward.
	if got := strings.TrimSpace(s.ok("merge", "feature")); got != h {
		t.Errorf("merge again: %s", got)
	}
	if got := strings.TrimSpace(s.ok("merge", "main", "-b", "feature")); got != h {
		t.Errorf("fast-forward printed %s, want %s", got, h)
	}
	if got := lines(s.ok("merge-base", "main", "feature")); !cmp.Equal(got, []string{h}) {
		t.Errorf("merge-base: %v", got)
	}
	s.ok("set", "-b", "lonely", "k", "v")
	s.fails(1, "merge-base", "main", "lonely")
}

func TestTypedValuesAndIncr(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	if got := s.ok("incr", "hits"); got != "1\n" {
		t.Errorf("incr: %q", got)
	}
	if got := s.ok("incr", "hits", "41"); got != "42\n" {
		t.Errorf("incr 41: %q", got)
	}
	if got := s.ok("incr", "hits", "--", "-50"); got != "-8\n" {
		t.Errorf("incr -50: %q", got)
	}
	if got := s.ok("get", "--type", "hits"); got != "counter\n" {
		t.Errorf("get --type: %q", got)
	}
	if got := s.ok("get", "hits"); got != "-8" {
		t.Errorf("get: %q", got)
	}
	s.ok("set", "--type", "json", "doc", ` {"b": [1, 2], "a": "x"} `)
	if got := s.ok("get", "doc"); got != `{"a":"x","b":[1,2]}` {
		t.Errorf("canonical JSON: %q", got)
	}
	s.ok("set", "-t", "text", "notes", "line\n")
	if got := s.ok("get", "--type", "notes", "--at", "main"); got != "text\n" {
		t.Errorf("text: %q", got)
	}
	s.fails(1, "get", "--type", "plain")
	for _, args := range [][]string{
		{"set", "--type", "json", "bad", "{"},
		{"set", "--type", "counter", "bad", "12x"},
		{"set", "--type", "blob", "bad", "x"},
		{"incr", "doc"},
		{"incr", "hits", "x"},
		{"incr", "hits", "--", "-9223372036854775808"},
	} {
		s.fails(2, args...)
	}
	if got := s.ok("get", "hits"); got != "-8" {
		t.Errorf("after failed increments: %q", got)
	}
}

func TestRevertAndCherryPickCLI(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.ok("set", "a", "1")
	c2 := strings.TrimSpace(s.ok("set", "b", "2", "-m", "add b"))
	s.ok("set", "a", "3")
	s.ok("revert", c2)
	if got := lines(s.ok("ls")); !cmp.Equal(got, []string{"a"}) {
		t.Errorf("after revert: %v", got)
	}
	if msg := decodeLines[logEntry](t, s.ok("log", "-n", "1", "--json"))[0].Message; !strings.HasPrefix(msg, `revert "add b"`) {
		t.Errorf("revert message %q", msg)
	}
	r := s.fails(3, "revert", "main~3")
	if !strings.HasPrefix(r.stdout, "C a delete: ") {
		t.Errorf("revert conflict listing %q", r.stdout)
	}
	s.ok("branch", "old", "main~3")
	s.ok("cherry-pick", c2, "-b", "old")
	if got := s.ok("get", "-b", "old", "b"); got != "2" {
		t.Errorf("cherry-picked b = %q", got)
	}
	if msg := decodeLines[logEntry](t, s.ok("log", "old", "-n", "1", "--json"))[0].Message; msg != "add b" {
		t.Errorf("cherry-pick message %q", msg)
	}
}

// TestConcurrentIncrProcesses: four processes each run 15 increments of
// one counter on one on-disk store at once (each increment a process of
// its own, waiting for the store's lock): exactly 60.
func TestConcurrentIncrProcesses(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.ok("init")
	const procs, each = 4, 15
	var wg sync.WaitGroup
	errs := make(chan string, procs)
	for p := 0; p < procs; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				args := []string{"incr", "stats/hits"}
				r, err := runStrata([]string{"STRATA_STORE=" + s.dir}, s.cwd, nil, args...)
				if err == nil {
					checkRun(t, args, r)
				}
				if err != nil || r.code != 0 {
					errs <- fmt.Sprintf("process %d incr %d: exit %d, %v: %s", p, i, r.code, err, r.stderr)
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
	if got := s.ok("get", "stats/hits"); got != fmt.Sprint(procs*each) {
		t.Errorf("hits = %s, want %d", got, procs*each)
	}
}
