package main

// Regression tests for issue 9, findings 8 to 11, on the built binary:
// a missing object is damage (exit 4), a damaged branch is reported and
// repaired with branch -d, paths are bounded (exit 2), and no name forges
// an output line.

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/internal/damage"
	"github.com/stratakv/strata/node"
)

// withKV opens the test's store in this process (no command may run
// meanwhile) and runs fn on it.
func (s *store) withKV(fn func(kv *strata.KV)) {
	s.t.Helper()
	kv, err := strata.Open(context.Background(), s.dir, strata.MustExist())
	if err != nil {
		s.t.Fatal(err)
	}
	defer func() {
		if err := kv.Close(); err != nil {
			s.t.Fatal(err)
		}
	}()
	fn(kv)
}

func TestMissingObjectExitsDamaged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	s.set("top", "t")
	s.set("a/b/c", "v")
	var sub strata.Hash
	s.withKV(func(kv *strata.KV) {
		c, err := kv.Commit(ctx, "main")
		if err != nil {
			t.Fatal(err)
		}
		root, err := node.NewStore(kv.Backend(), -1).Load(ctx, c.Tree)
		if err != nil {
			t.Fatal(err)
		}
		if root.Leaf == nil {
			t.Fatal("the root directory is an index, not a leaf node")
		}
		e, ok := root.Leaf.Find("a")
		if !ok {
			t.Fatal("no directory a")
		}
		sub = e.Hash
		if err := kv.Backend().(backend.ObjectDeleter).DeleteObjects(ctx, []backend.Hash{sub}); err != nil {
			t.Fatal(err)
		}
	})
	for _, args := range [][]string{
		{"get", "a/b/c"},
		{"get", "a/x"},
		{"set", "a/b/d", "w"},
		{"incr", "a/n"},
		{"ls", "a"},
		{"ls", "a/b"},
		{"diff", "main~1", "main"},
		{"show"},
		{"log", "--", "a/b/c"},
		{"fsck"},
	} {
		r := s.fails(exitFailure, args...)
		if !strings.Contains(r.stderr+r.stdout, sub.String()) {
			t.Errorf("strata %q: stderr %q does not name the missing object %s", args, r.stderr, sub)
		}
	}
	// The healthy part still reads, and absence there is still exit 1.
	if got := s.ok("get", "top"); got != "t" {
		t.Errorf("get top = %q", got)
	}
	s.fails(exitNotFound, "get", "nope")
	s.fails(exitNotFound, "log", strings.Repeat("ab", 32))
}

