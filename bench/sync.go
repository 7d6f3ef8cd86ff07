package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
)

// The sync workloads (issue 12), which RunSync measures, each beside its
// peer in the same run.
const (
	// WClone is a clone of a disk store with CloneKeys keys and
	// CloneCommits single-key commits on top into a new disk store
	// (strata-pebble: open, Clone, close), beside `git clone --no-local
	// --bare` of the same history (git).
	WClone = "clone"
	// WPushBulk is a push of one commit of PushKeys keys from a disk
	// store to an empty Redis (strata-redis), beside pipelined SETs of
	// the very objects that push stored (raw-redis). Items are objects,
	// so the rate is objects/s.
	WPushBulk = "push-bulk"
	// WPushIncr is a push of one commit touching IncrTouch keys on top
	// of an IncrKeys-key history that the Redis store already has.
	WPushIncr = "push-incr"
	// WFetchNone is a fetch from that Redis store when it has nothing new.
	WFetchNone = "fetch-none"
)

// SyncWorkloads lists the sync workloads in table order.
var SyncWorkloads = []string{WClone, WPushBulk, WPushIncr, WFetchNone}

// SyncOptions configures RunSync. The zero value of every field means the
// default given in its comment (the sizes of issue 12's targets).
type SyncOptions struct {
	// CloneKeys and CloneCommits make the clone's source: a bulk load of
	// CloneKeys keys (default 100,000), then CloneCommits commits setting
	// one random key each (default 1,000).
	CloneKeys, CloneCommits int
	// PushKeys is the number of keys of the bulk push (default 100,000).
	PushKeys int
	// IncrKeys is the size of the history under the incremental push
	// and the empty fetch (default 1,000,000): a bulk load and
	// IncrCommits commits of IncrTouch keys (default 3).
	IncrKeys, IncrCommits int
	// IncrTouch is the number of keys the pushed commit sets (default 10).
	IncrTouch int
	// Layout is the key layout of every workload (the zero value is Flat).
	Layout Layout
	// Samples is the number of timed samples per workload (default 5);
	// the result is their median.
	Samples int
	// Dir is the parent of the stores and repositories ("" means
	// os.TempDir()); they are removed at the end.
	Dir string
	// RedisAddr is the host:port of a Redis server that RunSync may
	// empty (FLUSHALL) at will; "" skips the Redis workloads, saying so.
	RedisAddr string
	// Only, if not nil, keeps only the workloads whose ID
	// ("workload/layout/N/backend") it matches, as Options.Only.
	Only interface{ MatchString(string) bool }
	// Logf, if not nil, receives progress lines.
	Logf func(format string, args ...any)
}

func (o SyncOptions) withDefaults() SyncOptions {
	def := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&o.CloneKeys, 100_000)
	def(&o.CloneCommits, 1000)
	def(&o.PushKeys, 100_000)
	def(&o.IncrKeys, 1_000_000)
	def(&o.IncrCommits, 3)
	def(&o.IncrTouch, 10)
	def(&o.Samples, 5)
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

// RunSync measures the sync workloads that o selects and returns their
// results: clone (strata-pebble and git), push-bulk (strata-redis and
// raw-redis), push-incr and fetch-none (strata-redis). A result's
// RoundTrips, Objects and SyncBytes are strata's SyncStats of one
// operation (the most over the samples). Without git on PATH the git row
// is skipped, saying so; without RedisAddr the Redis rows are. A failing
// operation stops RunSync with an error naming the case; the results so
// far are returned with it.
func RunSync(ctx context.Context, o SyncOptions) ([]Result, error) {
	o = o.withDefaults()
	s := &syncRunner{o: o}
	if s.want(WClone, o.CloneKeys, "strata-pebble") || s.want(WClone, o.CloneKeys, "git") {
		if err := s.clone(ctx); err != nil {
			return s.out, fmt.Errorf("%s: %w", WClone, err)
		}
	}
	if s.want(WPushBulk, o.PushKeys, "strata-redis") || s.want(WPushBulk, o.PushKeys, "raw-redis") {
		if err := s.pushBulk(ctx); err != nil {
			return s.out, fmt.Errorf("%s: %w", WPushBulk, err)
		}
	}
	if s.want(WPushIncr, o.IncrKeys, "strata-redis") || s.want(WFetchNone, o.IncrKeys, "strata-redis") {
		if err := s.incremental(ctx); err != nil {
			return s.out, fmt.Errorf("%s: %w", WPushIncr, err)
		}
	}
	return s.out, nil
}

