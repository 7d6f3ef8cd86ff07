package pebble

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pdb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/watchhub"
)

const (
	// MemTableSize is the size Pebble's memtable grows to (it starts at
	// 256 KB and doubles as it fills, so a small store stays small), 4
	// times Pebble's default of 4 MB. A commit writes a few KB of new,
	// randomly keyed objects: with 4 MB memtables every thousand or so
	// commits were flushed to L0, and the flushes compacted into a base
	// level that each of them overlaps whole, rewriting it (60,000 commits
	// of 4 KB: 17 compactions and 3.3 bytes written to tables per byte of
	// log; with 16 MB 8 and 1.7, and 30 % less CPU per commit). Larger
	// memtables save a little more CPU, but a new store's write-ahead log
	// is recycled only once a memtable's worth has been written, and until
	// then each commit's fsync also extends the file, which costs more. A
	// store may hold up to twice this in memtables (Pebble's
	// MemTableStopWritesThreshold), and Open replays up to this much
	// write-ahead log. It is exported so that benchmarks of Pebble itself
	// can open it as a Store does.
	MemTableSize = 16 << 20
)

// Key layout. Every key starts with a one-byte family tag, so the three
// families never overlap and each is one contiguous, bytewise-sorted range.
const (
	formatKey    = "m/format"
	formatValue  = "strata-pebble 1"
	formatFamily = "strata-pebble " // any marker of this family, any version
	objTag       = 'o'
	refTag       = 'r'
)

const (
	defaultLockTimeout = 10 * time.Second
	// listChunk is how many hashes ListObjects reads per iterator pass;
	// the callback runs between passes, with no lock held.
	listChunk = 1024
)

// WatchBuffer is the number of events a watcher's channel buffers. When a
// watcher falls further behind, new events for it are dropped and its
// channel is closed after the buffered ones (see backend.RefWatcher);
// writers never wait for watchers.
const WatchBuffer = watchhub.Buffer

var (
	// ErrLocked is wrapped by the error Open returns when another process
	// (or another Store in this process) kept the directory locked for
	// longer than Options.LockTimeout.
	ErrLocked = errors.New("store locked")
	// ErrReadOnly is wrapped by the error every write method returns on a
	// store opened with Options.ReadOnly. It is backend.ErrReadOnly.
	ErrReadOnly = backend.ErrReadOnly
)

// Options configures Open. A nil *Options means the zero value, and the zero
// value of every field is a sensible default.
type Options struct {
	// LockTimeout is how long Open waits for another process (or another
	// Store in this process) to release the directory lock, retrying with a
	// short backoff. Zero means 10 seconds; a negative value means do not
	// wait at all.
	LockTimeout time.Duration
	// ReadOnly opens an existing store for reading only: Put,
	// DeleteObjects and CompareAndSwapRef return an error wrapping
	// ErrReadOnly. It implies MustExist. A read-only Open needs no write
	// permission on the directory and creates, changes and deletes nothing
	// in it (Pebble's read-only mode: the write-ahead log is replayed into
	// memory, never flushed). It takes the directory lock shared: any
	// number of read-only Stores, in any processes, may read one directory
	// at once, while a writer waits for them and they wait for a writer
	// (Pebble's own read-only mode would take the exclusive lock, which
	// needs write access). A directory without a LOCK file is read with no
	// lock. False (the default) opens the store for reading and writing.
	ReadOnly bool
	// MustExist makes Open fail with an error wrapping backend.ErrNotFound
	// if dir holds no store, instead of creating one (and dir, if needed).
	// False (the default) creates the store when it is missing.
	MustExist bool
	// Logf receives Pebble's informational and error log lines, including
	// its reports of corruption and of errors in background work. Nil (the
	// default) discards them. A fatal error from Pebble is logged too, and
	// then stops the Store (see ErrStopped); it never panics out of a
	// Store method.
	Logf func(format string, args ...any)
	// FS is the file system the store lives in. Nil (the default) is the
	// operating system's (vfs.Default). Tests use Pebble's vfs wrappers to
	// inject faults such as a full disk.
	FS vfs.FS

	// tune, if set, adjusts Pebble's options before the database is
	// opened. Only tests set it (see export_test.go).
	tune func(*pdb.Options)
}

func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	if out.LockTimeout == 0 {
		out.LockTimeout = defaultLockTimeout
	}
	if out.ReadOnly {
		out.MustExist = true
	}
	if out.FS == nil {
		out.FS = vfs.Default
	}
	return out
}

// Store is a backend.Store kept in a Pebble database in one directory. It
// also implements backend.ObjectLister, backend.ObjectScanner, backend.ObjectDeleter,
// backend.BatchGetter and backend.RefWatcher.
//
// A Store is safe for concurrent use by many goroutines. It holds the
// directory lock until Close, so no other process can open the same
// directory meanwhile. After Close every method returns an error wrapping
// backend.ErrClosed.
type Store struct {
	dir      string
	readOnly bool
	health   *health
	gate     *gate // the database's compaction scheduler

	// mu guards db against Close: every method holds it for reading while
	// it uses db, and Close holds it for writing. No caller code runs while
	// it is held.
	mu     sync.RWMutex
	closed bool
	db     *pdb.DB
	lock   *pdb.Lock

	// refMu serialises the swaps of refs up to the moment each applies its
	// write (not its sync, see swap): Pebble has no compare-and-swap, and
	// the directory lock guarantees this process is the only writer.
	refMu sync.Mutex
	// syncing counts the swaps applied whose sync is under way.
	syncing atomic.Int64

	watchers watchhub.Hub
	events   refEvents // the swaps' events, until their syncs end

	// fences are garbage collection's fences (backend.ObjectFencer):
	// writes of objects and Has hold fences.LockWrite, fenced deletes
	// fences.LockDelete.
	fences backend.Fences
}

