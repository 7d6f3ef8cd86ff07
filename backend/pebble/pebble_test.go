package pebble_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	pdb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/backendtest"
	"github.com/stratakv/strata/backend/pebble"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	backendtest.Run(t, func(t *testing.T) backend.Store {
		s, err := pebble.Open(t.Context(), t.TempDir(), nil)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

// open opens the store in dir and closes it when the test ends (a second

// wrapFS is the operating system's file system, whose files opened for
// writing (Create, OpenReadWrite, ReuseForWrite) pass through wrap, with
// their names: the test file systems below are made of it.
type wrapFS struct {
	vfs.FS
	wrap func(name string, f vfs.File) vfs.File
}

func (fs *wrapFS) opened(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return fs.wrap(name, f), nil
}

func (fs *wrapFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, c)
	return fs.opened(name, f, err)
}

func (fs *wrapFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := fs.FS.OpenReadWrite(name, c, opts...)
	return fs.opened(name, f, err)
}

func (fs *wrapFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, c)
	return fs.opened(newname, f, err)
}

// Close is a no-op, so tests may close it earlier).
func open(t *testing.T, dir string, opts *pebble.Options) *pebble.Store {
	t.Helper()
	s, err := pebble.Open(t.Context(), dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func mustClose(t *testing.T, s *pebble.Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	objs := []backend.Object{
		{Hash: backendtest.HashOf("a"), Data: []byte("alpha")},
		{Hash: backendtest.HashOf("b"), Data: []byte{}},
		{Hash: backendtest.HashOf("c"), Data: []byte("gone")},
	}
	s := open(t, dir, nil)
	if err := s.Put(ctx, objs); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := s.DeleteObjects(ctx, []backend.Hash{backendtest.HashOf("c")}); err != nil {
		t.Fatalf("DeleteObjects: %v", err)
	}
	for _, sw := range []struct {
		name     string
		old, new backend.Hash
	}{
		{"refs/heads/main", backend.ZeroHash, backendtest.HashOf("a")},
		{"refs/heads/main", backendtest.HashOf("a"), backendtest.HashOf("b")},
		{"refs/heads/dev", backend.ZeroHash, backendtest.HashOf("a")},
		{"refs/heads/tmp", backend.ZeroHash, backendtest.HashOf("a")},
		{"refs/heads/tmp", backendtest.HashOf("a"), backend.ZeroHash},
	} {
		if err := s.CompareAndSwapRef(ctx, sw.name, sw.old, sw.new); err != nil {
			t.Fatalf("CompareAndSwapRef(%q): %v", sw.name, err)
		}
	}
	mustClose(t, s)

	s = open(t, dir, &pebble.Options{MustExist: true})
	got, err := s.GetMany(ctx, []backend.Hash{backendtest.HashOf("a"), backendtest.HashOf("b"), backendtest.HashOf("c")})
	if err != nil {
		t.Fatalf("GetMany: %v", err)
	}
	if diff := cmp.Diff([][]byte{[]byte("alpha"), {}, nil}, got); diff != "" {
		t.Errorf("objects after reopen mismatch (-want +got):\n%s", diff)
	}
	refs, err := s.ListRefs(ctx, "")
	if err != nil {
		t.Fatalf("ListRefs: %v", err)
	}
	want := []backend.Ref{
		{Name: "refs/heads/dev", Hash: backendtest.HashOf("a")},
		{Name: "refs/heads/main", Hash: backendtest.HashOf("b")},
	}
	if diff := cmp.Diff(want, refs); diff != "" {
		t.Errorf("refs after reopen mismatch (-want +got):\n%s", diff)
	}
}

func TestMustExist(t *testing.T) {
	ctx := t.Context()
	empty := t.TempDir()
	missing := filepath.Join(t.TempDir(), "missing")
	for _, dir := range []string{empty, missing} {
		for _, opts := range []*pebble.Options{{MustExist: true}, {ReadOnly: true}} {
			s, err := pebble.Open(ctx, dir, opts)
			if !errors.Is(err, backend.ErrNotFound) || !strings.Contains(fmt.Sprint(err), dir) {
				if s != nil {
					s.Close()
				}
				t.Errorf("Open(%s, %+v) = %v; want an error wrapping backend.ErrNotFound naming the directory", dir, *opts, err)
			}
		}
		if ok, err := pebble.Exists(dir); ok || err != nil {
			t.Errorf("Exists(%s) = %t, %v; want false, nil", dir, ok, err)
		}
	}
	// Nothing was created.
	if ents, err := os.ReadDir(empty); err != nil || len(ents) != 0 {
		t.Errorf("the empty directory now holds %d entries (%v); want none", len(ents), err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Stat of the missing directory: %v; want it still missing", err)
	}

	// Without MustExist the store (and its directory) is created.
	mustClose(t, open(t, missing, nil))
	if ok, err := pebble.Exists(missing); !ok || err != nil {
		t.Errorf("Exists(%s) after creating a store = %t, %v; want true, nil", missing, ok, err)
	}
	mustClose(t, open(t, missing, &pebble.Options{MustExist: true}))
}

func TestReadOnly(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := open(t, dir, nil)
	a := backend.Object{Hash: backendtest.HashOf("a"), Data: []byte("a")}
	if err := s.Put(ctx, []backend.Object{a}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := s.CompareAndSwapRef(ctx, "refs/heads/main", backend.ZeroHash, a.Hash); err != nil {
		t.Fatalf("CompareAndSwapRef: %v", err)
	}
	mustClose(t, s)

	s = open(t, dir, &pebble.Options{ReadOnly: true})
	if got, err := s.Get(ctx, a.Hash); err != nil || string(got) != "a" {
		t.Errorf("Get = %q, %v; want %q", got, err, "a")
	}
	if got, err := s.GetRef(ctx, "refs/heads/main"); err != nil || got != a.Hash {
		t.Errorf("GetRef = %s, %v; want %s", got.Short(), err, a.Hash.Short())
	}
	writes := map[string]error{
		"Put":               s.Put(ctx, []backend.Object{{Hash: backendtest.HashOf("b")}}),
		"DeleteObjects":     s.DeleteObjects(ctx, []backend.Hash{a.Hash}),
		"CompareAndSwapRef": s.CompareAndSwapRef(ctx, "refs/heads/main", a.Hash, backend.ZeroHash),
	}
	for name, err := range writes {
		if !errors.Is(err, pebble.ErrReadOnly) {
			t.Errorf("%s on a read-only store = %v; want an error wrapping pebble.ErrReadOnly", name, err)
		}
	}
}

// rawPebble writes keys straight into a Pebble database in dir.
func rawPebble(t *testing.T, dir string, kvs ...string) {
	t.Helper()
	db, err := pdb.Open(dir, &pdb.Options{Logger: quiet{}})
	if err != nil {
		t.Fatalf("pebble.Open: %v", err)
	}
	for i := 0; i+1 < len(kvs); i += 2 {
		if err := db.Set([]byte(kvs[i]), []byte(kvs[i+1]), pdb.Sync); err != nil {
			t.Fatalf("Set: %v", err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

type quiet struct{}

func (quiet) Infof(string, ...any)  {}
func (quiet) Errorf(string, ...any) {}
func (quiet) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

func TestForeignDatabase(t *testing.T) {
	cases := []struct {
		name string
		kvs  []string
		want string
	}{
		{"no marker", []string{"user/1", "x"}, "not a strata store"},
		{"other marker", []string{"m/format", "something else 1"}, "not a strata store"},
		{"newer format", []string{"m/format", "strata-pebble 99"}, "unsupported store format"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			rawPebble(t, dir, tc.kvs...)
			s, err := pebble.Open(t.Context(), dir, nil)
			if err == nil {
				s.Close()
				t.Fatalf("Open of a foreign Pebble database succeeded")
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, dir) {
				t.Errorf("Open = %q; want an error naming %s and saying %q", msg, dir, tc.want)
			}
		})
	}
	// An empty Pebble database (a creation interrupted before the marker
	// was written) becomes a store.
	dir := t.TempDir()
	rawPebble(t, dir)
	mustClose(t, open(t, dir, nil))
}

func TestCorruptRef(t *testing.T) {
	dir := t.TempDir()
	rawPebble(t, dir, "m/format", "strata-pebble 1", "rrefs/heads/main", "short")
	s := open(t, dir, nil)
	if _, err := s.GetRef(t.Context(), "refs/heads/main"); !errors.Is(err, backend.ErrCorrupt) {
		t.Errorf("GetRef of a ref holding 5 bytes = %v; want an error wrapping backend.ErrCorrupt", err)
	}
	if _, err := s.ListRefs(t.Context(), ""); !errors.Is(err, backend.ErrCorrupt) {
		t.Errorf("ListRefs with a ref holding 5 bytes = %v; want an error wrapping backend.ErrCorrupt", err)
	}
	err := s.CompareAndSwapRef(t.Context(), "refs/heads/main", backend.ZeroHash, backendtest.HashOf("a"))
	if !errors.Is(err, backend.ErrCorrupt) {
		t.Errorf("CompareAndSwapRef on a ref holding 5 bytes = %v; want an error wrapping backend.ErrCorrupt", err)
	}
}

// TestSameProcess pins what happens when one process opens a directory
// twice: Pebble refuses the second lock ("lock held by current process"),
// and Open waits for it like for another process's lock.
func TestSameProcess(t *testing.T) {
	dir := t.TempDir()
	first := open(t, dir, nil)

	start := time.Now()
	s, err := pebble.Open(t.Context(), dir, &pebble.Options{LockTimeout: 50 * time.Millisecond})
	if err == nil {
		s.Close()
		t.Fatal("a second Open of the same directory in one process succeeded")
	}
	if !errors.Is(err, pebble.ErrLocked) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "in this process") {
		t.Errorf("second Open = %q; want an error wrapping pebble.ErrLocked naming %s and this process", err, dir)
	}
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Errorf("second Open failed after %v; want it to wait for LockTimeout (50ms)", waited)
	}

	// The same directory through a symlink or a relative path is the same
	// lock (Pebble's own in-process check compares path strings).
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(must(os.Getwd()), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, alias := range []string{link, rel, dir + "/./"} {
		s, err := pebble.Open(t.Context(), alias, &pebble.Options{LockTimeout: -1})
		if err == nil {
			s.Close()
			t.Fatalf("Open(%s) succeeded while %s is open", alias, dir)
		}
		if !errors.Is(err, pebble.ErrLocked) || !strings.Contains(err.Error(), alias) {
			t.Errorf("Open(%s) = %v; want an error wrapping pebble.ErrLocked naming %s", alias, err, alias)
		}
	}

	// A negative LockTimeout does not wait.
	if _, err := pebble.Open(t.Context(), dir, &pebble.Options{LockTimeout: -1}); !errors.Is(err, pebble.ErrLocked) {
		t.Errorf("Open with LockTimeout -1 = %v; want an error wrapping pebble.ErrLocked", err)
	}

	// A canceled context stops the wait.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := pebble.Open(ctx, dir, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Open with a context that expires while waiting = %v; want context.DeadlineExceeded", err)
	}

	// Once the first Store closes, a waiting Open gets the lock.
	go func() {
		time.Sleep(100 * time.Millisecond)
		first.Close()
	}()
	mustClose(t, open(t, dir, nil))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

const (
	helperDirEnv  = "STRATA_PEBBLE_HELPER_DIR"
	helperHoldEnv = "STRATA_PEBBLE_HELPER_HOLD"
)

// TestHelperProcess is not a test: run as a child by TestLockOtherProcess,
// it opens the store, writes a ref, reports "ready", holds the store open
// for a while and exits.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperDirEnv)
	if dir == "" {
		t.Skip("helper process for TestLockOtherProcess")
	}
	hold, err := time.ParseDuration(os.Getenv(helperHoldEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	s, err := pebble.Open(ctx, dir, nil)
	if err == nil {
		err = s.CompareAndSwapRef(ctx, "refs/heads/child", backend.ZeroHash, backendtest.HashOf("child"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	fmt.Println("ready")
	time.Sleep(hold)
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// startHolder starts a child process that holds the store in dir open for
// hold, and returns once it has the lock.
func startHolder(t *testing.T, dir string, hold time.Duration) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperDirEnv+"="+dir, helperHoldEnv+"="+hold.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the helper process: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		t.Fatalf("helper process said %q, %v; want ready", line, err)
	}
	return cmd
}

func TestLockOtherProcess(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("no subprocesses on " + runtime.GOOS)
	}
	dir := t.TempDir()
	child := startHolder(t, dir, time.Second)

	// A short timeout gives up with an error naming the directory and the holder.
	_, err := pebble.Open(t.Context(), dir, &pebble.Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, pebble.ErrLocked) {
		t.Fatalf("Open while another process holds the store = %v; want an error wrapping pebble.ErrLocked", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, dir) || !strings.Contains(msg, "locked by another strata process") {
		t.Errorf("Open error %q does not name %s and say it is locked by another strata process", msg, dir)
	}
	if runtime.GOOS == "linux" && !strings.Contains(msg, "pid "+strconv.Itoa(child.Process.Pid)) {
		t.Errorf("Open error %q does not name the holder, pid %d", msg, child.Process.Pid)
	}
	t.Log(msg)

	// The default timeout (10s) waits for the child to finish, and then
	// sees what it wrote.
	s := open(t, dir, nil)
	if err := child.Wait(); err != nil {
		t.Errorf("helper process: %v", err)
	}
	if got, err := s.GetRef(t.Context(), "refs/heads/child"); err != nil || got != backendtest.HashOf("child") {
		t.Errorf("GetRef of the child's ref = %s, %v; want %s", got.Short(), err, backendtest.HashOf("child").Short())
	}
}

// TestCloseRace closes the store while goroutines use it: every call must
// succeed or fail with ErrClosed, never panic.
func TestCloseRace(t *testing.T) {
	ctx := t.Context()
	s := open(t, t.TempDir(), nil)
	events, err := s.WatchRefs(ctx, "")
	if err != nil {
		t.Fatalf("WatchRefs: %v", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for g := range 8 {
		wg.Go(func() {
			old := backend.ZeroHash
			for i := 0; ; i++ {
				h := backendtest.HashOf(fmt.Sprint(g, i))
				err := s.Put(ctx, []backend.Object{{Hash: h, Data: []byte("x")}})
				if err == nil {
					_, err = s.Get(ctx, h)
				}
				if err == nil {
					err = s.ListObjects(ctx, h[:1], func(backend.Hash) error { return nil })
				}
				if err == nil {
					err = s.CompareAndSwapRef(ctx, fmt.Sprint("refs/heads/", g), old, h)
					old = h
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	mustClose(t, s)
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, backend.ErrClosed) {
			t.Errorf("a call racing with Close: %v; want nil or an error wrapping backend.ErrClosed", err)
		}
	}
	for range events { // closed by Close, after the buffered events
	}
}

// TestListObjectsCallback lists more objects than one internal chunk
// (1024) while the callback reads and deletes through the store.
func TestListObjectsCallback(t *testing.T) {
	ctx := t.Context()
	s := open(t, t.TempDir(), nil)
	const n, deleteEvery = 1500, 100
	objs := make([]backend.Object, n)
	for i := range objs {
		objs[i] = backend.Object{Hash: backendtest.HashOf(fmt.Sprint(i)), Data: []byte(fmt.Sprint(i))}
	}
	if err := s.Put(ctx, objs); err != nil {
		t.Fatalf("Put: %v", err)
	}
	seen := make(map[backend.Hash]bool)
	deleted := 0
	err := s.ListObjects(ctx, nil, func(h backend.Hash) error {
		if seen[h] {
			return fmt.Errorf("%s reported twice", h.Short())
		}
		seen[h] = true
		if _, err := s.Get(ctx, h); err != nil {
			return err
		}
		if len(seen)%deleteEvery != 0 {
			return nil
		}
		deleted++
		return s.DeleteObjects(ctx, []backend.Hash{h})
	})
	if err != nil {
		t.Fatalf("ListObjects: %v", err)
	}
	if len(seen) != n {
		t.Errorf("ListObjects reported %d objects, want %d", len(seen), n)
	}
	left := 0
	if err := s.ListObjects(ctx, nil, func(backend.Hash) error { left++; return nil }); err != nil {
		t.Fatalf("ListObjects: %v", err)
	}
	if left != n-deleted {
		t.Errorf("after deleting %d of %d objects from the callback, %d are left", deleted, n, left)
	}
}

func TestCloseClosesWatchers(t *testing.T) {
	s := open(t, t.TempDir(), nil)
	ch, err := s.WatchRefs(t.Context(), "")
	if err != nil {
		t.Fatalf("WatchRefs: %v", err)
	}
	if err := s.CompareAndSwapRef(t.Context(), "refs/heads/main", backend.ZeroHash, backendtest.HashOf("a")); err != nil {
		t.Fatalf("CompareAndSwapRef: %v", err)
	}
	mustClose(t, s)
	if ev, ok := <-ch; !ok || ev.Name != "refs/heads/main" {
		t.Errorf("first receive after Close = %+v, %t; want the event buffered before Close", ev, ok)
	}
	if ev, ok := <-ch; ok {
		t.Errorf("received %+v after Close; want the channel closed", ev)
	}
}

// TestLogf checks that Options.Logf receives Pebble's log lines: opening
// a store always logs (Pebble reports the write-ahead logs it found), and
// every line reaches Logf formatted.
func TestLogf(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}
	mustClose(t, open(t, t.TempDir(), &pebble.Options{Logf: logf}))
	mu.Lock()
	defer mu.Unlock()
	if len(lines) == 0 {
		t.Fatal("Logf received no line while a store was created and closed; want Pebble's log")
	}
	for _, l := range lines {
		if strings.TrimSpace(l) == "" || strings.Contains(l, "%!") {
			t.Errorf("Logf received %q; want a formatted, non-empty line", l)
		}
	}
}
