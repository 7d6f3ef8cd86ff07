package node

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/internal/codec"
)

// Dir is a decoded directory object: exactly one of Leaf (a node) and
// Index (an index object) is set, each held as its encoding. Dirs returned
// by a Store are shared and must not be modified.
type Dir struct {
	Leaf  *Leaf
	Index *Trie
}

// Len returns the number of entries in the directory, in O(1).
func (d Dir) Len() int {
	if d.Index != nil {
		return int(d.Index.Count)
	}
	return d.Leaf.Len()
}

// DefaultCacheBytes is the default size of a Store's cache of decoded
// directory objects.
const DefaultCacheBytes = 256 << 20

// Store reads and writes directory objects through a size-bounded cache of
// decoded objects, so that hot directories are neither fetched nor decoded
// again. It is safe for concurrent use. Objects are immutable, so the cache
// never needs invalidating.
type Store struct {
	objs  backend.ObjectStore
	cache *cache
}

// NewStore returns a Store over objs whose cache holds about cacheBytes of
// decoded objects (0: DefaultCacheBytes; negative: no cache).
func NewStore(objs backend.ObjectStore, cacheBytes int64) *Store {
	if cacheBytes == 0 {
		cacheBytes = DefaultCacheBytes
	}
	s := &Store{objs: objs}
	if cacheBytes > 0 {
		s.cache = newCache(cacheBytes)
	}
	return s
}

// Objects returns the underlying object store.
func (s *Store) Objects() backend.ObjectStore { return s.objs }

// Over returns a Store that reads objects from objs instead, sharing s's
// cache of decoded objects. objs must answer for every object s's own
// store holds (typically it is an overlay of objects not stored yet over
// that store), since the cache is shared. It is safe for concurrent use if
// objs is.
func (s *Store) Over(objs backend.ObjectStore) *Store { return &Store{objs: objs, cache: s.cache} }

// EmptyDir is the empty directory. It is shared and must not be modified.
var EmptyDir = Dir{Leaf: EmptyLeaf}

// Load returns the directory object h (a Node or an Index), verifying its
// hash on first read. It returns an error wrapping backend.ErrMissing if h
// is absent (damage: a link named it) and backend.ErrCorrupt if it does not hash to h or decode.
func (s *Store) Load(ctx context.Context, h backend.Hash) (Dir, error) {
	if h == Empty {
		return EmptyDir, nil
	}
	if s.cache != nil {
		if d, ok := s.cache.getDir(h); ok {
			return d, nil
		}
	}
	b, err := codec.Read(ctx, s.objs, h)
	if err != nil {
		return Dir{}, fmt.Errorf("node %s: %w", h, err)
	}
	var d Dir
	switch tag, _ := codec.TagOf(b); tag {
	case codec.TagIndex:
		d.Index, err = DecodeTrie(b)
	default:
		d.Leaf, err = DecodeLeaf(b)
	}
	if err != nil {
		return Dir{}, fmt.Errorf("node %s: %w", h, err)
	}
	s.RememberDir(h, d, len(b))
	return d, nil
}

// Remember puts a decoded object (a Dir, or any other immutable decoded
// object such as a commit) whose encoding has size bytes into the cache,
// so reading it back costs nothing.
func (s *Store) Remember(h backend.Hash, v any, size int) {
	if d, ok := v.(Dir); ok {
		s.RememberDir(h, d, size)
		return
	}
	if s.cache != nil {
		s.cache.add(h, v, int64(size)*2)
	}
}

// RememberDir is Remember for a directory, without boxing it. A Dir holds
// its encoding, so its cost is measured from d itself; size is there for
// symmetry with Remember and not otherwise used.
func (s *Store) RememberDir(h backend.Hash, d Dir, _ int) {
	if s.cache != nil {
		var v any = d.Leaf // unboxed: a pointer in an interface
		if d.Index != nil {
			v = d.Index
		}
		s.cache.add(h, v, dirCost(d))
	}
}

