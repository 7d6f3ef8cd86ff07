package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stratakv/strata"
)

// Tests of the command-line conventions of issue 10, section 3: version,
// --json everywhere, log --oneline/--graph/--since/--until, the forms of
// diff, ls -R, help on an unknown command, the default author, shell
// completion and get's bytes.

// decodeOne decodes out as exactly one JSON document on one line.
func decodeOne[T any](t *testing.T, out string) T {
	t.Helper()
	vs := decodeLines[T](t, out)
	if len(vs) != 1 {
		t.Fatalf("want one JSON line, got %d: %q", len(vs), out)
	}
	return vs[0]
}

// withKV opens the test's store in this process (creating it) and runs fn,
// for setting up states that would take thousands of commands.
func withKV(t *testing.T, s *store, fn func(ctx context.Context, kv *strata.KV)) {
	t.Helper()
	ctx := context.Background()
	kv, err := strata.Open(ctx, s.dir)
	if err != nil {
		t.Fatal(err)
	}
	fn(ctx, kv)
	if err := kv.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	type versionOut struct {
		Version string `json:"version"`
		Format  int    `json:"format"`
		Go      string `json:"go"`
	}
	v := decodeOne[versionOut](t, s.ok("version", "--json"))
	// A build from a source tree is "(devel)"; one stamped from version
	// control carries a (pseudo-)version.
	if v.Version != "(devel)" && !strings.HasPrefix(v.Version, "v") {
		t.Errorf("version %q, want (devel) or a module version", v.Version)
	}
	if v.Format != strata.FormatVersion || v.Format < 1 {
		t.Errorf("format %d, want %d", v.Format, strata.FormatVersion)
	}
	if v.Go != runtime.Version() {
		t.Errorf("go %q, want %q (the test is built by the same toolchain)", v.Go, runtime.Version())
	}
	want := fmt.Sprintf("strata %s (format %d, %s)\n", v.Version, v.Format, v.Go)
	if got := s.ok("version"); got != want {
		t.Errorf("version: %q, want %q", got, want)
	}
	if got := s.ok("--version"); got != want {
		t.Errorf("--version: %q, want %q", got, want)
	}
	s.fails(2, "version", "extra")
	if s.exists() {
		t.Error("version created the store")
	}
}

