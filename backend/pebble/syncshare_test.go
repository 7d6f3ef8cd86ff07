package pebble_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/pebble"
)

// walFS is the operating system's file system with a write-ahead log
// whose syncs are counted, and, once hold is called, held until release:
// each held sync signals entered first.
type walFS struct {
	wrapFS
	syncs   atomic.Int64
	delay   time.Duration // each sync of the log takes this much longer
	mu      sync.Mutex
	gate    chan struct{} // while not nil, a sync waits for it to close
	entered chan struct{}
	broken  bool // every sync of the log fails (see fail)
}

func (fs *walFS) hold() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.gate, fs.entered = make(chan struct{}), make(chan struct{}, 100)
}

func (fs *walFS) release() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.gate != nil {
		close(fs.gate)
		fs.gate = nil
	}
}

// fail makes the held sync, and every later one, fail with EIO.
func (fs *walFS) fail() {
	fs.mu.Lock()
	fs.broken = true
	fs.mu.Unlock()
	fs.release()
}

// newWalFS returns a walFS whose syncs of the log take delay longer.
func newWalFS(delay time.Duration) *walFS {
	fs := &walFS{delay: delay}
	fs.wrapFS = wrapFS{FS: vfs.Default, wrap: func(name string, f vfs.File) vfs.File {
		if !strings.HasSuffix(name, ".log") {
			return f
		}
		return &walFile{File: f, fs: fs}
	}}
	return fs
}

type walFile struct {
	vfs.File
	fs *walFS
}

func (f *walFile) SyncData() error {
	f.fs.syncs.Add(1)
	time.Sleep(f.fs.delay)
	f.fs.mu.Lock()
	gate, entered := f.fs.gate, f.fs.entered
	f.fs.mu.Unlock()
	if gate != nil {
		entered <- struct{}{}
		<-gate
	}
	f.fs.mu.Lock()
	broken := f.fs.broken
	f.fs.mu.Unlock()
	if broken {
		return &os.PathError{Op: "fdatasync", Path: "log", Err: syscall.EIO}
	}
	return f.File.SyncData()
}

func (f *walFile) Sync() error { return f.SyncData() }

// hashOf returns a distinct non-zero hash for i.
func hashOf(i uint64) backend.Hash {
	var h backend.Hash
	binary.BigEndian.PutUint64(h[:], i+1)
	return h
}

