package codec

import (
	"encoding/binary"

	"github.com/stratakv/strata/backend"
)

// The Append functions write the canonical MessagePack forms of
// docs/FORMAT.md, the ones Reader accepts, by appending to b and returning
// the extended slice (as strconv.Append* do): integers at their fixed width
// (uint8 as 0xcc, uint64 as 0xcf, int64 as 0xd3) and str, bin and array
// headers of the shortest form that fits. They never fail and allocate only
// when b lacks capacity; the Size functions give the bytes each one
// appends, so an encoder can size its buffer exactly once.

// Size of the fixed-width fields.
const (
	SizeUint8  = 2
	SizeUint64 = 9
	SizeInt64  = 9
	SizeHash   = 2 + backend.HashSize
)

// AppendHeader appends the header of an object of type tag with n fields
// after the header: the array header for 2+n elements, the tag and
// FormatVersion.
func AppendHeader(b []byte, tag Tag, n int) []byte {
	b = AppendArrayLen(b, 2+n)
	return append(b, 0xcc, byte(tag), 0xcc, FormatVersion)
}

// SizeHeader is the size of AppendHeader's output for n fields.
func SizeHeader(n int) int { return SizeArrayLen(2+n) + 2*SizeUint8 }

// AppendArrayLen appends an array header for n elements: fixarray, array16
// or array32, the shortest that fits.
func AppendArrayLen(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x90|byte(n))
	case n < 1<<16:
		return append(b, 0xdc, byte(n>>8), byte(n))
	}
	return append(b, 0xdd, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// SizeArrayLen is the size of AppendArrayLen's output.
func SizeArrayLen(n int) int {
	switch {
	case n < 16:
		return 1
	case n < 1<<16:
		return 3
	}
	return 5
}

// AppendUint8 appends v as 0xcc NN.
func AppendUint8(b []byte, v uint8) []byte { return append(b, 0xcc, v) }

// AppendUint64 appends v as 0xcf and 8 bytes big-endian.
func AppendUint64(b []byte, v uint64) []byte {
	return binary.BigEndian.AppendUint64(append(b, 0xcf), v)
}

// AppendInt64 appends v as 0xd3 and 8 bytes big-endian.
func AppendInt64(b []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(v))
}

// AppendBytes appends p as a byte string: bin8, bin16 or bin32, the
// shortest that fits. A nil p is the empty byte string (c4 00).
func AppendBytes(b, p []byte) []byte {
	n := len(p)
	switch {
	case n < 1<<8:
		b = append(b, 0xc4, byte(n))
	case n < 1<<16:
		b = append(b, 0xc5, byte(n>>8), byte(n))
	default:
		b = append(b, 0xc6, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, p...)
}

// SizeBytes is the size of AppendBytes's output for n bytes.
func SizeBytes(n int) int {
	switch {
	case n < 1<<8:
		return 2 + n
	case n < 1<<16:
		return 3 + n
	}
	return 5 + n
}

// AppendHash appends h as bin8 of length 32.
func AppendHash(b []byte, h *backend.Hash) []byte {
	b = append(b, 0xc4, backend.HashSize)
	return append(b, h[:]...)
}

// AppendString appends s as a text string: fixstr, str8, str16 or str32,
// the shortest that fits.
func AppendString(b []byte, s string) []byte {
	n := len(s)
	switch {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n < 1<<8:
		b = append(b, 0xd9, byte(n))
	case n < 1<<16:
		b = append(b, 0xda, byte(n>>8), byte(n))
	default:
		b = append(b, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, s...)
}

// SizeString is the size of AppendString's output for a string of n bytes.
func SizeString(n int) int {
	switch {
	case n < 32:
		return 1 + n
	case n < 1<<8:
		return 2 + n
	case n < 1<<16:
		return 3 + n
	}
	return 5 + n
}
