package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend/pebble"
)

// GCFixture builds the store of issue 15's GC target in a new directory
// under parent ("" means os.TempDir()): a bulk load of keys keys (layout
// Nested) in one commit, then commits commits setting one random key each
// (MakeHistory), on branch BranchName of an on-disk (Pebble) store,
// whose object key range is then compacted. It returns the store's
// directory; the caller removes it.
func GCFixture(ctx context.Context, parent string, keys, commits int) (string, error) {
	dir, err := os.MkdirTemp(parent, "stratabench-gc-*")
	if err != nil {
		return "", err
	}
	s, err := pebble.Open(ctx, dir, nil)
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	t := NewStrataBackend(s, false, nil)
	d := Dataset{Layout: Nested, N: keys}
	if _, err := t.Load(ctx, d); err == nil {
		_, err = MakeHistory(ctx, t, d, rand.New(rand.NewPCG(15, 15)), commits, nil)
	}
	if err == nil {
		// Settle the store as a long-lived one is: without this, Pebble
		// goes on compacting the fresh tables in the background of the
		// first measurements.
		err = s.Compact(ctx)
	}
	if cerr := t.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("gc fixture: %w", err)
	}
	return dir, nil
}

// GCResult is one measured GC.
type GCResult struct {
	Stats    strata.GCStats
	MarkRate float64       // objects marked per second of the mark (wall time)
	CPU      time.Duration // CPU time (user+system) the process used during the GC; 0 if unknown
	CPURate  float64       // objects marked per CPU second of the whole GC (dry run: list + mark + count); 0 if unknown
}

// MeasureGC opens the store in dir (a fresh open: Pebble's block cache is
// cold, the operating system's page cache is whatever it is), runs GC
// (with opts; a dry run by default, so it can be repeated), closes the
// store and returns the statistics.
func MeasureGC(ctx context.Context, dir string, opts ...strata.GCOption) (GCResult, error) {
	kv, err := strata.Open(ctx, dir)
	if err != nil {
		return GCResult{}, err
	}
	if len(opts) == 0 {
		opts = []strata.GCOption{strata.DryRun()}
	}
	cpu0 := cpuTime()
	st, err := kv.GC(ctx, append(opts, strata.GCGrace(0))...)
	cpu := cpuTime() - cpu0
	if cerr := kv.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return GCResult{}, err
	}
	r := GCResult{Stats: *st, CPU: cpu}
	if cpu > 0 {
		r.CPURate = float64(st.Marked) / cpu.Seconds()
	}
	if st.MarkTime > 0 {
		r.MarkRate = float64(st.Marked) / st.MarkTime.Seconds()
	}
	return r, nil
}
