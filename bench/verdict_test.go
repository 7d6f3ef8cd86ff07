package bench

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// passing returns a stratabench run's and a peerbench run's results in
// which every issue-11 target these reports decide is met, each with a
// little room.
func passing() (full, peer []Result) {
	r := func(w, layout string, n int, backend string, ns float64) Result {
		return Result{Workload: w, Layout: layout, N: n, Backend: backend, MedianNs: ns, Items: 1}
	}
	for _, n := range []int{1000, 100_000, 1_000_000} {
		full = append(full,
			r(WSet, "-", n, "raw-redis", 50_000),
			r(WSet, "-", n, "raw-pebble", 400_000))
		for _, l := range []string{"flat", "nested"} {
			set := r(WSet, l, n, "strata-mem", 12_000)
			set.BytesPerOp, set.AllocsPerOp = 6000, 14
			get := r(WGet, l, n, "strata-mem", 1200)
			get.AllocsPerOp = 1
			mem := Result{Workload: WMem, Layout: l, N: n, Backend: "strata-mem", BytesPerKey: 220, OverheadPerKey: 180}
			g8p := r(WGroup8, l, n, "strata-pebble", 90_000)
			g8p.P50Ns, g8p.P99Ns = 600_000, 2_000_000
			g8r := r(WGroup8, l, n, "strata-redis", 40_000)
			g8r.P50Ns, g8r.P99Ns = 300_000, 900_000
			full = append(full, set, get, mem,
				r(WSet, l, n, "strata-redis", 90_000),
				r(WSet, l, n, "strata-pebble", 450_000),
				r(WGroup1, l, n, "strata-pebble", 400_000), g8p,
				r(WGroup1, l, n, "strata-redis", 100_000), g8r)
			peer = append(peer, set, get, mem,
				r(WSet, l, n, "dolt", 4_000_000),
				r(WSet, l, n, "go-git", 60_000_000),
				r(WLoad, l, n, "strata-mem", float64(n)*100),
				r(WLoad, l, n, "dolt", float64(n)*300))
		}
	}
	return full, peer
}

// verdicts maps each target's name to whether it is met and its rows'
// labels that are not.
func verdicts(vs []Verdict) map[string][]string {
	out := map[string][]string{}
	for _, v := range vs {
		var bad []string
		for _, r := range v.Rows {
			if !r.Met {
				bad = append(bad, r.Label)
			}
		}
		bad = append(bad, v.Missing...)
		if !v.Met() && v.Note == "" && len(bad) == 0 {
			bad = []string{"(no rows)"}
		}
		out[v.Target] = bad
	}
	return out
}

