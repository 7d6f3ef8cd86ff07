package tree

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/node"
)

// This file holds the algorithms on one directory, stored either as a
// single node.Node (at most node.MaxEntries entries) or as a canonical trie
// of node.Index objects over the bytes of the names (see node.Index). Every
// function takes the hash of a directory object; the zero hash and
// node.Empty are the empty directory.

func isEmpty(h backend.Hash) bool { return h.IsZero() || h == node.Empty }

// dirLoader loads directory objects; *node.Store and *writer both are.
type dirLoader interface {
	Load(ctx context.Context, h backend.Hash) (node.Dir, error)
}

// recent is a dirLoader that remembers the last few directories it
// loaded, for one Builder: a write reads every directory on its path when
// it records the change (Builder.find) and again when it writes it
// (writer.apply), and a lookup in the node cache costs more than a scan of
// a few hashes. Not safe for concurrent use.
type recent struct {
	st   *node.Store
	hs   [recentDirs]backend.Hash
	dirs [recentDirs]node.Dir
	next int // the slot the next directory loaded takes
}

// recents holds recents for reuse (see Builder.loader).
var recents = sync.Pool{New: func() any { return new(recent) }}

// putRecent empties r, dropping what it refers to, and keeps it for reuse.
func putRecent(r *recent) {
	*r = recent{}
	recents.Put(r)
}

// recentDirs is how many directories a recent keeps: enough for a path
// through a large directory (its index levels and leaf) and its parents.
const recentDirs = 8

// Load returns directory h, remembered or loaded (and then remembered).
func (r *recent) Load(ctx context.Context, h backend.Hash) (node.Dir, error) {
	for i := range r.hs {
		if r.hs[i] == h && (r.dirs[i].Leaf != nil || r.dirs[i].Index != nil) {
			return r.dirs[i], nil
		}
	}
	d, err := r.st.Load(ctx, h)
	if err != nil {
		return node.Dir{}, err
	}
	r.hs[r.next], r.dirs[r.next] = h, d
	r.next = (r.next + 1) % recentDirs
	return d, nil
}

func load(ctx context.Context, st dirLoader, h backend.Hash) (node.Dir, error) {
	if isEmpty(h) {
		return node.EmptyDir, nil
	}
	return st.Load(ctx, h)
}

// find returns the entry called name in directory h, descending the index
// by the bytes of name: O(depth) objects, each usually from the cache or,
// below an index read often, linked by it (see node.Trie.Kid).
func find(ctx context.Context, st dirLoader, h backend.Hash, name string) (node.Entry, bool, error) {
	var (
		d      node.Dir
		parent *node.Trie // the index of which h is child at, if any
		at     int
	)
	for {
		if d.Leaf == nil && d.Index == nil {
			var err error
			if d, err = load(ctx, st, h); err != nil {
				return node.Entry{}, false, err
			}
			if parent != nil {
				parent.Link(at, h, d)
			}
		}
		if d.Leaf != nil {
			e, ok := d.Leaf.Find(name)
			return e, ok, nil
		}
		x := d.Index
		switch {
		case name == x.Prefix:
			if x.Self == nil {
				return node.Entry{}, false, nil
			}
			return *x.Self, true, nil
		case len(name) <= len(x.Prefix) || !strings.HasPrefix(name, x.Prefix):
			return node.Entry{}, false, nil
		}
		i, ok := x.ChildIndex(name[len(x.Prefix)])
		if !ok {
			return node.Entry{}, false, nil
		}
		if d, ok = x.Kid(i); !ok {
			parent, at, h = x, i, x.ChildHash(i)
		}
	}
}

// dirLen returns the number of entries of directory h in O(1).
func dirLen(ctx context.Context, st dirLoader, h backend.Hash) (int, error) {
	d, err := load(ctx, st, h)
	if err != nil {
		return 0, err
	}
	return d.Len(), nil
}

