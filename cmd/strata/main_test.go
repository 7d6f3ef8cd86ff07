package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// binary is the strata command built once by TestMain; the tests run it as
// a separate process, as a user would.
var binary string

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	flag.Parse()
	if url := os.Getenv(serveClientURL); url != "" {
		return serveClient(url) // a child process of TestServeTwoProcesses
	}
	// A fuzzing worker runs only a fuzz target, which needs no binary:
	// skip the build so the fuzzer's time goes to fuzzing.
	if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "strata-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "strata")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n", err)
		return 1
	}
	// The tests spend their time waiting for child processes and the
	// disk, not computing: run more of them at once than there are CPUs,
	// unless -test.parallel says otherwise.
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "8")
	}
	return m.Run()
}

// result is what one run of the binary did.
type result struct {
	stdout string
	stderr string
	code   int
}

// store is an on-disk store in a test's temporary directory, not created
// until a command creates it.
type store struct {
	t   *testing.T
	dir string // the store directory, $STRATA_STORE
	cwd string // the working directory of the commands
}

func newStore(t *testing.T) *store {
	t.Helper()
	tmp := t.TempDir()
	cwd := filepath.Join(tmp, "cwd")
	if err := os.Mkdir(cwd, 0o777); err != nil {
		t.Fatal(err)
	}
	return &store{t: t, dir: filepath.Join(tmp, ".strata"), cwd: cwd}
}

// run runs strata with args and stdin and checks what every run must
// satisfy: no panic or stack trace, nothing on standard error on success,
// and exactly one "strata: " line on it on failure.
func (s *store) run(stdin []byte, args ...string) result {
	s.t.Helper()
	r, err := runStrata([]string{"STRATA_STORE=" + s.dir}, s.cwd, stdin, args...)
	if err != nil {
		s.t.Fatalf("strata %q: %v", args, err)
	}
	checkRun(s.t, args, r)
	return r
}

// ok runs strata, expects success and returns its standard output.
func (s *store) ok(args ...string) string {
	s.t.Helper()
	r := s.run(nil, args...)
	if r.code != 0 {
		s.t.Fatalf("strata %q: exit %d: %s", args, r.code, r.stderr)
	}
	return r.stdout
}

// fails runs strata and expects it to exit with code.
func (s *store) fails(code int, args ...string) result {
	s.t.Helper()
	r := s.run(nil, args...)
	if r.code != code {
		s.t.Errorf("strata %q: exit %d, want %d (stdout %q, stderr %q)", args, r.code, code, r.stdout, r.stderr)
	}
	return r
}

// set sets path to value on main and returns the commit hash it printed.
func (s *store) set(path, value string, flags ...string) string {
	s.t.Helper()
	out := s.ok(append([]string{"set", path, value}, flags...)...)
	h := strings.TrimSuffix(out, "\n")
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" || out != h+"\n" {
		s.t.Fatalf("strata set %s: printed %q, want 64 hex digits and a newline", path, out)
	}
	return h
}

// exists reports whether the store directory exists.
func (s *store) exists() bool {
	s.t.Helper()
	_, err := os.Stat(s.dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		s.t.Fatal(err)
	}
	return err == nil
}
