package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// StandardBackends are the names Standard knows, in table order.
var StandardBackends = []string{"strata-mem", "strata-pebble", "strata-redis", "raw-pebble", "raw-redis"}

// Standard returns the factories of strata and the floors named in names
// (see StandardBackends), in that order, starting one redis-server for the
// Redis ones. dir is the parent of the Pebble directories ("" means
// os.TempDir()). close stops the server. When redis-server is not
// installed, the Redis backends are left out and missing says so.
func Standard(ctx context.Context, names []string, dir string) (fs []Factory, missing string, close func() error, err error) {
	close = func() error { return nil }
	var srv *RedisServer
	for _, name := range names {
		if strings.HasSuffix(name, "-redis") && srv == nil && missing == "" {
			srv, err = StartRedis(ctx)
			if errors.Is(err, exec.ErrNotFound) {
				missing = "redis-server is not installed (Debian: apt-get install redis-server): the Redis backends did not run"
				srv, err = nil, nil
				continue
			}
			if err != nil {
				return nil, "", close, err
			}
			close = srv.Close
		}
		switch name {
		case "strata-mem":
			fs = append(fs, StrataMem())
		case "strata-pebble":
			fs = append(fs, StrataPebble(dir))
		case "raw-pebble":
			fs = append(fs, RawPebble(dir))
		case "strata-redis":
			if srv != nil {
				f := StrataRedis(srv.Addr())
				f.ServerFaults = srv.Faults
				fs = append(fs, f)
			}
		case "raw-redis":
			if srv != nil {
				f := RawRedis(srv.Addr())
				f.ServerFaults = srv.Faults
				fs = append(fs, f)
			}
		default:
			return nil, "", close, fmt.Errorf("unknown backend %q", name)
		}
	}
	return fs, missing, close, nil
}

// Command is the main program of the benchmark commands: it parses args,
// runs the workloads on the standard backends selected by -backends plus
// extra (which the peers command adds; their names are valid in
// -backends too), prints the table to stdout, progress to stderr, and
// writes the JSON report. It returns the exit code.
func Command(ctx context.Context, name string, args []string, stdout, stderr io.Writer, defaultBackends string, extra []Factory, peers []string) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		ns         = fs.String("n", "1000,100000,1000000", "store sizes N, comma-separated")
		quick      = fs.Bool("quick", false, "smoke test: N=1000,10000, 3 short samples (overrides -n)")
		jsonOut    = fs.String("json", "", "write the results and ratios as JSON to this file")
		only       = fs.String("only", "", "regexp: keep only results whose ID workload/layout/N/backend matches")
		backends   = fs.String("backends", defaultBackends, "backends, comma-separated, from: "+strings.Join(append(StandardBackends, names(extra)...), ","))
		layouts    = fs.String("layouts", "flat,nested", "layouts, comma-separated")
		samples    = fs.Int("samples", 5, "timed samples per workload (the median is reported)")
		sampleTime = fs.Duration("sampletime", 100*time.Millisecond, "least duration of one sample")
		budget     = fs.Duration("budget", 10*time.Second, "most time for the samples of one workload (get's warm-up: a quarter more)")
		maxOp      = fs.Duration("maxop", 30*time.Second, "skip a workload whose one operation takes longer (loads: 4×)")
		logCommits = fs.Int("logcommits", 1000, "commits of history for the log workload")
		dir        = fs.String("dir", "", "parent directory of the Pebble stores (default: the system temp dir)")
		quiet      = fs.Bool("q", false, "no progress lines on stderr")
		syncW      = fs.Bool("sync", false, "run the sync workloads (clone, push-bulk, push-incr, fetch-none) instead of the others, on the first of -layouts")
		syncKeys   = fs.Int("sync-keys", 100_000, "-sync: keys of the clone and of the bulk push")
		syncCommit = fs.Int("sync-commits", 1000, "-sync: single-key commits on top of the clone's keys")
		syncIncr   = fs.Int("sync-incr-keys", 1_000_000, "-sync: keys of the history under the incremental push and the empty fetch")
		verdict    = fs.String("verdict", "", "run nothing: read two JSON reports (`FULL.json,PEER.json`: one of stratabench, one of peerbench, of the default sizes) and print issue 11's targets' verdicts as a Markdown table")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *verdict != "" {
		return verdictCommand(name, strings.Split(*verdict, ","), stdout, stderr)
	}
	o := Options{Samples: *samples, SampleTime: *sampleTime, Budget: *budget, MaxOp: *maxOp, LogCommits: *logCommits}
	var err error
	if o.Ns, err = parseInts(*ns); err != nil {
		fmt.Fprintf(stderr, "%s: -n: %v\n", name, err)
		return 2
	}
	if *quick {
		o.Ns = []int{1000, 10_000}
		o.Samples, o.SampleTime, o.Budget = 3, 30*time.Millisecond, 3*time.Second
	}
	for _, l := range strings.Split(*layouts, ",") {
		lay, err := ParseLayout(strings.TrimSpace(l))
		if err != nil {
			fmt.Fprintf(stderr, "%s: -layouts: %v\n", name, err)
			return 2
		}
		o.Layouts = append(o.Layouts, lay)
	}
	if *only != "" {
		if o.Only, err = regexp.Compile(*only); err != nil {
			fmt.Fprintf(stderr, "%s: -only: %v\n", name, err)
			return 2
		}
	}
	if !*quiet {
		o.Logf = func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	}
	if *syncW {
		so := SyncOptions{CloneKeys: *syncKeys, CloneCommits: *syncCommit, PushKeys: *syncKeys, IncrKeys: *syncIncr,
			Layout: o.Layouts[0], Samples: o.Samples, Dir: *dir, Logf: o.Logf}
		if *quick {
			so.CloneKeys, so.CloneCommits, so.PushKeys, so.IncrKeys, so.Samples = 10_000, 100, 10_000, 100_000, 3
		}
		if o.Only != nil {
			so.Only = o.Only
		}
		return syncCommand(ctx, name, args, stdout, stderr, so, *jsonOut)
	}

	var std []string
	byName := map[string]Factory{}
	for _, f := range extra {
		byName[f.Name] = f
	}
	var order []string
	for _, b := range strings.Split(*backends, ",") {
		b = strings.TrimSpace(b)
		if b == "" {
			continue
		}
		order = append(order, b)
		if _, ok := byName[b]; !ok {
			std = append(std, b)
		}
	}
	sfs, missing, closeStd, err := Standard(ctx, std, *dir)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	defer closeStd()
	if missing != "" {
		fmt.Fprintf(stderr, "\n*** %s ***\n\n", missing)
	}
	for _, f := range sfs {
		byName[f.Name] = f
	}
	var factories []Factory
	for _, b := range order {
		if f, ok := byName[b]; ok {
			factories = append(factories, f)
		}
	}

	start := time.Now()
	command := strings.Join(append([]string{name}, args...), " ")
	results, runErr := Run(ctx, o, factories)
	topt := TableOptions{Peers: peers}
	fmt.Fprintf(stdout, "# %s\n# %s, %d CPUs, %s, %s; %s, took %s\n", command, ThisMachine().CPUModel, ThisMachine().NumCPU,
		ThisMachine().MemTotal, ThisMachine().GoVersion, start.Format(time.RFC3339), time.Since(start).Round(time.Second))
	fmt.Fprintf(stdout, "# median/op: median over samples of the time of one operation (a whole load for load);\n"+
		"# spread: (max-min)/median; ratio: this time / the time of vs")
	if len(peers) > 0 {
		fmt.Fprintf(stdout, "; PEER÷this: the peer's time (or B/key) / this row's")
	}
	fmt.Fprintln(stdout)
	if missing != "" {
		fmt.Fprintf(stdout, "# %s\n", missing)
	}
	if err := WriteTable(stdout, results, topt); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 4
	}
	if *jsonOut != "" {
		if err := WriteJSON(*jsonOut, NewReport(command, start, results, topt)); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return 4
		}
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, runErr)
		return 4
	}
	return 0
}

