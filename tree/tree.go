// Package tree is strata's directory tree over node and contents objects.
//
// A Tree is an immutable, stored tree named by the hash of its root node; it
// loads nodes lazily, one directory at a time, as paths are read. A Builder
// is a mutable overlay on a Tree that records sets and deletes in memory and
// writes back only the directories they changed, as new nodes, in one batched
// Put. Diff compares two stored trees and descends only into directories
// whose hashes differ.
//
// Paths are slices of segments (see ParsePath). A directory exists only while
// it has entries: deleting the last entry of a directory removes it.
package tree

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/node"
)

// ErrNotDir is wrapped (together with backend.ErrInvalidPath) by writes that
// would need a value to be a directory or a directory to be a value.
var ErrNotDir = errors.New("value and directory cannot replace each other")

// Tree is an immutable stored tree. It is safe for concurrent use.
type Tree struct {
	objs backend.ObjectStore
	root backend.Hash
}

// New returns the stored tree whose root node is root. It does no I/O: a
// missing or corrupt root is reported by the first read.
func New(objs backend.ObjectStore, root backend.Hash) *Tree {
	return &Tree{objs: objs, root: root}
}

// Empty returns the empty tree (its root node must be written before it can
// be read from the store; reads of the empty tree need no store access).
func Empty(objs backend.ObjectStore) *Tree { return New(objs, node.Empty) }

// Hash returns the hash of t's root node.
func (t *Tree) Hash() backend.Hash { return t.root }

// Entry is one child of a directory, as returned by List.
type Entry struct {
	Name string
	Dir  bool // a subdirectory rather than a value
}

// Get returns the value at path. It returns an error wrapping
// backend.ErrNotFound if there is no value there (nothing, or a directory).
// The caller owns the returned bytes.
func (t *Tree) Get(ctx context.Context, path []string) ([]byte, error) {
	return t.Builder().Get(ctx, path)
}

// List returns the children of the directory at path (nil or empty: the
// root), sorted by name bytes. It returns an error wrapping
// backend.ErrNotFound if there is no directory there.
func (t *Tree) List(ctx context.Context, path []string) ([]Entry, error) {
	return t.Builder().List(ctx, path)
}

// SubtreeHash returns the hash of the object at path: the node of a
// directory or the contents of a value, and whether it is a directory.
// It returns an error wrapping backend.ErrNotFound if the path is absent.
func (t *Tree) SubtreeHash(ctx context.Context, path []string) (backend.Hash, bool, error) {
	h, isDir := t.root, true
	for i, seg := range path {
		if !isDir {
			return backend.Hash{}, false, notFound(path[:i], "is a value")
		}
		n, err := loadNode(ctx, t.objs, h)
		if err != nil {
			return backend.Hash{}, false, err
		}
		e, ok := n.Find(seg)
		if !ok {
			return backend.Hash{}, false, notFound(path[:i+1], "does not exist")
		}
		h, isDir = e.Hash, e.Kind == node.KindNode
	}
	return h, isDir, nil
}

// Builder returns a new mutable overlay on t.
func (t *Tree) Builder() *Builder {
	return &Builder{objs: t.objs, base: t.root, root: &mdir{base: t.root, hasBase: true}}
}

func loadNode(ctx context.Context, objs backend.ObjectStore, h backend.Hash) (*node.Node, error) {
	if h == node.Empty {
		return &node.Node{}, nil
	}
	return node.Get(ctx, objs, h)
}

func notFound(path []string, why string) error {
	if len(path) == 0 {
		return fmt.Errorf("the root %s: %w", why, backend.ErrNotFound)
	}
	return fmt.Errorf("%q %s: %w", JoinPath(path), why, backend.ErrNotFound)
}

func notDir(path []string, why string) error {
	return fmt.Errorf("%w: %q %s (%w)", backend.ErrInvalidPath, JoinPath(path), why, ErrNotDir)
}

// Builder records changes to a tree in memory. It is not safe for
// concurrent use. Reads through a Builder see its own changes.
type Builder struct {
	objs backend.ObjectStore
	base backend.Hash
	root *mdir
}

// mdir is a directory in a Builder's overlay: a stored base node (loaded on
// first need) plus the children changed since.
type mdir struct {
	base    backend.Hash
	hasBase bool
	node    *node.Node // the base node, once loaded
	kids    map[string]*change
}

// change is the new state of one child: deleted, a new value, or a
// directory with changes of its own.
type change struct {
	deleted bool
	value   []byte
	dir     *mdir
}

func (d *mdir) load(ctx context.Context, objs backend.ObjectStore) (*node.Node, error) {
	if d.node == nil {
		if !d.hasBase {
			d.node = &node.Node{}
		} else {
			n, err := loadNode(ctx, objs, d.base)
			if err != nil {
				return nil, err
			}
			d.node = n
		}
	}
	return d.node, nil
}

// lookup is what a name in a directory currently is.
type lookup struct {
	exists   bool
	dir      *mdir // changed directory, or nil
	entry    node.Entry
	fromKids bool
	ch       *change
}

