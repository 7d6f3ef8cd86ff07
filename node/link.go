package node

import (
	"sync/atomic"
	"unsafe"

	"github.com/stratakv/strata/backend"
)

// Links: a Trie read often keeps pointers to its children's decoded
// objects (see Trie.Kid), so that a lookup descending a large directory
// goes from one level to the next without a node-cache lookup, whose
// slot, one of a large table, is a cache miss of its own at every level.
//
// Links hold little that the node cache has let go:
//   - A Leaf or Trie has a flag, stateCached, that a cache's add sets
//     and its evict clears (under the cache's lock): set, some cache
//     holds the object. A Trie links a child only if the flag is set
//     (the child may be evicted between the check and the link, which
//     the next two points then handle as any other evicted child).
//   - A lookup does not follow a link to an object whose flag is clear:
//     it drops the link and reads the child through the cache again.
//   - An evicted Trie drops all its links. An evicted object that was
//     ever linked (stateLinked) counts toward the cache's unlinked; once
//     those number more than an eighth of the entries the cache holds
//     (and at least minPrune), the cache drops every link of every Trie
//     it holds to an evicted child (see cache.pruneLinks). So links keep
//     at most that many evicted objects alive beyond the cache's budget.
//   - A lookup through a link marks the child used (stateUsed), which
//     the eviction sweep counts as a hit on the child's slot, so that
//     children reached only through links are not evicted as unused.
//
// A kid table costs 8 bytes a child and a 64-byte header, counted in
// every Trie's cost (see dirCost) whether it makes one or not.

// The state word of a Leaf or a Trie: three flags in the low bits and,
// above them, a count of lookups (Finds of a Leaf before its find table
// is made, lookups through a Trie before its kid table is made).
const (
	stateUsed   = 1 << 0 // looked up through a link since the sweep last passed
	stateCached = 1 << 1 // held by a node cache
	stateLinked = 1 << 2 // linked by a Trie since it was last cached
	stateCount  = 1 << 8 // one lookup
)

// linkAfter is how many lookups pass through a Trie before it makes its
// kid table: a Trie a commit rewrites is read a few times and then
// replaced, and gets none; one read again and again (an upper level of a
// large directory, or any level under many reads) gets one.
const linkAfter = 16

// countOf returns the lookup count of a state word.
func countOf(s int32) int32 { return s >> 8 }

// markUsed sets stateUsed in *s, writing only if it is not set yet (so
// that lookups on several cores do not all write the same line).
func markUsed(s *atomic.Int32) {
	if s.Load()&stateUsed == 0 {
		s.Or(stateUsed)
	}
}

// kids is a Trie's kid table: p[i] is the *Trie (if child i is an index,
// that is, its count is more than MaxEntries) or the *Leaf of child i, or
// nil.
type kids struct {
	trie [4]uint64 // bit b: child b is an index (its count says so)
	p    []unsafe.Pointer
}

// isTrie reports whether child i is an index.
func (k *kids) isTrie(i int) bool { return k.trie[i>>6]&(1<<(i&63)) != 0 }

// dir returns p, the object k links as child i, as a Dir, and its state
// word.
func (k *kids) dir(i int, p unsafe.Pointer) (Dir, *atomic.Int32) {
	if k.isTrie(i) {
		x := (*Trie)(p)
		return Dir{Index: x}, &x.state
	}
	l := (*Leaf)(p)
	return Dir{Leaf: l}, &l.state
}

// Kid returns the decoded child i (0 <= i < NumChildren) if t links it
// and the node cache still holds it, marking it used; ok is false
// otherwise, and the caller reads child ChildHash(i) (through the cache)
// and offers it to Link. Kid counts the lookups through t until t makes
// its kid table.
func (t *Trie) Kid(i int) (_ Dir, ok bool) {
	k := t.kids.Load()
	if k == nil {
		if countOf(t.state.Add(stateCount)) == linkAfter {
			t.makeKids()
		}
		return Dir{}, false
	}
	p := atomic.LoadPointer(&k.p[i])
	if p == nil {
		return Dir{}, false
	}
	d, s := k.dir(i, p)
	if s.Load()&stateCached == 0 { // evicted: let it go
		atomic.CompareAndSwapPointer(&k.p[i], p, nil)
		return Dir{}, false
	}
	markUsed(s)
	return d, true
}

// Link records d, just read through the node cache as the object h
// names, as child i of t, if t has a kid table, h is child i's hash, the
// cache holds d and d is of the kind child i's count says (a damaged
// store may say otherwise: then nothing is linked).
func (t *Trie) Link(i int, h backend.Hash, d Dir) {
	k := t.kids.Load()
	if k == nil || i < 0 || i >= len(k.p) {
		return
	}
	var p unsafe.Pointer
	var s *atomic.Int32
	switch {
	case k.isTrie(i) && d.Index != nil:
		p, s = unsafe.Pointer(d.Index), &d.Index.state
	case !k.isTrie(i) && d.Leaf != nil && d.Leaf != EmptyLeaf:
		p, s = unsafe.Pointer(d.Leaf), &d.Leaf.state
	default:
		return
	}
	if s.Load()&stateCached == 0 || t.ChildHash(i) != h {
		return
	}
	if s.Load()&stateLinked == 0 {
		s.Or(stateLinked)
	}
	atomic.StorePointer(&k.p[i], p)
}

// Linked returns the number of children t links (see Kid).
func (t *Trie) Linked() int {
	k := t.kids.Load()
	if k == nil {
		return 0
	}
	n := 0
	for i := range k.p {
		if atomic.LoadPointer(&k.p[i]) != nil {
			n++
		}
	}
	return n
}

// makeKids makes t's kid table, if no other lookup has.
func (t *Trie) makeKids() {
	k := &kids{p: make([]unsafe.Pointer, t.n)}
	for i := range int(t.n) {
		if t.childCount(i) > MaxEntries {
			k.trie[i>>6] |= 1 << (i & 63)
		}
	}
	t.kids.CompareAndSwap(nil, k)
}

// unlink drops t's links: all of them if all, else those to children no
// cache holds.
func (t *Trie) unlink(all bool) {
	k := t.kids.Load()
	if k == nil {
		return
	}
	for i := range k.p {
		p := atomic.LoadPointer(&k.p[i])
		if p == nil {
			continue
		}
		if _, s := k.dir(i, p); !all && s.Load()&stateCached != 0 {
			continue
		}
		atomic.CompareAndSwapPointer(&k.p[i], p, nil)
	}
}

// stateOf returns the state word of the directory object a cache entry
// holds (typ and data: its interface words), or nil if it is none.
func stateOf(typ, data unsafe.Pointer) *atomic.Int32 {
	switch typ {
	case leafType:
		return &(*Leaf)(data).state
	case trieType:
		return &(*Trie)(data).state
	}
	return nil
}
