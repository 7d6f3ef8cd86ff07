package tree

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/internal/codec"
	"github.com/stratakv/strata/node"
)

// ConflictReason says why a path is a Conflict: what kind of
// disagreement it is.
type ConflictReason uint8

// The reasons for a conflict.
const (
	// ConflictContent: both sides changed a value differently, and its
	// merge function could not combine the changes.
	ConflictContent ConflictReason = iota + 1
	// ConflictDelete: one side changed a value, the other removed it.
	ConflictDelete
	// ConflictDirectory: one side has a value where the other has a
	// directory.
	ConflictDirectory
	// ConflictType: both sides changed a value, to values of different
	// kinds (say a counter and JSON).
	ConflictType
)

// String returns "content", "delete", "directory" or "type".
func (k ConflictReason) String() string {
	switch k {
	case ConflictContent:
		return "content"
	case ConflictDelete:
		return "delete"
	case ConflictDirectory:
		return "directory"
	case ConflictType:
		return "type"
	}
	return fmt.Sprintf("conflict(%d)", uint8(k))
}

// Conflict is one path where a three-way merge could not combine the two
// sides.
type Conflict struct {
	Path   string
	Reason ConflictReason
	// Base, Ours and Theirs are the values at Path in the three trees; nil
	// where that tree has nothing there, or a directory (Reason is then
	// ConflictDirectory, or the directory is the base).
	Base, Ours, Theirs *contents.Contents
	// Detail says what conflicts, in words: `JSON field "/owner" changed
	// differently on both sides`, "changed on ours, removed on theirs".
	Detail string
	// Fields are the JSON Pointers of the conflicting members of a JSON
	// value (see contents.ConflictError); nil otherwise.
	Fields []string
}

// Resolution settles one conflict.
type Resolution struct {
	// Keep, unless it is contents.NoSide, keeps that side's entry at the
	// path as it is: its value, its directory, or nothing.
	Keep contents.Side
	// Value is stored at the path when Keep is NoSide; nil removes the
	// path. It is made canonical (contents.New) and must be valid.
	Value *contents.Contents
}

// MergeOptions configure Merge. The zero value merges values with
// contents.Merge and reports every conflict.
type MergeOptions struct {
	// Func, if not nil, is asked first to merge each path whose value both
	// sides changed differently (nil: absent on that side, or a
	// directory). It returns the merged value (nil: remove the path) and
	// true, or false to leave the path to contents.Merge. An error that
	// wraps backend.ErrConflict is a conflict described by its message;
	// any other error stops the merge.
	Func func(ctx context.Context, path string, base, ours, theirs *contents.Contents) (*contents.Contents, bool, error)
	// Resolve, if not nil, is called for each conflict; false leaves it.
	Resolve func(ctx context.Context, c Conflict) (Resolution, bool, error)
	// Prefer settles each conflict left by Resolve from that side: within
	// a value where its kind's merge can (a region of text, a member of a
	// JSON object), else for the whole path. NoSide reports them.
	Prefer contents.Side
	// Unstored are objects that the three trees may refer to but that are
	// not stored yet (a Builder's output). Those the merged tree needs are
	// returned in MergeResult.Objects.
	Unstored []backend.Object
	// SameOnce takes a change both sides made identically once, a
	// counter's too (whose merge otherwise counts both changes: they are
	// increments). A cherry-pick or revert sets it: there, a change ours
	// already made is the picked change, found already applied.
	SameOnce bool
}

// MergeResult is the outcome of Merge.
type MergeResult struct {
	// Root is the merged tree's root directory. When there are conflicts it
	// is a stand-in (ours at each conflicting path) and must not be used.
	Root backend.Hash
	// Objects are the new objects the merged tree needs, children before
	// parents, not yet stored.
	Objects []backend.Object
	// Conflicts are the paths that could not be merged, sorted by path.
	Conflicts []Conflict
}

// Merge merges the stored trees ours and theirs, both changed from base
// (zero hashes are empty trees), and returns the merged tree without
// storing it. It descends only where the three versions differ: a
// directory (or part of a large directory) that one side left as it was
// in base is taken whole from the other side, so the cost follows the
// size of the two changes, not of the trees. Within a directory that both
// sides changed, a name changed on one side only takes that side's entry;
// a name both sides changed identically takes it; otherwise two
// directories merge recursively, two values merge with opts.Func or
// contents.Merge, and a value against a directory, or a change against a
// removal, is a conflict. The merged directories are written through the
// same canonical writer as Builder, so equal merged trees have equal
// hashes. Conflicts are returned in the result, not as an error; an error
// means the merge could not run (a missing or corrupt object, or one
// returned by a callback).
func Merge(ctx context.Context, st *node.Store, base, ours, theirs backend.Hash, opts *MergeOptions) (*MergeResult, error) {
	m := &merger{w: newWriter(st)}
	if opts != nil {
		m.o = *opts
	}
	for _, o := range m.o.Unstored {
		if err := m.w.seed(o); err != nil {
			return nil, err
		}
	}
	r, err := m.dir(ctx, "", base, ours, theirs)
	if err != nil {
		return nil, err
	}
	if r.count == 0 {
		o, err := node.Object(&node.Node{})
		if err != nil {
			return nil, err
		}
		m.w.add(o, node.EmptyDir)
		r.hash = o.Hash
	}
	sort.SliceStable(m.conflicts, func(i, j int) bool { return m.conflicts[i].Path < m.conflicts[j].Path })
	return &MergeResult{Root: r.hash, Objects: m.w.finish(r.hash), Conflicts: m.conflicts}, nil
}