type syncRunner struct {
	o   SyncOptions
	out []Result
}

func (s *syncRunner) syncResult(w string, n int, backend string) Result {
	layout := s.o.Layout.String()
	if backend == "raw-redis" {
		layout = "-"
	}
	return Result{Workload: w, Layout: layout, N: n, Backend: backend, Items: 1}
}

func (s *syncRunner) want(w string, n int, backend string) bool {
	return s.o.Only == nil || s.o.Only.MatchString(s.syncResult(w, n, backend).ID())
}

func (s *syncRunner) emit(r Result) {
	s.out = append(s.out, r)
	if r.Skipped != "" {
		s.o.Logf("%-40s %s", r.ID(), r.Skipped)
		return
	}
	s.o.Logf("%-40s %10s/op  %12s/s  spread %3.0f%%  (%d)  %s", r.ID(), FormatNs(r.MedianNs),
		FormatRate(r.PerSecond()), 100*r.Spread(), r.Samples, r.Note)
}

// tempDir makes a directory under o.Dir.
func (s *syncRunner) tempDir(pattern string) (string, error) {
	return os.MkdirTemp(s.o.Dir, "stratabench-"+pattern+"-*")
}

// sample times op o.Samples times and returns the result with the median,
// least and greatest time and the most round trips, objects and bytes.
func (s *syncRunner) sample(r Result, op func() (*strata.SyncStats, time.Duration, error)) (Result, error) {
	var times []float64
	for range s.o.Samples {
		st, el, err := op()
		if err != nil {
			return r, err
		}
		times = append(times, float64(el))
		if st != nil {
			r.RoundTrips = max(r.RoundTrips, st.RoundTrips)
			r.Objects = max(r.Objects, st.Objects)
			r.SyncBytes = max(r.SyncBytes, st.Bytes)
		}
	}
	r.Samples, r.OpsPerSample = len(times), 1
	r.MedianNs, r.MinNs, r.MaxNs = stats(times)
	return r, nil
}

// syncNote describes a result's SyncStats in its note.
func syncNote(r Result, extra string) string {
	n := fmt.Sprintf("%d round trips, %d objects, %s", r.RoundTrips, r.Objects, formatBytes(r.SyncBytes))
	if extra != "" {
		n += "; " + extra
	}
	return n
}

