package bench

import (
	"syscall"
	"testing"
)

// TestMinorFaults checks that minorFaults counts the first touch of each
// page of a new mapping: the faults/op column (Result.FaultsPerOp) rests
// on it.
func TestMinorFaults(t *testing.T) {
	const pages = 256
	size := pages * syscall.Getpagesize()
	buf, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Munmap(buf) }()
	before := minorFaults()
	if before < 0 {
		t.Fatal("minorFaults: unknown on Linux")
	}
	for i := 0; i < size; i += syscall.Getpagesize() {
		buf[i] = 1
	}
	// Transparent huge pages may serve the mapping with fewer faults, but
	// only if it is aligned and large enough (2 MiB), which 1 MiB is not.
	if got := minorFaults() - before; got < pages {
		t.Errorf("touching %d new pages: %d minor faults, want at least %d", pages, got, pages)
	}
	if got := faultsPer(2*pages, pages); got != 2 {
		t.Errorf("faultsPer(%d, %d) = %v, want 2", 2*pages, pages, got)
	}
	if got := faultsPer(0, pages); got != 0 {
		t.Errorf("faultsPer(0, %d) = %v, want 0", pages, got)
	}
}
