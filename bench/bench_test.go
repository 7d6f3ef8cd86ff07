package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratakv/strata/bench"
	"github.com/stratakv/strata/internal/redistest"
)

// localFactories returns strata on mem and Pebble and the Pebble floor.
func localFactories(t testing.TB) []bench.Factory {
	return []bench.Factory{bench.StrataMem(), bench.StrataPebble(t.TempDir()), bench.RawPebble(t.TempDir())}
}

// redisFactories returns strata on Redis and the Redis floor, on a
// redis-server of the test's own (see redistest.Start: it skips loudly
// when there is none, or fails where STRATA_TEST_REDIS=require).
func redisFactories(t testing.TB) []bench.Factory {
	srv := redistest.Start(t)
	return []bench.Factory{bench.StrataRedis(srv.Addr()), bench.RawRedis(srv.Addr())}
}

// TestWorkloads runs every workload once on strata over mem and Pebble and
// on the Pebble floor at a tiny N, checking that each runs and returns the
// right counts (Run fails on a wrong one). It asserts nothing about time.
func TestWorkloads(t *testing.T) { checkWorkloads(t, localFactories(t)) }

// TestWorkloadsRedis is TestWorkloads on strata over Redis and the Redis
// floor.
func TestWorkloadsRedis(t *testing.T) { checkWorkloads(t, redisFactories(t)) }

func checkWorkloads(t *testing.T, fs []bench.Factory) {
	ctx := context.Background()
	o := bench.Options{Ns: []int{200}, Samples: 1, SampleTime: time.Nanosecond, LogCommits: 20}
	res, err := bench.Run(ctx, o, fs)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bench.Result{}
	for _, r := range res {
		if r.Skipped != "" {
			t.Errorf("%s: %s", r.ID(), r.Skipped)
		}
		got[r.ID()] = r
	}
	for _, f := range fs {
		layouts := bench.Layouts
		if f.Floor {
			layouts = []bench.Layout{bench.Flat}
		}
		for _, l := range layouts {
			for _, w := range bench.Workloads {
				layout := l.String()
				if f.Floor {
					layout = "-"
				}
				id := bench.Result{Workload: w, Layout: layout, N: 200, Backend: f.Name}.ID()
				supported := !f.Floor || w == bench.WLoad || w == bench.WSet || w == bench.WGet
				if w == bench.WMem {
					supported = f.Name == "strata-mem"
				}
				r, ok := got[id]
				if ok != supported {
					t.Errorf("%s: measured %v, want %v", id, ok, supported)
					continue
				}
				if ok && w != bench.WMem && (r.MedianNs <= 0 || r.Samples < 1) {
					t.Errorf("%s: no time: %+v", id, r)
				}
				if ok && w == bench.WMem && r.BytesPerKey <= 0 {
					t.Errorf("%s: no bytes per key: %+v", id, r)
				}
			}
		}
	}
	if c := got["log/flat/200/"+fs[0].Name].Count; c != 3 {
		t.Errorf("log count %d, want 3 (the load and 2 of 20 commits)", c)
	}

	var buf bytes.Buffer
	topt := bench.TableOptions{Peers: []string{fs[1].Name}}
	if err := bench.WriteTable(&buf, res, topt); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), fs[len(fs)-1].Name) || strings.Count(buf.String(), "\n") != len(res)+1 {
		t.Errorf("table:\n%s", buf.String())
	}
	file := filepath.Join(t.TempDir(), "out.json")
	if err := bench.WriteJSON(file, bench.NewReport("test", time.Now(), res, topt)); err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if b, err := os.ReadFile(file); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != len(res) || len(rep.Ratios) == 0 {
		t.Errorf("report has %d results and %d ratios", len(rep.Results), len(rep.Ratios))
	}
}

func TestOnly(t *testing.T) {
	o := bench.Options{Ns: []int{50}, Samples: 1, SampleTime: time.Nanosecond, LogCommits: 10}
	o.Only = regexpMust(t, `^(get|ls)/nested/`)
	res, err := bench.Run(context.Background(), o, []bench.Factory{bench.StrataMem()})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range res {
		ids = append(ids, r.ID())
	}
	if want := []string{"get/nested/50/strata-mem", "ls/nested/50/strata-mem"}; !slices.Equal(ids, want) {
		t.Errorf("got %q, want %q", ids, want)
	}
}

