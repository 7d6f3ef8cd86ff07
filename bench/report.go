package bench

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// FormatNs formats a duration in nanoseconds with three significant
// digits and a unit (ns, µs, ms, s).
func FormatNs(ns float64) string {
	switch {
	case ns <= 0:
		return "-"
	case ns < 1e3:
		return sig3(ns) + "ns"
	case ns < 1e6:
		return sig3(ns/1e3) + "µs"
	case ns < 1e9:
		return sig3(ns/1e6) + "ms"
	}
	return sig3(ns/1e9) + "s"
}

func fmtDur(d time.Duration) string { return FormatNs(float64(d)) }

func sig3(x float64) string {
	switch {
	case x >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case x >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

// FormatRate formats a count per second with a k/M suffix.
func FormatRate(x float64) string {
	switch {
	case x <= 0:
		return "-"
	case x >= 1e6:
		return sig3(x/1e6) + "M"
	case x >= 1e3:
		return sig3(x/1e3) + "k"
	}
	return sig3(x)
}

// formatFaults formats page faults per operation ("-" for none or
// unknown): two decimals below 10, a count above.
func formatFaults(x float64) string {
	if x < 10 {
		if x <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", x)
	}
	return formatCount(x)
}

// formatCount formats a per-operation count ("-" for none).
func formatCount(x float64) string {
	if x <= 0 {
		return "-"
	}
	if x >= 1e4 {
		return FormatRate(x)
	}
	return strconv.FormatFloat(x, 'f', 0, 64)
}

// FormatRatio formats a ratio of times ("0.52×", "3.1×", "1200×").
func FormatRatio(x float64) string {
	switch {
	case x <= 0:
		return "-"
	case x < 0.01:
		return strconv.FormatFloat(x, 'g', 2, 64) + "×"
	}
	return sig3(x) + "×"
}

// RefRule picks the result that r is compared with in the ratio column,
// among all; ok is false when there is none.
type RefRule func(r Result, all []Result) (ref Result, label string, ok bool)

// find returns the measured result with the given coordinates.
func find(all []Result, workload, layout string, n int, backend string) (Result, bool) {
	for _, x := range all {
		if x.Workload == workload && x.Layout == layout && x.N == n && x.Backend == backend && x.Skipped == "" {
			return x, true
		}
	}
	return Result{}, false
}

// FloorRef compares strata on a backend with that backend's floor (the
// same workload and N): strata-pebble with raw-pebble, strata-redis with
// raw-redis.
func FloorRef(r Result, all []Result) (Result, string, bool) {
	floor, ok := map[string]string{"strata-pebble": "raw-pebble", "strata-redis": "raw-redis"}[r.Backend]
	if !ok {
		return Result{}, "", false
	}
	ref, ok := find(all, r.Workload, "-", r.N, floor)
	return ref, floor, ok
}

// ScaleRef compares a result with the same workload, layout and backend
// at the smallest N measured.
func ScaleRef(r Result, all []Result) (Result, string, bool) {
	best := Result{}
	for _, x := range all {
		if x.Workload == r.Workload && x.Layout == r.Layout && x.Backend == r.Backend && x.Skipped == "" &&
			x.N < r.N && (best.N == 0 || x.N < best.N) {
			best = x
		}
	}
	if best.N == 0 {
		return Result{}, "", false
	}
	return best, "N=" + strconv.Itoa(best.N), true
}

// GroupRef compares a group-commit result with 8 writers (on one branch
// or a branch each) with the one with 1 writer (same layout, N and
// backend): below 1 means 8 writers commit faster than 1 (0.25: 4× the
// commits/s).
func GroupRef(r Result, all []Result) (Result, string, bool) {
	if r.Workload != WGroup8 && r.Workload != WBranch8 {
		return Result{}, "", false
	}
	ref, ok := find(all, WGroup1, r.Layout, r.N, r.Backend)
	return ref, WGroup1, ok
}

// DefaultRef is GroupRef for 8 writers, FloorRef where there is a floor,
// else ScaleRef; floors themselves get no ratio.
func DefaultRef(r Result, all []Result) (Result, string, bool) {
	if r.Layout == "-" {
		return Result{}, "", false
	}
	if ref, label, ok := GroupRef(r, all); ok {
		return ref, label, ok
	}
	if ref, label, ok := FloorRef(r, all); ok {
		return ref, label, ok
	}
	return ScaleRef(r, all)
}

// Sorted returns a copy of results ordered for reading: by workload (in
// the order of Workloads), layout (flat, nested, then the floors' "-"),
// N, and backend in order of first appearance.
func Sorted(results []Result) []Result {
	rank := func(list []string, x string) int {
		if i := slices.Index(list, x); i >= 0 {
			return i
		}
		return len(list)
	}
	var backends []string
	for _, r := range results {
		if !slices.Contains(backends, r.Backend) {
			backends = append(backends, r.Backend)
		}
	}
	layouts := []string{Flat.String(), Nested.String(), "-"}
	workloads := append(slices.Clone(Workloads), GroupWorkloads...)
	out := slices.Clone(results)
	slices.SortStableFunc(out, func(a, b Result) int {
		return cmp.Or(
			cmp.Compare(rank(workloads, a.Workload), rank(workloads, b.Workload)),
			cmp.Compare(rank(layouts, a.Layout), rank(layouts, b.Layout)),
			cmp.Compare(a.N, b.N),
			cmp.Compare(rank(backends, a.Backend), rank(backends, b.Backend)))
	})
	return out
}

// TableOptions configures WriteTable and NewReport.
type TableOptions struct {
	// Ref picks the comparison of the ratio column: this row's time per
	// item (per key for load, per operation otherwise) ÷ the reference's;
	// below 1 is faster. Nil means DefaultRef.
	Ref RefRule
	// Peers are backends to compare every strata row with, each in a
	// column "PEER÷this": the peer's time divided by this row's (how many
	// times faster this is), or for mem the peer's bytes per key divided
	// by this row's.
	Peers []string
}

// Ratio is one computed comparison of a result, as the table shows it.
type Ratio struct {
	ID    string  `json:"id"`
	Vs    string  `json:"vs"`    // the reference: a backend, or "N=…"
	Ratio float64 `json:"ratio"` // this ÷ reference (time per item), or peer ÷ this for peers
	Kind  string  `json:"kind"`  // "ref": this÷ref time; "peer": peer÷this
}

// perItem is the median time per key (load) or per operation.
func perItem(r Result) float64 { return r.MedianNs / float64(max(r.Items, 1)) }

func (o TableOptions) ratios(r Result, all []Result) (ref *Ratio, peers []*Ratio) {
	rule := o.Ref
	if rule == nil {
		rule = DefaultRef
	}
	if r.Skipped == "" && r.Workload != WMem {
		if x, label, ok := rule(r, all); ok && x.MedianNs > 0 {
			ref = &Ratio{ID: r.ID(), Vs: label, Ratio: perItem(r) / perItem(x), Kind: "ref"}
		}
	}
	for _, p := range o.Peers {
		var pr *Ratio
		if r.Skipped == "" && strings.HasPrefix(r.Backend, "strata-") {
			if x, ok := find(all, r.Workload, r.Layout, r.N, p); ok {
				switch {
				case r.Workload == WMem && r.BytesPerKey > 0:
					pr = &Ratio{ID: r.ID(), Vs: p, Ratio: x.BytesPerKey / r.BytesPerKey, Kind: "peer"}
				case r.MedianNs > 0:
					pr = &Ratio{ID: r.ID(), Vs: p, Ratio: x.MedianNs / r.MedianNs, Kind: "peer"}
				}
			}
		}
		peers = append(peers, pr)
	}
	return ref, peers
}

// WriteTable prints results (see Sorted) as an aligned table: workload, layout, N,
// backend, median time per operation, spread of the samples
// ((max-min)/median), rate (keys/s for load, ops/s otherwise), p50 and
// p99 latency (group workloads), bytes, allocations and minor page faults
// per operation, the ratio against the reference, and one column per peer;
// the note says the faults per operation of the target's server, if known.
func WriteTable(w io.Writer, results []Result, o TableOptions) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "workload\tlayout\tN\tbackend\tmedian/op\tspread\trate\tp50\tp99\tB/op\tallocs/op\tfaults/op\tratio\tvs\t"
	for _, p := range o.Peers {
		head += p + "÷this\t"
	}
	fmt.Fprintln(tw, head+" note")
	for _, r := range Sorted(results) {
		ref, peers := o.ratios(r, results)
		line := fmt.Sprintf("%s\t%s\t%d\t%s\t", r.Workload, r.Layout, r.N, r.Backend)
		switch {
		case r.Skipped != "":
			line += "-\t-\t-\t\t\t\t\t\t"
		case r.Workload == WMem:
			line += fmt.Sprintf("-\t-\t%.0f B/key\t\t\t\t\t\t", r.BytesPerKey)
		default:
			unit := "/s"
			if r.Workload == WLoad {
				unit = " keys/s"
			}
			line += fmt.Sprintf("%s\t%.0f%%\t%s%s\t", FormatNs(r.MedianNs), 100*r.Spread(), FormatRate(r.PerSecond()), unit)
			line += fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t", FormatNs(r.P50Ns), FormatNs(r.P99Ns), formatCount(r.BytesPerOp), formatCount(r.AllocsPerOp), formatFaults(r.FaultsPerOp))
		}
		if ref != nil {
			line += FormatRatio(ref.Ratio) + "\t" + ref.Vs + "\t"
		} else {
			line += "\t\t"
		}
		for _, p := range peers {
			if p != nil {
				line += FormatRatio(p.Ratio)
			}
			line += "\t"
		}
		note := r.Note
		if r.ServerFaultsPerOp > 0 {
			note = strings.TrimSpace(fmt.Sprintf("server %s faults/op %s", formatFaults(r.ServerFaultsPerOp), note))
		}
		if r.Workload == WMem && r.Skipped == "" {
			note = strings.TrimSpace(fmt.Sprintf("%.0f B/key beyond key+value %s", r.OverheadPerKey, note))
		}
		if r.Skipped != "" {
			note = strings.TrimSpace(r.Skipped + " " + note)
		}
		fmt.Fprintln(tw, line+" "+note)
	}
	return tw.Flush()
}

// Machine describes the computer a run was made on.
type Machine struct {
	CPUModel   string `json:"cpu_model"`
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	MemTotal   string `json:"mem_total"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	GoVersion  string `json:"go_version"`
}

// ThisMachine returns the Machine the process runs on (CPU model and
// memory from /proc on Linux, empty elsewhere).
func ThisMachine() Machine {
	m := Machine{NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GoVersion: runtime.Version()}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	m.MemTotal = procField("/proc/meminfo", "MemTotal")
	return m
}

func procField(file, key string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Report is the JSON file a benchmark command writes.
type Report struct {
	Command string    `json:"command"`
	Start   time.Time `json:"start"`
	Elapsed string    `json:"elapsed"`
	Machine Machine   `json:"machine"`
	Results []Result  `json:"results"`
	Ratios  []Ratio   `json:"ratios"`
}

// NewReport returns the report of results, with the ratios the table
// shows.
func NewReport(command string, start time.Time, results []Result, o TableOptions) Report {
	rep := Report{Command: command, Start: start, Elapsed: time.Since(start).Round(time.Second).String(),
		Machine: ThisMachine(), Results: results, Ratios: []Ratio{}}
	for _, r := range results {
		ref, peers := o.ratios(r, results)
		if ref != nil {
			rep.Ratios = append(rep.Ratios, *ref)
		}
		for _, p := range peers {
			if p != nil {
				rep.Ratios = append(rep.Ratios, *p)
			}
		}
	}
	return rep
}

// WriteJSON writes rep, indented, to the file path.
func WriteJSON(path string, rep Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o666)
}