// iterate calls fn with the entries of directory h in name order, starting
// after the name after (if hasAfter), until fn returns false. Subtrees
// entirely at or before after are skipped without being loaded, so the cost
// is O(depth + entries visited).
func iterate(ctx context.Context, st dirLoader, h backend.Hash, after string, hasAfter bool, fn func(node.Entry) bool) (bool, error) {
	d, err := load(ctx, st, h)
	if err != nil {
		return false, err
	}
	if l := d.Leaf; l != nil {
		i := 0
		if hasAfter {
			if i = l.Search(after); i < l.Len() && l.Name(i) == after {
				i++
			}
		}
		for ; i < l.Len(); i++ {
			if !fn(l.Entry(i)) {
				return false, nil
			}
		}
		return true, nil
	}
	x := d.Index
	var from int // the first child byte that may hold names > after
	if hasAfter {
		switch {
		case strings.HasPrefix(after, x.Prefix):
			if len(after) == len(x.Prefix) {
				hasAfter = false // every name but Self is > after, and Self is not
				from = 0
				goto children
			}
			from = int(after[len(x.Prefix)])
		case after < x.Prefix:
			hasAfter = false // every name here is >= Prefix > after
		default:
			return true, nil // every name here is < after
		}
	}
	if x.Self != nil && !hasAfter {
		if !fn(*x.Self) {
			return false, nil
		}
	}
children:
	for c := range x.Children() {
		if int(c.Byte) < from {
			continue
		}
		// Only the child on after's own path needs the bound.
		bounded := hasAfter && int(c.Byte) == from
		ok, err := iterate(ctx, st, c.Hash, after, bounded, fn)
		if err != nil || !ok {
			return ok, err
		}
	}
	return true, nil
}

// allEntries returns every entry of directory h, in name order.
func allEntries(ctx context.Context, st dirLoader, h backend.Hash) ([]node.Entry, error) {
	var out []node.Entry
	_, err := iterate(ctx, st, h, "", false, func(e node.Entry) bool {
		out = append(out, e)
		return true
	})
	return out, err
}

// edit is one change to a directory: the entry to store under Name, or a
// deletion.
type edit = node.Edit

// ref is a written (or pending) directory object and its entry count; the
// empty directory is the zero ref.
type ref struct {
	hash  backend.Hash
	count int
}

// writer builds new directory objects, keeping them (decoded) until the
// whole change is done, then hands over only those reachable from the new
// root: objects made and then superseded within one change are never
// stored.
type writer struct {
	st      *node.Store
	recent  *recent                // the Builder's, if any: where Load looks before st
	pending []pendingObj           // in the order they were made
	byHash  map[uint64]int32       // index in pending by the hash's first 8 bytes; made once it is long (see get)
	clashes map[backend.Hash]int32 // index in pending of a hash whose first 8 bytes are another's in byHash
	pool    *pool                  // made by the first parallel step (see each)
	// kids is a stack of index children under construction: apply
	// pushes a level's new children above those of its callers' levels
	// and pops them once the level's index is made, so a small write
	// reuses one buffer for every level. edits is the same for the
	// edits Builder.flush gives apply, one directory level at a time.
	kids  []node.Child
	edits []edit
	// replaced holds the directories a small write rewrote in place (a
	// leaf edited, an index with one child replaced); finish keeps the
	// stored ones, which its new objects supersede (see Builder.Replaced).
	replaced []backend.Hash
}

type pendingObj struct {
	obj   backend.Object
	dir   node.Dir // zero for contents
	reach bool     // reachable from the root (set by finish)
}

func newWriter(st *node.Store) *writer { return &writer{st: st, pending: make([]pendingObj, 0, 8)} }

// writers holds small writers for reuse: a single-key commit needs one
// each time, and its pending list is most of what the commit allocates
// beside the objects themselves.
var writers = sync.Pool{New: func() any { return newWriter(nil) }}

// maxPooled is the longest pending list (and edit stack; 4× for the
// children stack) a writer kept for reuse may have: a bulk write's writer
// is left to the garbage collector.
const maxPooled = 64

// getWriter returns an empty writer over st, new or reused.
func getWriter(st *node.Store) *writer {
	w := writers.Get().(*writer)
	w.st = st
	return w
}

// putWriter empties w and keeps it for reuse if it is small and never
// made a parallel step. Nothing may use w afterwards; what its pending
// objects referred to (the objects, the decoded directories) is not
// touched, only w's references to them are dropped.
func putWriter(w *writer) {
	if w.pool != nil || w.byHash != nil || cap(w.pending) > maxPooled || cap(w.edits) > maxPooled || cap(w.kids) > 4*maxPooled || cap(w.replaced) > maxPooled {
		return
	}
	clear(w.pending)
	*w = writer{pending: w.pending[:0], kids: w.kids[:0], edits: w.edits[:0], replaced: w.replaced[:0]}
	writers.Put(w)
}

