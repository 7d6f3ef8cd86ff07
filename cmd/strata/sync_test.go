package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/commit"
)

var summaryLine = regexp.MustCompile(`^sent [0-9,]+ objects \([0-9.]+ [KMG]?B\) in [0-9.]+ s, [0-9]+ round trips\n$`)

// syncSummary reports whether stderr is the one summary line that clone,
// fetch, pull and push print on success.
func syncSummary(args []string, stderr string) bool {
	for _, a := range args {
		switch a {
		case "clone", "fetch", "pull", "push":
			return summaryLine.MatchString(stderr)
		case "gc":
			return gcSummary.MatchString(stderr)
		}
	}
	return false
}

func TestSyncCLI(t *testing.T) {
	a := newStore(t)
	a.set("k", "1")
	a.set("j", "1")
	bdir := filepath.Join(t.TempDir(), "b")
	a.ok("clone", a.dir, bdir)
	b := &store{t: t, dir: bdir, cwd: a.cwd}
	if got := b.ok("get", "k"); got != "1" {
		t.Fatalf("clone: get k = %q", got)
	}
	// Non-fast-forward push: exit 3, nothing changed; --force moves it.
	a.set("k", "from a")
	b.set("k", "from b")
	r := b.fails(3, "push")
	if !strings.Contains(r.stderr, "pull first") {
		t.Errorf("rejected push: %q", r.stderr)
	}
	if got := a.ok("get", "k"); got != "from a" {
		t.Fatalf("rejected push changed a: %q", got)
	}
	// Pull with conflicts: exit 3, conflicts listed, nothing written.
	head := b.ok("log", "-n", "1")
	r = b.fails(3, "pull")
	if !strings.Contains(r.stdout, "C k") {
		t.Errorf("conflicts not listed: %q", r.stdout)
	}
	if got := b.ok("log", "-n", "1"); got != head {
		t.Errorf("conflicting pull wrote to main")
	}
	b.ok("push", "--force", "-q")
	// The push moved b's remote-tracking ref too, as git push does.
	if got, want := b.ok("log", "-n", "1", "--oneline", "origin/main"), b.ok("log", "-n", "1", "--oneline", "main"); got != want {
		t.Errorf("origin/main after push = %q, want main's head %q", got, want)
	}
	if got := a.ok("get", "k"); got != "from b" {
		t.Fatalf("forced push: a's k = %q", got)
	}
	// A fast-forward pull, statistics as JSON.
	a.set("j", "2")
	out := b.ok("pull", "origin", "main", "--json")
	if !strings.Contains(out, `"objects":`) {
		t.Errorf("pull --json: %q", out)
	}
	if got := b.ok("get", "j"); got != "2" {
		t.Fatalf("pull: j = %q", got)
	}
	b.ok("fetch")
	b.fails(1, "fetch", "nosuchremote")
	// A clone refused for its options or for a branch the source lacks
	// leaves no store behind.
	for _, tc := range []struct {
		code int
		args []string
		msg  string
	}{
		{2, []string{"--depth", "0"}, "--depth 0"},
		{1, []string{"-b", "nosuch"}, `"nosuch"`},
		{2, []string{"-b", "a..b"}, "a..b"},
	} {
		dst := filepath.Join(t.TempDir(), "c")
		r := a.fails(tc.code, append([]string{"clone", a.dir, dst}, tc.args...)...)
		if !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("clone %q: stderr %q does not name %s", tc.args, r.stderr, tc.msg)
		}
		if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("clone %q left %s behind (%v)", tc.args, dst, err)
		}
	}
}