// Forget drops the objects hs from the cache, if it holds them. A writer
// calls it, once its commit has landed, with the directories the commit
// replaced (the old versions of the nodes it rewrote, see
// tree.Builder.Replaced): they are likely never read again, and dropping
// them makes room for the new versions without an eviction sweep, and
// without the cache growing by one version of each rewritten node per
// write. Reading one of them again only costs a read from the object
// store.
func (s *Store) Forget(hs []backend.Hash) {
	if s.cache != nil && len(hs) > 0 {
		s.cache.remove(hs)
	}
}

// Prefetch reads the cache slot where a probe for h starts, so that
// adding h soon after (Remember, RememberDir) finds it in the processor's
// cache. A caller about to remember several objects prefetches them all
// first: the reads do not depend on each other, so their cache misses
// overlap instead of each add waiting for its own.
func (s *Store) Prefetch(h backend.Hash) {
	if s.cache != nil {
		t := s.cache.tab.Load()
		atomic.LoadPointer(&t.slots[t.home(hashWords(&h)[0])].typ)
	}
}

// sweepSpared, if set (by tests), is called each time the eviction sweep
// spares an entry: a reader's hit at that moment.
var sweepSpared func()

// slotBytes is the size of a cache table slot.
const slotBytes = int64(unsafe.Sizeof(cacheSlot{}))

// cost returns the bytes of t's slots that count toward the cache's
// budget: all but the first minCacheSlots (16 KB, the fixed cost of a
// cache). The slots count as they are, at most half of them holding an
// entry (a table thinned by evictions counts its size until it halves,
// see add), so the budget bounds the table too.
func (t *cacheTable) cost() int64 { return int64(len(t.slots)-minCacheSlots) * slotBytes }

// dirCost estimates the memory a cached directory object holds: a leaf
// its encoding, offsets and (if it is large enough to get one once read
// often) find table; an index its encoding, a Trie, perhaps a self
// entry and the kid table it makes once read often (see Trie.Kid).
func dirCost(d Dir) int64 {
	if l := d.Leaf; l != nil {
		table := 0
		if l.tabled() {
			table = 4 * tableSize(len(l.offs))
		}
		return int64(cap(l.data)+4*cap(l.offs)+table) + 64
	}
	return int64(d.Index.size) + 64 + 8*int64(d.Index.n) + 64 // with the kid table it may make
}

// Cached returns the decoded object h if the cache holds it. Objects are
// immutable, so a cached object is always current; it is shared and must
// not be modified.
func (s *Store) Cached(h backend.Hash) (any, bool) {
	if s.cache == nil {
		return nil, false
	}
	return s.cache.get(h)
}

// cache holds decoded objects up to a total estimated size in a flat
// open-addressing table (linear probing) keyed by the first 8 bytes of
// the hash (mixed with the table's seed, see home), evicting by the CLOCK
// approximation of LRU: a hit only sets its slot's reference bit, and
// eviction sweeps the slots, sparing once each one referenced since the
// last sweep (and at most two tables' worth per add, see add). The
// table's slots beyond the first count toward the size (see cost).
//
// Reads take no lock. Every slot field a reader looks at is accessed
// atomically, and a slot's seq is odd while a writer (holding mu) changes
// it, so a reader that sees the same even seq before and after reading a
// slot has read one consistent entry (a seqlock). A reader that meets a
// slot being written, or an entry moved under it by a deletion, may miss
// an object the cache holds; it never returns another object than the
// one asked for, since it compares the whole hash. A miss only costs a
// read from the object store. The table grows by copying into a new one
// published atomically; readers still probing the old one see entries
// that were valid when it was replaced (objects are immutable).
//
// An entry keeps its object as the two words of an interface value (the
// type and the data pointer), so that a directory (a *Leaf or a *Trie) or
// any other object is held without boxing or allocating.
type cache struct {
	tab  atomic.Pointer[cacheTable]
	mu   sync.Mutex // held by writers (add), never by readers
	max  int64
	size int64 // estimated bytes of the entries held
	live int   // entries held
	// unlinked counts the objects evicted since pruneLinks last ran
	// that a Trie may still link (see link.go).
	unlinked int
	hand     uint64 // the CLOCK sweep's position: it looks at sweepSlot(hand) next
}

type cacheTable struct {
	slots []cacheSlot
	mask  uint64 // len(slots)-1, a power of two minus one
	shift uint8  // 64 - log2(len(slots))
	seed  uint64 // mixed into every key (see home)
}

