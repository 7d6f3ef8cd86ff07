package node

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

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
		s.cache.add(h, v, int64(size)*2+slotCost)
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

// slotCost estimates the bytes a cache entry costs beyond its object: the
// slot and the map entry.
const slotCost = 128

// dirCost estimates the memory a cached directory object holds: a leaf
// its encoding, offsets and (if it is large enough to get them once read
// often) search keys; an index its encoding, a Trie and perhaps a self
// entry.
func dirCost(d Dir) int64 {
	if l := d.Leaf; l != nil {
		keys := 0
		if len(l.offs) >= minKeyed {
			keys = 8 * len(l.offs)
		}
		return int64(cap(l.data)+4*cap(l.offs)+keys) + 64 + slotCost
	}
	return int64(cap(d.Index.data)) + 64 + slotCost
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

// cache holds decoded objects up to a total estimated size, evicting by
// the CLOCK approximation of LRU: a hit only sets its slot's reference
// bit (under the read lock, without moving anything), and eviction
// sweeps the slots, sparing once each one referenced since the last
// sweep. Directories are kept unboxed.
type cache struct {
	mu    sync.RWMutex
	max   int64
	size  int64
	items map[uint64]int32 // cacheKey(hash) -> index in slots
	// slots are held in fixed chunks, never moved or copied as the cache
	// grows: growing costs each slot once, not about twice as doubling
	// an array would.
	slots []*[cacheChunk]cacheSlot
	n     int32   // slots in use or free
	free  []int32 // empty slots
	hand  int32   // the next slot the sweep looks at
}

// cacheChunk is the number of slots in a chunk (14 KB).
const cacheChunk = 256

// at returns slot i (0 <= i < c.n).
func (c *cache) at(i int32) *cacheSlot { return &c.slots[i/cacheChunk][i%cacheChunk] }

type cacheSlot struct {
	h    backend.Hash
	v    any // the decoded object: a *Leaf, a *Trie or another
	size int32
	used atomic.Bool // referenced since the sweep last passed
	live bool
}

func newCache(max int64) *cache {
	return &cache{max: max, items: make(map[uint64]int32)}
}

// cacheKey is the map key of h: its first 8 bytes. Hashes are BLAKE3
// outputs, so these are as good a map key as all 32 and make a smaller,
// faster map. Two hashes that share them (which someone could contrive)
// share one map entry: a slot is found only if its whole hash matches,
// and adding one evicts the other, so a collision costs cache hits, never
// a wrong answer.
func cacheKey(h backend.Hash) uint64 { return binary.LittleEndian.Uint64(h[:8]) }

// slot returns h's slot, marked used, or nil. The caller holds c.mu.
func (c *cache) slot(h backend.Hash) *cacheSlot {
	i, ok := c.items[cacheKey(h)]
	if !ok {
		return nil
	}
	sl := c.at(i)
	if sl.h != h {
		return nil
	}
	if !sl.used.Load() {
		sl.used.Store(true)
	}
	return sl
}

func (c *cache) get(h backend.Hash) (any, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	sl := c.slot(h)
	if sl == nil {
		return nil, false
	}
	switch v := sl.v.(type) {
	case *Leaf:
		return Dir{Leaf: v}, true
	case *Trie:
		return Dir{Index: v}, true
	}
	return sl.v, true
}

func (c *cache) getDir(h backend.Hash) (Dir, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if sl := c.slot(h); sl != nil {
		switch v := sl.v.(type) {
		case *Leaf:
			return Dir{Leaf: v}, true
		case *Trie:
			return Dir{Index: v}, true
		}
	}
	return Dir{}, false
}

func (c *cache) add(h backend.Hash, v any, size int64) {
	if size > c.max/4 || size > math.MaxInt32 {
		return // too big to be worth evicting everything else for
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.items[cacheKey(h)]; ok {
		if c.at(i).h == h {
			return
		}
		c.evict(i) // another hash with the same key
	}
	for c.size+size > c.max { // make room first: the new entry is never the one evicted
		if c.hand >= c.n {
			c.hand = 0
		}
		j := c.hand
		c.hand++
		sl := c.at(j)
		switch {
		case !sl.live:
		case sl.used.Load():
			sl.used.Store(false)
		default:
			c.evict(j)
		}
	}
	var i int32
	if n := len(c.free); n > 0 {
		i, c.free = c.free[n-1], c.free[:n-1]
	} else {
		if c.n%cacheChunk == 0 {
			c.slots = append(c.slots, new([cacheChunk]cacheSlot))
		}
		i = c.n
		c.n++
	}
	sl := c.at(i)
	sl.h, sl.v, sl.size, sl.live = h, v, int32(size), true
	sl.used.Store(false)
	c.items[cacheKey(h)] = i
	c.size += size
}

// evict empties the live slot i. The caller holds c.mu for writing.
func (c *cache) evict(i int32) {
	sl := c.at(i)
	delete(c.items, cacheKey(sl.h))
	c.size -= int64(sl.size)
	sl.v, sl.live = nil, false
	c.free = append(c.free, i)
}
