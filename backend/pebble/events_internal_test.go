package pebble

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/watchhub"
)

// TestRefEventsSettle checks the order refEvents delivers in: a durable
// swap delivers every event queued up to its own, in order, whether or
// not their waits have ended; an event delivered is never delivered
// again; a swap whose sync failed is dropped; a swap without an event
// (seq 0) delivers nothing.
func TestRefEventsSettle(t *testing.T) {
	var hub watchhub.Hub
	ch, err := hub.Watch(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	ev := func(i byte) backend.RefEvent {
		var h backend.Hash
		h[0] = i
		return backend.RefEvent{Name: "heads/main", New: h}
	}
	var e refEvents
	s1, s2, s3 := e.add(ev(1)), e.add(ev(2)), e.add(ev(3))
	got := func() []backend.RefEvent {
		var out []backend.RefEvent
		for {
			select {
			case ev := <-ch:
				out = append(out, ev)
			default:
				return out
			}
		}
	}
	for _, step := range []struct {
		seq     uint64
		durable bool
		want    []backend.RefEvent
	}{
		{0, true, nil},
		{s2, true, []backend.RefEvent{ev(1), ev(2)}},
		{s1, true, nil},
		{s3, false, nil},
	} {
		e.settle(step.seq, step.durable, &hub)
		if diff := cmp.Diff(step.want, got()); diff != "" {
			t.Errorf("settle(%d, %v) delivered (-want +got):\n%s", step.seq, step.durable, diff)
		}
	}
	s4 := e.add(ev(4))
	e.settle(s4, true, &hub)
	if diff := cmp.Diff([]backend.RefEvent{ev(4)}, got()); diff != "" {
		t.Errorf("after a dropped event, settle delivered (-want +got):\n%s", diff)
	}
	if len(e.q) != 0 {
		t.Errorf("%d events still queued, want none", len(e.q))
	}
}