var (
	_ backend.RefCommitter  = (*Store)(nil)
	_ backend.Store         = (*Store)(nil)
	_ backend.ObjectLister  = (*Store)(nil)
	_ backend.ObjectScanner = (*Store)(nil)
	_ backend.ObjectDeleter = (*Store)(nil)
	_ backend.ObjectFencer  = (*Store)(nil)
	_ backend.BatchGetter   = (*Store)(nil)
	_ backend.RefWatcher    = (*Store)(nil)
)

// Open opens the store in directory dir, creating the directory and an
// empty store if needed (unless opts.MustExist or opts.ReadOnly is set; then
// a missing store is an error wrapping backend.ErrNotFound). A nil opts
// means the defaults.
//
// Open creates a store only in a missing or empty directory. Before it
// writes anything it checks what dir holds: a directory with Pebble's data
// files but no current MANIFEST (a damaged store) is refused with an error
// wrapping backend.ErrCorrupt, and a directory holding other files with
// one wrapping ErrNotStore; either way nothing in it is changed. A Pebble
// database that is not a strata store, or a strata store of an unknown
// format, is refused too. Errors meaning on-disk corruption wrap
// backend.ErrCorrupt, and name the directory.
//
// If another process holds the directory lock, Open retries until
// opts.LockTimeout has passed and then returns an error wrapping ErrLocked
// that names dir and, where the platform can tell, the holder's process id.
// It gives up early, returning ctx's error, if ctx is done, both while it
// waits for the lock and while Pebble opens the database (replaying its
// log, which may take long or fail to progress on a full disk): the
// abandoned open is finished and closed in the background.
func Open(ctx context.Context, dir string, opts *Options) (s *Store, err error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pebble: open %s: %w", dir, err)
	}
	if dir == "" {
		return nil, errors.New("pebble: open: empty directory name")
	}
	o := opts.withDefaults()

	state, err := inspect(o.FS, dir)
	if err != nil {
		return nil, err
	}
	switch state {
	case dirDamaged:
		return nil, damaged(dir)
	case dirForeign:
		return nil, foreign(dir)
	case dirMissing:
		if o.MustExist {
			return nil, fmt.Errorf("pebble: open %s: no strata store in this directory: %w", dir, backend.ErrNotFound)
		}
		if err := o.FS.MkdirAll(dir, 0o777); err != nil {
			return nil, fmt.Errorf("pebble: open %s: %w", dir, err)
		}
	}

	// Pebble's guard against opening one directory twice in a process is
	// keyed by path string, and POSIX record locks do not exclude their own
	// process: the same directory reached by two spellings (relative,
	// through a symlink) would be opened twice. One canonical path closes
	// that hole.
	path := filepath.Clean(dir)
	if o.FS == vfs.Default {
		if path, err = canonical(dir); err != nil {
			return nil, fmt.Errorf("pebble: open %s: %w", dir, err)
		}
	}
	lock, err := acquireLock(ctx, dir, path, o.FS, o.ReadOnly, o.LockTimeout)
	if err != nil {
		return nil, err
	}
	h := newHealth(dir)
	h.logf = o.Logf
	l := logger{logf: o.Logf, h: h}
	g := newGate()
	popts := &pdb.Options{
		FS:               o.FS,
		Lock:             lock,
		ReadOnly:         o.ReadOnly,
		ErrorIfNotExists: o.MustExist || state == dirStore,
		Logger:           l,
		EventListener:    eventListener(l),
		MemTableSize:     MemTableSize,
	}
	popts.Experimental.CompactionScheduler = g
	if o.tune != nil {
		o.tune(popts)
	}
	db, err := openDB(ctx, path, popts, lock, h, g)
	if err != nil {
		if herr := h.openError(); herr != nil {
			return nil, herr
		}
		switch {
		case ctx.Err() != nil && errors.Is(err, ctx.Err()):
			return nil, fmt.Errorf("pebble: open %s: %w", dir, err)
		case errors.Is(err, pdb.ErrDBDoesNotExist):
			return nil, fmt.Errorf("pebble: open %s: no strata store in this directory: %w", dir, backend.ErrNotFound)
		case pdb.IsCorruptionError(err), state == dirStore && errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("pebble: open %s: %w: %s; run 'strata fsck' or restore a backup", dir, backend.ErrCorrupt, oneLine(err.Error()))
		}
		return nil, fmt.Errorf("pebble: open %s: %w", dir, err)
	}
	s = &Store{
		dir:      dir,
		readOnly: o.ReadOnly,
		health:   h,
		gate:     g,
		db:       db,
		lock:     lock,
	}
	if err := s.checkFormat(); err != nil {
		_ = s.Close()
		return nil, err
	}
	// Only now may compactions run: one started while pdb.Open could
	// still fail would outlive the file cache that Open's failure closes,
	// and crash the process (see gate).
	g.start()
	return s, nil
}

