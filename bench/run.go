package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures Run. The zero value of every field means the default
// given in its comment.
type Options struct {
	// Ns are the store sizes (default 1,000, 100,000 and 1,000,000).
	Ns []int
	// Layouts are the key layouts (default Flat and Nested). Floors run
	// under the first layout only, since they ignore directories.
	Layouts []Layout
	// Only, if not nil, keeps only the results whose ID it matches
	// ("workload/layout/N/backend", e.g. "set/flat/1000000/strata-mem").
	// The load still runs when anything else of its group is kept.
	Only *regexp.Regexp
	// Samples is the number of timed samples per workload (default 5);
	// the result is their median. Fewer are taken when they would not
	// fit in Budget.
	Samples int
	// SampleTime is the least time one sample runs, repeating the
	// operation (default 100ms).
	SampleTime time.Duration
	// Budget bounds the time of all samples of one workload, which cuts
	// the number of samples of slow operations (default 10s); at least
	// one sample is always taken. The get workload's warm-up, untimed,
	// takes at most a quarter of it more (see WarmGets).
	Budget time.Duration
	// MaxOp skips a workload whose single operation takes, or is
	// expected from a smaller N to take, longer than this (default 30s).
	// Loads get 4 times as long.
	MaxOp time.Duration
	// LogCommits is the number of commits the log workload makes on top
	// of the load before it reads the log (default 1,000); every tenth
	// changes the path it follows.
	LogCommits int
	// LogSetupBudget skips the log workload when making its commits is
	// expected to take longer than this (default 60s).
	LogSetupBudget time.Duration
	// ListLimit is the number of names the ls workload reads (default 100).
	ListLimit int
	// DiffKeys is the number of keys the two commits of the diff workload
	// differ in (default 10).
	DiffKeys int
	// Logf, if not nil, receives progress lines.
	Logf func(format string, args ...any)
}

