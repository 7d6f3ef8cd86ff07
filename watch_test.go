package strata_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/internal/redistest"
)

// testWatch: a watcher sees every commit of a writer, in order, with the
// diff it made; applying the events reproduces the branch.
func testWatch(t *testing.T, writer, watcher *strata.KV) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	events, err := watcher.Watch(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	main := writer.Branch("main")
	var heads []strata.Hash
	for i := 0; i < 50; i++ {
		h, err := main.Set(ctx, fmt.Sprintf("k%d", i%7), []byte(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		heads = append(heads, h)
	}
	if _, err := main.Delete(ctx, "k3"); err != nil {
		t.Fatal(err)
	}
	model := map[string]string{}
	var prev strata.Hash
	for i := 0; i < 51; i++ {
		var ev strata.Event
		select {
		case ev = <-events:
		case <-ctx.Done():
			t.Fatalf("event %d never came", i)
		}
		if ev.Err != nil {
			t.Fatal(ev.Err)
		}
		if ev.Old != prev || (i < 50 && ev.New != heads[i]) {
			t.Fatalf("event %d: %s -> %s, want %s -> %s", i, ev.Old.Short(), ev.New.Short(), prev.Short(), heads[min(i, 49)].Short())
		}
		prev = ev.New
		for _, c := range ev.Changes {
			if c.Op == strata.Removed {
				delete(model, c.Path)
			} else {
				model[c.Path] = string(c.New)
			}
		}
	}
	got, err := dumpBranch(writer, "main")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, model); diff != "" {
		t.Errorf("events replayed differ from the branch: %s", diff)
	}
	cancel()
	for range events { // the channel closes once ctx is done
	}
}

func TestWatchMem(t *testing.T) {
	kv := openMem(t)
	testWatch(t, kv, kv)
}

func TestWatchPebble(t *testing.T) {
	kv := openURL(t, t.TempDir())
	defer kv.Close()
	testWatch(t, kv, kv)
}

// watchStores runs fn on a store of every backend: mem, pebble on disk, and
// a real redis-server.
func watchStores(t *testing.T, fn func(t *testing.T, kv *strata.KV)) {
	t.Run("mem", func(t *testing.T) { fn(t, openMem(t)) })
	t.Run("pebble", func(t *testing.T) {
		kv := openURL(t, t.TempDir())
		defer kv.Close()
		fn(t, kv)
	})
	t.Run("redis", func(t *testing.T) {
		kv := openURL(t, redistest.Start(t).URL("watch"))
		defer kv.Close()
		fn(t, kv)
	})
}

// nextEvent returns the next event, failing the test if none comes or it
// carries an error.
func nextEvent(t *testing.T, ctx context.Context, events <-chan strata.Event) strata.Event {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("the event channel closed")
		}
		if ev.Err != nil {
			t.Fatal(ev.Err)
		}
		return ev
	case <-ctx.Done():
		t.Fatal("no event came")
	}
	return strata.Event{}
}

// move is an event without its values, for comparing.
type move struct {
	Old, New strata.Hash
	Paths    []string
}

func moveOf(ev strata.Event) move {
	m := move{Old: ev.Old, New: ev.New}
	for _, c := range ev.Changes {
		m.Paths = append(m.Paths, c.Op.String()+" "+c.Path)
	}
	return m
}

// TestWatchPrefix: with WatchPrefix, every head move is delivered, with
// only the changes at or under the prefix ("ab" is not under "a").
func TestWatchPrefix(t *testing.T) {
	watchStores(t, func(t *testing.T, kv *strata.KV) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		events, err := kv.Watch(ctx, "main", strata.WatchPrefix("/a/"))
		if err != nil {
			t.Fatal(err)
		}
		main := kv.Branch("main")
		var want []move
		var prev strata.Hash
		step := func(h strata.Hash, err error, paths ...string) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, move{Old: prev, New: h, Paths: paths})
			prev = h
		}
		h, err := main.Set(ctx, "a/x", []byte("1"))
		step(h, err, "add a/x")
		h, err = main.Set(ctx, "b/y", []byte("2"))
		step(h, err)
		h, err = main.Set(ctx, "ab", []byte("3"))
		step(h, err)
		h, err = main.Set(ctx, "a/x", []byte("4"))
		step(h, err, "modify a/x")
		h, err = main.Delete(ctx, "a/x")
		step(h, err, "remove a/x")
		var got []move
		for range want {
			got = append(got, moveOf(nextEvent(t, ctx, events)))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if _, err := kv.Watch(ctx, "main", strata.WatchPrefix("a//b")); !errors.Is(err, strata.ErrInvalidPath) {
			t.Errorf("WatchPrefix(a//b): %v, want ErrInvalidPath", err)
		}
	})
}

