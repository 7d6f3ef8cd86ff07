package mem

import (
	"math/bits"
	"math/rand/v2"
)

// table is the objects' index: a map from a hash's first 8 bytes to a
// slot position, kept in one flat array with linear probing. A lookup
// usually touches one cache line of the array, where a Go map touches a
// directory, a table and a group; with every object ever stored in it,
// those are cache misses. Keys are mixed with a seed of the table's own
// before they pick a place, so hashes chosen to share their low bytes
// still spread. A deletion moves the entries after it back (no
// tombstones). Not safe for concurrent use.
type table struct {
	ents  []tableEnt // len a power of two, or 0
	count int        // entries in use
	shift uint8      // 64 - log2(len(ents))
	seed  uint64
}

type tableEnt struct {
	key uint64
	val uint32 // the position + 1; 0: free
}

// minTable is the smallest array a table allocates; a table grows to
// twice its size when it would be more than maxLoad full.
const (
	minTable     = 64
	maxLoadNum   = 3
	maxLoadDenom = 4
)

// home returns where key k's probe starts.
func (t *table) home(k uint64) int {
	return int(((k ^ t.seed) * 0x9e3779b97f4a7c15) >> t.shift)
}

// get returns the position stored under k.
func (t *table) get(k uint64) (uint32, bool) {
	if len(t.ents) == 0 {
		return 0, false
	}
	mask := len(t.ents) - 1
	for i := t.home(k); ; i = (i + 1) & mask {
		e := &t.ents[i]
		if e.val == 0 {
			return 0, false
		}
		if e.key == k {
			return e.val - 1, true
		}
	}
}

// add stores pos under k, which must not be in t.
func (t *table) add(k uint64, pos uint32) {
	if (t.count+1)*maxLoadDenom > len(t.ents)*maxLoadNum {
		t.grow()
	}
	t.place(k, pos+1)
	t.count++
}

// place puts val under k in the first free entry of k's probe.
func (t *table) place(k uint64, val uint32) {
	mask := len(t.ents) - 1
	i := t.home(k)
	for t.ents[i].val != 0 {
		i = (i + 1) & mask
	}
	t.ents[i] = tableEnt{key: k, val: val}
}

// grow doubles the array (or makes the first one) and places every entry
// again.
func (t *table) grow() {
	old := t.ents
	n := max(2*len(old), minTable)
	t.ents = make([]tableEnt, n)
	t.shift = uint8(64 - bits.TrailingZeros(uint(n)))
	if old == nil {
		t.seed = rand.Uint64()
	}
	for _, e := range old {
		if e.val != 0 {
			t.place(e.key, e.val)
		}
	}
}

// del removes k, if present.
func (t *table) del(k uint64) {
	if len(t.ents) == 0 {
		return
	}
	mask := len(t.ents) - 1
	i := t.home(k)
	for ; t.ents[i].key != k || t.ents[i].val == 0; i = (i + 1) & mask {
		if t.ents[i].val == 0 {
			return
		}
	}
	// Move back every later entry of the run whose probe starts at or
	// before the hole, so that no probe meets a free entry before its key.
	for j := i; ; {
		j = (j + 1) & mask
		e := t.ents[j]
		if e.val == 0 {
			break
		}
		// e stays if its home is cyclically in (i, j].
		if h := t.home(e.key); (j-h)&mask < (j-i)&mask {
			continue
		}
		t.ents[i] = e
		i = j
	}
	t.ents[i] = tableEnt{}
	t.count--
}
