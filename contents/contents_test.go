package contents_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/contents"
)

func TestRoundTrip(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for _, data := range [][]byte{{}, []byte("db1"), all, bytes.Repeat([]byte{0xff}, 70000)} {
		b := contents.Encode(contents.Raw(data))
		c, err := contents.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(data, c.Data); diff != "" {
			t.Error(diff)
		}
	}
}

func TestNilAndEmptyHashAlike(t *testing.T) {
	if contents.Hash(contents.Raw(nil)) != contents.Hash(contents.Raw([]byte{})) {
		t.Fatal("nil and empty values hash differently")
	}
}

func TestDecodeCorrupt(t *testing.T) {
	good := contents.Encode(contents.Raw([]byte("x")))
	badKind := append([]byte{}, good...)
	badKind[6] = 7 // [array, u8 marker, tag, u8 marker, version, u8 marker, kind, ...]
	for name, b := range map[string][]byte{
		"empty": nil, "truncated": good[:len(good)-1], "unknown kind": badKind,
	} {
		if _, err := contents.Decode(b); !errors.Is(err, backend.ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}

type oneObject map[backend.Hash][]byte

func (o oneObject) Get(_ context.Context, h backend.Hash) ([]byte, error) {
	b, ok := o[h]
	if !ok {
		return nil, backend.ErrNotFound
	}
	return append([]byte{}, b...), nil
}
func (o oneObject) Put(context.Context, []backend.Object) error         { return nil }
func (o oneObject) Has(context.Context, []backend.Hash) ([]bool, error) { return nil, nil }

func TestGetVerifiesHash(t *testing.T) {
	obj := contents.Object(contents.Raw([]byte("hello")))
	s := oneObject{obj.Hash: obj.Data}
	c, err := contents.Get(context.Background(), s, obj.Hash)
	if err != nil || string(c.Data) != "hello" {
		t.Fatalf("Get = %q, %v", c.Data, err)
	}
	flipped := append([]byte{}, obj.Data...)
	flipped[len(flipped)-1] ^= 1
	s[obj.Hash] = flipped
	_, err = contents.Get(context.Background(), s, obj.Hash)
	if !errors.Is(err, backend.ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
	if !bytes.Contains([]byte(err.Error()), []byte(obj.Hash.String())) {
		t.Errorf("error %q does not name the hash", err)
	}
	if _, err := contents.Get(context.Background(), s, backend.Hash{1}); !errors.Is(err, backend.ErrMissing) || errors.Is(err, backend.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
}
