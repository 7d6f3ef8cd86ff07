package commit_test

import (
	"errors"
	"testing"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/internal/codec/codectest"
)

var hx = codectest.Hex

const (
	h11 = "1111111111111111111111111111111111111111111111111111111111111111"
	h22 = "2222222222222222222222222222222222222222222222222222222222222222"
)

// TestDecodeRejectsNonCanonical feeds Decode hand-made commit encodings
// that a lenient MessagePack reader would accept but that strata never
// writes (docs/FORMAT.md); each must be ErrCorrupt.
func TestDecodeRejectsNonCanonical(t *testing.T) {
	const (
		tree   = " c420" + h11
		par    = " 91 c420" + h22
		names  = " a3 6f7073 a2 6869"
		time   = " d3 18867251edfa0000"
		height = " cf 0000000000000002"
	)
	good := "98 cc03 cc01" + tree + par + names + time + height
	if _, err := commit.Decode(hx(t, good)); err != nil {
		t.Fatalf("reference commit: %v", err)
	}
	for _, tc := range []struct{ name, hex string }{
		{"compact tag and version", "98 03 01" + tree + par + names + time + height},
		{"time as uint64", "98 cc03 cc01" + tree + par + names + " cf 18867251edfa0000" + height},
		{"time compact", "98 cc03 cc01" + tree + par + names + " 00" + height},
		{"time as int32", "98 cc03 cc01" + tree + par + names + " d2 00000000" + height},
		{"height compact", "98 cc03 cc01" + tree + par + names + time + " 02"},
		{"height as int64", "98 cc03 cc01" + tree + par + names + time + " d3 0000000000000002"},
		{"height as uint32", "98 cc03 cc01" + tree + par + names + time + " ce 00000002"},
		{"height zero", "98 cc03 cc01" + tree + par + names + time + " cf 0000000000000000"},
		{"tree as bin16", "98 cc03 cc01 c50020" + h11 + par + names + time + height},
		{"tree of 31 bytes", "98 cc03 cc01 c41f" + h11[2:] + par + names + time + height},
		{"parents as array16", "98 cc03 cc01" + tree + " dc0001 c420" + h22 + names + time + height},
		{"no parents as array16", "98 cc03 cc01" + tree + " dc0000" + names + time + height},
		{"author as str8", "98 cc03 cc01" + tree + par + " d903 6f7073 a2 6869" + time + height},
		{"author as bin", "98 cc03 cc01" + tree + par + " c403 6f7073 a2 6869" + time + height},
		{"author as nil", "98 cc03 cc01" + tree + par + " c0 a2 6869" + time + height},
		{"message as str16", "98 cc03 cc01" + tree + par + " a3 6f7073 da0002 6869" + time + height},
		{"header as array16", "dc0008 cc03 cc01" + tree + par + names + time + height},
		{"seven fields", "97 cc03 cc01" + tree + par + names + time},
		{"trailing byte", good + "c0"},
		{"wrong tag", "98 cc02 cc01" + tree + par + names + time + height},
		{"wrong version", "98 cc03 cc02" + tree + par + names + time + height},
		{"parents array32 of 4G", "98 cc03 cc01" + tree + " ddffffffff"},
		{"more parents than bytes", "98 cc03 cc01" + tree + " 93 c420" + h22 + names + time + height},
		{"author str32 of 4 GiB", "98 cc03 cc01" + tree + " 90 dbffffffff"},
		{"tree bin32 of 4 GiB", "98 cc03 cc01 c6ffffffff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := commit.Decode(hx(t, tc.hex))
			if !errors.Is(err, backend.ErrCorrupt) {
				t.Fatalf("Decode = %+v, %v; want ErrCorrupt", c, err)
			}
		})
	}
}

// TestHugeDeclaredLength checks that tiny inputs declaring huge strings or
// arrays are rejected before anything of that size is allocated.
func TestHugeDeclaredLength(t *testing.T) {
	decode := func(b []byte) error { _, err := commit.Decode(b); return err }
	for _, in := range []string{
		"98 cc03 cc01 c6ffffffff",
		"98 cc03 cc01 c420" + h11 + " 90 dbffffffff",
		"98 cc03 cc01 c420" + h11 + " 90 a0 dbffffffff",
		"98 cc03 cc01 c420" + h11 + " ddffffffff",
	} {
		codectest.RejectsSmall(t, hx(t, in), decode)
	}
}
