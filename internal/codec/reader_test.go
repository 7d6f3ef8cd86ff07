package codec_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/stratakv/strata/internal/codec"
)

func encode(t *testing.T, f func(*msgpack.Encoder) error) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := f(msgpack.NewEncoder(&buf)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// header returns a length header of the given marker and width.
func header(marker byte, width int, n int) []byte {
	b := []byte{marker}
	switch width {
	case 1:
		b = append(b, byte(n))
	case 2:
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	case 4:
		b = binary.BigEndian.AppendUint32(b, uint32(n))
	}
	return b
}

// TestReaderLengthBoundaries checks, at every boundary between two header
// sizes, that Reader accepts what the encoder writes and rejects the same
// length in a longer header than needed.
func TestReaderLengthBoundaries(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 31, 32, 255, 256, 65535, 65536} {
		body := bytes.Repeat([]byte{'x'}, n)
		// Canonical forms, as the encoder writes them, read back.
		r := codec.NewReader(encode(t, func(e *msgpack.Encoder) error { return e.EncodeBytes(body) }))
		if got, err := r.Bytes("bin"); err != nil || !bytes.Equal(got, body) || r.Len() != 0 {
			t.Errorf("bin of %d: %d bytes, %v", n, len(got), err)
		}
		r = codec.NewReader(encode(t, func(e *msgpack.Encoder) error { return e.EncodeString(string(body)) }))
		if got, err := r.String("str"); err != nil || got != string(body) || r.Len() != 0 {
			t.Errorf("str of %d: %d bytes, %v", n, len(got), err)
		}
		arr := encode(t, func(e *msgpack.Encoder) error { return e.EncodeArrayLen(n) })
		r = codec.NewReader(append(arr, body...))
		if got, err := r.ArrayLen("array", 1); err != nil || got != n {
			t.Errorf("array of %d: %d, %v", n, got, err)
		}
		// Longer headers than needed are rejected.
		for _, h := range []struct {
			marker byte
			width  int
			min    int
		}{{0xc5, 2, 256}, {0xc6, 4, 65536}} {
			if n < h.min {
				b := append(header(h.marker, h.width, n), body...)
				if _, err := codec.NewReader(b).Bytes("bin"); err == nil {
					t.Errorf("bin of %d in header %x accepted", n, h.marker)
				}
			}
		}
		for _, h := range []struct {
			marker byte
			width  int
			min    int
		}{{0xd9, 1, 32}, {0xda, 2, 256}, {0xdb, 4, 65536}} {
			if n < h.min {
				b := append(header(h.marker, h.width, n), body...)
				if _, err := codec.NewReader(b).String("str"); err == nil {
					t.Errorf("str of %d in header %x accepted", n, h.marker)
				}
			}
		}
		for _, h := range []struct {
			marker byte
			width  int
			min    int
		}{{0xdc, 2, 16}, {0xdd, 4, 65536}} {
			if n < h.min {
				b := append(header(h.marker, h.width, n), body...)
				if _, err := codec.NewReader(b).ArrayLen("array", 1); err == nil {
					t.Errorf("array of %d in header %x accepted", n, h.marker)
				}
			}
		}
	}
}

// TestReaderIntegers checks that integers are read only at their fixed
// width, whatever their value.
func TestReaderIntegers(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 255} {
		b := encode(t, func(e *msgpack.Encoder) error { return e.EncodeUint8(uint8(v)) })
		if got, err := codec.NewReader(b).Uint8("u8"); err != nil || uint64(got) != v {
			t.Errorf("uint8 %d: %d, %v", v, got, err)
		}
	}
	for _, v := range []uint64{0, 1, math.MaxUint64} {
		b := encode(t, func(e *msgpack.Encoder) error { return e.EncodeUint64(v) })
		if got, err := codec.NewReader(b).Uint64("u64"); err != nil || got != v {
			t.Errorf("uint64 %d: %d, %v", v, got, err)
		}
	}
	for _, v := range []int64{math.MinInt64, -1, 0, 1, math.MaxInt64} {
		b := encode(t, func(e *msgpack.Encoder) error { return e.EncodeInt64(v) })
		if got, err := codec.NewReader(b).Int64("i64"); err != nil || got != v {
			t.Errorf("int64 %d: %d, %v", v, got, err)
		}
	}
	// Compact and other-width forms of small values are all rejected.
	compact := [][]byte{{0x01}, {0xe0}, {0xcd, 0, 1}, {0xce, 0, 0, 0, 1}, {0xd0, 1}, {0xd1, 0, 1}, {0xd2, 0, 0, 0, 1}, {0xc0}, {0xc2}}
	for _, b := range compact {
		if _, err := codec.NewReader(b).Uint8("u8"); err == nil {
			t.Errorf("uint8 from %x accepted", b)
		}
		if _, err := codec.NewReader(b).Uint64("u64"); err == nil {
			t.Errorf("uint64 from %x accepted", b)
		}
		if _, err := codec.NewReader(b).Int64("i64"); err == nil {
			t.Errorf("int64 from %x accepted", b)
		}
	}
	if _, err := codec.NewReader([]byte{0xcf, 0, 0, 0, 0, 0, 0, 0, 0}).Int64("i64"); err == nil {
		t.Error("int64 from a uint64 accepted")
	}
	if _, err := codec.NewReader([]byte{0xd3, 0, 0, 0, 0, 0, 0, 0, 0}).Uint64("u64"); err == nil {
		t.Error("uint64 from an int64 accepted")
	}
}

