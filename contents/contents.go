// Package contents encodes, hashes, reads and merges the values stored at
// paths.
//
// A Contents object is a value's bytes plus a Kind saying how to interpret
// them: raw bytes, UTF-8 text, a JSON document or a 64-bit counter. The kind
// travels with the value, in its object, so every process that merges two
// versions of it uses the same merge function (see Merge). Typed values are
// kept in one canonical form (see New), so equal values always have equal
// hashes. The exact encoding is in docs/FORMAT.md.
package contents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/internal/codec"
)

// ErrInvalidValue is wrapped by every error about a typed value that does
// not parse as its kind (text that is not UTF-8, JSON that is not valid, a
// counter that is not a 64-bit integer), an unknown kind, or an operation
// that needs a value of another kind.
var ErrInvalidValue = errors.New("invalid value")

// Kind says how a value's bytes are to be interpreted, and so how two
// versions of it merge.
type Kind uint8

// The kinds of value. Their numbers are part of the format (docs/FORMAT.md).
const (
	// KindRaw is an uninterpreted byte string. Two different changes to it
	// conflict.
	KindRaw Kind = 0
	// KindText is UTF-8 text, merged line by line (diff3): changes to
	// different lines combine, overlapping changes conflict.
	KindText Kind = 1
	// KindJSON is one JSON document in canonical form (see New). Objects
	// merge member by member, recursively; any other value merges as raw.
	KindJSON Kind = 2
	// KindCounter is a signed 64-bit integer, written in decimal. Two
	// versions merge as ours + theirs − base, so concurrent increments add
	// up.
	KindCounter Kind = 3
)

// Valid reports whether k is a kind this version knows.
func (k Kind) Valid() bool { return k <= KindCounter }