// TestLoadRepeats checks that a sample of loads shorter than SampleTime
// repeats the load on new targets and counts their mean time, that the
// first load follows a collection and no timed load the forced
// collections of the mem workload, whose
// heap figure comes from loads of its own (Samples of them, after the
// timed ones), and that the workloads after it run on the last target
// loaded.
func TestLoadRepeats(t *testing.T) {
	mem := bench.StrataMem()
	var gcs []uint32 // the collections since the last load ended (or the test began), at each load
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	last := ms.NumGC
	counted := bench.Factory{Name: mem.Name, New: func(ctx context.Context) (bench.Target, error) {
		tg, err := mem.New(ctx)
		return &gcCounted{Target: tg, at: func(begin bool) {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if begin {
				gcs = append(gcs, ms.NumGC-last)
			}
			last = ms.NumGC
		}}, err
	}}
	o := bench.Options{Ns: []int{100}, Samples: 2, SampleTime: 50 * time.Millisecond}
	o.Only = regexpMust(t, `^(load|get|mem)/flat/`)
	res, err := bench.Run(context.Background(), o, []bench.Factory{counted})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bench.Result{}
	for _, r := range res {
		got[r.Workload] = r
	}
	load := got[bench.WLoad]
	if load.Samples != 2 || load.OpsPerSample < 2 || load.MedianNs <= 0 || load.MedianNs >= float64(o.SampleTime) {
		t.Errorf("load of 100 keys, 2 samples of at least %v: %d samples of up to %d loads, median %v",
			o.SampleTime, load.Samples, load.OpsPerSample, time.Duration(load.MedianNs))
	}
	// The warm-up load, at least OpsPerSample in one sample and one in
	// the other, then the mem workload's two, each after the two forced
	// collections of its own measure and the two of the one before it.
	if len(gcs) < 4+load.OpsPerSample {
		t.Errorf("%d loads, want at least %d", len(gcs), 4+load.OpsPerSample)
	} else {
		n := len(gcs)
		if gcs[0] < 1 {
			t.Errorf("the first load follows no collection")
		}
		for i, g := range gcs[:n-2] {
			if g >= 2 {
				t.Errorf("load %d of %d follows %d collections", i+1, n, g)
			}
		}
		if gcs[n-2] < 2 || gcs[n-1] < 4 {
			t.Errorf("the mem workload's loads follow %d and %d collections, want at least 2 and 4", gcs[n-2], gcs[n-1])
		}
	}
	if r := got[bench.WGet]; r.MedianNs <= 0 {
		t.Errorf("get after the loads: %+v", r)
	}
	if r := got[bench.WMem]; r.BytesPerKey <= 0 || r.Samples != o.Samples {
		t.Errorf("mem after the loads: %d samples (want %d), %.0f bytes per key", r.Samples, o.Samples, r.BytesPerKey)
	}
}

// TestGetWarmUp checks that the get workload reads every key once, in key
// order and before its timed gets, so that the samples find what a first
// read makes already made; and that the warm-up of a target whose gets
// are slow stops after a quarter of Budget, the workload still measured.
func TestGetWarmUp(t *testing.T) {
	const n = 300
	d := bench.Dataset{Layout: bench.Flat, N: n}
	for _, tc := range []struct {
		name   string
		delay  time.Duration // of each Get
		budget time.Duration
		most   int // warm-up reads: exactly n, or at most this
	}{
		{"every key", 0, 10 * time.Second, n},
		// A quarter of the budget is 50 ms: the read that passes it is
		// at most the 26th, each taking at least 2 ms.
		{"slow", 2 * time.Millisecond, 200 * time.Millisecond, 26},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := bench.StrataMem()
			var keys []string
			f := bench.Factory{Name: mem.Name, New: func(ctx context.Context) (bench.Target, error) {
				tg, err := mem.New(ctx)
				return &getsRecorded{Target: tg, delay: tc.delay, keys: &keys}, err
			}}
			o := bench.Options{Ns: []int{n}, Layouts: []bench.Layout{bench.Flat}, Samples: 2, SampleTime: 5 * time.Millisecond, Budget: tc.budget}
			o.Only = regexpMust(t, `^get/`)
			res, err := bench.Run(context.Background(), o, []bench.Factory{f})
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 1 || res[0].Skipped != "" || res[0].MedianNs <= 0 {
				t.Fatalf("results %+v, want one measured get", res)
			}
			// keys[0] is the get that checks one value; the warm-up's
			// follow it, then the samples' random ones.
			warm := 0
			for warm+1 < len(keys) && keys[warm+1] == d.Key(warm) {
				warm++
			}
			switch {
			case tc.most == n && warm != n:
				t.Errorf("%d keys read in order before the samples, want all %d", warm, n)
			case warm < 1 || warm > tc.most:
				t.Errorf("%d keys read in order before the samples, want 1 to %d", warm, tc.most)
			}
			if len(keys) <= warm+1 {
				t.Errorf("%d gets in all: no timed get after the warm-up's %d", len(keys), warm)
			}
			want := ""
			if warm < n {
				want = fmt.Sprintf("warm-up read %d of %d keys", warm, n)
			}
			if res[0].Note != want {
				t.Errorf("note %q, want %q", res[0].Note, want)
			}
		})
	}
}

