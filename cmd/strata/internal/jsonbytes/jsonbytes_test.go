package jsonbytes

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTextOrBase64(t *testing.T) {
	str := func(s string) *string { return &s }
	for _, c := range []struct {
		in        []byte
		text, b64 *string
	}{
		{nil, nil, nil},
		{[]byte{}, str(""), nil},
		{[]byte("héllo\n"), str("héllo\n"), nil},
		{[]byte{0xff, 0x00}, nil, str("/wA=")},
	} {
		text, b64 := TextOrBase64(c.in)
		if !cmp.Equal(text, c.text) || !cmp.Equal(b64, c.b64) {
			t.Errorf("TextOrBase64(%q) = %v, %v; want %v, %v", c.in, text, b64, c.text, c.b64)
		}
	}
}