// newCacheTable returns an empty table of n slots (a power of two) with
// the given seed.
func newCacheTable(n, seed uint64) *cacheTable {
	return &cacheTable{slots: make([]cacheSlot, n), mask: n - 1, shift: uint8(64 - bits.TrailingZeros64(n)), seed: seed}
}

// home returns the slot where the probe for key k (a hash's first word)
// starts. The key is mixed with the table's seed, so that hashes someone
// ground to share their low bits (which BLAKE3 makes costly, not
// impossible) still spread over the table instead of making one long
// probe.
func (t *cacheTable) home(k uint64) uint64 { return ((k ^ t.seed) * 0x9e3779b97f4a7c15) >> t.shift }

// cacheSlot is one 64-byte table slot. typ is nil in an empty slot.
type cacheSlot struct {
	seq  atomic.Uint64    // odd while a writer changes the slot
	h    [4]atomic.Uint64 // the hash, as 4 little-endian words
	typ  unsafe.Pointer   // the object's interface type word (atomic)
	data unsafe.Pointer   // the object's interface data word (atomic)
	used atomic.Bool      // referenced since the sweep last passed
	size int32            // the entry's estimated cost (writers only)
}

// eface is the layout of an interface value (any).
type eface struct{ typ, data unsafe.Pointer }

func efaceOf(v any) eface { return *(*eface)(unsafe.Pointer(&v)) }

// The interface type words of the directory objects.
var (
	leafType = efaceOf((*Leaf)(nil)).typ
	trieType = efaceOf((*Trie)(nil)).typ
)

// minCacheSlots is the size of a new cache's table (16 KB).
const minCacheSlots = 256

func newCache(max int64) *cache {
	c := &cache{max: max}
	c.tab.Store(newCacheTable(minCacheSlots, rand.Uint64()))
	return c
}

// hashWords returns h as the 4 words a slot holds; the first is its table
// key. Hashes are BLAKE3 outputs, so its bits are as good as any.
func hashWords(h *backend.Hash) [4]uint64 {
	return [4]uint64{
		binary.LittleEndian.Uint64(h[0:]), binary.LittleEndian.Uint64(h[8:]),
		binary.LittleEndian.Uint64(h[16:]), binary.LittleEndian.Uint64(h[24:]),
	}
}

// lookup returns the object h (its interface words; typ nil if the cache
// does not hold it) and marks it used. It takes no lock (see cache).
func (c *cache) lookup(h *backend.Hash) eface {
	t := c.tab.Load()
	w := hashWords(h)
	for i, n := t.home(w[0]), uint64(0); n <= t.mask; i, n = (i+1)&t.mask, n+1 {
		sl := &t.slots[i]
		seq := sl.seq.Load()
		if seq&1 != 0 {
			continue // being written: if it was h's, this is a miss
		}
		typ := atomic.LoadPointer(&sl.typ)
		if typ == nil {
			return eface{} // the end of the probe
		}
		if sl.h[0].Load() != w[0] || sl.h[1].Load() != w[1] || sl.h[2].Load() != w[2] || sl.h[3].Load() != w[3] {
			continue
		}
		data := atomic.LoadPointer(&sl.data)
		if sl.seq.Load() != seq {
			return eface{} // changed while read
		}
		if !sl.used.Load() {
			sl.used.Store(true)
		}
		return eface{typ, data}
	}
	return eface{}
}

func (c *cache) get(h backend.Hash) (any, bool) {
	e := c.lookup(&h)
	if e.typ == nil {
		return nil, false
	}
	if d, ok := e.dir(); ok {
		return d, true
	}
	return *(*any)(unsafe.Pointer(&e)), true
}

func (c *cache) getDir(h backend.Hash) (Dir, bool) {
	e := c.lookup(&h)
	return e.dir()
}

// dir returns e as a Dir if it holds a *Leaf or a *Trie.
func (e eface) dir() (Dir, bool) {
	switch e.typ {
	case leafType:
		return Dir{Leaf: (*Leaf)(e.data)}, true
	case trieType:
		return Dir{Index: (*Trie)(e.data)}, true
	}
	return Dir{}, false
}