func TestIssue11Verdicts(t *testing.T) {
	full, peer := passing()
	vs := Issue11(full, peer)
	for _, v := range vs {
		if v.Note != "" {
			if v.Met() || len(v.Rows) > 0 {
				t.Errorf("%s: a target these reports do not measure has rows or is met", v.Target)
			}
			continue
		}
		if !v.Met() {
			t.Errorf("%s: not met on results that meet it: %+v", v.Target, v)
		}
	}
	if len(vs) != 16 {
		t.Errorf("%d targets, want 16 (issue 11 names 16 figures)", len(vs))
	}
	want := verdicts(vs)
	const dolt = "set+commit, mem, 10⁵ keys in one directory ≥ 100× faster than dolt (peer run)"

	// Each change below fails exactly the rows named, each against the
	// target's own limit, and no other target.
	for _, c := range []struct {
		name   string
		change func(full, peer []Result)
		target string
		rows   []string
	}{
		{"commit over 15 µs", func(full, peer []Result) {
			at(full, WSet, "flat", 100_000, "strata-mem").MedianNs = 15_001
		}, "set+commit, mem, 10⁵ keys in one directory ≤ 15 µs", []string{"full flat 10⁵"}},
		{"over 8 KB", func(full, peer []Result) { at(peer, WSet, "flat", 100_000, "strata-mem").BytesPerOp = 8193 },
			"… ≤ 8 KB (8,192 B) allocated per commit", []string{"peer flat 10⁵"}},
		{"10⁶ over 1.5× 10³", func(full, peer []Result) { at(peer, WSet, "nested", 1_000_000, "strata-mem").MedianNs = 18_001 },
			"set+commit, mem, at 10⁶ keys ≤ 1.5× at 10³", []string{"peer nested 10⁶"}},
		{"Dolt under 100×", func(full, peer []Result) { at(peer, WSet, "flat", 100_000, "dolt").MedianNs = 1_199_000 },
			dolt, []string{"peer flat 10⁵"}},
		{"Dolt under 100× where the issue names no figure", func(full, peer []Result) {
			at(peer, WSet, "nested", 1000, "dolt").MedianNs = 1_199_000
		}, dolt, nil},
		{"go-git under 2,000×", func(full, peer []Result) { at(peer, WSet, "flat", 100_000, "go-git").MedianNs = 23_999_000 },
			"set+commit, mem, 10⁵ keys in one directory ≥ 2000× faster than go-git (peer run)", []string{"peer flat 10⁵"}},
		{"Redis over 2×", func(full, peer []Result) { at(full, WSet, "-", 100_000, "raw-redis").MedianNs = 44_000 },
			"Redis set+commit, 10⁵ keys ≤ 2× one SET round trip", []string{"full flat 10⁵", "full nested 10⁵"}},
		{"Redis over 2× at 10³", func(full, peer []Result) { at(full, WSet, "-", 1000, "raw-redis").MedianNs = 44_000 },
			"Redis set+commit, 10⁵ keys ≤ 2× one SET round trip", nil},
		{"Pebble over 1.2×", func(full, peer []Result) { at(full, WSet, "nested", 100_000, "strata-pebble").MedianNs = 480_001 },
			"Pebble set+commit, 10⁵ keys ≤ 1.2× one synced put", []string{"full nested 10⁵"}},
		{"Pebble group under 4×", func(full, peer []Result) { at(full, WGroup8, "flat", 100_000, "strata-pebble").MedianNs = 100_001 },
			"group commit, Pebble: 8 writers ≥ 4× the commits/s of 1", []string{"full flat 10⁵"}},
		{"Redis group under 2×", func(full, peer []Result) { at(full, WGroup1, "nested", 1000, "strata-redis").MedianNs = 79_999 },
			"group commit, Redis: 8 writers ≥ 2× the commits/s of 1", []string{"full nested 10³"}},
		{"p99 over 5× p50", func(full, peer []Result) { at(full, WGroup8, "nested", 100_000, "strata-redis").P99Ns = 1_500_001 },
			"group commit, 8 writers: p99 latency ≤ 5× p50", []string{"Redis nested 10⁵"}},
		{"get over 1.5 µs", func(full, peer []Result) { at(full, WGet, "nested", 1_000_000, "strata-mem").MedianNs = 1501 },
			"get, warm, mem, 10⁶ keys ≤ 1.5 µs", []string{"full nested 10⁶"}},
		{"get allocates", func(full, peer []Result) { at(peer, WGet, "flat", 1_000_000, "strata-mem").AllocsPerOp = 1.01 },
			"… 0 allocations beyond the value (1 a get)", []string{"peer flat 10⁶"}},
		{"load under 2× Dolt", func(full, peer []Result) { at(peer, WLoad, "flat", 1_000_000, "dolt").MedianNs = 199_999_000 },
			"bulk load, 10⁶ keys ≥ 2× Dolt's (peer run)", []string{"peer flat 10⁶"}},
		{"small directories under 1×", func(full, peer []Result) { at(peer, WLoad, "nested", 1000, "dolt").MedianNs = 99_999 },
			"bulk load, 1,000 one-key directories ≥ 1× Dolt's (peer run)", []string{"peer nested 10³"}},
		{"memory over 200 B/key", func(full, peer []Result) { at(full, WMem, "nested", 1000, "strata-mem").OverheadPerKey = 201 },
			"memory, 1,000 keys in 1,000 directories ≤ 200 B/key beyond key and value", []string{"full nested 10³"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			full, peer := passing()
			c.change(full, peer)
			got := verdicts(Issue11(full, peer))
			w := map[string][]string{}
			for k, v := range want {
				w[k] = v
			}
			if _, ok := w[c.target]; !ok {
				t.Fatalf("no target %q", c.target)
			}
			w[c.target] = c.rows
			if d := cmp.Diff(w, got); d != "" {
				t.Errorf("verdicts (-want +got):\n%s", d)
			}
		})
	}

	// A backend left out: its targets' rows are missing, so not met.
	t.Run("no Redis", func(t *testing.T) {
		full, peer := passing()
		full = slices.DeleteFunc(full, func(r Result) bool { return strings.HasSuffix(r.Backend, "redis") })
		for _, v := range Issue11(full, peer) {
			redis := strings.Contains(v.Target, "Redis") || strings.Contains(v.Target, "p99")
			if redis != !v.Met() && v.Note == "" {
				t.Errorf("%s: met %v without the Redis rows (missing %v)", v.Target, v.Met(), v.Missing)
			}
		}
	})
	// A skipped workload does not count as measured.
	t.Run("skipped", func(t *testing.T) {
		full, peer := passing()
		at(peer, WSet, "flat", 100_000, "go-git").Skipped = "skipped: one op took 31s >30s"
		got := verdicts(Issue11(full, peer))["set+commit, mem, 10⁵ keys in one directory ≥ 2000× faster than go-git (peer run)"]
		if d := cmp.Diff([]string{"peer flat 10⁵"}, got); d != "" {
			t.Errorf("rows not met (-want +got):\n%s", d)
		}
	})
}

