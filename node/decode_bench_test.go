package node_test

import (
	"fmt"
	"testing"

	"github.com/stratakv/strata/node"
)

// BenchmarkDecode decodes a full node (MaxEntries entries, half of them
// inline values) and a 10-child index.
func BenchmarkDecode(b *testing.B) {
	n := &node.Node{}
	for i := 0; i < node.MaxEntries; i++ {
		e := node.Entry{Name: fmt.Sprintf("key-%05d", i), Kind: node.KindContents, Hash: h(byte(i))}
		if i%2 == 0 {
			e = node.Entry{Name: e.Name, Kind: node.KindInline, Inline: []byte(fmt.Sprintf("value %d", i))}
		}
		n.Entries = append(n.Entries, e)
	}
	enc, err := node.Encode(n)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("node128", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := node.Decode(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
	x := &node.Index{Prefix: "k", Count: 1000}
	for i := 0; i < 10; i++ {
		x.Children = append(x.Children, node.Child{Byte: byte('0' + i), Count: 100, Hash: h(byte(i))})
	}
	xenc, err := node.EncodeIndex(x)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("index10", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := node.DecodeIndex(xenc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