func (c *cache) add(h backend.Hash, v any, size int64) {
	if size > c.max/4 || size > math.MaxInt32 || v == nil {
		return // too big to be worth evicting everything else for
	}
	w := hashWords(&h)
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tab.Load()
	i := t.home(w[0])
	for ; atomic.LoadPointer(&t.slots[i].typ) != nil; i = (i + 1) & t.mask {
		if w == t.slots[i].words() {
			return
		}
	}
	// Make room first (the new entry is never the one evicted): for its
	// size, counting the table's slots (see cost), and for its slot,
	// keeping the table at most half full. The table doubles when the
	// bigger table fits the budget; otherwise entries are evicted. Readers
	// set the reference bits without the lock, so the sweep spares at
	// most two tables' worth of entries per add, then evicts whatever is
	// under the hand.
	evicted := false
	for spared := uint64(0); ; {
		full := uint64(c.live+1)*2 > t.mask+1
		if full && c.size+t.cost()+int64(len(t.slots))*slotBytes+size <= c.max {
			t = c.resize(t, 2*uint64(len(t.slots)))
			evicted = true
			continue
		}
		if !full && c.size+t.cost()+size <= c.max || c.live == 0 {
			break
		}
		j := sweepSlot(c.hand, t)
		c.hand++
		sl := &t.slots[j]
		typ := atomic.LoadPointer(&sl.typ)
		switch {
		case typ == nil:
		case c.referenced(sl, typ) && spared < 2*(t.mask+1):
			sl.used.Store(false)
			spared++
			if sweepSpared != nil {
				sweepSpared()
			}
		default:
			c.evict(t, j)
			c.hand-- // look at slot j again: evict moved a later entry into it, or emptied it
			evicted = true
		}
	}
	// A table thinned by evictions to an eighth full halves (so that it
	// stops counting against the budget the slots of a past crowd of
	// small entries).
	for uint64(c.live+1)*8 < t.mask+1 && len(t.slots) > minCacheSlots {
		t = c.resize(t, uint64(len(t.slots))/2)
		evicted = true
	}
	if evicted { // the free slot found above may have moved
		for i = t.home(w[0]); atomic.LoadPointer(&t.slots[i].typ) != nil; i = (i + 1) & t.mask {
		}
	}
	e := efaceOf(v)
	t.slots[i].set(w, e.typ, e.data, int32(size), false)
	if st := stateOf(e.typ, e.data); st != nil {
		st.Or(stateCached)
	}
	c.live++
	c.size += size
	c.pruneLinks(t)
}

// minPrune is the fewest evicted, once linked, objects that make
// pruneLinks run.
const minPrune = 64

// pruneLinks drops every link of the Tries t holds to objects no cache
// holds, once the objects evicted since it last ran that a Trie may
// still link number more than an eighth of the entries (and at least
// minPrune): it walks the whole table, so this bounds both what links
// keep alive beyond the budget and its cost per eviction. The caller
// holds c.mu.
func (c *cache) pruneLinks(t *cacheTable) {
	if c.unlinked < minPrune || c.unlinked*8 < c.live {
		return
	}
	for i := range t.slots {
		if atomic.LoadPointer(&t.slots[i].typ) == trieType {
			(*Trie)(atomic.LoadPointer(&t.slots[i].data)).unlink(false)
		}
	}
	c.unlinked = 0
}

// referenced reports whether the entry in slot sl, of type typ, was
// read since the sweep last passed: a hit on its slot, or a lookup
// through a link to it (see Trie.Kid). It clears the link's mark; the
// caller clears the slot's.
func (c *cache) referenced(sl *cacheSlot, typ unsafe.Pointer) bool {
	if sl.used.Load() {
		return true
	}
	if st := stateOf(typ, atomic.LoadPointer(&sl.data)); st != nil && st.Load()&stateUsed != 0 {
		st.And(^int32(stateUsed))
		return true
	}
	return false
}

// remove drops the entries of hs the cache holds.
func (c *cache) remove(hs []backend.Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tab.Load()
	for k := range hs {
		w := hashWords(&hs[k])
		for i := t.home(w[0]); atomic.LoadPointer(&t.slots[i].typ) != nil; i = (i + 1) & t.mask {
			if w == t.slots[i].words() {
				c.evict(t, i)
				break
			}
		}
	}
	c.pruneLinks(t)
}