// TestReaderDeclaredLengths checks that a length the input cannot hold is
// an error naming the field and offset, whatever the header.
func TestReaderDeclaredLengths(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		read func(*codec.Reader) error
	}{
		{"bin32", []byte{0xc6, 0xff, 0xff, 0xff, 0xff}, func(r *codec.Reader) error { _, err := r.Bytes("value"); return err }},
		{"bin8", []byte{0xc4, 2, 'x'}, func(r *codec.Reader) error { _, err := r.Bytes("value"); return err }},
		{"str32", []byte{0xdb, 0xff, 0xff, 0xff, 0xff}, func(r *codec.Reader) error { _, err := r.String("value"); return err }},
		{"fixstr", []byte{0xa3, 'x'}, func(r *codec.Reader) error { _, err := r.String("value"); return err }},
		{"array32", []byte{0xdd, 0xff, 0xff, 0xff, 0xff}, func(r *codec.Reader) error { _, err := r.ArrayLen("value", 1); return err }},
		{"fixarray", []byte{0x93, 0, 0}, func(r *codec.Reader) error { _, err := r.ArrayLen("value", 1); return err }},
		{"array of hashes", append([]byte{0x92}, make([]byte, 40)...), func(r *codec.Reader) error { _, err := r.ArrayLen("value", 34); return err }},
		{"truncated uint64", []byte{0xcf, 0, 0}, func(r *codec.Reader) error { _, err := r.Uint64("value"); return err }},
		{"empty", nil, func(r *codec.Reader) error { _, err := r.Uint8("value"); return err }},
		{"hash of 31", append([]byte{0xc4, 31}, make([]byte, 31)...), func(r *codec.Reader) error { _, err := r.Hash("value"); return err }},
	} {
		err := tc.read(codec.NewReader(tc.in))
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if !strings.HasPrefix(err.Error(), "value at byte 0: ") {
			t.Errorf("%s: error %q does not name the field and offset", tc.name, err)
		}
	}
}

// TestDecodeHeader checks the object header: an object of another kind is
// named as such, whatever its field count.
func TestDecodeHeader(t *testing.T) {
	body := func(r *codec.Reader) error { _, err := r.Uint8("x"); return err }
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{[]byte{0x93, 0xcc, 2, 0xcc, 1, 0xcc, 0}, "corrupt object: contents: type tag is node"},
		{[]byte{0x93, 0xcc, 1, 0xcc, 2, 0xcc, 0}, "corrupt object: contents: format version 2, this build reads 1"},
		{[]byte{0x94, 0xcc, 1, 0xcc, 1, 0xcc, 0, 0xc0}, "corrupt object: contents: 4 fields, want 3"},
		{[]byte{0x93, 0xcc, 1, 0xcc, 1, 0xcc, 0, 0xc0}, "corrupt object: contents: 1 trailing bytes"},
		{[]byte{0x93, 0x01, 0xcc, 1, 0xcc, 0}, "corrupt object: contents: type tag at byte 1: marker 0x01, want uint8 (0xcc)"},
	} {
		err := codec.Decode(tc.in, codec.TagContents, 1, body)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%x: %s", tc.in, diff)
		}
	}
}
