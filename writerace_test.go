package strata_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
)

// beforeSwap is a store that runs hook, once, just before the next
// compare-and-swap of a ref: another writer moving the branch there makes
// the write lose its first attempt.
type beforeSwap struct {
	backend.Store
	hook func()
}

func (s *beforeSwap) CompareAndSwapRef(ctx context.Context, name string, old, new backend.Hash) error {
	if f := s.hook; f != nil {
		s.hook = nil
		f()
	}
	return s.Store.CompareAndSwapRef(ctx, name, old, new)
}

// TestDeleteRetriedOnMovedHead: a Delete whose first attempt loses to
// another writer deletes again on the new head, as if the writes had been
// made one after the other: a directory loses what was added to it
// meanwhile, and a path deleted meanwhile is ErrNotFound.
func TestDeleteRetriedOnMovedHead(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		other   func(b *strata.Branch) error
		wantErr error
	}{
		{"an entry added to the directory", func(b *strata.Branch) error {
			_, err := b.Set(ctx, "d/x", []byte("new"))
			return err
		}, nil},
		{"an entry of the directory changed", func(b *strata.Branch) error {
			_, err := b.Set(ctx, "d/a", []byte("2"))
			return err
		}, nil},
		{"the directory deleted", func(b *strata.Branch) error {
			_, err := b.Delete(ctx, "d")
			return err
		}, strata.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := mem.New()
			other := strata.New(st)
			t.Cleanup(func() { other.Close() })
			if _, err := other.Branch("main").Set(ctx, "d/a", []byte("1")); err != nil {
				t.Fatal(err)
			}
			if _, err := other.Branch("main").Set(ctx, "keep", []byte("k")); err != nil {
				t.Fatal(err)
			}
			hooked := &beforeSwap{Store: st}
			kv := strata.New(hooked)
			t.Cleanup(func() { kv.Close() })
			hooked.hook = func() {
				if err := tc.other(other.Branch("main")); err != nil {
					t.Error(err)
				}
			}
			h, err := kv.Branch("main").Delete(ctx, "d")
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Delete: %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			snap, err := kv.At(ctx, h.String())
			if err != nil {
				t.Fatal(err)
			}
			if es, err := snap.List(ctx, "d"); !errors.Is(err, strata.ErrNotFound) {
				t.Errorf("the commit Delete returned lists d: %v, %v", es, err)
			}
			if v, err := snap.Get(ctx, "keep"); err != nil || string(v) != "k" {
				t.Errorf("keep = %q, %v", v, err)
			}
			c, err := kv.Commit(ctx, h.String())
			if err != nil {
				t.Fatal(err)
			}
			if c.Height != 4 {
				t.Errorf("the delete's commit is at height %d, want 4 (after the other writer's)", c.Height)
			}
		})
	}
}

// afterSwap is a store that runs hook after every successful
// compare-and-swap of a ref.
type afterSwap struct {
	backend.Store
	hook func()
}

func (s *afterSwap) CompareAndSwapRef(ctx context.Context, name string, old, new backend.Hash) error {
	err := s.Store.CompareAndSwapRef(ctx, name, old, new)
	if err == nil && s.hook != nil {
		s.hook()
	}
	return err
}

// TestAddLandedThenCancelled: an Add whose context is cancelled right
// after its commit landed still returns the counter's new value and the
// commit, so the caller does not take it for a failure and add again.
func TestAddLandedThenCancelled(t *testing.T) {
	st := &afterSwap{Store: mem.New()}
	kv := strata.New(st, strata.CacheSize(-1)) // reads go to the store
	t.Cleanup(func() { kv.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	st.hook = cancel
	n, h, err := kv.Branch("main").Add(ctx, "hits", 5)
	if err != nil || n != 5 || h.IsZero() {
		t.Fatalf("Add = %d, %s, %v; want 5, the commit, no error", n, h.Short(), err)
	}
	if head, err := kv.Branch("main").Head(context.Background()); err != nil || head != h {
		t.Errorf("head %s, %v; want the Add's commit %s", head.Short(), err, h.Short())
	}
}

// endingWatches is a store whose ref subscriptions end at once, as a
// server's do while it shuts down.
type endingWatches struct {
	backend.Store
	calls atomic.Int32
}

func (s *endingWatches) WatchRefs(ctx context.Context, prefix string) (<-chan backend.RefEvent, error) {
	s.calls.Add(1)
	ch := make(chan backend.RefEvent)
	close(ch)
	return ch, nil
}

// TestWatchResubscribesWithPause: a Watch whose subscriptions end before
// delivering anything subscribes again after a growing pause, not in a
// busy loop against the store.
func TestWatchResubscribesWithPause(t *testing.T) {
	st := &endingWatches{Store: mem.New()}
	kv := strata.New(st)
	t.Cleanup(func() { kv.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	events, err := kv.Watch(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	cancel()
	for range events {
	}
	// Pauses of 10, 20, 40, ... ms: about 6 subscriptions in 500 ms; a
	// busy loop makes thousands.
	if n := st.calls.Load(); n > 50 {
		t.Errorf("%d subscriptions in 500 ms", n)
	}
}
