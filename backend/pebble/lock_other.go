//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris || windows)

package pebble

import (
	"fmt"
	"os"
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
