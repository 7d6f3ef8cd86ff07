package backend

import (
	"bytes"
	"encoding/hex"
	"fmt"
)

// HashSize is the size of a Hash in bytes (BLAKE3-256).
const HashSize = 32

// Hash is the 32-byte BLAKE3-256 digest that names an object. Backends treat
// it as an opaque key. The zero Hash names no object: in a compare-and-swap
// it stands for "absent".
type Hash [HashSize]byte

// ZeroHash is the zero value of Hash. It is never the hash of an object.
var ZeroHash Hash

// IsZero reports whether h is the zero Hash.
func (h Hash) IsZero() bool { return h == ZeroHash }

// Compare orders hashes by their bytes, as bytes.Compare: the order of an
// ordered backend's keys, for slices.SortFunc(hs, Hash.Compare) and
// slices.BinarySearchFunc.
func (h Hash) Compare(o Hash) int { return bytes.Compare(h[:], o[:]) }

// String returns h as 64 lowercase hexadecimal digits.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Short returns the first 12 hexadecimal digits of h, for display.
func (h Hash) Short() string { return h.String()[:12] }

// Describe returns Short, or "absent" for the zero hash, which stands for
// a missing ref in a compare-and-swap: for messages about refs.
func (h Hash) Describe() string {
	if h.IsZero() {
		return "absent"
	}
	return h.Short()
}

// MarshalText implements encoding.TextMarshaler (lowercase hex).
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; it accepts exactly 64
// hexadecimal digits.
func (h *Hash) UnmarshalText(b []byte) error {
	p, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// ParseHash parses 64 hexadecimal digits (either case) into a Hash. Any
// other input returns an error wrapping ErrInvalidHash.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*HashSize {
		return h, fmt.Errorf("%w: %q is %d characters, want %d hexadecimal digits", ErrInvalidHash, s, len(s), 2*HashSize)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("%w: %q is not hexadecimal", ErrInvalidHash, s)
	}
	return h, nil
}

// HashFromBytes copies a 32-byte slice into a Hash. Any other length returns
// an error wrapping ErrInvalidHash.
func HashFromBytes(b []byte) (Hash, error) {
	var h Hash
	if len(b) != HashSize {
		return h, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidHash, len(b), HashSize)
	}
	copy(h[:], b)
	return h, nil
}
