package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// snapshotDir returns every file in dir with its contents.
func snapshotDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := make(map[string]string)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// largestSST returns the path of the largest .sst file in dir.
func largestSST(t *testing.T, dir string) string {
	t.Helper()
	ssts, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	if err != nil || len(ssts) == 0 {
		t.Fatalf("no .sst files in %s (%v)", dir, err)
	}
	sort.Slice(ssts, func(i, j int) bool { return fileSize(t, ssts[i]) > fileSize(t, ssts[j]) })
	return ssts[0]
}

func fileSize(t *testing.T, name string) int64 {
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestFlippedSST: a few flipped bytes in the middle of a table never make
// a command panic. Every command either works (the damaged block is not
// needed) or fails with exit 4 and one line; fsck reports each damaged
// object and goes on.
func TestFlippedSST(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	// Commands run one after the other; each reopening replays and
	// flushes the log, so the data ends up in tables.
	for i := range 120 {
		s.set(fmt.Sprintf("dir%d/key%d", i%7, i), strings.Repeat(fmt.Sprintf("value %d ", i), 20))
	}
	sst := largestSST(t, s.dir)
	b, err := os.ReadFile(sst)
	if err != nil {
		t.Fatal(err)
	}
	// Flip 8 bytes at four places in the data blocks (the first part of
	// the file): most objects in it are old versions of the directories,
	// which no command reads (fsck reads what is reachable), so one place
	// alone sometimes hit only those.
	for _, at := range []int{len(b) / 4, len(b) * 3 / 8, len(b) / 2, len(b) * 5 / 8} {
		for i := at; i < at+8; i++ {
			b[i] ^= 0xff
		}
	}
	if err := os.WriteFile(sst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, args := range [][]string{{"get", "dir3/key3"}, {"ls", "dir1"}, {"log"}, {"fsck"}, {"branch"}, {"set", "x", "y"}} {
		r := s.run(nil, args...) // no panic, one "strata: " line on failure
		if r.code == 0 {
			continue
		}
		failed++
		if r.code != exitFailure {
			t.Errorf("strata %q on a damaged table: exit %d, want 4: %s", args, r.code, r.stderr)
		}
		if args[0] != "fsck" && !strings.Contains(r.stderr, filepath.Base(sst)) {
			t.Errorf("strata %q: %q does not name the damaged file %s", args, r.stderr, filepath.Base(sst))
		}
	}
	if failed == 0 {
		t.Fatal("no command noticed the damaged table; the test damaged nothing")
	}
	r := s.fails(exitFailure, "fsck")
	if !strings.Contains(r.stdout, "corrupt ") || !strings.Contains(r.stdout, "problems") {
		t.Errorf("fsck on a damaged table printed %q; want corrupt objects listed and a summary", r.stdout)
	}
}

// TestWipedManifest: a store whose MANIFEST and marker files are gone
// still holds its data in tables and logs; no command may take it for a
// missing store and create a new one over it.
func TestWipedManifest(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.set("a", "1")
	s.set("b", "2")
	for _, pat := range []string{"MANIFEST-*", "marker.*"} {
		names, _ := filepath.Glob(filepath.Join(s.dir, pat))
		for _, n := range names {
			if err := os.Remove(n); err != nil {
				t.Fatal(err)
			}
		}
	}
	before := snapshotDir(t, s.dir)
	for _, args := range [][]string{{"get", "a"}, {"set", "k", "v"}, {"init"}, {"ls"}, {"fsck"}, {"rm", "a"}} {
		r := s.fails(exitFailure, args...)
		if !strings.Contains(r.stderr, "fsck") || !strings.Contains(r.stderr, "backup") {
			t.Errorf("strata %q on a store without its MANIFEST: %q; want advice to run fsck or restore a backup", args, r.stderr)
		}
	}
	if diff := cmp.Diff(before, snapshotDir(t, s.dir)); diff != "" {
		t.Errorf("the damaged store's files changed (-before +after):\n%s", diff)
	}
}

// TestForeignDirectory: a directory with files of its own (here named
// like Pebble's LOCK and MANIFEST) is not a store; strata refuses it
// without changing a byte.
func TestForeignDirectory(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	if err := os.Mkdir(s.dir, 0o777); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"LOCK": "my lock\n", "MANIFEST-000001": "my manifest\n", "notes.txt": "mine"} {
		if err := os.WriteFile(filepath.Join(s.dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshotDir(t, s.dir)
	for _, args := range [][]string{{"set", "k", "v"}, {"init"}, {"get", "k"}} {
		r := s.fails(exitFailure, args...)
		if !strings.Contains(r.stderr, "not a strata store") {
			t.Errorf("strata %q in a foreign directory: %q; want \"not a strata store\"", args, r.stderr)
		}
	}
	if diff := cmp.Diff(before, snapshotDir(t, s.dir)); diff != "" {
		t.Errorf("the foreign directory changed (-before +after):\n%s", diff)
	}
}

// TestUnwritableStore: a user without write permission can run every read
// command on a store; reading creates and changes nothing, and a write
// fails with one line naming the directory and the permission problem.
// The tests usually run as root, whom permissions do not stop, so the
// commands run as the unprivileged user nobody (uid 65534).
func TestUnwritableStore(t *testing.T) {
	t.Parallel()
	if os.Getuid() != 0 {
		t.Skip("needs root to run the commands as another user")
	}
	s := newStore(t)
	s.set("a", "1")
	s.set("c/d", "2")
	// The binary, the working directory and the store must be reachable
	// by nobody; the store is read-only for everyone but root.
	tmp := filepath.Dir(s.dir)
	for _, d := range []string{filepath.Dir(binary), tmp, filepath.Dir(tmp), s.cwd} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for d := filepath.Dir(filepath.Dir(tmp)); d != "/"; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			t.Skipf("%s is not traversable by other users", d)
		}
	}
	if err := filepath.Walk(s.dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		mode := os.FileMode(0o444)
		if fi.IsDir() {
			mode = 0o555
		}
		return os.Chmod(p, mode)
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(s.dir, 0o755) })
	before := snapshotDir(t, s.dir)

	asNobody := func(args ...string) result {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Env = append(os.Environ(), "STRATA_STORE="+s.dir)
		cmd.Dir = s.cwd
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		r := result{stdout: stdout.String(), stderr: stderr.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("strata %q as nobody: %v", args, err)
		}
		if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
			t.Fatalf("strata %q: panic:\n%s", args, r.stderr)
		}
		if r.code != 0 && (!strings.HasPrefix(r.stderr, "strata: ") || strings.Count(r.stderr, "\n") != 1) {
			t.Errorf("strata %q: stderr is not one \"strata: \" line: %q", args, r.stderr)
		}
		return r
	}
	for _, args := range [][]string{{"get", "a"}, {"ls"}, {"log"}, {"fsck"}, {"branch"}, {"show"}, {"diff", "main~1", "main"}} {
		if r := asNobody(args...); r.code != 0 {
			t.Errorf("strata %q as a user who cannot write the store: exit %d: %s", args, r.code, r.stderr)
		}
	}
	if r := asNobody("get", "a"); r.stdout != "1" {
		t.Errorf("get a = %q, want %q", r.stdout, "1")
	}
	r := asNobody("set", "x", "y")
	if r.code != exitFailure || !strings.Contains(r.stderr, s.dir) || !strings.Contains(r.stderr, "permission denied") {
		t.Errorf("set as a user who cannot write the store: exit %d, %q; want exit 4 naming %s and the permission problem", r.code, r.stderr, s.dir)
	}
	if diff := cmp.Diff(before, snapshotDir(t, s.dir)); diff != "" {
		t.Errorf("reading changed the store (-before +after):\n%s", diff)
	}
}
