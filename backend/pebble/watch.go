package pebble

import (
	"context"

	"github.com/stratakv/strata/backend"
)

// WatchRefs implements backend.RefWatcher for this process: it delivers an
// event for every successful CompareAndSwapRef made through s on a name
// starting with prefix, in the order the swaps took effect, until ctx is
// done or s is closed; then it closes the channel (events already buffered
// can still be received). Each subscription buffers WatchBuffer events; when
// a consumer falls further behind, later events are dropped (the writer
// never blocks) and the consumer must re-read the refs. Swaps made by other processes are not seen: while s is open, the
// directory lock keeps them out.
func (s *Store) WatchRefs(ctx context.Context, prefix string) (<-chan backend.RefEvent, error) {
	if err := s.acquire(ctx, "watch refs"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	ch, err := s.watchers.Watch(ctx, prefix)
	if err != nil {
		return nil, s.errorf("watch refs", err)
	}
	return ch, nil
}
