package bench

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/issue11-verdicts.md from Issue11 of the fixture")

// fixture returns a stratabench run's and a peerbench run's results in
// which every issue-11 target these reports decide is met, with room, and
// no two rows of a target show the same figure: each (source, layout, N)
// has a factor of its own (1.00 to 1.22), and the two sides of a ratio
// scale by different factors (and the set's time grows with N at a rate
// of each source and layout's own), so that a target reading the wrong row
// prints a different figure (see TestIssue11Golden).
func fixture() (full, peer []Result) {
	r := func(w, layout string, n int, backend string, ns float64) Result {
		return Result{Workload: w, Layout: layout, N: n, Backend: backend, MedianNs: ns, Items: 1}
	}
	for ni, n := range []int{1000, 100_000, 1_000_000} {
		g := 1 + 0.1*float64(ni) // the floors' factor, by N
		full = append(full,
			r(WSet, "-", n, "raw-redis", 50_000*g),
			r(WSet, "-", n, "raw-pebble", 400_000*g))
		for li, l := range []string{"flat", "nested"} {
			for si := range 2 {
				i := float64(si*6 + li*3 + ni) // 0..11: peer rows after full ones
				f := 1 + 0.02*i
				// h spreads the set's growth with N by source and layout,
				// so that each row of 10⁶ against 10³ differs.
				h := 1 + 0.05*float64(ni)*float64(1+si+2*li)
				set := r(WSet, l, n, "strata-mem", 10_000*f*h)
				set.BytesPerOp, set.AllocsPerOp = 6000*f, 14
				get := r(WGet, l, n, "strata-mem", 1200*f)
				get.AllocsPerOp = 1 - 0.01*i
				mem := Result{Workload: WMem, Layout: l, N: n, Backend: "strata-mem", BytesPerKey: 220, OverheadPerKey: 150 + 2*i}
				if si == 0 {
					g8p := r(WGroup8, l, n, "strata-pebble", 80_000*(1+0.03*i))
					g8p.P50Ns, g8p.P99Ns = 600_000*f, 2_000_000*(1+0.04*i)
					g8r := r(WGroup8, l, n, "strata-redis", 40_000*(1+0.03*i))
					g8r.P50Ns, g8r.P99Ns = 300_000*f, 900_000*(1+0.04*i)
					full = append(full, set, get, mem,
						r(WSet, l, n, "strata-redis", 80_000*f),
						r(WSet, l, n, "strata-pebble", 420_000*f),
						r(WGroup1, l, n, "strata-pebble", 400_000*f), g8p,
						r(WGroup1, l, n, "strata-redis", 100_000*f), g8r)
					continue
				}
				peer = append(peer, set, get, mem,
					r(WSet, l, n, "dolt", 4_000_000*(1+0.03*i)),
					r(WSet, l, n, "go-git", 60_000_000*(1+0.05*i)),
					r(WLoad, l, n, "strata-mem", float64(n)*100*f),
					r(WLoad, l, n, "dolt", float64(n)*300*(1+0.03*i)))
			}
		}
	}
	return full, peer
}

// TestIssue11Golden pins every target's rows on the fixture: which rows
// decide it, which are shown beside it, and each one's figure. The golden
// file was checked against the issue's text by hand and by a separate
// computation of every figure from the fixture.
func TestIssue11Golden(t *testing.T) {
	full, peer := fixture()
	vs := Issue11(full, peer)
	for _, v := range vs {
		if v.Note == "" && !v.Met() {
			t.Errorf("%s: not met on the fixture, which meets it: %+v", v.Target, v)
		}
	}
	var got bytes.Buffer
	if err := WriteVerdicts(&got, vs); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "issue11-verdicts.md")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(got.String(), "\n")); d != "" {
		t.Errorf("verdicts of the fixture (-%s +got):\n%s", golden, d)
	}
}

// failing maps each target to the labels of its deciding rows that are
// not met or missing.
func failing(vs []Verdict) map[string][]string {
	out := map[string][]string{}
	for _, v := range vs {
		var bad []string
		for _, r := range v.Rows {
			if !r.Met {
				bad = append(bad, r.Label)
			}
		}
		out[v.Target] = append(bad, v.Missing...)
	}
	return out
}

