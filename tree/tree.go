// Package tree is strata's directory tree over node and contents objects.
//
// A Tree is an immutable, stored tree named by the hash of its root
// directory; it loads directory objects lazily, as paths are read, through a
// node.Store and its cache. A Builder is a mutable overlay on a Tree that
// records sets and deletes in memory and writes back only the directory
// objects they changed, in one batched Put. Diff compares two stored trees
// and descends only where hashes differ, inside large directories too;
// Merge merges two trees three-way against a base the same way, merging
// values that both sides changed by their kind (contents.Merge).
//
// A directory with at most node.MaxEntries entries is one node; a larger
// one is a canonical trie of index objects over the bytes of the names, so
// that reading or changing one entry costs O(depth), listing a page costs
// O(depth + page), counting entries O(1), and equal contents always have
// equal hashes whatever the order of the edits that made them.
//
// Paths are slices of segments (see ParsePath). A directory exists only while
// it has entries: deleting the last entry of a directory removes it.
package tree

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/node"
)

// ErrNotDir is wrapped (together with ErrInvalidPath) by writes that
// would need a value to be a directory or a directory to be a value.
var ErrNotDir = errors.New("value and directory cannot replace each other")

// Tree is an immutable stored tree. It is safe for concurrent use.
type Tree struct {
	st   *node.Store
	root backend.Hash
}

// New returns the stored tree whose root directory is root. It does no I/O:
// a missing or corrupt root is reported by the first read.
func New(st *node.Store, root backend.Hash) *Tree {
	return &Tree{st: st, root: root}
}

// Empty returns the empty tree.
func Empty(st *node.Store) *Tree { return New(st, node.Empty) }

// Hash returns the hash of t's root directory.
func (t *Tree) Hash() backend.Hash { return t.root }

// Entry is one child of a directory, as returned by List.
type Entry struct {
	Name string
	Dir  bool // a subdirectory rather than a value
}

// Page selects part of a directory listing: the entries whose names come
// after After (in byte order; all if After is ""), at most Limit of them
// (all if Limit <= 0).
type Page struct {
	After string
	Limit int
}

// Get returns the value at path. It returns an error wrapping
// backend.ErrNotFound if there is no value there (nothing, or a directory).
// The caller owns the returned bytes.
func (t *Tree) Get(ctx context.Context, path []string) ([]byte, error) {
	c, err := t.GetContents(ctx, path)
	return c.Data, err
}

// GetContents returns the value at path with its kind, as Get does.
func (t *Tree) GetContents(ctx context.Context, path []string) (contents.Contents, error) {
	if len(path) == 0 {
		return contents.Contents{}, notFound(nil, "is a directory, not a value")
	}
	h := t.root
	for i, seg := range path {
		e, ok, err := find(ctx, t.st, h, seg)
		if err != nil {
			return contents.Contents{}, atDir(path[:i], err)
		}
		last := i == len(path)-1
		switch {
		case !ok:
			return contents.Contents{}, notFound(path[:i+1], "does not exist")
		case last && e.Kind == node.KindNode:
			return contents.Contents{}, notFound(path, "is a directory, not a value")
		case last && e.Kind == node.KindInline:
			return contents.Raw(append([]byte{}, e.Inline...)), nil
		case last:
			return Contents(ctx, t.st.Objects(), e, JoinPath(path))
		case e.Kind != node.KindNode:
			return contents.Contents{}, notFound(path[:i+1], "is a value, not a directory")
		}
		h = e.Hash
	}
	return contents.Contents{}, notFound(path, "does not exist") // not reached: the loop returns at the last segment
}

// GetPath returns the value at path, a path as CheckPath returns it
// (checked, without leading or trailing "/"), as Get does with its
// segments. When the value is in the tree and every directory on the way
// is cached, it allocates nothing but the returned bytes.
func (t *Tree) GetPath(ctx context.Context, path string) ([]byte, error) {
	h := t.root
	for rest := path; rest != ""; {
		seg, tail, more := strings.Cut(rest, "/")
		e, ok, err := find(ctx, t.st, h, seg)
		switch {
		case err != nil || !ok:
		case !more && e.Kind == node.KindInline:
			return append([]byte{}, e.Inline...), nil
		case !more && e.Kind != node.KindNode:
			c, err := Contents(ctx, t.st.Objects(), e, path)
			return c.Data, err
		case more && e.Kind == node.KindNode:
			h, rest = e.Hash, tail
			continue
		}
		break
	}
	// Not found, not a value, or damage: Get builds the error, naming the
	// path's segments.
	segs, err := ParsePath(path)
	if err != nil {
		return nil, err
	}
	return t.Get(ctx, segs)
}

// List returns the children of the directory at path (nil or empty: the
// root), sorted by name bytes, limited to page. It returns an error wrapping
// backend.ErrNotFound if there is no directory there.
func (t *Tree) List(ctx context.Context, path []string, page Page) ([]Entry, error) {
	return t.Builder().List(ctx, path, page)
}

