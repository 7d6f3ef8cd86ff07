//go:build windows

package pebble

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// lockBusy reports whether err, returned by pdb.LockDirectory, means that
// another holder has the lock. On Windows Pebble opens dir/LOCK with no
// sharing, so any other open handle, in this process or another, makes
// CreateFile fail with a sharing or lock violation.
func lockBusy(dir string, err error) (holder string, busy bool) {
	if heldInProcess(err) {
		return fmt.Sprintf("another Store in this process (pid %d)", os.Getpid()), true
	}
	const (
		errorSharingViolation syscall.Errno = 32
		errorLockViolation    syscall.Errno = 33
	)
	var errno syscall.Errno
	if errors.As(err, &errno) && (errno == errorSharingViolation || errno == errorLockViolation) {
		return "another strata process", true
	}
	return "", false
}

// sharedLock is fs's own (exclusive) lock: this platform has no shared
// lock that Pebble's LOCK file would honour, so a read-only Store excludes
// writers and other readers alike.
func sharedLock(fs vfs.FS, name string) (io.Closer, error) { return fs.Lock(name) }
