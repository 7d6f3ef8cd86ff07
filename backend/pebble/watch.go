package pebble

import (
	"context"
	"strings"

	"github.com/stratakv/strata/backend"
)

// watcher is one WatchRefs subscription.
type watcher struct {
	prefix string
	ch     chan backend.RefEvent
	stop   func() bool // unregisters the context.AfterFunc
}

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
	w := &watcher{prefix: prefix, ch: make(chan backend.RefEvent, WatchBuffer)}
	w.stop = context.AfterFunc(ctx, func() { s.removeWatcher(w) })
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if ctx.Err() != nil {
		// The AfterFunc may already have run and found nothing to remove.
		w.stop()
		close(w.ch)
		return w.ch, nil
	}
	s.watchers[w] = struct{}{}
	return w.ch, nil
}

func (s *Store) removeWatcher(w *watcher) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if _, ok := s.watchers[w]; ok {
		delete(s.watchers, w)
		close(w.ch)
	}
}

// notify sends ev to every matching watcher without blocking. The caller
// holds refMu, which orders the events.
func (s *Store) notify(ev backend.RefEvent) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	for w := range s.watchers {
		if !strings.HasPrefix(ev.Name, w.prefix) {
			continue
		}
		select {
		case w.ch <- ev:
		default: // the consumer is behind; it must re-read refs
		}
	}
}

func (s *Store) closeWatchers() {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	for w := range s.watchers {
		w.stop()
		delete(s.watchers, w)
		close(w.ch)
	}
}
