package codec_test

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/internal/codec"
)

// TestWriterMatchesMsgpack checks every Append function against
// vmihailenco/msgpack's Encoder with the widths of docs/FORMAT.md (the
// encoder the object layers used before), at every boundary between two
// header sizes, that each Size function gives the size of what its Append
// writes, and that Reader reads it back.
func TestWriterMatchesMsgpack(t *testing.T) {
	prefix := []byte("prefix") // Append must keep what b holds
	check := func(t *testing.T, what string, got []byte, size int, ref func(*msgpack.Encoder) error) {
		t.Helper()
		if !bytes.HasPrefix(got, prefix) {
			t.Fatalf("%s: lost the bytes before it", what)
		}
		got = got[len(prefix):]
		want := encode(t, ref)
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: Append wrote %x..., msgpack %x...", what, got[:min(len(got), 12)], want[:min(len(want), 12)])
		}
		if size >= 0 && size != len(got) {
			t.Fatalf("%s: Size says %d bytes, Append wrote %d", what, size, len(got))
		}
	}
	p := func() []byte { return bytes.Clone(prefix) }
	for _, n := range []int{0, 1, 15, 16, 31, 32, 255, 256, 65535, 65536, 70000} {
		s := strings.Repeat("x", n)
		check(t, "string", codec.AppendString(p(), s), codec.SizeString(n), func(e *msgpack.Encoder) error { return e.EncodeString(s) })
		if r, err := codec.NewReader(codec.AppendString(nil, s)).String("s"); err != nil || r != s {
			t.Fatalf("Reader.String of a %d-byte string: %v", n, err)
		}
		b := []byte(s)
		check(t, "bytes", codec.AppendBytes(p(), b), codec.SizeBytes(n), func(e *msgpack.Encoder) error { return e.EncodeBytes(b) })
		if r, err := codec.NewReader(codec.AppendBytes(nil, b)).Bytes("b"); err != nil || !bytes.Equal(r, b) {
			t.Fatalf("Reader.Bytes of %d bytes: %v", n, err)
		}
		check(t, "array", codec.AppendArrayLen(p(), n), codec.SizeArrayLen(n), func(e *msgpack.Encoder) error { return e.EncodeArrayLen(n) })
	}
	check(t, "nil bytes", codec.AppendBytes(p(), nil), codec.SizeBytes(0), func(e *msgpack.Encoder) error { return e.EncodeBytes([]byte{}) })
	for _, v := range []uint64{0, 1, 127, 255, math.MaxUint32 + 1, math.MaxUint64} {
		check(t, "uint8", codec.AppendUint8(p(), uint8(v)), codec.SizeUint8, func(e *msgpack.Encoder) error { return e.EncodeUint8(uint8(v)) })
		check(t, "uint64", codec.AppendUint64(p(), v), codec.SizeUint64, func(e *msgpack.Encoder) error { return e.EncodeUint64(v) })
		check(t, "int64", codec.AppendInt64(p(), int64(v)), codec.SizeInt64, func(e *msgpack.Encoder) error { return e.EncodeInt64(int64(v)) })
	}
	var h backend.Hash
	for i := range h {
		h[i] = byte(i)
	}
	check(t, "hash", codec.AppendHash(p(), &h), codec.SizeHash, func(e *msgpack.Encoder) error { return e.EncodeBytes(h[:]) })
	for _, n := range []int{0, 6, 13, 14, 20} {
		check(t, "header", codec.AppendHeader(p(), codec.TagIndex, n), codec.SizeHeader(n), func(e *msgpack.Encoder) error {
			if err := e.EncodeArrayLen(2 + n); err != nil {
				return err
			}
			if err := e.EncodeUint8(uint8(codec.TagIndex)); err != nil {
				return err
			}
			return e.EncodeUint8(codec.FormatVersion)
		})
	}
}
