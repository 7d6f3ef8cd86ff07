package main

import (
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
