package codec

import (
	"encoding/binary"
	"fmt"

	"github.com/stratakv/strata/backend"
)

// Reader reads the fields of one encoded object, accepting only the
// canonical MessagePack forms of docs/FORMAT.md: integers at their fixed
// width (uint8 as 0xcc, uint64 as 0xcf, int64 as 0xd3), and str, bin and
// array headers of the shortest form that fits their length. Every declared
// length is checked against the bytes that remain before anything is
// sliced or allocated, so a decoder built on Reader allocates at most in
// proportion to its input.
//
// Reader's errors do not wrap backend.ErrCorrupt; Decode wraps them. Each
// names the field (the what argument) and its byte offset.
type Reader struct {
	b   []byte
	off int
}

// NewReader returns a Reader over data. It does not copy data.
func NewReader(data []byte) *Reader { return &Reader{b: data} }

// Len returns the number of bytes not yet read.
func (r *Reader) Len() int { return len(r.b) - r.off }

func (r *Reader) errorf(what string, off int, format string, args ...any) error {
	return fmt.Errorf("%s at byte %d: %s", what, off, fmt.Sprintf(format, args...))
}

// next consumes n bytes, or fails if fewer remain.
func (r *Reader) next(what string, n int) ([]byte, error) {
	if n > r.Len() {
		return nil, r.errorf(what, r.off, "needs %d bytes, %d remain", n, r.Len())
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b, nil
}

// marker reads one marker byte.
func (r *Reader) marker(what string) (byte, error) {
	b, err := r.next(what, 1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

// Uint8 reads a uint8 written as 0xcc NN.
func (r *Reader) Uint8(what string) (uint8, error) {
	start := r.off
	b, err := r.next(what, 2)
	if err != nil {
		return 0, err
	}
	if b[0] != 0xcc {
		return 0, r.errorf(what, start, "marker 0x%02x, want uint8 (0xcc)", b[0])
	}
	return b[1], nil
}

// Uint64 reads a uint64 written as 0xcf and 8 bytes.
func (r *Reader) Uint64(what string) (uint64, error) {
	start := r.off
	b, err := r.next(what, 9)
	if err != nil {
		return 0, err
	}
	if b[0] != 0xcf {
		return 0, r.errorf(what, start, "marker 0x%02x, want uint64 (0xcf)", b[0])
	}
	return binary.BigEndian.Uint64(b[1:]), nil
}

// Int64 reads an int64 written as 0xd3 and 8 bytes.
func (r *Reader) Int64(what string) (int64, error) {
	start := r.off
	b, err := r.next(what, 9)
	if err != nil {
		return 0, err
	}
	if b[0] != 0xd3 {
		return 0, r.errorf(what, start, "marker 0x%02x, want int64 (0xd3)", b[0])
	}
	return int64(binary.BigEndian.Uint64(b[1:])), nil
}

// length reads the length that follows a marker in a w-byte big-endian
// field, and checks that it needed w bytes: a length that fits a shorter
// header (below min) is not canonical.
func (r *Reader) length(what string, start, w int, min uint64) (uint64, error) {
	b, err := r.next(what, w)
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	if n < min {
		return 0, r.errorf(what, start, "length %d in a %d-byte header, not the shortest", n, 1+w)
	}
	return n, nil
}

// ArrayLen reads an array header (fixarray, array16 or array32, the
// shortest that fits) and returns its element count. Each element takes
// at least minElem bytes (at least 1), so a count that the remaining input
// cannot hold is an error, before the caller allocates anything for it.
func (r *Reader) ArrayLen(what string, minElem int) (int, error) {
	start := r.off
	c, err := r.marker(what)
	if err != nil {
		return 0, err
	}
	var n uint64
	switch {
	case c&0xf0 == 0x90:
		n = uint64(c & 0x0f)
	case c == 0xdc:
		n, err = r.length(what, start, 2, 16)
	case c == 0xdd:
		n, err = r.length(what, start, 4, 1<<16)
	default:
		return 0, r.errorf(what, start, "marker 0x%02x, want an array", c)
	}
	if err != nil {
		return 0, err
	}
	if minElem < 1 {
		minElem = 1
	}
	if n > uint64(r.Len()/minElem) {
		return 0, r.errorf(what, start, "array of %d elements, but only %d bytes remain", n, r.Len())
	}
	return int(n), nil
}

// Bytes reads a byte string (bin8, bin16 or bin32, the shortest that fits).
// The result aliases the Reader's input; callers that keep it copy it.
func (r *Reader) Bytes(what string) ([]byte, error) {
	start := r.off
	c, err := r.marker(what)
	if err != nil {
		return nil, err
	}
	var n uint64
	switch c {
	case 0xc4:
		n, err = r.length(what, start, 1, 0)
	case 0xc5:
		n, err = r.length(what, start, 2, 1<<8)
	case 0xc6:
		n, err = r.length(what, start, 4, 1<<16)
	default:
		return nil, r.errorf(what, start, "marker 0x%02x, want a byte string (bin)", c)
	}
	if err != nil {
		return nil, err
	}
	return r.body(what, start, n)
}

// Offset returns the number of bytes read so far: the offset in the input
// of the next field.
func (r *Reader) Offset() int { return r.off }

// String reads a text string (fixstr, str8, str16 or str32, the shortest
// that fits). Its bytes are copied.
func (r *Reader) String(what string) (string, error) {
	b, err := r.StringBytes(what)
	return string(b), err
}

// StringBytes reads a text string as String does, without copying it: the
// result aliases the Reader's input.
func (r *Reader) StringBytes(what string) ([]byte, error) {
	start := r.off
	c, err := r.marker(what)
	if err != nil {
		return nil, err
	}
	var n uint64
	switch {
	case c&0xe0 == 0xa0:
		n = uint64(c & 0x1f)
	case c == 0xd9:
		n, err = r.length(what, start, 1, 32)
	case c == 0xda:
		n, err = r.length(what, start, 2, 1<<8)
	case c == 0xdb:
		n, err = r.length(what, start, 4, 1<<16)
	default:
		return nil, r.errorf(what, start, "marker 0x%02x, want a string (str)", c)
	}
	if err != nil {
		return nil, err
	}
	return r.body(what, start, n)
}

// body returns the next n bytes of a string whose header began at start.
func (r *Reader) body(what string, start int, n uint64) ([]byte, error) {
	if n > uint64(r.Len()) {
		return nil, r.errorf(what, start, "declares %d bytes, but only %d remain", n, r.Len())
	}
	return r.next(what, int(n))
}

// Hash reads a hash: bin8 of exactly backend.HashSize bytes.
func (r *Reader) Hash(what string) (backend.Hash, error) {
	start := r.off
	var h backend.Hash
	b, err := r.Bytes(what)
	if err != nil {
		return h, err
	}
	if len(b) != len(h) {
		return h, r.errorf(what, start, "hash of %d bytes, want %d", len(b), len(h))
	}
	copy(h[:], b)
	return h, nil
}
