package bench_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stratakv/strata/bench"
)

// TestGroupWorkloads runs the group-commit workloads once at a tiny N on
// strata over mem, Pebble and Redis: each strata backend gets a result for
// 1 and 8 writers on one branch and 8 writers on a branch each, with a
// rate, p50/p99 latency and allocation figures, and the 8 writers are
// compared with 1 in the ratio column; the floors, which cannot commit
// concurrently, get none. It asserts nothing about time.
func TestGroupWorkloads(t *testing.T) {
	fs := append(localFactories(t), redisFactories(t)...)
	o := bench.Options{Ns: []int{200}, Layouts: []bench.Layout{bench.Flat}, Samples: 1,
		SampleTime: time.Nanosecond, Only: regexpMust(t, `^(group|branch)`)}
	res, err := bench.Run(context.Background(), o, fs)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bench.Result{}
	for _, r := range res {
		got[r.ID()] = r
	}
	for _, f := range fs {
		for _, w := range bench.GroupWorkloads {
			layout := "flat"
			if f.Floor {
				layout = "-"
			}
			id := bench.Result{Workload: w, Layout: layout, N: 200, Backend: f.Name}.ID()
			r, ok := got[id]
			if ok == f.Floor {
				t.Errorf("%s: measured %v, want %v", id, ok, !f.Floor)
				continue
			}
			if !ok {
				continue
			}
			if r.Skipped != "" || r.MedianNs <= 0 || r.P50Ns <= 0 || r.P99Ns < r.P50Ns || r.BytesPerOp <= 0 || r.AllocsPerOp <= 0 {
				t.Errorf("%s: incomplete: %+v", id, r)
			}
			if r.OpsPerSample < 400 || r.OpsPerSample%bench.GroupWriters(w) != 0 {
				t.Errorf("%s: %d commits per sample", id, r.OpsPerSample)
			}
		}
	}
	rep := bench.NewReport("test", time.Now(), res, bench.TableOptions{})
	for _, w := range []string{bench.WGroup8, bench.WBranch8} {
		groupRatios := 0
		for _, x := range rep.Ratios {
			if strings.HasPrefix(x.ID, w+"/") && x.Vs == bench.WGroup1 {
				groupRatios++
			}
		}
		if groupRatios != 3 {
			t.Errorf("%d %s÷group1 ratios, want 3: %+v", groupRatios, w, rep.Ratios)
		}
	}
	var buf bytes.Buffer
	if err := bench.WriteTable(&buf, res, bench.TableOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "allocs/op") || !strings.Contains(buf.String(), "faults/op") || !strings.Contains(buf.String(), "p99") {
		t.Errorf("table:\n%s", buf.String())
	}
}
