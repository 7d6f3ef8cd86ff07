//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris || windows)

package pebble

import (
	"fmt"
	"io"
	"os"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// lockBusy reports whether err, returned by pdb.LockDirectory, means that
// another holder has the lock. Pebble has no OS file locking on this
// platform, only its in-process check.
func lockBusy(dir string, err error) (holder string, busy bool) {
	if heldInProcess(err) {
		return fmt.Sprintf("another Store in this process (pid %d)", os.Getpid()), true
	}
	return "", false
}

// sharedLock is fs's own (exclusive) lock: this platform has no shared
// lock that Pebble's LOCK file would honour, so a read-only Store excludes
// writers and other readers alike.
func sharedLock(fs vfs.FS, name string) (io.Closer, error) { return fs.Lock(name) }
