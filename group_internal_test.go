package strata

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/tree"
)

// gated is a mem store whose atomic object+ref writes can be held at a
// gate (so that writers queue up behind a committer) and made to fail. It
// counts them.
type gated struct {
	*mem.Store
	mu      sync.Mutex
	atomic  int
	gate    chan struct{} // if not nil, the next atomic write waits for it to close
	entered chan struct{} // closed when a write reaches the gate
	fail    error         // if not nil, atomic writes after the first fail with it
}

func (g *gated) PutAndSwapRef(ctx context.Context, objs []backend.Object, name string, old, new backend.Hash) error {
	g.mu.Lock()
	g.atomic++
	n, gate, entered, fail := g.atomic, g.gate, g.entered, g.fail
	g.gate = nil
	g.mu.Unlock()
	if gate != nil {
		close(entered)
		<-gate
	}
	if fail != nil && n > 1 {
		return fail
	}
	return g.Store.PutAndSwapRef(ctx, objs, name, old, new)
}

// PutOwnedAndSwapRef hides the embedded mem.Store's method (see
// backend.OwnedCommitter), so owned commits pass the gate too.
func (g *gated) PutOwnedAndSwapRef(ctx context.Context, objs []backend.Object, name string, old, new backend.Hash) error {
	return g.PutAndSwapRef(ctx, objs, name, old, new)
}

// waitQueued waits (without a clock) until n writes wait in branch name's
// queue of kv.
func waitQueued(kv *KV, name string, n int) {
	q := kv.queue(name)
	for {
		q.mu.Lock()
		l := len(q.waiting)
		q.mu.Unlock()
		if l >= n {
			return
		}
		runtime.Gosched()
	}
}

var errBoom = errors.New("boom")

// groupOfWrites holds the first write of branch main at the gate, queues
// the writes below behind it, in this order, and lets them go. The
// queued writes form one group.
func groupOfWrites(t *testing.T, store *gated) (first result, rest []result, kv *KV) {
	t.Helper()
	ctx := context.Background()
	kv = New(store)
	t.Cleanup(func() { kv.Close() })
	main := kv.Branch("main")
	writes := []func() (Hash, error){
		func() (Hash, error) { return main.Set(ctx, "b/1", []byte("1")) },
		func() (Hash, error) { // an invalid path, inside the group
			return main.Update(ctx, func(tx *Tx) error { return tx.Set("bad//path", []byte("x")) })
		},
		func() (Hash, error) { return main.Set(ctx, "b/2", []byte("2")) },
		func() (Hash, error) { return main.Set(ctx, "a/x/y", []byte("clash")) }, // a/x is a value
		func() (Hash, error) { return main.Delete(ctx, "nope") },
		func() (Hash, error) { return main.Update(ctx, func(tx *Tx) error { return errBoom }) },
		func() (Hash, error) { return main.Set(ctx, "b/1", []byte("1")) }, // nothing to change
		func() (Hash, error) { return main.Set(ctx, "b/3", []byte("3")) },
	}
	gate, entered := gateNext(store)
	var wg sync.WaitGroup
	wg.Add(1 + len(writes))
	go func() {
		defer wg.Done()
		first.hash, first.err = main.Set(ctx, "a/x", []byte("x"))
	}()
	<-entered
	rest = make([]result, len(writes))
	for i, w := range writes {
		go func() {
			defer wg.Done()
			rest[i].hash, rest[i].err = w()
		}()
		waitQueued(kv, "main", i+1)
	}
	close(gate)
	wg.Wait()
	return first, rest, kv
}

type result struct {
	hash Hash
	err  error
}

