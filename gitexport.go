package strata

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/exchange/gitstream"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// ExportGit writes a `git fast-import` stream of the history of the
// named branches and tags (every branch and every tag if names is empty;
// a name is looked up as a branch first, then as a tag) to w. The stream
// holds every commit reachable from them, parents before children (by
// height), with its parents (a merge's as `merge`), its author ("Name
// <email>" is split, any other author becomes "author <>"), its time (in
// UTC) as author and committer time, and its message; each commit's
// changes from its first parent as files of mode 100644 (every value's
// bytes, whatever its kind), each distinct value written once as a marked
// blob; and at the end every branch as refs/heads/NAME and every tag as
// a lightweight refs/tags/NAME. A commit whose parents a shallow clone
// left out is written without them. A name that is neither a branch nor
// a tag is an error wrapping ErrNotFound. `git fast-import` reads the
// stream into a repository.
func (kv *KV) ExportGit(ctx context.Context, w io.Writer, names ...string) error {
	if err := kv.alive(); err != nil {
		return err
	}
	heads, err := kv.exportRefs(ctx, names)
	if err != nil {
		return err
	}
	shallow, err := kv.shallowSet(ctx)
	if err != nil {
		return err
	}
	// Every reachable commit, each with the first ref that reaches it.
	type node1 struct {
		hash Hash
		c    *commit.Commit
		ref  string
	}
	seen := map[Hash]*node1{}
	var all []*node1
	for _, h := range heads {
		stack := []Hash{h.hash}
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[x] != nil {
				continue
			}
			c, err := commit.Load(ctx, kv.store, kv.nodes, x)
			if err != nil {
				return fmt.Errorf("export %s: %w", h.ref, err)
			}
			n := &node1{hash: x, c: c, ref: h.ref}
			seen[x] = n
			all = append(all, n)
			if !shallow[x] {
				stack = append(stack, c.Parents...)
			}
		}
	}
	slices.SortFunc(all, func(a, b *node1) int {
		return cmp.Or(cmp.Compare(a.c.Height, b.c.Height), cmp.Compare(a.c.Time, b.c.Time), a.hash.Compare(b.hash))
	})
	sw := gitstream.NewWriter(w)
	marks := map[Hash]int{} // commits and contents objects written
	next := 0
	mark := func(h Hash) int { next++; marks[h] = next; return next }
	for _, n := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		var parents []string
		base := Hash{}
		if !shallow[n.hash] {
			for i, p := range n.c.Parents {
				parents = append(parents, fmt.Sprintf(":%d", marks[p]))
				if i == 0 {
					base = seen[p].c.Tree
				}
			}
		}
		changes, err := tree.Diff(ctx, kv.nodes, base, n.c.Tree)
		if err != nil {
			return fmt.Errorf("export commit %s: %w", n.hash.Short(), err)
		}
		// Deletions first: a value that became a directory (or the other
		// way round) must be gone before its replacement is written.
		ops := make([]gitstream.FileOp, 0, len(changes))
		for _, ch := range changes {
			if ch.Op == tree.Removed {
				ops = append(ops, gitstream.FileOp{Op: 'D', Path: ch.Path})
			}
		}
		for _, ch := range changes {
			if ch.Op == tree.Removed {
				continue
			}
			op := gitstream.FileOp{Op: 'M', Mode: "100644", Path: ch.Path}
			m, written := marks[ch.New.Hash]
			if ch.New.Kind == node.KindInline || !written {
				data, err := tree.Bytes(ctx, kv.store, ch.New, ch.Path)
				if err != nil {
					return fmt.Errorf("export commit %s: %w", n.hash.Short(), err)
				}
				if ch.New.Kind == node.KindInline {
					op.DataRef, op.Data = "inline", data
					ops = append(ops, op)
					continue
				}
				m = mark(ch.New.Hash)
				if err := sw.Blob(&gitstream.Blob{Mark: m, Data: data}); err != nil {
					return err
				}
			}
			op.DataRef = fmt.Sprintf(":%d", m)
			ops = append(ops, op)
		}
		name, email := splitAuthor(n.c.Author)
		id := gitstream.Ident{Name: name, Email: email, When: floorDiv(n.c.Time, 1e9), TZ: "+0000"}
		gc := &gitstream.Commit{Ref: n.ref, Mark: mark(n.hash), Author: &id, Committer: id, Message: []byte(n.c.Message), Ops: ops}
		if len(parents) == 0 {
			// A root commit: without a reset, fast-import would parent it
			// on the ref's tip.
			if err := sw.Reset(&gitstream.Reset{Ref: n.ref}); err != nil {
				return err
			}
		} else {
			gc.From, gc.Merges = parents[0], parents[1:]
		}
		if err := sw.Commit(gc); err != nil {
			return err
		}
	}
	for _, h := range heads {
		if err := sw.Reset(&gitstream.Reset{Ref: h.ref, From: fmt.Sprintf(":%d", marks[h.hash])}); err != nil {
			return err
		}
	}
	return sw.Flush()
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

type exportHead struct {
	ref  string // refs/heads/NAME or refs/tags/NAME
	hash Hash
}

// exportRefs returns the heads ExportGit writes, branches first.
func (kv *KV) exportRefs(ctx context.Context, names []string) ([]exportHead, error) {
	bs, err := kv.Branches(ctx)
	if err != nil {
		return nil, err
	}
	ts, err := kv.Tags(ctx)
	if err != nil {
		return nil, err
	}
	var out []exportHead
	if len(names) == 0 {
		for _, b := range bs {
			out = append(out, exportHead{"refs/heads/" + b.Name, b.Head})
		}
		for _, t := range ts {
			out = append(out, exportHead{"refs/tags/" + t.Name, t.Commit})
		}
		return out, nil
	}
	for _, n := range names {
		i := slices.IndexFunc(bs, func(b BranchInfo) bool { return b.Name == n })
		if i >= 0 {
			out = append(out, exportHead{"refs/heads/" + n, bs[i].Head})
			continue
		}
		j := slices.IndexFunc(ts, func(t TagInfo) bool { return t.Name == n })
		if j < 0 {
			return nil, fmt.Errorf("export %q: %w: no branch or tag of that name", n, ErrNotFound)
		}
		out = append(out, exportHead{"refs/tags/" + n, ts[j].Commit})
	}
	return out, nil
}
