package strata

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/commit"
)

// chainOf returns the commits from the root to head of branch main of kv,
// failing t if any has more than one parent or a height out of step.
func chainOf(t *testing.T, kv *KV) []Hash {
	t.Helper()
	ctx := context.Background()
	head, err := kv.Branch("main").Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var chain []Hash
	for h := head; !h.IsZero(); {
		chain = append([]Hash{h}, chain...)
		c, err := commit.Get(ctx, kv.store, h)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Parents) > 1 {
			t.Fatalf("commit %s has %d parents", h.Short(), len(c.Parents))
		}
		if len(c.Parents) == 0 {
			break
		}
		h = c.Parents[0]
	}
	for i, h := range chain {
		c, err := commit.Get(ctx, kv.store, h)
		if err != nil {
			t.Fatal(err)
		}
		if int(c.Height) != i+1 {
			t.Errorf("commit %s: height %d, want %d", h.Short(), c.Height, i+1)
		}
	}
	return chain
}

// TestGroupWaiterCancelled: a writer queued behind a committer held at
// the gate whose context is cancelled returns context.Canceled while the
// committer is still held, wherever it stood in the queue (the first, to
// be handed the queue, or behind others); nothing is written for it and
// the other queued writes land as one group.
func TestGroupWaiterCancelled(t *testing.T) {
	for pos := range 3 {
		t.Run(fmt.Sprintf("position %d", pos), func(t *testing.T) {
			ctx := context.Background()
			kv, store, main, gate, entered := gatedBranch(t)
			var wg sync.WaitGroup
			var first result
			wg.Add(1)
			go func() {
				defer wg.Done()
				first.hash, first.err = main.Set(ctx, "first", []byte("0"))
			}()
			<-entered
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			cancelled := make(chan result, 1)
			others := make([]result, 2)
			keys := []string{"a", "b"}
			for i := range 3 {
				switch {
				case i == pos:
					go func() {
						h, err := main.Set(cctx, "cancelled", []byte("x"))
						cancelled <- result{h, err}
					}()
				default:
					j := i
					if i > pos {
						j--
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						others[j].hash, others[j].err = main.Set(ctx, keys[j], []byte(keys[j]))
					}()
				}
				waitQueued(kv, "main", i+1)
			}
			cancel()
			var got result
			select {
			case got = <-cancelled:
			case <-time.After(time.Minute): // a stall, not a speed bound
				close(gate)
				t.Fatal("the cancelled waiter did not return while the committer was held")
			}
			if !errors.Is(got.err, context.Canceled) || !got.hash.IsZero() {
				t.Errorf("the cancelled waiter: %s, %v; want context.Canceled", got.hash.Short(), got.err)
			}
			if n := store.atomic; n != 1 {
				t.Errorf("%d atomic writes before the gate opened, want 1", n)
			}
			close(gate)
			wg.Wait()
			if first.err != nil {
				t.Fatal(first.err)
			}
			for j, r := range others {
				if r.err != nil {
					t.Errorf("write of %s: %v", keys[j], r.err)
				}
			}
			if _, err := main.Get(ctx, "cancelled"); !errors.Is(err, ErrNotFound) {
				t.Errorf("the cancelled write's value: %v, want ErrNotFound", err)
			}
			for _, k := range keys {
				if v, err := main.Get(ctx, k); err != nil || string(v) != k {
					t.Errorf("%s = %q, %v; want %q", k, v, err, k)
				}
			}
			want := []Hash{first.hash, others[0].hash, others[1].hash}
			if diff := cmp.Diff(want, chainOf(t, kv)); diff != "" {
				t.Errorf("chain (-want +got):\n%s", diff)
			}
			if store.atomic != 2 {
				t.Errorf("%d atomic writes, want 2 (the first write, then the group)", store.atomic)
			}
		})
	}
}

