package tree_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// BenchmarkObjects is the encoding and hashing of a bulk write,
// Builder.Objects of 200,000 new keys (flat: one directory; nested: 1,000
// directories), serially and on GOMAXPROCS goroutines.
func BenchmarkObjects(b *testing.B) {
	ctx := context.Background()
	const n = 200_000
	val := []byte("value of twenty-four by")
	for _, layout := range []struct {
		name string
		path func(i int) []string
	}{
		{"flat", func(i int) []string { return []string{"d", fmt.Sprintf("k%08d", i)} }},
		{"nested", func(i int) []string { return []string{"d", fmt.Sprintf("s%03d", i*1000/n), fmt.Sprintf("k%08d", i)} }},
	} {
		bld := tree.Empty(node.NewStore(mem.New(), 0)).Builder()
		for i := 0; i < n; i++ {
			if err := bld.Set(ctx, layout.path(i), val); err != nil {
				b.Fatal(err)
			}
		}
		for _, par := range []int{1, runtime.GOMAXPROCS(0)} {
			b.Run(fmt.Sprintf("%s/goroutines=%d", layout.name, par), func(b *testing.B) {
				defer tree.SetParallelism(par)()
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if _, _, err := bld.Objects(ctx); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "keys/s")
			})
		}
	}
}
