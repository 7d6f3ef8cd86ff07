// Package watchhub is the one watch fan-out that every backend reuses to
// implement backend.RefWatcher: subscriptions by ref-name prefix, a
// bounded buffer per subscription, delivery that never blocks the writer,
// and unsubscription when the subscriber's context is done, the backend
// closes, or the subscriber fell so far behind that an event had to be
// dropped. A backend only says where events come from (its own swaps, or
// a pub/sub channel) by calling Hub.Notify.
package watchhub

import (
	"context"
	"strings"
	"sync"

	"github.com/stratakv/strata/backend"
)

// Buffer is the number of events each subscription's channel buffers.
// An event that finds it full is dropped and ends the subscription: its
// channel is closed after the events already buffered (see
// backend.RefWatcher), so the subscriber learns of the loss. Writers
// never wait for watchers.
const Buffer = 1024

// Hub fans ref events out to subscriptions. Its zero value is ready to
// use. It is safe for concurrent use; events reach each channel in the
// order of the Notify calls, so a backend that calls Notify in the order
// its swaps took effect (holding the lock that orders them, or from one
// goroutine) delivers them in that order.
type Hub struct {
	mu       sync.Mutex
	closed   bool
	watchers map[*watcher]struct{}
}

// watcher is one subscription.
type watcher struct {
	prefix string
	ch     chan backend.RefEvent
	stop   func() bool // unregisters the context.AfterFunc that removes it
}

// Watch returns a channel that receives every event passed to Notify
// after Watch returns whose ref name starts with prefix (every name for an
// empty prefix). The channel buffers Buffer events and is closed when ctx
// is done, when the hub is closed, or when an event finds the buffer full
// (the overflow: that event and every later one are not delivered);
// events already buffered can still be received. A subscriber that sees
// the channel closed while its ctx is not done must re-read the refs it
// follows (and Watch again to go on). After Close it returns an error
// wrapping backend.ErrClosed.
func (h *Hub) Watch(ctx context.Context, prefix string) (<-chan backend.RefEvent, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, backend.ErrClosed
	}
	if h.watchers == nil {
		h.watchers = make(map[*watcher]struct{})
	}
	w := &watcher{prefix: prefix, ch: make(chan backend.RefEvent, Buffer)}
	h.watchers[w] = struct{}{}
	// If ctx is already done, the function runs at once in its own
	// goroutine and waits for the lock held here.
	w.stop = context.AfterFunc(ctx, func() { h.unwatch(w) })
	return w.ch, nil
}

// unwatch removes w and closes its channel, unless Close already did.
func (h *Hub) unwatch(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.watchers[w]; ok {
		delete(h.watchers, w)
		close(w.ch)
	}
}

// Notify sends ev to every subscription whose prefix ev.Name starts with,
// without blocking: a subscription whose buffer is full misses it and is
// ended, its channel closed after what it buffered, so that its
// subscriber learns that it missed events.
func (h *Hub) Notify(ev backend.RefEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.watchers {
		if !strings.HasPrefix(ev.Name, w.prefix) {
			continue
		}
		select {
		case w.ch <- ev:
		default: // the subscriber fell behind by Buffer events
			w.stop()
			delete(h.watchers, w)
			close(w.ch)
		}
	}
}

// Close closes every subscription's channel; later calls of Watch fail
// with backend.ErrClosed and Notify does nothing. Close is idempotent.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for w := range h.watchers {
		w.stop()
		delete(h.watchers, w)
		close(w.ch)
	}
}
