package commit_test

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
)

func h(b byte) backend.Hash {
	var x backend.Hash
	x[0], x[31] = b, b
	return x
}

func TestRoundTrip(t *testing.T) {
	for _, c := range []*commit.Commit{
		{Tree: h(1), Height: 1},
		{Tree: h(1), Parents: []backend.Hash{h(2)}, Author: "ops", Message: "point at db1", Time: 1700000000123456789, Height: 2},
		{Tree: h(1), Parents: []backend.Hash{h(2), h(3)}, Author: "ü", Message: "merge\n\nbody", Time: -5, Height: math.MaxUint64},
	} {
		b := commit.Encode(c)
		got, err := commit.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c, got); diff != "" {
			t.Error(diff)
		}
		if !bytes.Equal(commit.Encode(got), b) {
			t.Error("re-encoding differs")
		}
	}
}

func TestFixedWidthIntegers(t *testing.T) {
	// Time and height are always 9 bytes (marker + 8), whatever their value,
	// so the encoding's length does not depend on them.
	a := commit.Encode(&commit.Commit{Tree: h(1), Time: 0, Height: 1})
	b := commit.Encode(&commit.Commit{Tree: h(1), Time: math.MaxInt64, Height: math.MaxUint64})
	if len(a) != len(b) {
		t.Fatalf("lengths %d and %d differ", len(a), len(b))
	}
}

func TestDecodeCorrupt(t *testing.T) {
	good := commit.Encode(&commit.Commit{Tree: h(1), Parents: []backend.Hash{h(2)}, Height: 2})
	zeroHeight := commit.Encode(&commit.Commit{Tree: h(1)})
	for name, b := range map[string][]byte{
		"empty":       nil,
		"truncated":   good[:len(good)-1],
		"trailing":    append(append([]byte{}, good...), 0xc0),
		"zero height": zeroHeight,
	} {
		if _, err := commit.Decode(b); !errors.Is(err, backend.ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}