func names(fs []Factory) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive count", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("no sizes")
	}
	return out, nil
}

// syncCommand is Command with -sync: it starts a redis-server, runs
// RunSync, prints the table (ratios by SyncRef) and writes the JSON report.
func syncCommand(ctx context.Context, name string, args []string, stdout, stderr io.Writer, so SyncOptions, jsonOut string) int {
	var missing string
	srv, err := StartRedis(ctx)
	switch {
	case errors.Is(err, exec.ErrNotFound):
		missing = "redis-server is not installed (Debian: apt-get install redis-server): the Redis workloads did not run"
		fmt.Fprintf(stderr, "\n*** %s ***\n\n", missing)
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 4
	default:
		defer srv.Close()
		so.RedisAddr = srv.Addr()
	}
	start := time.Now()
	command := strings.Join(append([]string{name}, args...), " ")
	results, runErr := RunSync(ctx, so)
	topt := TableOptions{Ref: SyncRef}
	m := ThisMachine()
	fmt.Fprintf(stdout, "# %s\n# %s, %d CPUs, %s, %s; %s, took %s\n", command, m.CPUModel, m.NumCPU,
		m.MemTotal, m.GoVersion, start.Format(time.RFC3339), time.Since(start).Round(time.Second))
	fmt.Fprintln(stdout, "# median/op: median over samples of one operation; rate: objects/s for push-bulk, ops/s otherwise;\n"+
		"# ratio: this time per item / vs's (clone: strata ÷ git; push-bulk: per object, strata ÷ pipelined SET)")
	if missing != "" {
		fmt.Fprintf(stdout, "# %s\n", missing)
	}
	if err := WriteTable(stdout, results, topt); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 4
	}
	if jsonOut != "" {
		if err := WriteJSON(jsonOut, NewReport(command, start, results, topt)); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return 4
		}
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, runErr)
		return 4
	}
	return 0
}
