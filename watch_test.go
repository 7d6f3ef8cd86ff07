package strata_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata"
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
