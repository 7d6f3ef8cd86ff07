package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
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
	Text  string  // Value as the table shows it ("41.9 µs", "1.37×")
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

// A ReportSource tells where a Report's results come from: "full" for
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
// figures of one run). A row either report lacks is listed as missing.
// The rows that decide a target are those the issue names: the commit's
// time, allocations and its speed-up over Dolt and go-git at 10⁵ keys in
// one directory, Redis and Pebble against their floors at 10⁵ keys (both
// layouts), the rest at every layout and size it names none for. Where
// the issue names one size, the others are shown beside it (Also).
func Issue11(full, peer []Result) []Verdict {
	ns := []int{1000, 100_000, 1_000_000}
	layouts := []string{"flat", "nested"}
	srcs := []struct {
		name string
		rs   []Result
	}{{"full", full}, {"peer", peer}}
	var out []Verdict

	// each adds to v one row per (source, layout, N) of rows, from the
	// figure fig returns (ok false: missing).
	type rowFn func(rs []Result, layout string, n int) (float64, bool)
	add := func(v *Verdict, src string, rs []Result, layout string, n int, fig rowFn, text func(float64) string, met func(float64) bool) {
		label := strings.TrimSpace(fmt.Sprintf("%s %s %s", src, layout, powerOfTen(n)))
		x, ok := fig(rs, layout, n)
		if !ok {
			v.Missing = append(v.Missing, label)
			return
		}
		v.Rows = append(v.Rows, VerdictRow{Label: label, Value: x, Text: text(x), Met: met(x)})
	}
	// decide adds every (layout, N) of the runs as a row of v, deciding
	// it where decides says so, else shown beside it (Also).
	decide := func(v *Verdict, src string, rs []Result, decides func(layout string, n int) bool, fig rowFn, text func(float64) string, met func(float64) bool) {
		for _, l := range layouts {
			for _, n := range ns {
				if decides(l, n) {
					add(v, src, rs, l, n, fig, text, met)
					continue
				}
				var o Verdict
				add(&o, src, rs, l, n, fig, text, met)
				v.Also = append(v.Also, o.Rows...)
			}
		}
	}
	flat5 := func(l string, n int) bool { return l == "flat" && n == 100_000 }
	at5 := func(_ string, n int) bool { return n == 100_000 }
	median := func(workload, backend string) rowFn {
		return func(rs []Result, layout string, n int) (float64, bool) {
			r, ok := measured(rs, workload, layout, n, backend)
			return r.MedianNs, ok
		}
	}
	// ratio is a's median / b's: layout "-" of b is a floor.
	ratio := func(wa, ba, wb, bb string, floor bool) rowFn {
		return func(rs []Result, layout string, n int) (float64, bool) {
			a, ok := measured(rs, wa, layout, n, ba)
			lb := layout
			if floor {
				lb = "-"
			}
			b, ok2 := measured(rs, wb, lb, n, bb)
			if !ok || !ok2 {
				return 0, false
			}
			return a.MedianNs / b.MedianNs, true
		}
	}
	times := func(x float64) string { return FormatRatio(x) }
	dur := func(x float64) string { return FormatNs(x) }

	v := Verdict{Target: "set+commit, mem, 10⁵ keys in one directory ≤ 15 µs"}
	for _, s := range srcs {
		add(&v, s.name, s.rs, "flat", 100_000, median(WSet, "strata-mem"), dur, func(x float64) bool { return x <= 15_000 })
	}
	out = append(out, v)

	v = Verdict{Target: "… ≤ 8 KB (8,192 B) allocated per commit"}
	for _, s := range srcs {
		add(&v, s.name, s.rs, "flat", 100_000, func(rs []Result, layout string, n int) (float64, bool) {
			r, ok := measured(rs, WSet, layout, n, "strata-mem")
			return r.BytesPerOp, ok && r.BytesPerOp > 0
		}, func(x float64) string { return fmt.Sprintf("%.0f B", x) }, func(x float64) bool { return x <= 8192 })
	}
	out = append(out, v)

	v = Verdict{Target: "set+commit, mem, at 10⁶ keys ≤ 1.5× at 10³"}
	for _, s := range srcs {
		for _, l := range layouts {
			add(&v, s.name, s.rs, l, 1_000_000, func(rs []Result, layout string, n int) (float64, bool) {
				a, ok := measured(rs, WSet, layout, n, "strata-mem")
				b, ok2 := measured(rs, WSet, layout, 1000, "strata-mem")
				return a.MedianNs / b.MedianNs, ok && ok2
			}, times, func(x float64) bool { return x <= 1.5 })
		}
	}
	out = append(out, v)

	for _, p := range []struct {
		peer string
		at   float64
	}{{"dolt", 100}, {"go-git", 2000}} {
		v = Verdict{Target: fmt.Sprintf("set+commit, mem, 10⁵ keys in one directory ≥ %g× faster than %s (peer run)", p.at, p.peer)}
		decide(&v, "peer", peer, flat5, ratio(WSet, p.peer, WSet, "strata-mem", false), times, func(x float64) bool { return x >= p.at })
		out = append(out, v)
	}

	for _, f := range []struct {
		name, backend, floor string
		at                   float64
	}{{"Redis", "strata-redis", "raw-redis", 2}, {"Pebble", "strata-pebble", "raw-pebble", 1.2}} {
		what := "one SET round trip"
		if f.name == "Pebble" {
			what = "one synced put"
		}
		v = Verdict{Target: fmt.Sprintf("%s set+commit, 10⁵ keys ≤ %g× %s", f.name, f.at, what)}
		decide(&v, "full", full, at5, ratio(WSet, f.backend, WSet, f.floor, true), times, func(x float64) bool { return x <= f.at })
		out = append(out, v)
	}

	for _, g := range []struct {
		name, backend string
		at            float64
	}{{"Pebble", "strata-pebble", 4}, {"Redis", "strata-redis", 2}} {
		v = Verdict{Target: fmt.Sprintf("group commit, %s: 8 writers ≥ %g× the commits/s of 1", g.name, g.at)}
		for _, l := range layouts {
			for _, n := range ns {
				add(&v, "full", full, l, n, ratio(WGroup1, g.backend, WGroup8, g.backend, false), times, func(x float64) bool { return x >= g.at })
			}
		}
		out = append(out, v)
	}
	v = Verdict{Target: "group commit, 8 writers: p99 latency ≤ 5× p50"}
	for _, b := range []struct{ name, backend string }{{"Pebble", "strata-pebble"}, {"Redis", "strata-redis"}} {
		for _, l := range layouts {
			for _, n := range ns {
				add(&v, b.name, full, l, n, func(rs []Result, layout string, n int) (float64, bool) {
					r, ok := measured(rs, WGroup8, layout, n, b.backend)
					return r.P99Ns / r.P50Ns, ok && r.P50Ns > 0 && r.P99Ns > 0
				}, times, func(x float64) bool { return x <= 5 })
			}
		}
	}
	out = append(out, v)

	v = Verdict{Target: "get, warm, mem, 10⁶ keys ≤ 1.5 µs"}
	for _, s := range srcs {
		for _, l := range layouts {
			add(&v, s.name, s.rs, l, 1_000_000, median(WGet, "strata-mem"), dur, func(x float64) bool { return x <= 1500 })
		}
	}
	out = append(out, v)

	v = Verdict{Target: "… 0 allocations beyond the value (1 a get)"}
	for _, s := range srcs {
		for _, l := range layouts {
			add(&v, s.name, s.rs, l, 1_000_000, func(rs []Result, layout string, n int) (float64, bool) {
				r, ok := measured(rs, WGet, layout, n, "strata-mem")
				return r.AllocsPerOp, ok && r.AllocsPerOp > 0
			}, func(x float64) string { return fmt.Sprintf("%.2f", x) }, func(x float64) bool { return x <= 1 })
		}
	}
	out = append(out, v)

	v = Verdict{Target: "bulk load, 10⁶ keys ≥ 2× Dolt's (peer run)"}
	for _, l := range layouts {
		add(&v, "peer", peer, l, 1_000_000, ratio(WLoad, "dolt", WLoad, "strata-mem", false), times, func(x float64) bool { return x >= 2 })
	}
	out = append(out, v)

	v = Verdict{Target: "bulk load, 1,000 one-key directories ≥ 1× Dolt's (peer run)"}
	add(&v, "peer", peer, "nested", 1000, ratio(WLoad, "dolt", WLoad, "strata-mem", false), times, func(x float64) bool { return x >= 1 })
	out = append(out, v)

	v = Verdict{Target: "memory, 1,000 keys in 1,000 directories ≤ 200 B/key beyond key and value"}
	for _, s := range srcs {
		add(&v, s.name, s.rs, "nested", 1000, func(rs []Result, layout string, n int) (float64, bool) {
			r, ok := find(rs, WMem, layout, n, "strata-mem")
			return r.OverheadPerKey, ok && r.Skipped == "" && r.BytesPerKey > 0
		}, func(x float64) string { return fmt.Sprintf("%.0f B/key", x) }, func(x float64) bool { return x <= 200 })
	}
	out = append(out, v)

	out = append(out, Verdict{Target: "MergeBase, heads 10,000 commits apart, Pebble, cold cache ≤ 50 ms",
		Note: "not in these reports: go test -run '^$' -bench 'MergeBase10k$' ."})
	return out
}

// measured returns the result of a workload that ran (not skipped, with a
// time).
func measured(rs []Result, workload, layout string, n int, backend string) (Result, bool) {
	r, ok := find(rs, workload, layout, n, backend)
	return r, ok && r.Skipped == "" && r.MedianNs > 0
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
		verdict := "not met"
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
	var full, peer []Result
	seen := map[string]string{}
	for _, p := range paths {
		rep, err := ReadReport(p)
		if err != nil {
			fmt.Fprintf(stderr, "%s: -verdict: %v\n", name, err)
			return 2
		}
		src := ReportSource(rep)
		if prev, dup := seen[src]; dup {
			fmt.Fprintf(stderr, "%s: -verdict: %s and %s are both %s reports; give one stratabench and one peerbench report\n", name, prev, p, src)
			return 2
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