func formatBytes(b int64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

// cloneHistory returns the keys the clone's CloneCommits commits set, in
// order: commit j (1-based) sets key idx[j-1] to d.Value(idx[j-1], j).
func cloneHistory(d Dataset, commits int) []int {
	rng := rand.New(rand.NewPCG(uint64(d.N), 12))
	idx := make([]int, commits)
	for j := range idx {
		idx[j] = rng.IntN(d.N)
	}
	return idx
}

// openStrata opens a strata store in a new directory under o.Dir.
func (s *syncRunner) openStrata(ctx context.Context, pattern string) (*strata.KV, string, error) {
	dir, err := s.tempDir(pattern)
	if err != nil {
		return nil, "", err
	}
	kv, err := strata.Open(ctx, dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", err
	}
	return kv, dir, nil
}

func (s *syncRunner) clone(ctx context.Context) (err error) {
	d := Dataset{Layout: s.o.Layout, N: s.o.CloneKeys}
	idx := cloneHistory(d, s.o.CloneCommits)

	// strata: the source store.
	start := time.Now()
	src, srcDir, err := s.openStrata(ctx, "clone-src")
	if err != nil {
		return err
	}
	defer func() {
		err = errors.Join(err, src.Close(), os.RemoveAll(srcDir))
	}()
	t := NewStrata(src, false, nil)
	if _, err := t.Load(ctx, d); err != nil {
		return fmt.Errorf("load the source: %w", err)
	}
	for j, i := range idx {
		if _, err := t.Commit(ctx, []Change{{d.Key(i), d.Value(i, j+1)}}); err != nil {
			return fmt.Errorf("commit %d of the source: %w", j+1, err)
		}
	}
	s.o.Logf("clone: strata source of %d keys and %d commits made in %s", d.N, len(idx), fmtDur(time.Since(start)))

	srcHead, err := src.Branch(BranchName).Head(ctx)
	if err != nil {
		return err
	}
	if s.want(WClone, d.N, "strata-pebble") {
		res, err := s.sample(s.syncResult(WClone, d.N, "strata-pebble"), func() (*strata.SyncStats, time.Duration, error) {
			dir, err := s.tempDir("clone-dst")
			if err != nil {
				return nil, 0, err
			}
			defer os.RemoveAll(dir)
			start := time.Now()
			dst, err := strata.Open(ctx, dir)
			if err != nil {
				return nil, 0, err
			}
			st, err := strata.Clone(ctx, src, dst)
			if cerr := dst.Close(); err == nil {
				err = cerr
			}
			el := time.Since(start)
			if err == nil {
				err = checkHead(ctx, dir, srcHead)
			}
			return st, el, err
		})
		if err != nil {
			return fmt.Errorf("strata-pebble: %w", err)
		}
		res.Note = syncNote(res, "open, Clone, Close of the new store")
		s.emit(res)
	}

	if s.want(WClone, d.N, "git") {
		res := s.syncResult(WClone, d.N, "git")
		git, err := exec.LookPath("git")
		if err != nil {
			res.Skipped = "skipped: git is not installed"
			s.emit(res)
			return nil
		}
		start := time.Now()
		repo, err := s.tempDir("clone-git")
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, os.RemoveAll(repo)) }()
		if err := gitFastImport(ctx, git, repo, d, idx); err != nil {
			return fmt.Errorf("git: %w", err)
		}
		out, err := gitCommand(ctx, git, "-C", repo, "rev-list", "--count", "main").Output()
		if err != nil {
			return fmt.Errorf("git rev-list: %w", err)
		}
		if got, want := strings.TrimSpace(string(out)), strconv.Itoa(1+len(idx)); got != want {
			return fmt.Errorf("git fast-import made %s commits, want %s", got, want)
		}
		s.o.Logf("clone: git source made with fast-import in %s", fmtDur(time.Since(start)))
		res, err = s.sample(res, func() (*strata.SyncStats, time.Duration, error) {
			dir, err := s.tempDir("clone-gitdst")
			if err != nil {
				return nil, 0, err
			}
			defer os.RemoveAll(dir)
			dst := filepath.Join(dir, "dst.git")
			start := time.Now()
			out, err := gitCommand(ctx, git, "clone", "--no-local", "--bare", "-q", repo, dst).CombinedOutput()
			el := time.Since(start)
			if err != nil {
				return nil, 0, fmt.Errorf("git clone: %w: %s", err, out)
			}
			return nil, el, nil
		})
		if err != nil {
			return fmt.Errorf("git: %w", err)
		}
		res.Note = "git clone --no-local --bare of the same history (from git fast-import); GLIBC_TUNABLES=GitMallocTunables"
		s.emit(res)
	}
	return nil
}

// GitMallocTunables is the GLIBC_TUNABLES setting the benchmark runs git
// with: heap grown and trimmed in steps of 256 MB. On some kernels
// (sandboxes among them) every brk system call costs over 100 µs, and git,
// which grows its heap by brk in small steps, then spends most of its time
// there (git fast-import of 10,000 files: 13 s by default, 0.5 s with
// this). It only ever makes git faster.
const GitMallocTunables = "glibc.malloc.top_pad=268435456:glibc.malloc.trim_threshold=536870912"