// Len returns the number of entries of the directory at path, in O(depth).
func (t *Tree) Len(ctx context.Context, path []string) (int, error) {
	return t.Builder().Len(ctx, path)
}

// SubtreeHash returns the hash of the object at path (a directory's root
// object, or a value's contents object — for a value stored inline, the
// hash that object would have) and whether it is a directory. Equal hashes
// mean equal contents. It returns
// an error wrapping backend.ErrNotFound if the path is absent.
func (t *Tree) SubtreeHash(ctx context.Context, path []string) (backend.Hash, bool, error) {
	h, isDir := t.root, true
	for i, seg := range path {
		if !isDir {
			return backend.Hash{}, false, notFound(path[:i], "is a value")
		}
		e, ok, err := find(ctx, t.st, h, seg)
		if err != nil {
			return backend.Hash{}, false, atDir(path[:i], err)
		}
		if !ok {
			return backend.Hash{}, false, notFound(path[:i+1], "does not exist")
		}
		h, isDir = entryHash(e), e.Kind == node.KindNode
	}
	return h, isDir, nil
}

// Builder returns a new mutable overlay on t.
func (t *Tree) Builder() *Builder {
	b := &Builder{st: t.st, first: mdir{base: t.root}}
	b.root = &b.first
	return b
}

// PooledBuilder is Builder, taken from a pool of Builders that Release
// gave back. A writer that makes a Builder per small write and can say
// when it is done with it saves allocating one (and touching memory not
// in the processor's caches) each time.
func (t *Tree) PooledBuilder() *Builder {
	b := builders.Get().(*Builder)
	b.st, b.first.base = t.st, t.root
	b.root = &b.first
	return b
}

// builders holds Builders for PooledBuilder, reset by Release.
var builders = sync.Pool{New: func() any { return new(Builder) }}

// Release gives b back to PooledBuilder's pool. Neither b nor what it
// returned that aliases it (the slice Replaced returns) may be used
// afterwards; the objects and hashes Objects returned are not b's and
// stay valid, and so do the decoded directories it put in the node
// cache (nothing of them refers to b: see writer.index). A Builder that
// made a bulk write's blocks is left to the garbage collector instead, so
// the pool holds only small ones. Release of nil does nothing.
func (b *Builder) Release() {
	if b == nil || b.bulk != nil {
		return
	}
	if b.recent != nil { // a change that failed before Objects
		putRecent(b.recent)
	}
	*b = Builder{}
	builders.Put(b)
}

func notFound(path []string, why string) error {
	if len(path) == 0 {
		return fmt.Errorf("the root %s: %w", why, backend.ErrNotFound)
	}
	return fmt.Errorf("%q %s: %w", JoinPath(path), why, backend.ErrNotFound)
}

func notDir(path []string, why string) error { return notDirName(JoinPath(path), why) }

// notDirName is notDir for a path given joined.
func notDirName(path, why string) error {
	return fmt.Errorf("%w: %q %s (%w)", ErrInvalidPath, path, why, ErrNotDir)
}

// Builder records changes to a tree in memory. It is not safe for
// concurrent use. Reads through a Builder see its own changes.
type Builder struct {
	st    *node.Store
	root  *mdir
	first mdir // the root's first state, allocated with the Builder; first.base is the tree b started from

	made   int     // change records made
	bulk   *bulk   // once made passes slabAfter
	recent *recent // the directories find loaded last, for flush to reuse (see loader)

	// A small write's first records, allocated with the Builder: a
	// single-key write makes one directory record and a change record
	// per level for a key a few levels down, and copies one small value
	// (see newChange, newDir, copyValue).
	own     [ownChanges]change
	ownDir  mdir
	ownVal  [ownValue]byte
	vals    uint8 // bytes of ownVal used
	dirUsed bool  // ownDir is taken

	// The directories the last Objects replaced (see Replaced), in
	// ownReplaced for a small write.
	replaced    []backend.Hash
	ownReplaced [ownReplaced]backend.Hash
}

// ownChanges is how many change records a Builder holds itself, and
// ownValue how many value bytes.
const (
	ownChanges  = 4
	ownValue    = node.MaxInline // a value that a leaf holds inline
	ownReplaced = 6              // a leaf and the five levels above it
)

// (A Builder takes 744 bytes. The writes that make one per commit take
// it from a pool: see PooledBuilder.)

// loader returns b's recent directories, taking a pooled recent if b has
// none: Objects gives it back, so a Builder per small write costs none.
func (b *Builder) loader() *recent {
	if b.recent == nil {
		b.recent = recents.Get().(*recent)
		b.recent.st = b.st
	}
	return b.recent
}

