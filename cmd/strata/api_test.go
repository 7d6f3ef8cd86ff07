package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCLIReset checks "strata reset": it moves the branch to any commit
// and prints the new head (also as JSON), the next set builds on it, and
// bad revisions and branches are errors with the documented exit codes.
func TestCLIReset(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	c1 := s.set("a", "1")
	c2 := s.set("b", "2")
	s.set("c", "3")
	if out := s.ok("reset", "main~2"); out != c1+"\n" {
		t.Errorf("reset printed %q, want %q", out, c1+"\n")
	}
	if out := s.ok("log", "--oneline"); strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, c1[:12]) {
		t.Errorf("log after reset:\n%s", out)
	}
	s.fails(exitNotFound, "get", "b")
	c4 := s.set("d", "4")
	if out := s.ok("log", "-n", "1", "--json"); !strings.Contains(out, `"parents":["`+c1+`"]`) {
		t.Errorf("the set after reset is not on the new head: %s", out)
	}

	var got struct{ Head string }
	if err := json.Unmarshal([]byte(s.ok("reset", c2, "-b", "other", "--json")), &got); err != nil {
		t.Fatal(err)
	}
	if got.Head != c2 {
		t.Errorf("reset --json head %q, want %q", got.Head, c2)
	}
	if out := s.ok("branch"); !strings.Contains(out, "other") {
		t.Errorf("reset -b other did not create it: %q", out)
	}
	s.fails(exitNotFound, "reset", "nope")
	s.fails(exitUsage, "reset", "main~x")
	s.fails(exitUsage, "reset", "main", "-b", "-bad")
	s.fails(exitUsage, "reset")
	if out := s.ok("log", "-n", "1", "--oneline"); !strings.HasPrefix(out, c4[:12]) {
		t.Errorf("failed resets moved main: %q", out)
	}
}

// TestCLIMergeFFOnly checks "strata merge --ff-only": a fast-forward
// moves the branch; a merge that needs a merge commit exits 3 and writes
// nothing; --ff-only with --no-ff is a usage error.
func TestCLIMergeFFOnly(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.set("a", "1")
	s.ok("branch", "f", "main")
	f1 := s.set("b", "2", "-b", "f")
	if out := s.ok("merge", "f", "--ff-only"); out != f1+"\n" {
		t.Errorf("merge --ff-only printed %q, want %q", out, f1+"\n")
	}
	m2 := s.set("c", "3")
	s.set("d", "4", "-b", "f")
	r := s.fails(exitConflict, "merge", "f", "--ff-only")
	if !strings.Contains(r.stderr, "fast-forward") {
		t.Errorf("merge --ff-only on diverged branches: stderr %q does not say why", r.stderr)
	}
	if out := s.ok("log", "-n", "1", "--oneline"); !strings.HasPrefix(out, m2[:12]) {
		t.Errorf("a refused merge moved main: %q", out)
	}
	s.fails(exitConflict, "merge", "f", "--ff-only", "--json")
	s.fails(exitUsage, "merge", "f", "--ff-only", "--no-ff")
}

// TestCLILogRange checks "strata log A..B" with the default, --oneline and
// --json outputs, and its bad forms.
func TestCLILogRange(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	c1 := s.set("a", "1")
	s.ok("branch", "f", "main")
	c2 := s.set("b", "2")
	c3 := s.set("c", "3")
	f1 := s.set("x", "x", "-b", "f")

	var hashes []string
	for _, line := range strings.Split(strings.TrimSpace(s.ok("log", "f..main", "--json")), "\n") {
		var c struct{ Hash string }
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("log --json line %q: %v", line, err)
		}
		hashes = append(hashes, c.Hash)
	}
	if diff := cmp.Diff([]string{c3, c2}, hashes); diff != "" {
		t.Errorf("log f..main (-want +got):\n%s", diff)
	}
	if out := s.ok("log", "main..f", "--oneline"); !strings.HasPrefix(out, f1[:12]+" ") || strings.Count(out, "\n") != 1 {
		t.Errorf("log main..f --oneline = %q, want only %s", out, f1[:12])
	}
	if out := s.ok("log", "main~1..main"); !strings.HasPrefix(out, "commit "+c3) || strings.Contains(out, c2) {
		t.Errorf("log main~1..main = %q", out)
	}
	if out := s.ok("log", "main.."+c1); out != "" {
		t.Errorf("an empty range printed %q", out)
	}
	s.fails(exitUsage, "log", "main..")
	s.fails(exitUsage, "log", "..main")
	s.fails(exitNotFound, "log", "nope..main")
}
