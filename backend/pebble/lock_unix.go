//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris

package pebble

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// lockBusy reports whether err, returned by pdb.LockDirectory, means that
// another holder has the lock, and describes the holder.
//
// On Unix, Pebble locks dir/LOCK with fcntl(F_SETLK, F_WRLCK). When another
// process holds it, fcntl fails with EAGAIN or EACCES (POSIX allows either)
// and Pebble returns that bare syscall.Errno. A failure to create the LOCK
// file comes back as an *fs.PathError instead, so it is not mistaken for
// contention even when it is EACCES.
func lockBusy(dir string, err error) (holder string, busy bool) {
	if heldInProcess(err) {
		return fmt.Sprintf("another Store in this process (pid %d)", os.Getpid()), true
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) || (errno != syscall.EAGAIN && errno != syscall.EACCES) {
		return "", false
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return "", false
	}
	if pid := lockHolderPID(filepath.Join(dir, "LOCK")); pid > 0 {
		return fmt.Sprintf("another strata process (pid %d)", pid), true
	}
	return "another strata process", true
}

// lockHolderPID asks the kernel which process holds the write lock on name
// (fcntl F_GETLK), or returns 0 if it cannot tell. It is only called when
// this process does not hold the lock: closing the descriptor would
// otherwise drop this process's own POSIX locks on the file.
func lockHolderPID(name string) int {
	f, err := os.Open(name)
	if err != nil {
		return 0
	}
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err != nil || lk.Type == syscall.F_UNLCK {
		return 0
	}
	return int(lk.Pid)
}

// sharedLock takes a shared (read) lock on the LOCK file name, opened
// read-only, so that it needs no write access to the directory. If the
// file does not exist on the OS's file system there is nothing to lock;
// a conflicting writer's lock is reported as the bare errno, like Pebble's
// own Lock, so lockBusy recognises it.
func sharedLock(_ vfs.FS, name string) (io.Closer, error) {
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return noLock{}, nil
	}
	if err != nil {
		return nil, err
	}
	lk := syscall.Flock_t{Type: syscall.F_RDLCK, Whence: io.SeekStart}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
