// Package contents encodes, hashes and reads the values stored at paths.
//
// A Contents object is a value's bytes plus a Kind saying how to interpret
// them. Today every value is KindRaw; the kind travels with the value so that
// typed values (text, JSON, counters) and their merge functions can be added
// without changing how raw values hash. The exact encoding is in
// docs/FORMAT.md.
package contents

import (
	"context"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/internal/codec"
)

// Kind says how a value's bytes are to be interpreted.
type Kind uint8

// KindRaw is an uninterpreted byte string.
const KindRaw Kind = 0

// Contents is one value.
type Contents struct {
	Kind Kind
	Data []byte
}

// Raw returns the raw Contents holding data (not copied).
func Raw(data []byte) Contents { return Contents{Kind: KindRaw, Data: data} }

// Encode returns the canonical encoding of c:
// [tag=1, version, kind uint8, data bin].
func Encode(c Contents) []byte {
	b, err := codec.Encode(codec.TagContents, 2, func(e *msgpack.Encoder) error {
		if err := e.EncodeUint8(uint8(c.Kind)); err != nil {
			return err
		}
		return e.EncodeBytes(nonNil(c.Data))
	})
	if err != nil { // encoding into memory cannot fail
		panic(fmt.Sprintf("contents: encode: %v", err))
	}
	return b
}

// nonNil makes nil and empty data encode the same way (bin8 of length 0).
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Decode decodes an encoded Contents. Malformed input returns an error
// wrapping backend.ErrCorrupt. The returned Data does not alias b.
func Decode(b []byte) (Contents, error) {
	var c Contents
	err := codec.Decode(b, codec.TagContents, 2, func(d *msgpack.Decoder) error {
		k, err := d.DecodeUint8()
		if err != nil {
			return err
		}
		if Kind(k) != KindRaw {
			return codec.Corruptf(codec.TagContents, "unknown kind %d", k)
		}
		c.Kind = Kind(k)
		c.Data, err = d.DecodeBytes()
		if c.Data == nil {
			c.Data = []byte{}
		}
		return err
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
// wrapping backend.ErrNotFound if h is absent and backend.ErrCorrupt (naming
// h) if the stored bytes do not hash to h or do not decode.
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
