package pebble_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	pdb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/backendtest"
	"github.com/stratakv/strata/backend/pebble"
)

// smallTables tunes Pebble to flush every 256 KB and to keep every flushed
// table in L0 (automatic compactions off, no write stall), so a few MB of
// writes leave many L0 tables.
func smallTables(p *pdb.Options) {
	p.MemTableSize = 256 << 10
	p.DisableAutomaticCompactions = true
	p.L0StopWritesThreshold = 1000
}

// fillL0 writes n objects of 64 KB to a new store in dir, tuned with
// smallTables, and closes it: L0 then holds several tables, and the
// write-ahead log the last writes that were not flushed. It returns the
// objects' hashes.
func fillL0(t *testing.T, dir string, n int) []backend.Hash {
	t.Helper()
	o := &pebble.Options{}
	pebble.Tune(o, smallTables)
	s := open(t, dir, o)
	var hs []backend.Hash
	for i := range n {
		h := backendtest.HashOf(fmt.Sprint("fill ", i))
		if err := s.Put(t.Context(), []backend.Object{{Hash: h, Data: fillData(i)}}); err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	if l0 := pebble.Metrics(s).Levels[0].TablesCount; l0 < 4 {
		t.Fatalf("L0 holds %d tables after the writes; the test needs several", l0)
	}
	mustClose(t, s)
	return hs
}

func fillData(i int) []byte { return bytes.Repeat([]byte(fmt.Sprintf("%08d", i)), 8<<10) }

// failOptionsFS is the operating system's file system, on which creating
// Pebble's temporary OPTIONS file (*.dbtmp) fails with ENOSPC, as it did
// on a full disk, and a compaction opening a table waits until released
// is closed: a compaction that pdb.Open started before it failed then goes
// on only once Open has torn down the file cache (which crashed the
// process before the compaction scheduler of the Store).
type failOptionsFS struct {
	vfs.FS
	released       chan struct{}
	compactionRead atomic.Int32
}

func (fs *failOptionsFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	if strings.HasSuffix(name, ".dbtmp") {
		return nil, &os.PathError{Op: "open", Path: name, Err: syscall.ENOSPC}
	}
	return fs.FS.Create(name, c)
}

func (fs *failOptionsFS) Open(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	if strings.HasSuffix(name, ".sst") && inCompaction() {
		fs.compactionRead.Add(1)
		<-fs.released
	}
	return fs.FS.Open(name, opts...)
}

// inCompaction reports whether the caller runs on one of Pebble's
// compaction goroutines.
func inCompaction() bool {
	buf := make([]byte, 64<<10)
	return bytes.Contains(buf[:runtime.Stack(buf, false)], []byte("pebble/v2.(*DB).compact("))
}

const failOpenDirEnv = "STRATA_PEBBLE_FAILOPEN_DIR"

// TestFailedOpenHelper is not a test: run as a child by
// TestFailedOpenStartsNoCompaction, it opens the store in
// $STRATA_PEBBLE_FAILOPEN_DIR on a failOptionsFS, and reports how Open
// failed and whether a compaction read a table meanwhile.
func TestFailedOpenHelper(t *testing.T) {
	dir := os.Getenv(failOpenDirEnv)
	if dir == "" {
		t.Skip("helper process for TestFailedOpenStartsNoCompaction")
	}
	fs := &failOptionsFS{FS: vfs.Default, released: make(chan struct{})}
	o := &pebble.Options{FS: fs}
	pebble.Tune(o, func(p *pdb.Options) { p.L0CompactionThreshold = 2 })
	s, err := pebble.Open(context.Background(), dir, o)
	if err == nil {
		fmt.Println("opened")
		s.Close()
		os.Exit(0)
	}
	fmt.Printf("enospc %v\n", errors.Is(err, syscall.ENOSPC))
	fmt.Printf("error %s\n", strings.ReplaceAll(err.Error(), "\n", `\n`))
	close(fs.released)
	// A compaction left running by the failed Open (there must be none)
	// now reads through the closed file cache and crashes the process;
	// give it the time to.
	time.Sleep(time.Second)
	fmt.Printf("compaction reads %d\n", fs.compactionRead.Load())
	os.Exit(0)
}

// TestFailedOpenStartsNoCompaction reproduces issue 9's crash: Open
// replays a log whose flush makes L0 need a compaction, then fails to
// write its OPTIONS file on a full disk. Pebble used to start that
// compaction during Open and tear down the file cache under it on the
// failure, and the compaction crashed the process ("integer divide by
// zero"). Under the Store's compaction scheduler no compaction starts
// before Open has succeeded: Open fails with ENOSPC, and nothing crashes.
func TestFailedOpenStartsNoCompaction(t *testing.T) {
	dir := t.TempDir()
	fillL0(t, dir, 40)
	cmd := exec.Command(os.Args[0], "-test.run=^TestFailedOpenHelper$")
	cmd.Env = append(os.Environ(), failOpenDirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || strings.Contains(stderr.String(), "panic") {
		t.Fatalf("helper crashed: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	want := "enospc true\n"
	if !strings.HasPrefix(string(out), want) || !strings.HasSuffix(string(out), "compaction reads 0\n") {
		t.Errorf("helper reported:\n%s\nwant Open to fail with ENOSPC and no compaction to read a table", out)
	}
}

// TestCompactionsRunAfterOpen: compactions that Pebble picked during Open,
// and was refused then, run once Open has succeeded, and so do those of
// later writes.
func TestCompactionsRunAfterOpen(t *testing.T) {
	dir := t.TempDir()
	hs := fillL0(t, dir, 40)
	o := &pebble.Options{}
	pebble.Tune(o, func(p *pdb.Options) { p.L0CompactionThreshold = 2 })
	s := open(t, dir, o)
	ctx := t.Context()
	// Compactions run in the background; wait for them (the test's own
	// deadline bounds the wait).
	for pebble.Metrics(s).Compact.Count == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	for pebble.Metrics(s).Levels[0].TablesCount >= 2 {
		time.Sleep(10 * time.Millisecond)
	}
	for i, h := range hs {
		if v, err := s.Get(ctx, h); err != nil || !bytes.Equal(v, fillData(i)) {
			t.Errorf("object %d after the compactions: %d bytes, %v", i, len(v), err)
		}
	}
	mustClose(t, s)
}

// gateGoroutines counts the goroutines of Store compaction schedulers.
func gateGoroutines() int {
	buf := make([]byte, 1<<20)
	return bytes.Count(buf[:runtime.Stack(buf, true)], []byte("pebble.(*gate).tick"))
}

// TestSchedulerStops: the compaction scheduler's goroutine ends when the
// Store is closed, and when Open fails after Pebble registered it.
func TestSchedulerStops(t *testing.T) {
	// Not parallel: it counts the goroutines of every Store.
	before := gateGoroutines()
	dir := t.TempDir()
	s := open(t, dir, nil)
	if n := gateGoroutines(); n != before+1 {
		t.Errorf("%d scheduler goroutines with the store open; want %d", n, before+1)
	}
	mustClose(t, s)
	waitGoroutines(t, before, "after Close")

	fs := &failOptionsFS{FS: vfs.Default, released: make(chan struct{})}
	close(fs.released)
	if s, err := pebble.Open(t.Context(), dir, &pebble.Options{FS: fs}); !errors.Is(err, syscall.ENOSPC) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("Open with no room for OPTIONS = %v; want ENOSPC", err)
	}
	waitGoroutines(t, before, "after a failed Open")
}

// waitGoroutines waits for the scheduler goroutines to be want: one that
// has closed its done channel may still be on its way out.
func waitGoroutines(t *testing.T, want int, when string) {
	t.Helper()
	for range 100 {
		if gateGoroutines() == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%s: %d scheduler goroutines; want %d", when, gateGoroutines(), want)
}

// TestCommitsAreNotFlushedEarly checks that a store keeps 8 MB of small
// commits in its memtable instead of flushing them to L0 (Pebble's default
// memtable, 4 MB, flushed every thousand commits and compacted each flush
// into a base level it overlaps whole). It leans on how Pebble grows and
// flushes memtables (a memtable starts at 256 KB and doubles; a flush
// starts once the queued memtables reach MemTableSize/2): about 8.6 MB
// written against about 15.75 MB before a first flush, a wide margin that
// a Pebble upgrade could still change.
func TestCommitsAreNotFlushedEarly(t *testing.T) {
	s := open(t, "/db", &pebble.Options{FS: vfs.NewMem()})
	defer mustClose(t, s)
	data := bytes.Repeat([]byte{7}, 4<<10)
	head := backend.ZeroHash
	for i := range 2 << 10 { // 2048 commits of 4 KB
		h := backendtest.HashOf(fmt.Sprint("commit ", i))
		if err := s.PutAndSwapRef(t.Context(), []backend.Object{{Hash: h, Data: data}}, "heads/main", head, h); err != nil {
			t.Fatal(err)
		}
		head = h
	}
	if n := pebble.Metrics(s).Flush.Count; n != 0 {
		t.Errorf("%d flushes after 8 MB of commits, want 0", n)
	}
}