// String returns the kind's name: "raw", "text", "json" or "counter".
func (k Kind) String() string {
	switch k {
	case KindRaw:
		return "raw"
	case KindText:
		return "text"
	case KindJSON:
		return "json"
	case KindCounter:
		return "counter"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind returns the kind called name ("raw", "text", "json" or
// "counter"), or an error wrapping ErrInvalidValue.
func ParseKind(name string) (Kind, error) {
	for k := KindRaw; k.Valid(); k++ {
		if k.String() == name {
			return k, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown kind %q (want raw, text, json or counter)", ErrInvalidValue, name)
}

// Contents is one value.
type Contents struct {
	Kind Kind
	Data []byte
}

// Raw returns the raw Contents holding data (not copied).
func Raw(data []byte) Contents { return Contents{Kind: KindRaw, Data: data} }

// Counter returns the counter holding n.
func Counter(n int64) Contents {
	return Contents{Kind: KindCounter, Data: strconv.AppendInt(nil, n, 10)}
}

// Int returns the value of a counter. It returns an error wrapping
// ErrInvalidValue for any other kind.
func (c Contents) Int() (int64, error) {
	if c.Kind != KindCounter {
		return 0, fmt.Errorf("%w: a %s value is not a counter", ErrInvalidValue, c.Kind)
	}
	n, err := strconv.ParseInt(string(c.Data), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: counter %q: %v", ErrInvalidValue, c.Data, err)
	}
	return n, nil
}

// Equal reports whether two values are the same kind and bytes.
func (c Contents) Equal(o Contents) bool {
	return c.Kind == o.Kind && string(c.Data) == string(o.Data)
}

// New checks that data is a valid value of kind k and returns it in
// canonical form: raw bytes as given; text as given, if it is valid UTF-8;
// JSON compacted, with object members sorted by the bytes of their names
// (duplicate names are rejected) and strings re-escaped minimally; a
// counter as the shortest decimal form of the integer ("+007" becomes
// "7"). Anything else returns an error wrapping ErrInvalidValue.
// The result does not alias data unless k is raw or text.
func New(k Kind, data []byte) (Contents, error) {
	switch k {
	case KindRaw:
		return Contents{Kind: k, Data: data}, nil
	case KindText:
		if !utf8.Valid(data) {
			return Contents{}, fmt.Errorf("%w: text is not valid UTF-8", ErrInvalidValue)
		}
		return Contents{Kind: k, Data: data}, nil
	case KindJSON:
		v, err := parseJSON(data)
		if err != nil {
			return Contents{}, fmt.Errorf("%w: JSON: %v", ErrInvalidValue, err)
		}
		return Contents{Kind: k, Data: appendJSON(nil, v)}, nil
	case KindCounter:
		n, err := strconv.ParseInt(string(data), 10, 64)
		if err != nil {
			return Contents{}, fmt.Errorf("%w: counter %q is not a 64-bit decimal integer", ErrInvalidValue, data)
		}
		return Counter(n), nil
	}
	return Contents{}, fmt.Errorf("%w: unknown kind %d", ErrInvalidValue, k)
}

// check reports why data, read from a store, is not a valid value of kind
// k, or "" if it is. Text must be UTF-8 and a counter in canonical form;
// JSON must be valid, but its canonical form is not checked, which would
// cost a full parse on every read: writers make it canonical (New).
func check(k Kind, data []byte) string {
	switch k {
	case KindRaw:
		return ""
	case KindJSON:
		if !json.Valid(data) {
			return "JSON value is not valid JSON"
		}
		return ""
	}
	c, err := New(k, data)
	if err != nil {
		return err.Error()
	}
	if string(c.Data) != string(data) {
		return fmt.Sprintf("%s value is not in canonical form", k)
	}
	return ""
}

// Encode returns the canonical encoding of c:
// [tag=1, version, kind uint8, data bin]. A nil and an empty Data encode
// alike. The result is a fresh slice the caller owns.
func Encode(c Contents) []byte {
	b := make([]byte, 0, codec.SizeHeader(2)+codec.SizeUint8+codec.SizeBytes(len(c.Data)))
	b = codec.AppendHeader(b, codec.TagContents, 2)
	b = codec.AppendUint8(b, uint8(c.Kind))
	return codec.AppendBytes(b, c.Data)
}

// Decode decodes an encoded Contents, checking that a typed value is valid
// for its kind (text UTF-8, JSON valid, a counter in canonical form; see
// New). Only the canonical encoding is accepted (docs/FORMAT.md): anything
// else, and malformed input, returns an error wrapping backend.ErrCorrupt.
// The returned Data does not alias b.
func Decode(b []byte) (Contents, error) {
	var c Contents
	err := codec.Decode(b, codec.TagContents, 2, func(r *codec.Reader) error {
		k, err := r.Uint8("kind")
		if err != nil {
			return err
		}
		if !Kind(k).Valid() {
			return codec.Corruptf(codec.TagContents, "unknown kind %d", k)
		}
		c.Kind = Kind(k)
		data, err := r.Bytes("data")
		if err != nil {
			return err
		}
		if why := check(c.Kind, data); why != "" {
			return codec.Corruptf(codec.TagContents, "%s", why)
		}
		c.Data = append(make([]byte, 0, len(data)), data...)
		return nil
	})
	return c, err
}

// Object returns c's encoding keyed by its hash, ready for ObjectStore.Put.
func Object(c Contents) backend.Object {
	b := Encode(c)
	return backend.Object{Hash: codec.Sum(b), Data: b}
}

// Hash returns the hash of c's encoding.
func Hash(c Contents) backend.Hash { return codec.Sum(Encode(c)) }

// Get reads the Contents h from s, verifying its hash. It returns an error
// wrapping backend.ErrMissing if h is absent (damage, since a link named
// it) and backend.ErrCorrupt (naming h) if the stored bytes do not hash to h or do not decode.
func Get(ctx context.Context, s backend.ObjectStore, h backend.Hash) (Contents, error) {
	b, err := codec.Read(ctx, s, h)
	if err != nil {
		return Contents{}, fmt.Errorf("contents %s: %w", h, err)
	}
	c, err := Decode(b)
	if err != nil {
		return Contents{}, fmt.Errorf("contents %s: %w", h, err)
	}
	return c, nil
}