// bulk is what a Builder keeps for a bulk load, once it has made
// slabAfter changes (a small write allocates its records one by one and
// walks every path): change records, new directories and copied values
// are carved out of shared blocks, and SetPath remembers the last
// directory it walked to (lastDir, lastPath), since sorted keys come
// directory by directory. lastDir is dropped by every change that could
// replace a directory's record (see forget).
type bulk struct {
	slab     []change // the current block of change records
	dirSlab  []mdir   // the current block of new directories
	arena    []byte   // the current block of value bytes
	lastDir  *mdir
	lastPath string
}

// slabAfter is how many change records a Builder allocates one by one
// before it allocates them in blocks (of up to maxSlab); maxArena is the
// largest block of value bytes, and values longer than maxArenaValue
// are always copied on their own.
const (
	slabAfter     = 8
	maxSlab       = 1024
	maxArena      = 32 << 10
	maxArenaValue = 1 << 10
)

// newChange returns a new, zero change record.
func (b *Builder) newChange() *change {
	b.made++
	if b.made <= ownChanges {
		return &b.own[b.made-1]
	}
	if b.made <= slabAfter {
		return &change{}
	}
	if b.bulk == nil {
		b.bulk = &bulk{}
	}
	k := b.bulk
	if len(k.slab) == cap(k.slab) {
		k.slab = make([]change, 0, min(b.made, maxSlab))
	}
	k.slab = k.slab[:len(k.slab)+1]
	return &k.slab[len(k.slab)-1]
}

// newDir returns a new directory for name in d (counted and empty), its
// first change recorded in the directory itself.
func (b *Builder) newDir(d *mdir) *mdir {
	var nd *mdir
	if k := b.bulk; k == nil && !b.dirUsed {
		nd, b.dirUsed = &b.ownDir, true
	} else if k == nil {
		nd = &mdir{}
	} else {
		if len(k.dirSlab) == cap(k.dirSlab) {
			k.dirSlab = make([]mdir, 0, min(b.made/8+1, maxSlab/8))
		}
		k.dirSlab = k.dirSlab[:len(k.dirSlab)+1]
		nd = &k.dirSlab[len(k.dirSlab)-1]
	}
	nd.parent, nd.counted = d, true
	nd.order = nd.first[:0]
	return nd
}

// copyValue returns a copy of v that nothing else refers to (a value is
// never modified once recorded, so copies may share a block).
func (b *Builder) copyValue(v []byte) []byte {
	k := b.bulk
	if n := int(b.vals); k == nil && len(v) <= len(b.ownVal)-n {
		b.vals += uint8(len(v))
		return append(b.ownVal[n:n:b.vals], v...)
	}
	if k == nil || len(v) > maxArenaValue {
		return append([]byte{}, v...)
	}
	if len(v) > cap(k.arena)-len(k.arena) {
		// Blocks grow with the changes made, as the change records'
		// do, so that a write of a few more than slabAfter changes
		// (a group commit) does not allocate a whole maxArena.
		k.arena = make([]byte, 0, min(max(b.made*len(v), maxArenaValue), maxArena))
	}
	n := len(k.arena)
	k.arena = append(k.arena, v...)
	return k.arena[n:len(k.arena):len(k.arena)]
}

// forget drops the directory SetPath remembers: called by every change
// that may replace a directory's change record or the root.
func (b *Builder) forget() {
	if b.bulk != nil {
		b.bulk.lastDir, b.bulk.lastPath = nil, ""
	}
}

// mdir is a directory in a Builder's overlay: a stored base directory (the
// zero hash for a new one) plus the children changed since.
type mdir struct {
	base     backend.Hash
	order    []*change          // every change, in the order first made
	kids     map[string]*change // order[:mapped] by name, built lazily
	mapped   int
	shuffled bool // some change was made for a name before an earlier one
	parent   *mdir
	count    int // live entries, valid if counted
	counted  bool
	first    [1]*change // order's first array (see kid and newDir)
}

// change is the new state of one child: deleted, a new value (of a
// kind), or a directory with changes of its own.
type change struct {
	name    string
	value   []byte // the value's bytes; if stored, the hash of its contents object (see SetStored)
	dir     *mdir
	kind    contents.Kind
	deleted bool
	stored  bool
}

// storedHash returns the hash of the contents object of a stored value.
func (c *change) storedHash() (h backend.Hash) {
	copy(h[:], c.value)
	return h
}

func (c *change) live() bool { return !c.deleted && (c.dir == nil || c.dir.count > 0) }

// subdir reports whether c is a change to a subdirectory (not deleted).
func (c *change) subdir() bool { return c.dir != nil && !c.deleted }

// ensureCount computes d's live entry count from its base (O(1)).
func (b *Builder) ensureCount(ctx context.Context, d *mdir) error {
	if d.counted {
		return nil
	}
	n, err := dirLen(ctx, b.loader(), d.base)
	if err != nil {
		return err
	}
	d.count, d.counted = n, true
	return nil
}

