package strata

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/internal/codec"
	"github.com/stratakv/strata/node"
)

// Problem is one missing or corrupt object found by Fsck, or a ref whose
// value is damaged (Object "branch", "tag", "remote", "remote-tracking
// ref" or "commit-graph run", Where its name, Hash zero). A damaged
// commit-graph run object has Object "commit-graph run", Hash the run
// object's hash and Where the hex hash of the commit whose run it is.
type Problem struct {
	Hash   Hash
	Object string // the object's type: "commit", "node", "contents" or "commit-graph run"; "branch" for a damaged branch
	Where  string // how it was reached, as a revision and a path: "main~2: commit 3fa4…: tree /config/db/host"
	Err    error  // wraps ErrMissing (missing) or ErrCorrupt
}

// Damage returns "missing" for an object that is not stored and
// "corrupt" for one whose bytes do not hash to its key or do not decode.
func (p Problem) Damage() string {
	if errors.Is(p.Err, ErrMissing) {
		return "missing"
	}
	return "corrupt"
}

func (p Problem) String() string {
	if p.IsRef() {
		return fmt.Sprintf("corrupt %s %q: its ref does not hold a valid hash", p.Object, p.Where)
	}
	return fmt.Sprintf("%s %s %s (%s)", p.Damage(), p.Object, p.Hash, p.Where)
}

// IsRef reports whether p is a damaged ref rather than a damaged object.
func (p Problem) IsRef() bool {
	switch p.Object {
	case "branch", "tag", "remote", "remote-tracking ref":
		return true
	case "commit-graph run":
		return p.Hash.IsZero()
	}
	return false
}

// FsckReport is the result of Fsck.
type FsckReport struct {
	Commits, Nodes, Contents int // objects checked
	Problems                 []Problem
}

// Fsck reads every object reachable from the given revisions (if none is
// given: every branch, tag and remote-tracking ref, every remote's URL,
// and every commit-graph run, which GC keeps as it keeps the others and
// refuses to run past when damaged), re-hashes each one and decodes it, and reports every missing or
// corrupt object with the path by which it was reached: the start's name
// and the parent steps to the commit, Git's way ("main~2^2~1": first
// parents counted after ~, another parent's number after ^), then the
// commit and the path in its tree ("tag v1~3: commit 3fa4…: tree
// /config/db/host"); a missing or corrupt commit is described by its
// revision alone ("origin/main~1"). The work is linear in the size of
// the history. A ref whose value is damaged is reported
// as a Problem of Object "branch", "tag", "remote", "remote-tracking
// ref" or "commit-graph run", and the other refs are still checked. A
// commit-graph run must also decode (commit.DecodeRun) and start at the
// commit its ref names; one that does not, or is missing, is a Problem of
// Object "commit-graph run" (see Problem). The parents of a commit
// marked shallow (see Commit.Shallow) are absent by design and are
// neither read nor reported. It
// returns an error only if it cannot run at all (a revision that does not
// resolve, a store that fails); damage is reported in the FsckReport.
func (kv *KV) Fsck(ctx context.Context, revs ...string) (*FsckReport, error) {
	if err := kv.alive(); err != nil {
		return nil, err
	}
	type start struct {
		name string
		hash Hash
	}
	var starts []start
	var badRefs *CorruptBranchesError
	if len(revs) == 0 {
		bs, err := kv.Branches(ctx)
		if err != nil && !errors.As(err, &badRefs) {
			return nil, err
		}
		for _, b := range bs {
			starts = append(starts, start{b.Name, b.Head})
		}
	}
	for _, r := range revs {
		h, err := kv.Resolve(ctx, r)
		if err != nil {
			return nil, err
		}
		starts = append(starts, start{r, h})
	}
	shallow, err := kv.shallowSet(ctx)
	if err != nil {
		return nil, err
	}
	f := &fsck{kv: kv, nodes: node.NewStore(kv.store, -1), seen: map[Hash]bool{}, shallow: shallow, rep: &FsckReport{}}
	if badRefs != nil {
		for _, name := range badRefs.Names {
			f.rep.Problems = append(f.rep.Problems, Problem{Object: "branch", Where: name, Err: badRefs})
		}
	}
	if len(revs) == 0 {
		tags, err := kv.listRefs(ctx, tagPrefix, "tag")
		if err = f.badRefs(err); err != nil {
			return nil, err
		}
		for _, t := range tags {
			starts = append(starts, start{"tag " + t.Name, t.Hash})
		}
		tracking, err := kv.listRefs(ctx, trackPrefix, "remote-tracking ref")
		if err = f.badRefs(err); err != nil {
			return nil, err
		}
		for _, r := range tracking {
			starts = append(starts, start{r.Name, r.Hash})
		}
		remotes, err := kv.listRefs(ctx, remotePrefix, "remote")
		if err = f.badRefs(err); err != nil {
			return nil, err
		}
		for _, r := range remotes {
			if _, err := kv.loadRemote(ctx, r.Name, r.Hash); err != nil {
				if err := f.problem(r.Hash, "contents", "remote "+r.Name+": URL", err); err != nil {
					return nil, err
				}
				continue
			}
			f.rep.Contents++
		}
		runs, err := kv.listRefs(ctx, commit.GraphRefPrefix, "commit-graph run")
		if err = f.badRefs(err); err != nil {
			return nil, err
		}
		for _, r := range runs {
			if err := f.run(ctx, r.Name, r.Hash); err != nil {
				return nil, err
			}
		}
	}
	for _, s := range starts {
		if err := f.history(ctx, s.name, s.hash); err != nil {
			return nil, err
		}
	}
	return f.rep, nil
}

