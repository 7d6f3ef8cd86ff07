package commit_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/internal/codec/codectest"
)

// FuzzDecode checks Decode's contract on any input: no panic, allocation
// bounded by the input's size, and either ErrCorrupt or a commit whose
// encoding is exactly the input (decoders accept only canonical bytes).
func FuzzDecode(f *testing.F) {
	for _, s := range []string{ // commit-root and commit-child of docs/FORMAT.md
		"98cc03cc01c4200bbf0d1eabe78954f0685442df998823be1c9ff47ecb4e895bcf03fdd3e695f190a36f7073ac706f696e7420617420646231d318867251edfa0000cf0000000000000001",
		"98cc03cc01c4200bbf0d1eabe78954f0685442df998823be1c9ff47ecb4e895bcf03fdd3e695f191c420f3677937cc061b44d0040a166edcb5414c1ad1e92dba103b31a7f23c7ea7ebcea36f7073a5616761696ed318867251edfa0001cf0000000000000002",
		"98cc03cc01c6ffffffff", // 4 GiB tree declared in 10 bytes
		"98cc03cc01c420" + h11 + "ddffffffff",
	} {
		f.Add(hx(f, s))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 8 {
		c := &commit.Commit{Tree: h(byte(rng.Uint32())), Author: "ops", Message: string(make([]byte, rng.IntN(300))),
			Time: rng.Int64(), Height: 1 + rng.Uint64()%1000}
		for range rng.IntN(4) {
			c.Parents = append(c.Parents, h(byte(rng.Uint32())))
		}
		f.Add(commit.Encode(c))
	}
	f.Add(commit.Encode(&commit.Commit{Tree: h(1), Parents: make([]backend.Hash, 20), Height: 7}))
	f.Fuzz(func(t *testing.T, data []byte) {
		codectest.RoundTrip(t, data, func(b []byte) ([]byte, error, error) {
			c, err := commit.Decode(b)
			if err != nil {
				return nil, err, nil
			}
			return commit.Encode(c), nil, nil
		})
	})
}