// addCount changes d's count by delta and propagates a change between empty
// and non-empty to its parents, in which d is one entry.
func (d *mdir) addCount(delta int) {
	for ; d != nil && delta != 0; d = d.parent {
		was := d.count > 0
		d.count += delta
		now := d.count > 0
		switch {
		case was == now:
			return
		case now:
			delta = 1
		default:
			delta = -1
		}
	}
}

// lookup is what a name in a directory currently is.
type lookup struct {
	exists bool
	isDir  bool
	ch     *change    // the change recorded for the name, if any
	entry  node.Entry // the stored entry, if no change
}

func (b *Builder) find(ctx context.Context, d *mdir, name string) (lookup, error) {
	if c, ok := d.lookupKid(name); ok {
		if !c.live() {
			return lookup{ch: c}, nil
		}
		return lookup{exists: true, isDir: c.dir != nil, ch: c}, nil
	}
	if isEmpty(d.base) { // a new directory (a bulk load's): nothing stored to read
		return lookup{}, nil
	}
	e, ok, err := find(ctx, b.loader(), d.base, name)
	if err != nil || !ok {
		return lookup{}, err
	}
	return lookup{exists: true, isDir: e.Kind == node.KindNode, entry: e}, nil
}

// walk descends to the directory at path without changing anything.
func (b *Builder) walk(ctx context.Context, path []string) (*mdir, error) {
	d := b.root
	for i, seg := range path {
		l, err := b.find(ctx, d, seg)
		if err != nil {
			return nil, atDir(path[:i], err)
		}
		switch {
		case !l.exists:
			return nil, notFound(path[:i+1], "does not exist")
		case !l.isDir:
			return nil, notFound(path[:i+1], "is a value, not a directory")
		case l.ch != nil:
			d = l.ch.dir
		default:
			d = &mdir{base: l.entry.Hash}
		}
	}
	return d, nil
}

// Get returns the value at path, as Tree.Get does, seeing b's changes.
func (b *Builder) Get(ctx context.Context, path []string) ([]byte, error) {
	c, err := b.GetContents(ctx, path)
	return c.Data, err
}

// GetContents returns the value at path and its kind, as
// Tree.GetContents does, seeing b's changes.
func (b *Builder) GetContents(ctx context.Context, path []string) (contents.Contents, error) {
	if len(path) == 0 {
		return contents.Contents{}, notFound(nil, "is a directory, not a value")
	}
	d, err := b.walk(ctx, path[:len(path)-1])
	if err != nil {
		return contents.Contents{}, err
	}
	l, err := b.find(ctx, d, path[len(path)-1])
	if err != nil {
		return contents.Contents{}, atDir(path[:len(path)-1], err)
	}
	switch {
	case !l.exists:
		return contents.Contents{}, notFound(path, "does not exist")
	case l.isDir:
		return contents.Contents{}, notFound(path, "is a directory, not a value")
	case l.ch != nil && l.ch.stored:
		return Contents(ctx, b.st.Objects(), node.Entry{Name: l.ch.name, Kind: node.KindContents, Hash: l.ch.storedHash()}, JoinPath(path))
	case l.ch != nil:
		return contents.Contents{Kind: l.ch.kind, Data: append([]byte{}, l.ch.value...)}, nil
	}
	return Contents(ctx, b.st.Objects(), l.entry, JoinPath(path))
}

// Bytes returns the bytes of a value entry: its inline bytes, or the data
// of the contents object it names (verified), without the kind (see
// Contents). path is for error messages. The caller owns the returned
// bytes.
func Bytes(ctx context.Context, objs backend.ObjectStore, e node.Entry, path string) ([]byte, error) {
	c, err := Contents(ctx, objs, e, path)
	return c.Data, err
}

// Contents returns the value of a value entry with its kind (an inline
// value is raw). path is for error messages. The caller owns the returned
// bytes.
func Contents(ctx context.Context, objs backend.ObjectStore, e node.Entry, path string) (contents.Contents, error) {
	if e.Kind == node.KindInline {
		return contents.Raw(append([]byte{}, e.Inline...)), nil
	}
	c, err := contents.Get(ctx, objs, e.Hash)
	if err != nil {
		return contents.Contents{}, fmt.Errorf("%q: %w", path, err)
	}
	return c, nil
}

// entryHash is the identity of an entry's target: its hash, or for an
// inline value the hash its contents object would have.
func entryHash(e node.Entry) backend.Hash {
	if e.Kind == node.KindInline {
		return contents.Hash(contents.Raw(e.Inline))
	}
	return e.Hash
}

