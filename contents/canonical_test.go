package contents_test

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/internal/codec/codectest"
)

var hx = codectest.Hex

// TestDecodeRejectsNonCanonical feeds Decode hand-made encodings that a
// lenient MessagePack reader would accept but that strata never writes
// (docs/FORMAT.md): each is a second encoding of some value, or a lie about
// its own length, and must be ErrCorrupt.
func TestDecodeRejectsNonCanonical(t *testing.T) {
	// The canonical encoding of raw "db1", for reference.
	if got := contents.Encode(contents.Raw([]byte("db1"))); hex.EncodeToString(got) != "94cc01cc01cc00c403646231" {
		t.Fatalf("reference encoding is %x", got)
	}
	for _, tc := range []struct{ name, hex string }{
		{"review: compact integers", "94 01 01 01 c4 04 30303030"},
		{"compact tag", "94 01 cc01 cc00 c403646231"},
		{"compact version", "94 cc01 01 cc00 c403646231"},
		{"compact kind", "94 cc01 cc01 00 c403646231"},
		{"kind as uint16", "94 cc01 cc01 cd0000 c403646231"},
		{"kind as int8", "94 cc01 cc01 d000 c403646231"},
		{"data as bin16", "94 cc01 cc01 cc00 c50003 646231"},
		{"data as bin32", "94 cc01 cc01 cc00 c600000003 646231"},
		{"data as str", "94 cc01 cc01 cc00 a3 646231"},
		{"data as nil", "94 cc01 cc01 cc00 c0"},
		{"header as array16", "dc0004 cc01 cc01 cc00 c403646231"},
		{"header as array32", "dd00000004 cc01 cc01 cc00 c403646231"},
		{"three fields", "93 cc01 cc01 cc00"},
		{"five fields", "95 cc01 cc01 cc00 c403646231 c0"},
		{"trailing byte", "94 cc01 cc01 cc00 c403646231 00"},
		{"wrong tag", "94 cc02 cc01 cc00 c403646231"},
		{"wrong version", "94 cc01 cc02 cc00 c403646231"},
		{"unknown kind", "94 cc01 cc01 cc04 c403646231"},
		{"bin8 longer than input", "94 cc01 cc01 cc00 c404 646231"},
		{"bin32 of 4 GiB in 12 bytes", "94 cc01 cc01 cc00 c6ffffffff"},
		{"bin16 longer than input", "94 cc01 cc01 cc00 c5ffff 646231"},
		{"not an array", "c403646231"},
		{"empty input", ""},
		{"counter not canonical", "94 cc01 cc01 cc03 c402 2b31"},
		{"text not UTF-8", "94 cc01 cc01 cc01 c401 ff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := contents.Decode(hx(t, tc.hex))
			if !errors.Is(err, backend.ErrCorrupt) {
				t.Fatalf("Decode = %+v, %v; want ErrCorrupt", c, err)
			}
		})
	}
}

// TestHugeDeclaredLength checks that a tiny input declaring a huge byte
// string is rejected before anything of that size is allocated.
func TestHugeDeclaredLength(t *testing.T) {
	for _, in := range [][]byte{
		hx(t, "94 cc01 cc01 cc00 c6ffffffff"), // the review's 12 bytes
		hx(t, "94 cc01 cc01 cc00 c67fffffff"),
		hx(t, "94 cc01 cc01 cc00 c5ffff"),
	} {
		codectest.RejectsSmall(t, in, func(b []byte) error {
			_, err := contents.Decode(b)
			return err
		})
	}
}