// seed makes an object that is not stored yet readable by w, as if w had
// made it.
func (w *writer) seed(o backend.Object) error {
	switch tag, _ := codec.TagOf(o.Data); tag {
	case codec.TagNode:
		l, err := node.DecodeLeaf(o.Data)
		if err != nil {
			return fmt.Errorf("node %s: %w", o.Hash, err)
		}
		w.add(o, node.Dir{Leaf: l})
	case codec.TagIndex:
		t, err := node.DecodeTrie(o.Data)
		if err != nil {
			return fmt.Errorf("node %s: %w", o.Hash, err)
		}
		w.add(o, node.Dir{Index: t})
	default:
		w.add(o, node.Dir{})
	}
	return nil
}

type merger struct {
	w         *writer
	o         MergeOptions
	conflicts []Conflict
}

func sameDir(a, b backend.Hash) bool { return a == b || (isEmpty(a) && isEmpty(b)) }

// ref returns directory h with its entry count.
func (m *merger) ref(ctx context.Context, h backend.Hash) (ref, error) {
	if isEmpty(h) {
		return ref{}, nil
	}
	n, err := dirLen(ctx, m.w, h)
	return ref{h, n}, err
}

// nameChange is one name whose entry a side changed: old in base, new on
// the side (nil: absent).
type nameChange struct {
	name     string
	old, new *node.Entry
}

