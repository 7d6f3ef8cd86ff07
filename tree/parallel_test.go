package tree_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// TestParallelBuildMatchesSerial: a bulk write made with several
// goroutines stores exactly the objects, in the same order, and gets the
// same root as the serial write, for random trees (flat, nested, deep,
// with big values and over an existing base). Run it with -race.
func TestParallelBuildMatchesSerial(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seedOf(t), 0))
	type op struct {
		path []string
		val  []byte
		del  bool
	}
	randomOps := func(n, dirs, depth int, noDel bool) []op {
		ops := make([]op, n)
		for i := range ops {
			var path []string
			for d := rng.IntN(depth); d > 0; d-- {
				path = append(path, fmt.Sprintf("d%d", rng.IntN(dirs)))
			}
			path = append(path, fmt.Sprintf("k%x", rng.Uint32()))
			val := []byte(fmt.Sprint("v", i))
			if rng.IntN(50) == 0 {
				val = make([]byte, 200+rng.IntN(100)) // a contents object
				for j := range val {
					val[j] = byte(rng.Uint32())
				}
			}
			ops[i] = op{path: path, val: val, del: !noDel && i > 0 && rng.IntN(20) == 0}
		}
		return ops
	}
	write := func(par int, st *node.Store, base backend.Hash, ops []op) ([]backend.Object, backend.Hash) {
		defer tree.SetParallelism(par)()
		b := tree.New(st, base).Builder()
		for _, o := range ops {
			if o.del {
				if _, err := b.Delete(ctx, o.path); err != nil {
					t.Fatal(err)
				}
				continue
			}
			// A path may cross a value set earlier: that Set fails the
			// same way in both writes, so its error is ignored.
			_ = b.Set(ctx, o.path, o.val)
		}
		objs, root, err := b.Objects(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return objs, root
	}
	for _, c := range []struct {
		name           string
		n, dirs, depth int
		onBase, noDel  bool
	}{
		{"flat", 20000, 1, 1, false, false},
		{"flat-sets", 20000, 1, 1, false, true}, // only values: Builder.buildValues
		{"nested", 20000, 40, 2, false, false},
		{"deep", 8000, 3, 6, false, false},
		{"many-dirs", 5000, 2000, 2, false, false},
		{"on-base", 10000, 30, 3, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := node.NewStore(mem.New(), 0)
			base := node.Empty
			if c.onBase {
				objs, root := write(1, st, base, randomOps(c.n, c.dirs, c.depth, c.noDel))
				if err := st.Objects().Put(ctx, objs); err != nil {
					t.Fatal(err)
				}
				base = root
			}
			ops := randomOps(c.n, c.dirs, c.depth, c.noDel)
			serial, sroot := write(1, st, base, ops)
			par, proot := write(8, st, base, ops)
			if sroot != proot {
				t.Fatalf("root: parallel %s, serial %s", proot, sroot)
			}
			hashes := func(objs []backend.Object) []backend.Hash {
				hs := make([]backend.Hash, len(objs))
				for i, o := range objs {
					hs[i] = o.Hash
				}
				return hs
			}
			if diff := cmp.Diff(hashes(serial), hashes(par)); diff != "" {
				t.Errorf("objects differ (-serial +parallel):\n%s", diff)
			}
			if len(serial) < 10 {
				t.Errorf("only %d objects: the test tree is too small", len(serial))
			}
		})
	}
}