// TestGroupFailingWriteFailsOnlyItsCaller: in one group, writes whose own
// change fails (an invalid path, a value/directory clash, a Delete of
// nothing, Update's error) fail only their callers; the others land in
// arrival order, as one chain, in one atomic write.
func TestGroupFailingWriteFailsOnlyItsCaller(t *testing.T) {
	store := &gated{Store: mem.New()}
	first, rest, kv := groupOfWrites(t, store)
	if first.err != nil {
		t.Fatal(first.err)
	}
	for i, r := range rest {
		var want error
		switch i {
		case 1, 3:
			want = ErrInvalidPath
		case 4:
			want = ErrNotFound
		case 5:
			want = errBoom
		}
		if want == nil && r.err != nil || !errors.Is(r.err, want) {
			t.Errorf("write %d: error %v, want %v", i, r.err, want)
		}
	}
	// Serial writes would make a/x, b/1, b/2, b/3, one commit each; the
	// write that changed nothing returns the head it found (b/2's).
	if rest[6].hash != rest[2].hash {
		t.Errorf("a write that changed nothing returned %s, want the head %s", rest[6].hash.Short(), rest[2].hash.Short())
	}
	chain := []Hash{first.hash, rest[0].hash, rest[2].hash, rest[7].hash}
	var got []Hash
	head, err := kv.Branch("main").Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for h := head; !h.IsZero(); {
		got = append([]Hash{h}, got...)
		c, err := commit.Get(context.Background(), store, h)
		if err != nil {
			t.Fatal(err)
		}
		if int(c.Height) != len(chain)-len(got)+1 {
			t.Errorf("commit %s: height %d", h.Short(), c.Height)
		}
		if len(c.Parents) == 0 {
			break
		}
		h = c.Parents[0]
	}
	if diff := cmp.Diff(chain, got); diff != "" {
		t.Errorf("chain (-want +got):\n%s", diff)
	}
	if store.atomic != 2 {
		t.Errorf("%d atomic writes, want 2 (the first write, then the group)", store.atomic)
	}
	for p, v := range map[string]string{"a/x": "x", "b/1": "1", "b/2": "2", "b/3": "3"} {
		if got, err := kv.Branch("main").Get(context.Background(), p); err != nil || string(got) != v {
			t.Errorf("%s = %q, %v; want %q", p, got, err, v)
		}
	}
}

// TestGroupWriteFails: when the group's write fails (outcome unknown),
// every caller whose commit was in the group gets that error, each write
// that failed on its own gets its own error, and none sees success.
func TestGroupWriteFails(t *testing.T) {
	errDisk := fmt.Errorf("disk on fire")
	store := &gated{Store: mem.New(), fail: errDisk}
	first, rest, kv := groupOfWrites(t, store)
	if first.err != nil {
		t.Fatal(first.err)
	}
	for i, r := range rest {
		want := errDisk
		switch i {
		case 1, 3:
			want = ErrInvalidPath
		case 4:
			want = ErrNotFound
		case 5:
			want = errBoom
		}
		if !errors.Is(r.err, want) || !r.hash.IsZero() {
			t.Errorf("write %d: %s, %v; want an error wrapping %v", i, r.hash.Short(), r.err, want)
		}
		if want == errDisk && !errors.Is(r.err, errCommitFailed) {
			t.Errorf("write %d: %v does not say the outcome is unknown", i, r.err)
		}
	}
	if store.atomic != 2 {
		t.Errorf("%d atomic writes, want 2: a failed write is not retried", store.atomic)
	}
	head, err := kv.Branch("main").Head(context.Background())
	if err != nil || head != first.hash {
		t.Errorf("head %s, %v; want the first write's %s", head.Short(), err, first.hash.Short())
	}
}

// TestGroupPanicWakesTheOthers: a panic in one Update's function goes up
// its own caller's stack, whichever writer's goroutine committed the group
// (the panicking writer's or another's); the group's other writes land and
// the queue goes on working.
func TestGroupPanicWakesTheOthers(t *testing.T) {
	for _, panickerLeads := range []bool{true, false} {
		t.Run(fmt.Sprintf("panicker leads=%v", panickerLeads), func(t *testing.T) {
			ctx := context.Background()
			kv, _, main, gate, entered := gatedBranch(t)
			var wg sync.WaitGroup
			wg.Add(3)
			go func() {
				defer wg.Done()
				if _, err := main.Set(ctx, "a", []byte("a")); err != nil {
					t.Error(err)
				}
			}()
			<-entered
			// The first writer queued behind "a" commits the next group.
			var panicked any
			var otherErr error
			panicker := func() {
				defer wg.Done()
				defer func() { panicked = recover() }()
				main.Update(ctx, func(tx *Tx) error { panic("fn panics") })
			}
			other := func() {
				defer wg.Done()
				_, otherErr = main.Set(ctx, "b", []byte("b"))
			}
			first, second := other, panicker
			if panickerLeads {
				first, second = panicker, other
			}
			go first()
			waitQueued(kv, "main", 1)
			go second()
			waitQueued(kv, "main", 2)
			close(gate)
			wg.Wait()
			if panicked != "fn panics" {
				t.Errorf("the panicking write's caller recovered %v", panicked)
			}
			if otherErr != nil {
				t.Errorf("the other write of the group failed: %v", otherErr)
			}
			if v, err := main.Get(ctx, "b"); err != nil || string(v) != "b" {
				t.Errorf("b after the group: %q, %v", v, err)
			}
			if _, err := main.Set(ctx, "c", []byte("c")); err != nil {
				t.Errorf("a write after the panic: %v", err)
			}
		})
	}
}