// changes returns the names whose entries differ between the directory
// objects base and side, sorted by name.
func (m *merger) changes(ctx context.Context, base, side backend.Hash) ([]nameChange, error) {
	var out []nameChange
	err := pairs(ctx, m.w, base, side, func(ea, eb *node.Entry) error {
		c := nameChange{old: ea, new: eb}
		if ea != nil {
			c.name = ea.Name
		} else {
			c.name = eb.Name
		}
		out = append(out, c)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, err
}

func editFor(name string, e *node.Entry) edit {
	if e == nil {
		return edit{Name: name, Del: true}
	}
	ne := *e
	ne.Name = name
	return edit{Name: name, Entry: ne}
}

// dir merges three versions of the directory at path.
func (m *merger) dir(ctx context.Context, path string, b, o, t backend.Hash) (ref, error) {
	switch {
	case sameDir(b, t):
		return m.ref(ctx, o)
	case sameDir(b, o):
		return m.ref(ctx, t)
	case sameDir(o, t) && m.o.SameOnce:
		return m.ref(ctx, o)
	case sameDir(o, t):
		return m.twice(ctx, path, b, o)
	}
	if err := ctx.Err(); err != nil {
		return ref{}, err
	}
	co, err := m.changes(ctx, b, o)
	if err != nil {
		return ref{}, err
	}
	ct, err := m.changes(ctx, b, t)
	if err != nil {
		return ref{}, err
	}
	// The edits that turn ours, and theirs, into the result; the side that
	// needs fewer is the one rewritten.
	var toOurs, toTheirs []edit
	i, j := 0, 0
	for i < len(co) || j < len(ct) {
		switch {
		case j == len(ct) || (i < len(co) && co[i].name < ct[j].name):
			toTheirs = append(toTheirs, editFor(co[i].name, co[i].new))
			i++
		case i == len(co) || ct[j].name < co[i].name:
			toOurs = append(toOurs, editFor(ct[j].name, ct[j].new))
			j++
		default:
			name, eb, eo, et := co[i].name, co[i].old, co[i].new, ct[j].new
			i++
			j++
			if eo.Equal(et) {
				if m.o.SameOnce {
					continue // ours has it already
				}
				r, changed, err := m.twiceEntry(ctx, join(path, name), name, eb, eo)
				if err != nil {
					return ref{}, err
				}
				if changed {
					toOurs = append(toOurs, editFor(name, r))
					toTheirs = append(toTheirs, editFor(name, r))
				}
				continue
			}
			r, err := m.entry(ctx, join(path, name), name, eb, eo, et)
			if err != nil {
				return ref{}, err
			}
			if !r.Equal(eo) {
				toOurs = append(toOurs, editFor(name, r))
			}
			if !r.Equal(et) {
				toTheirs = append(toTheirs, editFor(name, r))
			}
		}
	}
	if len(toOurs) <= len(toTheirs) {
		return m.w.apply(ctx, o, toOurs)
	}
	return m.w.apply(ctx, t, toTheirs)
}

// twice merges directory o, changed from b identically on both sides.
// Equal changes are taken once, except that a counter both sides changed
// counts both changes: they are increments, not a value to agree on.
func (m *merger) twice(ctx context.Context, path string, b, o backend.Hash) (ref, error) {
	cs, err := m.changes(ctx, b, o)
	if err != nil {
		return ref{}, err
	}
	var edits []edit
	for _, c := range cs {
		r, changed, err := m.twiceEntry(ctx, join(path, c.name), c.name, c.old, c.new)
		if err != nil {
			return ref{}, err
		}
		if changed {
			edits = append(edits, editFor(c.name, r))
		}
	}
	return m.w.apply(ctx, o, edits)
}

// twiceEntry is twice for one name: it returns the merged entry and
// whether it differs from e.
func (m *merger) twiceEntry(ctx context.Context, path, name string, eb, e *node.Entry) (*node.Entry, bool, error) {
	switch {
	case isDirEntry(e):
		r, err := m.twice(ctx, path, dirHash(eb), e.Hash)
		if err != nil || r.hash == e.Hash {
			return e, false, err
		}
		return &node.Entry{Name: name, Kind: node.KindNode, Hash: r.hash}, true, nil
	case e == nil || e.Kind != node.KindContents:
		return e, false, nil // gone, or inline (raw)
	}
	c, err := m.contents(ctx, path, e)
	if err != nil || c.Kind != contents.KindCounter {
		return e, false, err
	}
	base, err := m.contents(ctx, path, valueOnly(eb))
	if err != nil {
		return nil, false, err
	}
	r, err := contents.Merge(base, *c, *c, m.o.Prefer)
	var ce *contents.ConflictError
	if errors.As(err, &ce) {
		cf := Conflict{Path: path, Reason: ConflictContent, Base: base, Ours: c, Theirs: c, Detail: ce.Detail}
		ne, err := m.conflict(ctx, cf, name, eb, e, e, nil)
		return ne, !ne.Equal(e), err
	}
	if err != nil {
		return nil, false, fmt.Errorf("merge %q: %w", path, err)
	}
	ne, err := m.entryFor(name, r)
	return ne, err == nil && !ne.Equal(e), err
}

func isDirEntry(e *node.Entry) bool   { return e != nil && e.Kind == node.KindNode }
func isValueEntry(e *node.Entry) bool { return e != nil && e.Kind != node.KindNode }

func dirHash(e *node.Entry) backend.Hash {
	if isDirEntry(e) {
		return e.Hash
	}
	return backend.Hash{}
}

func valueOnly(e *node.Entry) *node.Entry {
	if isValueEntry(e) {
		return e
	}
	return nil
}

// entry merges one name that both sides changed, differently. It returns
// the merged entry, nil for none.
func (m *merger) entry(ctx context.Context, path, name string, eb, eo, et *node.Entry) (*node.Entry, error) {
	if isValueEntry(eo) && isDirEntry(et) || isDirEntry(eo) && isValueEntry(et) {
		c, err := m.describe(ctx, path, eb, eo, et)
		if err != nil {
			return nil, err
		}
		c.Reason = ConflictDirectory
		c.Detail = fmt.Sprintf("%s on ours, %s on theirs", what(eo), what(et))
		return m.conflict(ctx, c, name, eb, eo, et, nil)
	}
	if !isValueEntry(eo) && !isValueEntry(et) {
		// Directories (or nothing) on both sides: a value in the base was
		// removed by both.
		r, err := m.dir(ctx, path, dirHash(eb), dirHash(eo), dirHash(et))
		if err != nil || r.count == 0 {
			return nil, err
		}
		return &node.Entry{Name: name, Kind: node.KindNode, Hash: r.hash}, nil
	}
	// Values (or nothing) on both sides: a directory in the base was
	// removed by both.
	return m.value(ctx, path, name, eb, eo, et)
}

// what describes an entry for a message.
func what(e *node.Entry) string {
	switch {
	case e == nil:
		return "nothing"
	case e.Kind == node.KindNode:
		return "a directory"
	}
	return "a value"
}

// describe returns a Conflict at path with the values of the three sides.
func (m *merger) describe(ctx context.Context, path string, eb, eo, et *node.Entry) (Conflict, error) {
	c := Conflict{Path: path}
	var err error
	if c.Base, err = m.contents(ctx, path, eb); err != nil {
		return c, err
	}
	if c.Ours, err = m.contents(ctx, path, eo); err != nil {
		return c, err
	}
	c.Theirs, err = m.contents(ctx, path, et)
	return c, err
}

// contents reads the value of an entry (nil for none or a directory),
// from the objects not stored yet if it is one of them.
func (m *merger) contents(ctx context.Context, path string, e *node.Entry) (*contents.Contents, error) {
	if !isValueEntry(e) {
		return nil, nil
	}
	if e.Kind == node.KindContents {
		if p := m.w.get(e.Hash); p != nil {
			c, err := contents.Decode(p.obj.Data)
			if err != nil {
				return nil, fmt.Errorf("%q: contents %s: %w", path, e.Hash, err)
			}
			return &c, nil
		}
	}
	c, err := Contents(ctx, m.w.st.Objects(), *e, path)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// entryFor returns the entry holding value c under name (nil for none).
func (m *merger) entryFor(name string, c *contents.Contents) (*node.Entry, error) {
	if c == nil {
		return nil, nil
	}
	cc, err := contents.New(c.Kind, c.Data)
	if err != nil {
		return nil, err
	}
	e := m.w.contents(name, cc)
	return &e, nil
}

// value merges a name that both sides changed, differently, where neither
// side holds a directory.
func (m *merger) value(ctx context.Context, path, name string, eb, eo, et *node.Entry) (*node.Entry, error) {
	vb := valueOnly(eb)
	switch {
	case vb.Equal(eo):
		return et, nil
	case vb.Equal(et):
		return eo, nil
	}
	c, err := m.describe(ctx, path, vb, eo, et)
	if err != nil {
		return nil, err
	}
	if m.o.Func != nil {
		r, ok, err := m.o.Func(ctx, path, c.Base, c.Ours, c.Theirs)
		switch {
		case err != nil && errors.Is(err, backend.ErrConflict):
			c.Reason, c.Detail = ConflictContent, err.Error()
			return m.conflict(ctx, c, name, eb, eo, et, nil)
		case err != nil:
			return nil, fmt.Errorf("merge %q: %w", path, err)
		case ok:
			e, err := m.entryFor(name, r)
			if err != nil {
				return nil, fmt.Errorf("merge %q: %w", path, err)
			}
			return e, nil
		}
	}
	if c.Ours == nil || c.Theirs == nil {
		c.Reason = ConflictDelete
		if c.Ours == nil {
			c.Detail = "removed on ours, changed on theirs"
		} else {
			c.Detail = "changed on ours, removed on theirs"
		}
		return m.conflict(ctx, c, name, eb, eo, et, nil)
	}
	merge := func(prefer contents.Side) (*node.Entry, error) {
		r, err := contents.Merge(c.Base, *c.Ours, *c.Theirs, prefer)
		if err != nil {
			return nil, err
		}
		return m.entryFor(name, r)
	}
	prefer := m.o.Prefer
	if m.o.Resolve != nil {
		prefer = contents.NoSide // the resolver sees the conflict first
	}
	r, err := merge(prefer)
	var ce *contents.ConflictError
	if !errors.As(err, &ce) {
		if err != nil {
			return nil, fmt.Errorf("merge %q: %w", path, err)
		}
		return r, nil
	}
	c.Reason, c.Detail, c.Fields = ConflictContent, ce.Detail, ce.Fields
	if c.Ours.Kind != c.Theirs.Kind {
		c.Reason = ConflictType
	}
	return m.conflict(ctx, c, name, eb, eo, et, merge)
}

// conflict settles c with the resolver or the preferred side, or records
// it and returns ours as a stand-in. retry, if not nil, re-merges the
// value preferring a side.
func (m *merger) conflict(ctx context.Context, c Conflict, name string, eb, eo, et *node.Entry, retry func(contents.Side) (*node.Entry, error)) (*node.Entry, error) {
	if m.o.Resolve != nil {
		r, ok, err := m.o.Resolve(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("resolve %q: %w", c.Path, err)
		}
		if ok {
			if r.Keep != contents.NoSide {
				return side(r.Keep, eb, eo, et), nil
			}
			e, err := m.entryFor(name, r.Value)
			if err != nil {
				return nil, fmt.Errorf("resolve %q: %w", c.Path, err)
			}
			return e, nil
		}
	}
	if m.o.Prefer != contents.NoSide {
		if retry != nil {
			return retry(m.o.Prefer)
		}
		return side(m.o.Prefer, eb, eo, et), nil
	}
	m.conflicts = append(m.conflicts, c)
	return eo, nil
}

func side(s contents.Side, eb, eo, et *node.Entry) *node.Entry {
	switch s {
	case contents.Base:
		return eb
	case contents.Theirs:
		return et
	}
	return eo
}