// TestIssue11Limits puts one deciding row of each target exactly at its
// limit, where it is met, then just past it, where that row alone fails,
// and no other target changes.
func TestIssue11Limits(t *testing.T) {
	full, peer := fixture()
	base := failing(Issue11(full, peer))
	const (
		set15  = "set+commit, mem, 10⁵ keys in one directory ≤ 15 µs"
		kb8    = "… ≤ 8 KB (8,192 B) allocated per commit"
		scale  = "set+commit, mem, one directory: at 10⁶ keys ≤ 1.5× at 10³"
		dolt   = "set+commit, mem, 10⁵ keys in one directory ≥ 100× faster than dolt (peer run)"
		gogit  = "set+commit, mem, 10⁵ keys in one directory ≥ 2000× faster than go-git (peer run)"
		redis  = "Redis set+commit, 10⁵ keys ≤ 2× one SET round trip"
		pebble = "Pebble set+commit ≤ 1.2× one synced put"
		gPeb   = "group commit, Pebble: 8 writers ≥ 4× the commits/s of 1"
		gRed   = "group commit, Redis: 8 writers ≥ 2× the commits/s of 1"
		tail   = "group commit, 8 writers: p99 latency ≤ 5× p50"
		get    = "get, warm, mem, 10⁶ keys ≤ 1.5 µs"
		allocs = "… 0 allocations beyond the value (1 a get)"
		load   = "bulk load, 10⁶ keys ≥ 2× Dolt's (peer run)"
		dirs   = "bulk load, 1,000 one-key directories ≥ 1× Dolt's (peer run)"
		mem    = "memory, 1,000 keys in 1,000 directories ≤ 200 B/key beyond key and value"
	)
	for _, c := range []struct {
		target, row string
		// set sets the row's figure to the limit, or just past it.
		set func(full, peer []Result, past bool)
	}{
		{set15, "full flat 10⁵", func(full, peer []Result, past bool) {
			at(full, WSet, "flat", 100_000, "strata-mem").MedianNs = pick(past, 15_000, 15_001)
		}},
		{kb8, "peer flat 10⁵", func(full, peer []Result, past bool) {
			at(peer, WSet, "flat", 100_000, "strata-mem").BytesPerOp = pick(past, 8192, 8193)
		}},
		{scale, "peer flat 10⁶", func(full, peer []Result, past bool) {
			at(peer, WSet, "flat", 1000, "strata-mem").MedianNs = 10_000
			at(peer, WSet, "flat", 1_000_000, "strata-mem").MedianNs = pick(past, 15_000, 15_001)
		}},
		{dolt, "peer flat 10⁵", func(full, peer []Result, past bool) {
			at(peer, WSet, "flat", 100_000, "strata-mem").MedianNs = 10_000
			at(peer, WSet, "flat", 100_000, "dolt").MedianNs = pick(past, 1_000_000, 999_999)
		}},
		{gogit, "peer flat 10⁵", func(full, peer []Result, past bool) {
			at(peer, WSet, "flat", 100_000, "strata-mem").MedianNs = 10_000
			at(peer, WSet, "flat", 100_000, "go-git").MedianNs = pick(past, 20_000_000, 19_999_999)
		}},
		{redis, "full nested 10⁵", func(full, peer []Result, past bool) {
			at(full, WSet, "-", 100_000, "raw-redis").MedianNs = 50_000
			at(full, WSet, "nested", 100_000, "strata-redis").MedianNs = pick(past, 100_000, 100_001)
		}},
		{pebble, "full nested 10⁶", func(full, peer []Result, past bool) {
			at(full, WSet, "-", 1_000_000, "raw-pebble").MedianNs = 400_000
			at(full, WSet, "nested", 1_000_000, "strata-pebble").MedianNs = pick(past, 480_000, 480_001)
		}},
		{gPeb, "full flat 10³", func(full, peer []Result, past bool) {
			at(full, WGroup1, "flat", 1000, "strata-pebble").MedianNs = 400_000
			at(full, WGroup8, "flat", 1000, "strata-pebble").MedianNs = pick(past, 100_000, 100_001)
		}},
		{gRed, "full nested 10⁶", func(full, peer []Result, past bool) {
			at(full, WGroup1, "nested", 1_000_000, "strata-redis").MedianNs = 100_000
			at(full, WGroup8, "nested", 1_000_000, "strata-redis").MedianNs = pick(past, 50_000, 50_001)
		}},
		{tail, "Pebble nested 10⁵", func(full, peer []Result, past bool) {
			r := at(full, WGroup8, "nested", 100_000, "strata-pebble")
			r.P50Ns, r.P99Ns = 600_000, pick(past, 3_000_000, 3_000_001)
		}},
		{tail, "Redis flat 10³", func(full, peer []Result, past bool) {
			r := at(full, WGroup8, "flat", 1000, "strata-redis")
			r.P50Ns, r.P99Ns = 300_000, pick(past, 1_500_000, 1_500_001)
		}},
		{get, "full nested 10⁶", func(full, peer []Result, past bool) {
			at(full, WGet, "nested", 1_000_000, "strata-mem").MedianNs = pick(past, 1500, 1501)
		}},
		{allocs, "peer flat 10⁶", func(full, peer []Result, past bool) {
			at(peer, WGet, "flat", 1_000_000, "strata-mem").AllocsPerOp = pick(past, 1, 1.01)
		}},
		{load, "peer nested 10⁶", func(full, peer []Result, past bool) {
			at(peer, WLoad, "nested", 1_000_000, "strata-mem").MedianNs = 100_000_000
			at(peer, WLoad, "nested", 1_000_000, "dolt").MedianNs = pick(past, 200_000_000, 199_999_999)
		}},
		{dirs, "peer nested 10³", func(full, peer []Result, past bool) {
			at(peer, WLoad, "nested", 1000, "strata-mem").MedianNs = 100_000
			at(peer, WLoad, "nested", 1000, "dolt").MedianNs = pick(past, 100_000, 99_999)
		}},
		{mem, "full nested 10³", func(full, peer []Result, past bool) {
			at(full, WMem, "nested", 1000, "strata-mem").OverheadPerKey = pick(past, 200, 201)
		}},
	} {
		t.Run(c.target+"/"+c.row, func(t *testing.T) {
			if _, ok := base[c.target]; !ok {
				t.Fatalf("no target %q", c.target)
			}
			for _, past := range []bool{false, true} {
				full, peer := fixture()
				c.set(full, peer, past)
				want := map[string][]string{}
				for k, v := range base {
					want[k] = v
				}
				if past {
					want[c.target] = []string{c.row}
				}
				if d := cmp.Diff(want, failing(Issue11(full, peer))); d != "" {
					t.Errorf("past the limit %v: failing rows (-want +got):\n%s", past, d)
				}
			}
		})
	}

	// A row that does not decide its target fails nothing.
	t.Run("not deciding", func(t *testing.T) {
		full, peer := fixture()
		at(peer, WSet, "nested", 1000, "dolt").MedianNs = 1
		at(full, WSet, "flat", 1000, "strata-redis").MedianNs = 1e9
		at(peer, WSet, "nested", 1_000_000, "strata-mem").MedianNs = 1e9
		if d := cmp.Diff(base, failing(Issue11(full, peer))); d != "" {
			t.Errorf("failing rows (-want +got):\n%s", d)
		}
	})
	// No allocation at all is not "not measured".
	t.Run("zero allocations", func(t *testing.T) {
		full, peer := fixture()
		at(full, WGet, "flat", 1_000_000, "strata-mem").AllocsPerOp = 0
		if d := cmp.Diff(base, failing(Issue11(full, peer))); d != "" {
			t.Errorf("failing rows (-want +got):\n%s", d)
		}
	})
	// A backend left out: its targets' rows are missing, so not met.
	t.Run("no Redis", func(t *testing.T) {
		full, peer := fixture()
		full = slices.DeleteFunc(full, func(r Result) bool { return strings.HasSuffix(r.Backend, "redis") })
		got := failing(Issue11(full, peer))
		for _, target := range []string{redis, gRed, tail} {
			if len(got[target]) == 0 {
				t.Errorf("%s: met without the Redis rows", target)
			}
		}
		if d := cmp.Diff([]string{"full flat 10⁵", "full nested 10⁵"}, got[redis]); d != "" {
			t.Errorf("%s: missing rows (-want +got):\n%s", redis, d)
		}
		for _, target := range []string{redis, gRed, tail} {
			delete(got, target)
			delete(base, target)
		}
		if d := cmp.Diff(base, got); d != "" {
			t.Errorf("other targets (-want +got):\n%s", d)
		}
	})
	// A skipped workload does not count as measured.
	t.Run("skipped", func(t *testing.T) {
		full, peer := fixture()
		at(peer, WSet, "flat", 100_000, "go-git").Skipped = "skipped: one op took 31s >30s"
		if d := cmp.Diff([]string{"peer flat 10⁵"}, failing(Issue11(full, peer))[gogit]); d != "" {
			t.Errorf("failing rows (-want +got):\n%s", d)
		}
	})
}

