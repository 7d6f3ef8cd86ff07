package main

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// decodeLines decodes one JSON object per line of out.
func decodeLines[T any](t *testing.T, out string) []T {
	t.Helper()
	var vs []T
	for _, l := range lines(out) {
		var v T
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		vs = append(vs, v)
	}
	return vs
}

// logEntry is one object of log --json.
type logEntry struct {
	Hash    string   `json:"hash"`
	Tree    string   `json:"tree"`
	Parents []string `json:"parents"`
	Author  string   `json:"author"`
	Message string   `json:"message"`
	Time    string   `json:"time"`
	Height  uint64   `json:"height"`
}

// change is one object of diff --json.
type change struct {
	Op     string  `json:"op"`
	Path   string  `json:"path"`
	Old    *string `json:"old"`
	OldB64 *string `json:"old_b64"`
	New    *string `json:"new"`
	NewB64 *string `json:"new_b64"`
}

func ptr(s string) *string { return &s }

func TestInitIsIdempotent(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	out := s.ok("init")
	if !strings.HasPrefix(out, "initialized empty strata store in ") || !strings.Contains(out, s.dir) {
		t.Errorf("first init printed %q", out)
	}
	if !s.exists() {
		t.Fatal("init did not create the store directory")
	}
	out = s.ok("init")
	if !strings.Contains(out, "existing") {
		t.Errorf("second init printed %q, want it to say the store exists", out)
	}
	if got := s.ok("branch"); got != "" {
		t.Errorf("branches after init: %q, want none (init makes no commit)", got)
	}
	s.set("k", "v")
	s.ok("init")
	if got := s.ok("get", "k"); got != "v" {
		t.Errorf("get after re-init: %q, want %q", got, "v")
	}
}

func TestSetGet(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	h := s.set("config/db/host", "db1") // creates the store
	for _, tc := range []struct{ path, value string }{
		{"config/db/host", "db1"},
		{"spaces", "  two lines\nand a tab\t\n"},
		{"empty", ""},
		{"dash", "-5"},
		{"unicode", "héllo, 世界"},
	} {
		args := []string{"set", tc.path, tc.value}
		if strings.HasPrefix(tc.value, "-") {
			args = []string{"set", tc.path, "--", tc.value}
		}
		s.ok(args...)
		if got := s.ok("get", tc.path); got != tc.value {
			t.Errorf("get %s: %q, want %q", tc.path, got, tc.value)
		}
	}
	// Setting the same value again makes no commit and prints the head.
	s2 := newStore(t)
	h1 := s2.set("a", "x")
	if h2 := s2.set("a", "x"); h2 != h1 {
		t.Errorf("unchanged set printed %s, want the head %s", h2, h1)
	}
	if h == "" {
		t.Error("no hash")
	}
}

func TestSetFromStdinIsBinarySafe(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	r := s.run(all, "set", "bin", "-")
	if r.code != 0 {
		t.Fatalf("set -: exit %d: %s", r.code, r.stderr)
	}
	if got := s.ok("get", "bin"); got != string(all) {
		t.Errorf("get bin returned %d bytes %q, want the 256 byte values", len(got), got)
	}
	// diff --json gives a value that is not UTF-8 in base64.
	out := s.ok("show", "--json")
	var sh struct {
		Changes []change `json:"changes"`
	}
	if err := json.Unmarshal([]byte(out), &sh); err != nil {
		t.Fatal(err)
	}
	want := []change{{Op: "add", Path: "bin", NewB64: ptr(base64.StdEncoding.EncodeToString(all))}}
	if diff := cmp.Diff(want, sh.Changes); diff != "" {
		t.Errorf("show --json changes (-want +got):\n%s", diff)
	}
}

func TestGetMissing(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.ok("init")
	s.fails(1, "get", "a") // no branch main yet
	s.set("a/b", "x")
	s.fails(1, "get", "nope")
	s.fails(1, "get", "a/b/c") // below a value
	s.fails(1, "get", "a")     // a directory is not a value
	s.fails(1, "get", "a/b", "-b", "nosuch")
	r := s.fails(1, "get", "nope")
	if r.stdout != "" {
		t.Errorf("failed get wrote %q to stdout", r.stdout)
	}
}