// gitCommand is exec.CommandContext for git, with GitMallocTunables, and
// with no user or system configuration.
func gitCommand(ctx context.Context, git string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, git, args...)
	cmd.Env = append(os.Environ(), "GLIBC_TUNABLES="+GitMallocTunables,
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	return cmd
}

// checkHead checks that the store in dir has branch BranchName at want.
func checkHead(ctx context.Context, dir string, want strata.Hash) (err error) {
	kv, err := strata.Open(ctx, dir, strata.MustExist())
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, kv.Close()) }()
	got, err := kv.Branch(BranchName).Head(ctx)
	if err != nil {
		return fmt.Errorf("the clone: %w", err)
	}
	if got != want {
		return fmt.Errorf("the clone's %s is at %s, the source's at %s", BranchName, got, want)
	}
	return nil
}

// gitFastImport makes a bare repository in dir with the history of the
// clone workload on branch main: one commit of every key of d (the path
// d.Key(i) holding d.Value(i, 0)), then one commit per entry of idx.
func gitFastImport(ctx context.Context, git, dir string, d Dataset, idx []int) error {
	if out, err := gitCommand(ctx, git, "init", "--bare", "-q", dir).CombinedOutput(); err != nil {
		return fmt.Errorf("git init: %w: %s", err, out)
	}
	cmd := gitCommand(ctx, git, "-C", dir, "fast-import", "--quiet")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out := &limitedBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return err
	}
	w := bufio.NewWriterSize(stdin, 1<<20)
	when := int64(1_700_000_000)
	commit := func(msg string) {
		fmt.Fprintf(w, "commit refs/heads/main\ncommitter bench <bench@strata> %d +0000\ndata %d\n%s\n", when, len(msg), msg)
		when++
	}
	file := func(i, gen int) {
		v := d.Value(i, gen)
		fmt.Fprintf(w, "M 100644 inline %s\ndata %d\n%s\n", d.Key(i), len(v), v)
	}
	commit("load")
	for i := range d.N {
		file(i, 0)
	}
	w.WriteString("\n")
	for j, i := range idx {
		commit("set")
		file(i, j+1)
		w.WriteString("\n")
	}
	werr := w.Flush()
	cerr := stdin.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git fast-import: %w: %s", err, out.b)
	}
	return errors.Join(werr, cerr)
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	b   []byte
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if n := l.max - len(l.b); n > 0 {
		l.b = append(l.b, p[:min(n, len(p))]...)
	}
	return len(p), nil
}

// redisURL is the URL of the store the Redis sync workloads push to.
func (s *syncRunner) redisURL() string { return "redis://" + s.o.RedisAddr + "/0?prefix=bench" }

func (s *syncRunner) flush(ctx context.Context) error {
	c := goredis.NewClient(&goredis.Options{Addr: s.o.RedisAddr})
	err := c.FlushAll(ctx).Err()
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("redis %s: flushall: %w", s.o.RedisAddr, err)
	}
	return nil
}

func (s *syncRunner) noRedis(ws ...string) bool {
	if s.o.RedisAddr != "" {
		return false
	}
	for _, w := range ws {
		for _, b := range []string{"strata-redis", "raw-redis"} {
			n := s.o.IncrKeys
			if w == WPushBulk {
				n = s.o.PushKeys
			} else if b == "raw-redis" {
				continue
			}
			if s.want(w, n, b) {
				r := s.syncResult(w, n, b)
				r.Skipped = "skipped: no Redis server"
				s.emit(r)
			}
		}
	}
	return true
}

