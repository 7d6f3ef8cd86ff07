package peers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/stratakv/strata/bench"
)

// GoGit makes go-git targets: a repository in go-git's in-memory storage
// (memory.NewStorage), written through the object and plumbing API as git
// itself stores a tree: one blob per value, one tree object per directory,
// a commit per change, and refs/heads/main moved to it.
func GoGit() bench.Factory {
	return bench.Factory{Name: "go-git", New: func(ctx context.Context) (bench.Target, error) {
		return &gitTarget{s: memory.NewStorage()}, nil
	}}
}

const gitRef = plumbing.ReferenceName("refs/heads/main")

type gitTarget struct {
	s    *memory.Storage
	tick int64 // commit times, so that equal trees still make distinct commits
}

func (t *gitTarget) Supports(w string) bool { return true }

func (t *gitTarget) put(o interface {
	Encode(plumbing.EncodedObject) error
}) (plumbing.Hash, error) {
	obj := t.s.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return t.s.SetEncodedObject(obj)
}

func (t *gitTarget) blob(v []byte) (plumbing.Hash, error) {
	obj := t.s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(v); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return t.s.SetEncodedObject(obj)
}

// commit writes a commit of tree on top of the current head (if any) and
// moves the branch to it.
func (t *gitTarget) commit(tree plumbing.Hash, msg string) (bench.Rev, error) {
	var parents []plumbing.Hash
	if ref, err := t.s.Reference(gitRef); err == nil {
		parents = []plumbing.Hash{ref.Hash()}
	} else if !errors.Is(err, plumbing.ErrReferenceNotFound) {
		return "", err
	}
	t.tick++
	sig := object.Signature{Name: "bench", Email: "bench@example.com", When: time.Unix(1_700_000_000+t.tick, 0).UTC()}
	h, err := t.put(&object.Commit{Author: sig, Committer: sig, Message: msg, TreeHash: tree, ParentHashes: parents})
	if err != nil {
		return "", err
	}
	if err := t.s.SetReference(plumbing.NewHashReference(gitRef, h)); err != nil {
		return "", err
	}
	return bench.Rev(h.String()), nil
}

func (t *gitTarget) Load(ctx context.Context, d bench.Dataset) (bench.Rev, error) {
	// Keys sort in the order of their index in both layouts, so entries
	// are appended already sorted.
	var (
		dirEntries []object.TreeEntry // entries of the directory being filled
		curDir     string
		top        []object.TreeEntry // entries of Dir (nested: the subdirectories)
	)
	flush := func() error {
		if d.Layout != bench.Nested || dirEntries == nil {
			return nil
		}
		h, err := t.put(&object.Tree{Entries: dirEntries})
		if err != nil {
			return err
		}
		top = append(top, object.TreeEntry{Name: curDir[strings.LastIndexByte(curDir, '/')+1:], Mode: filemode.Dir, Hash: h})
		dirEntries = nil
		return nil
	}
	for i := 0; i < d.N; i++ {
		bh, err := t.blob(d.Value(i, 0))
		if err != nil {
			return "", err
		}
		dir, name := d.Split(i)
		if dir != curDir {
			if err := flush(); err != nil {
				return "", err
			}
			curDir = dir
		}
		e := object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: bh}
		if d.Layout == bench.Nested {
			dirEntries = append(dirEntries, e)
		} else {
			top = append(top, e)
		}
	}
	if err := flush(); err != nil {
		return "", err
	}
	dh, err := t.put(&object.Tree{Entries: top})
	if err != nil {
		return "", err
	}
	root, err := t.put(&object.Tree{Entries: []object.TreeEntry{{Name: bench.Dir, Mode: filemode.Dir, Hash: dh}}})
	if err != nil {
		return "", err
	}
	return t.commit(root, "load")
}

// headTree returns the tree of the branch head.
func (t *gitTarget) headTree() (*object.Tree, error) {
	ref, err := t.s.Reference(gitRef)
	if err != nil {
		return nil, err
	}
	c, err := object.GetCommit(t.s, ref.Hash())
	if err != nil {
		return nil, err
	}
	return c.Tree()
}

func (t *gitTarget) treeOf(rev bench.Rev) (*object.Tree, error) {
	c, err := object.GetCommit(t.s, plumbing.NewHash(string(rev)))
	if err != nil {
		return nil, err
	}
	return c.Tree()
}