// smallWriter is how many pending objects get looks up by scanning: a
// single-key commit makes a handful, for which a map costs more than it
// saves.
const smallWriter = 16

// get returns the pending object h, or nil.
func (w *writer) get(h backend.Hash) *pendingObj {
	if w.byHash == nil {
		for i := range w.pending {
			if w.pending[i].obj.Hash == h {
				return &w.pending[i]
			}
		}
		return nil
	}
	if i, ok := w.byHash[hashKey(h)]; ok && w.pending[i].obj.Hash == h {
		return &w.pending[i]
	}
	if i, ok := w.clashes[h]; ok {
		return &w.pending[i]
	}
	return nil
}

// hashKey is the key of h in byHash.
func hashKey(h backend.Hash) uint64 { return binary.LittleEndian.Uint64(h[:8]) }

// indexHash records that pending[i] is the object h, which is not pending yet.
func (w *writer) indexHash(h backend.Hash, i int) {
	k := hashKey(h)
	if _, ok := w.byHash[k]; !ok {
		w.byHash[k] = int32(i)
		return
	}
	if w.clashes == nil {
		w.clashes = make(map[backend.Hash]int32)
	}
	w.clashes[h] = int32(i)
}

// push appends p, which is not pending yet.
func (w *writer) push(p pendingObj) {
	w.pending = append(w.pending, p)
	switch n := len(w.pending); {
	case w.byHash != nil:
		w.indexHash(p.obj.Hash, n-1)
	case n > smallWriter:
		w.byHash = make(map[uint64]int32, 2*n)
		for i := range w.pending {
			w.indexHash(w.pending[i].obj.Hash, i)
		}
	}
}

// Load returns a pending directory object, or loads a stored one.
func (w *writer) Load(ctx context.Context, h backend.Hash) (node.Dir, error) {
	if p := w.get(h); p != nil && (p.dir.Leaf != nil || p.dir.Index != nil) {
		return p.dir, nil
	}
	if w.recent != nil {
		return w.recent.Load(ctx, h)
	}
	return w.st.Load(ctx, h)
}

func (w *writer) add(o backend.Object, d node.Dir) {
	if w.get(o.Hash) == nil {
		w.push(pendingObj{obj: o, dir: d})
	}
}

// contents returns the entry for a value: inline if it is raw and small
// enough (node.MaxInline), else a new contents object. A typed value is
// always a contents object, since its kind lives there.
func (w *writer) contents(name string, c contents.Contents) node.Entry {
	if c.Kind == contents.KindRaw && len(c.Data) <= node.MaxInline {
		return node.Entry{Name: name, Kind: node.KindInline, Inline: c.Data}
	}
	o := contents.Object(c)
	w.add(o, node.Dir{})
	return node.Entry{Name: name, Kind: node.KindContents, Hash: o.Hash}
}

// maxRemembered is the most new objects a write may make and still have
// all its leaves cached: a small write's leaves are what the next write
// on the branch is likely to read. A bulk write caches only its leaves of
// at least minBulkLeaf entries: a small leaf costs the cache about 200
// bytes beside its encoding (slot, map entry, Leaf), which for many small
// directories is more than their keys and values; it is read back, and
// cached, on first use.
const (
	maxRemembered = 256
	minBulkLeaf   = 32
)