func pick(past bool, at, beyond float64) float64 {
	if past {
		return beyond
	}
	return at
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
	full, peer := fixture()
	dir := t.TempDir()
	fp, pp := filepath.Join(dir, "strata.json"), filepath.Join(dir, "peers.json")
	if err := WriteJSON(fp, NewReport("stratabench -q -json strata.json", time.Now(), full, TableOptions{})); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(pp, NewReport("peerbench -q -json peers.json", time.Now(), peer, TableOptions{Peers: []string{"go-git", "dolt"}})); err != nil {
		t.Fatal(err)
	}
	sp := filepath.Join(dir, "sync.json")
	if err := WriteJSON(sp, NewReport("stratabench -sync", time.Now(), []Result{{Workload: WSet, Layout: "flat", N: 1000, Backend: "strata-pebble"}, {Workload: WClone, Layout: "flat", N: 1000, Backend: "strata-pebble"}}, TableOptions{})); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "issue11-verdicts.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{pp + "," + fp, fp + "," + pp} {
		var out, errb bytes.Buffer
		if code := Command(t.Context(), "stratabench", []string{"-verdict", arg}, &out, &errb, "strata-mem", nil, nil); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		if d := cmp.Diff(string(want), out.String()); d != "" {
			t.Errorf("-verdict %s (-want +got):\n%s", arg, d)
		}
	}
	// One report, two of one kind, a sync report, or a file that is not
	// a report: exit 2 and say why.
	for _, arg := range []string{fp, fp + "," + fp, sp + "," + pp, fp + "," + filepath.Join(dir, "absent.json"), fp + "," + pp + "," + fp} {
		var out, errb bytes.Buffer
		if code := Command(t.Context(), "stratabench", []string{"-verdict", arg}, &out, &errb, "strata-mem", nil, nil); code != 2 || errb.Len() == 0 || out.Len() != 0 {
			t.Errorf("-verdict %s: exit %d, stdout %q, stderr %q; want 2, nothing and a message", arg, code, out.String(), errb.String())
		}
	}
}

