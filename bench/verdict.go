package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// A Verdict is one performance target judged on the results of a run: its
// rows (the figures it is decided by, each met or not) and whether the
// target is met, which it is only if it has rows and every one is met.
type Verdict struct {
	Target string
	Rows   []VerdictRow
	// Also are rows shown beside the target's for comparison, which do
	// not decide it: the same figure at the other sizes and layouts,
	// where the issue names one.
	Also []VerdictRow
	// Missing names the rows the target needs that the run did not
	// measure (a backend left out, a workload skipped): a target with a
	// missing row is not met.
	Missing []string
	// Note says how the target is decided elsewhere, for a target these
	// reports do not measure (Rows and Missing are then empty).
	Note string
}

// A VerdictRow is one figure of a Verdict.
type VerdictRow struct {
	Label string  // which row: "full flat 10⁵", "peer nested 10⁶", ...
	Value float64 // the figure, in the target's unit
	Text  string  // Value as the table shows it ("41.9µs", "1.37×"), or "not measured" (Also only)
	Met   bool
}

// Met reports whether v's target is met: every row met, none missing.
func (v Verdict) Met() bool {
	if len(v.Rows) == 0 || len(v.Missing) > 0 {
		return false
	}
	for _, r := range v.Rows {
		if !r.Met {
			return false
		}
	}
	return true
}

// MetRows returns how many of v's rows are met, and how many it needs.
func (v Verdict) MetRows() (met, of int) {
	for _, r := range v.Rows {
		if r.Met {
			met++
		}
	}
	return met, len(v.Rows) + len(v.Missing)
}

// ReportSource tells where a Report's results come from: "full" for
// stratabench's (strata and the raw floors), "peer" for peerbench's
// (strata-mem beside go-git and Dolt), by the command that wrote it.
func ReportSource(rep Report) string {
	if strings.HasPrefix(rep.Command, "peerbench") {
		return "peer"
	}
	return "full"
}