// openDB runs pdb.Open on its own goroutine, so that ctx can stop the
// wait; a panic in it (a fatal report) becomes an error. It also gives up
// when h reports trouble that Pebble would retry forever (replaying the
// log on a full disk, for one), returning h's error. If it gives up, the
// open goes on in the background, and whatever it opens is closed and the
// lock released. Whenever openDB returns no database, it stops g (pdb.Open
// does not unregister its scheduler when it fails).
func openDB(ctx context.Context, path string, opts *pdb.Options, lock *pdb.Lock, h *health, g *gate) (*pdb.DB, error) {
	done := make(chan openResult, 1)
	go func() {
		var r openResult
		defer func() {
			if p := recover(); p != nil {
				r = openResult{err: fmt.Errorf("%v", p)}
			}
			done <- r
		}()
		r.db, r.err = pdb.Open(path, opts)
	}()
	select {
	case r := <-done:
		if r.err != nil {
			g.stop()
			_ = lock.Close()
		}
		return r.db, r.err
	case <-ctx.Done():
		abandon(done, lock, g)
		return nil, ctx.Err()
	case <-h.trouble:
		abandon(done, lock, g)
		return nil, h.openError()
	}
}

type openResult struct {
	db  *pdb.DB
	err error
}

// abandon lets an open that openDB gave up on finish in the background,
// then closes what it opened, stops g and releases the lock.
func abandon(done <-chan openResult, lock *pdb.Lock, g *gate) {
	go func() {
		r := <-done
		if r.db != nil {
			func() {
				defer func() { _ = recover() }()
				_ = r.db.Close()
			}()
		}
		g.stop()
		_ = lock.Close()
	}()
}

// Exists reports whether dir holds a Pebble database (a store Open would
// open rather than create). A missing directory is not an error; it
// reports false. Exists takes no lock, writes nothing and does not check
// that the database is a strata store; Open does.
func Exists(dir string) (bool, error) {
	desc, err := pdb.Peek(dir, vfs.Default)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("pebble: %s: %w", dir, err)
	}
	return desc.Exists, nil
}

// canonical returns the absolute path of dir with symlinks resolved.
func canonical(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

// checkFormat verifies the format marker, writing it into a database that
// is still empty (newly created, or whose creation was interrupted).
func (s *Store) checkFormat() (err error) {
	defer s.recover("open", &err)
	v, closer, err := s.db.Get([]byte(formatKey))
	switch {
	case err == nil:
		got := string(v)
		_ = closer.Close()
		switch {
		case got == formatValue:
			return nil
		case strings.HasPrefix(got, formatFamily):
			return fmt.Errorf("pebble: open %s: unsupported store format %q (this strata reads %q)", s.dir, got, formatValue)
		default:
			return fmt.Errorf("pebble: open %s: not a strata store: format marker is %q", s.dir, got)
		}
	case !errors.Is(err, pdb.ErrNotFound):
		return s.fail("open: read format marker", err)
	}

	it, err := s.db.NewIter(nil)
	if err != nil {
		return s.fail("open", err)
	}
	empty := !it.First()
	if err := it.Close(); err != nil {
		return s.fail("open", err)
	}
	switch {
	case !empty:
		return fmt.Errorf("pebble: open %s: not a strata store: a Pebble database without the %q marker", s.dir, formatKey)
	case s.readOnly:
		return fmt.Errorf("pebble: open %s: empty database, no strata store yet: %w", s.dir, backend.ErrNotFound)
	}
	if err := s.db.Set([]byte(formatKey), []byte(formatValue), pdb.Sync); err != nil {
		return s.fail("open: write format marker", err)
	}
	return nil
}

// acquire checks ctx and Close, and read-locks s.mu; on success the caller
// must call s.mu.RUnlock.
func (s *Store) acquire(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return s.errorf(op, err)
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return s.errorf(op, backend.ErrClosed)
	}
	if err := s.health.stopped(op); err != nil {
		s.mu.RUnlock()
		return err
	}
	return nil
}

// recover turns a panic inside Pebble during op (its fatal reports panic
// on the caller's goroutine, see logger.Fatalf) into the error *err, and
// stops the Store. It must be deferred directly.
func (s *Store) recover(op string, err *error) {
	if r := recover(); r != nil {
		*err = s.health.stop(op, r)
	}
}

// acquireWrite is acquire for the methods that write.
func (s *Store) acquireWrite(ctx context.Context, op string) error {
	if err := s.acquire(ctx, op); err != nil {
		return err
	}
	if s.readOnly {
		s.mu.RUnlock()
		return s.errorf(op, ErrReadOnly)
	}
	return nil
}

func (s *Store) errorf(op string, err error) error {
	return fmt.Errorf("pebble %s: %s: %w", s.dir, op, err)
}

// fail wraps an error from Pebble. Corruption is reported as
// backend.ErrCorrupt (Pebble marks it in a way errors.Is cannot see),
// naming the damaged file, on one line.
func (s *Store) fail(op string, err error) error {
	if pdb.IsCorruptionError(err) {
		where := ""
		if p := s.health.corrupt.Load(); p != nil {
			where = " in file " + *p
		}
		return fmt.Errorf("pebble %s: %s: %w%s: %s", s.dir, op, backend.ErrCorrupt, where, oneLine(err.Error()))
	}
	if f := s.health.stopped(op); f != nil {
		return f
	}
	return s.errorf(op, err)
}

func objKey(h backend.Hash) []byte {
	k := make([]byte, 1+backend.HashSize)
	k[0] = objTag
	copy(k[1:], h[:])
	return k
}

func refKey(name string) []byte {
	k := make([]byte, 1+len(name))
	k[0] = refTag
	copy(k[1:], name)
	return k
}

// upperBound returns the smallest key greater than every key starting with
// prefix, or nil if there is none (prefix is all 0xff).
func upperBound(prefix []byte) []byte {
	for i := len(prefix) - 1; i >= 0; i-- {
		if prefix[i] != 0xff {
			up := bytes.Clone(prefix[:i+1])
			up[i]++
			return up
		}
	}
	return nil
}

