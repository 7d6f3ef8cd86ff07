package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestImportExportDocuments(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	in := "{\n  \"db\": {\n    \"host\": \"db1\",\n    \"port\": 5432,\n    \"ratio\": 1.50\n  },\n  \"empty\": {},\n  \"tags\": [\n    \"a\",\n    1\n  ]\n}\n"
	if err := os.WriteFile(filepath.Join(s.cwd, "cfg.json"), []byte(in), 0o666); err != nil {
		t.Fatal(err)
	}
	s.ok("import", "cfg.json", "--at", "cfg", "-m", "load")
	if got := s.ok("export", "main", "cfg"); got != in {
		t.Errorf("export = %q, want %q", got, in)
	}
	if got := s.ok("get", "cfg/db/host"); got != "db1" {
		t.Errorf("get cfg/db/host = %q", got)
	}
	yaml := s.ok("export", "main", "cfg", "--format", "yaml")
	if !strings.Contains(yaml, "ratio: 1.50") {
		t.Errorf("yaml export lacks the exact number:\n%s", yaml)
	}
	// The YAML, imported from standard input elsewhere, gives the same
	// JSON back.
	r := s.run([]byte(yaml), "import", "-", "--format", "yaml", "--at", "copy")
	if r.code != 0 {
		t.Fatalf("import yaml: %s", r.stderr)
	}
	if got := s.ok("export", "main", "copy"); got != in {
		t.Errorf("after YAML: export = %q, want %q", got, in)
	}
	r = s.run([]byte(`{"a/b": 1}`), "import", "-")
	if r.code == 0 || !strings.Contains(r.stderr, `"a/b"`) {
		t.Errorf("import of a key with a slash: exit %d, stderr %q", r.code, r.stderr)
	}
	s.fails(2, "import", "-", "--format", "toml")
}

// TestImportDocumentPathLimits: a document whose paths are over the path
// limits (too deep, or a key too long) is refused with exit code 2 naming
// the limit, and leaves the store as it was, readable.
func TestImportDocumentPathLimits(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.ok("set", "keep", "k")
	deep := strings.Repeat(`{"a":`, 300) + "1" + strings.Repeat("}", 300)
	long := `{"` + strings.Repeat("k", 5000) + `": 1}`
	for _, in := range []string{deep, long} {
		r := s.run([]byte(in), "import", "-")
		if r.code != 2 || !strings.Contains(r.stderr, "the limit is") {
			t.Errorf("import of a document over the path limits: exit %d, stderr %q; want 2 naming the limit", r.code, r.stderr)
		}
	}
	if got := s.ok("ls", "-R"); got != "keep\n" {
		t.Errorf("ls -R after the refused imports = %q", got)
	}
	if got := s.ok("export"); got != "{\n  \"keep\": \"k\"\n}\n" {
		t.Errorf("export after the refused imports = %q", got)
	}
}

func TestImportExportGit(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed: ", err)
	}
	s := newStore(t)
	s.ok("set", "a/b", "one", "-m", "first")
	s.ok("set", "a/c", "two", "-m", "second")
	s.ok("tag", "v1")
	repo := filepath.Join(t.TempDir(), "repo")
	gitRun := func(stdin string, args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if err := os.MkdirAll(repo, 0o777); err != nil {
		t.Fatal(err)
	}
	gitRun("", "init", "-q")
	gitRun(s.ok("export", "--format", "git"), "fast-import", "--quiet")
	if got := gitRun("", "log", "--format=%s", "main"); got != "second\nfirst\n" {
		t.Errorf("git log = %q", got)
	}
	if got := gitRun("", "show", "v1:a/c"); got != "two" {
		t.Errorf("git show v1:a/c = %q", got)
	}
	// And back, into another store, with --git.
	s2 := newStore(t)
	out := s2.ok("import", "--git", repo)
	if !strings.Contains(out, "imported 2 commits") || !strings.Contains(out, "tags: v1") {
		t.Errorf("import --git printed %q", out)
	}
	if got := s2.ok("get", "a/b"); got != "one" {
		t.Errorf("get a/b = %q", got)
	}
	// The same commits, but for the time, which Git keeps in seconds
	// (and so the hashes).
	a, b := decodeLines[logEntry](t, s.ok("log", "--json")), decodeLines[logEntry](t, s2.ok("log", "--json"))
	for _, l := range [][]logEntry{a, b} {
		for i := range l {
			l[i].Hash, l[i].Parents, l[i].Time = "", nil, ""
		}
	}
	if d := cmp.Diff(a, b); d != "" {
		t.Errorf("the imported log differs (-exported +imported):\n%s", d)
	}
}

