package mem

import (
	"encoding/binary"

	"github.com/stratakv/strata/backend"
)

// objects is the Store's object table: an index keyed by the first 8
// bytes of a hash (a flat, pointer-free table, see table.go, so the
// garbage collector never scans it) to a slot holding the whole hash and
// the bytes. Slots live in
// fixed chunks, never moved or copied as the table grows. Two hashes that
// share their first 8 bytes are told apart by the slot's whole hash: the
// later one goes to clash, an ordinary map that is empty unless someone
// stores such hashes on purpose. About 40 bytes an object less than a map
// keyed by the whole hash, and faster to probe. Not safe for concurrent
// use: the Store's lock guards it.
type objects struct {
	index   table                   // key(h) → position in slots
	slots   [][]objSlot             // chunks of chunkSlots; data nil: free, listed in free
	n       uint32                  // slots used or freed so far
	free    []uint32                // free positions in slots
	clash   map[backend.Hash][]byte // objects whose key another hash has
	touched uint32                  // what touch read, kept so that its reads are not optimized away
}

type objSlot struct {
	hash backend.Hash
	data []byte // never nil for a stored object
}

// chunkSlots is the number of slots in a chunk (about 14 KB).
const chunkSlots = 256

// slot returns the slot at position i.
func (o *objects) slot(i uint32) *objSlot { return &o.slots[i/chunkSlots][i%chunkSlots] }

func newObjects() objects { return objects{} }

func key(h backend.Hash) uint64 { return binary.LittleEndian.Uint64(h[:8]) }

// get returns the bytes stored under h (not a copy).
func (o *objects) get(h backend.Hash) ([]byte, bool) {
	if i, ok := o.index.get(key(h)); ok {
		if sl := o.slot(i); sl.hash == h {
			return sl.data, true
		}
	}
	if len(o.clash) > 0 {
		b, ok := o.clash[h]
		return b, ok
	}
	return nil, false
}

// has reports whether h is stored.
func (o *objects) has(h backend.Hash) bool {
	_, ok := o.get(h)
	return ok
}

// touch reads the index entry where the probe for each of objs starts,
// so that the cache misses of a batch of puts overlap (the reads do not
// depend on each other) instead of each put waiting for its own in turn.
func (o *objects) touch(objs []backend.Object) {
	if len(objs) < 2 || len(o.index.ents) == 0 {
		return
	}
	var sum uint32
	for i := range objs {
		sum += o.index.ents[o.index.home(key(objs[i].Hash))].val
	}
	o.touched = sum
}

// put stores b under h unless h is stored already, probing the table
// once: b itself if owned (the table then owns it) and not nil, else a
// copy (made only if h is new).
func (o *objects) put(h backend.Hash, b []byte, owned bool) {
	k := key(h)
	if i, ok := o.index.get(k); ok {
		if o.slot(i).hash == h {
			return
		}
		if _, ok := o.clash[h]; !ok {
			if o.clash == nil {
				o.clash = make(map[backend.Hash][]byte)
			}
			o.clash[h] = own(b, owned)
		}
		return
	}
	b = own(b, owned)
	var i uint32
	if n := len(o.free); n > 0 {
		i, o.free = o.free[n-1], o.free[:n-1]
	} else {
		if o.n%chunkSlots == 0 {
			o.slots = append(o.slots, make([]objSlot, chunkSlots))
		}
		i = o.n
		o.n++
	}
	*o.slot(i) = objSlot{hash: h, data: b}
	o.index.add(k, i)
}

// del removes h, if stored.
func (o *objects) del(h backend.Hash) {
	k := key(h)
	i, ok := o.index.get(k)
	if !ok || o.slot(i).hash != h {
		delete(o.clash, h)
		return
	}
	*o.slot(i) = objSlot{}
	o.free = append(o.free, i)
	o.index.del(k)
	// A clashing object with the same key takes the freed place.
	for ch, b := range o.clash {
		if key(ch) == k {
			delete(o.clash, ch)
			o.put(ch, b, true)
			break
		}
	}
}

// each calls fn with every stored hash, in no particular order.
func (o *objects) each(fn func(backend.Hash)) {
	for _, c := range o.slots {
		for i := range c {
			if c[i].data != nil {
				fn(c[i].hash)
			}
		}
	}
	for h := range o.clash {
		fn(h)
	}
}

// own returns b if owned and not nil, else a copy of it (never nil: a
// slot with nil data is free).
func own(b []byte, owned bool) []byte {
	if owned && b != nil {
		return b
	}
	return clone(b)
}
