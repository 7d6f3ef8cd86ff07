package node_test

import (
	"errors"
	"testing"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/internal/codec/codectest"
	"github.com/stratakv/strata/node"
)

var hx = codectest.Hex

const (
	h11 = "1111111111111111111111111111111111111111111111111111111111111111"
	h22 = "2222222222222222222222222222222222222222222222222222222222222222"
)

// TestDecodeRejectsNonCanonical feeds Decode hand-made node encodings that
// a lenient MessagePack reader would accept but that strata never writes
// (docs/FORMAT.md); each must be ErrCorrupt.
func TestDecodeRejectsNonCanonical(t *testing.T) {
	// node: a -> contents h11, b -> inline "v"
	good := "93 cc02 cc01 92 93 a161 cc01 c420" + h11 + " 93 a162 cc03 c40176"
	if _, err := node.Decode(hx(t, good)); err != nil {
		t.Fatalf("reference node: %v", err)
	}
	for _, tc := range []struct{ name, hex string }{
		{"compact header ints", "93 02 01 90"},
		{"compact entry kind", "93 cc02 cc01 91 93 a161 01 c420" + h11},
		{"entry kind as uint16", "93 cc02 cc01 91 93 a161 cd0001 c420" + h11},
		{"entries as array16", "93 cc02 cc01 dc0001 93 a161 cc01 c420" + h11},
		{"entry as array16", "93 cc02 cc01 91 dc0003 a161 cc01 c420" + h11},
		{"name as str8", "93 cc02 cc01 91 93 d90161 cc01 c420" + h11},
		{"name as str16", "93 cc02 cc01 91 93 da0001 61 cc01 c420" + h11},
		{"name as bin", "93 cc02 cc01 91 93 c40161 cc01 c420" + h11},
		{"name as nil", "93 cc02 cc01 91 93 c0 cc01 c420" + h11},
		{"hash as bin16", "93 cc02 cc01 91 93 a161 cc01 c50020" + h11},
		{"hash as str", "93 cc02 cc01 91 93 a161 cc01 d920" + h11},
		{"hash of 31 bytes", "93 cc02 cc01 91 93 a161 cc01 c41f" + h11[2:]},
		{"inline value as bin16", "93 cc02 cc01 91 93 a161 cc03 c50001 76"},
		{"inline value over 32 bytes", "93 cc02 cc01 91 93 a161 cc03 c421" + h11 + "00"},
		{"unsorted", "93 cc02 cc01 92 93 a162 cc01 c420" + h11 + " 93 a161 cc01 c420" + h11},
		{"duplicate", "93 cc02 cc01 92 93 a161 cc01 c420" + h11 + " 93 a161 cc02 c420" + h22},
		{"name with slash", "93 cc02 cc01 91 93 a3612f62 cc01 c420" + h11},
		{"name dotdot", "93 cc02 cc01 91 93 a22e2e cc01 c420" + h11},
		{"empty name", "93 cc02 cc01 91 93 a0 cc01 c420" + h11},
		{"unknown kind", "93 cc02 cc01 91 93 a161 cc04 c420" + h11},
		{"entry with 4 fields", "93 cc02 cc01 91 94 a161 cc01 c420" + h11 + " c0"},
		{"trailing byte", good + "00"},
		{"wrong tag", "93 cc03 cc01 90"},
		{"wrong version", "93 cc02 cc00 90"},
		{"two fields", "92 cc02 cc01"},
		{"more entries than bytes", "93 cc02 cc01 dc0080 93"},
		{"array32 of 4G entries", "93 cc02 cc01 ddffffffff"},
		{"name str32 of 4 GiB", "93 cc02 cc01 91 93 dbffffffff"},
		{"hash bin32 of 4 GiB", "93 cc02 cc01 91 93 a161 cc01 c6ffffffff"},
		{"name longer than input", "93 cc02 cc01 91 93 a5 6162"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := node.Decode(hx(t, tc.hex))
			if !errors.Is(err, backend.ErrCorrupt) {
				t.Fatalf("Decode = %+v, %v; want ErrCorrupt", n, err)
			}
		})
	}
}