func (b *Builder) find(ctx context.Context, d *mdir, name string) (lookup, error) {
	if c, ok := d.kids[name]; ok {
		if c.deleted || (c.dir != nil && c.dir.emptyHint()) {
			return lookup{}, nil
		}
		return lookup{exists: true, dir: c.dir, fromKids: true, ch: c}, nil
	}
	n, err := d.load(ctx, b.objs)
	if err != nil {
		return lookup{}, err
	}
	e, ok := n.Find(name)
	if !ok {
		return lookup{}, nil
	}
	return lookup{exists: true, entry: e}, nil
}

func (l lookup) isDir() bool {
	if l.fromKids {
		return l.ch.dir != nil
	}
	return l.entry.Kind == node.KindNode
}

// walk descends to the directory at path without changing anything. It
// returns nil and no error if some directory on the way is missing, and an
// error if a value stands where a directory is needed.
func (b *Builder) walk(ctx context.Context, path []string) (*mdir, error) {
	d := b.root
	for i, seg := range path {
		l, err := b.find(ctx, d, seg)
		if err != nil {
			return nil, err
		}
		switch {
		case !l.exists:
			return nil, notFound(path[:i+1], "does not exist")
		case !l.isDir():
			return nil, notFound(path[:i+1], "is a value, not a directory")
		case l.dir != nil:
			d = l.dir
		default:
			d = &mdir{base: l.entry.Hash, hasBase: true}
		}
	}
	return d, nil
}

// Get returns the value at path, as Tree.Get does, seeing b's changes.
func (b *Builder) Get(ctx context.Context, path []string) ([]byte, error) {
	if len(path) == 0 {
		return nil, notFound(nil, "is a directory, not a value")
	}
	d, err := b.walk(ctx, path[:len(path)-1])
	if err != nil {
		return nil, err
	}
	l, err := b.find(ctx, d, path[len(path)-1])
	if err != nil {
		return nil, err
	}
	switch {
	case !l.exists:
		return nil, notFound(path, "does not exist")
	case l.isDir():
		return nil, notFound(path, "is a directory, not a value")
	case l.fromKids:
		return append([]byte{}, l.ch.value...), nil
	}
	c, err := contents.Get(ctx, b.objs, l.entry.Hash)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", JoinPath(path), err)
	}
	return c.Data, nil
}

