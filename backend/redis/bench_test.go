package redis_test

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/backendtest"
	"github.com/stratakv/strata/backend/redis"
	"github.com/stratakv/strata/internal/redistest"
)

// benchObjects returns n objects of size bytes with distinct hashes.
func benchObjects(n, size, seed int) []backend.Object {
	objs := make([]backend.Object, n)
	for i := range objs {
		objs[i] = backend.Object{Hash: backendtest.HashOf(fmt.Sprint(seed, "/", i)), Data: make([]byte, size)}
		binary.LittleEndian.PutUint64(objs[i].Data, uint64(i))
	}
	return objs
}

func BenchmarkPut100x1KiB(b *testing.B) {
	s := openBench(b)
	objs := benchObjects(100, 1024, 0)
	b.SetBytes(100 * 1024)
	for b.Loop() {
		if err := s.Put(b.Context(), objs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetMany100x1KiB(b *testing.B) {
	s := openBench(b)
	objs := benchObjects(100, 1024, 0)
	if err := s.Put(b.Context(), objs); err != nil {
		b.Fatal(err)
	}
	hs := hashesOf(objs)
	b.SetBytes(100 * 1024)
	for b.Loop() {
		if _, err := s.GetMany(b.Context(), hs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	s := openBench(b)
	objs := benchObjects(1, 1024, 0)
	if err := s.Put(b.Context(), objs); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Get(b.Context(), objs[0].Hash); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompareAndSwapRef(b *testing.B) {
	s := openBench(b)
	values := [2]backend.Hash{backendtest.HashOf("a"), backendtest.HashOf("b")}
	if err := s.CompareAndSwapRef(b.Context(), "refs/heads/main", backend.ZeroHash, values[0]); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		if err := s.CompareAndSwapRef(b.Context(), "refs/heads/main", values[i%2], values[(i+1)%2]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func openBench(b *testing.B) *redis.Store {
	b.Helper()
	srv := redistest.Start(b)
	s, err := redis.Open(b.Context(), srv.URL(randomPrefix()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// BenchmarkPutAndSwapRef is the backend's part of one small commit (see
// backendtest.BenchPutAndSwapRef), in one round trip.
func BenchmarkPutAndSwapRef(b *testing.B) {
	backendtest.BenchPutAndSwapRef(b, openBench(b))
}
