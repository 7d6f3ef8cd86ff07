package pebble_test

import (
	"encoding/binary"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/pebble"
)

// BenchmarkPutAndSwapRef is the backend's part of one small commit: five
// new objects (one 2.3 KB leaf, three 0.5 KB index objects and a commit,
// the objects of a single-key commit at 100,000 keys) stored and the
// branch moved in one batch, on an in-memory file system, so that the
// fsync a commit pays on a disk is left out (the flushes and compactions
// of what the commits write are not).
func BenchmarkPutAndSwapRef(b *testing.B) {
	s, err := pebble.Open(b.Context(), "/db", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	sizes := []int{2300, 520, 510, 480, 300}
	objs := make([]backend.Object, len(sizes))
	for j, size := range sizes {
		objs[j].Data = make([]byte, size)
	}
	head := backend.ZeroHash
	var n uint64
	b.ReportAllocs()
	for b.Loop() {
		for j := range objs {
			n++
			binary.LittleEndian.PutUint64(objs[j].Hash[:], n)
		}
		next := objs[len(objs)-1].Hash
		if err := s.PutAndSwapRef(b.Context(), objs, "heads/main", head, next); err != nil {
			b.Fatal(err)
		}
		head = next
	}
}
