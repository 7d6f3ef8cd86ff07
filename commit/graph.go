package commit

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/internal/codec"
)

// RunLen is the length of a commit-graph run: a run starts at a commit
// whose height is a multiple of RunLen and lists it and up to RunLen-1 of
// its first-parent ancestors.
const RunLen = 64

// GraphRefPrefix starts the name of every commit-graph ref: GraphRefPrefix
// followed by the hex hash of a commit names its run.
const GraphRefPrefix = "graph/"

// GraphEntry is what a commit-graph run records of one commit: all a
// history search needs, without reading the commit itself.
type GraphEntry struct {
	Commit  backend.Hash
	Height  uint64
	Parents []backend.Hash
}

// EncodeRun encodes a commit-graph run (see docs/FORMAT.md):
// [tag=5, version, [[commit bin32, height uint64, [parent bin32...]]...]].
// The result is a fresh slice the caller owns.
func EncodeRun(es []GraphEntry) []byte {
	size := codec.SizeHeader(1) + codec.SizeArrayLen(len(es))
	for i := range es {
		size += codec.SizeArrayLen(3) + codec.SizeHash + codec.SizeUint64 +
			codec.SizeArrayLen(len(es[i].Parents)) + len(es[i].Parents)*codec.SizeHash
	}
	b := make([]byte, 0, size)
	b = codec.AppendHeader(b, codec.TagGraph, 1)
	b = codec.AppendArrayLen(b, len(es))
	for i := range es {
		en := &es[i]
		b = codec.AppendArrayLen(b, 3)
		b = codec.AppendHash(b, &en.Commit)
		b = codec.AppendUint64(b, en.Height)
		b = codec.AppendArrayLen(b, len(en.Parents))
		for j := range en.Parents {
			b = codec.AppendHash(b, &en.Parents[j])
		}
	}
	return b
}

