package pebble

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	pdb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// acquireLock takes the directory lock on path (the canonical form of dir,
// which errors name) through fs: exclusive for a writer, shared for a
// read-only Store (see lockFS). It retries with backoff while another
// holder has it, for up to timeout (no retry if negative).
//
// pdb.LockDirectory returns the lock error unwrapped, which lets us tell
// "someone else holds it" from real failures precisely: see lockBusy.
func acquireLock(ctx context.Context, dir, path string, fs vfs.FS, shared bool, timeout time.Duration) (*pdb.Lock, error) {
	deadline := time.Now().Add(timeout)
	backoff := 5 * time.Millisecond
	lfs := lockFS{FS: fs, shared: shared}
	for {
		l, err := pdb.LockDirectory(path, lfs)
		if err == nil {
			return l, nil
		}
		holder, busy := lockBusy(path, err)
		if !busy {
			return nil, fmt.Errorf("pebble: open %s: lock directory: %w", dir, err)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("pebble: open %s: %w by %s; gave up after %v", dir, ErrLocked, holder, max(timeout, 0))
		}
		t := time.NewTimer(min(backoff, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("pebble: open %s: waiting for the lock held by %s: %w", dir, holder, ctx.Err())
		case <-t.C:
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

// errHeldInProcess is the error of a lock that another Store of this
// process holds in a conflicting mode; its text is the one Pebble's vfs
// uses for the same case.
var errHeldInProcess = errors.New("lock held by current process")

// heldInProcess recognises the error Pebble's vfs (or lockFS) returns,
// before trying the OS lock, when this process already holds the lock
// (POSIX record locks cannot detect that themselves). Pebble's is a plain
// string error, so it can only be matched by text; TestSameProcess pins it.
func heldInProcess(err error) bool {
	return strings.Contains(err.Error(), errHeldInProcess.Error())
}

// lockFS is fs with its Lock replaced: the lock is exclusive (fs's own
// Lock, which creates the LOCK file) for a writer, and shared for a
// read-only Store (sharedLock: a read lock on an existing LOCK file, which
// needs no write access and creates nothing). Readers share the lock with
// each other and exclude writers; a writer excludes everyone.
//
// POSIX record locks belong to a process, not to a file descriptor, so
// within one process the locks are kept in procLocks: the readers of one
// directory share one OS lock, and a reader and a writer of the same
// directory exclude each other as two processes would.
type lockFS struct {
	vfs.FS
	shared bool
}

type procLock struct {
	shared bool
	refs   int
	c      io.Closer
}

var procLocks = struct {
	sync.Mutex
	m map[string]*procLock
}{m: make(map[string]*procLock)}

func (fs lockFS) Lock(name string) (io.Closer, error) {
	procLocks.Lock()
	defer procLocks.Unlock()
	if pl := procLocks.m[name]; pl != nil {
		if !fs.shared || !pl.shared {
			return nil, errHeldInProcess
		}
		pl.refs++
		return &procLockRef{name: name, pl: pl}, nil
	}
	var c io.Closer
	var err error
	if fs.shared {
		c, err = sharedLock(fs.FS, name)
	} else {
		c, err = fs.FS.Lock(name)
	}
	if err != nil {
		return nil, err
	}
	pl := &procLock{shared: fs.shared, refs: 1, c: c}
	procLocks.m[name] = pl
	return &procLockRef{name: name, pl: pl}, nil
}

// procLockRef is one holder's reference to a procLock.
type procLockRef struct {
	name string
	pl   *procLock
	once sync.Once
}

func (r *procLockRef) Close() (err error) {
	r.once.Do(func() {
		procLocks.Lock()
		defer procLocks.Unlock()
		r.pl.refs--
		if r.pl.refs == 0 {
			delete(procLocks.m, r.name)
			err = r.pl.c.Close()
		}
	})
	return err
}

// noLock is the lock of a read-only Store whose directory has no LOCK file
// (or is not on the OS's file system): there is nothing to lock, and a
// read-only Store creates nothing.
type noLock struct{}

func (noLock) Close() error { return nil }