// finish returns the pending objects reachable from root, children before
// parents, and puts the directories among them in the cache: all of them
// after a small write; after a bulk one, all but the small leaves (see
// maxRemembered).
func (w *writer) finish(root backend.Hash) []backend.Object {
	n := 0
	// A bit for each pending object's first hash byte (mod 64): most of
	// the children of an index a small write rewrites are not pending,
	// and the bit tells so without a search.
	filter := ^uint64(0)
	if w.byHash == nil {
		filter = 0
		for i := range w.pending {
			filter |= 1 << (w.pending[i].obj.Hash[0] & 63)
		}
	}
	var mark func(h backend.Hash)
	mark = func(h backend.Hash) {
		if filter&(1<<(h[0]&63)) == 0 {
			return
		}
		p := w.get(h)
		if p == nil || p.reach {
			return
		}
		p.reach = true
		n++
		// The objects a directory refers to, read from its decoded form.
		switch d := p.dir; {
		case d.Leaf != nil && d.Leaf.HasRefs():
			for i := range d.Leaf.Len() {
				if e := d.Leaf.Entry(i); e.Kind != node.KindInline {
					mark(e.Hash)
				}
			}
		case d.Index != nil:
			if s := d.Index.Self; s != nil && s.Kind != node.KindInline {
				mark(s.Hash)
			}
			for i := range d.Index.NumChildren() {
				mark(d.Index.Child(i).Hash)
			}
		}
	}
	mark(root)
	// One spare slot: the caller usually appends the commit object.
	objs := make([]backend.Object, 0, n+1)
	bulk := n > maxRemembered
	if !bulk {
		for i := range w.pending {
			if p := &w.pending[i]; p.reach && (p.dir.Index != nil || p.dir.Leaf != nil) {
				w.st.Prefetch(p.obj.Hash) // the directories remembered below
			}
		}
	}
	if bulk {
		w.replaced = w.replaced[:0]
	} else {
		// A directory the write made is not replaced: either it is
		// superseded within the write (never cached), or an edit that
		// changed nothing made the same object again.
		w.replaced = slices.DeleteFunc(w.replaced, func(h backend.Hash) bool { return w.get(h) != nil })
	}
	for i := range w.pending {
		if p := &w.pending[i]; p.reach {
			objs = append(objs, p.obj)
			if p.dir.Index != nil || p.dir.Leaf != nil && (!bulk || p.obj.Hash == root || p.dir.Leaf.Len() >= minBulkLeaf) {
				w.st.RememberDir(p.obj.Hash, p.dir, len(p.obj.Data))
			}
		}
	}
	return objs
}

func (w *writer) leaf(es []node.Entry) (ref, error) {
	if len(es) == 0 {
		return ref{}, nil
	}
	l, err := node.NewLeaf(es)
	if err != nil {
		return ref{}, err
	}
	return w.addLeaf(l), nil
}

// addLeaf adds the leaf l and returns its ref (the empty ref for no entries).
func (w *writer) addLeaf(l *node.Leaf) ref {
	if l.Len() == 0 {
		return ref{}
	}
	o := l.Object()
	w.add(o, node.Dir{Leaf: l})
	return ref{o.Hash, l.Len()}
}

// build stores the sorted, unique entries es as a directory in canonical
// form: one node if they fit, else an index trie. It does not keep es
// (what the entries' names and values refer to is kept).
func (w *writer) build(ctx context.Context, es []node.Entry) (ref, error) {
	if len(es) <= node.MaxEntries {
		return w.leaf(es)
	}
	p := lcp(es[0].Name, es[len(es)-1].Name)
	var self *node.Entry
	if es[0].Name == p {
		e := es[0] // the index keeps its self entry: a copy, since es is not kept
		self, es = &e, es[1:]
	}
	var children []node.Child
	if parallelism > 1 && len(es) >= parMinEntries {
		var err error
		if children, err = w.buildGroups(ctx, p, es); err != nil {
			return ref{}, err
		}
		es = nil
	}
	for len(es) > 0 {
		b := es[0].Name[len(p)]
		j := sort.Search(len(es), func(i int) bool { return es[i].Name[len(p)] > b })
		r, err := w.build(ctx, es[:j])
		if err != nil {
			return ref{}, err
		}
		children = append(children, node.Child{Byte: b, Count: uint64(r.count), Hash: r.hash})
		es = es[j:]
	}
	return w.index(ctx, p, self, children)
}

