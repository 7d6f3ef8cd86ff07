package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/stratakv/strata/backend"
)

// eventVersion is the first byte of every event payload.
const eventVersion = 1

// eventHeader is the size of an event payload before the ref name.
const eventHeader = 1 + 2*backend.HashSize

// decodeEvent parses an event payload: the version byte 0x01, the old and
// new hashes (32 raw bytes each, zero for absent) and the ref name (the
// rest). It reports false for anything else.
func decodeEvent(p string) (backend.RefEvent, bool) {
	if len(p) <= eventHeader || p[0] != eventVersion {
		return backend.RefEvent{}, false
	}
	var ev backend.RefEvent
	copy(ev.Old[:], p[1:])
	copy(ev.New[:], p[1+backend.HashSize:])
	ev.Name = p[eventHeader:]
	return ev, true
}

// WatchRefs returns a channel that receives an event for every successful
// CompareAndSwapRef on a name starting with prefix (every name for an empty
// prefix), made by any Store of any process on the same prefix, after
// WatchRefs returns, in the order they took effect. The channel is closed
// when ctx is done or the Store is closed.
//
// Events travel by Redis pub/sub on the channel PREFIX:refs:events. The
// first WatchRefs of a Store subscribes (one connection, which all its
// watchers share) and returns once the server confirmed the subscription.
// Each channel buffers WatchBuffer events; an event that finds it full is
// dropped and the channel closed after the buffered events (see
// backend.RefWatcher). Redis pub/sub delivers at most once: events
// published while the subscription's connection is down (go-redis
// reconnects and resubscribes by itself) are lost without a close. A
// consumer that must not miss a change re-reads the refs after a gap (an
// event whose Old is not the last New it saw for that ref) or a close.
func (s *Store) WatchRefs(ctx context.Context, prefix string) (<-chan backend.RefEvent, error) {
	op := fmt.Sprintf("watch refs %q", prefix)
	if err := s.begin(ctx, op); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return nil, fmt.Errorf("redis %s: %s: %w", s.addr, op, backend.ErrClosed)
	}
	if s.pubsub == nil {
		// The subscription outlives this ctx: it serves later watchers.
		ps := s.client.Subscribe(context.WithoutCancel(ctx), s.channel)
		if _, err := ps.Receive(ctx); err != nil { // the confirmation
			_ = ps.Close()
			return nil, s.fail(ctx, op, err)
		}
		s.pubsub = ps
		go s.dispatch(ps.Channel(goredis.WithChannelSize(WatchBuffer)))
	}
	if err := s.barrier(ctx); err != nil {
		return nil, s.fail(ctx, op, err)
	}
	ch, err := s.watchers.Watch(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("redis %s: %s: %w", s.addr, op, err)
	}
	return ch, nil
}

// barrierScript publishes ARGV[2] on channel ARGV[1] from the master of
// KEYS[1], the refs key, which is where every event is published.
var barrierScript = goredis.NewScript(`redis.call('PUBLISH', ARGV[1], ARGV[2]) return 1`)

// barrier returns once dispatch has handed on every event published
// before it was called. On a Cluster, an event reaches a subscriber on
// another node through the cluster bus, later than the compare-and-swap
// that published it returned: without the barrier, an event from before
// WatchRefs could still be in flight and reach the new watcher. The
// barrier is published from the same master as the events, so it arrives
// after every event published before it.
func (s *Store) barrier(ctx context.Context) error {
	token := fmt.Sprintf("\x00barrier %p %d", s, s.nextBarrier.Add(1))
	passed := make(chan struct{})
	s.barriers.Store(token, passed)
	defer s.barriers.Delete(token)
	if err := barrierScript.Run(ctx, s.client, []string{s.refsKey}, s.channel, token).Err(); err != nil {
		return err
	}
	select {
	case <-passed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// dispatch hands every event received on msgs to the matching watchers,
// without blocking, until the subscription is closed.
func (s *Store) dispatch(msgs <-chan *goredis.Message) {
	for msg := range msgs {
		ev, ok := decodeEvent(msg.Payload)
		if !ok {
			if passed, ok := s.barriers.LoadAndDelete(msg.Payload); ok {
				close(passed.(chan struct{}))
			}
			continue // a barrier, or not an event of this format
		}
		s.watchers.Notify(ev) // one goroutine: events stay in order
	}
}
