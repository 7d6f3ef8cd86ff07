package node_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stratakv/strata/internal/codec/codectest"
	"github.com/stratakv/strata/node"
)

// FuzzDecode checks Decode's contract on any input: no panic, allocation
// bounded by the input's size, and either ErrCorrupt or a node whose
// encoding is exactly the input (decoders accept only canonical bytes).
func FuzzDecode(f *testing.F) {
	for _, s := range []string{ // node-empty, node-host and node-db of docs/FORMAT.md
		"93cc02cc0190",
		"93cc02cc019293a4686f7374cc03c40364623193a46d6f7464cc01c4207ee10b6e872a537c45a88b3cb7ce90f45feb98575d60d2e26a838d7177cf23bc",
		"93cc02cc019193a26462cc02c420e09338820960ce8edcc112ca111498da2cf2552727c890bc42276704400ef83c",
		"93cc02cc019193dbffffffff", // 4 GiB name declared in 12 bytes
		"93cc02cc01ddffffffff",
	} {
		f.Add(hx(f, s))
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, size := range []int{1, 3, 17, node.MaxEntries} {
		n := &node.Node{}
		for i := range size {
			e := node.Entry{Name: fmt.Sprintf("k%03d-%x", i, rng.Uint32()), Kind: node.Kind(1 + rng.IntN(3)), Hash: h(byte(i))}
			if e.Kind == node.KindInline {
				e.Hash, e.Inline = h(0), make([]byte, rng.IntN(node.MaxInline+1))
			}
			n.Entries = append(n.Entries, e)
		}
		b, err := node.Encode(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// DecodeLeaf accepts exactly what Decode accepts, reading the same
		// entries.
		l, lerr := node.DecodeLeaf(append([]byte{}, data...))
		if n, err := node.Decode(data); (err == nil) != (lerr == nil) {
			t.Fatalf("Decode: %v; DecodeLeaf: %v", err, lerr)
		} else if err == nil {
			if diff := cmp.Diff(n.Entries, l.Entries(), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("entries (-Decode +DecodeLeaf):\n%s", diff)
			}
		}
		codectest.RoundTrip(t, data, func(b []byte) ([]byte, error, error) {
			n, err := node.Decode(b)
			if err != nil {
				return nil, err, nil
			}
			enc, err := node.Encode(n)
			return enc, nil, err
		})
	})
}

// FuzzDecodeIndex is FuzzDecode for index objects.
func FuzzDecodeIndex(f *testing.F) {
	for _, s := range []string{ // index-k200 of docs/FORMAT.md
		"96cc04cc01a16bcf00000000000000c8909293cc30cf0000000000000064c42024607c405c82f2ab7c230e8507fec116fe2e781dcb012721442a9786d20bdef193cc31cf0000000000000064c420a5181aa8209bd45169ce9019367e27d9405e1568861287520bc4fe5476f8af5d",
		"96cc04cc01dbffffffff", // 4 GiB prefix declared in 10 bytes
		"96cc04cc01a16bcf00000000000000c890ddffffffff",
	} {
		f.Add(hx(f, s))
	}
	for _, x := range []*node.Index{
		{Prefix: "k", Count: 201, Self: &node.Entry{Name: "k", Kind: node.KindInline, Inline: []byte("v")},
			Children: []node.Child{{Byte: '0', Count: 200, Hash: h(1)}}},
		{Prefix: "", Count: 300, Children: []node.Child{{Byte: 'a', Count: 100, Hash: h(1)}, {Byte: 'b', Count: 100, Hash: h(2)}, {Byte: 0xff, Count: 100, Hash: h(3)}}},
		{Prefix: "x-long-prefix", Count: 129, Self: &node.Entry{Name: "x-long-prefix", Kind: node.KindNode, Hash: h(9)},
			Children: []node.Child{{Byte: '.', Count: 128, Hash: h(1)}}},
	} {
		b, err := node.EncodeIndex(x)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		codectest.RoundTrip(t, data, func(b []byte) ([]byte, error, error) {
			x, err := node.DecodeIndex(b)
			if err != nil {
				return nil, err, nil
			}
			enc, err := node.EncodeIndex(x)
			return enc, nil, err
		})
	})
}