// List returns the children of the directory at path, as Tree.List does,
// seeing b's changes.
func (b *Builder) List(ctx context.Context, path []string, page Page) ([]Entry, error) {
	d, err := b.walk(ctx, path)
	if err != nil {
		return nil, err
	}
	if len(path) > 0 {
		if err := b.ensureCount(ctx, d); err != nil {
			return nil, atDir(path, err)
		}
		if d.count == 0 {
			return nil, notFound(path, "does not exist")
		}
	}
	// The changed names after page.After, in order, merged with the stored
	// entries.
	var names []*change
	for _, c := range d.sortedKids() {
		if page.After == "" || c.name > page.After {
			names = append(names, c)
		}
	}
	out := []Entry{}
	full := func() bool { return page.Limit > 0 && len(out) >= page.Limit }
	emitKid := func(c *change) {
		if c.live() {
			out = append(out, Entry{Name: c.name, Dir: c.dir != nil})
		}
	}
	_, err = iterate(ctx, b.st, d.base, page.After, page.After != "", func(e node.Entry) bool {
		for len(names) > 0 && names[0].name < e.Name && !full() {
			emitKid(names[0])
			names = names[1:]
		}
		if full() {
			return false
		}
		if len(names) > 0 && names[0].name == e.Name {
			emitKid(names[0])
			names = names[1:]
		} else {
			out = append(out, Entry{Name: e.Name, Dir: e.Kind == node.KindNode})
		}
		return !full()
	})
	if err != nil {
		return nil, atDir(path, err)
	}
	for len(names) > 0 && !full() {
		emitKid(names[0])
		names = names[1:]
	}
	return out, nil
}

// Len returns the number of entries of the directory at path.
func (b *Builder) Len(ctx context.Context, path []string) (int, error) {
	d, err := b.walk(ctx, path)
	if err != nil {
		return 0, err
	}
	if err := b.ensureCount(ctx, d); err != nil {
		return 0, atDir(path, err)
	}
	return d.count, nil
}

// Set records the bytes data as a raw value at path, creating directories
// on the way. It copies data. It returns an error wrapping ErrInvalidPath
// (and ErrNotDir) if path is the root, a directory, or below a value.
func (b *Builder) Set(ctx context.Context, path []string, data []byte) error {
	return b.SetContents(ctx, path, contents.Raw(data))
}

// SetContents records a value of any kind at path, as Set does. The value
// must be canonical (see contents.New); its bytes are copied. A typed
// value is always stored as a contents object, never inline.
func (b *Builder) SetContents(ctx context.Context, path []string, c contents.Contents) error {
	if len(path) == 0 {
		return notDir(nil, "is the root directory")
	}
	d := b.root
	if err := b.ensureCount(ctx, d); err != nil {
		return err
	}
	for i, seg := range path[:len(path)-1] {
		next, err := b.descend(ctx, d, seg)
		if err == errIsValue {
			err = notDir(path[:i+1], whyIsValue)
		}
		if err != nil {
			return err
		}
		d = next
	}
	err := b.setIn(ctx, d, path[len(path)-1], c)
	if err == errIsDir {
		err = notDir(path, whyIsDir)
	}
	return err
}

// SetPath records the bytes data as a raw value at path, as Set does with
// path's segments; path is a path as CheckPath returns it (checked,
// without leading or trailing "/"). It allocates no segments, and while
// keys come directory by directory (a sorted bulk load) it walks to each
// directory once.
func (b *Builder) SetPath(ctx context.Context, path string, data []byte) error {
	if path == "" {
		return notDir(nil, "is the root directory")
	}
	dir, name := "", path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		dir, name = path[:i], path[i+1:]
	}
	d, end := b.root, 0 // the walk starts in d, at dir[end:]
	if k := b.bulk; k != nil && k.lastDir != nil {
		if d, end = k.climb(dir); d == nil {
			d, end = b.root, 0
		}
	}
	if d == b.root {
		if err := b.ensureCount(ctx, d); err != nil {
			return err
		}
	}
	if end < len(dir) {
		for end < len(dir) {
			seg, _, _ := strings.Cut(dir[end:], "/")
			end += len(seg)
			next, err := b.descend(ctx, d, seg)
			if err == errIsValue {
				err = notDirName(dir[:end], whyIsValue)
			}
			if err != nil {
				return err
			}
			d, end = next, end+1
		}
		if k := b.bulk; k != nil {
			k.lastDir, k.lastPath = d, dir
		}
	}
	err := b.setIn(ctx, d, name, contents.Raw(data))
	if err == errIsDir {
		err = notDirName(path, whyIsDir)
	}
	return err
}

