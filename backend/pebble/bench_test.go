package pebble_test

import (
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

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