func TestHelpUnknownCommand(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	r := s.fails(2, "help", "NOPE")
	if r.stdout != "" || !strings.Contains(r.stderr, `"NOPE"`) {
		t.Errorf("help NOPE: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	s.fails(2, "help", "get", "extra")
	if out := s.ok("help", "get"); !strings.Contains(out, "Get writes the value at PATH") {
		t.Errorf("help get: %q", out)
	}
	if out := s.ok("help"); !strings.Contains(out, "Exit codes:") {
		t.Errorf("help: %q", out)
	}
}

// TestDefaultAuthor: commits made by the command line are by
// $STRATA_AUTHOR, else the operating system user; --author overrides; a
// cherry-pick keeps the picked commit's author, as in git.
func TestDefaultAuthor(t *testing.T) {
	// Not parallel: it sets the environment the child processes inherit.
	s := newStore(t)
	author := func(rev string) string {
		t.Helper()
		return decodeOne[logEntry](t, s.ok("log", rev, "-n", "1", "--json")).Author
	}
	osUser := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		osUser = u.Username
	}
	t.Setenv("STRATA_AUTHOR", "")
	s.set("k", "1")
	if got := author("main"); got != osUser {
		t.Errorf("without $STRATA_AUTHOR: author %q, want the user %q", got, osUser)
	}

	t.Setenv("STRATA_AUTHOR", "alice")
	s.ok("branch", "f")
	for _, args := range [][]string{
		{"set", "k", "2"},
		{"incr", "n"},
		{"rm", "n"},
		{"set", "x", "1", "-b", "f"},
		{"merge", "f", "--no-ff"},
		{"revert", "main"},
	} {
		s.ok(args...)
		if got := author("main"); got != "alice" && args[len(args)-1] != "f" {
			t.Errorf("%q: author %q, want alice", args, got)
		}
	}
	if got := author("f"); got != "alice" {
		t.Errorf("set -b f: author %q, want alice", got)
	}
	s.ok("set", "y", "1", "-b", "f", "--author", "bob")
	if got := author("f"); got != "bob" {
		t.Errorf("--author bob: author %q", got)
	}
	s.ok("cherry-pick", "f")
	if got := author("main"); got != "bob" {
		t.Errorf("cherry-pick of bob's commit: author %q, want bob (kept)", got)
	}
	s.ok("set", "z", "1", "-b", "f")
	s.ok("cherry-pick", "f", "--author", "carol")
	if got := author("main"); got != "carol" {
		t.Errorf("cherry-pick --author carol: author %q", got)
	}
}

// getOut is what get --json prints, decoded by the test's own struct.
type getOut struct {
	Path        string  `json:"path"`
	Kind        string  `json:"kind"`
	Value       *string `json:"value"`
	ValueBase64 *string `json:"value_base64"`
}

func TestGetJSONAndExactBytes(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	bin := []byte{0xff, 0x00, 'a', 0xfe}
	s.run(bin, "set", "bin", "-")
	s.set("text", "héllo")
	s.set("empty", "")
	s.ok("set", "--type", "json", "doc", `{"b": 1, "a": [true]}`)
	s.ok("incr", "hits", "5")

	for _, tc := range []struct {
		path string
		want getOut
	}{
		{"text", getOut{Path: "text", Kind: "raw", Value: ptr("héllo")}},
		{"bin", getOut{Path: "bin", Kind: "raw", ValueBase64: ptr(base64.StdEncoding.EncodeToString(bin))}},
		{"empty", getOut{Path: "empty", Kind: "raw", Value: ptr("")}},
		{"doc", getOut{Path: "doc", Kind: "json", Value: ptr(`{"a":[true],"b":1}`)}},
		{"hits", getOut{Path: "hits", Kind: "counter", Value: ptr("5")}},
	} {
		got := decodeOne[getOut](t, s.ok("get", "--json", tc.path))
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("get --json %s (-want +got):\n%s", tc.path, diff)
		}
	}
	if r := s.run(nil, "get", "--json", "-b", "main", "bin"); r.code != 0 || strings.Contains(r.stdout, `"value":`) {
		t.Errorf("binary value given as a string: %q", r.stdout)
	}
	s.fails(1, "get", "--json", "nosuch")

	// Standard output is a pipe here: the exact bytes, no newline added.
	if got := s.ok("get", "bin"); got != string(bin) {
		t.Errorf("get bin: %q, want %q", got, bin)
	}
	if got := s.ok("get", "text"); got != "héllo" {
		t.Errorf("get text: %q, want no newline added", got)
	}
}

// TestGetNewlineDecision checks when get adds a newline: only on a
// terminal, and only if the value lacks one. (No pty library is available
// to test a real terminal; the pipe case is tested on the binary above.)
func TestGetNewlineDecision(t *testing.T) {
	for _, tc := range []struct {
		terminal bool
		v        string
		want     bool
	}{
		{false, "v", false},
		{false, "", false},
		{true, "v", true},
		{true, "v\n", false},
		{true, "", false},
	} {
		if got := addNewline(tc.terminal, []byte(tc.v)); got != tc.want {
			t.Errorf("addNewline(%v, %q) = %v, want %v", tc.terminal, tc.v, got, tc.want)
		}
	}
	if isTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("a regular file is a terminal")
	}
}

// lsOut is one line of ls --json.
type lsOut struct {
	Name string `json:"name"`
	Path string `json:"path"`
	Dir  bool   `json:"dir"`
}