// climb returns the deepest directory on the way to dir that SetPath
// walked through to lastDir (lastDir itself if dir is lastPath), found by
// climbing from lastDir, and where the rest of dir starts (len(dir) if
// nothing is left to walk). The directories above lastDir are still those
// of their paths: every change that could replace one drops lastDir.
func (k *bulk) climb(dir string) (*mdir, int) {
	last := k.lastPath
	if dir == last {
		return k.lastDir, len(dir)
	}
	// i: the end of the segments dir and last share.
	i := 0
	for j := 0; ; j++ {
		endDir, endLast := j == len(dir) || dir[j] == '/', j == len(last) || last[j] == '/'
		if endDir && endLast {
			i = j
		}
		if j == len(dir) || j == len(last) || dir[j] != last[j] {
			break
		}
	}
	d := k.lastDir
	up := strings.Count(last[i:], "/") // one per segment below the shared ones
	if i == 0 && last != "" {
		up++
	}
	for ; up > 0 && d != nil; up-- {
		d = d.parent
	}
	if d == nil { // not expected: walk from the root
		return nil, 0
	}
	if i > 0 && i < len(dir) {
		i++ // the "/" before the rest
	}
	return d, i
}

// errIsDir is returned by setIn for a name that is a directory; the
// caller, which knows the path, reports notDir with whyIsDir.
var errIsDir = errors.New("is a directory")

const whyIsDir = "is a directory; delete it first to store a value there"

// setIn records c as the value called name in d, copying its bytes. It
// returns errIsDir if name is a directory.
func (b *Builder) setIn(ctx context.Context, d *mdir, name string, c contents.Contents) error {
	if d.appends(name) {
		r := b.appendKid(d, name) // a zero record but for its name
		r.value, r.kind = b.copyValue(c.Data), c.Kind
		d.addCount(1)
		return nil
	}
	l, err := b.find(ctx, d, name)
	if err != nil {
		return err
	}
	if l.exists && l.isDir {
		return errIsDir
	}
	if l.ch != nil && l.ch.dir != nil {
		b.forget() // an emptied directory becomes a value
	}
	*b.record(d, l, name) = change{name: name, value: b.copyValue(c.Data), kind: c.Kind}
	if !l.exists {
		d.addCount(1)
	}
	return nil
}

// SetStored records at path the value whose contents object is h, as
// SetContents would record that value, without its bytes: for a bulk
// writer (Git import) that encodes each value once and stores the objects
// in its own batches. The caller must store h before the tree is
// committed (Objects does not return it), and h must be an object
// SetContents would make: a typed value, or a raw one of more than
// node.MaxInline bytes (a smaller raw value is held inline; give it to
// SetContents), or the tree would not be canonical. Reading the value back
// through b reads h from the store. Errors are those of SetContents.
func (b *Builder) SetStored(ctx context.Context, path []string, h backend.Hash) error {
	if err := b.SetContents(ctx, path, contents.Contents{}); err != nil {
		return err
	}
	d, err := b.walk(ctx, path[:len(path)-1])
	if err != nil {
		return err
	}
	c := b.kid(d, path[len(path)-1])
	c.value, c.stored = b.copyValue(h[:]), true
	return nil
}

// SetTree records the stored directory whose root object is dir (a node
// or an index; node.Empty or the zero hash for an empty one) at path,
// creating directories on the way and replacing what was there, a value or
// a directory; at the root (an empty path) it replaces the whole tree. It
// reads only dir's root object (for its entry count), never the values
// below it, and writes nothing for it: dir must already be stored. Setting
// an empty directory deletes what was at path, since a directory exists
// only while it has entries. It returns an error wrapping ErrInvalidPath
// (and ErrNotDir) if path is below a value.
func (b *Builder) SetTree(ctx context.Context, path []string, dir backend.Hash) error {
	if dir.IsZero() {
		dir = node.Empty
	}
	b.forget()
	if len(path) == 0 {
		nd := &mdir{base: dir}
		if err := b.ensureCount(ctx, nd); err != nil {
			return err
		}
		b.root = nd
		return nil
	}
	d := b.root
	if err := b.ensureCount(ctx, d); err != nil {
		return err
	}
	for i, seg := range path[:len(path)-1] {
		next, err := b.descend(ctx, d, seg)
		if err == errIsValue {
			err = notDir(path[:i+1], whyIsValue)
		}
		if err != nil {
			return err
		}
		d = next
	}
	nd := &mdir{base: dir, parent: d}
	if err := b.ensureCount(ctx, nd); err != nil {
		return err
	}
	name := path[len(path)-1]
	l, err := b.find(ctx, d, name)
	if err != nil {
		return err
	}
	*b.record(d, l, name) = change{name: name, dir: nd}
	switch {
	case !l.exists && nd.count > 0:
		d.addCount(1)
	case l.exists && nd.count == 0:
		d.addCount(-1)
	}
	return nil
}

// errIsValue is returned by descend for a name that is a value; the
// caller, which knows the path, reports notDir with whyIsValue.
var errIsValue = errors.New("is a value")

const whyIsValue = "is a value; delete it first to make it a directory"

