package bench_test

import (
	"syscall"
	"testing"
)

// BenchmarkFreshPage measures what the machine charges for the first
// write to a page of memory the process has never touched (a page fault
// that the kernel, and under a hypervisor the host too, must serve),
// against a write to a page touched before. A store that grows pays the
// first for every 4 KiB it keeps: strata on mem keeps a commit's objects
// in its own heap, a Redis server in its own. On a virtual machine that
// hands freed memory back to its host (free page reporting), every page
// the guest has freed is fresh again. docs/PERF.md quotes it. The
// transparent_hugepage subtest asks for huge pages (MADV_HUGEPAGE), which
// the kernel grants only if /sys/kernel/mm/transparent_hugepage/enabled
// is "always" or "madvise".
func BenchmarkFreshPage(b *testing.B) {
	const region = 256 << 20 // pages per mapping: 65,536
	page := syscall.Getpagesize()
	touch := func(b *testing.B, huge, twice bool) {
		var buf []byte
		off := region // start with a new mapping
		defer func() {
			if buf != nil {
				_ = syscall.Munmap(buf)
			}
		}()
		b.ResetTimer()
		for range b.N {
			if off == region && twice && buf != nil {
				// Every page of the mapping is touched: write it again
				// rather than touch a new one untimed, which would take
				// minutes at the default -benchtime.
				off = 0
			}
			if off == region {
				b.StopTimer()
				if buf != nil {
					if err := syscall.Munmap(buf); err != nil {
						b.Fatal(err)
					}
				}
				var err error
				buf, err = syscall.Mmap(-1, 0, region, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
				if err != nil {
					b.Fatal(err)
				}
				if huge {
					if err := syscall.Madvise(buf, 14 /* MADV_HUGEPAGE */); err != nil {
						b.Skipf("madvise(MADV_HUGEPAGE): %v", err)
					}
				}
				if twice {
					for i := 0; i < region; i += page {
						buf[i] = 1
					}
				}
				off = 0
				b.StartTimer()
			}
			buf[off] = 2
			off += page
		}
	}
	b.Run("fresh", func(b *testing.B) { touch(b, false, false) })
	b.Run("touched", func(b *testing.B) { touch(b, false, true) })
	b.Run("transparent_hugepage", func(b *testing.B) { touch(b, true, false) })
}
