package pebble

import (
	"context"
	"fmt"
	"strings"
	"time"

	pdb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// acquireLock takes Pebble's directory lock on path (the canonical form of
// dir, which errors name), retrying with backoff
// while another holder has it, for up to timeout (no retry if negative).
//
// pdb.LockDirectory returns the lock error unwrapped, which lets us tell
// "someone else holds it" from real failures precisely: see lockBusy.
func acquireLock(ctx context.Context, dir, path string, timeout time.Duration) (*pdb.Lock, error) {
	deadline := time.Now().Add(timeout)
	backoff := 5 * time.Millisecond
	for {
		l, err := pdb.LockDirectory(path, vfs.Default)
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

// heldInProcess recognises the error Pebble's vfs returns, before trying
// the OS lock, when this process already holds the lock (POSIX record
// locks cannot detect that themselves). It is a plain string error, so it
// can only be matched by text; TestSameProcess pins it.
func heldInProcess(err error) bool {
	return strings.Contains(err.Error(), "lock held by current process")
}