// TestGroupCommitterCancelled: the committer of a group whose context is
// cancelled is left out with that error; the group's write still lands
// for the others.
func TestGroupCommitterCancelled(t *testing.T) {
	ctx := context.Background()
	kv, _, main, gate, entered := gatedBranch(t)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		if _, err := main.Set(ctx, "a", []byte("a")); err != nil {
			t.Error(err)
		}
	}()
	<-entered
	cctx, cancel := context.WithCancel(ctx)
	var cancelled, other result
	go func() { // the first in the queue: it commits the next group
		defer wg.Done()
		cancelled.hash, cancelled.err = main.Set(cctx, "b", []byte("b"))
	}()
	waitQueued(kv, "main", 1)
	go func() {
		defer wg.Done()
		other.hash, other.err = main.Set(ctx, "c", []byte("c"))
	}()
	waitQueued(kv, "main", 2)
	cancel()
	close(gate)
	wg.Wait()
	if !errors.Is(cancelled.err, context.Canceled) {
		t.Errorf("the cancelled committer: %s, %v; want context.Canceled", cancelled.hash.Short(), cancelled.err)
	}
	if other.err != nil {
		t.Fatalf("the other write of the group: %v", other.err)
	}
	head, err := main.Head(ctx)
	if err != nil || head != other.hash {
		t.Errorf("head %s, %v; want the other write's %s", head.Short(), err, other.hash.Short())
	}
	if _, err := main.Get(ctx, "b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the cancelled write's value: %v, want ErrNotFound", err)
	}
}

