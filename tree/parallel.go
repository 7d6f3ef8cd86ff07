package tree

import (
	"context"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/stratakv/strata/node"
)

// Bulk writes (a load of many keys, a large new directory) encode and hash
// independent subtrees on several goroutines: each subtree gets its own
// writer, and the parent takes its objects over, in the order the subtrees
// come, before building on them. The objects and hashes are those a serial
// write makes. Small writes (a commit of a few keys) stay on the caller's
// goroutine.

// parallelism is the most goroutines one write uses (tests lower it to
// compare with a serial write).
var parallelism = runtime.GOMAXPROCS(0)

// Work below these sizes is not worth a goroutine: a subtree of fewer
// entries (build), or a directory with fewer changed children (flush).
// Small subtrees or subdirectories next to each other are handed to one
// goroutine together, in batches of about parMinEntries entries or
// changes, so that a write of many small directories does not start a
// goroutine (and a writer) for each.
const (
	parMinEntries = 4 * 256
	parMinKids    = 16
)

// batches splits [0, n) into consecutive ranges of at least min total
// size (the last one may be smaller), size(i) being the size of item i;
// it returns the end of each range.
func batches(n, min int, size func(i int) int) []int {
	var ends []int
	sum := 0
	for i := 0; i < n; i++ {
		if sum += size(i); sum >= min {
			ends, sum = append(ends, i+1), 0
		}
	}
	if sum > 0 {
		ends = append(ends, n)
	}
	return ends
}

// pool hands out the extra goroutines of one write.
type pool struct{ tokens chan struct{} }

