package contents_test

import (
	"bytes"
	"testing"

	"github.com/stratakv/strata/contents"
)

func BenchmarkDecode(b *testing.B) {
	for _, size := range []int{3, 1000} {
		enc := contents.Encode(contents.Raw(bytes.Repeat([]byte{'x'}, size)))
		b.Run(map[int]string{3: "3B", 1000: "1KB"}[size], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := contents.Decode(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
