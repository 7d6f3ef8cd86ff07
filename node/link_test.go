package node

import (
	"fmt"
	"sync"
	"testing"
	"unsafe"

	"github.com/stratakv/strata/backend"
)

// linkFixture is a parent Trie of n children (bytes from '0' on), the
// even ones indexes (count 200) and the odd ones leaves (count 2), with a
// decoded object for each, all remembered in s's cache under the
// parent's child hashes.
type linkFixture struct {
	s      *Store
	parent *Trie
	dirs   []Dir
}

func newLinkFixture(t *testing.T, n int, cacheBytes int64) *linkFixture {
	t.Helper()
	f := &linkFixture{s: NewStore(nil, cacheBytes)}
	var children []Child
	for i := range n {
		b := byte('0' + i)
		var d Dir
		if i%2 == 0 {
			var sub []Child
			for j := range 2 {
				sub = append(sub, Child{Byte: byte('0' + j), Count: 100, Hash: hashN(1000*i + j)})
			}
			x, err := NewTrie(string(b), nil, sub)
			if err != nil {
				t.Fatal(err)
			}
			d.Index = x
		} else {
			l, err := NewLeaf([]Entry{
				{Name: string(b) + "1", Kind: KindInline, Inline: []byte("v")},
				{Name: string(b) + "2", Kind: KindInline, Inline: []byte(fmt.Sprint(i))},
			})
			if err != nil {
				t.Fatal(err)
			}
			d.Leaf = l
		}
		h := d.hash()
		children = append(children, Child{Byte: b, Count: uint64(d.Len()), Hash: h})
		f.dirs = append(f.dirs, d)
		f.s.RememberDir(h, d, 0)
	}
	var err error
	if f.parent, err = NewTrie("", nil, children); err != nil {
		t.Fatal(err)
	}
	return f
}

// linkAll caches the parent, has linkAfter lookups pass through it (so
// that it makes its kid table) and links every child.
func (f *linkFixture) linkAll() {
	p := f.parent
	f.s.RememberDir(p.Object().Hash, Dir{Index: p}, 0)
	for range linkAfter {
		p.Kid(0)
	}
	for i, d := range f.dirs {
		p.Link(i, p.ChildHash(i), d)
	}
}

// hash returns the hash of d's encoding.
func (d Dir) hash() backend.Hash {
	if d.Index != nil {
		return d.Index.Object().Hash
	}
	return d.Leaf.Object().Hash
}

func (d Dir) String() string { return fmt.Sprintf("{Leaf %p, Index %p}", d.Leaf, d.Index) }

// TestTrieLinks: a Trie links no child until linkAfter lookups have
// passed through it; then Kid returns exactly the object Link was given
// for that position, marked used, while the cache holds it; it refuses
// an object of the wrong kind (a damaged store's) or one the cache does
// not hold; once the cache forgets a child, Kid no longer returns it and
// drops the link; and WithChild's Trie starts with no links.
func TestTrieLinks(t *testing.T) {
	f := newLinkFixture(t, 26, 1<<20)
	p := f.parent
	for n := 1; n < linkAfter; n++ {
		if _, ok := p.Kid(0); ok {
			t.Fatalf("Kid after %d lookups: linked before any Link", n)
		}
		p.Link(0, p.ChildHash(0), f.dirs[0])
		if p.kids.Load() != nil {
			t.Fatalf("kid table made after %d lookups, want it after %d", n, linkAfter)
		}
	}
	if _, ok := p.Kid(0); ok || p.kids.Load() == nil {
		t.Fatalf("no kid table after %d lookups", linkAfter)
	}
	for i, d := range f.dirs {
		if _, ok := p.Kid(i); ok {
			t.Fatalf("child %d linked before Link", i)
		}
		j := (i + 1) % len(f.dirs) // the other kind
		p.Link(i, p.ChildHash(i), f.dirs[j])
		p.Link(i, p.ChildHash(j), f.dirs[j])
		if i >= 2 {
			j = i - 2 // the same kind: another position's
			p.Link(i, p.ChildHash(j), f.dirs[j])
		}
		if got, ok := p.Kid(i); ok {
			t.Fatalf("child %d: Link took another child's object: Kid = %v", i, got)
		}
		p.Link(i, p.ChildHash(i), d)
		got, ok := p.Kid(i)
		if !ok || got != d {
			t.Fatalf("child %d: Kid = %v, %v; want %v", i, got, ok, d)
		}
		if st := stateOf(efaceOfDir(d)); st.Load()&stateUsed == 0 {
			t.Fatalf("child %d: a lookup through the link did not mark it used", i)
		}
	}
	// A child the cache does not hold is not linked.
	loose, err := NewLeaf([]Entry{{Name: "b1", Kind: KindInline, Inline: []byte("x")}, {Name: "b2", Kind: KindInline}})
	if err != nil {
		t.Fatal(err)
	}
	p.Link(1, loose.Object().Hash, Dir{Leaf: loose})
	p.Link(1, p.ChildHash(1), Dir{Leaf: loose})
	if got := (*Leaf)(p.kids.Load().p[1]); got != f.dirs[1].Leaf {
		t.Fatalf("child 1 links %p after Link of a leaf the cache does not hold, want %p", got, f.dirs[1].Leaf)
	}
	// Forgotten children are not returned, and the links are dropped.
	var forget []backend.Hash
	for i := 0; i < len(f.dirs); i += 3 {
		forget = append(forget, p.ChildHash(i))
	}
	f.s.Forget(forget)
	k := p.kids.Load()
	for i := range f.dirs {
		_, ok := p.Kid(i)
		if want := i%3 != 0; ok != want {
			t.Fatalf("child %d after Forget: linked %v, want %v", i, ok, want)
		}
		if (k.p[i] != nil) != (i%3 != 0) {
			t.Fatalf("child %d after Forget: link kept %v", i, k.p[i] != nil)
		}
	}
	edited, ok := p.WithChild(Child{Byte: '1', Count: 3, Hash: hashN(7)})
	if !ok {
		t.Fatal("WithChild failed")
	}
	if edited.kids.Load() != nil || countOf(edited.state.Load()) != 0 {
		t.Fatal("WithChild's Trie inherited the kid table or the lookup count")
	}
}