// TestAllocsOfTheOperation checks that a workload's allocations per
// operation are the operation's alone: on a target whose Get allocates
// nothing, the get workload reports 0 allocations and 0 bytes (the
// harness once counted its own few allocations a sample too).
func TestAllocsOfTheOperation(t *testing.T) {
	mem := bench.StrataMem()
	f := bench.Factory{Name: mem.Name, New: func(ctx context.Context) (bench.Target, error) {
		tg, err := mem.New(ctx)
		return &getsFromMap{Target: tg}, err
	}}
	o := bench.Options{Ns: []int{200}, Layouts: []bench.Layout{bench.Flat}, Samples: 3, SampleTime: 5 * time.Millisecond}
	o.Only = regexpMust(t, `^get/`)
	res, err := bench.Run(context.Background(), o, []bench.Factory{f})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Samples != 3 || res[0].OpsPerSample < 1 {
		t.Fatalf("results %+v, want one get of 3 samples", res)
	}
	if r := res[0]; r.AllocsPerOp != 0 || r.BytesPerOp != 0 {
		t.Errorf("a get that allocates nothing: %g allocations and %g bytes an operation, want 0 (%d samples of %d)",
			r.AllocsPerOp, r.BytesPerOp, r.Samples, r.OpsPerSample)
	}
}

// getsFromMap is a Target whose Get returns the value Load stored from a
// map made by Load, allocating nothing.
type getsFromMap struct {
	bench.Target
	values map[string][]byte
}

func (g *getsFromMap) Load(ctx context.Context, d bench.Dataset) (bench.Rev, error) {
	g.values = make(map[string][]byte, d.N)
	for i := range d.N {
		g.values[d.Key(i)] = d.Value(i, 0)
	}
	return g.Target.Load(ctx, d)
}

func (g *getsFromMap) Get(ctx context.Context, key string) ([]byte, error) {
	return g.values[key], nil
}

// getsRecorded is a Target that appends the key of each Get to keys,
// after sleeping delay.
type getsRecorded struct {
	bench.Target
	delay time.Duration
	keys  *[]string
}

func (g *getsRecorded) Get(ctx context.Context, key string) ([]byte, error) {
	*g.keys = append(*g.keys, key)
	time.Sleep(g.delay)
	return g.Target.Get(ctx, key)
}

// gcCounted is a Target that calls at(true) as each Load begins and
// at(false) as it ends.
type gcCounted struct {
	bench.Target
	at func(begin bool)
}

func (g *gcCounted) Load(ctx context.Context, d bench.Dataset) (bench.Rev, error) {
	g.at(true)
	defer g.at(false)
	return g.Target.Load(ctx, d)
}

func TestDataset(t *testing.T) {
	for _, d := range []bench.Dataset{{bench.Flat, 1000}, {bench.Nested, 1000}, {bench.Nested, 100_000}, {bench.Nested, 200}} {
		prev := ""
		dirs := map[string]int{}
		for i := 0; i < d.N; i++ {
			k := d.Key(i)
			if k <= prev {
				t.Fatalf("%v: key %d %q does not sort after %q", d, i, k, prev)
			}
			prev = k
			dir, name := d.Split(i)
			if dir+"/"+name != k {
				t.Fatalf("%v: Split(%d) = %q, %q; key %q", d, i, dir, name, k)
			}
			dirs[dir]++
			if v := d.Value(i, 7); len(v) != bench.ValueSize {
				t.Fatalf("value %q has %d bytes", v, len(v))
			}
		}
		if d.Layout == bench.Nested {
			if len(dirs) != d.Dirs() {
				t.Errorf("%v: %d directories, want %d", d, len(dirs), d.Dirs())
			}
			for dir, n := range dirs {
				if n != d.N/d.Dirs() {
					t.Errorf("%v: %s has %d keys, want %d", d, dir, n, d.N/d.Dirs())
				}
			}
		}
	}
}