func (o Options) withDefaults() Options {
	if len(o.Ns) == 0 {
		o.Ns = []int{1000, 100_000, 1_000_000}
	}
	if len(o.Layouts) == 0 {
		o.Layouts = Layouts
	}
	if o.Samples <= 0 {
		o.Samples = 5
	}
	if o.SampleTime <= 0 {
		o.SampleTime = 100 * time.Millisecond
	}
	if o.Budget <= 0 {
		o.Budget = 10 * time.Second
	}
	if o.MaxOp <= 0 {
		o.MaxOp = 30 * time.Second
	}
	if o.LogCommits <= 0 {
		o.LogCommits = 1000
	}
	if o.LogSetupBudget <= 0 {
		o.LogSetupBudget = 60 * time.Second
	}
	if o.ListLimit <= 0 {
		o.ListLimit = 100
	}
	if o.DiffKeys <= 0 {
		o.DiffKeys = 10
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

// Result is the measurement of one workload on one target, layout and N.
type Result struct {
	Workload string `json:"workload"`
	Layout   string `json:"layout"` // "-" for a floor
	N        int    `json:"n"`
	Backend  string `json:"backend"`
	// MedianNs, MinNs and MaxNs are the median, least and greatest time
	// of one operation over the samples, in nanoseconds. An operation is
	// one whole load for the load workload.
	MedianNs float64 `json:"median_ns,omitempty"`
	MinNs    float64 `json:"min_ns,omitempty"`
	MaxNs    float64 `json:"max_ns,omitempty"`
	// Samples is the number of samples, each of OpsPerSample operations
	// (for load, the most loads one sample took: a sample of loads
	// shorter than SampleTime repeats the load on new targets).
	Samples      int `json:"samples,omitempty"`
	OpsPerSample int `json:"ops_per_sample,omitempty"`
	// Items is the number of keys one operation handles: N for load, 1
	// otherwise; PerSecond counts items.
	Items int `json:"items,omitempty"`
	// Count is what the operation returned, checked against what it
	// should: changes for diff, commits for log, names for ls.
	Count int `json:"count,omitempty"`
	// P50Ns and P99Ns are the median and 99th percentile latency of one
	// commit, over every commit of every sample (group workloads).
	P50Ns float64 `json:"p50_ns,omitempty"`
	P99Ns float64 `json:"p99_ns,omitempty"`
	// BytesPerOp and AllocsPerOp are the bytes and heap objects the
	// process allocated per operation over the samples (all goroutines,
	// so a target's background work counts too).
	BytesPerOp  float64 `json:"bytes_per_op,omitempty"`
	AllocsPerOp float64 `json:"allocs_per_op,omitempty"`
	// FaultsPerOp is the minor page faults the process took per
	// operation over the samples (Linux; absent elsewhere): pages it
	// touched for the first time, which a store that grows in memory
	// pays for as it grows (see BenchmarkFreshPage for what one costs on
	// the machine). A server's own faults (redis-server's) are
	// ServerFaultsPerOp's.
	FaultsPerOp float64 `json:"faults_per_op,omitempty"`
	// ServerFaultsPerOp is the minor page faults the target's server
	// process (redis-server) took per operation over the samples, where
	// the factory can tell (Factory.ServerFaults): a server that keeps
	// what the operations write pays for its growth too.
	ServerFaultsPerOp float64 `json:"server_faults_per_op,omitempty"`
	// BytesPerKey is the live heap per key after the load (mem workload),
	// and OverheadPerKey that minus the bytes of the key and value.
	BytesPerKey    float64 `json:"bytes_per_key,omitempty"`
	OverheadPerKey float64 `json:"overhead_per_key,omitempty"`
	// RoundTrips, Objects and SyncBytes are the round trips, objects
	// and bytes of one operation of a sync workload (its SyncStats, the
	// most over the samples; objects and bytes only for a floor).
	RoundTrips int   `json:"round_trips,omitempty"`
	Objects    int   `json:"objects,omitempty"`
	SyncBytes  int64 `json:"sync_bytes,omitempty"`
	// Skipped says why the workload was not measured; empty when it was.
	Skipped string `json:"skipped,omitempty"`
	// Note qualifies the result (e.g. how the operation is done).
	Note string `json:"note,omitempty"`
}

// ID returns "workload/layout/N/backend", what Options.Only matches.
func (r Result) ID() string {
	return fmt.Sprintf("%s/%s/%d/%s", r.Workload, r.Layout, r.N, r.Backend)
}

// PerSecond returns items per second at the median time (keys/s for
// load, operations/s otherwise), or 0 without a time.
func (r Result) PerSecond() float64 {
	if r.MedianNs <= 0 {
		return 0
	}
	return float64(max(r.Items, 1)) * 1e9 / r.MedianNs
}

// Spread returns (max-min)/median of the samples, or 0 without a time.
func (r Result) Spread() float64 {
	if r.MedianNs <= 0 {
		return 0
	}
	return (r.MaxNs - r.MinNs) / r.MedianNs
}

// Run measures every workload that opts selects on targets from every
// factory, for every N and layout, and returns the results in that order.
// A failing operation (an error, or a wrong count) stops Run with an
// error naming the case; the results so far are returned with it.
func Run(ctx context.Context, opts Options, factories []Factory) ([]Result, error) {
	o := opts.withDefaults()
	r := &runner{o: o, opTime: map[string]opTime{}}
	for _, n := range o.Ns {
		for _, f := range factories {
			layouts := o.Layouts
			if f.Floor {
				layouts = layouts[:1]
			}
			for _, l := range layouts {
				if err := r.group(ctx, f, Dataset{Layout: l, N: n}); err != nil {
					return r.out, err
				}
			}
		}
	}
	return r.out, nil
}

type runner struct {
	o   Options
	out []Result
	// opTime is the last time of one operation of each
	// workload/layout/backend, for estimate.
	opTime map[string]opTime
}

func layoutLabel(f Factory, d Dataset) string {
	if f.Floor {
		return "-"
	}
	return d.Layout.String()
}

// wanted returns the workloads of a group that the target supports and
// opts selects.
func (r *runner) wanted(f Factory, d Dataset, t Target) map[string]bool {
	w := map[string]bool{}
	_, concurrent := t.(ConcurrentCommitter)
	for _, name := range append(slices.Clone(Workloads), GroupWorkloads...) {
		id := Result{Workload: name, Layout: layoutLabel(f, d), N: d.N, Backend: f.Name}.ID()
		if slices.Contains(GroupWorkloads, name) && !concurrent {
			continue
		}
		if t.Supports(name) && (r.o.Only == nil || r.o.Only.MatchString(id)) {
			w[name] = true
		}
	}
	return w
}

func (r *runner) emit(res Result) {
	r.out = append(r.out, res)
	if res.Skipped != "" {
		r.o.Logf("%-40s %s", res.ID(), res.Skipped)
		return
	}
	if res.Workload == WMem {
		r.o.Logf("%-40s %.0f B/key (%.0f B/key beyond key+value)", res.ID(), res.BytesPerKey, res.OverheadPerKey)
		return
	}
	lat := ""
	if res.P50Ns > 0 {
		lat = fmt.Sprintf("  p50 %s p99 %s", FormatNs(res.P50Ns), FormatNs(res.P99Ns))
	}
	r.o.Logf("%-40s %10s/op  %12s/s  spread %3.0f%%  (%d×%d)%s  %.0f B/op %.0f allocs/op %.2f faults/op", res.ID(), FormatNs(res.MedianNs),
		FormatRate(res.PerSecond()), 100*res.Spread(), res.Samples, res.OpsPerSample, lat, res.BytesPerOp, res.AllocsPerOp, res.FaultsPerOp)
}

// estimate returns the expected time of one operation of workload w at
// d.N from the last smaller N at which one was timed (measured, or found
// over MaxOp), scaled linearly in N (pessimistic for anything better than
// linear), and whether there was one.
func (r *runner) estimate(f Factory, d Dataset, w string) (time.Duration, bool) {
	p, ok := r.opTime[w+"/"+layoutLabel(f, d)+"/"+f.Name]
	if !ok || p.n >= d.N {
		return 0, false
	}
	return time.Duration(p.ns * float64(d.N) / float64(p.n)), true
}

// timed records the time of one operation of a workload, for estimate.
func (r *runner) timed(f Factory, d Dataset, w string, ns float64) {
	r.opTime[w+"/"+layoutLabel(f, d)+"/"+f.Name] = opTime{n: d.N, ns: ns}
}

type opTime struct {
	n  int
	ns float64
}

func (r *runner) group(ctx context.Context, f Factory, d Dataset) (err error) {
	base := Result{Layout: layoutLabel(f, d), N: d.N, Backend: f.Name, Items: 1}
	probe, err := f.New(ctx)
	if err != nil {
		return fmt.Errorf("%s: new target: %w", f.Name, err)
	}
	want := r.wanted(f, d, probe)
	if err := probe.Close(); err != nil {
		return fmt.Errorf("%s: close: %w", f.Name, err)
	}
	if len(want) == 0 {
		return nil
	}
	fail := func(w string, err error) error {
		res := base
		res.Workload = w
		return fmt.Errorf("%s: %w", res.ID(), err)
	}
	skip := func(w, why string) {
		if want[w] {
			res := base
			res.Workload, res.Skipped = w, why
			r.emit(res)
		}
	}

	// load, on fresh targets; the last one stays for the other workloads.
	loadCap := 4 * r.o.MaxOp
	if est, ok := r.estimate(f, d, WLoad); ok && est > loadCap {
		for _, w := range Workloads {
			skip(w, fmt.Sprintf("skipped: load est. %s >%s (linear from a smaller N)", fmtDur(est), fmtDur(loadCap)))
		}
		return nil
	}
	var (
		t         Target
		head      Rev
		times     []float64
		bytesKey  []float64
		runs      = r.o.Samples
		measureMB = want[WMem]
	)
	defer func() {
		if t != nil {
			if cerr := t.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("%s: close: %w", f.Name, cerr)
			}
		}
	}()
	// loadOnce loads a new target (the last one is closed first) and
	// returns the time of the load alone; with measure, the heap the load
	// kept goes to bytesKey.
	loadOnce := func(measure bool) (time.Duration, error) {
		if t != nil {
			err := t.Close()
			t = nil
			if err != nil {
				return 0, err
			}
		}
		var before uint64
		if measure {
			before = liveHeap()
		}
		var err error
		if t, err = f.New(ctx); err != nil {
			return 0, err
		}
		start := time.Now()
		if head, err = t.Load(ctx, d); err != nil {
			return 0, err
		}
		el := time.Since(start)
		if measure {
			bytesKey = append(bytesKey, float64(int64(liveHeap())-int64(before))/float64(d.N))
		}
		return el, nil
	}
	// The first load runs untimed, to warm up the runtime and the code;
	// loads get three times the budget of the other workloads, and at
	// least three samples when one load takes less than MaxOp. A sample
	// of loads shorter than SampleTime repeats the load on new targets
	// until their loading times add up to it (or the sample has run ten
	// times as long, the targets' making and closing included), and
	// counts their mean, as the other workloads repeat their operation:
	// one load of a few milliseconds is at the mercy of one scheduling
	// delay or collection.
	//
	// The heap a load keeps (the mem workload) is measured with forced
	// collections before and after the load (the target still open),
	// which made the load after them slower where fresh pages are dear
	// (on a VM that charges 10 µs a fresh page, 2.9 ms and 128 faults a
	// load of 1,000 keys in 1,000 directories, against 1.7–1.9 ms and
	// 10–17 faults: docs/PERF-HISTORY.md, session 15): no timed load is
	// measured, and the heap is measured on loads of their own after
	// the timed ones, Samples of them or as many as the budget holds
	// (at least one).
	//
	// One collection, before the untimed first load, starts the workload
	// from a collected heap: the garbage the workloads before it left (of
	// another target, or of another size) would otherwise be collected
	// while the first samples load (on that VM, strata's load of 1,000
	// keys in 1,000 directories took 3.7 ms after its workloads of 1,000
	// keys in one directory, 1.9 ms alone). Go's testing package collects
	// before each benchmark for the same reason.
	runtime.GC()
	warm, loads := true, 0
	var mean time.Duration
	for run := 0; run < runs; run++ {
		began := time.Now()
		el, err := loadOnce(false)
		if err != nil {
			return fail(WLoad, err)
		}
		if warm {
			warm, run = false, run-1
			continue
		}
		n, sum := 1, el
		for sum < r.o.SampleTime && time.Since(began) < 10*r.o.SampleTime && ctx.Err() == nil {
			if el, err = loadOnce(false); err != nil {
				return fail(WLoad, err)
			}
			n, sum = n+1, sum+el
		}
		mean = sum / time.Duration(n)
		loads = max(loads, n)
		times = append(times, float64(mean))
		if len(times) == 1 {
			runs = max(1, min(r.o.Samples, int(3*r.o.Budget/max(sum, 1))))
			if mean < r.o.MaxOp {
				runs = max(runs, min(3, r.o.Samples))
			}
		}
	}
	if measureMB {
		for i := range max(1, min(r.o.Samples, int(r.o.Budget/max(mean, 1)))) {
			if _, err := loadOnce(true); err != nil {
				return fail(WMem, fmt.Errorf("load %d of the heap's: %w", i+1, err))
			}
		}
	}
	if want[WLoad] {
		res := base
		res.Workload, res.Items = WLoad, d.N
		res.Samples, res.OpsPerSample = len(times), loads
		res.MedianNs, res.MinNs, res.MaxNs = stats(times)
		r.emit(res)
	}
	if len(times) > 0 {
		r.timed(f, d, WLoad, slices.Max(times))
	}
	if want[WMem] {
		res := base
		res.Workload = WMem
		res.Samples = len(bytesKey)
		res.BytesPerKey, _, _ = stats(bytesKey)
		res.OverheadPerKey = res.BytesPerKey - float64(d.KeyBytes())/float64(d.N)
		r.emit(res)
	}

	rng := rand.New(rand.NewPCG(uint64(d.N), uint64(d.Layout)))

	// get, warm: random keys, after a warm-up (see WarmGets) and the
	// calibration pass.
	if want[WGet] {
		i0 := rng.IntN(d.N)
		v, err := t.Get(ctx, d.Key(i0))
		if err != nil {
			return fail(WGet, err)
		}
		if string(v) != string(d.Value(i0, 0)) {
			return fail(WGet, fmt.Errorf("key %s: got %q, want %q", d.Key(i0), v, d.Value(i0, 0)))
		}
		note := ""
		if est, ok := r.estimate(f, d, WGet); !ok || est <= r.o.MaxOp {
			// (A get to be skipped as too slow is not warmed up.)
			n, err := WarmGets(ctx, t, d, r.o.Budget/4)
			if err != nil {
				return fail(WGet, err)
			}
			if n < d.N {
				note = fmt.Sprintf("warm-up read %d of %d keys", n, d.N)
			}
			// The warm-up's garbage (about 64 bytes a key) is collected
			// now rather than during the samples, as the load's is.
			runtime.GC()
		}
		var keys []string
		if err := r.measure(ctx, f, d, base, WGet, note, func(n int) {
			keys = keys[:0]
			for range n {
				keys = append(keys, d.Key(rng.IntN(d.N)))
			}
		}, func(i int) (int, error) {
			_, err := t.Get(ctx, keys[i])
			return 0, err
		}, -1); err != nil {
			return fail(WGet, err)
		}
	}

	if want[WLs] {
		wantNames := min(r.o.ListLimit, d.N)
		if d.Layout == Nested {
			wantNames = min(r.o.ListLimit, d.Dirs())
		}
		if err := r.measure(ctx, f, d, base, WLs, "", nil, func(int) (int, error) {
			names, err := t.List(ctx, Dir, r.o.ListLimit)
			return len(names), err
		}, wantNames); err != nil {
			return fail(WLs, err)
		}
	}

	// log: LogCommits commits on top of the load, every tenth changing
	// the followed key, so the whole history is 1 + LogCommits commits of
	// which 1 + LogCommits/10 touch it.
	if want[WLog] {
		k := LogKey(d)
		var why string
		if est, ok := r.estimate(f, d, WLog); ok && est > r.o.MaxOp {
			why = fmt.Sprintf("skipped: est. %s/op >%s (linear from a smaller N)", fmtDur(est), fmtDur(r.o.MaxOp))
		}
		start := time.Now()
		var last Rev
		if why == "" {
			last, err = MakeHistory(ctx, t, d, rng, r.o.LogCommits, func(j int) bool {
				if j == 11 || j == 101 {
					if est := time.Since(start) * time.Duration(r.o.LogCommits) / time.Duration(j-1); est > r.o.LogSetupBudget {
						why = fmt.Sprintf("skipped: making %d commits est. %s > %s", r.o.LogCommits, fmtDur(est), fmtDur(r.o.LogSetupBudget))
						return false
					}
				}
				return true
			})
		}
		if err != nil {
			return fail(WLog, err)
		}
		if last != "" {
			head = last
		}
		if why != "" {
			skip(WLog, why)
		} else {
			if err := r.measure(ctx, f, d, base, WLog, "", nil, func(int) (int, error) {
				return t.LogPath(ctx, d.Key(k))
			}, 1+r.o.LogCommits/10); err != nil {
				return fail(WLog, err)
			}
		}
	}

	if want[WDiff] {
		from := head
		cs := DiffChanges(d, rng, r.o.DiffKeys)
		if head, err = t.Commit(ctx, cs); err != nil {
			return fail(WDiff, err)
		}
		to := head
		if err := r.measure(ctx, f, d, base, WDiff, "", nil, func(int) (int, error) {
			return t.Diff(ctx, from, to)
		}, len(cs)); err != nil {
			return fail(WDiff, err)
		}
	}

	if want[WSet] {
		gen := 2_000_000
		var cs []Change
		set := func(cs []Change) error {
			_, err := t.Commit(ctx, cs)
			return err
		}
		if s, ok := t.(Setter); ok {
			set = func(cs []Change) error { return s.Set(ctx, cs[0].Key, cs[0].Value) }
		}
		if err := r.measure(ctx, f, d, base, WSet, "", func(n int) {
			cs = cs[:0]
			for range n {
				i := rng.IntN(d.N)
				gen++
				cs = append(cs, Change{d.Key(i), d.Value(i, gen)})
			}
		}, func(i int) (int, error) {
			return 0, set(cs[i : i+1])
		}, -1); err != nil {
			return fail(WSet, err)
		}
	}

	for _, w := range GroupWorkloads {
		if want[w] {
			if err := r.measureGroup(ctx, f, d, base, w, t.(ConcurrentCommitter)); err != nil {
				return fail(w, err)
			}
		}
	}
	return nil
}

// groupSampleCommits is the least number of commits of one sample of a
// group workload, so that its p99 latency means something.
const groupSampleCommits = 400

// measureGroup times group-commit workload w: GroupWriters(w) goroutines
// each committing one random key at a time on t, all at once (on one
// branch, or for WBranch8 each on a branch of its own). A result's
// time per operation is the wall time of a sample divided by its commits
// (so its rate is commits/s), and P50Ns and P99Ns are over the latency
// of every commit of every sample.
func (r *runner) measureGroup(ctx context.Context, f Factory, d Dataset, base Result, w string, t ConcurrentCommitter) error {
	writers := GroupWriters(w)
	res := base
	res.Workload, res.Note = w, fmt.Sprintf("%d writer(s) on one branch; rate: commits/s", writers)
	commit := func(g int, cs []Change) error { return t.CommitConcurrently(ctx, cs) }
	if w == WBranch8 {
		res.Note = fmt.Sprintf("%d writers, a branch each; rate: commits/s", writers)
		commit = func(g int, cs []Change) error { return t.CommitOnBranch(ctx, g, cs) }
	}
	var gen atomic.Int64
	gen.Store(3_000_000)
	// sample makes per commits on each writer and returns the wall time
	// and every commit's latency.
	sample := func(per int) (time.Duration, []float64, error) {
		lats := make([][]float64, writers)
		errs := make([]error, writers)
		var wg sync.WaitGroup
		start := time.Now()
		for g := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(d.N), uint64(gen.Add(1))))
				for range per {
					k, v := rng.IntN(d.N), int(gen.Add(1))
					t0 := time.Now()
					if err := commit(g, []Change{{d.Key(k), d.Value(k, v)}}); err != nil {
						errs[g] = err
						return
					}
					lats[g] = append(lats[g], float64(time.Since(t0)))
				}
			}()
		}
		wg.Wait()
		el := time.Since(start)
		var all []float64
		for g := range writers {
			if errs[g] != nil {
				return 0, nil, fmt.Errorf("writer %d: %w", g, errs[g])
			}
			all = append(all, lats[g]...)
		}
		return el, all, nil
	}
	// Calibrate (and warm up) with a few commits per writer.
	el, _, err := sample(4)
	if err != nil {
		return err
	}
	per := el / time.Duration(4*writers) // wall time per commit
	r.timed(f, d, w, float64(per))
	if per > r.o.MaxOp {
		res.Skipped = fmt.Sprintf("skipped: one commit took %s >%s", fmtDur(per), fmtDur(r.o.MaxOp))
		r.emit(res)
		return nil
	}
	commits := max(groupSampleCommits, int(r.o.SampleTime/max(per, 1)))
	perWriter := (commits + writers - 1) / writers
	commits = perWriter * writers
	samples := max(1, min(r.o.Samples, int(r.o.Budget/max(per*time.Duration(commits), 1))))
	var times, lats []float64
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	own, server := faultCount{read: minorFaults}, faultCount{read: f.serverFaults}
	own.begin()
	server.begin()
	for range samples {
		el, ls, err := sample(perWriter)
		if err != nil {
			return err
		}
		times = append(times, float64(el)/float64(commits))
		lats = append(lats, ls...)
	}
	own.end()
	server.end()
	runtime.ReadMemStats(&after)
	res.Samples, res.OpsPerSample = len(times), commits
	res.MedianNs, res.MinNs, res.MaxNs = stats(times)
	res.P50Ns, res.P99Ns = percentile(lats, 0.50), percentile(lats, 0.99)
	total := float64(samples * commits)
	res.BytesPerOp = float64(after.TotalAlloc-before.TotalAlloc) / total
	res.AllocsPerOp = float64(after.Mallocs-before.Mallocs) / total
	res.FaultsPerOp, res.ServerFaultsPerOp = own.perOp(samples*commits), server.perOp(samples*commits)
	r.timed(f, d, w, res.MedianNs)
	r.emit(res)
	return nil
}

