// Package codectest holds test helpers for the object decoders of the
// packages contents, node and commit: the properties their fuzz targets and
// regression tests check.
package codectest

import (
	"bytes"
	"encoding/hex"
	"errors"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/stratakv/strata/backend"
)

// allocsMetric counts the bytes the Go heap has handed out. Reading it does
// not stop the world, unlike runtime.ReadMemStats, so a fuzz target can read
// it on every input. Small objects are counted a span at a time, so a delta
// is exact only to a few tens of KiB: good enough to tell a bounded decode
// from one that trusts a declared length of gigabytes.
const allocsMetric = "/gc/heap/allocs:bytes"

// allocBound is the most a decoder may allocate for an input of n bytes:
// a fixed slack for span-granular counting plus a multiple of the input.
func allocBound(n int) uint64 { return 1<<20 + 64*uint64(n) }

func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: allocsMetric}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// RoundTrip is the property every decoder must have, for any input data:
// decode never panics, allocates at most a bound proportional to
// len(data), and either fails with an error wrapping backend.ErrCorrupt or
// succeeds with a value whose canonical encoding is exactly data. decode
// returns the decoded value's encoding (or the decode error); an error from
// encoding a value that decoded is a failure too.
func RoundTrip(t *testing.T, data []byte, decodeEncode func([]byte) ([]byte, error, error)) {
	t.Helper()
	in := bytes.Clone(data)
	before := heapAllocs()
	enc, decErr, encErr := decodeEncode(data)
	if used := heapAllocs() - before; used > allocBound(len(data)) {
		t.Fatalf("decoding %d bytes allocated %d bytes (bound %d)", len(data), used, allocBound(len(data)))
	}
	if !bytes.Equal(in, data) {
		t.Fatalf("decoder modified its input")
	}
	if decErr != nil {
		if !errors.Is(decErr, backend.ErrCorrupt) {
			t.Fatalf("decode error %v does not wrap ErrCorrupt", decErr)
		}
		return
	}
	if encErr != nil {
		t.Fatalf("%x decoded, but its value does not encode: %v", data, encErr)
	}
	if !bytes.Equal(enc, data) {
		t.Fatalf("decode accepted a non-canonical encoding:\n input %x\nre-enc %x", data, enc)
	}
}

// RejectsSmall checks that decode rejects data with an error wrapping
// backend.ErrCorrupt and allocates little doing so (a few KiB per call, far
// below any length data declares). It measures with runtime.ReadMemStats
// over many calls, so the count is exact; it is not a timing.
func RejectsSmall(t *testing.T, data []byte, decode func([]byte) error) {
	t.Helper()
	const runs = 100
	var err error
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		err = decode(data)
	}
	runtime.ReadMemStats(&after)
	if !errors.Is(err, backend.ErrCorrupt) {
		t.Errorf("%x: err = %v, want ErrCorrupt", data, err)
	}
	if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 4096 {
		t.Errorf("%x (%d bytes): decode allocated %d bytes per call", data, len(data), per)
	}
}

// Hex joins hexadecimal strings, which may contain spaces, into bytes.
func Hex(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(strings.Join(parts, ""), " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