// corruptRef overwrites ref name of the closed Pebble store in dir with 5
// bytes, as a damaged disk might.
func corruptRef(t *testing.T, dir, name string) {
	t.Helper()
	if err := damage.PebbleRef(dir, name, []byte("12345")); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptBranchIsReportedAndRepaired(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	for _, b := range []string{"alpha", "main", "zeta"} {
		s.set("k", b, "-b", b)
	}
	corruptRef(t, s.dir, "heads/main")

	r := s.fails(exitFailure, "branch")
	if diff := cmp.Diff([]string{"alpha", "zeta"}, lines(r.stdout)); diff != "" {
		t.Errorf("branch listed (-want +got):\n%s", diff)
	}
	if !strings.Contains(r.stderr, `"main"`) || !strings.Contains(r.stderr, "branch -d") {
		t.Errorf("branch: stderr %q does not name main and the repair", r.stderr)
	}
	r = s.fails(exitFailure, "fsck")
	if !strings.Contains(r.stdout, "corrupt branch main") || !strings.Contains(r.stdout, "checked 2 commits") {
		t.Errorf("fsck did not report main and check the others:\n%s", r.stdout)
	}
	r = s.fails(exitFailure, "get", "k")
	if !strings.Contains(r.stderr, "damaged") {
		t.Errorf("get on the damaged branch: %q", r.stderr)
	}
	s.ok("branch", "-d", "main")
	if diff := cmp.Diff([]string{"alpha", "zeta"}, lines(s.ok("branch"))); diff != "" {
		t.Errorf("branch after repair (-want +got):\n%s", diff)
	}
	s.ok("fsck")
	s.set("k", "again")
}

func TestPathLimitsOnTheCommandLine(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	deepest := strings.TrimSuffix(strings.Repeat("d/", strata.MaxPathSegments), "/")
	s.set(deepest, "v")
	if got := s.ok("get", deepest); got != "v" {
		t.Errorf("get at the depth limit = %q", got)
	}
	for _, p := range []string{deepest + "/d", strings.Repeat("x", strata.MaxPathBytes+1)} {
		for _, args := range [][]string{{"set", p, "v"}, {"get", p}, {"ls", p}, {"incr", p}, {"rm", p}, {"log", "--", p}} {
			r := s.fails(exitUsage, args...)
			if len(r.stderr) > 300 {
				t.Errorf("strata %s of a %d-byte path: a %d-byte error", args[0], len(p), len(r.stderr))
			}
		}
	}
}

func TestNamesCannotForgeLines(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.set("x/c", "1")
	s.set("x/a\nb", "2")
	s.set("x/q\"uote\\", "3")
	s.set("x/d\x1b[1m", "4")
	s.set("x/ünï", "5")
	want := []string{`"a\nb"`, "c", `"d\033[1m"`, `"q\"uote\\"`, "ünï"}
	if diff := cmp.Diff(want, lines(s.ok("ls", "x"))); diff != "" {
		t.Errorf("ls (-want +got):\n%s", diff)
	}
	s.set("y\n/z", "6")
	if diff := cmp.Diff([]string{"x/", `"y\n/"`}, lines(s.ok("ls"))); diff != "" {
		t.Errorf("ls / (-want +got):\n%s", diff)
	}
	r := s.ok("diff", "main~5", "main")
	wantDiff := []string{`A "x/a\nb"`, `A "x/d\033[1m"`, `A "x/q\"uote\\"`, "A x/ünï", `A "y\n/z"`}
	if diff := cmp.Diff(wantDiff, lines(r)); diff != "" {
		t.Errorf("diff (-want +got):\n%s", diff)
	}
	var paths []string
	for _, c := range decodeLines[change](t, s.ok("diff", "main~5", "main", "--json")) {
		paths = append(paths, c.Path)
	}
	if diff := cmp.Diff([]string{"x/a\nb", "x/d\x1b[1m", "x/q\"uote\\", "x/ünï", "y\n/z"}, paths); diff != "" {
		t.Errorf("diff --json paths (-want +got):\n%s", diff)
	}
	show := s.ok("show")
	if !strings.Contains(show, "\nA \"y\\n/z\"\n") {
		t.Errorf("show does not quote the path:\n%s", show)
	}
	// The newer line outputs quote the same way: ls -R, diff --name-only
	// and diff --stat's top-level names; ls -R --json carries them exactly.
	wantR := []string{`"x/a\nb"`, "x/c", `"x/d\033[1m"`, `"x/q\"uote\\"`, "x/ünï", `"y\n/z"`}
	if diff := cmp.Diff(wantR, lines(s.ok("ls", "-R"))); diff != "" {
		t.Errorf("ls -R (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantR[:5], lines(s.ok("ls", "-R", "x"))); diff != "" {
		t.Errorf("ls -R x (-want +got):\n%s", diff)
	}
	paths = nil
	for _, e := range decodeLines[lsOut](t, s.ok("ls", "-R", "--json")) {
		paths = append(paths, e.Path)
	}
	if diff := cmp.Diff([]string{"x/a\nb", "x/c", "x/d\x1b[1m", "x/q\"uote\\", "x/ünï", "y\n/z"}, paths); diff != "" {
		t.Errorf("ls -R --json paths (-want +got):\n%s", diff)
	}
	wantNames := []string{`"x/a\nb"`, `"x/d\033[1m"`, `"x/q\"uote\\"`, "x/ünï", `"y\n/z"`}
	if diff := cmp.Diff(wantNames, lines(s.ok("diff", "--name-only", "main~5", "main"))); diff != "" {
		t.Errorf("diff --name-only (-want +got):\n%s", diff)
	}
	wantStat := []string{
		"x/      4 added, 0 modified, 0 removed",
		`"y\n/"  1 added, 0 modified, 0 removed`,
		"5 values changed: 5 added, 0 modified, 0 removed",
	}
	if diff := cmp.Diff(wantStat, lines(s.ok("diff", "--stat", "main~5", "main"))); diff != "" {
		t.Errorf("diff --stat (-want +got):\n%s", diff)
	}
}