// faultCount adds up the faults a counter reports (minorFaults, a
// factory's serverFaults) over spans of operations, each between begin
// and end. One answer of -1 (unknown) makes the whole count unknown.
type faultCount struct {
	read         func() int64
	start, total int64
	unknown      bool
}

func (c *faultCount) begin() { c.start = c.read() }

func (c *faultCount) end() {
	now := c.read()
	if c.start < 0 || now < 0 {
		c.unknown = true
		return
	}
	c.total += now - c.start
}

// perOp returns the faults per operation over n operations, or 0 (not
// reported) if the count is unknown or none.
func (c *faultCount) perOp(n int) float64 {
	if c.unknown || c.total <= 0 || n <= 0 {
		return 0
	}
	return float64(c.total) / float64(n)
}

// percentile returns the p-quantile (0..1) of xs, nearest rank.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// LogKey returns the index of the key whose history the log workload
// follows.
func LogKey(d Dataset) int { return d.N / 2 }

// MakeHistory makes the history the log workload reads: commits commits
// on t, each setting one key, every tenth one the key LogKey(d) and the
// others a random other key. Before commit j it calls more(j), if not nil,
// and stops early when that returns false. It returns the last commit it
// made ("" if none).
func MakeHistory(ctx context.Context, t Target, d Dataset, rng *rand.Rand, commits int, more func(j int) bool) (Rev, error) {
	k := LogKey(d)
	var head Rev
	for j := 1; j <= commits; j++ {
		if more != nil && !more(j) {
			break
		}
		i := k
		if j%10 != 0 {
			if i = rng.IntN(d.N); i == k {
				i = (k + 1) % d.N
			}
		}
		var err error
		if head, err = t.Commit(ctx, []Change{{d.Key(i), d.Value(i, j)}}); err != nil {
			return head, fmt.Errorf("commit %d of the history: %w", j, err)
		}
	}
	return head, nil
}