// own copies v into a new slice that is never nil, so that an empty object
// is distinguishable from a missing one.
func own(v []byte) []byte {
	out := make([]byte, len(v))
	copy(out, v)
	return out
}

// Get returns the object stored under h, or an error wrapping
// backend.ErrNotFound. The returned slice is a copy that the caller owns and
// may keep or modify. Errors meaning on-disk corruption wrap
// backend.ErrCorrupt.
func (s *Store) Get(ctx context.Context, h backend.Hash) (_ []byte, err error) {
	op := "get object " + h.String()
	if err := s.acquire(ctx, op); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	defer s.recover(op, &err)
	v, closer, err := s.db.Get(objKey(h))
	if err != nil {
		if errors.Is(err, pdb.ErrNotFound) {
			return nil, s.errorf(op, backend.ErrNotFound)
		}
		return nil, s.fail(op, err)
	}
	out := own(v)
	if err := closer.Close(); err != nil {
		return nil, s.fail(op, err)
	}
	return out, nil
}

// Put stores every object in one atomic batch and fsyncs it before
// returning: when Put returns nil, all the objects are durable; when it
// returns an error, none or all of them may be stored, never a part of one.
// Objects already present are simply written again. Put copies the data
// and keeps no reference to the callers' slices. On a read-only store it
// returns an error wrapping ErrReadOnly.
func (s *Store) Put(ctx context.Context, objs []backend.Object) (err error) {
	const op = "put objects"
	if err := s.acquireWrite(ctx, op); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	defer s.recover(op, &err)
	if len(objs) == 0 {
		return nil
	}
	s.fences.LockWrite()
	defer s.fences.UnlockWrite()
	s.fences.Stored(objs)
	b := s.db.NewBatch()
	defer b.Close()
	for _, o := range objs {
		if err := b.Set(objKey(o.Hash), o.Data, nil); err != nil {
			return s.fail(op, err)
		}
	}
	if err := b.Commit(pdb.Sync); err != nil {
		return s.fail(op, err)
	}
	return nil
}