// TestSyncRelativePaths: a store named by a relative path (or a dotted
// name that is no remote's) is a store, not a remote's name, and a clone
// records its origin as an absolute path, usable from any directory.
func TestSyncRelativePaths(t *testing.T) {
	a := newStore(t)
	a.set("k", "1")
	// From a's working directory, name both stores relatively.
	rel, err := filepath.Rel(a.cwd, a.dir)
	if err != nil {
		t.Fatal(err)
	}
	a.ok("-s", rel, "clone", rel, "copy.strata")
	copyDir := filepath.Join(a.cwd, "copy.strata")
	c := &store{t: t, dir: copyDir, cwd: t.TempDir()} // another directory
	if got := c.ok("remote"); got != "origin "+a.dir+"\n" {
		t.Errorf("remote of the clone = %q, want origin at the absolute path %s", got, a.dir)
	}
	a.set("k", "2")
	c.ok("pull") // origin works from elsewhere
	if got := c.ok("get", "k"); got != "2" {
		t.Errorf("after pull from origin: k = %q", got)
	}
	a.set("k", "3")
	a.ok("push", "./copy.strata") // a relative path as REMOTE
	a.fails(1, "push", "nope")    // a plain name that is no remote
	if got := c.ok("get", "k"); got != "3" {
		t.Errorf("push to ./copy.strata changed the clone: k = %q", got)
	}
}

// TestCommitGraphWriteCLI: a clone has no commit-graph runs (clone writes
// none); 'strata commit-graph write' writes one per commit.RunLen commits
// of the history, then none on a second run; commits fetched onto a
// remote-tracking ref get theirs too; a missing or unknown subcommand,
// or an extra argument, is a usage error.
func TestCommitGraphWriteCLI(t *testing.T) {
	a := newStore(t)
	commits := func(n int) {
		withKV(t, a, func(ctx context.Context, kv *strata.KV) {
			for i := range n {
				if _, err := kv.Branch("main").Set(ctx, fmt.Sprintf("k%d", i%5), []byte(fmt.Sprint(i))); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	commits(2*commit.RunLen + 3)
	bdir := filepath.Join(t.TempDir(), "b")
	a.ok("clone", a.dir, bdir)
	b := &store{t: t, dir: bdir, cwd: a.cwd}
	type written struct {
		Written int `json:"written"`
	}
	if got := decodeOne[written](t, b.ok("commit-graph", "write", "--json")); got.Written != 2 {
		t.Errorf("first write: %d runs, want 2 (heights %d and %d)", got.Written, commit.RunLen, 2*commit.RunLen)
	}
	if got := b.ok("commit-graph", "write"); got != "wrote 0 commit-graph runs\n" {
		t.Errorf("second write: %q, want none written", got)
	}
	// 64 more commits in a, fetched onto origin/main in b: the run at
	// height 192 is missing there until the next write.
	commits(commit.RunLen)
	b.ok("fetch")
	if got := b.ok("commit-graph", "write"); got != "wrote 1 commit-graph run\n" {
		t.Errorf("write after a fetch: %q, want the fetched commits' run", got)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"commit-graph"}, "commit-graph: want a subcommand: write"},
		{[]string{"commit-graph", "read"}, `commit-graph: unknown subcommand "read" (want write)`},
		{[]string{"commit-graph", "write", "x"}, "commit-graph write: want no arguments, got 1"},
	} {
		if r := b.fails(2, c.args...); !strings.Contains(r.stderr, c.want) {
			t.Errorf("strata %q: stderr %q, want %q", c.args, r.stderr, c.want)
		}
	}
}

// TestSyncFromADamagedRemote: a fetch whose remote holds a damaged
// object fails (exit 4) saying the store copied from is damaged, not
// this one, and leaves this store as it was, clean.
func TestSyncFromADamagedRemote(t *testing.T) {
	t.Parallel()
	a := newStore(t)
	a.set("k", "1")
	bdir := filepath.Join(t.TempDir(), "b")
	a.ok("clone", a.dir, bdir)
	b := &store{t: t, dir: bdir, cwd: a.cwd}
	before := b.ok("log", "--oneline", "origin/main")
	a.set("k", "a value long enough to be an object of its own, to be damaged")
	flipValue(t, a.dir, "a value long enough to be an object of its own, to be damaged")
	r := b.fails(exitFailure, "fetch")
	if !strings.Contains(r.stderr, "store copied from is damaged") || strings.Contains(r.stderr, "; the store is damaged") {
		t.Errorf("fetch from a damaged remote: stderr %q", r.stderr)
	}
	if got := b.ok("log", "--oneline", "origin/main"); got != before {
		t.Errorf("origin/main moved: %q, was %q", got, before)
	}
	b.ok("fsck")
}