type fsck struct {
	kv      *KV
	nodes   *node.Store // uncached: every object is read and re-hashed
	seen    map[Hash]bool
	shallow map[Hash]bool // commits whose parents are absent by design
	rep     *FsckReport
}

// badRefs records the refs a *CorruptRefsError names as problems, and
// returns any other error.
func (f *fsck) badRefs(err error) error {
	var bad *CorruptRefsError
	if err == nil || !errors.As(err, &bad) {
		return err
	}
	for _, name := range bad.Names {
		f.rep.Problems = append(f.rep.Problems, Problem{Object: bad.Kind, Where: name, Err: bad})
	}
	return nil
}

// problem records err if it is damage, and returns it otherwise.
func (f *fsck) problem(h Hash, typ, where string, err error) error {
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt) {
		f.rep.Problems = append(f.rep.Problems, Problem{Hash: h, Object: typ, Where: where, Err: err})
		return nil
	}
	return err
}

// rev is where a commit was reached, as a revision: a start's name
// followed by parent steps, a run of first-parent steps kept as a count
// ("main~3^2~1"). Stepping to a first parent copies no string, so a walk
// down a long linear history costs constant work per commit; the text is
// built when a description is needed.
type rev struct {
	base  string // the name and every step before the last first-parent run
	tilde int    // first-parent steps after base
}

func (r rev) String() string {
	if r.tilde == 0 {
		return r.base
	}
	return r.base + "~" + strconv.Itoa(r.tilde)
}

// parent returns the revision of the i-th (1-based) parent of r's commit.
func (r rev) parent(i int) rev {
	if i == 1 {
		return rev{r.base, r.tilde + 1}
	}
	return rev{r.String() + "^" + strconv.Itoa(i), 0}
}

func (f *fsck) history(ctx context.Context, name string, head Hash) error {
	type item struct {
		h   Hash
		rev rev
	}
	stack := []item{{head, rev{base: name}}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if f.seen[it.h] {
			continue
		}
		f.seen[it.h] = true
		if err := ctx.Err(); err != nil {
			return err
		}
		c, err := commit.Get(ctx, f.kv.store, it.h)
		if err != nil {
			if err := f.problem(it.h, "commit", it.rev.String(), err); err != nil {
				return err
			}
			continue
		}
		f.rep.Commits++
		if !f.seen[c.Tree] {
			where := fmt.Sprintf("%s: commit %s: tree /", it.rev, it.h.Short())
			if err := f.tree(ctx, c.Tree, where); err != nil {
				return err
			}
		}
		if f.shallow[it.h] {
			continue // history cut here by design
		}
		// Pushed last first, so the first parent is walked next (its
		// description stays a short ~N as far as the history is linear).
		for i := len(c.Parents) - 1; i >= 0; i-- {
			stack = append(stack, item{c.Parents[i], it.rev.parent(i + 1)})
		}
	}
	return nil
}

// run checks the commit-graph run object h, which the ref of the commit
// whose hex hash is name points at: it must be stored, hash to h, decode,
// and start at that commit.
func (f *fsck) run(ctx context.Context, name string, h Hash) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := codec.Read(ctx, f.kv.store, h)
	if err == nil {
		var es []commit.GraphEntry
		if es, err = commit.DecodeRun(b); err == nil && es[0].Commit.String() != name {
			err = fmt.Errorf("%w: commit-graph run %s starts at commit %s, not at the commit its ref names", ErrCorrupt, h.Short(), es[0].Commit.Short())
		}
	}
	if err != nil {
		return f.problem(h, "commit-graph run", name, err)
	}
	return nil
}

func (f *fsck) tree(ctx context.Context, h Hash, where string) error {
	if f.seen[h] {
		return nil
	}
	f.seen[h] = true
	d, err := f.nodes.Load(ctx, h)
	if err != nil {
		return f.problem(h, "node", where, err)
	}
	f.rep.Nodes++
	if x := d.Index; x != nil {
		if x.Self != nil {
			if err := f.entry(ctx, *x.Self, where); err != nil {
				return err
			}
		}
		for c := range x.Children() {
			// A part of the same directory: the path does not grow.
			if err := f.tree(ctx, c.Hash, where); err != nil {
				return err
			}
		}
		return nil
	}
	for _, e := range d.Leaf.Entries() {
		if err := f.entry(ctx, e, where); err != nil {
			return err
		}
	}
	return nil
}

func (f *fsck) entry(ctx context.Context, e node.Entry, where string) error {
	w := where + e.Name
	switch e.Kind {
	case node.KindNode:
		return f.tree(ctx, e.Hash, w+"/")
	case node.KindInline: // held in the node, checked with it
		f.rep.Contents++
		return nil
	}
	if f.seen[e.Hash] {
		return nil
	}
	f.seen[e.Hash] = true
	if _, err := contents.Get(ctx, f.kv.store, e.Hash); err != nil {
		return f.problem(e.Hash, "contents", w, err)
	}
	f.rep.Contents++
	return nil
}