// setPath rewrites the tree tree with the blob at path segs replaced by
// blob, writing the new trees on the way up, and returns the new tree.
// Every directory on the path is decoded and re-encoded whole: that is
// how git stores a change.
func (t *gitTarget) setPath(tree plumbing.Hash, segs []string, blob plumbing.Hash) (plumbing.Hash, error) {
	tr, err := object.GetTree(t.s, tree)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	es := tr.Entries
	i := sort.Search(len(es), func(i int) bool { return es[i].Name >= segs[0] })
	if i == len(es) || es[i].Name != segs[0] {
		return plumbing.ZeroHash, fmt.Errorf("go-git: %q: %w", segs[0], object.ErrEntryNotFound)
	}
	if len(segs) == 1 {
		es[i].Hash = blob
	} else if es[i].Hash, err = t.setPath(es[i].Hash, segs[1:], blob); err != nil {
		return plumbing.ZeroHash, err
	}
	return t.put(&object.Tree{Entries: es})
}

func (t *gitTarget) Commit(ctx context.Context, cs []bench.Change) (bench.Rev, error) {
	ref, err := t.s.Reference(gitRef)
	if err != nil {
		return "", err
	}
	c, err := object.GetCommit(t.s, ref.Hash())
	if err != nil {
		return "", err
	}
	root := c.TreeHash
	for _, ch := range cs {
		bh, err := t.blob(ch.Value)
		if err != nil {
			return "", err
		}
		if root, err = t.setPath(root, strings.Split(ch.Key, "/"), bh); err != nil {
			return "", err
		}
	}
	return t.commit(root, "set")
}

func (t *gitTarget) Get(ctx context.Context, key string) ([]byte, error) {
	tr, err := t.headTree()
	if err != nil {
		return nil, err
	}
	e, err := tr.FindEntry(key)
	if err != nil {
		return nil, err
	}
	b, err := object.GetBlob(t.s, e.Hash)
	if err != nil {
		return nil, err
	}
	r, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// Diff is object.DiffTree of the two commits' trees (no rename
// detection), which skips subtrees with equal hashes.
func (t *gitTarget) Diff(ctx context.Context, from, to bench.Rev) (int, error) {
	a, err := t.treeOf(from)
	if err != nil {
		return 0, err
	}
	b, err := t.treeOf(to)
	if err != nil {
		return 0, err
	}
	changes, err := object.DiffTreeWithOptions(ctx, a, b, nil)
	return len(changes), err
}

// LogPath walks the first-parent chain and compares the blob hash at key
// in each commit's tree with its parent's: the cheapest way to do git log
// -- PATH with go-git's API (its Log with a path filter diffs whole trees).
func (t *gitTarget) LogPath(ctx context.Context, key string) (int, error) {
	ref, err := t.s.Reference(gitRef)
	if err != nil {
		return 0, err
	}
	at := func(c *object.Commit) (plumbing.Hash, error) {
		tr, err := c.Tree()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		e, err := tr.FindEntry(key)
		if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
			return plumbing.ZeroHash, nil
		}
		if err != nil {
			return plumbing.ZeroHash, err
		}
		return e.Hash, nil
	}
	c, err := object.GetCommit(t.s, ref.Hash())
	if err != nil {
		return 0, err
	}
	mine, err := at(c)
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		if len(c.ParentHashes) == 0 {
			if !mine.IsZero() {
				n++
			}
			return n, nil
		}
		p, err := object.GetCommit(t.s, c.ParentHashes[0])
		if err != nil {
			return 0, err
		}
		theirs, err := at(p)
		if err != nil {
			return 0, err
		}
		if theirs != mine {
			n++
		}
		c, mine = p, theirs
	}
}

func (t *gitTarget) List(ctx context.Context, dir string, limit int) ([]string, error) {
	tr, err := t.headTree()
	if err != nil {
		return nil, err
	}
	if tr, err = tr.Tree(dir); err != nil {
		return nil, err
	}
	es := tr.Entries[:min(limit, len(tr.Entries))]
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name
	}
	return out, nil
}

func (t *gitTarget) Close() error { t.s = nil; return nil }