func (s *syncRunner) pushBulk(ctx context.Context) (err error) {
	if s.noRedis(WPushBulk) {
		return nil
	}
	d := Dataset{Layout: s.o.Layout, N: s.o.PushKeys}
	src, srcDir, err := s.openStrata(ctx, "push-src")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, src.Close(), os.RemoveAll(srcDir)) }()
	if _, err := NewStrata(src, false, nil).Load(ctx, d); err != nil {
		return fmt.Errorf("load the source: %w", err)
	}

	res, err := s.sample(s.syncResult(WPushBulk, d.N, "strata-redis"), func() (*strata.SyncStats, time.Duration, error) {
		if err := s.flush(ctx); err != nil {
			return nil, 0, err
		}
		dst, err := strata.Open(ctx, s.redisURL())
		if err != nil {
			return nil, 0, err
		}
		start := time.Now()
		st, err := src.Push(ctx, dst, BranchName)
		el := time.Since(start)
		if cerr := dst.Close(); err == nil {
			err = cerr
		}
		return st, el, err
	})
	if err != nil {
		return fmt.Errorf("strata-redis: %w", err)
	}
	res.Items = res.Objects
	res.Note = syncNote(res, "rate: objects/s")

	// The floor SETs the very objects the push stored: read them back.
	objs, err := s.storedObjects(ctx)
	if err != nil {
		return err
	}
	if len(objs) != res.Objects {
		return fmt.Errorf("the push reported %d objects, the store holds %d", res.Objects, len(objs))
	}
	if s.want(WPushBulk, d.N, "strata-redis") {
		s.emit(res)
	}
	if !s.want(WPushBulk, d.N, "raw-redis") {
		return nil
	}
	raw, err := s.sample(s.syncResult(WPushBulk, d.N, "raw-redis"), func() (*strata.SyncStats, time.Duration, error) {
		if err := s.flush(ctx); err != nil {
			return nil, 0, err
		}
		c := goredis.NewClient(&goredis.Options{Addr: s.o.RedisAddr})
		defer c.Close()
		start := time.Now()
		for lo := 0; lo < len(objs); lo += RedisPipelineDepth {
			pipe := c.Pipeline()
			for _, o := range objs[lo:min(len(objs), lo+RedisPipelineDepth)] {
				pipe.Set(ctx, "raw:o:"+string(o.Hash[:]), o.Data, 0)
			}
			if _, err := pipe.Exec(ctx); err != nil {
				return nil, 0, err
			}
		}
		return nil, time.Since(start), nil
	})
	if err != nil {
		return fmt.Errorf("raw-redis: %w", err)
	}
	var total int64
	for _, o := range objs {
		total += int64(len(o.Data))
	}
	raw.Items, raw.Objects, raw.SyncBytes = len(objs), len(objs), total
	raw.Note = fmt.Sprintf("pipelined SETs (%d per pipeline) of the same %d objects, %s; rate: objects/s",
		RedisPipelineDepth, len(objs), formatBytes(total))
	s.emit(raw)
	return s.flush(ctx)
}

// storedObjects returns every object of the Redis store at redisURL.
func (s *syncRunner) storedObjects(ctx context.Context) (objs []backend.Object, err error) {
	kv, err := strata.Open(ctx, s.redisURL())
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, kv.Close()) }()
	st := kv.Backend()
	lister, ok := st.(backend.ObjectLister)
	if !ok {
		return nil, errors.New("the Redis backend does not list its objects")
	}
	var hs []backend.Hash
	if err := lister.ListObjects(ctx, nil, func(h backend.Hash) error {
		hs = append(hs, h)
		return nil
	}); err != nil {
		return nil, err
	}
	slices.SortFunc(hs, func(a, b backend.Hash) int { return slices.Compare(a[:], b[:]) })
	for _, h := range hs {
		data, err := st.Get(ctx, h)
		if err != nil {
			return nil, err
		}
		objs = append(objs, backend.Object{Hash: h, Data: data})
	}
	return objs, nil
}