// at returns the result of rs named by the rest, which must be there.
func at(rs []Result, workload, layout string, n int, backend string) *Result {
	for i, r := range rs {
		if r.Workload == workload && r.Layout == layout && r.N == n && r.Backend == backend {
			return &rs[i]
		}
	}
	panic("no result " + workload + "/" + layout + "/" + backend)
}

func TestVerdictCommand(t *testing.T) {
	full, peer := passing()
	at(full, WGet, "flat", 1_000_000, "strata-mem").MedianNs = 1700
	dir := t.TempDir()
	fp, pp := filepath.Join(dir, "strata.json"), filepath.Join(dir, "peers.json")
	if err := WriteJSON(fp, NewReport("stratabench -q -json strata.json", time.Now(), full, TableOptions{})); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(pp, NewReport("peerbench -q -json peers.json", time.Now(), peer, TableOptions{Peers: []string{"go-git", "dolt"}})); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-verdict", pp + "," + fp}, {"-verdict", fp + "," + pp}} {
		var out, errb bytes.Buffer
		if code := Command(t.Context(), "stratabench", args, &out, &errb, "strata-mem", nil, nil); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		for _, line := range []string{
			"| get, warm, mem, 10⁶ keys ≤ 1.5 µs | full flat 10⁶ 1.70µs; **full nested 10⁶ 1.20µs**; **peer flat 10⁶ 1.20µs**; **peer nested 10⁶ 1.20µs** | not met (3 of 4) |",
			"| set+commit, mem, 10⁵ keys in one directory ≤ 15 µs | **full flat 10⁵ 12.0µs**; **peer flat 10⁵ 12.0µs** | **met** (2 of 2) |",
			"| set+commit, mem, 10⁵ keys in one directory ≥ 100× faster than dolt (peer run) | **peer flat 10⁵ 333×**; (not deciding: peer flat 10³ 333×, peer flat 10⁶ 333×, peer nested 10³ 333×, peer nested 10⁵ 333×, peer nested 10⁶ 333×) | **met** (1 of 1) |",
			"| MergeBase, heads 10,000 commits apart, Pebble, cold cache ≤ 50 ms | not in these reports: go test -run '^$' -bench 'MergeBase10k$' . | not judged here |",
		} {
			if !strings.Contains(out.String(), line+"\n") {
				t.Errorf("%v: output lacks\n%s\nin\n%s", args, line, out.String())
			}
		}
	}
	// Two reports of one kind, or a file that is not a report: exit 2.
	for _, arg := range []string{fp + "," + fp, fp + "," + filepath.Join(dir, "absent.json")} {
		var out, errb bytes.Buffer
		if code := Command(t.Context(), "stratabench", []string{"-verdict", arg}, &out, &errb, "strata-mem", nil, nil); code != 2 || errb.Len() == 0 {
			t.Errorf("-verdict %s: exit %d, stderr %q; want 2 and a message", arg, code, errb.String())
		}
	}
}