// List returns the children of the directory at path, as Tree.List does,
// seeing b's changes.
func (b *Builder) List(ctx context.Context, path []string) ([]Entry, error) {
	d, err := b.walk(ctx, path)
	if err != nil {
		return nil, err
	}
	n, err := d.load(ctx, b.objs)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(n.Entries)+len(d.kids))
	for _, e := range n.Entries {
		if _, changed := d.kids[e.Name]; !changed {
			out = append(out, Entry{Name: e.Name, Dir: e.Kind == node.KindNode})
		}
	}
	for name, c := range d.kids {
		if !c.deleted && (c.dir == nil || !c.dir.emptyHint()) {
			out = append(out, Entry{Name: name, Dir: c.dir != nil})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if len(path) > 0 && len(out) == 0 {
		return nil, notFound(path, "does not exist")
	}
	return out, nil
}

// emptyHint reports whether d is known to have no entries: a directory whose
// changes are all deletions of everything it had. It only loads what is
// already loaded; a directory is empty only if its base node is loaded.
func (d *mdir) emptyHint() bool {
	if d.node == nil && d.hasBase {
		return false
	}
	live := 0
	if d.node != nil {
		for _, e := range d.node.Entries {
			if _, changed := d.kids[e.Name]; !changed {
				live++
			}
		}
	}
	for _, c := range d.kids {
		if !c.deleted && (c.dir == nil || !c.dir.emptyHint()) {
			live++
		}
	}
	return live == 0
}

// Set records value at path, creating directories on the way. It copies
// value. It returns an error wrapping backend.ErrInvalidPath (and ErrNotDir)
// if path is the root, a directory, or below a value.
func (b *Builder) Set(ctx context.Context, path []string, value []byte) error {
	if len(path) == 0 {
		return notDir(nil, "is the root directory")
	}
	d := b.root
	for i, seg := range path[:len(path)-1] {
		next, err := b.descend(ctx, d, seg, path[:i+1], true)
		if err != nil {
			return err
		}
		d = next
	}
	name := path[len(path)-1]
	l, err := b.find(ctx, d, name)
	if err != nil {
		return err
	}
	if l.exists && l.isDir() {
		return notDir(path, "is a directory; delete it first to store a value there")
	}
	if d.kids == nil {
		d.kids = make(map[string]*change)
	}
	d.kids[name] = &change{value: append([]byte{}, value...)}
	return nil
}

// descend returns the changed directory for name in d, creating the change
// record (and, if create, the directory) as needed.
func (b *Builder) descend(ctx context.Context, d *mdir, name string, path []string, create bool) (*mdir, error) {
	l, err := b.find(ctx, d, name)
	if err != nil {
		return nil, err
	}
	if l.dir != nil {
		return l.dir, nil
	}
	var nd *mdir
	switch {
	case !l.exists:
		if !create {
			return nil, nil
		}
		nd = &mdir{}
	case !l.isDir():
		if !create {
			return nil, nil
		}
		return nil, notDir(path, "is a value; delete it first to make it a directory")
	default:
		nd = &mdir{base: l.entry.Hash, hasBase: true}
	}
	if d.kids == nil {
		d.kids = make(map[string]*change)
	}
	d.kids[name] = &change{dir: nd}
	return nd, nil
}

// Delete removes the value or whole directory at path. It reports whether
// anything was there. Deleting the root removes everything.
func (b *Builder) Delete(ctx context.Context, path []string) (bool, error) {
	if len(path) == 0 {
		n, err := b.root.load(ctx, b.objs)
		if err != nil {
			return false, err
		}
		existed := !b.root.emptyHint()
		for _, e := range n.Entries {
			b.root.setKid(e.Name, &change{deleted: true})
		}
		for name := range b.root.kids {
			b.root.kids[name] = &change{deleted: true}
		}
		return existed, nil
	}
	d := b.root
	for _, seg := range path[:len(path)-1] {
		l, err := b.find(ctx, d, seg)
		if err != nil {
			return false, err
		}
		if !l.exists || !l.isDir() {
			return false, nil
		}
		if d, err = b.descend(ctx, d, seg, nil, false); err != nil {
			return false, err
		}
	}
	name := path[len(path)-1]
	l, err := b.find(ctx, d, name)
	if err != nil || !l.exists {
		return false, err
	}
	d.setKid(name, &change{deleted: true})
	return true, nil
}

func (d *mdir) setKid(name string, c *change) {
	if d.kids == nil {
		d.kids = make(map[string]*change)
	}
	d.kids[name] = c
}

// Write stores every object b's changes need (contents, then nodes) in one
// batched Put and returns the new root hash. The root hash equals the base
// tree's hash when the changes leave the tree as it was. b may be used again
// afterwards; its changes stay recorded.
func (b *Builder) Write(ctx context.Context) (backend.Hash, error) {
	objs, h, err := b.Objects(ctx)
	if err != nil {
		return backend.Hash{}, err
	}
	if len(objs) > 0 {
		if err := b.objs.Put(ctx, objs); err != nil {
			return backend.Hash{}, fmt.Errorf("write tree: %w", err)
		}
	}
	return h, nil
}

// Objects encodes b's changed directories and values without storing them.
// It returns the objects to Put (children before parents) and the new root
// hash; no objects when nothing changed.
func (b *Builder) Objects(ctx context.Context) ([]backend.Object, backend.Hash, error) {
	if len(b.root.kids) == 0 {
		return nil, b.base, nil
	}
	var objs []backend.Object
	h, _, err := b.flush(ctx, b.root, &objs)
	if err != nil {
		return nil, backend.Hash{}, err
	}
	if h == node.Empty {
		o, _ := node.Object(&node.Node{})
		objs = append(objs, o)
	}
	return objs, h, nil
}

// flush encodes d and its changed descendants, appending new objects to
// objs. It returns d's hash and its number of entries.
func (b *Builder) flush(ctx context.Context, d *mdir, objs *[]backend.Object) (backend.Hash, int, error) {
	if len(d.kids) == 0 && d.hasBase {
		if d.node != nil {
			return d.base, len(d.node.Entries), nil
		}
		return d.base, -1, nil // unchanged, not loaded: non-empty (only the root may be empty)
	}
	n, err := d.load(ctx, b.objs)
	if err != nil {
		return backend.Hash{}, 0, err
	}
	names := make([]string, 0, len(d.kids))
	for name := range d.kids {
		names = append(names, name)
	}
	sort.Strings(names)
	entries := make([]node.Entry, 0, len(n.Entries)+len(names))
	i := 0
	for _, name := range names {
		for i < len(n.Entries) && n.Entries[i].Name < name {
			entries = append(entries, n.Entries[i])
			i++
		}
		if i < len(n.Entries) && n.Entries[i].Name == name {
			i++ // replaced by the change
		}
		c := d.kids[name]
		switch {
		case c.deleted:
		case c.dir != nil:
			h, count, err := b.flush(ctx, c.dir, objs)
			if err != nil {
				return backend.Hash{}, 0, err
			}
			if count != 0 {
				entries = append(entries, node.Entry{Name: name, Kind: node.KindNode, Hash: h})
			}
		default:
			o := contents.Object(contents.Raw(c.value))
			*objs = append(*objs, o)
			entries = append(entries, node.Entry{Name: name, Kind: node.KindContents, Hash: o.Hash})
		}
	}
	entries = append(entries, n.Entries[i:]...)
	o, err := node.Object(&node.Node{Entries: entries})
	if err != nil {
		return backend.Hash{}, 0, err
	}
	if len(entries) > 0 {
		*objs = append(*objs, o)
	}
	return o.Hash, len(entries), nil
}
