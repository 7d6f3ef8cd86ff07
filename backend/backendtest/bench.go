package backendtest

import (
	"encoding/binary"
	"testing"

	"github.com/stratakv/strata/backend"
)

// BenchPutAndSwapRef measures the backend's part of one small commit, the
// same on every backend: five new objects (one 2.3 KB leaf, three 0.5 KB
// index objects and a commit: the objects of a single-key commit at
// 100,000 keys) stored and branch "heads/main" moved onto the last of them
// with backend.PutAndSwapRef (one atomic write where s supports it). The
// objects' hashes are counters, not BLAKE3: backends never hash. s must be
// empty; the caller closes it.
func BenchPutAndSwapRef(b *testing.B, s backend.Store) {
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
		if err := backend.PutAndSwapRef(b.Context(), s, objs, "heads/main", head, next); err != nil {
			b.Fatal(err)
		}
		head = next
	}
}
