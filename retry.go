package strata

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// errLostRace wraps the conflict of a compare-and-swap that another writer
// won; retry runs the attempt again.
var errLostRace = errors.New("lost the race for the branch head")

// errCommitFailed wraps an error from storing a commit and moving the head
// other than a lost race: the outcome is unknown, so no writer retries it.
var errCommitFailed = errors.New("commit failed")

// retry runs try until it does not lose a race for a branch head: at most
// MaxRetries times, with a jittered, growing backoff before every attempt
// but the first. An error wrapping errLostRace runs try again; any other
// result is returned as it is. When every attempt lost, the error says
// "OP: gave up after N attempts" and wraps the last lost race (and so
// ErrConflict). This is the one retry loop of every writer.
func (kv *KV) retry(ctx context.Context, op string, try func() (Hash, error)) (Hash, error) {
	var lastErr error
	for attempt := 0; attempt < kv.opts.maxRetries; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return Hash{}, err
			}
		}
		h, err := try()
		if !errors.Is(err, errLostRace) {
			return h, err
		}
		lastErr = err
	}
	return Hash{}, fmt.Errorf("%s: gave up after %d attempts: %w", op, kv.opts.maxRetries, lastErr)
}

// backoff sleeps a jittered, growing delay before retry attempt n.
func backoff(ctx context.Context, n int) error {
	limit := time.Duration(1<<min(n, 10)) * 20 * time.Microsecond
	d := time.Duration(rand.Int64N(int64(limit)) + 1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
