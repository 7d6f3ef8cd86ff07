package strata_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/commit"
)

// TestCommitGraphKeptByCommits: commits made through the write path (one
// writer, concurrent writers in groups, a merge) write their own
// commit-graph runs: afterwards exactly the commits whose height is a
// multiple of commit.RunLen have a run, though nobody called
// WriteCommitGraph; and MergeBase on a cold cache answers the same with
// the runs and after they are deleted. On mem and on Pebble.
func TestCommitGraphKeptByCommits(t *testing.T) {
	for _, name := range []string{"mem", "pebble"} {
		t.Run(name, func(t *testing.T) {
			u := "mem://"
			if name == "pebble" {
				u = filepath.Join(t.TempDir(), "db")
			}
			kv := open(t, u)
			main := kv.Branch("main")
			set := func(b *strata.Branch, i int) {
				t.Helper()
				if _, err := b.Set(ctx, fmt.Sprintf("%s/k%d", b.Name(), i%17), []byte(fmt.Sprint(i))); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 150 {
				set(main, i)
			}
			if err := kv.CreateBranch(ctx, "feature", "main~40"); err != nil {
				t.Fatal(err)
			}
			feature := kv.Branch("feature")
			var wg sync.WaitGroup
			for g := range 4 { // group commit: 4 writers at once
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 40 {
						if _, err := feature.Set(ctx, fmt.Sprintf("f%d/k%d", g, i), []byte("v")); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			for i := range 30 {
				set(main, 1000+i)
			}
			if _, err := kv.Merge(ctx, "feature", "main"); err != nil {
				t.Fatal(err)
			}
			for i := range 70 {
				set(main, 2000+i)
			}

			all, err := kv.Log(ctx, "main", 0)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, c := range all {
				if c.Height%commit.RunLen == 0 {
					want = append(want, commit.GraphRefPrefix+c.Hash.String())
				}
			}
			sort.Strings(want)
			strata.WaitCommitGraph(kv)
			refs, err := kv.Backend().ListRefs(ctx, commit.GraphRefPrefix)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, r := range refs {
				got = append(got, r.Name)
			}
			if len(want) < 5 {
				t.Fatalf("only %d commits start a run; the test needs more history", len(want))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("commit-graph refs (-commits starting a run +refs):\n%s", diff)
			}

			pairs := [][2]string{
				{"main", "feature"}, {"main~1", "feature~7"}, {"main~100", "feature"},
				{"feature~50", "main~3"}, {"main~75", "main~5"}, {"feature~1", "main~70^2~30"}, {"main~70^2~3", "main~71"},
			}
			bases := func() map[string][]strata.Hash {
				cold := strata.New(kv.Backend(), strata.CacheSize(-1)) // reads every object from the store
				out := map[string][]strata.Hash{}
				for _, p := range pairs {
					hs, err := cold.MergeBase(ctx, p[0], p[1])
					if err != nil {
						t.Fatalf("MergeBase %s %s: %v", p[0], p[1], err)
					}
					out[strings.Join(p[:], " ")] = hs
				}
				return out
			}
			withGraph := bases()
			for _, r := range refs {
				if err := kv.Backend().(backend.RefRepairer).DeleteRef(ctx, r.Name); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(withGraph, bases()); diff != "" {
				t.Errorf("merge bases (-with the commit graph +without):\n%s", diff)
			}
			fsckClean(t, kv)
		})
	}
}

// TestCommitGraphKeptPastShallowCut: commits on a shallow clone keep the
// commit graph without listing the shallow cuts, and so write no run that
// would reach past a cut (its ancestors are absent): the run of the first
// commit whose run would start above the cut and end below it is not
// written, a later one that fits above the cut is, and the clone stays
// clean (fsck, merge bases).
func TestCommitGraphKeptPastShallowCut(t *testing.T) {
	src := openMem(t)
	for i := range 100 {
		if _, err := src.Branch("main").Set(ctx, fmt.Sprintf("k%d", i%7), []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	logs := &logLines{}
	dst := strata.New(mem.New(), strata.Logger(logs.logger()))
	t.Cleanup(func() { dst.Close() })
	if _, err := strata.Clone(ctx, src, dst, strata.Depth(10)); err != nil { // the cut is at height 91
		t.Fatal(err)
	}
	main := dst.Branch("main")
	for i := range 100 { // heights 101 to 200: runs would start at 128 (reaching 65) and 192 (reaching 129)
		if _, err := main.Set(ctx, fmt.Sprintf("k%d", i%7), []byte(fmt.Sprint(1000+i))); err != nil {
			t.Fatal(err)
		}
	}
	log, err := dst.Log(ctx, "main", 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, c := range log {
		if c.Height == 192 {
			want = append(want, commit.GraphRefPrefix+c.Hash.String())
		}
	}
	strata.WaitCommitGraph(dst)
	refs, err := dst.Backend().ListRefs(ctx, commit.GraphRefPrefix)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, r := range refs {
		got = append(got, r.Name)
	}
	if len(want) != 1 {
		t.Fatalf("no commit at height 192 in the log (%d commits)", len(log))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("commit-graph refs (-the run above the cut +refs):\n%s", diff)
	}
	if _, err := dst.MergeBase(ctx, "main", "main~50"); err != nil {
		t.Fatal(err)
	}
	fsckClean(t, dst)
	// The run not written at 128 is no failure: nothing is reported.
	if got := logs.records(t); len(got) != 0 {
		t.Errorf("logged %v, want nothing: a run that would reach past a shallow cut is not a failure", got)
	}
}

// logLines keeps the JSON lines a slog logger writes, for tests that check
// what a KV reports to its Logger.
type logLines struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// logger returns a logger that writes every record, Debug and up, to l.
func (l *logLines) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// records returns the records logged so far, without their times.
func (l *logLines) records(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var rs []map[string]any
	for line := range bytes.Lines(l.b.Bytes()) {
		var r map[string]any
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		delete(r, "time")
		rs = append(rs, r)
	}
	return rs
}

// commitAt returns the hash of the commit at height h on branch main.
func commitAt(t *testing.T, kv *strata.KV, h uint64) strata.Hash {
	t.Helper()
	log, err := kv.Log(ctx, "main", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range log {
		if c.Height == h {
			return c.Hash
		}
	}
	t.Fatalf("no commit at height %d on main", h)
	return strata.Hash{}
}

// runGate is a mem store whose writes of commit-graph runs wait at a gate
// until the test opens it, and which records the runs written and when
// it was closed.
type runGate struct {
	*mem.Store
	started chan struct{} // receives once per run write that reaches the gate
	open    chan struct{} // closed by release: run writes go on
	once    sync.Once
	mu      sync.Mutex
	events  []string // "run" for each run stored, "close" when closed
	fail    error    // if set, what run writes return once through the gate
	tries   int      // run writes through the gate
}

func newRunGate() *runGate {
	return &runGate{Store: mem.New(), started: make(chan struct{}, 1024), open: make(chan struct{})}
}

// release opens the gate, if it is shut. A test registers it as a
// cleanup after any that closes the KV (cleanups run last first), so that
// a test failing with the gate shut fails instead of hanging in Close.
func (g *runGate) release() { g.once.Do(func() { close(g.open) }) }

// gatedKV returns a KV over a new runGate, closed when the test ends,
// after the gate is opened (so that a test failing with the gate shut
// does not hang in Close).
func gatedKV(t *testing.T) (*runGate, *strata.KV) {
	gate := newRunGate()
	kv := strata.New(gate)
	t.Cleanup(func() { kv.Close() })
	t.Cleanup(gate.release) // runs first
	return gate, kv
}

// gateDeadline bounds every wait of the gate tests, so that a regression
// (a writer that waits for the gate) fails at it instead of hanging.
const gateDeadline = 30 * time.Second

// within returns what ch receives, or fails the test if nothing comes
// within gateDeadline, saying what did not happen.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(gateDeadline):
		t.Fatalf("%s within %v", what, gateDeadline)
		panic("unreachable")
	}
}

// setsAsync makes n single-key commits on b from a goroutine, then (if
// not nil) last, and sends the first error, or nil.
func setsAsync(b *strata.Branch, n int, last func() error) <-chan error {
	done := make(chan error, 1)
	go func() {
		for i := range n {
			if _, err := b.Set(ctx, fmt.Sprintf("k%d", i%9), []byte(fmt.Sprint(i))); err != nil {
				done <- err
				return
			}
		}
		if last != nil {
			done <- last()
			return
		}
		done <- nil
	}()
	return done
}

func (g *runGate) event(e string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.events = append(g.events, e)
}

func (g *runGate) took() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.events)
}

func (g *runGate) PutAndSwapRef(ctx context.Context, objs []backend.Object, name string, old, new backend.Hash) error {
	if !strings.HasPrefix(name, commit.GraphRefPrefix) {
		return g.Store.PutAndSwapRef(ctx, objs, name, old, new)
	}
	g.started <- struct{}{}
	select {
	case <-g.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	g.mu.Lock()
	g.tries++
	fail := g.fail
	g.mu.Unlock()
	if fail != nil {
		return fail
	}
	if err := g.Store.PutAndSwapRef(ctx, objs, name, old, new); err != nil {
		return err
	}
	g.event("run")
	return nil
}

// PutOwnedAndSwapRef hides mem.Store's (see backend.OwnedCommitter), so
// that every run write goes through the gate.
func (g *runGate) PutOwnedAndSwapRef(ctx context.Context, objs []backend.Object, name string, old, new backend.Hash) error {
	return g.PutAndSwapRef(ctx, objs, name, old, new)
}

func (g *runGate) Close() error {
	g.event("close")
	return g.Store.Close()
}

// TestCommitGraphRunsOffTheWritePath: the commit that starts a run returns
// without waiting for the run's write (a writer alone, then 8 writers in
// groups), none is lost, and Close returns only once every queued run is
// stored, before it closes the backend. The run writes wait at a gate:
// were a writer to wait for its run, the test would fail at its deadline
// instead of hanging.
func TestCommitGraphRunsOffTheWritePath(t *testing.T) {
	gate := newRunGate()
	t.Cleanup(gate.release)
	kv := strata.New(gate)
	main := kv.Branch("main")

	// A writer alone: commits 1 to RunLen+1, the gate shut.
	if err := within(t, setsAsync(main, commit.RunLen+1, nil), "the commits with the run's write held (the writer waits for it?) did not land"); err != nil {
		t.Fatal(err)
	}
	within(t, gate.started, "the run of the commit at height RunLen was not begun")

	// 8 writers in groups, up to height 6*RunLen (the gate still shut:
	// the keeper is stuck on the first run, the others queue).
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < 5*commit.RunLen-1; i += 8 {
				if _, err := main.Set(ctx, fmt.Sprintf("b/k%d", i%33), []byte(fmt.Sprint(i))); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	within(t, done, "8 writers did not land their commits with the runs' writes held")
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	head, err := kv.Log(ctx, "main", 1)
	if err != nil {
		t.Fatal(err)
	}
	if h := head[0].Height; h != 6*commit.RunLen {
		t.Fatalf("head at height %d, want %d", h, 6*commit.RunLen)
	}
	if got := gate.took(); len(got) != 0 {
		t.Fatalf("events with the gate shut: %v, want none", got)
	}

	// Close waits for the queued runs: it has not closed the store while
	// the gate is shut, and once it is open every run is stored first.
	closed := make(chan error, 1)
	go func() { closed <- kv.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) with 6 runs unwritten", err)
	case <-time.After(100 * time.Millisecond):
	}
	gate.release()
	if err := within(t, closed, "Close did not return once the runs could be written"); err != nil {
		t.Fatal(err)
	}
	want := []string{"run", "run", "run", "run", "run", "run", "close"}
	if diff := cmp.Diff(want, gate.took()); diff != "" {
		t.Errorf("backend events (-want +got):\n%s", diff)
	}
}

// TestCommitGraphQueueFull: with runs' writes held, the writer that finds
// the keeper's queue full writes its run itself (so its commit waits),
// and once the writes go on every run is stored, none dropped.
func TestCommitGraphQueueFull(t *testing.T) {
	gate, kv := gatedKV(t)
	main := kv.Branch("main")
	// Run 1 is being written (held), runs 2 to 17 fill the queue, run 18
	// is its writer's to write.
	const runs = 18
	wrote := setsAsync(main, runs*commit.RunLen, nil)
	within(t, gate.started, "the keeper's write of run 1 was not begun")
	within(t, gate.started, "the writer's write of its run was not begun")
	select {
	case err := <-wrote:
		t.Fatalf("the writes returned (%v) while the writer of run %d should be writing it", err, runs)
	default:
	}
	gate.release()
	if err := within(t, wrote, "the writes did not finish once the runs could be written"); err != nil {
		t.Fatal(err)
	}
	strata.WaitCommitGraph(kv)
	refs, err := gate.ListRefs(ctx, commit.GraphRefPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != runs {
		t.Fatalf("%d commit-graph runs stored, want %d", len(refs), runs)
	}
}

// TestCommitGraphCloseAfterFailure: once Close is waiting for the queued
// runs, a run whose write fails (the backend gone) drops those queued
// behind it, so Close returns after one failed write, not one per run.
func TestCommitGraphCloseAfterFailure(t *testing.T) {
	gate := newRunGate()
	t.Cleanup(gate.release)
	gate.fail = errors.New("the server went away")
	logs := &logLines{}
	kv := strata.New(gate, strata.Logger(logs.logger()))
	// Run 1 held at the gate, runs 2 and 3 queued.
	if err := within(t, setsAsync(kv.Branch("main"), 3*commit.RunLen, nil), "the commits with the runs' writes held did not land"); err != nil {
		t.Fatal(err)
	}
	within(t, gate.started, "the run of the commit at height RunLen was not begun")
	first := commitAt(t, kv, commit.RunLen)
	closed := make(chan error, 1)
	go func() { closed <- kv.Close() }()
	for end := time.Now().Add(gateDeadline); !strata.CommitGraphClosing(kv); runtime.Gosched() {
		if time.Now().After(end) {
			t.Fatal("Close never began to wait for the queued runs")
		}
	}
	gate.release()
	if err := within(t, closed, "Close did not return after the failed run write"); err != nil {
		t.Fatal(err)
	}
	gate.mu.Lock()
	tries := gate.tries
	gate.mu.Unlock()
	if tries != 1 {
		t.Errorf("%d run writes tried after Close began, want 1 (the one under way; the others dropped)", tries)
	}
	if diff := cmp.Diff([]string{"close"}, gate.took()); diff != "" {
		t.Errorf("backend events (-want +got):\n%s", diff)
	}
	// Both losses are reported: the failed run, with its commit and
	// error, and the two dropped behind it.
	want := []map[string]any{
		{"level": "WARN", "msg": "commit-graph run not written", "commit": first.String(),
			"error": "commit-graph run of " + first.Short() + ": the server went away"},
		{"level": "WARN", "msg": "commit-graph runs not written: the KV is closing and the last write failed", "runs": 2.0},
	}
	if diff := cmp.Diff(want, logs.records(t)); diff != "" {
		t.Errorf("logged (-want +got):\n%s", diff)
	}
}

// panicRuns is a mem store whose writes of commit-graph runs panic, as a
// bug would make them.
type panicRuns struct{ *mem.Store }

func (s panicRuns) PutAndSwapRef(ctx context.Context, objs []backend.Object, name string, old, new backend.Hash) error {
	if strings.HasPrefix(name, commit.GraphRefPrefix) {
		panic("a bug in the run's write")
	}
	return s.Store.PutAndSwapRef(ctx, objs, name, old, new)
}

// PutOwnedAndSwapRef hides mem.Store's, so that run writes panic.
func (s panicRuns) PutOwnedAndSwapRef(ctx context.Context, objs []backend.Object, name string, old, new backend.Hash) error {
	return s.PutAndSwapRef(ctx, objs, name, old, new)
}

// TestCommitGraphRunPanicLogged: a panic in the write of a commit's run,
// which nobody waits for, neither stops the process nor fails a commit:
// it is logged at level Error with the commit, the panic and its stack,
// and the commits before and after it stand.
func TestCommitGraphRunPanicLogged(t *testing.T) {
	logs := &logLines{}
	kv := strata.New(panicRuns{mem.New()}, strata.Logger(logs.logger()))
	t.Cleanup(func() { kv.Close() })
	main := kv.Branch("main")
	if err := within(t, setsAsync(main, commit.RunLen+5, nil), "the commits did not land"); err != nil {
		t.Fatal(err)
	}
	strata.WaitCommitGraph(kv)
	h := commitAt(t, kv, commit.RunLen)
	got := logs.records(t)
	if len(got) != 1 {
		t.Fatalf("logged %d records, want 1: %v", len(got), got)
	}
	stack, _ := got[0]["stack"].(string)
	if !strings.Contains(stack, "writeRun") {
		t.Errorf("the record's stack does not name writeRun:\n%s", stack)
	}
	delete(got[0], "stack")
	want := map[string]any{"level": "ERROR", "msg": "commit-graph run not written: panic", "commit": h.String(), "panic": "a bug in the run's write"}
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("logged (-want +got):\n%s", diff)
	}
	if v, err := main.Get(ctx, fmt.Sprintf("k%d", (commit.RunLen+4)%9)); err != nil || string(v) != fmt.Sprint(commit.RunLen+4) {
		t.Errorf("the last commit's value: %q, %v", v, err)
	}
}

// TestCommitGraphQueueFullWithinDeadline: a writer that finds the queue
// full writes its run within its commit's context: with the runs' writes
// held, its Set returns once its deadline has passed (the commit landed,
// the run dropped) instead of waiting for the gate.
func TestCommitGraphQueueFullWithinDeadline(t *testing.T) {
	_, kv := gatedKV(t)
	main := kv.Branch("main")
	const full = 17 // run 1 held at the gate, runs 2 to 17 queued
	wrote := setsAsync(main, full*commit.RunLen+commit.RunLen-1, func() error {
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := main.Set(short, "last", []byte("v")) // height 18*RunLen: its run is its writer's
		return err
	})
	if err := within(t, wrote, "the commit whose run found the queue full (its deadline 100 ms) did not return"); err != nil {
		t.Fatal(err)
	}
	if _, err := main.Get(ctx, "last"); err != nil {
		t.Fatalf("the commit whose run was dropped: %v", err)
	}
}

// TestCommitGraphRunDamageLogged: a run that cannot be written because a
// commit it would list is missing (damage, not a shallow cut) is
// reported, with the missing commit in its error, on a full store and on
// a shallow clone whose damage lies above its cut; the commit that
// queued the run has landed all the same.
func TestCommitGraphRunDamageLogged(t *testing.T) {
	for _, shallow := range []bool{false, true} {
		t.Run(fmt.Sprintf("shallow=%v", shallow), func(t *testing.T) {
			st := mem.New()
			logs := &logLines{}
			// No cache: the run's write reads the ancestors from the store.
			kv := strata.New(st, strata.Logger(logs.logger()), strata.CacheSize(-1))
			t.Cleanup(func() { kv.Close() })
			main := kv.Branch("main")
			base := uint64(0)
			if shallow {
				src := openMem(t)
				for i := range 100 {
					if _, err := src.Branch("main").Set(ctx, fmt.Sprintf("k%d", i%7), []byte(fmt.Sprint(i))); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := strata.Clone(ctx, src, kv, strata.Depth(10)); err != nil { // the cut is at height 91
					t.Fatal(err)
				}
				base = 100
			}
			// Commits up to one below the next run's start, the run of
			// which would list heights start-63 to start.
			start := (base/commit.RunLen + 2) * commit.RunLen // 128, or 192 above the cut at 91
			hashes := map[uint64]strata.Hash{}
			for ht := base + 1; ht < start; ht++ {
				h, err := main.Set(ctx, fmt.Sprintf("k%d", ht%5), []byte(fmt.Sprint(ht)))
				if err != nil {
					t.Fatal(err)
				}
				hashes[ht] = h
			}
			strata.WaitCommitGraph(kv)
			logs.mu.Lock()
			logs.b.Reset() // the runs before are not this test's
			logs.mu.Unlock()
			victim := hashes[start-10]
			if err := st.DeleteObjects(ctx, []backend.Hash{victim}); err != nil {
				t.Fatal(err)
			}
			h, err := main.Set(ctx, "last", []byte("v"))
			if err != nil {
				t.Fatalf("the commit that starts the run: %v", err)
			}
			strata.WaitCommitGraph(kv)
			got := logs.records(t)
			if len(got) != 1 {
				t.Fatalf("logged %d records, want 1: %v", len(got), got)
			}
			msg, _ := got[0]["error"].(string)
			if !strings.Contains(msg, victim.String()) || !strings.Contains(msg, "missing") {
				t.Errorf("the record's error %q does not name the missing commit %s", msg, victim.Short())
			}
			delete(got[0], "error")
			want := map[string]any{"level": "WARN", "msg": "commit-graph run not written", "commit": h.String()}
			if diff := cmp.Diff(want, got[0]); diff != "" {
				t.Errorf("logged (-want +got):\n%s", diff)
			}
			if v, err := main.Get(ctx, "last"); err != nil || string(v) != "v" {
				t.Errorf("the commit whose run failed: %q, %v", v, err)
			}
		})
	}
}