// TestWatchSince: WatchSince first delivers the commits after since on the
// first-parent chain, one event each, then live moves; after a reset away
// from since, one event from since to the head; an unknown since fails.
func TestWatchSince(t *testing.T) {
	watchStores(t, func(t *testing.T, kv *strata.KV) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		main := kv.Branch("main")
		var heads []strata.Hash
		for i := range 5 {
			h, err := main.Set(ctx, fmt.Sprintf("k%d", i), []byte("v"))
			if err != nil {
				t.Fatal(err)
			}
			heads = append(heads, h)
		}
		// A merge on the chain: its first parent is the previous head.
		if err := kv.CreateBranch(ctx, "side", "main"); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Branch("side").Set(ctx, "s", []byte("side")); err != nil {
			t.Fatal(err)
		}
		h, err := kv.Merge(ctx, "side", "main")
		if err != nil {
			t.Fatal(err)
		}
		heads = append(heads, h)
		wctx, wcancel := context.WithCancel(ctx)
		events, err := kv.Watch(wctx, "main", strata.WatchSince(heads[1]))
		if err != nil {
			t.Fatal(err)
		}
		live, err := main.Set(ctx, "live", []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		want := []move{
			{Old: heads[1], New: heads[2], Paths: []string{"add k2"}},
			{Old: heads[2], New: heads[3], Paths: []string{"add k3"}},
			{Old: heads[3], New: heads[4], Paths: []string{"add k4"}},
			{Old: heads[4], New: heads[5], Paths: []string{"add s"}},
			{Old: heads[5], New: live, Paths: []string{"add live"}},
		}
		var got []move
		for range want {
			got = append(got, moveOf(nextEvent(t, ctx, events)))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("catch-up then live (-want +got):\n%s", diff)
		}
		wcancel()

		// Since the head: nothing to catch up, the next event is live.
		wctx, wcancel = context.WithCancel(ctx)
		events, err = kv.Watch(wctx, "main", strata.WatchSince(live))
		if err != nil {
			t.Fatal(err)
		}
		next, err := main.Set(ctx, "next", []byte("y"))
		if err != nil {
			t.Fatal(err)
		}
		if got := moveOf(nextEvent(t, ctx, events)); got.Old != live || got.New != next {
			t.Errorf("since the head: %s -> %s, want %s -> %s", got.Old.Short(), got.New.Short(), live.Short(), next.Short())
		}
		wcancel()

		// Reset back to heads[0]: since the old head is no ancestor, so
		// one event goes from it to the head.
		if _, err := main.Reset(ctx, heads[0].String()); err != nil {
			t.Fatal(err)
		}
		wctx, wcancel = context.WithCancel(ctx)
		defer wcancel()
		events, err = kv.Watch(wctx, "main", strata.WatchSince(next), strata.WatchPrefix("k4"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := moveOf(nextEvent(t, ctx, events)), (move{Old: next, New: heads[0], Paths: []string{"remove k4"}}); !cmp.Equal(got, want) {
			t.Errorf("after a reset: %v, want %v", got, want)
		}

		if _, err := kv.Watch(ctx, "main", strata.WatchSince(strata.Hash{1})); !errors.Is(err, strata.ErrNotFound) {
			t.Errorf("WatchSince(unknown): %v, want ErrNotFound", err)
		}
	})
}

// TestWatchSinceConcurrent subscribes with WatchSince while another
// goroutine keeps committing: the events are exactly the commits after
// since, each once, in order — no gap and no duplicate where the catch-up
// meets the live stream.
func TestWatchSinceConcurrent(t *testing.T) {
	watchStores(t, func(t *testing.T, kv *strata.KV) {
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		const n = 150
		heads := make(chan strata.Hash) // the writer commits again as soon as the reader takes a head
		errc := make(chan error, 1)
		go func() {
			defer close(heads)
			main := kv.Branch("main")
			for i := range n {
				h, err := main.Set(ctx, fmt.Sprintf("k%d", i%10), []byte(fmt.Sprint(i)))
				if err != nil {
					errc <- err
					return
				}
				heads <- h
			}
		}()
		var all []strata.Hash
		type sub struct {
			from   int
			events <-chan strata.Event
		}
		var subs []sub
		for h := range heads {
			all = append(all, h)
			if i := len(all) - 1; i%30 == 5 { // subscribe while commits go on
				events, err := kv.Watch(ctx, "main", strata.WatchSince(h))
				if err != nil {
					t.Fatal(err)
				}
				subs = append(subs, sub{i, events})
			}
		}
		select {
		case err := <-errc:
			t.Fatal(err)
		default:
		}
		for _, s := range subs {
			for i := s.from + 1; i < n; i++ {
				ev := nextEvent(t, ctx, s.events)
				if ev.Old != all[i-1] || ev.New != all[i] {
					t.Fatalf("subscribed after commit %d: event for commit %d is %s -> %s, want %s -> %s",
						s.from, i, ev.Old.Short(), ev.New.Short(), all[i-1].Short(), all[i].Short())
				}
			}
			select {
			case ev := <-s.events:
				t.Fatalf("subscribed after commit %d: an extra event %s -> %s", s.from, ev.Old.Short(), ev.New.Short())
			default:
			}
		}
	})
}

// racyWatcher is a mem store whose WatchRefs, once armed, runs hook after
// subscribing: moves made there are in the subscription but happen before
// Watch reads the head.
type racyWatcher struct {
	*mem.Store
	hook func()
}

func (r *racyWatcher) WatchRefs(ctx context.Context, prefix string) (<-chan backend.RefEvent, error) {
	ch, err := r.Store.WatchRefs(ctx, prefix)
	if err == nil && r.hook != nil {
		r.hook()
	}
	return ch, err
}

// TestWatchMovesBeforeHeadRead: moves made between subscribing and reading
// the head are neither delivered backwards nor twice, with or without
// WatchSince.
func TestWatchMovesBeforeHeadRead(t *testing.T) {
	for _, withSince := range []bool{false, true} {
		rw := &racyWatcher{Store: mem.New()}
		kv := strata.New(rw)
		defer kv.Close()
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		main := kv.Branch("main")
		h0, err := main.Set(ctx, "k", []byte("0"))
		if err != nil {
			t.Fatal(err)
		}
		var racing []strata.Hash
		rw.hook = func() {
			for i := 1; i <= 3; i++ {
				h, err := main.Set(ctx, "k", []byte(fmt.Sprint(i)))
				if err != nil {
					t.Error(err)
				}
				racing = append(racing, h)
			}
		}
		var opts []strata.WatchOption
		if withSince {
			opts = append(opts, strata.WatchSince(h0))
		}
		events, err := kv.Watch(ctx, "main", opts...)
		if err != nil {
			t.Fatal(err)
		}
		rw.hook = nil
		live, err := main.Set(ctx, "k", []byte("live"))
		if err != nil {
			t.Fatal(err)
		}
		var want []move
		prev := h0
		if withSince {
			for _, h := range racing {
				want = append(want, move{Old: prev, New: h, Paths: []string{"modify k"}})
				prev = h
			}
		}
		want = append(want, move{Old: racing[2], New: live, Paths: []string{"modify k"}})
		var got []move
		for range want {
			got = append(got, moveOf(nextEvent(t, ctx, events)))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("since %t: events (-want +got):\n%s", withSince, diff)
		}
	}
}

// TestWatchOverflowCoversLastMove: a reader that falls so far behind that
// the backend drops notifications (the last move's among them) still gets
// events up to the final head, each following on from the one before, and
// replaying them reproduces the branch.
func TestWatchOverflowCoversLastMove(t *testing.T) {
	watchStores(t, func(t *testing.T, kv *strata.KV) {
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		events, err := kv.Watch(ctx, "main")
		if err != nil {
			t.Fatal(err)
		}
		// Nothing reads events while the moves are made: the watch holds
		// at most its own buffer, one event in hand and the backend's
		// buffer, so a later notification is dropped, the last one
		// surely.
		main := kv.Branch("main")
		var head strata.Hash
		for i := 0; i < mem.WatchBuffer+200; i++ {
			if head, err = main.Set(ctx, fmt.Sprintf("k%d", i%13), []byte(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
		model := map[string]string{}
		var prev strata.Hash
		for n := 0; prev != head; n++ {
			ev := nextEvent(t, ctx, events)
			if ev.Old != prev {
				t.Fatalf("event %d: %s -> %s, want it to start at %s", n, ev.Old.Short(), ev.New.Short(), prev.Short())
			}
			prev = ev.New
			for _, c := range ev.Changes {
				if c.Op == strata.Removed {
					delete(model, c.Path)
				} else {
					model[c.Path] = string(c.New)
				}
			}
		}
		got, err := dumpBranch(kv, "main")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, model); diff != "" {
			t.Errorf("events replayed differ from the branch (-branch +events):\n%s", diff)
		}
	})
}

// TestWatchSinceAbsent: a watcher whose last event deleted the branch
// resumes with WatchSinceAbsent: nothing to catch up while the branch is
// still absent, else one event from zero to the head with every value.
func TestWatchSinceAbsent(t *testing.T) {
	kv := openMem(t)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	events, err := kv.Watch(ctx, "dev", strata.WatchSinceAbsent())
	if err != nil {
		t.Fatal(err)
	}
	h1, err := kv.Branch("dev").Set(ctx, "a", []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	if m := moveOf(nextEvent(t, ctx, events)); !cmp.Equal(m, move{New: h1, Paths: []string{"add a"}}) {
		t.Fatalf("first event while the branch was absent: %+v, want its creation", m)
	}
	h2, err := kv.Branch("dev").Set(ctx, "b", []byte("2"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := kv.Watch(ctx, "dev", strata.WatchSinceAbsent())
	if err != nil {
		t.Fatal(err)
	}
	if m := moveOf(nextEvent(t, ctx, again)); !cmp.Equal(m, move{New: h2, Paths: []string{"add a", "add b"}}) {
		t.Fatalf("first event with the branch present: %+v, want zero -> %s with every value", m, h2.Short())
	}
}
