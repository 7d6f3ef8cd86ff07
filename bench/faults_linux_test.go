package bench

import (
	"bytes"
	"context"
	"os"
	"syscall"
	"testing"

	"github.com/stratakv/strata/internal/redistest"
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
	// faultCount over two spans of pages operations, with a scripted
	// counter: pages faults in each gives 1 per operation; none gives 0;
	// one unknown reading (-1) leaves the whole count unreported.
	counter := func(readings ...int64) func() int64 {
		return func() int64 { r := readings[0]; readings = readings[1:]; return r }
	}
	for _, tc := range []struct {
		readings []int64
		want     float64
	}{
		{[]int64{10, 10 + pages, 100, 100 + pages}, 1},
		{[]int64{10, 10, 20, 20}, 0},
		{[]int64{10, 10 + pages, -1, 100}, 0},
	} {
		c := faultCount{read: counter(tc.readings...)}
		for range 2 {
			c.begin()
			c.end()
		}
		if got := c.perOp(2 * pages); got != tc.want {
			t.Errorf("faults per op of readings %v = %v, want %v", tc.readings, got, tc.want)
		}
	}
}

// TestProcessMinorFaults checks that processMinorFaults reads this
// process's count from /proc as getrusage reports it: between two
// readings of minorFaults.
func TestProcessMinorFaults(t *testing.T) {
	before := minorFaults()
	got := processMinorFaults(os.Getpid())
	after := minorFaults()
	if got < before || got > after {
		t.Fatalf("processMinorFaults = %d, want between %d and %d", got, before, after)
	}
	if got := processMinorFaults(-1); got != -1 {
		t.Fatalf("processMinorFaults of no process = %d, want -1", got)
	}
}

// TestServerFaults: the Redis factories of Standard count their server's
// faults (Factory.ServerFaults), and a server that stores 8 MB of new
// keys takes at least a fault for every 4 pages of it.
func TestServerFaults(t *testing.T) {
	ctx := context.Background()
	fs, missing, closeAll, err := Standard(ctx, []string{"strata-redis", "raw-redis"}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = closeAll() }()
	if missing != "" {
		if os.Getenv(redistest.RequireVar) == "require" {
			t.Fatal(missing)
		}
		t.Skip(missing)
	}
	if len(fs) != 2 {
		t.Fatalf("%d factories", len(fs))
	}
	for _, f := range fs {
		if f.ServerFaults == nil || f.ServerFaults() < 0 {
			t.Fatalf("%s: no server fault count", f.Name)
		}
	}
	tg, err := fs[1].New(ctx) // raw-redis: SETs
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	before := fs[1].ServerFaults()
	const n, size = 2048, 4096
	d := Dataset{Layout: Flat, N: n}
	for i := range n {
		if err := tg.(*rawRedis).c.Set(ctx, d.Key(i), bytes.Repeat([]byte{byte(i)}, size), 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	got := fs[1].ServerFaults() - before
	t.Logf("storing %d new keys of %d bytes: %d server faults", n, size, got)
	if got < n*size/4096/4 {
		t.Errorf("storing %d new keys of %d bytes: %d server faults, want at least %d", n, size, got, n*size/4096/4)
	}
}
