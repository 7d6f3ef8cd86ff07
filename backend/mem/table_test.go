package mem

import (
	"math/rand/v2"
	"testing"
)

// checkTable checks t against want: every key's position, the count, and
// that no other key is found.
func checkTable(t *testing.T, tb *table, want map[uint64]uint32, absent []uint64) {
	t.Helper()
	if tb.count != len(want) {
		t.Fatalf("count %d, want %d", tb.count, len(want))
	}
	for k, v := range want {
		if got, ok := tb.get(k); !ok || got != v {
			t.Fatalf("get(%#x) = %d, %v; want %d", k, got, ok, v)
		}
	}
	for _, k := range absent {
		if _, ok := want[k]; ok {
			continue
		}
		if got, ok := tb.get(k); ok {
			t.Fatalf("get(%#x) = %d of a key not in the table", k, got)
		}
	}
}

// TestTableMatchesMap applies random additions and deletions, from a
// universe of keys small enough that keys come and go many times, to a
// table and to a map, growing the table to thousands of entries and
// emptying it again, and checks that they agree throughout.
func TestTableMatchesMap(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	universe := make([]uint64, 5000)
	for i := range universe {
		universe[i] = r.Uint64()
	}
	universe[0] = 0 // a zero key is a key like any other
	var tb table
	want := map[uint64]uint32{}
	for round, addBias := range []int{9, 5, 1, 0} { // grow, churn, shrink, empty
		for step := range 20000 {
			k := universe[r.IntN(len(universe))]
			if _, in := want[k]; in {
				if r.IntN(10) >= addBias {
					tb.del(k)
					delete(want, k)
				}
			} else if addBias > 0 && r.IntN(10) < addBias {
				v := uint32(round*20000 + step)
				tb.add(k, v)
				want[k] = v
			} else {
				tb.del(k) // deleting an absent key changes nothing
			}
			if step%1000 == 0 {
				checkTable(t, &tb, want, universe[:200])
			}
		}
		checkTable(t, &tb, want, universe)
	}
	for k := range want {
		tb.del(k)
		delete(want, k)
	}
	checkTable(t, &tb, want, universe)
}

// TestTableProbeWraps fills the end of a table with keys whose probes
// start at its last entry or its first, so that their run wraps around
// to the start, and deletes them in several orders, checking the rest
// after each deletion.
func TestTableProbeWraps(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	var base table
	base.grow() // the array and the seed
	last := len(base.ents) - 1
	var keys []uint64
	for len(keys) < 6 {
		if k := r.Uint64(); base.home(k) == last || (len(keys) >= 3 && base.home(k) == 0) {
			keys = append(keys, k)
		}
	}
	for order := range 2 * len(keys) { // every rotation, forwards and backwards
		tb := table{ents: make([]tableEnt, len(base.ents)), shift: base.shift, seed: base.seed}
		want := map[uint64]uint32{}
		for i, k := range keys {
			tb.add(k, uint32(i))
			want[k] = uint32(i)
		}
		if len(tb.ents) != len(base.ents) {
			t.Fatalf("the table grew")
		}
		if tb.ents[0].val == 0 {
			t.Fatalf("the probe did not wrap around")
		}
		checkTable(t, &tb, want, nil)
		del := append([]uint64{}, keys...)
		rot := order % len(del)
		del = append(del[rot:], del[:rot]...)
		if order >= len(keys) {
			for i, j := 0, len(del)-1; i < j; i, j = i+1, j-1 {
				del[i], del[j] = del[j], del[i]
			}
		}
		for _, k := range del {
			tb.del(k)
			delete(want, k)
			checkTable(t, &tb, want, keys)
		}
	}
}