func efaceOfDir(d Dir) (typ, data unsafe.Pointer) {
	e := efaceOf(d.Leaf)
	if d.Index != nil {
		e = efaceOf(d.Index)
	}
	return e.typ, e.data
}

// TestSweepSparesLinkedAndPrunes: the eviction sweep counts a lookup
// through a link as a use (a child read only through its parent's link
// stays cached while others are evicted), and a lookup drops the
// parent's links to the children it evicted.
func TestSweepSparesLinkedAndPrunes(t *testing.T) {
	f := newLinkFixture(t, 26, 64<<10)
	p := f.parent
	f.linkAll()
	hot := map[int]bool{0: true, 1: true, 7: true, 12: true}
	// Fill the cache with other entries many times over, reading the hot
	// children through their links between adds and the parent through
	// the cache (as find does).
	for j := range 20000 {
		if j%16 == 0 {
			if _, ok := f.s.cache.getDir(p.Object().Hash); !ok {
				t.Fatalf("after %d adds: the parent, hit before every 16 adds, was evicted", j)
			}
			for i := range hot {
				if _, ok := p.Kid(i); !ok {
					t.Fatalf("after %d adds: hot child %d, read through its link before every 16 adds, was evicted", j, i)
				}
			}
		}
		f.s.Remember(hashN(1_000_000+j), j, 1000)
	}
	f.s.cache.check(t)
	k := p.kids.Load()
	for i := range f.dirs {
		if hot[i] {
			continue
		}
		if _, ok := f.s.cache.peek(p.ChildHash(i)); ok {
			t.Errorf("cold child %d still cached after the cache turned over many times", i)
		}
		if d, ok := p.Kid(i); ok {
			t.Errorf("cold child %d: evicted, but Kid returns %v", i, d)
		}
		if k.p[i] != nil {
			t.Errorf("cold child %d: evicted, and Kid kept its link", i)
		}
	}
}

// TestLinksConcurrent: lookups through links while other goroutines link,
// forget and re-remember the children (run with -race): Kid returns
// either nothing or the child's own object.
func TestLinksConcurrent(t *testing.T) {
	f := newLinkFixture(t, 26, 1<<20)
	p := f.parent
	for range linkAfter {
		p.Kid(0)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 2000 {
				i := (j*7 + g) % len(f.dirs)
				switch g {
				case 0:
					f.s.Forget([]backend.Hash{p.ChildHash(i)})
				case 1:
					f.s.RememberDir(p.ChildHash(i), f.dirs[i], 0)
				default:
					if d, ok := p.Kid(i); ok && d != f.dirs[i] {
						t.Errorf("Kid(%d) = %v, want %v", i, d, f.dirs[i])
						return
					}
					p.Link(i, p.ChildHash(i), f.dirs[i])
				}
			}
		}()
	}
	wg.Wait()
	f.s.cache.check(t)
}

// TestForgetUnlinks: a cache that forgets linked children, with no
// pressure on it (no sweep), drops the links to them once they number an
// eighth of its entries and at least minPrune; an evicted Trie drops its
// own links.
func TestForgetUnlinks(t *testing.T) {
	f := newLinkFixture(t, 200, 64<<20)
	p := f.parent
	f.linkAll()
	if n := p.Linked(); n != len(f.dirs) {
		t.Fatalf("%d children linked, want %d", n, len(f.dirs))
	}
	var forget []backend.Hash
	for i := range minPrune - 1 {
		forget = append(forget, p.ChildHash(i))
	}
	f.s.Forget(forget)
	if n := p.Linked(); n != len(f.dirs) {
		t.Fatalf("%d children linked after forgetting %d, fewer than minPrune; want all %d still linked (nothing pruned yet)", n, len(forget), len(f.dirs))
	}
	forget = forget[:0]
	for i := minPrune - 1; i < len(f.dirs); i += 2 {
		forget = append(forget, p.ChildHash(i))
	}
	f.s.Forget(forget)
	for i := range f.dirs {
		linked := p.kids.Load().p[i] != nil
		if want := i >= minPrune-1 && (i-minPrune+1)%2 == 1; linked != want {
			t.Fatalf("child %d: linked %v after the forgets, want %v", i, linked, want)
		}
	}
	f.s.cache.check(t)
	f.s.Forget([]backend.Hash{p.Object().Hash})
	if n := p.Linked(); n != 0 {
		t.Fatalf("the forgotten parent still links %d children", n)
	}
}