// descend returns the changed directory for name in d, creating it (and
// recording the change) as needed. d's count must be known. It returns
// errIsValue if name is a value.
func (b *Builder) descend(ctx context.Context, d *mdir, name string) (*mdir, error) {
	if d.appends(name) {
		nd := b.newDir(d)
		b.appendKid(d, name).dir = nd
		return nd, nil
	}
	l, err := b.find(ctx, d, name)
	if err != nil {
		return nil, err
	}
	switch {
	case l.exists && !l.isDir:
		return nil, errIsValue
	case l.ch != nil && l.ch.dir != nil:
		return l.ch.dir, nil // changed before (possibly emptied)
	}
	nd := b.newDir(d)
	if l.exists {
		nd.base = l.entry.Hash
		nd.counted = false
		if err := b.ensureCount(ctx, nd); err != nil {
			return nil, err
		}
	}
	*b.record(d, l, name) = change{name: name, dir: nd}
	return nd, nil
}

// Delete removes the value or whole directory at path. It reports whether
// anything was there. Deleting the root removes everything.
func (b *Builder) Delete(ctx context.Context, path []string) (bool, error) {
	b.forget()
	if len(path) == 0 {
		if err := b.ensureCount(ctx, b.root); err != nil {
			return false, err
		}
		existed := b.root.count > 0
		b.root = &mdir{counted: true}
		return existed, nil
	}
	d := b.root
	if err := b.ensureCount(ctx, d); err != nil {
		return false, err
	}
	for _, seg := range path[:len(path)-1] {
		l, err := b.find(ctx, d, seg)
		if err != nil {
			return false, err
		}
		if !l.exists || !l.isDir {
			return false, nil
		}
		if d, err = b.descend(ctx, d, seg); err != nil {
			return false, err
		}
	}
	name := path[len(path)-1]
	l, err := b.find(ctx, d, name)
	if err != nil || !l.exists {
		return false, err
	}
	*b.record(d, l, name) = change{name: name, deleted: true}
	d.addCount(-1)
	return true, nil
}

// lookupKid returns the change recorded for name, if any. While changes
// arrive in increasing name order (a sorted bulk load), a name after the
// last one cannot have a change, and no map is needed at all.
func (d *mdir) lookupKid(name string) (*change, bool) {
	if d.after(name) {
		return nil, false
	}
	n := len(d.order)
	if d.kids == nil {
		d.kids = make(map[string]*change, n)
	}
	for ; d.mapped < n; d.mapped++ {
		c := d.order[d.mapped]
		d.kids[c.name] = c
	}
	c, ok := d.kids[name]
	return c, ok
}

// after reports whether name comes after every name d has a change for,
// while changes came in name order: then it has none.
func (d *mdir) after(name string) bool {
	n := len(d.order)
	return n == 0 || !d.shuffled && name > d.order[n-1].name
}

// appends reports whether name is new in d, a new directory, and comes
// after every name d has a change for (a sorted bulk load's case): its
// record can be appended without a lookup.
func (d *mdir) appends(name string) bool { return isEmpty(d.base) && d.after(name) }

// kid returns d's change record for name, creating an empty one. Callers
// overwrite it whole; records are never replaced, so order stays valid.
func (b *Builder) kid(d *mdir, name string) *change {
	if c, ok := d.lookupKid(name); ok {
		return c
	}
	return b.addKid(d, name)
}

// record is kid for a name just looked up (l, from find, with nothing
// changed in d since): it does not search d's changes again.
func (b *Builder) record(d *mdir, l lookup, name string) *change {
	if l.ch != nil {
		return l.ch
	}
	return b.addKid(d, name)
}

// addKid appends a new change record for name, which has none in d.
func (b *Builder) addKid(d *mdir, name string) *change {
	if n := len(d.order); n > 0 && name < d.order[n-1].name {
		d.shuffled = true
	}
	return b.appendKid(d, name)
}

// appendKid is addKid for a name known to come after d's others (or
// with d.shuffled already set).
func (b *Builder) appendKid(d *mdir, name string) *change {
	n := len(d.order)
	if n == 0 {
		d.order = d.first[:0] // the list's first array is the directory's own
	}
	if n == cap(d.order) && n >= len(d.first) {
		// Double, where append would grow a long list by a quarter at a
		// time: a bulk load's directory of a million names copies its
		// list about twice rather than five times.
		d.order = append(make([]*change, 0, 2*n), d.order...)
	}
	c := b.newChange()
	c.name = name
	d.order = append(d.order, c)
	return c
}

// sortedKids returns d's changes in name order.
func (d *mdir) sortedKids() []*change {
	if !d.shuffled {
		return d.order
	}
	kids := slices.Clone(d.order)
	slices.SortFunc(kids, byName)
	return kids
}

