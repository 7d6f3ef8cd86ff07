package pebble_test

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/backendtest"
	"github.com/stratakv/strata/backend/pebble"
)

// BenchmarkPutAndSwapRef is the backend's part of one small commit (see
// backendtest.BenchPutAndSwapRef): one batch, on an in-memory file system,
// so that the fsync a commit pays on a disk is left out (the flushes and
// compactions of what the commits write are not).
func BenchmarkPutAndSwapRef(b *testing.B) {
	s, err := pebble.Open(b.Context(), "/db", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	backendtest.BenchPutAndSwapRef(b, s)
}

// BenchmarkSyncedCommitBytes is one commit's synced batch on disk, by the
// bytes it writes: what a commit's size adds to the fsync it pays, and to
// its tail. A single-key commit at 10⁵ keys writes 5–9 KB, and a group
// of 8 such commits 43–72 KB (see docs/PERF-HISTORY.md, "Issue 11,
// session 7" and "session 8"). Besides the mean
// it reports the median and the 99th percentile of the commits' times
// (p50-µs, p99-µs) and their ratio (p99/p50).
func BenchmarkSyncedCommitBytes(b *testing.B) {
	for _, size := range []int{80, 4 << 10, 12 << 10, 32 << 10, 64 << 10, 96 << 10} {
		b.Run(fmt.Sprintf("bytes=%d", size), func(b *testing.B) {
			s, err := pebble.Open(b.Context(), b.TempDir(), nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			n := (size + 3071) / 3072 // objects of at most 3 KB each
			var head backend.Hash
			var times []time.Duration
			b.SetBytes(int64(size))
			for i := 0; b.Loop(); i++ {
				objs := make([]backend.Object, n)
				for j := range objs {
					binary.BigEndian.PutUint64(objs[j].Hash[:], uint64(i*n+j+1)) // never the zero hash: every commit moves the ref
					objs[j].Data = make([]byte, size/n)
				}
				next := objs[n-1].Hash
				start := time.Now()
				if err := s.PutAndSwapRef(b.Context(), objs, "main", head, next); err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(start))
				head = next
			}
			slices.Sort(times)
			at := func(q float64) float64 { return float64(times[int(q*float64(len(times)-1))]) }
			b.ReportMetric(at(0.50)/1e3, "p50-µs")
			b.ReportMetric(at(0.99)/1e3, "p99-µs")
			b.ReportMetric(at(0.99)/at(0.50), "p99/p50")
		})
	}
}

// BenchmarkSwapRefs8 is 8 goroutines, each committing to a ref of its own
// (8 branches written at once) with PutAndSwapRef, on disk: a commit of
// 3 objects and 6 KB, as a small commit at 10⁵ keys writes. b.N commits
// in all; the time per op is the wall time of one commit's share.
func BenchmarkSwapRefs8(b *testing.B) {
	s, err := pebble.Open(b.Context(), b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	const writers = 8
	var next atomic.Uint64
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			name := fmt.Sprintf("heads/b%d", w)
			var head backend.Hash
			for {
				i := next.Add(1)
				if i > uint64(b.N) {
					return
				}
				objs := make([]backend.Object, 3)
				for j := range objs {
					binary.BigEndian.PutUint64(objs[j].Hash[:], i*3+uint64(j))
					objs[j].Data = make([]byte, 2048)
				}
				new := objs[2].Hash
				if err := s.PutAndSwapRef(b.Context(), objs, name, head, new); err != nil {
					b.Error(err)
					return
				}
				head = new
			}
		})
	}
	wg.Wait()
}