// DiffChanges returns n changes (at most d.N) to distinct random keys, for
// the commit the diff workload compares with its parent.
func DiffChanges(d Dataset, rng *rand.Rand, n int) []Change {
	cs := make([]Change, 0, n)
	seen := map[int]bool{}
	for len(cs) < min(n, d.N) {
		i := rng.IntN(d.N)
		if !seen[i] {
			seen[i] = true
			cs = append(cs, Change{d.Key(i), d.Value(i, 1_000_000+len(cs))})
		}
	}
	return cs
}

// measure times op and emits the result. wantCount >= 0 is the count every
// call must return; a wrong count is an error. If prepare is not nil, it
// is called untimed (and outside the allocation count) before every run
// of n calls of op, which are op(0) … op(n-1): it makes what they need
// (keys, values), so that the row counts only the target's work.
func (r *runner) measure(ctx context.Context, f Factory, d Dataset, base Result, w, note string, prepare func(n int), op func(i int) (int, error), wantCount int) error {
	res := base
	res.Workload, res.Note = w, note
	if est, ok := r.estimate(f, d, w); ok && est > r.o.MaxOp {
		res.Skipped = fmt.Sprintf("skipped: est. %s/op >%s (linear from a smaller N)", fmtDur(est), fmtDur(r.o.MaxOp))
		r.emit(res)
		return nil
	}
	if prepare == nil {
		prepare = func(int) {}
	}
	call := func(i int) error {
		n, err := op(i)
		if err != nil {
			return err
		}
		if wantCount >= 0 && n != wantCount {
			return fmt.Errorf("got %d, want %d", n, wantCount)
		}
		res.Count = n
		return nil
	}
	// Calibrate: repeat the operation for a tenth of a sample (at least
	// once) to learn its time; this also warms caches.
	var k int
	start := time.Now()
	var el time.Duration
	for {
		prepare(1)
		if err := call(0); err != nil {
			return err
		}
		k++
		el = time.Since(start)
		if el >= r.o.SampleTime/10 || el > r.o.MaxOp || ctx.Err() != nil {
			break
		}
	}
	per := el / time.Duration(k)
	r.timed(f, d, w, float64(per))
	if per > r.o.MaxOp {
		res.Skipped = fmt.Sprintf("skipped: one op took %s >%s", fmtDur(per), fmtDur(r.o.MaxOp))
		r.emit(res)
		return nil
	}
	ops := max(1, int(r.o.SampleTime/max(per, 1)))
	samples := max(1, min(r.o.Samples, int(r.o.Budget/max(per*time.Duration(ops), 1))))
	var times []float64
	if per >= time.Second && k == 1 {
		// Slow: the calibration run counts as the first sample.
		times = append(times, float64(per))
		samples--
	}
	var bytes, allocs uint64
	own, server := faultCount{read: minorFaults}, faultCount{read: f.serverFaults}
	// The allocations counted are the operations' alone: the harness's
	// own work (growing the slice of times, reading the fault counters)
	// is outside the two ReadMemStats, which allocate nothing.
	var before, after runtime.MemStats
	for s := 0; s < samples; s++ {
		prepare(ops)
		own.begin()
		server.begin()
		runtime.ReadMemStats(&before)
		start := time.Now()
		for i := 0; i < ops; i++ {
			if err := call(i); err != nil {
				return err
			}
		}
		el := time.Since(start)
		runtime.ReadMemStats(&after)
		own.end()
		server.end()
		times = append(times, float64(el)/float64(ops))
		bytes += after.TotalAlloc - before.TotalAlloc
		allocs += after.Mallocs - before.Mallocs
	}
	if samples > 0 {
		res.BytesPerOp = float64(bytes) / float64(samples*ops)
		res.AllocsPerOp = float64(allocs) / float64(samples*ops)
		res.FaultsPerOp, res.ServerFaultsPerOp = own.perOp(samples*ops), server.perOp(samples*ops)
	}
	res.Samples, res.OpsPerSample = len(times), ops
	res.MedianNs, res.MinNs, res.MaxNs = stats(times)
	r.timed(f, d, w, res.MedianNs)
	r.emit(res)
	return nil
}