// TestDecodeIndexRejectsNonCanonical does the same for index objects.
func TestDecodeIndexRejectsNonCanonical(t *testing.T) {
	child := func(b, count, hash string) string { return " 93 cc" + b + " cf" + count + " c420" + hash }
	c100 := "0000000000000064"
	kids := " 92" + child("30", c100, h11) + child("31", c100, h22)
	good := "96 cc04 cc01 a16b cf00000000000000c8 90" + kids
	if _, err := node.DecodeIndex(hx(t, good)); err != nil {
		t.Fatalf("reference index: %v", err)
	}
	for _, tc := range []struct{ name, hex string }{
		{"count as uint16", "96 cc04 cc01 a16b cd00c8 90" + kids},
		{"count as uint8", "96 cc04 cc01 a16b ccc8 90" + kids},
		{"count as int64", "96 cc04 cc01 a16b d300000000000000c8 90" + kids},
		{"prefix as str8", "96 cc04 cc01 d9016b cf00000000000000c8 90" + kids},
		{"prefix as bin", "96 cc04 cc01 c4016b cf00000000000000c8 90" + kids},
		{"self as array16", "96 cc04 cc01 a16b cf00000000000000c8 dc0000" + kids},
		{"children as array16", "96 cc04 cc01 a16b cf00000000000000c8 90 dc0002" + child("30", c100, h11) + child("31", c100, h22)},
		{"child byte compact", "96 cc04 cc01 a16b cf00000000000000c8 90 92 93 30 cf" + c100 + " c420" + h11 + child("31", c100, h22)},
		{"child count compact", "96 cc04 cc01 a16b cf00000000000000c8 90 92 93 cc30 64 c420" + h11 + child("31", c100, h22)},
		{"children unsorted", "96 cc04 cc01 a16b cf00000000000000c8 90 92" + child("31", c100, h11) + child("30", c100, h22)},
		{"children duplicate", "96 cc04 cc01 a16b cf00000000000000c8 90 92" + child("30", c100, h11) + child("30", c100, h22)},
		{"counts overflow", "96 cc04 cc01 a16b cf00000000000000c8 90 92" + child("30", "8000000000000000", h11) + child("31", "80000000000000c8", h22)},
		{"self named empty", "96 cc04 cc01 a0 cf00000000000000c9 92 cc03 c40176" + kids},
		{"self inline over 32 bytes", "96 cc04 cc01 a16b cf00000000000000c9 92 cc03 c421" + h11 + "00" + kids},
		{"self unknown kind", "96 cc04 cc01 a16b cf00000000000000c9 92 cc07 c420" + h11 + kids},
		{"trailing byte", good + "c0"},
		{"wrong version", "96 cc04 cc02 a16b cf00000000000000c8 90" + kids},
		{"prefix str32 of 4 GiB", "96 cc04 cc01 dbffffffff"},
		{"children array32 of 4G", "96 cc04 cc01 a16b cf00000000000000c8 90 ddffffffff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, err := node.DecodeIndex(hx(t, tc.hex))
			if !errors.Is(err, backend.ErrCorrupt) {
				t.Fatalf("DecodeIndex = %+v, %v; want ErrCorrupt", x, err)
			}
		})
	}
}

// TestHugeDeclaredLength checks that tiny inputs declaring huge strings or
// arrays are rejected before anything of that size is allocated.
func TestHugeDeclaredLength(t *testing.T) {
	decode := func(b []byte) error { _, err := node.Decode(b); return err }
	decodeIndex := func(b []byte) error { _, err := node.DecodeIndex(b); return err }
	for _, in := range []string{
		"93 cc02 cc01 91 93 dbffffffff",
		"93 cc02 cc01 91 93 a161 cc03 c6ffffffff",
		"93 cc02 cc01 ddffffffff",
	} {
		codectest.RejectsSmall(t, hx(t, in), decode)
	}
	for _, in := range []string{
		"96 cc04 cc01 dbffffffff",
		"96 cc04 cc01 a16b cf00000000000000c8 90 ddffffffff",
		"96 cc04 cc01 a16b cf00000000000000c8 92 cc03 c6ffffffff",
	} {
		codectest.RejectsSmall(t, hx(t, in), decodeIndex)
	}
}
