package watchhub_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/watchhub"
)

func ev(name string, b byte) backend.RefEvent {
	return backend.RefEvent{Name: name, New: backend.Hash{b}}
}

// drain receives what ch holds without waiting, and reports whether ch is
// closed.
func drain(ch <-chan backend.RefEvent) (got []backend.RefEvent, closed bool) {
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return got, true
			}
			got = append(got, e)
		default:
			return got, false
		}
	}
}

func TestHubPrefixOrderAndClose(t *testing.T) {
	var h watchhub.Hub
	all, err := h.Watch(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	heads, err := h.Watch(t.Context(), "heads/")
	if err != nil {
		t.Fatal(err)
	}
	evs := []backend.RefEvent{ev("heads/main", 1), ev("tags/v1", 2), ev("heads/dev", 3)}
	for _, e := range evs {
		h.Notify(e)
	}
	h.Close()
	got, closed := drain(all)
	if diff := cmp.Diff(evs, got); diff != "" || !closed {
		t.Errorf("all: closed %t, events (-want +got):\n%s", closed, diff)
	}
	got, closed = drain(heads)
	if diff := cmp.Diff([]backend.RefEvent{evs[0], evs[2]}, got); diff != "" || !closed {
		t.Errorf("heads/: closed %t, events (-want +got):\n%s", closed, diff)
	}
	if _, err := h.Watch(t.Context(), ""); !errors.Is(err, backend.ErrClosed) {
		t.Errorf("Watch after Close: %v, want ErrClosed", err)
	}
	h.Close() // idempotent
	h.Notify(ev("heads/main", 4))
}

// TestHubOverflowClosesChannel: an event that finds a subscription's
// buffer full ends the subscription, so its subscriber learns of the loss
// even when the dropped event is the last one; the buffered events still
// arrive first, and other subscriptions are not affected.
func TestHubOverflowClosesChannel(t *testing.T) {
	var h watchhub.Hub
	slow, err := h.Watch(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	var want []backend.RefEvent
	for i := 0; i < watchhub.Buffer; i++ {
		e := ev("heads/main", byte(i))
		want = append(want, e)
		h.Notify(e)
	}
	other, err := h.Watch(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	// The only event of another ref, and the last one: no later event
	// would show a gap.
	last := ev("heads/dev", 1)
	h.Notify(last)
	got, closed := drain(slow)
	if diff := cmp.Diff(want, got); diff != "" || !closed {
		t.Errorf("overflowed subscription: closed %t, events (-want +got):\n%s", closed, diff)
	}
	got, closed = drain(other)
	if diff := cmp.Diff([]backend.RefEvent{last}, got); diff != "" || closed {
		t.Errorf("other subscription: closed %t, events (-want +got):\n%s", closed, diff)
	}
	h.Notify(ev("heads/main", 2)) // the ended subscription gets nothing more
	h.Close()
}

func TestHubUnwatchesOnCancel(t *testing.T) {
	var h watchhub.Hub
	ctx, cancel := context.WithCancel(t.Context())
	ch, err := h.Watch(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	h.Notify(ev("heads/main", 1))
	cancel()
	// The channel closes once the cancellation has run; a receive waits
	// for it without any timing assumption.
	if e, ok := <-ch; !ok || e != ev("heads/main", 1) {
		t.Fatalf("first receive after cancel = %+v, %t; want the buffered event", e, ok)
	}
	if e, ok := <-ch; ok {
		t.Fatalf("received %+v after cancel, want the channel closed", e)
	}
	h.Notify(ev("heads/main", 1)) // no subscriber left: must not panic
}
