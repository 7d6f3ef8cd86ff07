package pebble

import (
	"context"
	"slices"
	"sync"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/watchhub"
)

// WatchRefs implements backend.RefWatcher for this process: it delivers an
// event for every successful CompareAndSwapRef made through s on a name
// starting with prefix, in the order the swaps took effect, each once its
// write is durable (and before the swap returns), until ctx is done or s
// is closed; then it closes the channel (events already buffered can
// still be received). Each subscription buffers WatchBuffer events; when a
// consumer falls further behind, later events are dropped (the writer
// never blocks) and the channel is closed after the buffered ones: the
// consumer must re-read the refs and watch again. Swaps made by
// other processes are not seen: while s is open, the directory lock keeps
// them out.
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

// refEvents holds the events of swaps that are applied but whose syncs
// have not ended, and delivers each, in the order the swaps were applied,
// once its swap is durable: an event never tells of a write a crash could
// still undo. Since the write-ahead log is synced in order, when one
// swap's sync succeeds, every swap applied before it is durable too, and
// its event goes out then, whether or not its own wait has ended.
type refEvents struct {
	mu   sync.Mutex
	next uint64        // the seq of the last event added
	q    []queuedEvent // in seq order
}

type queuedEvent struct {
	seq uint64
	ev  backend.RefEvent
}

// add queues ev and returns its seq (never 0). The caller holds refMu, so
// seqs follow the order the swaps were applied in.
func (e *refEvents) add(ev backend.RefEvent) uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.next++
	e.q = append(e.q, queuedEvent{e.next, ev})
	return e.next
}

// settle ends the wait of the swap whose event is seq (0: no event): if it
// is durable, it delivers to hub every event queued up to seq, in order;
// if not, it drops seq's event.
func (e *refEvents) settle(seq uint64, durable bool, hub *watchhub.Hub) {
	if seq == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !durable {
		e.q = slices.DeleteFunc(e.q, func(q queuedEvent) bool { return q.seq == seq })
		return
	}
	n := 0
	for n < len(e.q) && e.q[n].seq <= seq {
		hub.Notify(e.q[n].ev) // e.mu orders the deliveries
		n++
	}
	e.q = slices.Delete(e.q, 0, n)
}