// Has reports, for each hash, whether it is stored; the result has len(hs)
// entries in the same order. All hashes are looked up in one consistent
// view of the database.
func (s *Store) Has(ctx context.Context, hs []backend.Hash) ([]bool, error) {
	out := make([]bool, len(hs))
	err := s.lookup(ctx, "has objects", hs, func(i int, _ []byte) error {
		out[i] = true
		return nil
	}, out)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetMany returns the objects stored under hs, in order, read from one
// consistent view of the database; a missing object is a nil entry (an
// empty object is a non-nil empty slice). The caller owns the returned
// slices.
func (s *Store) GetMany(ctx context.Context, hs []backend.Hash) ([][]byte, error) {
	out := make([][]byte, len(hs))
	err := s.lookup(ctx, "get objects", hs, func(i int, v []byte) error {
		out[i] = own(v)
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lookup seeks one iterator to each hash and calls found for those present,
// with a value valid only during the call. For Has, present is its result,
// which found fills: the objects found are remembered by the open fences
// (backend.ObjectFencer), since a writer may rely on them, and a fenced
// delete comes wholly before or after the lookup and its record.
func (s *Store) lookup(ctx context.Context, op string, hs []backend.Hash, found func(i int, v []byte) error, present []bool) (err error) {
	if err := s.acquire(ctx, op); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	defer s.recover(op, &err)
	if len(hs) == 0 {
		return nil
	}
	if present != nil {
		s.fences.LockWrite()
		defer s.fences.UnlockWrite()
		defer func() {
			if err == nil {
				s.fences.Present(hs, present)
			}
		}()
	}
	it, err := s.db.NewIter(&pdb.IterOptions{
		LowerBound: []byte{objTag},
		UpperBound: []byte{objTag + 1},
	})
	if err != nil {
		return s.fail(op, err)
	}
	defer func() {
		if cerr := it.Close(); cerr != nil && err == nil {
			err = s.fail(op, cerr)
		}
	}()
	for i, h := range hs {
		k := objKey(h)
		if !it.SeekGE(k) || !bytes.Equal(it.Key(), k) {
			if err := it.Error(); err != nil {
				return s.fail(op, err)
			}
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return s.fail(op+": object "+h.String(), err)
		}
		if err := found(i, v); err != nil {
			return err
		}
	}
	return nil
}

// ListObjects calls fn with the hash of every stored object whose first
// bytes equal prefix (every object for an empty prefix; none for a prefix
// longer than a hash), in ascending hash order. It stops and returns fn's
// error unchanged if fn returns one. fn runs with no lock held and may call
// any method of s; objects put or deleted meanwhile may or may not be seen.
func (s *Store) ListObjects(ctx context.Context, prefix []byte, fn func(backend.Hash) error) error {
	const op = "list objects"
	lower := append([]byte{objTag}, prefix...)
	upper := upperBound(lower)
	for {
		if err := s.acquire(ctx, op); err != nil {
			return err
		}
		if len(prefix) > backend.HashSize {
			s.mu.RUnlock()
			return nil
		}
		hs, err := s.listChunk(op, lower, upper)
		s.mu.RUnlock()
		if err != nil {
			return err
		}
		for _, h := range hs {
			if err := fn(h); err != nil {
				return err
			}
		}
		if len(hs) < listChunk {
			return nil
		}
		lower = append(objKey(hs[len(hs)-1]), 0)
	}
}

// ScanObjects calls fn with the hash and bytes of every stored object
// (backend.ObjectScanner), each once, in no particular order: the hash
// space is split into up to four ranges (GOMAXPROCS), each read by its
// own goroutine with one forward pass of an iterator (sequential reads
// of the sstables), in chunks of up to listChunk objects or
// scanChunkBytes bytes; fn runs on the calling goroutine, one call at a
// time, with no lock held, and may call any method of s. data is valid
// only until fn returns: the buffers are reused, so a scan of a large
// store makes little garbage. Objects put or deleted meanwhile may or
// may not be seen. It stops and returns fn's error unchanged if fn
// returns one.
func (s *Store) ScanObjects(ctx context.Context, fn func(backend.Hash, []byte) error) error {
	p := min(runtime.GOMAXPROCS(0), 4)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan *scanned, p)
	errs := make([]error, p)
	var wg sync.WaitGroup
	for j := range p {
		lower := []byte{objTag, byte(j * 256 / p)}
		upper := []byte{objTag + 1}
		if j < p-1 {
			upper = []byte{objTag, byte((j + 1) * 256 / p)}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[j] = s.scanRange(ctx, lower, upper, func(c *scanned) error {
				select {
				case chunks <- c:
					return nil
				case <-ctx.Done():
					c.release()
					return ctx.Err()
				}
			})
		}()
	}
	go func() {
		wg.Wait()
		close(chunks)
	}()
	var fnErr error
	for c := range chunks {
		for _, o := range c.objs {
			if fnErr != nil {
				break // drain, so the readers finish
			}
			if fnErr = fn(o.Hash, o.Data); fnErr != nil {
				cancel()
			}
		}
		c.release()
	}
	if fnErr != nil {
		return fnErr
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// scanRange reads the objects of [lower, upper) in chunks and hands
// each chunk to send, with no lock held; send releases it.
func (s *Store) scanRange(ctx context.Context, lower, upper []byte, send func(*scanned) error) error {
	const op = "scan objects"
	for {
		if err := s.acquire(ctx, op); err != nil {
			return err
		}
		c, err := s.scanChunk(op, lower, upper)
		s.mu.RUnlock()
		if err != nil {
			return err
		}
		if len(c.objs) == 0 {
			c.release()
			return nil
		}
		more, last := c.more, c.objs[len(c.objs)-1].Hash
		if err := send(c); err != nil {
			return err
		}
		if !more {
			return nil
		}
		lower = append(objKey(last), 0)
	}
}

// scanChunkBytes bounds the bytes of one chunk of ScanObjects, copied
// into buffers of scanBufBytes taken from scanBufs.
const (
	scanChunkBytes = 4 << 20
	scanBufBytes   = 512 << 10
)

var scanBufs = sync.Pool{New: func() any { b := make([]byte, 0, scanBufBytes); return &b }}

// scanned is one chunk of ScanObjects: objects whose Data alias bufs.
type scanned struct {
	objs []backend.Object
	bufs []*[]byte // from scanBufs, or larger than scanBufBytes (not pooled)
	more bool      // the range may hold more after the last object
}

// release gives the chunk's buffers back; its objects' Data are invalid
// afterwards.
func (c *scanned) release() {
	for _, b := range c.bufs {
		if cap(*b) == scanBufBytes {
			*b = (*b)[:0]
			scanBufs.Put(b)
		}
	}
	c.bufs, c.objs = nil, nil
}

// scanChunk returns the objects of the first chunk of [lower, upper),
// and whether it was cut short. s.mu must be read-locked.
func (s *Store) scanChunk(op string, lower, upper []byte) (_ *scanned, err error) {
	c := &scanned{}
	defer func() {
		if err != nil {
			c.release()
		}
	}()
	defer s.recover(op, &err)
	it, err := s.db.NewIter(&pdb.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, s.fail(op, err)
	}
	defer func() {
		if cerr := it.Close(); cerr != nil && err == nil {
			err = s.fail(op, cerr)
		}
	}()
	var buf *[]byte
	size := 0
	for ok := it.First(); ok; ok = it.Next() {
		if len(c.objs) == listChunk || size >= scanChunkBytes {
			c.more = true
			break
		}
		h, herr := backend.HashFromBytes(it.Key()[1:])
		if herr != nil {
			return nil, s.errorf(op, fmt.Errorf("%w: object key %x: %v", backend.ErrCorrupt, it.Key(), herr))
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, s.fail(op+": object "+h.String(), err)
		}
		if buf == nil || len(v) > cap(*buf)-len(*buf) {
			if len(v) > scanBufBytes {
				b := make([]byte, 0, len(v))
				buf = &b
			} else {
				buf = scanBufs.Get().(*[]byte)
			}
			c.bufs = append(c.bufs, buf)
		}
		start := len(*buf)
		*buf = append(*buf, v...)
		c.objs = append(c.objs, backend.Object{Hash: h, Data: (*buf)[start:len(*buf):len(*buf)]})
		size += len(v)
	}
	if err := it.Error(); err != nil {
		return nil, s.fail(op, err)
	}
	return c, nil
}

// listChunk returns up to listChunk hashes of objects in [lower, upper).
// s.mu must be read-locked.
func (s *Store) listChunk(op string, lower, upper []byte) (hs []backend.Hash, err error) {
	defer s.recover(op, &err)
	it, err := s.db.NewIter(&pdb.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, s.fail(op, err)
	}
	defer func() {
		if cerr := it.Close(); cerr != nil && err == nil {
			err = s.fail(op, cerr)
		}
	}()
	for ok := it.First(); ok && len(hs) < listChunk; ok = it.Next() {
		h, herr := backend.HashFromBytes(it.Key()[1:])
		if herr != nil {
			return nil, s.errorf(op, fmt.Errorf("%w: object key %x: %v", backend.ErrCorrupt, it.Key(), herr))
		}
		hs = append(hs, h)
	}
	if err := it.Error(); err != nil {
		return nil, s.fail(op, err)
	}
	return hs, nil
}

// DeleteObjects removes the objects stored under hs in one batch, fsynced
// before it returns. Deleting an absent object succeeds. On a read-only
// store it returns an error wrapping ErrReadOnly.
func (s *Store) DeleteObjects(ctx context.Context, hs []backend.Hash) (err error) {
	const op = "delete objects"
	if err := s.acquireWrite(ctx, op); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	defer s.recover(op, &err)
	if len(hs) == 0 {
		return nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	for _, h := range hs {
		if err := b.Delete(objKey(h), nil); err != nil {
			return s.fail(op, err)
		}
	}
	if err := b.Commit(pdb.Sync); err != nil {
		return s.fail(op, err)
	}
	return nil
}

// FenceObjects implements backend.ObjectFencer.
func (s *Store) FenceObjects(ctx context.Context) (f backend.Fence, err error) {
	const op = "fence objects"
	if err := s.acquireWrite(ctx, op); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	return s.fences.Begin(), nil
}

// DeleteObjectsFenced implements backend.ObjectFencer: it deletes, in one
// synced batch, the objects of hs that f has not remembered, while no
// write of objects (nor Has) runs, and returns the others. The writes
// wait only for the batch to be applied, not for its sync: those made
// meanwhile come after the delete in the log, and share its sync or the
// next one.
func (s *Store) DeleteObjectsFenced(ctx context.Context, f backend.Fence, hs []backend.Hash) (kept []backend.Hash, err error) {
	const op = "delete objects"
	if err := s.acquireWrite(ctx, op); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	defer s.recover(op, &err)
	b, kept, err := s.applyFencedDelete(op, f, hs)
	if err != nil || b == nil {
		return kept, err
	}
	if err := s.waitSync(op, b); err != nil {
		return nil, err
	}
	return kept, nil
}

// applyFencedDelete is the part of DeleteObjectsFenced that holds the
// fences' delete lock: it splits hs by f and applies (without waiting for
// its sync) the batch that deletes those f has not remembered, which it
// returns with the others (a nil batch if there is nothing to delete).
func (s *Store) applyFencedDelete(op string, f backend.Fence, hs []backend.Hash) (_ *pdb.Batch, kept []backend.Hash, err error) {
	s.fences.LockDelete()
	defer s.fences.UnlockDelete()
	del, kept, ok := s.fences.Split(f, hs)
	if !ok {
		return nil, nil, s.errorf(op, backend.ErrBadFence)
	}
	if len(del) == 0 {
		return nil, kept, nil
	}
	b := s.db.NewBatch()
	for _, h := range del {
		if err := b.Delete(objKey(h), nil); err != nil {
			_ = b.Close()
			return nil, nil, s.fail(op, err)
		}
	}
	if err := s.db.ApplyNoSyncWait(b, pdb.Sync); err != nil {
		_ = b.Close()
		return nil, nil, s.fail(op, err)
	}
	return b, kept, nil
}

// Compact compacts the object key range (backend.Compacter), so that the
// disk space of deleted objects is returned: their tombstones and the
// values they cover are dropped from the sstables. It waits for the
// compaction to finish; Pebble removes the replaced table files in the
// background moments later. A read-only store returns ErrReadOnly.
func (s *Store) Compact(ctx context.Context) (err error) {
	const op = "compact objects"
	if err := s.acquireWrite(ctx, op); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	defer s.recover(op, &err)
	if err := s.db.Compact(ctx, []byte{objTag}, []byte{objTag + 1}, true); err != nil {
		return s.fail(op, err)
	}
	return nil
}

// GetRef returns the hash that ref name points at, or an error wrapping
// backend.ErrNotFound if it is absent. A stored value that is not a hash is
// reported as backend.ErrCorrupt.
func (s *Store) GetRef(ctx context.Context, name string) (_ backend.Hash, err error) {
	op := fmt.Sprintf("get ref %q", name)
	if err := s.acquire(ctx, op); err != nil {
		return backend.ZeroHash, err
	}
	defer s.mu.RUnlock()
	defer s.recover(op, &err)
	h, found, err := s.readRef(op, name)
	if err != nil {
		return backend.ZeroHash, err
	}
	if !found {
		return backend.ZeroHash, s.errorf(op, backend.ErrNotFound)
	}
	return h, nil
}

// readRef reads one ref; s.mu must be read-locked.
func (s *Store) readRef(op, name string) (h backend.Hash, found bool, err error) {
	v, closer, err := s.db.Get(refKey(name))
	if err != nil {
		if errors.Is(err, pdb.ErrNotFound) {
			return backend.ZeroHash, false, nil
		}
		return backend.ZeroHash, false, s.fail(op, err)
	}
	h, herr := backend.HashFromBytes(v)
	_ = closer.Close()
	if herr != nil {
		return backend.ZeroHash, false, s.errorf(op, fmt.Errorf("%w: ref value: %v", backend.ErrCorrupt, herr))
	}
	return h, true, nil
}

// ListRefs returns every ref whose name starts with prefix (all refs for an
// empty prefix), sorted by name, read from one consistent view.
func (s *Store) ListRefs(ctx context.Context, prefix string) (refs []backend.Ref, err error) {
	op := fmt.Sprintf("list refs %q", prefix)
	err = s.scanRefs(ctx, op, prefix, func(name string, it *pdb.Iterator) error {
		v, err := it.ValueAndErr()
		if err != nil {
			return s.fail(op, err)
		}
		h, err := backend.HashFromBytes(v)
		if err != nil {
			return s.errorf(op, fmt.Errorf("%w: ref %q: %v", backend.ErrCorrupt, name, err))
		}
		refs = append(refs, backend.Ref{Name: name, Hash: h})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return refs, nil
}

// scanRefs calls fn, in name order, for every ref whose name starts with
// prefix, with the iterator positioned on it, from one consistent view. It
// stops at and returns fn's first error.
func (s *Store) scanRefs(ctx context.Context, op, prefix string, fn func(name string, it *pdb.Iterator) error) (err error) {
	if err := s.acquire(ctx, op); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	defer s.recover(op, &err)
	lower := refKey(prefix)
	it, err := s.db.NewIter(&pdb.IterOptions{LowerBound: lower, UpperBound: upperBound(lower)})
	if err != nil {
		return s.fail(op, err)
	}
	defer func() {
		if cerr := it.Close(); cerr != nil && err == nil {
			err = s.fail(op, cerr)
		}
	}()
	for ok := it.First(); ok; ok = it.Next() {
		if err := fn(string(it.Key()[1:]), it); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return s.fail(op, err)
	}
	return nil
}

// CompareAndSwapRef sets ref name to new if it currently points at old. An
// old of backend.ZeroHash means "name must be absent"; a new of
// backend.ZeroHash deletes name; a missing name never matches a non-zero
// old. On a mismatch it changes nothing and returns an error wrapping
// backend.ErrConflict that names the ref and both hashes (backend.ErrExists,
// which also wraps ErrConflict, when old is zero and the ref exists).
//
// Swaps are serialised within the process up to the moment their write
// is applied, and the directory lock keeps every other process out, so
// the compare and the write are atomic. The write is fsynced before
// CompareAndSwapRef returns nil; swaps made at once share their fsyncs
// (see swap). A successful swap notifies the watchers of WatchRefs once
// its write is durable, unless the ref was absent and stays absent. On a
// read-only store it returns an error wrapping ErrReadOnly.
func (s *Store) CompareAndSwapRef(ctx context.Context, name string, old, new backend.Hash) error {
	return s.swap(ctx, fmt.Sprintf("compare-and-swap ref %q", name), nil, name, old, new)
}

// PutAndSwapRef implements backend.RefCommitter: it stores objs and moves
// name from old to new in ONE synced Pebble batch, so a commit costs one
// fsync (or a share of one, when others commit at once), and a crash
// leaves either all of it or none. When the ref is not at old it stores
// nothing and returns an error wrapping backend.ErrConflict.
func (s *Store) PutAndSwapRef(ctx context.Context, objs []backend.Object, name string, old, new backend.Hash) error {
	return s.swap(ctx, fmt.Sprintf("commit %d objects and ref %q", len(objs), name), objs, name, old, new)
}

// swap is the compare-and-swap of ref name, with objs written in the same
// synced batch.
//
// Swaps are serialised in the process by refMu up to the moment their
// batch is applied (visible to reads, as Pebble makes every write before
// its sync); the wait for the sync happens after refMu is released, so
// that swaps of other refs, or the next swap of the same ref, apply while
// it lasts, and Pebble syncs their batches together: swaps made at once
// share fsyncs instead of paying one each in turn. A swap returns only
// once its batch is durable; the write-ahead log is synced in order, so a
// swap that read a ref another swap had just moved, and succeeded, made
// durable that swap's write too.
func (s *Store) swap(ctx context.Context, op string, objs []backend.Object, name string, old, new backend.Hash) (err error) {
	if err := s.acquireWrite(ctx, op); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	var seq uint64
	// Deferred before recover, so that it runs after recover has set err
	// (Pebble's fatal reports panic): a swap whose sync failed is never
	// told to the watchers.
	defer func() { s.events.settle(seq, err == nil, &s.watchers) }()
	defer s.recover(op, &err)
	b, seq, wait, err := s.applySwap(op, objs, name, old, new)
	if err != nil {
		switch {
		case wait:
			// A conflict decided from a value whose sync is perhaps still
			// under way: it stands only once that value is durable.
			if err := s.syncLog(op); err != nil {
				return err
			}
		case errors.Is(err, backend.ErrConflict):
			// No sync under way: the value is durable, unless the write
			// that made it failed to sync and stopped the store.
			if serr := s.health.stopped(op); serr != nil {
				return serr
			}
		}
		return err
	}
	switch {
	case b != nil:
		// A failed sync stops the store before syncing drops, so that a
		// swap that finds the ref in place and no sync under way finds the
		// store stopped instead.
		err = s.waitSync(op, b)
		s.syncing.Add(-1)
		return err
	case wait:
		// The ref was already in place, perhaps by a swap whose sync is
		// still under way: a sync of our own covers it.
		return s.syncLog(op)
	}
	// The ref was already in place and no sync was under way: it is
	// durable, unless the swap that put it there failed to sync.
	return s.health.stopped(op)
}

// waitSync waits for the sync of batch b, applied with ApplyNoSyncWait,
// and closes b. If the log write failed, Pebble's commit pipeline cannot
// go on (a Commit that waits for its sync reports this to
// Logger.Fatalf): the store stops, as it would then, and waitSync returns
// the stopped store's error.
func (s *Store) waitSync(op string, b *pdb.Batch) error {
	err := b.SyncWait()
	_ = b.Close()
	if err != nil {
		return s.health.fatalCommit(op, err)
	}
	return nil
}

// syncLog writes an empty record to the write-ahead log and syncs it,
// which makes every write applied before it durable.
func (s *Store) syncLog(op string) error {
	if err := s.db.LogData(nil, pdb.Sync); err != nil {
		return s.fail(op, err)
	}
	return nil
}

// applySwap is the part of swap under refMu: it checks the ref, and
// applies (without waiting for its sync) the batch of objs and the ref's
// move, which it returns, or nil if there was nothing to write. wait then
// reports whether a swap's sync was under way, as it does with a conflict
// error (whose deciding value may not be durable yet); with any other
// error it is false. seq is the swap's place in the order of watchers'
// events (0: none).
func (s *Store) applySwap(op string, objs []backend.Object, name string, old, new backend.Hash) (_ *pdb.Batch, seq uint64, wait bool, err error) {
	s.refMu.Lock()
	defer s.refMu.Unlock()

	cur, found, err := s.readRef(op, name)
	if err != nil {
		return nil, 0, false, err
	}
	// Other swaps' syncs may end meanwhile, but none can start: a busy
	// read now is at worst one sync too many.
	busy := s.syncing.Load() > 0
	switch {
	case old.IsZero() && found:
		return nil, 0, busy, s.errorf(op, fmt.Errorf("is %s, want absent: %w", cur, backend.ErrExists))
	case !old.IsZero() && !found:
		return nil, 0, busy, s.errorf(op, fmt.Errorf("is absent, want %s: %w", old, backend.ErrConflict))
	case !old.IsZero() && cur != old:
		return nil, 0, busy, s.errorf(op, fmt.Errorf("is %s, want %s: %w", cur, old, backend.ErrConflict))
	}

	if len(objs) > 0 { // a ref alone need not wait for a fenced delete
		s.fences.LockWrite()
		defer s.fences.UnlockWrite()
		s.fences.Stored(objs)
	}
	b := s.db.NewBatch()
	for _, o := range objs {
		if err := b.Set(objKey(o.Hash), o.Data, nil); err != nil {
			_ = b.Close()
			return nil, 0, false, s.fail(op, err)
		}
	}
	switch {
	case cur == new:
		// Already in place.
	case new.IsZero():
		err = b.Delete(refKey(name), nil)
	default:
		err = b.Set(refKey(name), new[:], nil)
	}
	if err != nil {
		_ = b.Close()
		return nil, 0, false, s.fail(op, err)
	}
	if b.Empty() {
		_ = b.Close()
		b, wait = nil, busy
	} else {
		s.syncing.Add(1)
		applied := false
		defer func() {
			if !applied { // an error, or a panic (a fatal report): the store stops
				s.syncing.Add(-1)
			}
		}()
		if err := s.db.ApplyNoSyncWait(b, pdb.Sync); err != nil {
			_ = b.Close()
			return nil, 0, false, s.fail(op, err)
		}
		applied = true
	}
	// Last, so that nothing can fail between queuing the event and swap's
	// settling it.
	if !old.IsZero() || !new.IsZero() {
		seq = s.events.add(backend.RefEvent{Name: name, Old: old, New: new}) // refMu orders the events
	}
	return b, seq, wait, nil
}

// Close closes the store, its watchers' channels and the database, and
// releases the directory lock. It waits for operations in progress to
// finish. After Close every method returns an error wrapping
// backend.ErrClosed; Close itself is idempotent and returns nil when called
// again.
//
// On a Store that stopped after a fatal error (ErrStopped) Close does not
// wait for Pebble, which may never finish: it releases what it can and
// returns nil; the process keeps the directory lock until it exits, and
// every write that returned nil is found by the next Open.
func (s *Store) Close() (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.watchers.Close()
	db, lock := s.db, s.lock
	s.db, s.lock = nil, nil
	if s.health.fatal.Load() != nil {
		s.gate.halt()
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			s.health.stop("close", r)
			s.gate.halt()
			err = nil
		}
	}()
	err = db.Close()
	if lerr := lock.Close(); err == nil {
		err = lerr
	}
	if err != nil {
		return s.fail("close", err)
	}
	return nil
}

// RefNames implements backend.RefRepairer: the names of every ref that
// starts with prefix, sorted, whatever their values, read from one
// consistent view.
func (s *Store) RefNames(ctx context.Context, prefix string) (names []string, err error) {
	op := fmt.Sprintf("list ref names %q", prefix)
	err = s.scanRefs(ctx, op, prefix, func(name string, _ *pdb.Iterator) error {
		names = append(names, name)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return names, nil
}

// DeleteRef implements backend.RefRepairer: it removes ref name, whatever
// it holds, in a synced write, serialised with compare-and-swaps; watchers
// are not told (the event of a swap applied before it may still reach
// them after it returns, once that swap's sync ends). On a read-only
// store it returns an error wrapping ErrReadOnly.
func (s *Store) DeleteRef(ctx context.Context, name string) (err error) {
	op := fmt.Sprintf("delete ref %q", name)
	if err := s.acquireWrite(ctx, op); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	// The delete is visible before its sync ends, and swaps may read it
	// once refMu is released: it counts as a sync under way (see swap)
	// until a failed sync has stopped the store (recover, deferred after,
	// runs before).
	defer s.syncing.Add(-1)
	defer s.recover(op, &err)
	s.refMu.Lock()
	defer s.refMu.Unlock()
	s.syncing.Add(1)
	if err := s.db.Delete(refKey(name), pdb.Sync); err != nil {
		return s.fail(op, err)
	}
	return nil
}

var _ backend.RefRepairer = (*Store)(nil)
var _ backend.Compacter = (*Store)(nil)