func (s *syncRunner) incremental(ctx context.Context) (err error) {
	if s.noRedis(WPushIncr, WFetchNone) {
		return nil
	}
	d := Dataset{Layout: s.o.Layout, N: s.o.IncrKeys}
	rng := rand.New(rand.NewPCG(uint64(d.N), 13))
	start := time.Now()
	src, srcDir, err := s.openStrata(ctx, "incr-src")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, src.Close(), os.RemoveAll(srcDir)) }()
	t := NewStrata(src, false, nil)
	if _, err := t.Load(ctx, d); err != nil {
		return fmt.Errorf("load the source: %w", err)
	}
	gen := 0
	touch := func() error {
		gen++
		cs := make([]Change, 0, s.o.IncrTouch)
		seen := map[int]bool{}
		for len(cs) < min(s.o.IncrTouch, d.N) {
			if i := rng.IntN(d.N); !seen[i] {
				seen[i] = true
				cs = append(cs, Change{d.Key(i), d.Value(i, 2_000_000+gen)})
			}
		}
		_, err := t.Commit(ctx, cs)
		return err
	}
	for range s.o.IncrCommits {
		if err := touch(); err != nil {
			return fmt.Errorf("commit on the source: %w", err)
		}
	}
	if err := s.flush(ctx); err != nil {
		return err
	}
	dst, err := strata.Open(ctx, s.redisURL())
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, dst.Close(), s.flush(context.Background())) }()
	st, err := src.Push(ctx, dst, BranchName)
	if err != nil {
		return fmt.Errorf("push the history: %w", err)
	}
	s.o.Logf("push-incr: history of %d keys and %d commits made and pushed (%d objects) in %s",
		d.N, s.o.IncrCommits, st.Objects, fmtDur(time.Since(start)))

	if s.want(WPushIncr, d.N, "strata-redis") {
		res, err := s.sample(s.syncResult(WPushIncr, d.N, "strata-redis"), func() (*strata.SyncStats, time.Duration, error) {
			if err := touch(); err != nil {
				return nil, 0, err
			}
			start := time.Now()
			st, err := src.Push(ctx, dst, BranchName)
			el := time.Since(start)
			if err != nil {
				return nil, 0, err
			}
			if st.Refs != 1 {
				return nil, 0, fmt.Errorf("the push moved %d refs, want 1", st.Refs)
			}
			return st, el, nil
		})
		if err != nil {
			return err
		}
		res.Note = syncNote(res, fmt.Sprintf("one commit of %d keys; time: the call", s.o.IncrTouch))
		s.emit(res)
	}
	if s.want(WFetchNone, d.N, "strata-redis") {
		// The first fetch makes the remote-tracking ref; the timed ones
		// find nothing new.
		if _, err := src.Fetch(ctx, dst, "origin"); err != nil {
			return fmt.Errorf("%s: %w", WFetchNone, err)
		}
		res, err := s.sample(s.syncResult(WFetchNone, d.N, "strata-redis"), func() (*strata.SyncStats, time.Duration, error) {
			start := time.Now()
			st, err := src.Fetch(ctx, dst, "origin")
			el := time.Since(start)
			if err != nil {
				return nil, 0, err
			}
			if st.Objects != 0 || st.Refs != 0 {
				return nil, 0, fmt.Errorf("a fetch with nothing new wrote %d objects and %d refs", st.Objects, st.Refs)
			}
			return st, el, nil
		})
		if err != nil {
			return fmt.Errorf("%s: %w", WFetchNone, err)
		}
		res.Note = syncNote(res, "local disk store from the Redis store; time: the call")
		s.emit(res)
	}
	return nil
}

// SyncRef compares a strata clone with git's (strata's time ÷ git's:
// 0.5 is 2× faster), and otherwise is DefaultRef (so a bulk push is
// compared with the raw-redis floor, per object).
func SyncRef(r Result, all []Result) (Result, string, bool) {
	if r.Workload == WClone && r.Backend != "git" {
		ref, ok := find(all, WClone, r.Layout, r.N, "git")
		return ref, "git", ok
	}
	if r.Backend == "git" {
		return Result{}, "", false
	}
	return DefaultRef(r, all)
}
