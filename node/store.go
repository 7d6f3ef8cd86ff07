package node

import (
	"container/list"
	"context"
	"fmt"
	"sync"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/internal/codec"
)

// Dir is a decoded directory object: exactly one of Leaf and Index is set.
// Dirs returned by a Store are shared and must not be modified.
type Dir struct {
	Leaf  *Node
	Index *Index
}

// Len returns the number of entries in the directory, in O(1).
func (d Dir) Len() int {
	if d.Index != nil {
		return int(d.Index.Count)
	}
	return len(d.Leaf.Entries)
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
var EmptyDir = Dir{Leaf: &Node{}}

// Load returns the directory object h (a Node or an Index), verifying its
// hash on first read. It returns an error wrapping backend.ErrMissing if h
// is absent (damage: a link named it) and backend.ErrCorrupt if it does not hash to h or decode.
func (s *Store) Load(ctx context.Context, h backend.Hash) (Dir, error) {
	if h == Empty {
		return EmptyDir, nil
	}
	if v, ok := s.Cached(h); ok {
		if d, ok := v.(Dir); ok {
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
		d.Index, err = DecodeIndex(b)
	default:
		d.Leaf, err = Decode(b)
	}
	if err != nil {
		return Dir{}, fmt.Errorf("node %s: %w", h, err)
	}
	s.Remember(h, d, len(b))
	return d, nil
}

// Remember puts a decoded object (a Dir, or any other immutable decoded
// object such as a commit) whose encoding has size bytes into the cache,
// so reading it back costs nothing.
func (s *Store) Remember(h backend.Hash, v any, size int) {
	if s.cache != nil {
		s.cache.add(h, v, int64(size)*2+128)
	}
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

// cache is an LRU of decoded objects bounded by their estimated size.
type cache struct {
	mu    sync.Mutex
	max   int64
	size  int64
	lru   *list.List // of *cacheItem, most recent first
	items map[backend.Hash]*list.Element
}

type cacheItem struct {
	h    backend.Hash
	v    any
	size int64
}

func newCache(max int64) *cache {
	return &cache{max: max, lru: list.New(), items: make(map[backend.Hash]*list.Element)}
}

func (c *cache) get(h backend.Hash) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[h]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*cacheItem).v, true
	}
	return nil, false
}

func (c *cache) add(h backend.Hash, v any, size int64) {
	if size > c.max/4 {
		return // too big to be worth evicting everything else for
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[h]; ok {
		c.lru.MoveToFront(e)
		return
	}
	c.items[h] = c.lru.PushFront(&cacheItem{h: h, v: v, size: size})
	c.size += size
	for c.size > c.max {
		e := c.lru.Back()
		it := e.Value.(*cacheItem)
		c.lru.Remove(e)
		delete(c.items, it.h)
		c.size -= it.size
	}
}