// DecodeRun decodes an encoded commit-graph run and checks its shape: at
// least one entry, each entry after the first is the first parent of the
// one before, and every entry is higher than each of its parents could be
// (height at least 1, first-parent heights strictly decreasing). Any
// failure wraps backend.ErrCorrupt.
func DecodeRun(b []byte) ([]GraphEntry, error) {
	var es []GraphEntry
	err := codec.Decode(b, codec.TagGraph, 1, func(r *codec.Reader) error {
		n, err := r.ArrayLen("entries", 1+2+backend.HashSize+2)
		if err != nil {
			return err
		}
		if n == 0 || n > RunLen {
			return codec.Corruptf(codec.TagGraph, "%d entries, want 1 to %d", n, RunLen)
		}
		es = make([]GraphEntry, n)
		for i := range es {
			if m, err := r.ArrayLen("entry", 1); err != nil {
				return err
			} else if m != 3 {
				return codec.Corruptf(codec.TagGraph, "entry %d has %d fields, want 3", i, m)
			}
			e := &es[i]
			if e.Commit, err = r.Hash("commit"); err != nil {
				return err
			}
			if e.Height, err = r.Uint64("height"); err != nil {
				return err
			}
			np, err := r.ArrayLen("parents", 2+backend.HashSize)
			if err != nil {
				return err
			}
			if np > 0 {
				e.Parents = make([]backend.Hash, np)
			}
			for j := range e.Parents {
				if e.Parents[j], err = r.Hash("parent"); err != nil {
					return err
				}
			}
			if e.Height == 0 {
				return codec.Corruptf(codec.TagGraph, "entry %d has height 0", i)
			}
			if i > 0 {
				prev := es[i-1]
				if len(prev.Parents) == 0 || prev.Parents[0] != e.Commit || e.Height >= prev.Height {
					return codec.Corruptf(codec.TagGraph, "entry %d is not the first parent of entry %d", i, i-1)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return es, nil
}

// graph is the commit graph as one history search sees it: commits it has
// read and entries of the commit-graph runs it has found. A graph is used
// by one goroutine.
type graph struct {
	s     backend.ObjectStore
	refs  backend.RefStore // nil: no commit-graph runs
	c     Cache
	known map[backend.Hash]*GraphEntry
	runs  map[backend.Hash]bool // commits whose run has been read
	// consume makes entry forget what it returns, for a caller that asks
	// for each commit once: known then holds only the unvisited part of
	// the runs read.
	consume bool
}

func newGraph(s backend.ObjectStore, c Cache) *graph {
	g := &graph{s: s, c: c, known: map[backend.Hash]*GraphEntry{}, runs: map[backend.Hash]bool{}}
	g.refs, _ = s.(backend.RefStore)
	return g
}

// entry returns the height and parents of commit h: from a run already
// read, or by loading h (which it reports by loaded). When it loads a
// commit at the start of a run, it reads the run, so that the next RunLen-1
// commits along the first-parent chain cost nothing. A missing, damaged or
// inconsistent run is ignored: runs only save reads.
func (g *graph) entry(ctx context.Context, h backend.Hash) (e GraphEntry, loaded bool, err error) {
	if e, ok := g.known[h]; ok {
		if g.consume {
			delete(g.known, h)
		}
		return *e, false, nil
	}
	cm, err := Load(ctx, g.s, g.c, h)
	if err != nil {
		return GraphEntry{}, false, err
	}
	e = GraphEntry{Commit: h, Height: cm.Height, Parents: cm.Parents}
	if !g.consume {
		k := e // a copy, so that e itself stays off the heap
		g.known[h] = &k
	}
	if g.refs != nil && cm.Height%RunLen == 0 {
		if err := g.readRun(ctx, e); err != nil && ctx.Err() != nil {
			return GraphEntry{}, false, ctx.Err()
		}
	}
	return e, true, nil
}

// errBadRun reports a run that does not describe the commit its ref names.
var errBadRun = errors.New("commit-graph run does not match its commit")

// readRun reads the run that starts at commit e, checks that it agrees with
// e, and adds its entries to g.known.
func (g *graph) readRun(ctx context.Context, e GraphEntry) error {
	rh, err := g.refs.GetRef(ctx, GraphRefPrefix+e.Commit.String())
	if err != nil {
		return err
	}
	return g.readRunAt(ctx, e, rh)
}

// readRunAt is readRun of the run object rh, which e's ref names.
func (g *graph) readRunAt(ctx context.Context, e GraphEntry, rh backend.Hash) error {
	b, err := codec.Read(ctx, g.s, rh)
	if err != nil {
		return err
	}
	es, err := DecodeRun(b)
	if err != nil {
		return err
	}
	if es[0].Commit != e.Commit || es[0].Height != e.Height || !sameHashes(es[0].Parents, e.Parents) {
		return errBadRun
	}
	for i := range es[1:] {
		x := &es[1+i]
		if _, ok := g.known[x.Commit]; !ok {
			g.known[x.Commit] = x
		}
	}
	g.runs[e.Commit] = true
	return nil
}

func sameHashes(a, b []backend.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// WriteGraph writes the commit-graph runs missing for the history of
// heads: for every commit reachable from heads whose height is a multiple
// of RunLen, a run object listing it and its next RunLen-1 first-parent
// ancestors (height and parents of each), and the ref GraphRefPrefix+hash
// naming that run. It returns how many runs it wrote. Runs already written
// are read, not rewritten, so a second call reads about one object per
// RunLen commits.
//
// Runs are derived data: a history search that finds none, or a damaged
// one, reads the commits instead. WriteGraph is safe to run concurrently
// with writers and with itself (a run written twice is the same object; a
// ref another process created first is left alone). A missing or corrupt
// commit returns the error of Load. Commits in shallow (a shallow
// clone's cut, whose parents are absent by design) end the walk, and no
// run is written that would reach one.
func WriteGraph(ctx context.Context, s backend.Store, c Cache, heads []backend.Hash, shallow map[backend.Hash]bool) (int, error) {
	g := newGraph(s, c)
	seen := map[backend.Hash]bool{}
	stack := append([]backend.Hash(nil), heads...)
	written := 0
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return written, err
		}
		h := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[h] {
			continue
		}
		seen[h] = true
		e, loaded, err := g.entry(ctx, h)
		if err != nil {
			return written, err
		}
		if e.Height%RunLen == 0 && !g.runs[h] && (loaded || g.readRun(ctx, e) != nil) {
			ok, err := g.writeRun(ctx, s, e, shallow, false)
			if err != nil {
				return written, err
			}
			if ok {
				written++
			}
		}
		if !shallow[h] {
			stack = append(stack, e.Parents...)
		}
	}
	return written, nil
}

// WriteRun writes the commit-graph run that starts at commit h, if h's
// height is a multiple of RunLen and its run is missing or damaged, and
// reports whether it wrote one. It is WriteGraph for the one run a new
// commit adds, reading the RunLen-1 first-parent ancestors it lists (from
// c when they are cached) and not the rest of the history. Shallow, run
// ref races and damaged refs are handled as WriteGraph does; a missing
// ancestor returns the error of Load and writes nothing. A nil shallow
// checks no cuts: a run past one then fails at the cut's absent parent.
func WriteRun(ctx context.Context, s backend.Store, c Cache, h backend.Hash, shallow map[backend.Hash]bool) (bool, error) {
	cm, err := Load(ctx, s, c, h)
	if err != nil || cm.Height%RunLen != 0 {
		return false, err
	}
	g := newGraph(s, c)
	g.consume = true // each ancestor is asked for once
	return g.writeRun(ctx, s, GraphEntry{Commit: h, Height: cm.Height, Parents: cm.Parents}, shallow, true)
}

// writeRun builds the run starting at e, stores it and points its ref at
// it (replacing a damaged ref's value; leaving a concurrent writer's).
// A ref whose value is damaged is left alone (searches ignore it; repair
// it with the ref store's repair tools), and so reported by false. With
// check, a run the ref already names that agrees with e is kept, and
// reported by false; without, the caller has found none.
func (g *graph) writeRun(ctx context.Context, s backend.Store, e GraphEntry, shallow map[backend.Hash]bool, check bool) (bool, error) {
	name := GraphRefPrefix + e.Commit.String()
	old, err := s.GetRef(ctx, name)
	switch {
	case errors.Is(err, backend.ErrNotFound):
		old = backend.Hash{}
	case errors.Is(err, backend.ErrCorrupt):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("commit-graph ref of %s: %w", e.Commit.Short(), err)
	case check && g.readRunAt(ctx, e, old) == nil:
		return false, nil
	}
	es := make([]GraphEntry, 1, RunLen)
	es[0] = e
	for len(es) < RunLen && len(es[len(es)-1].Parents) > 0 {
		if shallow[es[len(es)-1].Commit] {
			return false, nil // a run past a cut would list absent commits
		}
		p, _, err := g.entry(ctx, es[len(es)-1].Parents[0])
		if err != nil {
			return false, err
		}
		es = append(es, p)
	}
	b := EncodeRun(es)
	o := backend.Object{Hash: codec.Sum(b), Data: b}
	// One atomic write (one sync on a durable backend) for the run and
	// its ref; b is fresh and never written again, so it is handed over.
	if err := backend.PutOwnedAndSwapRef(ctx, s, []backend.Object{o}, name, old, o.Hash); err != nil {
		if errors.Is(err, backend.ErrConflict) {
			return false, nil // another writer got there first
		}
		return false, fmt.Errorf("commit-graph run of %s: %w", e.Commit.Short(), err)
	}
	g.runs[e.Commit] = true
	return true, nil
}