// Issue11 judges issue 11's targets ("Performance: commits near the cost
// floor, group commit, faster reads and loads") on the results of one
// stratabench run (full) and one peerbench run (peer) of the default
// sizes, each row decided by that run's own figures (a ratio divides two
// figures of one run). A row a report lacks, or whose workload was
// skipped (a peer too slow to measure too), is missing, which fails the
// target.
//
// The rows that decide a target are those the issue names. The issue
// puts the commit's time, its allocations, its figure at 10⁶ keys
// against 10³ and its speed-up over Dolt and go-git under "set+commit
// on mem at 100,000 keys in one directory": those are decided on the
// flat layout (10⁵, or 10⁶ against 10³). Redis is decided at 10⁵ keys,
// both layouts; every other target on every layout and size the runs
// measure, or that the issue names. The rows that do not decide are
// shown beside the target (Also), so that nothing measured is hidden.
func Issue11(full, peer []Result) []Verdict {
	ns := []int{1000, 100_000, 1_000_000}
	layouts := []string{"flat", "nested"}
	srcs := []struct {
		name string
		rs   []Result
	}{{"full", full}, {"peer", peer}}
	var out []Verdict

	// A rowFn returns a target's figure at one layout and N of a run's
	// results; ok false means the run did not measure it.
	type rowFn func(rs []Result, layout string, n int) (x float64, ok bool)
	type cell struct {
		layout string
		n      int
	}
	every := func(sizes ...int) []cell {
		var cs []cell
		for _, l := range layouts {
			for _, n := range sizes {
				cs = append(cs, cell{l, n})
			}
		}
		return cs
	}
	all := func(cell) bool { return true }
	flat := func(c cell) bool { return c.layout == "flat" }
	// rows adds to v a row for each cell of src's results rs, labelled
	// "src layout N": deciding the target where decides says so (a
	// missing one in Missing), else in Also.
	rows := func(v *Verdict, src string, rs []Result, cells []cell, decides func(cell) bool, fig rowFn, text func(float64) string, met func(float64) bool) {
		for _, c := range cells {
			label := fmt.Sprintf("%s %s %s", src, c.layout, powerOfTen(c.n))
			x, ok := fig(rs, c.layout, c.n)
			r := VerdictRow{Label: label, Value: x, Text: "not measured"}
			if ok {
				r.Text, r.Met = text(x), met(x)
			}
			switch {
			case !decides(c):
				v.Also = append(v.Also, r)
			case !ok:
				v.Missing = append(v.Missing, label)
			default:
				v.Rows = append(v.Rows, r)
			}
		}
	}
	// both is rows on each run's results, strata-mem's rows being in both.
	both := func(v *Verdict, cells []cell, decides func(cell) bool, fig rowFn, text func(float64) string, met func(float64) bool) {
		for _, s := range srcs {
			rows(v, s.name, s.rs, cells, decides, fig, text, met)
		}
	}
	// field is one figure of strata-mem's result of workload.
	field := func(workload string, f func(Result) float64) rowFn {
		return func(rs []Result, layout string, n int) (float64, bool) {
			r, ok := measured(rs, workload, layout, n, "strata-mem")
			return f(r), ok
		}
	}
	median := func(r Result) float64 { return r.MedianNs }
	// ratio is the median of workload w on backend a over that on b, at
	// the same layout and N.
	ratio := func(w, a, b string) rowFn {
		return func(rs []Result, layout string, n int) (float64, bool) {
			x, ok := measured(rs, w, layout, n, a)
			y, ok2 := measured(rs, w, layout, n, b)
			return x.MedianNs / y.MedianNs, ok && ok2
		}
	}
	// against is the median of workload w on backend b over that of the
	// result rule pairs it with (its floor, FloorRef; its one writer,
	// GroupRef): the pairing of the tables' ratio column. under turns it
	// the other way round (the reference's over b's).
	against := func(w, b string, rule RefRule, under bool) rowFn {
		return func(rs []Result, layout string, n int) (float64, bool) {
			r, ok := measured(rs, w, layout, n, b)
			if !ok {
				return 0, false
			}
			ref, _, ok := rule(r, rs)
			if !ok || ref.MedianNs <= 0 {
				return 0, false
			}
			if under {
				return ref.MedianNs / r.MedianNs, true
			}
			return r.MedianNs / ref.MedianNs, true
		}
	}
	times := func(x float64) string { return FormatRatio(x) }
	dur := func(x float64) string { return FormatNs(x) }
	atMost := func(limit float64) func(float64) bool { return func(x float64) bool { return x <= limit } }
	atLeast := func(limit float64) func(float64) bool { return func(x float64) bool { return x >= limit } }

	v := Verdict{Target: "set+commit, mem, 10⁵ keys in one directory ≤ 15 µs"}
	both(&v, every(100_000), flat, field(WSet, median), dur, atMost(15_000))
	out = append(out, v)

	v = Verdict{Target: "… ≤ 8 KB (8,192 B) allocated per commit"}
	both(&v, every(100_000), flat, field(WSet, func(r Result) float64 { return r.BytesPerOp }), func(x float64) string { return fmt.Sprintf("%.0f B", x) }, atMost(8192))
	out = append(out, v)

	v = Verdict{Target: "set+commit, mem, one directory: at 10⁶ keys ≤ 1.5× at 10³"}
	both(&v, every(1_000_000), flat, func(rs []Result, layout string, n int) (float64, bool) {
		a, ok := measured(rs, WSet, layout, n, "strata-mem")
		b, ok2 := measured(rs, WSet, layout, 1000, "strata-mem")
		return a.MedianNs / b.MedianNs, ok && ok2
	}, times, atMost(1.5))
	out = append(out, v)

	for _, p := range []struct {
		peer string
		at   float64
	}{{"dolt", 100}, {"go-git", 2000}} {
		v = Verdict{Target: fmt.Sprintf("set+commit, mem, 10⁵ keys in one directory ≥ %g× faster than %s (peer run)", p.at, p.peer)}
		rows(&v, "peer", peer, every(ns...), func(c cell) bool { return c == cell{"flat", 100_000} },
			ratio(WSet, p.peer, "strata-mem"), times, atLeast(p.at))
		out = append(out, v)
	}

	v = Verdict{Target: "Redis set+commit, 10⁵ keys ≤ 2× one SET round trip"}
	rows(&v, "full", full, every(ns...), func(c cell) bool { return c.n == 100_000 },
		against(WSet, "strata-redis", FloorRef, false), times, atMost(2))
	out = append(out, v)

	v = Verdict{Target: "Pebble set+commit ≤ 1.2× one synced put"}
	rows(&v, "full", full, every(ns...), all, against(WSet, "strata-pebble", FloorRef, false), times, atMost(1.2))
	out = append(out, v)

	for _, g := range []struct {
		name, backend string
		at            float64
	}{{"Pebble", "strata-pebble", 4}, {"Redis", "strata-redis", 2}} {
		v = Verdict{Target: fmt.Sprintf("group commit, %s: 8 writers ≥ %g× the commits/s of 1", g.name, g.at)}
		rows(&v, "full", full, every(ns...), all, against(WGroup8, g.backend, GroupRef, true), times, atLeast(g.at))
		out = append(out, v)
	}

	v = Verdict{Target: "group commit, 8 writers: p99 latency ≤ 5× p50"}
	for _, b := range []struct{ name, backend string }{{"Pebble", "strata-pebble"}, {"Redis", "strata-redis"}} {
		rows(&v, b.name, full, every(ns...), all, func(rs []Result, layout string, n int) (float64, bool) {
			r, ok := measured(rs, WGroup8, layout, n, b.backend)
			return r.P99Ns / r.P50Ns, ok && r.P50Ns > 0 && r.P99Ns > 0
		}, times, atMost(5))
	}
	out = append(out, v)

	v = Verdict{Target: "get, warm, mem, 10⁶ keys ≤ 1.5 µs"}
	both(&v, every(1_000_000), all, field(WGet, median), dur, atMost(1500))
	out = append(out, v)

	v = Verdict{Target: "… 0 allocations beyond the value (1 a get)"}
	both(&v, every(1_000_000), all, field(WGet, func(r Result) float64 { return r.AllocsPerOp }), func(x float64) string { return fmt.Sprintf("%.2f", x) }, atMost(1))
	out = append(out, v)

	v = Verdict{Target: "bulk load, 10⁶ keys ≥ 2× Dolt's (peer run)"}
	rows(&v, "peer", peer, every(1_000_000), all, ratio(WLoad, "dolt", "strata-mem"), times, atLeast(2))
	out = append(out, v)

	v = Verdict{Target: "bulk load, 1,000 one-key directories ≥ 1× Dolt's (peer run)"}
	rows(&v, "peer", peer, []cell{{"nested", 1000}}, all, ratio(WLoad, "dolt", "strata-mem"), times, atLeast(1))
	out = append(out, v)

	v = Verdict{Target: "memory, 1,000 keys in 1,000 directories ≤ 200 B/key beyond key and value"}
	both(&v, []cell{{"nested", 1000}}, all, func(rs []Result, layout string, n int) (float64, bool) {
		r, ok := find(rs, WMem, layout, n, "strata-mem")
		return r.OverheadPerKey, ok // find skips a skipped result
	}, func(x float64) string { return fmt.Sprintf("%.0f B/key", x) }, atMost(200))
	out = append(out, v)

	out = append(out, Verdict{Target: "MergeBase, heads 10,000 commits apart, Pebble, cold cache ≤ 50 ms",
		Note: "not in these reports: go test -run '^$' -bench 'MergeBase10k$' ."})
	return out
}