// TestGroupCancelledLeaderHandsOn: a waiter handed the queue while its
// context is done commits nothing and hands the queue on to the next
// waiter, which commits; the queue is idle afterwards and takes new
// writes.
func TestGroupCancelledLeaderHandsOn(t *testing.T) {
	ctx := context.Background()
	kv := New(mem.New())
	t.Cleanup(func() { kv.Close() })
	main := kv.Branch("main")
	q := kv.queue("main")
	q.mu.Lock()
	q.busy = true // a committer at work, played by the test
	q.mu.Unlock()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	leader, next := make(chan result, 1), make(chan result, 1)
	go func() {
		h, err := main.Set(cctx, "leader", []byte("l"))
		leader <- result{h, err}
	}()
	waitQueued(kv, "main", 1)
	go func() {
		h, err := main.Set(ctx, "next", []byte("n"))
		next <- result{h, err}
	}()
	waitQueued(kv, "main", 2)
	// The committer hands the queue to the first waiter just as its
	// context is cancelled, before it can leave the queue.
	q.mu.Lock()
	cancel()
	q.handOff()
	q.mu.Unlock()
	for name, ch := range map[string]chan result{"leader": leader, "next": next} {
		select {
		case r := <-ch:
			switch name {
			case "leader":
				if !errors.Is(r.err, context.Canceled) {
					t.Errorf("the cancelled leader: %s, %v; want context.Canceled", r.hash.Short(), r.err)
				}
			default:
				if r.err != nil {
					t.Errorf("the write after the cancelled leader: %v", r.err)
				}
			}
		case <-time.After(time.Minute): // a stall, not a speed bound
			t.Fatalf("the %s write stalled: the queue was not handed on", name)
		}
	}
	q.mu.Lock()
	busy, waiting := q.busy, len(q.waiting)
	q.mu.Unlock()
	if busy || waiting != 0 {
		t.Errorf("queue busy=%v with %d waiting after the writes, want idle", busy, waiting)
	}
	if _, err := main.Get(ctx, "leader"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the cancelled leader's value: %v, want ErrNotFound", err)
	}
	if _, err := main.Set(ctx, "after", []byte("a")); err != nil {
		t.Errorf("a write after the handoff: %v", err)
	}
	if got := len(chainOf(t, kv)); got != 2 {
		t.Errorf("%d commits, want 2 (next, after)", got)
	}
}

// TestGroupCancelStress: many writers of distinct keys to one branch, some
// with contexts cancelled at random moments. Every write whose context is
// never cancelled lands; a cancelled one either lands (it returned no
// error) or leaves nothing written (context.Canceled); the queue never
// stalls and the history is one chain, one commit per landed write.
func TestGroupCancelStress(t *testing.T) {
	ctx := context.Background()
	kv := New(mem.New())
	t.Cleanup(func() { kv.Close() })
	main := kv.Branch("main")
	const writers, each = 16, 20
	type outcome struct {
		key       string
		cancelled bool
		err       error
	}
	outs := make([][]outcome, writers)
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for i := range each {
				o := outcome{key: fmt.Sprintf("k/%d/%d", g, i), cancelled: rng.IntN(3) == 0}
				wctx, cancel := context.WithCancel(ctx)
				if o.cancelled {
					if rng.IntN(4) == 0 {
						cancel()
					} else {
						yields := rng.IntN(8)
						go func() {
							for range yields {
								runtime.Gosched()
							}
							cancel()
						}()
					}
				}
				_, o.err = main.Set(wctx, o.key, []byte(o.key))
				cancel()
				outs[g] = append(outs[g], o)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute): // a stall, not a speed bound
		t.Fatal("writers stalled")
	}
	landed, refused := 0, 0
	for _, os := range outs {
		for _, o := range os {
			v, err := main.Get(ctx, o.key)
			switch {
			case o.err == nil:
				landed++
				if string(v) != o.key {
					t.Errorf("%s = %q, %v after its write succeeded", o.key, v, err)
				}
			case !o.cancelled:
				t.Errorf("%s, never cancelled: %v", o.key, o.err)
			case !errors.Is(o.err, context.Canceled):
				t.Errorf("%s, cancelled: %v, want context.Canceled", o.key, o.err)
			case !errors.Is(err, ErrNotFound):
				t.Errorf("%s failed with %v but reads %q, %v", o.key, o.err, v, err)
			default:
				refused++
			}
		}
	}
	t.Logf("%d writes landed, %d cancelled ones left nothing", landed, refused)
	if got := len(chainOf(t, kv)); got != landed {
		t.Errorf("%d commits in the chain, want %d (one per landed write)", got, landed)
	}
}