// each calls fn(i, w) for i in [0, n), each on its own writer over w's
// store, running calls on other goroutines while the pool has room and on
// the caller's otherwise; then w takes over the writers' objects in the
// order of i. It returns the error of the smallest i that failed.
// objects(i), if not nil, is the fewest objects call i makes: its writer
// is made with room for them.
func (w *writer) each(n int, objects func(i int) int, fn func(i int, w *writer) error) error {
	if w.pool == nil { // the first parallel step of this write
		w.pool = &pool{tokens: make(chan struct{}, max(parallelism-1, 0))}
	}
	subs := make([]*writer, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		subs[i] = &writer{st: w.st, pool: w.pool}
		if objects != nil {
			subs[i].reserve(objects(i))
		}
		select {
		case w.pool.tokens <- struct{}{}:
			wg.Add(1)
			go func(i int) {
				defer func() { <-w.pool.tokens; wg.Done() }()
				errs[i] = fn(i, subs[i])
			}(i)
		default:
			errs[i] = fn(i, subs[i])
		}
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	if len(w.pending) == 0 { // w takes the first writer's lists whole
		w.absorb(subs[0])
		subs = subs[1:]
	}
	more := 0
	for _, s := range subs {
		more += len(s.pending)
	}
	// Room too for the objects the caller then makes over them (the
	// leaves and index of the directory above, about one per hundred):
	// grown by a quarter for those, a long list would be copied again.
	w.reserve(more + (len(w.pending)+more)/16 + 16)
	for _, s := range subs {
		w.absorb(s)
	}
	return nil
}

// reserve makes room in w for n more pending objects, so that pushing
// them grows neither the list nor its index (grown one object at a time,
// both are copied, and rehashed, again and again).
func (w *writer) reserve(n int) {
	if n <= 0 {
		return
	}
	total := len(w.pending) + n
	w.pending = slices.Grow(w.pending, n)
	if total <= smallWriter || w.byHash != nil && len(w.byHash) >= total/2 {
		return // a map grows (doubles) once at most
	}
	m := make(map[uint64]int32, total)
	if w.byHash == nil {
		w.byHash = m
		for i := range w.pending {
			w.indexHash(w.pending[i].obj.Hash, i)
		}
		return
	}
	for k, i := range w.byHash {
		m[k] = i
	}
	w.byHash = m
}

// absorb takes over the pending objects of s, in s's order.
func (w *writer) absorb(s *writer) {
	if len(w.pending) == 0 { // nothing to deduplicate against: take s's lists
		w.pending, w.byHash, w.clashes = s.pending, s.byHash, s.clashes
		return
	}
	for i := range s.pending {
		if w.get(s.pending[i].obj.Hash) == nil {
			w.push(s.pending[i])
		}
	}
}

// buildGroups builds the subtrees of es (entries sorted by name, longer
// than their common prefix p), one per byte after p, in parallel, and
// returns them as index children.
func (w *writer) buildGroups(ctx context.Context, p string, es []node.Entry) ([]node.Child, error) {
	build := func(ctx context.Context, w *writer, es []node.Entry) (ref, error) { return w.build(ctx, es) }
	return buildGroupsOf(ctx, w, p, es, func(e *node.Entry) string { return e.Name }, build)
}

// buildGroupsOf is buildGroups of any sorted items with names: it builds
// each group of xs (one per byte after p) with build, in parallel.
func buildGroupsOf[T any](ctx context.Context, w *writer, p string, xs []T, name func(*T) string, build func(context.Context, *writer, []T) (ref, error)) ([]node.Child, error) {
	var children []node.Child
	var groups [][]T
	for len(xs) > 0 {
		b := name(&xs[0])[len(p)]
		j := sort.Search(len(xs), func(i int) bool { return name(&xs[i])[len(p)] > b })
		children = append(children, node.Child{Byte: b})
		groups = append(groups, xs[:j])
		xs = xs[j:]
	}
	ends := batches(len(groups), parMinEntries, func(i int) int { return len(groups[i]) })
	err := w.each(len(ends), nil, func(k int, w *writer) error {
		i := 0
		if k > 0 {
			i = ends[k-1]
		}
		for ; i < ends[k]; i++ {
			r, err := build(ctx, w, groups[i])
			if err != nil {
				return err
			}
			children[i].Count, children[i].Hash = uint64(r.count), r.hash
		}
		return nil
	})
	return children, err
}

// smallDir is the most entries buildValues makes on the stack (a leaf:
// at most node.MaxEntries).
const smallDir = 8

// entryBufs holds the buffers in which Builder.flush and buildValues make
// the entries of a new directory for writer.build (which does not keep
// them): a bulk load builds many directories, on many short-lived writers.
var entryBufs = sync.Pool{New: func() any { return new(entryBuf) }}

type entryBuf struct{ es []node.Entry }

// getEntries returns an empty buffer with room for n entries.
func getEntries(n int) *entryBuf {
	b := entryBufs.Get().(*entryBuf)
	b.es = slices.Grow(b.es[:0], n)
	return b
}

// maxPooledEntries is the largest buffer putEntries keeps: a bigger one
// (a directory of a million entries is about 80 MB) is left to the
// collector rather than held by the pool.
const maxPooledEntries = 1 << 16

// putEntries clears b (its entries refer to values) and keeps it for
// reuse, unless it is bigger than maxPooledEntries.
func putEntries(b *entryBuf) {
	if cap(b.es) > maxPooledEntries {
		return
	}
	clear(b.es)
	b.es = b.es[:0]
	entryBufs.Put(b)
}

// buildValues builds a new directory whose changes (kids, sorted by name)
// are all values, as writer.build builds their entries, but makes the
// entries of one group of about parMinEntries at a time, on the group's
// writer: a directory of a million keys neither holds a million entries
// at once nor makes them on one goroutine; those of a directory of at
// most smallDir values are made on the stack. The objects are those build
// makes (the same with any parallelism, in the same order).
func (b *Builder) buildValues(ctx context.Context, w *writer, kids []*change) (ref, error) {
	if len(kids) <= smallDir { // one of many small directories: entries on the stack
		var small [smallDir]node.Entry
		es := small[:0]
		for _, c := range kids {
			es = append(es, w.valueEntry(c))
		}
		return w.leaf(es)
	}
	if len(kids) < parMinEntries {
		buf := getEntries(len(kids))
		defer putEntries(buf)
		for _, c := range kids {
			buf.es = append(buf.es, w.valueEntry(c))
		}
		return w.build(ctx, buf.es)
	}
	p := lcp(kids[0].name, kids[len(kids)-1].name)
	var self *node.Entry
	if kids[0].name == p {
		e := w.valueEntry(kids[0]) // the index keeps it
		self, kids = &e, kids[1:]
	}
	children, err := buildGroupsOf(ctx, w, p, kids, func(c **change) string { return (*c).name }, b.buildValues)
	if err != nil {
		return ref{}, err
	}
	return w.index(ctx, p, self, children)
}

// flushKids flushes the changed subdirectories among kids in parallel if
// there are at least parMinKids of them, returning their refs in order,
// or returns nil (the caller flushes them itself).
func (b *Builder) flushKids(ctx context.Context, w *writer, kids []*change) ([]ref, error) {
	n := 0
	for _, c := range kids {
		if c.subdir() {
			n++
		}
	}
	if n < parMinKids {
		return nil, nil
	}
	subs := make([]int, 0, n) // indexes in kids
	for i, c := range kids {
		if c.subdir() {
			subs = append(subs, i)
		}
	}
	// A subdirectory's size is the changes in its whole subtree, so that
	// a few directories with many changes deep below each still get a
	// goroutine of their own.
	ends := batches(len(subs), parMinEntries, func(i int) int { return kids[subs[i]].dir.changes() })
	if len(ends) < 2 {
		return nil, nil
	}
	refs := make([]ref, len(subs))
	dirs := func(k int) int { // each subdirectory is at least one object
		if k == 0 {
			return ends[0]
		}
		return ends[k] - ends[k-1]
	}
	err := w.each(len(ends), dirs, func(k int, w *writer) (err error) {
		i := 0
		if k > 0 {
			i = ends[k-1]
		}
		for ; i < ends[k]; i++ {
			if refs[i], err = b.flush(ctx, w, kids[subs[i]].dir); err != nil {
				return err
			}
		}
		return nil
	})
	return refs, err
}

// changes returns 1 plus the number of change records in d's subtree. It
// visits d's changed subdirectories, not its changed values.
func (d *mdir) changes() int {
	n := 1 + len(d.order)
	for _, c := range d.order {
		if c.subdir() {
			n += c.dir.changes()
		}
	}
	return n
}
