package pebble_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/backendtest"
	"github.com/stratakv/strata/backend/pebble"
)

// fullFS is the operating system's file system with a disk that fills up:
// once the writes through it have used budget bytes, every further write
// fails with ENOSPC, until free is called.
type fullFS struct {
	wrapFS
	mu     sync.Mutex
	budget int64 // bytes left; negative: unlimited
}

// newFullFS returns a fullFS with budget bytes left (negative: unlimited).
func newFullFS(budget int64) *fullFS {
	fs := &fullFS{budget: budget}
	fs.wrapFS = wrapFS{FS: vfs.Default, wrap: func(name string, f vfs.File) vfs.File {
		return &fullFile{File: f, fs: fs, name: name}
	}}
	return fs
}

func (fs *fullFS) take(name string, n int) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.budget < 0 {
		return nil
	}
	if int64(n) > fs.budget {
		return &os.PathError{Op: "write", Path: name, Err: syscall.ENOSPC}
	}
	fs.budget -= int64(n)
	return nil
}

func (fs *fullFS) limit(n int64) { fs.mu.Lock(); fs.budget = n; fs.mu.Unlock() }

type fullFile struct {
	vfs.File
	fs   *fullFS
	name string
}

func (f *fullFile) Write(p []byte) (int, error) {
	if err := f.fs.take(f.name, len(p)); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

func (f *fullFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.take(f.name, len(p)); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}

const (
	diskFullDirEnv  = "STRATA_PEBBLE_DISKFULL_DIR"
	diskFullModeEnv = "STRATA_PEBBLE_DISKFULL_MODE"
)

// TestDiskFullHelper is not a test: run as a child by TestDiskFull, it
// fills the disk of the store in $STRATA_PEBBLE_DISKFULL_DIR with 300 KB
// commits and reports on standard output, one line each, the commits that
// were acknowledged ("ok HASH") and what happened then. With
// $STRATA_PEBBLE_DISKFULL_MODE=reopen it instead opens the store for
// writing on a disk that is still full, and reports how Open failed.
func TestDiskFullHelper(t *testing.T) {
	dir := os.Getenv(diskFullDirEnv)
	if dir == "" {
		t.Skip("helper process for TestDiskFull")
	}
	ctx := context.Background()
	if os.Getenv(diskFullModeEnv) == "reopen" {
		// The disk is still full: Open for writing gives up.
		fs := newFullFS(0)
		s, err := pebble.Open(ctx, dir, &pebble.Options{FS: fs})
		if err == nil {
			s.Close()
		}
		fmt.Printf("enospc %v\n", errors.Is(err, syscall.ENOSPC))
		fmt.Printf("error %s\n", strings.ReplaceAll(fmt.Sprint(err), "\n", `\n`))
		os.Exit(0)
	}
	fs := newFullFS(-1)
	s, err := pebble.Open(ctx, dir, &pebble.Options{FS: fs})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	fs.limit(2 << 20)
	prev := backend.ZeroHash
	for i := range 100 {
		data := bytes.Repeat([]byte{byte(i)}, 300<<10)
		h := backendtest.HashOf(fmt.Sprint("object ", i))
		err = s.PutAndSwapRef(ctx, []backend.Object{{Hash: h, Data: data}}, "heads/main", prev, h)
		if err != nil {
			break
		}
		fmt.Println("ok", h)
		prev = h
	}
	fmt.Printf("enospc %v\n", errors.Is(err, syscall.ENOSPC))
	fmt.Printf("error %s\n", strings.ReplaceAll(fmt.Sprint(err), "\n", `\n`))
	// The store refuses further use at once: no hang, no panic.
	_, gerr := s.Get(ctx, prev)
	perr := s.Put(ctx, []backend.Object{{Hash: backendtest.HashOf("more"), Data: []byte("x")}})
	fmt.Printf("after %v %v\n", gerr != nil, perr != nil)
	fmt.Printf("close %v\n", s.Close())
	os.Exit(0)
}

// TestDiskFull: a write on a full disk fails with an error wrapping
// ENOSPC that names the directory, without a panic or a hang, and once
// there is space again the store opens with every acknowledged write.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	acked, report := runDiskFullHelper(t, dir, "fill")
	t.Logf("%d commits acknowledged; then %s", len(acked), report["error"])
	if len(acked) == 0 || len(acked) == 100 {
		t.Fatalf("helper acknowledged %d commits; want the disk to fill after some", len(acked))
	}
	want := map[string]string{"enospc": "true", "after": "true true", "close": "<nil>"}
	got := map[string]string{"enospc": report["enospc"], "after": report["after"], "close": report["close"]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("on a full disk (-want +got):\n%s", diff)
	}
	if !strings.Contains(report["error"], dir) {
		t.Errorf("the write error %q does not name the store directory %s", report["error"], dir)
	}

	// The disk is still full. Opening the store for writing fails at
	// once with ENOSPC (Pebble would retry flushing its log forever), in
	// a child process, whose exit releases the lock that the abandoned
	// open holds.
	_, report = runDiskFullHelper(t, dir, "reopen")
	t.Logf("Open for writing on the full disk: %s", report["error"])
	if report["enospc"] != "true" {
		t.Errorf("Open for writing on a full disk = %s; want an error wrapping ENOSPC", report["error"])
	}
	// Reading needs no space, and works meanwhile.
	r := open(t, dir, &pebble.Options{ReadOnly: true, FS: newFullFS(0)})
	checkAcked(t, r, acked)
	mustClose(t, r)

	// Space is free again: the store opens, and every acknowledged
	// commit is there.
	s := open(t, dir, nil)
	checkAcked(t, s, acked)
}

// runDiskFullHelper runs TestDiskFullHelper on dir in mode, and returns
// the commits it acknowledged and the rest of its report.
func runDiskFullHelper(t *testing.T, dir, mode string) (acked []backend.Hash, report map[string]string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDiskFullHelper$")
	cmd.Env = append(os.Environ(), diskFullDirEnv+"="+dir, diskFullModeEnv+"="+mode)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper (%s): %v\nstdout:\n%s\nstderr:\n%s", mode, err, out, stderr.String())
	}
	if strings.Contains(stderr.String(), "panic") {
		t.Fatalf("helper (%s) panicked:\n%s", mode, stderr.String())
	}
	report = map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		if k == "ok" {
			h, err := backend.ParseHash(v)
			if err != nil {
				t.Fatal(err)
			}
			acked = append(acked, h)
			continue
		}
		report[k] = v
	}
	return acked, report
}

// checkAcked checks that s holds every commit TestDiskFullHelper
// acknowledged, with heads/main at the last.
func checkAcked(t *testing.T, s *pebble.Store, acked []backend.Hash) {
	t.Helper()
	ctx := t.Context()
	head, err := s.GetRef(ctx, "heads/main")
	if err != nil || head != acked[len(acked)-1] {
		t.Errorf("heads/main = %s, %v; want the last acknowledged commit %s", head.Short(), err, acked[len(acked)-1].Short())
	}
	for i, h := range acked {
		v, err := s.Get(ctx, h)
		if err != nil || !bytes.Equal(v, bytes.Repeat([]byte{byte(i)}, 300<<10)) {
			t.Errorf("acknowledged object %d (%s): %d bytes, %v", i, h.Short(), len(v), err)
		}
	}
}