// WarmGets readies t for the get workload: it reads every key of d once,
// in key order, checking each value, until it has read them all or limit
// has passed, and returns how many it read. What a target makes on a
// key's first reads (strata's find table of a directory chunk, made at
// its 16th read, and the links from an index to its chunks; a client's
// cache) is then made before the samples rather than during them, where
// it made the figure depend on how many gets the samples held: at 10⁶
// keys, strata-mem's flat get took 1.69 µs a get with the default 100 ms
// samples and 0.92 µs with 1 s samples (docs/PERF-HISTORY.md, "Issue 11:
// full run (2026-12-02, session 18)"). The samples' random keys then measure a
// warm read of the whole dataset. Run gives it a quarter of Budget and
// notes a partial warm-up in the result: at 10⁶ keys, targets whose get
// reads a ref from disk or makes a round trip (strata on Pebble or Redis,
// the floors, the peers) read only a part, which matters little beside
// what each of their gets costs.
func WarmGets(ctx context.Context, t Target, d Dataset, limit time.Duration) (int, error) {
	start := time.Now()
	for i := 0; i < d.N; i++ {
		if err := ctx.Err(); err != nil {
			return i, err
		}
		v, err := t.Get(ctx, d.Key(i))
		if err != nil {
			return i, fmt.Errorf("warm-up: %w", err)
		}
		if string(v) != string(d.Value(i, 0)) {
			return i, fmt.Errorf("warm-up: key %s: got %q, want %q", d.Key(i), v, d.Value(i, 0))
		}
		if time.Since(start) > limit {
			return i + 1, nil
		}
	}
	return d.N, nil
}

// stats returns the median, least and greatest of xs.
func stats(xs []float64) (median, lo, hi float64) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return m, s[0], s[len(s)-1]
}

// liveHeap returns the bytes of live heap objects after a full collection.
func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