func TestInvalidInput(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.set("a/b", "x")
	s.set("a/b", "y")
	for _, args := range [][]string{
		{"set", "a//b", "v"},
		{"set", "..", "v"},
		{"set", "a/./b", "v"},
		{"set", "a/../b", "v"},
		{"get", "a//b"},
		{"get", ".."},
		{"get", "a/./b"},
		{"ls", "a//b"},
		{"rm", ".."},
		{"rm", ""},            // the root
		{"set", "a/b/c", "v"}, // below a value
		{"set", "a", "v"},     // over a directory
		{"set", "k", "v", "-b", "..bad"},
		{"set", "k", "v", "-b", "-x"},
		{"get", "a/b", "-b", "-x"},
		{"get", "a/b", "-b", "..bad"},
		{"branch", "..bad"},
		{"branch", "-d", "..bad"},
		{"get", "a/b", "--at", "main~x"},
		{"log", "main^x"},
		{"diff", "main", "~1"},
		{"show", "no such"},
		{"-s", "foo://x", "get", "a"},
		{"-s", "foo://x", "set", "a", "b"},
		{"-s", "mem://host", "init"},
	} {
		s.fails(2, args...)
	}
	if got := s.ok("get", "a/b"); got != "y" {
		t.Errorf("after failed writes get a/b = %q, want %q", got, "y")
	}
}

