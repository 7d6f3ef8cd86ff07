// Package codec holds what the object layers (contents, node, commit) share:
// the BLAKE3 hash rule, the object header (type tag and format version),
// the canonical writer (AppendHeader, AppendBytes, ...) and reader (Reader)
// every encoder and decoder is built on, and the verified read that
// re-hashes every object fetched from a backend.
//
// It is internal: the encoding is specified in docs/FORMAT.md, and the
// public way to produce objects is through the packages contents, node and
// commit.
package codec

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/zeebo/blake3"

	"github.com/stratakv/strata/backend"
)

// FormatVersion is the version of the object encoding written by this code.
// Changing any encoding in docs/FORMAT.md means bumping it on purpose.
const FormatVersion = 1

// Tag is an object's type tag, the first element of every encoded object.
type Tag uint8

// The object type tags.
const (
	TagContents Tag = 1
	TagNode     Tag = 2
	TagCommit   Tag = 3
	TagIndex    Tag = 4
	TagGraph    Tag = 5 // a commit-graph run: derived, never required
)

func (t Tag) String() string {
	switch t {
	case TagContents:
		return "contents"
	case TagNode:
		return "node"
	case TagCommit:
		return "commit"
	case TagIndex:
		return "index"
	case TagGraph:
		return "graph"
	}
	return fmt.Sprintf("tag(%d)", uint8(t))
}

// TagOf returns the type tag of an encoded object without decoding it, or
// false if data does not start like an object.
func TagOf(data []byte) (Tag, bool) {
	// [fixarray header, 0xcc, tag, ...]
	if len(data) < 3 || data[0]&0xf0 != 0x90 || data[1] != 0xcc {
		return 0, false
	}
	return Tag(data[2]), true
}

// Sum returns the BLAKE3-256 hash of data: the key of an object whose
// encoding is data. It is safe for concurrent use.
func Sum(data []byte) backend.Hash {
	if len(data) <= blake3ChunkLen {
		return backend.Hash(blake3.Sum256(data))
	}
	// blake3.Sum256 of more than one chunk zeroes a new hasher of about
	// 11 KB first, which costs as much as hashing a few KB: a reused
	// one is only reset.
	h := hashers.Get().(*blake3.Hasher)
	h.Write(data)
	var sum backend.Hash
	h.Sum(sum[:0])
	h.Reset()
	hashers.Put(h)
	return sum
}

// blake3ChunkLen is BLAKE3's chunk length: blake3.Sum256 hashes an input
// of at most one chunk without a hasher.
const blake3ChunkLen = 1024

// hashers holds BLAKE3 hashers for Sum to reuse, each reset.
var hashers = sync.Pool{New: func() any { return blake3.New() }}

// Decode checks an encoded object's header (an array of 2+n fields, tag,
// format version), calls body to read the n fields from a Reader, and checks
// that nothing follows. It accepts only the canonical encoding of
// docs/FORMAT.md (see Reader); body must do the same for the fields and the
// invariants it reads. Any failure is an error wrapping backend.ErrCorrupt.
func Decode(data []byte, tag Tag, n int, body func(*Reader) error) error {
	r := NewReader(data)
	l, err := r.ArrayLen("header", 1)
	if err != nil {
		return corrupt(tag, "%v", err)
	}
	t, err := r.Uint8("type tag")
	if err != nil {
		return corrupt(tag, "%v", err)
	}
	if Tag(t) != tag {
		return corrupt(tag, "type tag is %s", Tag(t))
	}
	v, err := r.Uint8("format version")
	if err != nil {
		return corrupt(tag, "%v", err)
	}
	if v != FormatVersion {
		return corrupt(tag, "format version %d, this build reads %d", v, FormatVersion)
	}
	if l != 2+n {
		return corrupt(tag, "%d fields, want %d", l, 2+n)
	}
	if err := body(r); err != nil {
		if errors.Is(err, backend.ErrCorrupt) {
			return err
		}
		return corrupt(tag, "%v", err)
	}
	if r.Len() != 0 {
		return corrupt(tag, "%d trailing bytes", r.Len())
	}
	return nil
}

func corrupt(tag Tag, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", backend.ErrCorrupt, tag, fmt.Sprintf(format, args...))
}

// Corruptf returns an error wrapping backend.ErrCorrupt for an object of type
// tag, for decoders that find a semantic problem (unsorted entries, say).
func Corruptf(tag Tag, format string, args ...any) error { return corrupt(tag, format, args...) }

// Read fetches the object h from s and checks that its bytes hash to h. A
// mismatch is an error wrapping backend.ErrCorrupt that names h. Every
// object read here was named by a stored link (a ref, a commit, a
// directory entry), so a missing one is damage: an error wrapping
// backend.ErrMissing (and so ErrCorrupt), never ErrNotFound. A caller that
// looks up a hash a user typed checks for ErrMissing itself.
func Read(ctx context.Context, s backend.ObjectStore, h backend.Hash) ([]byte, error) {
	data, err := s.Get(ctx, h)
	if errors.Is(err, backend.ErrNotFound) {
		return nil, fmt.Errorf("object %s: %w", h, backend.ErrMissing)
	}
	if err != nil {
		return nil, err
	}
	if err := Verify(h, data); err != nil {
		return nil, err
	}
	return data, nil
}

// Verify checks that data hashes to h.
func Verify(h backend.Hash, data []byte) error {
	if got := Sum(data); got != h {
		return fmt.Errorf("object %s: %w: its bytes hash to %s", h, backend.ErrCorrupt, got)
	}
	return nil
}