// TestGroupGathersTheLastGroup: a new committer waits for as many writes
// as the last group had before it takes the waiting ones, so writers that
// come back one after another form one group (one atomic write); when
// they do not come back it waits no longer than its bound.
func TestGroupGathersTheLastGroup(t *testing.T) {
	ctx := context.Background()
	store := &gated{Store: mem.New()}
	kv := New(store)
	t.Cleanup(func() { kv.Close() })
	main := kv.Branch("main")
	q := kv.queue("main")
	defer func(d time.Duration) { maxGather = d }(maxGather)
	maxGather = time.Hour // so that the test's writers surely come in time
	q.mu.Lock()
	q.last, q.lastTook, q.lastEnd = 3, time.Hour, time.Now() // as if a group of 3 had just committed
	q.mu.Unlock()
	var wg sync.WaitGroup
	hashes := make([]Hash, 3)
	done := []chan struct{}{make(chan struct{}), make(chan struct{}), make(chan struct{})}
	set := func(i int) {
		defer wg.Done()
		defer close(done[i])
		h, err := main.Set(ctx, fmt.Sprintf("k%d", i), []byte("v"))
		if err != nil {
			t.Error(err)
		}
		hashes[i] = h
	}
	wg.Add(3)
	go set(0)
	for { // until the first writer is the committer, gathering (or, if it did not wait, is done)
		q.mu.Lock()
		busy := q.busy
		q.mu.Unlock()
		select {
		case <-done[0]:
			busy = true
		default:
		}
		if busy {
			break
		}
		runtime.Gosched()
	}
	go set(1)
	for { // until it waits, one short of the last group (or, if the committer did not wait, is done)
		q.mu.Lock()
		queued := len(q.waiting) == 1
		q.mu.Unlock()
		select {
		case <-done[1]:
			queued = true
		default:
		}
		if queued {
			break
		}
		runtime.Gosched()
	}
	go set(2)
	wg.Wait()
	if store.atomic != 1 {
		t.Errorf("%d atomic writes, want 1: the committer did not wait for the other two", store.atomic)
	}
	if chain := chainOf(t, kv); !cmp.Equal(chain, hashes) {
		t.Errorf("chain %v, want the writes' commits in arrival order %v", chain, hashes)
	}

	// The last group's writers do not come back: a lone writer waits at
	// most a tenth of that group's commit time, then commits alone.
	q.mu.Lock()
	q.last, q.lastTook, q.lastEnd = 8, time.Millisecond, time.Now()
	q.mu.Unlock()
	if _, err := main.Set(ctx, "alone", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if store.atomic != 2 {
		t.Errorf("%d atomic writes, want 2", store.atomic)
	}

	// A group that ended long ago: its writers are not coming back, and a
	// lone writer does not wait for them (with maxGather an hour, a wait
	// measured from now would hang the test until its deadline).
	q.mu.Lock()
	q.last, q.lastTook, q.lastEnd = 8, time.Hour, time.Now().Add(-time.Hour)
	q.mu.Unlock()
	if _, err := main.Set(ctx, "later", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if store.atomic != 3 {
		t.Errorf("%d atomic writes, want 3", store.atomic)
	}
}

// TestGroupWakesThroughCancelled: the callers of a group are woken one by
// the one before; a caller whose context is cancelled after the group took
// it (here by the change before it) gets its context's error only, nothing
// written for it, and still wakes the caller after it, whose write lands
// parented on the one before the cancelled one.
func TestGroupWakesThroughCancelled(t *testing.T) {
	ctx := context.Background()
	kv, store, main, gate, entered := gatedBranch(t)
	var wg sync.WaitGroup
	var first, a, b, c result
	wg.Add(4)
	go func() {
		defer wg.Done()
		first.hash, first.err = main.Set(ctx, "first", []byte("0"))
	}()
	<-entered
	bctx, cancelB := context.WithCancel(ctx)
	defer cancelB()
	go func() {
		defer wg.Done()
		a.hash, a.err = main.Update(ctx, func(tx *Tx) error {
			cancelB() // b is queued behind a, in a's group
			return tx.Set("a", []byte("a"))
		})
	}()
	waitQueued(kv, "main", 1)
	go func() {
		defer wg.Done()
		b.hash, b.err = main.Set(bctx, "b", []byte("b"))
	}()
	waitQueued(kv, "main", 2)
	go func() {
		defer wg.Done()
		c.hash, c.err = main.Set(ctx, "c", []byte("c"))
	}()
	waitQueued(kv, "main", 3)
	close(gate)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute): // a stall, not a speed bound
		t.Fatal("a caller was not woken")
	}
	if first.err != nil || a.err != nil || c.err != nil {
		t.Fatalf("first %v, a %v, c %v; want no errors", first.err, a.err, c.err)
	}
	if !errors.Is(b.err, context.Canceled) || !b.hash.IsZero() {
		t.Errorf("the cancelled write: %s, %v; want context.Canceled", b.hash.Short(), b.err)
	}
	if _, err := main.Get(ctx, "b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the cancelled write's value: %v, want ErrNotFound", err)
	}
	if diff := cmp.Diff([]Hash{first.hash, a.hash, c.hash}, chainOf(t, kv)); diff != "" {
		t.Errorf("chain (-want +got):\n%s", diff)
	}
	if store.atomic != 2 {
		t.Errorf("%d atomic writes, want 2 (the first write, then the group)", store.atomic)
	}
}

// gatedBranch returns a KV over a gated mem store whose atomic writes
// signal entered and wait on gate, and its branch "main".
func gatedBranch(t *testing.T) (kv *KV, store *gated, main *Branch, gate, entered chan struct{}) {
	store = &gated{Store: mem.New()}
	kv = New(store)
	t.Cleanup(func() { kv.Close() })
	gate, entered = gateNext(store)
	return kv, store, kv.Branch("main"), gate, entered
}