// sweepSlot returns the slot the sweep looks at when its hand is at h:
// the hand's position times an odd constant, so that the sweep visits
// every slot once per turn of len(t.slots) positions, but scattered over
// the table rather than in slot order. A sweep in slot order empties the
// slots behind the hand while those ahead of it fill up with the entries
// added since its last pass, until the probe runs just ahead of it are
// thousands of slots long; every eviction there (see evict) and every add
// whose home falls in them walks such a run. Scattered, the evictions
// keep the table evenly half full and the runs short.
func sweepSlot(h uint64, t *cacheTable) uint64 { return (h * 0x9e3779b97f4a7c15) & t.mask }

// words returns the hash a slot holds. The caller holds c.mu.
func (sl *cacheSlot) words() [4]uint64 {
	return [4]uint64{sl.h[0].Load(), sl.h[1].Load(), sl.h[2].Load(), sl.h[3].Load()}
}

// set writes slot sl (typ nil: empties it) so that readers see either
// the old or the new entry, never a mix. The caller holds c.mu.
func (sl *cacheSlot) set(w [4]uint64, typ, data unsafe.Pointer, size int32, used bool) {
	sl.seq.Add(1)
	atomic.StorePointer(&sl.typ, typ)
	for k := range w {
		sl.h[k].Store(w[k])
	}
	atomic.StorePointer(&sl.data, data)
	sl.used.Store(used)
	sl.size = size
	sl.seq.Add(1)
}

// resize replaces t with a table of n slots (a power of two, more than
// twice the entries) holding the same entries. The caller holds c.mu. The
// new table is written with plain stores, as no reader sees it before it
// is published. It keeps t's seed, so that an entry's home in the new
// table is its home in t scaled by the change of size (see home): read
// in slot order, the entries are written to the new table in about the
// same order, one cache line after another, rather than all over it.
func (c *cache) resize(t *cacheTable, n uint64) *cacheTable {
	nt := newCacheTable(n, t.seed)
	for i := range t.slots {
		sl := &t.slots[i]
		typ := atomic.LoadPointer(&sl.typ)
		if typ == nil {
			continue
		}
		w := sl.words()
		j := nt.home(w[0])
		for nt.slots[j].typ != nil {
			j = (j + 1) & nt.mask
		}
		to := &nt.slots[j]
		for k := range w {
			*(*uint64)(unsafe.Pointer(&to.h[k])) = w[k]
		}
		to.typ, to.data, to.size = typ, atomic.LoadPointer(&sl.data), sl.size
		*(*bool)(unsafe.Pointer(&to.used)) = sl.used.Load()
	}
	c.tab.Store(nt)
	c.hand = 0
	return nt
}

// evict empties the full slot i of t, moving later entries of its probe
// back so that every entry stays reachable from its home slot (deletion
// without tombstones). The caller holds c.mu.
func (c *cache) evict(t *cacheTable, i uint64) {
	typ, data := atomic.LoadPointer(&t.slots[i].typ), atomic.LoadPointer(&t.slots[i].data)
	if st := stateOf(typ, data); st != nil {
		if st.And(^int32(stateCached|stateUsed|stateLinked))&stateLinked != 0 {
			c.unlinked++
		}
		if typ == trieType {
			(*Trie)(data).unlink(true)
		}
	}
	c.size -= int64(t.slots[i].size)
	c.live--
	for j := (i + 1) & t.mask; ; j = (j + 1) & t.mask {
		sl := &t.slots[j]
		typ := atomic.LoadPointer(&sl.typ)
		if typ == nil {
			break
		}
		w := sl.words()
		// The entry at j may move to i if its home slot is not in (i, j]
		// cyclically.
		if home := t.home(w[0]); (j-home)&t.mask >= (j-i)&t.mask {
			t.slots[i].set(w, typ, atomic.LoadPointer(&sl.data), sl.size, sl.used.Load())
			i = j
		}
	}
	t.slots[i].set([4]uint64{}, nil, nil, 0, false)
}