// swapAtOnce makes writers goroutines each swap ref heads/bW of s each
// times at once (storing one object with each swap), and returns the last
// hash each ref's swaps acknowledged.
func swapAtOnce(t *testing.T, s *pebble.Store, writers, each int) map[string]backend.Hash {
	t.Helper()
	acked := make(map[string]backend.Hash)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range writers {
		name := fmt.Sprintf("heads/b%d", w)
		wg.Go(func() {
			var head backend.Hash
			for i := range each {
				next := hashOf(uint64(w*each + i))
				obj := backend.Object{Hash: next, Data: []byte(name)}
				if err := s.PutAndSwapRef(t.Context(), []backend.Object{obj}, name, head, next); err != nil {
					t.Errorf("%s: swap %d: %v", name, i, err)
					return
				}
				head = next
				mu.Lock()
				acked[name] = head
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return acked
}

// TestSwapsShareSyncs checks that swaps made at once, on refs of their
// own, share the syncs of the write-ahead log (a swap waits for its sync
// without holding the lock that orders swaps), that every one lands, and
// that they are durable: the store, reopened, holds every ref at its
// last hash. Serialised syncs, one per swap, fail it.
func TestSwapsShareSyncs(t *testing.T) {
	dir := t.TempDir()
	fs := newWalFS(2 * time.Millisecond)
	s, err := pebble.Open(t.Context(), dir, &pebble.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 25
	before := fs.syncs.Load()
	want := swapAtOnce(t, s, writers, each)
	syncs := fs.syncs.Load() - before
	t.Logf("%d swaps, %d syncs of the log", writers*each, syncs)
	if syncs > writers*each/2 {
		t.Errorf("%d swaps made at once took %d syncs of the log; want at most %d (shared)", writers*each, syncs, writers*each/2)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir, nil)
	refs, err := s.ListRefs(t.Context(), "heads/")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]backend.Hash{}
	for _, r := range refs {
		got[r.Name] = r.Hash
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("refs after reopening (-want +got):\n%s", diff)
	}
}

// TestSwapReturnsOnceDurable holds the write-ahead log's sync and checks
// that a swap, a swap of another ref applied meanwhile, and a swap that
// finds its ref already in place (moved by the first, not yet durable)
// all wait for it; that no watcher hears of any of them before then; and
// that the events come afterwards, in the order the swaps were applied.
func TestSwapReturnsOnceDurable(t *testing.T) {
	fs := newWalFS(0)
	s := open(t, t.TempDir(), &pebble.Options{FS: fs})
	events, err := s.WatchRefs(t.Context(), "heads/")
	if err != nil {
		t.Fatal(err)
	}
	a, c := hashOf(1), hashOf(3)
	fs.hold()
	t.Cleanup(fs.release)
	done := make(chan string, 3)
	swap := func(label string, objs []backend.Object, name string, old, new backend.Hash) {
		go func() {
			if err := s.PutAndSwapRef(t.Context(), objs, name, old, new); err != nil {
				t.Errorf("%s: %v", label, err)
			}
			done <- label
		}()
	}
	swap("A", []backend.Object{{Hash: a, Data: []byte("a")}}, "heads/main", backend.ZeroHash, a)
	<-fs.entered // A's sync is under way, and held
	swap("C", []backend.Object{{Hash: c, Data: []byte("c")}}, "heads/other", backend.ZeroHash, c)
	waitRef(t, s, "heads/other", c) // applied, visible
	swap("B", nil, "heads/main", a, a)
	select {
	case l := <-done:
		t.Fatalf("swap %s returned while the log's sync was held", l)
	case ev := <-events:
		t.Fatalf("event %+v before the log's sync ended", ev)
	case <-time.After(100 * time.Millisecond):
	}
	fs.release()
	got := map[string]bool{}
	for range 3 {
		got[<-done] = true
	}
	var evs []backend.RefEvent
	for range 3 {
		evs = append(evs, <-events)
	}
	want := []backend.RefEvent{
		{Name: "heads/main", Old: backend.ZeroHash, New: a},
		{Name: "heads/other", Old: backend.ZeroHash, New: c},
		{Name: "heads/main", Old: a, New: a},
	}
	if diff := cmp.Diff(want, evs); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// waitRef waits until ref name of s reads h.
func waitRef(t *testing.T, s *pebble.Store, name string, h backend.Hash) {
	t.Helper()
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(time.Millisecond) {
		if got, err := s.GetRef(t.Context(), name); err == nil && got == h {
			return
		}
	}
	t.Fatalf("ref %s never read %s", name, h)
}

// TestSwapWaitsBeforeConflict holds the log's sync of a swap that creates
// a ref, and checks that a swap that finds the ref there (a conflict
// decided by a value not durable yet) does not return its conflict until
// that value is durable.
func TestSwapWaitsBeforeConflict(t *testing.T) {
	fs := newWalFS(0)
	s := open(t, t.TempDir(), &pebble.Options{FS: fs})
	a, c := hashOf(1), hashOf(3)
	fs.hold()
	t.Cleanup(fs.release)
	done := make(chan error, 2)
	go func() { done <- s.CompareAndSwapRef(t.Context(), "heads/main", backend.ZeroHash, a) }()
	<-fs.entered
	go func() { done <- s.CompareAndSwapRef(t.Context(), "heads/main", backend.ZeroHash, c) }()
	select {
	case err := <-done:
		t.Fatalf("a swap returned (%v) while the log's sync was held", err)
	case <-time.After(100 * time.Millisecond):
	}
	fs.release()
	var errs []error
	for range 2 {
		errs = append(errs, <-done)
	}
	if errs[0] != nil && errs[1] != nil || !errors.Is(errs[0], backend.ErrExists) && !errors.Is(errs[1], backend.ErrExists) {
		t.Errorf("swaps returned %v; want nil for the first and ErrExists for the second", errs)
	}
}

// TestSwapSyncFails fails the log's sync of a swap, and checks that the
// swap, a swap that found the ref it moved already in place meanwhile,
// and every later swap return an error wrapping ErrStopped (and the
// cause), and that no watcher hears of any of them.
func TestSwapSyncFails(t *testing.T) {
	fs := newWalFS(0)
	s, err := pebble.Open(t.Context(), t.TempDir(), &pebble.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	events, err := s.WatchRefs(t.Context(), "heads/")
	if err != nil {
		t.Fatal(err)
	}
	a := hashOf(1)
	fs.hold()
	t.Cleanup(fs.release)
	done := make(chan error, 2)
	go func() {
		done <- s.PutAndSwapRef(t.Context(), []backend.Object{{Hash: a, Data: []byte("a")}}, "heads/main", backend.ZeroHash, a)
	}()
	<-fs.entered
	go func() { done <- s.CompareAndSwapRef(t.Context(), "heads/main", a, a) }()
	time.Sleep(50 * time.Millisecond) // let the second swap find a in place
	fs.fail()
	for i := range 2 {
		if err := <-done; !errors.Is(err, pebble.ErrStopped) || !errors.Is(err, syscall.EIO) {
			t.Errorf("swap %d after a failed sync: %v; want ErrStopped wrapping EIO", i, err)
		}
	}
	if err := s.CompareAndSwapRef(t.Context(), "heads/main", a, a); !errors.Is(err, pebble.ErrStopped) {
		t.Errorf("a later no-op swap: %v; want ErrStopped", err)
	}
	select {
	case ev, ok := <-events:
		if ok {
			t.Errorf("event %+v for a swap whose sync failed", ev)
		}
	case <-time.After(100 * time.Millisecond):
	}
}

// TestNoOpSwapAfterFailedSync races swaps that read the ref a swap just
// moved, started as the log's sync fails, against that failed swap, round
// after round: a no-op swap (the ref already in place) and a swap that
// conflicts with the value must neither return nil nor a conflict, since
// that value never became durable, but an error wrapping ErrStopped.
func TestNoOpSwapAfterFailedSync(t *testing.T) {
	a := hashOf(1)
	for round := range 20 {
		fs := newWalFS(0)
		s, err := pebble.Open(t.Context(), t.TempDir(), &pebble.Options{FS: fs})
		if err != nil {
			t.Fatal(err)
		}
		fs.hold()
		first := make(chan error, 1)
		go func() { first <- s.CompareAndSwapRef(t.Context(), "heads/main", backend.ZeroHash, a) }()
		<-fs.entered
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var nils, conflicts atomic.Int64
		fs.fail()
		for g := range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if g%2 == 0 {
						if s.CompareAndSwapRef(t.Context(), "heads/main", a, a) == nil {
							nils.Add(1)
						}
					} else if err := s.CompareAndSwapRef(t.Context(), "heads/main", backend.ZeroHash, a); !errors.Is(err, pebble.ErrStopped) {
						conflicts.Add(1)
					}
				}
			})
		}
		if err := <-first; !errors.Is(err, pebble.ErrStopped) {
			t.Errorf("round %d: the swap whose sync failed: %v; want ErrStopped", round, err)
		}
		time.Sleep(5 * time.Millisecond)
		close(stop)
		wg.Wait()
		_ = s.Close()
		if n, c := nils.Load(), conflicts.Load(); n > 0 || c > 0 {
			t.Fatalf("round %d: on a ref whose sync failed, %d no-op swaps returned nil and %d conflicting swaps returned something other than ErrStopped", round, n, c)
		}
	}
}

// TestSwapsSurviveCrash makes swaps at once on refs of their own (so that
// they share syncs), then crashes the file system, keeping only what was
// synced, and reopens the store from that: every ref holds the last hash
// its swap acknowledged.
func TestSwapsSurviveCrash(t *testing.T) {
	mem := vfs.NewCrashableMem()
	s, err := pebble.Open(t.Context(), "/db", &pebble.Options{FS: mem})
	if err != nil {
		t.Fatal(err)
	}
	want := swapAtOnce(t, s, 8, 25)
	crashed := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
	_ = s.Close()
	r := open(t, "/db", &pebble.Options{FS: crashed})
	got := make(map[string]backend.Hash)
	refs, err := r.ListRefs(t.Context(), "heads/")
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range refs {
		got[ref.Name] = ref.Hash
		if _, err := r.Get(t.Context(), ref.Hash); err != nil {
			t.Errorf("%s: object %s: %v", ref.Name, ref.Hash.Short(), err)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("refs after a crash (-acknowledged +found):\n%s", diff)
	}
}

// TestFencedDeleteSyncsOutsideTheFence holds the log's sync of a fenced
// delete (garbage collection's), and checks that a commit's write of
// objects applies meanwhile instead of waiting for that sync, and that
// both then return, the deleted object gone and the new one stored.
func TestFencedDeleteSyncsOutsideTheFence(t *testing.T) {
	fs := newWalFS(0)
	s := open(t, t.TempDir(), &pebble.Options{FS: fs})
	x, y := hashOf(1), hashOf(2)
	if err := s.Put(t.Context(), []backend.Object{{Hash: x, Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	fence, err := s.FenceObjects(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer fence.Release()
	fs.hold()
	t.Cleanup(fs.release)
	done := make(chan error, 2)
	go func() {
		kept, err := s.DeleteObjectsFenced(t.Context(), fence, []backend.Hash{x})
		if err == nil && len(kept) != 0 {
			err = fmt.Errorf("kept %v, want none", kept)
		}
		done <- err
	}()
	<-fs.entered // the delete's sync is under way, and held
	go func() {
		done <- s.PutAndSwapRef(t.Context(), []backend.Object{{Hash: y, Data: []byte("y")}}, "heads/main", backend.ZeroHash, y)
	}()
	waitRef(t, s, "heads/main", y) // applied while the delete's sync is held
	fs.release()
	for range 2 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if _, err := s.Get(t.Context(), x); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Get of the deleted object: %v; want ErrNotFound", err)
	}
	if got, err := s.Get(t.Context(), y); err != nil || string(got) != "y" {
		t.Errorf("Get of the committed object = %q, %v; want \"y\"", got, err)
	}
}