func TestInvalidSetCreatesNoStore(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.fails(2, "set", "a//b", "v")
	s.fails(2, "set", "a", "v", "-b", "..bad")
	s.fails(2, "-s", "mem://x", "set", "a", "v")
	if s.exists() {
		t.Error("a set with a bad path or branch created the store")
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	for _, args := range [][]string{
		{"frobnicate"},
		{"sett", "a", "b"},
		{"set"},
		{"set", "a"},
		{"set", "a", "b", "c"},
		{"get"},
		{"get", "a", "b"},
		{"rm"},
		{"ls", "a", "b"},
		{"diff", "a", "b", "c"}, // "diff REV" is valid: what REV changed
		{"log", "a", "b"},
		{"log", "-n", "-1"},
		{"log", "-n", "x"},
		{"branch", "-d"},
		{"branch", "-d", "a", "b"},
		{"branch", "a", "b", "c"},
		{"get", "a", "--bogus"},
		{"--bogus"},
		{"get", "a", "--at", "main", "-b", "main"},
		{"init", "extra"},
	} {
		r := s.fails(2, args...)
		if !strings.Contains(r.stderr, "strata help") {
			t.Errorf("strata %q: stderr %q does not point at the help", args, r.stderr)
		}
	}
	if s.exists() {
		t.Error("a usage error created the store")
	}
	if out := s.ok("help"); !strings.Contains(out, "Exit codes:") {
		t.Errorf("help does not document the exit codes:\n%s", out)
	}
	if out := s.ok("set", "--help"); !strings.Contains(out, "standard input") {
		t.Errorf("set --help:\n%s", out)
	}
}

func TestMissingStore(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	want := "strata: no store at " + s.dir + "; run 'strata init' or set STRATA_STORE\n"
	for _, args := range [][]string{
		{"get", "a"},
		{"get", "a", "--at", "main"},
		{"ls"},
		{"log"},
		{"diff", "main", "main"},
		{"show", "main"},
		{"branch"},
		{"branch", "feature"},
		{"branch", "-d", "feature"},
		{"rm", "a"},
	} {
		r := s.fails(1, args...)
		if r.stderr != want {
			t.Errorf("strata %q: stderr %q, want %q", args, r.stderr, want)
		}
	}
	if s.exists() {
		t.Error("a read of a missing store created its directory")
	}
}

func TestDefaultStoreIsDotStrata(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.dir = "" // run with STRATA_STORE empty: ./.strata in s.cwd
	r := s.fails(1, "ls")
	if want := "strata: no store at ./.strata; run 'strata init' or set STRATA_STORE\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	s.set("k", "v")
	s.dir = s.cwd + "/.strata"
	if !s.exists() {
		t.Errorf("set did not create %s", s.dir)
	}
	if got := s.ok("get", "k"); got != "v" {
		t.Errorf("get k = %q", got)
	}
}

func TestLsAndRm(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.set("b", "1")
	s.set("a/x", "2")
	s.set("a/y/z", "3")
	s.set("c/d", "4")
	if diff := cmp.Diff([]string{"a/", "b", "c/"}, lines(s.ok("ls"))); diff != "" {
		t.Errorf("ls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"x", "y/"}, lines(s.ok("ls", "a"))); diff != "" {
		t.Errorf("ls a (-want +got):\n%s", diff)
	}
	s.fails(1, "ls", "nope")

	h := s.ok("rm", "a", "-m", "drop a")
	if len(strings.TrimSpace(h)) != 64 {
		t.Errorf("rm printed %q, want a hash", h)
	}
	if diff := cmp.Diff([]string{"b", "c/"}, lines(s.ok("ls"))); diff != "" {
		t.Errorf("ls after rm a (-want +got):\n%s", diff)
	}
	s.fails(1, "get", "a/y/z")
	s.fails(1, "rm", "a")
	if diff := cmp.Diff([]string{"a/", "b", "c/"}, lines(s.ok("ls", "--at", "main~1"))); diff != "" {
		t.Errorf("ls --at main~1 (-want +got):\n%s", diff)
	}
	log := decodeLines[logEntry](t, s.ok("log", "-n", "1", "--json"))
	if len(log) != 1 || log[0].Message != "drop a" {
		t.Errorf("log after rm: %+v", log)
	}
}

func TestGetAt(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	h1 := s.set("k", "one")
	h2 := s.set("k", "two")
	s.set("k", "three")
	for rev, want := range map[string]string{
		"main": "three", "main~1": "two", "main~2": "one", "main~1^": "one",
		h1: "one", h2[:8]: "two", "main^0": "three",
	} {
		if got := s.ok("get", "k", "--at", rev); got != want {
			t.Errorf("get k --at %s = %q, want %q", rev, got, want)
		}
	}
	s.fails(1, "get", "k", "--at", "nosuch")
	s.fails(1, "get", "k", "--at", "main~3")
	s.fails(1, "get", "k", "--at", strings.Repeat("0", 64))
	s.fails(2, "get", "k", "--at", "main~x")
}

func TestBranch(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.set("k", "one")
	s.set("k", "two")
	s.ok("branch", "feature")
	r := s.fails(3, "branch", "feature")
	if !strings.Contains(r.stderr, "feature") {
		t.Errorf("stderr %q does not name the branch", r.stderr)
	}
	s.ok("branch", "old", "main~1")
	s.fails(1, "branch", "x", "nosuch")
	if diff := cmp.Diff([]string{"feature", "main", "old"}, lines(s.ok("branch"))); diff != "" {
		t.Errorf("branch (-want +got):\n%s", diff)
	}
	if got := s.ok("get", "k", "-b", "old"); got != "one" {
		t.Errorf("get k -b old = %q", got)
	}
	s.set("k", "f", "-b", "feature")
	if got := s.ok("get", "k", "-b", "feature"); got != "f" {
		t.Errorf("get k -b feature = %q", got)
	}
	if got := s.ok("get", "k"); got != "two" {
		t.Errorf("a write to feature changed main: get k = %q", got)
	}
	s.ok("branch", "-d", "feature")
	s.fails(1, "branch", "-d", "feature")
	s.fails(1, "get", "k", "-b", "feature")
	if diff := cmp.Diff([]string{"main", "old"}, lines(s.ok("branch"))); diff != "" {
		t.Errorf("branch after -d (-want +got):\n%s", diff)
	}
}

func TestLog(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	var hashes []string
	for i, v := range []string{"1", "2", "3"} {
		hashes = append(hashes, s.set("k", v, "-m", "commit "+v+"\nsecond line", "--author", "ann"))
		if i == 0 {
			s.ok("branch", "first")
		}
	}
	all := decodeLines[logEntry](t, s.ok("log", "--json"))
	var got []string
	for _, e := range all {
		got = append(got, e.Hash)
	}
	want := []string{hashes[2], hashes[1], hashes[0]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("log --json hashes, newest first (-want +got):\n%s", diff)
	}
	for i, e := range all {
		if e.Author != "ann" || e.Height != uint64(3-i) || len(e.Tree) != 64 {
			t.Errorf("log entry %d: %+v", i, e)
		}
		if _, err := time.Parse(time.RFC3339Nano, e.Time); err != nil {
			t.Errorf("log entry %d: time: %v", i, err)
		}
	}
	if diff := cmp.Diff([]string{hashes[1]}, all[0].Parents); diff != "" {
		t.Errorf("parents of the head (-want +got):\n%s", diff)
	}
	// A root commit has an empty array of parents, not null.
	root := s.ok("log", "first", "--json")
	if !strings.Contains(root, `"parents":[]`) {
		t.Errorf("root commit JSON %q lacks \"parents\":[]", root)
	}
	if n := len(decodeLines[logEntry](t, root)); n != 1 {
		t.Errorf("log first: %d commits, want 1", n)
	}
	two := decodeLines[logEntry](t, s.ok("log", "-n", "2", "--json"))
	if diff := cmp.Diff(all[:2], two); diff != "" {
		t.Errorf("log -n 2 (-want +got):\n%s", diff)
	}

	text := s.ok("log", "-n", "2")
	var commits []string
	for _, l := range lines(text) {
		if strings.HasPrefix(l, "commit ") {
			commits = append(commits, strings.TrimPrefix(l, "commit "))
		}
	}
	if diff := cmp.Diff(want[:2], commits); diff != "" {
		t.Errorf("log -n 2 commit lines (-want +got):\n%s", diff)
	}
	for _, sub := range []string{"Author: ann\n", "Date:   ", "\n    commit 3\n    second line\n"} {
		if !strings.Contains(text, sub) {
			t.Errorf("log text lacks %q:\n%s", sub, text)
		}
	}
	s.fails(1, "log", "nosuch")
}

func TestDiff(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.set("keep", "same")
	s.set("mod", "old")
	s.set("gone/x", "bye")
	s.ok("branch", "before")
	s.set("mod", "new")
	s.ok("rm", "gone")
	s.set("add/y", "hi")

	if diff := cmp.Diff([]string{"A add/y", "D gone/x", "M mod"}, lines(s.ok("diff", "before", "main"))); diff != "" {
		t.Errorf("diff text (-want +got):\n%s", diff)
	}
	got := decodeLines[change](t, s.ok("diff", "before", "main", "--json"))
	want := []change{
		{Op: "add", Path: "add/y", New: ptr("hi")},
		{Op: "remove", Path: "gone/x", Old: ptr("bye")},
		{Op: "modify", Path: "mod", Old: ptr("old"), New: ptr("new")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diff --json (-want +got):\n%s", diff)
	}
	if out := s.ok("diff", "main", "main"); out != "" {
		t.Errorf("diff main main = %q, want nothing", out)
	}
	s.fails(1, "diff", "before", "nosuch")
}

func TestShow(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.set("a", "1")
	s.set("b", "2")
	h := s.set("a", "3", "-m", "change a", "--author", "bob")
	text := s.ok("show", "main")
	want := "commit " + h + "\nAuthor: bob\nDate:   "
	if !strings.HasPrefix(text, want) {
		t.Errorf("show text %q does not start with %q", text, want)
	}
	if !strings.HasSuffix(text, "\n    change a\n\nM a\n") {
		t.Errorf("show text %q does not end with the message and the change", text)
	}

	var got struct {
		logEntry
		Changes []change `json:"changes"`
	}
	if err := json.Unmarshal([]byte(s.ok("show", h[:10], "--json")), &got); err != nil {
		t.Fatal(err)
	}
	if got.Hash != h || got.Author != "bob" || got.Message != "change a" || got.Height != 3 || len(got.Parents) != 1 {
		t.Errorf("show --json commit: %+v", got.logEntry)
	}
	if diff := cmp.Diff([]change{{Op: "modify", Path: "a", Old: ptr("1"), New: ptr("3")}}, got.Changes); diff != "" {
		t.Errorf("show --json changes (-want +got):\n%s", diff)
	}
	// The root commit shows all its values as added.
	if out := s.ok("show", "main~2"); !strings.HasSuffix(out, "\n\nA a\n") {
		t.Errorf("show main~2 = %q, want it to end with the change \"A a\"", out)
	}
	s.fails(1, "show", "nosuch")
}
