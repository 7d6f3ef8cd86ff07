package node

import (
	"fmt"
	"testing"
)

// BenchmarkLeafFindCold is Leaf.Find of random names over 20,000 leaves of
// 100 entries each (about 80 MB, far more than the CPU's caches, as the
// leaves of a 10^6-key tree are), with the leaves' find tables (table)
// and without (names: a binary search). The two run in one process, so
// they compare side by side.
func BenchmarkLeafFindCold(b *testing.B) {
	const leaves, per = 20_000, 100
	ls := make([]*Leaf, leaves)
	for i := range ls {
		es := make([]Entry, per)
		for j := range es {
			es[j] = Entry{Name: fmt.Sprintf("k%08d", i*per+j), Kind: KindInline, Inline: []byte("value of twenty-four by")}
		}
		l, err := NewLeaf(es)
		if err != nil {
			b.Fatal(err)
		}
		ls[i] = l
	}
	names := make([]string, 1<<16)
	leafOf := make([]int, len(names))
	for i := range names {
		k := (i * 7919 * 31) % (leaves * per)
		names[i], leafOf[i] = fmt.Sprintf("k%08d", k), k/per
	}
	for _, tabled := range []bool{false, true} {
		for _, l := range ls {
			if tabled {
				l.makeTable()
			} else {
				l.table.Store(nil)
				l.state.Store(-1 << 30) // no table while measured
			}
		}
		b.Run(map[bool]string{false: "names", true: "table"}[tabled], func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				j := i % len(names)
				if _, ok := ls[leafOf[j]].Find(names[j]); !ok {
					b.Fatal("not found")
				}
			}
		})
	}
}
