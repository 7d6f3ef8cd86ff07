package httpstore

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
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
