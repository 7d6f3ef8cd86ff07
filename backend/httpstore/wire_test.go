package httpstore

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"testing"
)

// TestReadBytesAllocatesWhatArrives: a body of a few bytes that claims an
// object of 200 MiB is refused without allocating anywhere near that (a
// handful of such requests would otherwise exhaust the server's memory),
// and fields of every size still read back whole.
func TestReadBytesAllocatesWhatArrives(t *testing.T) {
	var claim [binary.MaxVarintLen64]byte
	body := append(make([]byte, 32), claim[:binary.PutUvarint(claim[:], 200<<20)]...)
	body = append(body, "only this"...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := readObjects(bytes.NewReader(body))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("readObjects of a truncated object: %v, want an invalid request", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
		t.Errorf("a %d-byte body claiming 200 MiB allocated %d bytes", len(body), got)
	}
	for _, n := range []int{0, 1, 1<<20 - 1, 1 << 20, 1<<20 + 1, 3<<20 + 7} {
		data := bytes.Repeat([]byte{'x'}, n)
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		writeBytes(w, data)
		w.Flush()
		got, err := readBytes(bufio.NewReader(&b), MaxObject)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("readBytes of %d bytes: %d bytes, %v", n, len(got), err)
		}
	}
}

// TestReadObjectsOverCap: a body longer than the cap is too large (413),
// not malformed, wherever the cap falls: inside an object's hash, its
// length, its data, or between two objects; a body that ends within the
// cap is read whole, and one that ends short within it is malformed.
func TestReadObjectsOverCap(t *testing.T) {
	obj := func(n int) []byte {
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		w.Write(make([]byte, 32))
		writeBytes(w, bytes.Repeat([]byte{'x'}, n))
		w.Flush()
		return b.Bytes()
	}
	two := append(obj(100), obj(100)...) // 2 × (32 + 1 + 100) bytes
	for _, limit := range []int{10, 32, 33, 60, 133, 134, 140, 265} {
		_, err := readObjectsUpTo(bytes.NewReader(two), limit)
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("a %d-byte body with a cap of %d: %v; want ErrTooLarge", len(two), limit, err)
		}
	}
	if objs, err := readObjectsUpTo(bytes.NewReader(two), len(two)); err != nil || len(objs) != 2 {
		t.Errorf("a %d-byte body with a cap of as much: %d objects, %v; want 2", len(two), len(objs), err)
	}
	if _, err := readObjectsUpTo(bytes.NewReader(two[:len(two)-1]), len(two)); !errors.Is(err, ErrInvalid) {
		t.Errorf("a body that ends inside an object, within the cap: %v; want ErrInvalid", err)
	}
	if code, status := codeOf(fmt.Errorf("x: %w", ErrTooLarge)); code != "too_large" || status != 413 {
		t.Errorf("ErrTooLarge answers %d %s; want 413 too_large", status, code)
	}
}
