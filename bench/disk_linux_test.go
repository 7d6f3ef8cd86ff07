package bench_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// BenchmarkSyncedWrite measures what the disk under the temp directory
// charges for a write followed by fdatasync, as a write-ahead log does for
// each synced commit: appended to a file (the file grows, so the sync
// also writes the file's metadata, and more of it for a write that
// reaches a new block), or over bytes written and synced before (as in a
// recycled log file, whose sync writes only data), for the sizes of a
// single-key put (100 B) and of a small strata commit (5,400 B). A synced
// Pebble put at 10⁵ keys appends about 100 bytes, a strata commit about
// 5.4 KB: docs/PERF-HISTORY.md quotes the difference. It also reports the median
// and 99th percentile of one write and sync (p50-ns, p99-ns) and their
// ratio (p99/p50): the disk's own tail, under any tail of commit latency
// (issue 11's group-commit target is p99 at most 5× p50).
func BenchmarkSyncedWrite(b *testing.B) {
	for _, mode := range []string{"append", "overwrite"} {
		for _, size := range []int{100, 5400} {
			b.Run(fmt.Sprintf("%s/bytes=%d", mode, size), func(b *testing.B) {
				f, err := os.Create(filepath.Join(b.TempDir(), "log"))
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				buf := make([]byte, size)
				if mode == "overwrite" {
					n := int64(b.N+1) * int64(size)
					if err := f.Truncate(n); err != nil {
						b.Fatal(err)
					}
					// Write every block once, so that no write below
					// allocates or converts an extent.
					chunk := make([]byte, 1<<20)
					for off := int64(0); off < n; off += int64(len(chunk)) {
						if _, err := f.WriteAt(chunk[:min(int64(len(chunk)), n-off)], off); err != nil {
							b.Fatal(err)
						}
					}
					if err := f.Sync(); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(int64(size))
				lats := make([]time.Duration, b.N)
				b.ResetTimer()
				for i := range b.N {
					t0 := time.Now()
					if _, err := f.WriteAt(buf, int64(i)*int64(size)); err != nil {
						b.Fatal(err)
					}
					if err := syscall.Fdatasync(int(f.Fd())); err != nil {
						b.Fatal(err)
					}
					lats[i] = time.Since(t0)
				}
				b.StopTimer()
				slices.Sort(lats)
				p50, p99 := lats[(b.N-1)/2], lats[(b.N*99+99)/100-1]
				b.ReportMetric(float64(p50), "p50-ns")
				b.ReportMetric(float64(p99), "p99-ns")
				b.ReportMetric(float64(p99)/float64(max(p50, 1)), "p99/p50")
			})
		}
	}
}
