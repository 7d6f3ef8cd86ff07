package pebble_test

import (
	"encoding/binary"
	"fmt"
	"testing"

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
// bytes it writes: what a commit's size adds to the fsync it pays. A
// commit at 10⁵ keys allocates about 11 KB, most of it the objects it
// writes (see docs/PERF.md, "Issue 11, session 7").
func BenchmarkSyncedCommitBytes(b *testing.B) {
	for _, size := range []int{80, 4 << 10, 12 << 10, 32 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("bytes=%d", size), func(b *testing.B) {
			s, err := pebble.Open(b.Context(), b.TempDir(), nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			n := (size + 3071) / 3072 // objects of at most 3 KB each
			var head backend.Hash
			b.SetBytes(int64(size))
			for i := 0; b.Loop(); i++ {
				objs := make([]backend.Object, n)
				for j := range objs {
					binary.BigEndian.PutUint64(objs[j].Hash[:], uint64(i*n+j+1)) // never the zero hash: every commit moves the ref
					objs[j].Data = make([]byte, size/n)
				}
				next := objs[n-1].Hash
				if err := s.PutAndSwapRef(b.Context(), objs, "main", head, next); err != nil {
					b.Fatal(err)
				}
				head = next
			}
		})
	}
}