// measured returns the result of a workload that ran (find skips a
// skipped one) and has a time.
func measured(rs []Result, workload, layout string, n int, backend string) (Result, bool) {
	r, ok := find(rs, workload, layout, n, backend)
	return r, ok && r.MedianNs > 0
}

// powerOfTen writes n as 10³, 10⁵, ... when it is one, else in digits.
func powerOfTen(n int) string {
	sup := []string{"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"}
	e := 0
	for m := n; m >= 10 && m%10 == 0; m /= 10 {
		e++
	}
	p := 1
	for range e {
		p *= 10
	}
	if n <= 0 || p != n || e == 0 {
		return fmt.Sprint(n)
	}
	return "10" + sup[e]
}

// WriteVerdicts writes vs as a Markdown table: each target, its rows
// (met ones in bold) and how many are met.
func WriteVerdicts(w io.Writer, vs []Verdict) error {
	fmt.Fprintln(w, "| target | rows | verdict |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, v := range vs {
		var cells []string
		for _, r := range v.Rows {
			t := r.Label + " " + r.Text
			if r.Met {
				t = "**" + t + "**"
			}
			cells = append(cells, t)
		}
		for _, m := range v.Missing {
			cells = append(cells, m+" not measured")
		}
		if len(v.Also) > 0 {
			var also []string
			for _, r := range v.Also {
				also = append(also, r.Label+" "+r.Text)
			}
			cells = append(cells, "(not deciding: "+strings.Join(also, ", ")+")")
		}
		var verdict string
		switch met, of := v.MetRows(); {
		case v.Note != "":
			cells, verdict = []string{v.Note}, "not judged here"
		case v.Met():
			verdict = fmt.Sprintf("**met** (%d of %d)", met, of)
		default:
			verdict = fmt.Sprintf("not met (%d of %d)", met, of)
		}
		if _, err := fmt.Fprintf(w, "| %s | %s | %s |\n", v.Target, strings.Join(cells, "; "), verdict); err != nil {
			return err
		}
	}
	return nil
}

// ReadReport reads a JSON report that Command wrote.
func ReadReport(path string) (Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Report{}, err
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return Report{}, fmt.Errorf("%s: %w", path, err)
	}
	return rep, nil
}

// verdictCommand is Command with -verdict: it reads the reports at paths
// (one stratabench run and one peerbench run, in either order), and
// prints issue 11's verdicts as a Markdown table.
func verdictCommand(name string, paths []string, stdout, stderr io.Writer) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "%s: -verdict: "+format+"\n", append([]any{name}, args...)...)
		return 2
	}
	if len(paths) != 2 {
		return fail("give two reports, FULL.json,PEER.json (one of stratabench, one of peerbench), not %d", len(paths))
	}
	var full, peer []Result
	seen := map[string]string{}
	for _, p := range paths {
		rep, err := ReadReport(p)
		if err != nil {
			return fail("%v", err)
		}
		for _, r := range rep.Results {
			if slices.Contains(SyncWorkloads, r.Workload) {
				return fail("%s is a report of the sync workloads (-sync), which decide no issue-11 target", p)
			}
		}
		src := ReportSource(rep)
		if prev, dup := seen[src]; dup {
			return fail("%s and %s are both %s reports; give one stratabench and one peerbench report", prev, p, src)
		}
		seen[src] = p
		if src == "peer" {
			peer = rep.Results
		} else {
			full = rep.Results
		}
	}
	if err := WriteVerdicts(stdout, Issue11(full, peer)); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 4
	}
	return 0
}