// cachedDir returns the hash of directory dir at the head of kv's branch
// main, having put it and the head's root in kv's node cache.
func cachedDir(t *testing.T, kv *KV, dir string) Hash {
	t.Helper()
	ctx := context.Background()
	head, err := kv.Branch("main").Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := commit.Load(ctx, kv.store, kv.nodes, head)
	if err != nil {
		t.Fatal(err)
	}
	h, ok, err := tree.New(kv.nodes, c.Tree).SubtreeHash(ctx, []string{dir})
	if err != nil || !ok {
		t.Fatalf("%s: %v, %v", dir, ok, err)
	}
	for _, h := range []Hash{c.Tree, h} {
		if _, err := kv.nodes.Load(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// gateNext holds store's next atomic write at a gate, and returns the
// gate and the channel closed when a write reaches it.
func gateNext(store *gated) (gate, entered chan struct{}) {
	gate, entered = make(chan struct{}), make(chan struct{})
	store.mu.Lock()
	store.gate, store.entered = gate, entered
	store.mu.Unlock()
	return gate, entered
}

// TestCacheForgetsOnlyWhatLanded: a write drops the directories it
// replaced from the node cache once its commit has landed, not before
// (while it is written, readers of the head still use them) and not at
// all if its commit fails.
func TestCacheForgetsOnlyWhatLanded(t *testing.T) {
	ctx := context.Background()
	for _, fails := range []bool{false, true} {
		store := &gated{Store: mem.New()}
		kv := New(store)
		main := kv.Branch("main")
		if _, err := main.Update(ctx, func(tx *Tx) error {
			for i := range 10 {
				if err := tx.Set(fmt.Sprintf("s/k%d", i), []byte("v")); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		old := cachedDir(t, kv, "s")
		gate, entered := gateNext(store)
		if fails {
			store.mu.Lock()
			store.fail = errBoom
			store.mu.Unlock()
		}
		done := make(chan error, 1)
		go func() {
			_, err := main.Set(ctx, "s/k3", []byte("new"))
			done <- err
		}()
		<-entered
		if _, ok := kv.nodes.Cached(old); !ok {
			t.Errorf("fails=%v: the head's directory left the cache before the write landed", fails)
		}
		close(gate)
		err := <-done
		if fails {
			if !errors.Is(err, errBoom) {
				t.Fatalf("write: %v, want %v", err, errBoom)
			}
			if _, ok := kv.nodes.Cached(old); !ok {
				t.Error("a write that failed dropped the head's directory from the cache")
			}
		} else {
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := kv.nodes.Cached(old); ok {
				t.Error("the directory the landed write replaced is still cached")
			}
			if h := cachedDir(t, kv, "s"); h == old {
				t.Error("s did not change")
			}
		}
		kv.Close()
	}
}

// TestCacheKeepsWhatTheHeadHolds: what a write replaced is not forgotten
// when the tree that lands holds it again: a write merged after losing
// the race into a head whose counter went the other way (the merged tree
// is the one the write replaced), and a group whose later write sets
// back what an earlier one changed.
func TestCacheKeepsWhatTheHeadHolds(t *testing.T) {
	ctx := context.Background()
	// setup makes the base on a gated store and returns the store, a KV
	// of it that has not written (so its first write reads the head) with
	// the base's root and s cached, and s.
	setup := func(t *testing.T) (*gated, *KV, Hash) {
		t.Helper()
		store := &gated{Store: mem.New()}
		maker := New(store)
		main := maker.Branch("main")
		if _, err := main.Update(ctx, func(tx *Tx) error {
			for i := range 10 {
				if err := tx.Set(fmt.Sprintf("s/k%d", i), []byte("v")); err != nil {
					return err
				}
			}
			return tx.Set("a/x", []byte("0"))
		}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := main.Add(ctx, "s/c", 5); err != nil {
			t.Fatal(err)
		}
		// Not closed: closing a KV closes its store, which kv shares.
		kv := New(store)
		t.Cleanup(func() { kv.Close() })
		s := cachedDir(t, kv, "s")
		return store, kv, s
	}
	t.Run("merged", func(t *testing.T) {
		store, kv, s := setup(t)
		gate, entered := gateNext(store)
		done := make(chan error, 1)
		go func() { // Branch.Add would read the value back, caching s again
			_, err := kv.Branch("main").write(ctx, true, func(ctx context.Context, tb *tree.Builder) error {
				_, err := add(ctx, tb, "s/c", []string{"s", "c"}, 1)
				return err
			}, nil)
			done <- err
		}()
		<-entered
		// Another writer moves the head first: the write loses the race
		// and is merged into the new head, which gives the base's tree.
		other := New(store.Store)
		if _, _, err := other.Branch("main").Add(ctx, "s/c", -1); err != nil {
			t.Fatal(err)
		}
		close(gate)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if _, ok := kv.nodes.Cached(s); !ok {
			t.Error("the merged write, whose tree holds s as it was, forgot s")
		}
	})
	// group: a write of a/x is held at the gate, and the writes queued
	// behind it (path, value) form one group.
	group := func(t *testing.T, queued ...[2]string) {
		store, kv, s := setup(t)
		main := kv.Branch("main")
		gate, entered := gateNext(store)
		writes := append([][2]string{{"a/x", "1"}}, queued...)
		var wg sync.WaitGroup
		errs := make([]error, len(writes))
		for i, w := range writes {
			wg.Add(1)
			go func() { defer wg.Done(); _, errs[i] = main.Set(ctx, w[0], []byte(w[1])) }()
			if i == 0 {
				<-entered
			} else {
				waitQueued(kv, "main", i)
			}
		}
		close(gate)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
		if _, ok := kv.nodes.Cached(s); !ok {
			t.Error("the group, whose last write made s again, forgot it")
		}
	}
	changed, back := [2]string{"s/k1", "changed"}, [2]string{"s/k1", "v"}
	t.Run("group", func(t *testing.T) { group(t, changed, back) })
	// The set-back's writes at positions 1 and 2 of their group, not 0
	// and 1: what the group records of who made each object counts.
	t.Run("group, set back later in it", func(t *testing.T) { group(t, [2]string{"a/y", "2"}, changed, back) })
}

// TestCacheForgetsGroupSteps: once a group of writes to one directory has
// landed, the cache holds that directory's version in the new head, and
// neither the one in the old head nor those between the two (which each
// write of the group made and the next replaced), while every version
// still reads back from the store.
func TestCacheForgetsGroupSteps(t *testing.T) {
	ctx := context.Background()
	base := func(tx *Tx) error {
		for i := range 10 {
			if err := tx.Set(fmt.Sprintf("s/k%d", i), []byte("v")); err != nil {
				return err
			}
		}
		return nil
	}
	keys := []string{"s/k1", "s/k2", "s/k3"}
	// The versions of s, serially on another store: before the group and
	// after each of its writes (objects are named by their bytes).
	serial := New(mem.New())
	defer serial.Close()
	if _, err := serial.Branch("main").Update(ctx, base); err != nil {
		t.Fatal(err)
	}
	versions := []Hash{cachedDir(t, serial, "s")}
	for _, k := range keys {
		if _, err := serial.Branch("main").Set(ctx, k, []byte("w")); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, cachedDir(t, serial, "s"))
	}

	store := &gated{Store: mem.New()}
	kv := New(store)
	defer kv.Close()
	main := kv.Branch("main")
	if _, err := main.Update(ctx, base); err != nil {
		t.Fatal(err)
	}
	if got := cachedDir(t, kv, "s"); got != versions[0] {
		t.Fatalf("s is %s, want %s as on the serial store", got, versions[0])
	}
	gate, entered := gateNext(store)
	var wg sync.WaitGroup
	errs := make([]error, 1+len(keys))
	wg.Add(1 + len(keys))
	go func() { defer wg.Done(); _, errs[0] = main.Set(ctx, "a/x", []byte("1")) }() // held at the gate
	<-entered
	for i, k := range keys { // queued behind it, in order: one group
		go func() { defer wg.Done(); _, errs[1+i] = main.Set(ctx, k, []byte("w")) }()
		waitQueued(kv, "main", i+1)
	}
	close(gate)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	for i, h := range versions {
		_, cached := kv.nodes.Cached(h)
		if last := i == len(versions)-1; cached != last {
			t.Errorf("version %d of s (%s): cached %v, want %v", i, h.Short(), cached, last)
		}
		if _, err := kv.store.Get(ctx, h); err != nil {
			t.Errorf("version %d of s: %v", i, err)
		}
	}
	if got := cachedDir(t, kv, "s"); got != versions[len(versions)-1] {
		t.Errorf("s in the new head is %s, want %s", got, versions[len(versions)-1])
	}
}