// index stores the directory made of self and children under prefix p in
// canonical form: a node if it has few enough entries, the only child if
// there is nothing else, otherwise an index. It takes children over: the
// caller must not use the slice again.
func (w *writer) index(ctx context.Context, p string, self *node.Entry, children []node.Child) (ref, error) {
	var count uint64
	if self != nil {
		count++
	}
	live := children[:0] // filtered in place: children is the caller's own
	for _, c := range children {
		if c.Count > 0 {
			live = append(live, c)
			count += c.Count
		}
	}
	switch {
	case count == 0:
		return ref{}, nil
	case count <= node.MaxEntries:
		var es []node.Entry
		if self != nil {
			es = append(es, *self)
		}
		for _, c := range live {
			all, err := allEntries(ctx, w, c.Hash)
			if err != nil {
				return ref{}, err
			}
			es = append(es, all...)
		}
		return w.leaf(es)
	case self == nil && len(live) == 1:
		return ref{live[0].Hash, int(count)}, nil
	}
	if self != nil && self.Kind == node.KindInline {
		// The Trie keeps self, and the cache keeps the Trie; an inline
		// value set by this write may be held by its Builder, which goes
		// back to a pool when the write is done (Builder.Release).
		e := *self
		e.Inline = bytes.Clone(e.Inline)
		self = &e
	}
	t, err := node.NewTrie(p, self, live)
	if err != nil {
		return ref{}, err
	}
	o := t.Object()
	w.add(o, node.Dir{Index: t})
	return ref{o.Hash, int(count)}, nil
}

// apply applies edits (sorted by name, unique) to directory h and returns
// the new directory. Only the objects on the paths to edited names are
// rewritten: O(edits × depth) objects.
func (w *writer) apply(ctx context.Context, h backend.Hash, edits []edit) (ref, error) {
	if isEmpty(h) {
		return w.build(ctx, merge(nil, edits))
	}
	d, err := w.Load(ctx, h)
	if err != nil {
		return ref{}, err
	}
	if len(edits) == 0 {
		return ref{h, d.Len()}, nil
	}
	if d.Leaf != nil {
		l, ok, err := d.Leaf.Edit(edits)
		switch {
		case err != nil:
			return ref{}, err
		case ok && l == d.Leaf: // the edits changed nothing
			return ref{h, l.Len()}, nil
		case ok:
			w.replaced = append(w.replaced, h)
			return w.addLeaf(l), nil
		}
		return w.build(ctx, merge(d.Leaf.Entries(), edits))
	}
	x := d.Index
	p := x.Prefix
	// New names outside the prefix shorten it: the old index becomes one
	// child of a new one. Deletions of names outside it delete nothing.
	newP, outside := p, false
	for _, e := range edits {
		if !strings.HasPrefix(e.Name, p) && !e.Del {
			newP, outside = lcp(newP, e.Name), true
		}
	}
	if outside {
		kept := edits[:0:0]
		for _, e := range edits {
			if strings.HasPrefix(e.Name, p) || !e.Del {
				kept = append(kept, e)
			}
		}
		return w.around(ctx, newP, h, p, kept)
	}
	self := x.Self
	i := 0
	for i < len(edits) && !strings.HasPrefix(edits[i].Name, p) {
		i++ // deletions of names outside the prefix
	}
	if i < len(edits) && edits[i].Name == p {
		if edits[i].Del {
			self = nil
		} else {
			e := edits[i].Entry
			self = &e
		}
		i++
	}
	rest := edits[i:]
	// The new children go on the writer's stack of children (see
	// writer.kids), above those of the levels being applied around this
	// one; the recursive calls below push and pop their own above them.
	base := len(w.kids)
	defer func() { w.kids = w.kids[:base] }()
	if b, ok := oneChild(p, rest); ok && self == x.Self {
		if old, ok := x.ChildFor(b); ok {
			// A small write's usual case: every edit is below one
			// child. The new index is the old one with that child
			// rewritten, unless it no longer makes an index.
			r, err := w.apply(ctx, old.Hash, rest)
			if err != nil {
				return ref{}, err
			}
			if r.hash == old.Hash { // the edits changed nothing
				return ref{h, int(x.Count)}, nil
			}
			c := node.Child{Byte: b, Count: uint64(r.count), Hash: r.hash}
			if t, ok := x.WithChild(c); ok {
				w.replaced = append(w.replaced, h)
				o := t.Object()
				w.add(o, node.Dir{Index: t})
				return ref{o.Hash, int(t.Count)}, nil
			}
			for k := range x.NumChildren() {
				if k := x.Child(k); k.Byte != b {
					w.kids = append(w.kids, k)
				} else {
					w.kids = append(w.kids, c)
				}
			}
			return w.index(ctx, p, self, w.kids[base:])
		}
	}
	// changed: whether the new index differs from the old one. Edits may
	// leave it as it was (a name set and deleted again in one write makes
	// a deletion of a name the index does not hold): then it is kept, not
	// encoded, hashed and written again.
	changed := !self.Equal(x.Self)
	ci, nc := 0, x.NumChildren()
	for len(rest) > 0 || ci < nc {
		if len(rest) > 0 && !strings.HasPrefix(rest[0].Name, p) {
			rest = rest[1:] // a deletion of a name outside the prefix
			continue
		}
		var old node.Child
		if ci < nc {
			old = x.Child(ci)
		}
		var b byte
		switch {
		case len(rest) == 0:
			b = old.Byte
		case ci == nc || rest[0].Name[len(p)] < old.Byte:
			b = rest[0].Name[len(p)]
		default:
			b = old.Byte
		}
		j := 0
		for j < len(rest) && strings.HasPrefix(rest[j].Name, p) && rest[j].Name[len(p)] == b {
			j++
		}
		var oldHash backend.Hash
		if ci < nc && old.Byte == b {
			if j == 0 { // untouched: keep it as it is, without loading it
				w.kids = append(w.kids, old)
				ci++
				continue
			}
			oldHash = old.Hash
			ci++
		}
		r, err := w.apply(ctx, oldHash, rest[:j])
		if err != nil {
			return ref{}, err
		}
		if r.hash != oldHash && (r.count > 0 || !isEmpty(oldHash)) {
			changed = true
		}
		w.kids = append(w.kids, node.Child{Byte: b, Count: uint64(r.count), Hash: r.hash})
		rest = rest[j:]
	}
	if !changed {
		return ref{h, int(x.Count)}, nil
	}
	return w.index(ctx, p, self, w.kids[base:])
}