// TestLsRecursive: ls -R prints every value below PATH by its full path,
// across directories larger than one page of its listing; ls --json.
func TestLsRecursive(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	const n = 2*lsPage + 5 // more than two pages in one directory
	var want []string
	withKV(t, s, func(ctx context.Context, kv *strata.KV) {
		_, err := kv.Branch("main").Update(ctx, func(tx *strata.Tx) error {
			for _, p := range []string{"a/x", "a/y/z", "b"} {
				if err := tx.Set(p, []byte("v")); err != nil {
					return err
				}
			}
			for i := 0; i < n; i++ {
				if err := tx.Set(fmt.Sprintf("a/big/k%05d", i), []byte("v")); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	for i := 0; i < n; i++ {
		want = append(want, fmt.Sprintf("a/big/k%05d", i))
	}
	want = append(want, "a/x", "a/y/z")
	if diff := cmp.Diff(want, lines(s.ok("ls", "-R", "a"))); diff != "" {
		t.Errorf("ls -R a (-want +got):\n%s", diff)
	}
	all := lines(s.ok("ls", "-R"))
	if len(all) != n+3 || all[len(all)-1] != "b" {
		t.Errorf("ls -R: %d lines ending %q, want %d ending \"b\"", len(all), all[len(all)-1], n+3)
	}
	if diff := cmp.Diff([]string{"a/y/z"}, lines(s.ok("ls", "--recursive", "a/y/"))); diff != "" {
		t.Errorf("ls --recursive a/y/ (-want +got):\n%s", diff)
	}
	got := decodeLines[lsOut](t, s.ok("ls", "--json", "a", "--limit", "2"))
	if diff := cmp.Diff([]lsOut{{"big", "a/big", true}, {"x", "a/x", false}}, got); diff != "" {
		t.Errorf("ls --json (-want +got):\n%s", diff)
	}
	got = decodeLines[lsOut](t, s.ok("ls", "--json", "-R", "a/y"))
	if diff := cmp.Diff([]lsOut{{"z", "a/y/z", false}}, got); diff != "" {
		t.Errorf("ls --json -R (-want +got):\n%s", diff)
	}
	s.fails(2, "ls", "-R", "--limit", "3")
	s.fails(2, "ls", "-R", "--after", "k")
	s.fails(1, "ls", "-R", "nosuch")
}

func TestBranchMergeBaseJSON(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	base := s.set("k", "1")
	s.ok("branch", "f")
	s.set("k", "2")
	type branchOut struct {
		Name string `json:"name"`
		Head string `json:"head"`
	}
	got := decodeLines[branchOut](t, s.ok("branch", "--json"))
	if diff := cmp.Diff([]branchOut{{"f", base}, {"main", head(s, "main")}}, got); diff != "" {
		t.Errorf("branch --json (-want +got):\n%s", diff)
	}
	type basesOut struct {
		Bases []string `json:"bases"`
	}
	if diff := cmp.Diff(basesOut{[]string{base}}, decodeOne[basesOut](t, s.ok("merge-base", "--json", "main", "f"))); diff != "" {
		t.Errorf("merge-base --json (-want +got):\n%s", diff)
	}
}

// mergeOut is what merge, revert and cherry-pick print with --json.
type mergeOut struct {
	Head      string `json:"head"`
	Conflicts []struct {
		Path   string `json:"path"`
		Kind   string `json:"kind"`
		Detail string `json:"detail"`
	} `json:"conflicts"`
}

func TestMergeJSON(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.set("k", "base")
	s.ok("branch", "f")
	s.set("k", "ours")
	s.set("k", "theirs", "-b", "f")
	before := head(s, "main")
	r := s.fails(3, "merge", "f", "--json")
	got := decodeOne[mergeOut](t, r.stdout)
	if got.Head != "" || len(got.Conflicts) != 1 || got.Conflicts[0].Path != "k" || got.Conflicts[0].Kind != "content" || got.Conflicts[0].Detail == "" {
		t.Errorf("merge --json with a conflict: %+v", got)
	}
	if head(s, "main") != before {
		t.Error("a conflicted merge moved main")
	}
	got = decodeOne[mergeOut](t, s.ok("merge", "f", "--json", "--strategy", "theirs"))
	if got.Head != head(s, "main") || got.Conflicts != nil {
		t.Errorf("merge --json: %+v, want the new head %s", got, head(s, "main"))
	}
	got = decodeOne[mergeOut](t, s.ok("revert", "main", "--json"))
	if got.Head != head(s, "main") {
		t.Errorf("revert --json: %+v", got)
	}
}

func TestLogOnelineAndTimeBounds(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	now := time.Now()
	days := []int{30, 10, 3} // commits made this many days ago
	var hashes []string
	withKV(t, s, func(ctx context.Context, kv *strata.KV) {
		for i, d := range days {
			h, err := kv.Branch("main").Set(ctx, "k", []byte{byte('a' + i)},
				strata.Message(fmt.Sprintf("commit %d\nbody", i)), strata.Time(now.Add(-time.Duration(d)*24*time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
			hashes = append(hashes, h.String())
		}
	})
	line := func(i int) string { return fmt.Sprintf("%s commit %d", hashes[i][:12], i) }
	if diff := cmp.Diff([]string{line(2), line(1), line(0)}, lines(s.ok("log", "--oneline"))); diff != "" {
		t.Errorf("log --oneline (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--since", "7d"}, []string{line(2)}},
		{[]string{"--since", "2w"}, []string{line(2), line(1)}},
		{[]string{"--until", "5d"}, []string{line(1), line(0)}},
		{[]string{"--since", "20d", "--until", "240h"}, []string{line(1)}},
		{[]string{"--since", now.Add(-15 * 24 * time.Hour).UTC().Format(time.RFC3339)}, []string{line(2), line(1)}},
		{[]string{"--until", now.Add(-15 * 24 * time.Hour).Format(time.RFC3339)}, []string{line(0)}},
		{[]string{"--until", "5d", "-n", "1"}, []string{line(1)}},
		{[]string{"--since", "1h"}, nil},
	} {
		got := lines(s.ok(append([]string{"log", "--oneline"}, tc.args...)...))
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("log --oneline %q (-want +got):\n%s", tc.args, diff)
		}
	}
	if got := decodeLines[logEntry](t, s.ok("log", "--json", "--since", "7d")); len(got) != 1 || got[0].Hash != hashes[2] {
		t.Errorf("log --json --since 7d: %+v", got)
	}
	for _, bad := range [][]string{
		{"--since", "yesterday"}, {"--since", "-2h"}, {"--until", "7x"}, {"--since", "d"},
		{"--json", "--oneline"}, {"--json", "--graph"}, {"--graph", "--", "k"},
	} {
		s.fails(2, append([]string{"log"}, bad...)...)
	}
}

// graphHashes matches the short hashes in log --graph output (12 hex
// digits for strata, 7 or more for git).
var graphHashes = regexp.MustCompile(`\b[0-9a-f]{7,12}\b `)

// normalizeGraph replaces hashes by "H " and drops trailing spaces (which
// git pads its graph lines with).
func normalizeGraph(out string) []string {
	var ls []string
	for _, l := range lines(out) {
		ls = append(ls, strings.TrimRight(graphHashes.ReplaceAllString(l, "H "), " "))
	}
	return ls
}

// graphDAG is the history TestLogGraph draws: two merges of a branch.
//
//	A - B ----- D - F - G
//	 \         /       /
//	  C ------+---- E +
var graphDAG = []string{"A", "B", "C", "D", "E", "F", "G"}

// commitLine is a commit's line of log --graph.
var commitLine = regexp.MustCompile(`^[|/\\ ]*\* [|/\\ ]*[0-9a-f]{12} [A-G]$`)

const wantGraph = `*   H G
|\
* | H F
| * H E
* | H D
|\|
| * H C
* | H B
|/
* H A`

func TestLogGraph(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.set("a", "1", "-m", "A")
	s.ok("branch", "f")
	s.set("b", "1", "-m", "B")
	s.ok("set", "c", "1", "-b", "f", "-m", "C")
	s.ok("merge", "f", "--no-ff", "-m", "D")
	s.ok("set", "e", "1", "-b", "f", "-m", "E")
	s.set("g", "1", "-m", "F")
	s.ok("merge", "f", "-m", "G")
	out := s.ok("log", "--graph")
	if diff := cmp.Diff(strings.Split(wantGraph, "\n"), normalizeGraph(out)); diff != "" {
		t.Errorf("log --graph (-want +got):\n%s\n%s", diff, out)
	}
	// Every commit line carries the 12-hex short hash and the subject.
	for _, l := range lines(out) {
		if strings.Contains(l, "*") && !commitLine.MatchString(l) {
			t.Errorf("commit line %q", l)
		}
	}
	// -n keeps the newest commits; their lines of history stay open.
	if diff := cmp.Diff([]string{"*   H G", `|\`, "* | H F"}, normalizeGraph(s.ok("log", "--graph", "-n", "2"))); diff != "" {
		t.Errorf("log --graph -n 2 (-want +got):\n%s", diff)
	}

	// The reference: git draws the same shape the same way.
	if _, err := exec.LookPath("git"); err != nil {
		t.Log("git not installed; compared with the expected drawing only")
		return
	}
	if diff := cmp.Diff(strings.Split(wantGraph, "\n"), gitGraph(t)); diff != "" {
		t.Errorf("git log --graph --oneline on the same DAG differs from the expected drawing (-want +git):\n%s", diff)
	}
}

// gitGraph builds graphDAG with git, in the same order and with
// increasing commit times, and returns its normalized graph.
func gitGraph(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	when := 1_000_000_000
	git := func(args ...string) string {
		t.Helper()
		when += 10
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		date := fmt.Sprintf("%d +0000", when)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
			"GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %q: %v\n%s", args, err, out)
		}
		return string(out)
	}
	git("init", "-q", "-b", "main")
	git("commit", "-q", "--allow-empty", "-m", "A")
	git("branch", "f")
	git("commit", "-q", "--allow-empty", "-m", "B")
	git("checkout", "-q", "f")
	git("commit", "-q", "--allow-empty", "-m", "C")
	git("checkout", "-q", "main")
	git("merge", "-q", "--no-ff", "f", "-m", "D")
	git("checkout", "-q", "f")
	git("commit", "-q", "--allow-empty", "-m", "E")
	git("checkout", "-q", "main")
	git("commit", "-q", "--allow-empty", "-m", "F")
	git("merge", "-q", "--no-ff", "f", "-m", "G")
	return normalizeGraph(git("log", "--graph", "--oneline", "--date-order", "--no-color"))
}

func TestDiffForms(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	root := s.set("config/db/host", "db1")
	s.set("config/db/port", "5432")
	s.set("readme", "hi")
	s.ok("set", "config/db/host", "db2", "-b", "main")
	s.ok("branch", "f")
	last := s.set("config/cache", "on", "-b", "f")
	s.ok("rm", "config/db/port", "-b", "f")

	// diff REV: what REV changed against its first parent.
	if diff := cmp.Diff([]string{"A config/cache"}, lines(s.ok("diff", last))); diff != "" {
		t.Errorf("diff REV (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"A config/db/host"}, lines(s.ok("diff", root))); diff != "" {
		t.Errorf("diff ROOT (-want +got):\n%s", diff)
	}
	// diff alone: the branch head against its parent.
	if diff := cmp.Diff([]string{"M config/db/host"}, lines(s.ok("diff"))); diff != "" {
		t.Errorf("diff (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"D config/db/port"}, lines(s.ok("diff", "-b", "f"))); diff != "" {
		t.Errorf("diff -b f (-want +got):\n%s", diff)
	}
	// -- PATH limits to a path prefix (a whole segment, not a string prefix).
	s.set("configure", "x")
	if diff := cmp.Diff([]string{"M config/db/host", "A config/db/port"}, lines(s.ok("diff", root, "main", "--", "config/db"))); diff != "" {
		t.Errorf("diff A B -- config/db (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"A readme"}, lines(s.ok("diff", root, "main", "--", "readme"))); diff != "" {
		t.Errorf("diff A B -- readme (-want +got):\n%s", diff)
	}
	if got := s.ok("diff", root, "main", "--", "config"); strings.Contains(got, "configure") {
		t.Errorf("diff -- config matched configure: %q", got)
	}
	if got := s.ok("diff", "main", "--", "nosuch"); got != "" {
		t.Errorf("diff -- nosuch: %q", got)
	}
	// --name-only and --stat.
	if diff := cmp.Diff([]string{"config/db/host", "config/db/port", "configure", "readme"},
		lines(s.ok("diff", "--name-only", root, "main"))); diff != "" {
		t.Errorf("diff --name-only (-want +got):\n%s", diff)
	}
	wantStat := []string{
		"config/  1 added, 1 modified, 0 removed",
		"readme   1 added, 0 modified, 0 removed",
		"3 values changed: 2 added, 1 modified, 0 removed",
	}
	if diff := cmp.Diff(wantStat, lines(s.ok("diff", "--stat", root, "f"))); diff != "" {
		t.Errorf("diff --stat ROOT f (-want +got):\n%s", diff)
	}
	wantStat = []string{
		"config/    1 added, 0 modified, 1 removed",
		"configure  1 added, 0 modified, 0 removed",
		"3 values changed: 2 added, 0 modified, 1 removed",
	}
	if diff := cmp.Diff(wantStat, lines(s.ok("diff", "--stat", "f", "main"))); diff != "" {
		t.Errorf("diff --stat f main (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"0 values changed: 0 added, 0 modified, 0 removed"}, lines(s.ok("diff", "--stat", "main", "main"))); diff != "" {
		t.Errorf("diff --stat of nothing (-want +got):\n%s", diff)
	}
	got := decodeLines[change](t, s.ok("diff", "--json", "main", "f", "--", "config/db/port"))
	if len(got) != 1 || got[0].Op != "remove" || got[0].Path != "config/db/port" {
		t.Errorf("diff --json -- PATH: %+v", got)
	}
	for _, bad := range [][]string{
		{"diff", "--stat", "--name-only"}, {"diff", "--json", "--stat"}, {"diff", "a", "b", "c"},
		{"diff", "main", "-b", "f"}, {"diff", "main", "--", "a//b"}, {"diff", "main", "--", "a", "b"},
	} {
		s.fails(2, bad...)
	}
	s.fails(1, "diff", "-b", "nosuch")
}

// completions runs cobra's hidden __complete command on the binary and
// returns the candidates it offers. It cannot use store.run: cobra always
// reports the directive on standard error, which the shell ignores.
func completions(t *testing.T, s *store, args ...string) []string {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"__complete"}, args...)...)
	cmd.Env = append(os.Environ(), "STRATA_STORE="+s.dir)
	cmd.Dir = s.cwd
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("__complete %q: exit %d: %s", args, ee.ExitCode(), stderr.String())
		}
		t.Fatal(err)
	}
	if strings.Contains(stderr.String(), "panic") || strings.Contains(stderr.String(), "goroutine ") {
		t.Fatalf("__complete %q: %s", args, stderr.String())
	}
	ls := lines(stdout.String())
	if len(ls) == 0 || !strings.HasPrefix(ls[len(ls)-1], ":") {
		t.Fatalf("__complete %q: no directive line in %q", args, stdout.String())
	}
	return ls[:len(ls)-1]
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	// With no store, nothing is offered and no store is made.
	if got := completions(t, s, "get", ""); len(got) != 0 {
		t.Errorf("completion without a store: %q", got)
	}
	if s.exists() {
		t.Fatal("completion created the store")
	}
	s.set("config/db/host", "db1")
	s.set("config/dc", "x")
	s.set("other", "y")
	s.ok("branch", "feature")
	s.ok("branch", "fix")
	s.set("config/only-on-next", "z", "-b", "next")

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"get", ""}, []string{"config/", "other"}},
		{[]string{"get", "co"}, []string{"config/"}},
		{[]string{"get", "config/d"}, []string{"config/db/", "config/dc"}},
		{[]string{"get", "config/db/"}, []string{"config/db/host"}},
		{[]string{"get", "-b", "next", "config/o"}, []string{"config/only-on-next"}},
		{[]string{"get", "--at", "feature", "config/o"}, nil},
		{[]string{"set", "oth"}, []string{"other"}},
		{[]string{"set", "other", ""}, nil}, // a value
		{[]string{"rm", "config/"}, []string{"config/db/", "config/dc"}},
		{[]string{"ls", "c"}, []string{"config/"}},
		{[]string{"get", "-b", "f"}, []string{"feature", "fix"}},
		{[]string{"set", "k", "v", "--branch", "n"}, []string{"next"}},
		{[]string{"get", "--at", ""}, []string{"feature", "fix", "main", "next"}},
		{[]string{"log", "fe"}, []string{"feature"}},
		{[]string{"log", "--", "con"}, []string{"config/"}},
		{[]string{"diff", "main", "f"}, []string{"feature", "fix"}},
		{[]string{"show", "m"}, []string{"main"}},
		{[]string{"merge", ""}, []string{"feature", "fix", "main", "next"}},
		{[]string{"branch", "-d", "fi"}, []string{"fix"}},
		{[]string{"branch", "new", "ma"}, []string{"main"}},
		{[]string{"branch", ""}, nil}, // a new name
		{[]string{"commit-graph", ""}, []string{"write"}},
		{[]string{"commit-graph", "write", ""}, nil},
		{[]string{"remote", ""}, []string{"add", "rm"}},
		{[]string{"remote", "r"}, []string{"rm"}},
	} {
		if diff := cmp.Diff(tc.want, completions(t, s, tc.args...), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("complete %q (-want +got):\n%s", tc.args, diff)
		}
	}
	// Candidates are read one per line: a name with a control character
	// is not offered, so it cannot forge a candidate.
	s.set("zz\nforged", "w")
	s.set("zz-ok", "w")
	if diff := cmp.Diff([]string{"zz-ok"}, completions(t, s, "get", "zz")); diff != "" {
		t.Errorf("complete a name with a newline (-want +got):\n%s", diff)
	}
	script := s.ok("completion", "bash")
	if !strings.Contains(script, "__complete") {
		t.Errorf("completion bash: no script")
	}
	names := completions(t, s, "help", "me")
	if len(names) != 2 || !strings.HasPrefix(names[0], "merge\t") || !strings.HasPrefix(names[1], "merge-base\t") {
		t.Errorf("complete help me: %q", names)
	}
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	type commitOut struct {
		Commit string `json:"commit"`
	}
	set := decodeOne[commitOut](t, s.ok("set", "k", "v", "--json"))
	if set.Commit != head(s, "main") {
		t.Errorf("set --json: %+v, want the head %s", set, head(s, "main"))
	}
	type incrOut struct {
		Value  int64  `json:"value"`
		Commit string `json:"commit"`
	}
	incr := decodeOne[incrOut](t, s.ok("incr", "n", "7", "--json"))
	if incr.Value != 7 || incr.Commit != head(s, "main") {
		t.Errorf("incr --json: %+v", incr)
	}
	rm := decodeOne[commitOut](t, s.ok("rm", "k", "--json"))
	if rm.Commit != head(s, "main") {
		t.Errorf("rm --json: %+v", rm)
	}
}

// TestJSONCommandsListed: the root help's list of the commands that take
// --json names exactly those that have the flag.
func TestJSONCommandsListed(t *testing.T) {
	const intro = "per line for lists and histories ("
	long := strings.Join(strings.Fields(rootLong), " ")
	i := strings.Index(long, intro)
	if i < 0 {
		t.Fatalf("the root help has no list of the commands that take --json (%q)", intro)
	}
	list := long[i+len(intro):]
	list = list[:strings.Index(list, ")")]
	var listed []string
	for name := range strings.SplitSeq(list, ",") {
		listed = append(listed, strings.TrimSpace(name))
	}
	var have []string
	for _, c := range (&app{}).rootCommand().Commands() {
		if c.Flags().Lookup("json") != nil {
			have = append(have, c.Name())
		}
	}
	sort.Strings(listed)
	sort.Strings(have)
	if diff := cmp.Diff(have, listed); diff != "" {
		t.Errorf("commands that take --json (-have the flag +listed in the root help):\n%s", diff)
	}
}