func TestImportGitRefusesDocumentFlags(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	r := s.fails(2, "import", "-", "--format", "git", "--at", "x")
	if !strings.Contains(r.stderr, "--at") {
		t.Errorf("stderr %q does not name --at", r.stderr)
	}
}

// TestImportGitDamagedRepo: when git fast-export fails halfway (here on a
// blob deleted from the repository), import --git exits 4 naming git's
// error and moves no branch, with or without --force, and prints no
// summary; the history it had stopped short of is not a truncated one.
func TestImportGitDamagedRepo(t *testing.T) {
	t.Parallel()
	repo := filepath.Join(t.TempDir(), "repo")
	gitRun := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if err := os.MkdirAll(repo, 0o777); err != nil {
		t.Fatal(err)
	}
	gitRun("init", "-q", "-b", "main")
	for i, name := range []string{"one", "two", "three"} {
		if err := os.WriteFile(filepath.Join(repo, name), []byte(name+"\n"), 0o666); err != nil {
			t.Fatal(err)
		}
		gitRun("add", name)
		gitRun("-c", "user.name=A", "-c", "user.email=a@x", "commit", "-q", "-m", fmt.Sprint("c", i+1))
	}
	s := newStore(t)
	s.ok("import", "--git", repo)
	before := s.ok("log", "--json", "main")

	// Delete the second commit's blob: the export dies after the first.
	blob := gitRun("rev-parse", "HEAD~1:two")
	if err := os.Remove(filepath.Join(repo, ".git", "objects", blob[:2], blob[2:])); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"import", "--git", repo}, {"import", "--git", repo, "--force"}} {
		r := s.fails(4, args...)
		if r.stdout != "" || !strings.Contains(r.stderr, "git fast-export") || !strings.Contains(r.stderr, blob) {
			t.Errorf("strata %q: stdout %q, stderr %q; want no summary and git's error naming blob %s", args, r.stdout, r.stderr, blob)
		}
		if got := s.ok("log", "--json", "main"); got != before {
			t.Errorf("strata %q moved main:\n%s\nwant\n%s", args, got, before)
		}
	}
	// Into an empty store: no branch is created.
	empty := newStore(t)
	empty.fails(4, "import", "--git", repo)
	if got := empty.ok("branch"); got != "" {
		t.Errorf("branches after a failed import: %q", got)
	}
}

// TestImportGitPassesOnWarnings: what git fast-export says on standard
// error reaches the user as warnings.
func TestImportGitPassesOnWarnings(t *testing.T) {
	t.Parallel()
	repo := filepath.Join(t.TempDir(), "repo")
	for _, args := range [][]string{
		{"init", "-q", "-b", "main", repo},
		{"-C", repo, "-c", "user.name=A", "-c", "user.email=a@x", "commit", "-q", "--allow-empty", "-m", "c"},
		{"-C", repo, "-c", "user.name=A", "-c", "user.email=a@x", "tag", "-a", "treetag", "-m", "t", "HEAD^{tree}"},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	s := newStore(t)
	r, err := runStrata([]string{"STRATA_STORE=" + s.dir}, s.cwd, nil, "import", "--git", repo)
	if err != nil {
		t.Fatal(err)
	}
	if r.code != 0 || !strings.HasPrefix(r.stderr, "strata: warning: git fast-export: ") || !strings.Contains(r.stderr, "Omitting tag") {
		t.Errorf("import --git of a tag of a tree: exit %d, stderr %q; want git's warning", r.code, r.stderr)
	}
}