// oneChild reports whether every edit is of a name that continues the
// prefix p with the same byte, and returns that byte.
func oneChild(p string, edits []edit) (byte, bool) {
	if len(edits) == 0 || len(edits[0].Name) <= len(p) {
		return 0, false
	}
	b := edits[0].Name[len(p)]
	for _, e := range edits {
		if len(e.Name) <= len(p) || e.Name[len(p)] != b || !strings.HasPrefix(e.Name, p) {
			return 0, false
		}
	}
	return b, true
}

// around builds the directory whose names share only the prefix newP: the
// old index h (prefix p, longer than newP) with its edits becomes the child
// for byte p[len(newP)], and new names elsewhere become new children.
func (w *writer) around(ctx context.Context, newP string, h backend.Hash, p string, edits []edit) (ref, error) {
	c := p[len(newP)]
	var self *node.Entry
	if len(edits) > 0 && edits[0].Name == newP {
		e := edits[0].Entry
		self, edits = &e, edits[1:]
	}
	var children []node.Child
	doneOld := false
	for len(edits) > 0 || !doneOld {
		var b byte
		if len(edits) == 0 || (!doneOld && c < edits[0].Name[len(newP)]) {
			b = c
		} else {
			b = edits[0].Name[len(newP)]
		}
		j := 0
		for j < len(edits) && edits[j].Name[len(newP)] == b {
			j++
		}
		var r ref
		var err error
		if b == c {
			r, err = w.apply(ctx, h, edits[:j])
			doneOld = true
		} else {
			r, err = w.build(ctx, merge(nil, edits[:j]))
		}
		if err != nil {
			return ref{}, err
		}
		children = append(children, node.Child{Byte: b, Count: uint64(r.count), Hash: r.hash})
		edits = edits[j:]
	}
	return w.index(ctx, newP, self, children)
}

// merge applies sorted edits to sorted entries.
func merge(es []node.Entry, edits []edit) []node.Entry {
	out := make([]node.Entry, 0, len(es)+len(edits))
	i := 0
	for _, e := range edits {
		for i < len(es) && es[i].Name < e.Name {
			out = append(out, es[i])
			i++
		}
		if i < len(es) && es[i].Name == e.Name {
			i++
		}
		if !e.Del {
			out = append(out, e.Entry)
		}
	}
	return append(out, es[i:]...)
}

// lcp returns the longest common prefix of a and b.
func lcp(a, b string) string {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return a[:i]
		}
	}
	return a[:n]
}