// -strata.n sets the sizes of the testing.B benchmarks (1,000,000 makes a
// run of several minutes).
var benchNs = flag.String("strata.n", "1000,100000", "store sizes N of the benchmarks, comma-separated")

func sizes(b *testing.B) []int {
	var ns []int
	for _, f := range strings.Split(*benchNs, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			b.Fatalf("-strata.n: %q is not a positive count", f)
		}
		ns = append(ns, n)
	}
	return ns
}

// BenchmarkStrata runs the workloads as testing.B benchmarks, per backend,
// layout and N: go test -bench Strata/strata-mem/flat ./bench
// The Redis backends are left out when redis-server is not installed.
func BenchmarkStrata(b *testing.B) {
	fs := localFactories(b)
	if _, err := exec.LookPath("redis-server"); err == nil {
		fs = append(fs, redisFactories(b)...)
	} else {
		b.Log("*** redis-server not found: the Redis backends are not measured ***")
	}
	for _, f := range fs {
		layouts := bench.Layouts
		if f.Floor {
			layouts = layouts[:1]
		}
		for _, l := range layouts {
			for _, n := range sizes(b) {
				b.Run(fmt.Sprintf("%s/%s/N=%d", f.Name, l, n), func(b *testing.B) {
					benchGroup(b, f, bench.Dataset{Layout: l, N: n})
				})
			}
		}
	}
}

func benchGroup(b *testing.B, f bench.Factory, d bench.Dataset) {
	ctx := context.Background()
	newTarget := func(b *testing.B) bench.Target {
		t, err := f.New(ctx)
		if err != nil {
			b.Fatal(err)
		}
		return t
	}
	b.Run("load", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			t := newTarget(b)
			b.StartTimer()
			if _, err := t.Load(ctx, d); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if err := t.Close(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(d.N)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
	})
	t := newTarget(b)
	defer t.Close()
	head, err := t.Load(ctx, d)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	if t.Supports(bench.WGet) {
		b.Run("get", func(b *testing.B) {
			if _, err := bench.WarmGets(ctx, t, d, 2*time.Second); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := t.Get(ctx, d.Key(rng.IntN(d.N))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	if t.Supports(bench.WLs) {
		b.Run("ls", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := t.List(ctx, bench.Dir, 100); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	if t.Supports(bench.WLog) {
		if head, err = bench.MakeHistory(ctx, t, d, rng, 1000, nil); err != nil {
			b.Fatal(err)
		}
		b.Run("log", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := t.LogPath(ctx, d.Key(bench.LogKey(d))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	if t.Supports(bench.WDiff) {
		from := head
		to, err := t.Commit(ctx, bench.DiffChanges(d, rng, 10))
		if err != nil {
			b.Fatal(err)
		}
		b.Run("diff", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := t.Diff(ctx, from, to); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	if t.Supports(bench.WSet) {
		gen := 3_000_000
		b.Run("set", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				k := rng.IntN(d.N)
				gen++
				if _, err := t.Commit(ctx, []bench.Change{{Key: d.Key(k), Value: d.Value(k, gen)}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDatasetFormat checks that Key, Split and Value give the bytes of the
// fmt formats they replace (the stores' data must not change), widths
// overflowed and wrapped included.
func TestDatasetFormat(t *testing.T) {
	is := []int{0, 1, 9, 10, 999, 1000, 12345, 99_999_999, 100_000_000, 123_456_789_012}
	for _, d := range []bench.Dataset{{bench.Flat, 1_000_000}, {bench.Nested, 1_000_000}, {bench.Nested, 200}} {
		for _, i := range is {
			if i >= d.N && d.N < 1000 {
				continue
			}
			want := fmt.Sprintf("d/k%08d", i)
			wantDir := "d"
			if d.Layout == bench.Nested {
				wantDir = fmt.Sprintf("d/s%03d", i*d.Dirs()/d.N)
				want = fmt.Sprintf("%s/k%08d", wantDir, i)
			}
			if got := d.Key(i); got != want {
				t.Errorf("%v: Key(%d) = %q, want %q", d, i, got, want)
			}
			if dir, name := d.Split(i); dir != wantDir || name != fmt.Sprintf("k%08d", i) {
				t.Errorf("%v: Split(%d) = %q, %q", d, i, dir, name)
			}
			for _, gen := range []int{0, 7, 9_999_999, 12_345_678} {
				want := fmt.Sprintf("value-%010d-%07d", i%1e10, gen%1e7)
				if got := d.Value(i, gen); string(got) != want {
					t.Errorf("Value(%d, %d) = %q, want %q", i, gen, got, want)
				}
			}
		}
	}
}