// TestVerdictsMissing checks what a run that did not measure a row
// prints: the deciding row "not measured" and the target not met, a row
// beside it "not measured" too, and a figure of zero (no bytes) counted
// as measured.
func TestVerdictsMissing(t *testing.T) {
	full, peer := fixture()
	peer = slices.DeleteFunc(peer, func(r Result) bool { return r.Workload == WMem })                            // a workload not run
	at(full, WGet, "flat", 1_000_000, "strata-mem").MedianNs = 0                                                 // no time
	at(full, WGroup8, "flat", 1000, "strata-redis").P99Ns = 0                                                    // no latency
	at(peer, WSet, "nested", 1000, "go-git").Skipped = "skipped: one op took 31s >30s"                           // beside the target
	at(full, WSet, "flat", 100_000, "strata-mem").BytesPerOp = 0                                                 // nothing allocated
	at(full, WMem, "nested", 1000, "strata-mem").Skipped = "skipped: the mem workload needs an in-memory target" // skipped
	var out bytes.Buffer
	if err := WriteVerdicts(&out, Issue11(full, peer)); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"| … ≤ 8 KB (8,192 B) allocated per commit | **full flat 10⁵ 0 B**; **peer flat 10⁵ 6840 B**; (not deciding: full nested 10⁵ 6480 B, peer nested 10⁵ 7200 B) | **met** (2 of 2) |",
		"| set+commit, mem, 10⁵ keys in one directory ≥ 2000× faster than go-git (peer run) | **peer flat 10⁵ 6459×**; (not deciding: peer flat 10³ 6964×, peer flat 10⁶ 6034×, peer nested 10³ not measured, peer nested 10⁵ 6250×, peer nested 10⁶ 5445×) | **met** (1 of 1) |",
		"| get, warm, mem, 10⁶ keys ≤ 1.5 µs | **full nested 10⁶ 1.32µs**; **peer flat 10⁶ 1.39µs**; **peer nested 10⁶ 1.46µs**; full flat 10⁶ not measured | not met (3 of 4) |",
		"| memory, 1,000 keys in 1,000 directories ≤ 200 B/key beyond key and value | full nested 10³ not measured; peer nested 10³ not measured | not met (0 of 2) |",
	} {
		if !strings.Contains(out.String(), line+"\n") {
			t.Errorf("output lacks\n%s\nin\n%s", line, out.String())
		}
	}
	if !strings.Contains(out.String(), "Redis flat 10³ not measured") || !strings.Contains(out.String(), "| not met (11 of 12) |") {
		t.Errorf("the p99 target without one Redis latency:\n%s", out.String())
	}
}