// Write stores every object b's changes need in one batched Put and returns
// the new root hash. The root hash equals the base tree's hash when the
// changes leave the tree as it was. b may be used again afterwards.
func (b *Builder) Write(ctx context.Context) (backend.Hash, error) {
	objs, h, err := b.Objects(ctx)
	if err != nil {
		return backend.Hash{}, err
	}
	if len(objs) > 0 {
		if err := b.st.Objects().Put(ctx, objs); err != nil {
			return backend.Hash{}, fmt.Errorf("write tree: %w", err)
		}
	}
	return h, nil
}

// Objects encodes b's changed directories and values without storing them.
// It returns the new objects (children before parents) and the new root
// hash; no objects when nothing changed.
func (b *Builder) Objects(ctx context.Context) ([]backend.Object, backend.Hash, error) {
	b.replaced = nil
	if base := b.first.base; len(b.root.order) == 0 && b.root.base == base {
		return nil, base, nil
	}
	w := getWriter(b.st)
	w.recent = b.loader()
	defer func() {
		putWriter(w)
		putRecent(b.recent)
		b.recent = nil
	}()
	r, err := b.flush(ctx, w, b.root)
	if err != nil {
		return nil, backend.Hash{}, err
	}
	if r.count == 0 {
		o, err := node.Object(&node.Node{})
		if err != nil {
			return nil, backend.Hash{}, err
		}
		w.add(o, node.EmptyDir)
		r.hash = o.Hash
	}
	objs := w.finish(r.hash)
	b.replaced = append(b.ownReplaced[:0], w.replaced...)
	return objs, r.hash, nil
}

// Replaced returns the stored directories that the last Objects rewrote
// in place and that its new objects supersede: the leaf a small write
// edited, and each index on its path with one child replaced. It names
// none after a bulk write, and never one of the new objects. (Write
// forgets nothing.) A caller that has stored the objects and made them
// the branch's (its commit landed) drops these from the node cache with
// node.Store.Forget: they are likely never read again, and a long run of
// writes then keeps one version of each hot directory cached instead of
// filling the cache with old ones. Forgetting them earlier would drop the
// head's directories while readers still use them, and for nothing if
// the commit does not land. The slice is b's, valid until b is used
// again.
func (b *Builder) Replaced() []backend.Hash { return b.replaced }

func byName(a, b *change) int { return strings.Compare(a.name, b.name) }

// valueEntry returns the entry of c, a value.
func (w *writer) valueEntry(c *change) node.Entry {
	if c.stored {
		return node.Entry{Name: c.name, Kind: node.KindContents, Hash: c.storedHash()}
	}
	return w.contents(c.name, contents.Contents{Kind: c.kind, Data: c.value})
}

// values reports whether every change in kids is a value.
func values(kids []*change) bool {
	for _, c := range kids {
		if c.deleted || c.dir != nil {
			return false
		}
	}
	return true
}

// flush writes d's changed descendants and then d.
func (b *Builder) flush(ctx context.Context, w *writer, d *mdir) (ref, error) {
	if len(d.order) == 0 {
		n, err := dirLen(ctx, b.st, d.base)
		return ref{d.base, n}, err
	}
	kids := d.sortedKids()
	if isEmpty(d.base) && values(kids) {
		return b.buildValues(ctx, w, kids)
	}
	// Subdirectories with changes of their own are flushed first, in
	// parallel for a bulk write.
	var refs []ref
	if parallelism > 1 && len(kids) >= parMinKids {
		var err error
		if refs, err = b.flushKids(ctx, w, kids); err != nil {
			return ref{}, err
		}
	}
	// A new directory (a bulk load's) is built from its entries directly;
	// a changed one by applying edits to its base. The edits go on the
	// writer's stack of edits, above those of the directories being
	// flushed around this one (see writer.edits); the entries of a new
	// one go in a pooled buffer (build does not keep them).
	fresh := isEmpty(d.base)
	var buf *entryBuf
	base := len(w.edits)
	if fresh {
		buf = getEntries(len(kids))
		defer putEntries(buf)
	} else {
		defer func() {
			clear(w.edits[base:]) // they refer to values: do not keep them alive
			w.edits = w.edits[:base]
		}()
	}
	for _, c := range kids {
		e := node.Entry{Name: c.name}
		switch {
		case c.deleted:
		case c.dir != nil:
			var r ref
			var err error
			if refs != nil {
				r, refs = refs[0], refs[1:]
			} else {
				r, err = b.flush(ctx, w, c.dir)
			}
			if err != nil {
				return ref{}, err
			}
			if r.count > 0 {
				e.Kind, e.Hash = node.KindNode, r.hash
			}
		default:
			e = w.valueEntry(c)
		}
		del := e.Kind == 0 // deleted, or an emptied directory
		switch {
		case !fresh:
			w.edits = append(w.edits, edit{Name: c.name, Del: del, Entry: e})
		case !del:
			buf.es = append(buf.es, e)
		}
	}
	if fresh {
		return w.build(ctx, buf.es)
	}
	return w.apply(ctx, d.base, w.edits[base:])
}
