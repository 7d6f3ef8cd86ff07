package contents_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/internal/codec/codectest"
)

// FuzzDecode checks Decode's contract on any input: no panic, allocation
// bounded by the input's size, and either ErrCorrupt or a value whose
// encoding is exactly the input (decoders accept only canonical bytes).
func FuzzDecode(f *testing.F) {
	for _, c := range []contents.Contents{
		contents.Raw(nil),
		contents.Raw([]byte("db1")),
		contents.Raw(bytes.Repeat([]byte{0xff}, 300)),
		contents.Raw(bytes.Repeat([]byte{0}, 70000)),
		{Kind: contents.KindText, Data: []byte("a\nb\n")},
		{Kind: contents.KindJSON, Data: []byte(`{"cpu":2,"owner":"alice"}`)},
		contents.Counter(-42),
		contents.Counter(0),
	} {
		f.Add(contents.Encode(c))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 8 {
		b := make([]byte, rng.IntN(64))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		f.Add(contents.Encode(contents.Raw(b)))
	}
	for _, s := range []string{
		"94010101c40430303030",       // the review's compact integers
		"94cc01cc01cc00c6ffffffff",   // 4 GiB declared in 12 bytes
		"94cc01cc01cc00c50003646231", // bin16 for 3 bytes
	} {
		f.Add(hx(f, s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		codectest.RoundTrip(t, data, func(b []byte) ([]byte, error, error) {
			c, err := contents.Decode(b)
			if err != nil {
				return nil, err, nil
			}
			return contents.Encode(c), nil, nil
		})
	})
}
