package bench

import (
	"context"
	"os"
	"sort"
	"strconv"
	"testing"

	"github.com/stratakv/strata"
)

// envInt returns the integer in environment variable name, or def.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestGCWorkload: the GC workload runs on a small fixture and marks every
// object (nothing in it is unreachable).
func TestGCWorkload(t *testing.T) {
	ctx := context.Background()
	dir, err := GCFixture(ctx, t.TempDir(), 3000, 50)
	if err != nil {
		t.Fatal(err)
	}
	r, err := MeasureGC(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Stats.Marked == 0 || r.Stats.Marked != r.Stats.Listed || r.Stats.Deleted != 0 {
		t.Errorf("GC of the fixture: %+v; want every listed object marked, none to delete", r.Stats)
	}
}

// BenchmarkGCMark measures GC's mark on issue 15's fixture: a Pebble
// store with STRATA_BENCH_GC_KEYS keys (default 1,000,000) bulk loaded
// and STRATA_BENCH_GC_COMMITS single-key commits (default 10,000) on
// top. Each iteration reopens the store and runs a dry-run GC; it
// reports the median mark rate (objects marked per second of the mark,
// the scan included), the median whole GC time and the object count.
// Sub-benchmark "scan" is GC as it runs on Pebble (one scan of the
// objects, links kept in memory); "walk" is GC reading the reachable
// objects one by one (strata.GCNoScan), the way it marked before the
// scan, for a side-by-side ratio.
func BenchmarkGCMark(b *testing.B) {
	ctx := context.Background()
	keys := envInt("STRATA_BENCH_GC_KEYS", 1_000_000)
	commits := envInt("STRATA_BENCH_GC_COMMITS", 10_000)
	dir, err := GCFixture(ctx, "", keys, commits)
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for _, mode := range []struct {
		name string
		opts []strata.GCOption
	}{
		{"scan", []strata.GCOption{strata.DryRun()}},
		{"walk", []strata.GCOption{strata.DryRun(), strata.GCNoScan()}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			var rates, cpuRates, gcTimes []float64
			var last GCResult
			for b.Loop() {
				r, err := MeasureGC(ctx, dir, mode.opts...)
				if err != nil {
					b.Fatal(err)
				}
				rates = append(rates, r.MarkRate)
				cpuRates = append(cpuRates, r.CPURate)
				gcTimes = append(gcTimes, r.Stats.Elapsed.Seconds())
				last = r
			}
			b.StopTimer()
			sort.Float64s(rates)
			sort.Float64s(cpuRates)
			sort.Float64s(gcTimes)
			b.ReportMetric(rates[len(rates)/2], "marked/s")
			b.ReportMetric(cpuRates[len(cpuRates)/2], "marked/cpu-s")
			b.ReportMetric(float64(last.Stats.Marked), "objects")
			b.ReportMetric(gcTimes[len(gcTimes)/2], "gc-s")
			b.Logf("keys %d, commits %d: %d objects, %d refs, scanned %v; last mark %.2f s, last GC %.2f s; median %.0f objects/s (wall), %.0f objects per CPU second, GC %.2f s, over %d runs (all: %.0f)",
				keys, commits, last.Stats.Marked, last.Stats.Refs, last.Stats.Scanned, last.Stats.MarkTime.Seconds(), last.Stats.Elapsed.Seconds(),
				rates[len(rates)/2], cpuRates[len(cpuRates)/2], gcTimes[len(gcTimes)/2], len(rates), rates)
		})
	}
}

// BenchmarkFsckHistory measures Fsck of a Pebble store with a long
// linear history: STRATA_BENCH_FSCK_COMMITS single-key commits (default
// 5,000) over 1,000 keys. Each iteration reopens the store and checks
// every branch; it reports the commits checked per second. Before the
// descriptions of where an object was reached became lazy, the work grew
// with the square of the history's length.
func BenchmarkFsckHistory(b *testing.B) {
	ctx := context.Background()
	commits := envInt("STRATA_BENCH_FSCK_COMMITS", 5_000)
	dir, err := GCFixture(ctx, "", 1000, commits)
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var checked int
	b.ResetTimer()
	for b.Loop() {
		kv, err := strata.Open(ctx, dir)
		if err != nil {
			b.Fatal(err)
		}
		rep, err := kv.Fsck(ctx)
		if cerr := kv.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Problems) != 0 {
			b.Fatalf("fsck of the fixture: %v", rep.Problems)
		}
		checked = rep.Commits
	}
	b.StopTimer()
	b.ReportMetric(float64(checked)*float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}
