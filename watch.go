package strata

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/branch"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// Event reports that a branch moved, and what changed.
type Event struct {
	Branch string
	// Old is the head before the change (zero: the branch was created) and
	// New the head after it (zero: the branch was deleted). New is the
	// commit the event reports: pass the last non-zero New a watcher saw
	// to WatchSince to resume after it (or, if its last event deleted the
	// branch, use WatchSinceAbsent).
	Old, New Hash
	// Changes are the values that differ between Old's tree and New's
	// (only those at or under the WatchPrefix path, if one was given),
	// sorted by path bytes.
	Changes []Change
	// Err is set, on the last event before the channel closes, if watching
	// failed (for example the store became unreachable); it is nil when the
	// channel closes because ctx is done.
	Err error
}

// WatchOption selects what Watch reports: WatchPrefix, WatchSince.
type WatchOption interface{ applyWatch(*watchOptions) }

type watchOption func(*watchOptions)

func (f watchOption) applyWatch(o *watchOptions) { f(o) }

type watchOptions struct {
	prefix   string // checked, without leading or trailing "/"; "" for all
	since    Hash
	hasSince bool
	err      error // the first bad option
}

// WatchPrefix limits each event's Changes to the values at or under path
// ("" or "/": everything). Every head move is still delivered, with empty
// Changes if it changed nothing under path, so that Event.New always
// follows the head and can be passed to WatchSince. A bad path makes Watch
// return an error wrapping ErrInvalidPath.
func WatchPrefix(path string) WatchOption {
	return watchOption(func(o *watchOptions) {
		p, err := tree.CheckPath(path)
		if err != nil && o.err == nil {
			o.err = err
		}
		o.prefix = p
	})
}

// WatchSince makes Watch first deliver the head moves the caller missed
// since commit since (typically the New of the last event it saw), then
// the live ones, with no gap and no duplicate between the two. Head moves
// are not stored, so the missed moves are defined from the history: if
// since is on the first-parent chain of the current head, one event per
// commit on that chain after since, oldest first, each with Old = its
// first parent and New = the commit; otherwise (the branch was reset or
// force-moved away from since, or since is only a second parent's
// ancestor, or history below is shallow) a single event from since to the
// head (Old = since), or to zero if the branch no longer exists. If since
// is the head, nothing is caught up. A zero since is no option. Watch
// returns an error wrapping ErrNotFound if since is not a commit in the
// store.
func WatchSince(since Hash) WatchOption {
	return watchOption(func(o *watchOptions) {
		o.since, o.hasSince = since, !since.IsZero()
	})
}

// WatchSinceAbsent makes Watch first deliver what a caller missed since it
// last saw the branch absent (its last event was the branch's deletion,
// New zero): if the branch exists, one event from zero to its head (its
// Changes all of its values), else nothing; then the live moves, with no
// gap and no duplicate. It is WatchSince for a caller whose last New was
// zero, and replaces any WatchSince before it.
func WatchSinceAbsent() WatchOption {
	return watchOption(func(o *watchOptions) {
		o.since, o.hasSince = Hash{}, true
	})
}

// maxSkipWalk bounds the first-parent walk that recognises the moves a
// watch subscription saw before it read the head (see Watch).
const maxSkipWalk = 1024

// Watch reports every move of branch — made by this process or, on a
// shared backend such as Redis, by any other — as an Event with the diff it
// made, in order, until ctx is done; then it closes the channel. If the
// backend had to drop notifications because the reader fell behind (it
// then ends its subscription, see backend.RefWatcher), Watch subscribes
// again, reads the head, and the next event covers the gap: its Old is the
// last head reported, its New the head read and its Changes the whole
// difference, so applying every event in order always reproduces the
// branch (or the part under WatchPrefix), the last move included. If
// subscribing again or reading the head fails, a last event carries the
// error. With WatchSince
// it first delivers the moves missed since that commit. It returns an
// error if the backend cannot watch, if an option is bad, or if the
// WatchSince commit is unknown.
func (kv *KV) Watch(ctx context.Context, name string, opts ...WatchOption) (<-chan Event, error) {
	if err := kv.alive(); err != nil {
		return nil, err
	}
	if err := branch.ValidateName(name); err != nil {
		return nil, err
	}
	var o watchOptions
	for _, f := range opts {
		f.applyWatch(&o)
	}
	if o.err != nil {
		return nil, fmt.Errorf("watch branch %q: %w", name, o.err)
	}
	w, ok := kv.store.(backend.RefWatcher)
	if !ok {
		return nil, fmt.Errorf("watch branch %q: this backend cannot report changes", name)
	}
	if o.hasSince && !o.since.IsZero() {
		if _, err := kv.loadCommit(ctx, o.since); err != nil {
			if errors.Is(err, ErrMissing) {
				err = fmt.Errorf("%w: commit %s", ErrNotFound, o.since)
			}
			return nil, fmt.Errorf("watch branch %q since %s: %w", name, o.since.Short(), err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	src, err := w.WatchRefs(ctx, branch.RefPrefix+name)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("watch branch %q: %w", name, err)
	}
	// Read the head after subscribing, so no move falls between the two.
	last, err := kv.branches.Head(ctx, name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		cancel()
		return nil, err
	}
	var catchUp [][2]Hash // the missed moves, oldest first
	if o.hasSince {
		if catchUp, err = kv.missedMoves(ctx, o.since, last); err != nil {
			cancel()
			return nil, fmt.Errorf("watch branch %q since %s: %w", name, o.since.Short(), err)
		}
	}
	out := make(chan Event, 64)
	go func() {
		defer cancel()
		defer close(out)
		send := func(old, new Hash) bool {
			e := Event{Branch: name, Old: old, New: new}
			e.Changes, e.Err = kv.diffHeads(ctx, old, new, o.prefix)
			if e.Err != nil && ctx.Err() != nil {
				return false
			}
			select {
			case out <- e:
			case <-ctx.Done():
				return false
			}
			return e.Err == nil
		}
		for _, m := range catchUp {
			if !send(m[0], m[1]) {
				return
			}
		}
		fail := func(err error) {
			if ctx.Err() != nil || errors.Is(err, ErrClosed) {
				return // ctx is done, or the store was closed
			}
			select {
			case out <- Event{Branch: name, Err: fmt.Errorf("watch branch %q: %w", name, err)}:
			case <-ctx.Done():
			}
		}
		var pause time.Duration // before subscribing again
		for {
			// The subscription may hold moves made between subscribing
			// and reading the head: a chain ending at the head read.
			// Until the first live move (whose Old is that head), a move
			// to the head or to one of its recent first-parent ancestors
			// is one of those, and is skipped.
			live, got := false, false
			for ev := range src {
				got = true
				if ev.Name != branch.RefPrefix+name || ev.New == last {
					continue
				}
				if !live && ev.Old != last && kv.isFirstParentAncestor(ctx, ev.New, last) {
					continue
				}
				live = true
				if !send(last, ev.New) {
					return
				}
				last = ev.New
			}
			if ctx.Err() != nil {
				return
			}
			// The subscription ended with ctx still on: the backend
			// dropped notifications because this reader fell behind (or
			// its stream broke). Subscribe again, read the head, and
			// cover whatever was missed with one event from the last
			// head sent. A subscription that ended before delivering
			// anything (a server shutting down) is retried after a
			// growing pause, not at once.
			if got {
				pause = 0
			} else {
				pause = min(max(2*pause, 10*time.Millisecond), time.Second)
				select {
				case <-time.After(pause):
				case <-ctx.Done():
					return
				}
			}
			next, err := w.WatchRefs(ctx, branch.RefPrefix+name)
			if err != nil {
				fail(err)
				return
			}
			src = next
			head, err := kv.branches.Head(ctx, name)
			if err != nil && !errors.Is(err, ErrNotFound) {
				fail(err)
				return
			}
			if head != last {
				if !send(last, head) {
					return
				}
				last = head
			}
		}
	}()
	return out, nil
}

// missedMoves returns the head moves from since to head, oldest first, as
// WatchSince defines them.
func (kv *KV) missedMoves(ctx context.Context, since, head Hash) ([][2]Hash, error) {
	if since == head {
		return nil, nil
	}
	if head.IsZero() || since.IsZero() {
		return [][2]Hash{{since, head}}, nil
	}
	sc, err := kv.loadCommit(ctx, since)
	if err != nil {
		return nil, err
	}
	shallow, err := kv.shallowSet(ctx)
	if err != nil {
		return nil, err
	}
	var chain [][2]Hash // newest first
	for cur := head; cur != since; {
		c, err := kv.loadCommit(ctx, cur)
		if err != nil {
			return nil, err
		}
		if c.Height <= sc.Height || len(c.Parents) == 0 || shallow[cur] {
			return [][2]Hash{{since, head}}, nil // not on the first-parent chain
		}
		chain = append(chain, [2]Hash{c.Parents[0], cur})
		cur = c.Parents[0]
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain, nil
}

// isFirstParentAncestor reports whether a is b or one of its first-parent
// ancestors at most maxSkipWalk generations below it. Errors (a missing or
// shallow parent) answer false.
func (kv *KV) isFirstParentAncestor(ctx context.Context, a, b Hash) bool {
	if a.IsZero() || b.IsZero() {
		return false
	}
	ac, err := kv.loadCommit(ctx, a)
	if err != nil {
		return false
	}
	for i := 0; i <= maxSkipWalk; i++ {
		if b == a {
			return true
		}
		c, err := kv.loadCommit(ctx, b)
		if err != nil || c.Height <= ac.Height || len(c.Parents) == 0 {
			return false
		}
		b = c.Parents[0]
	}
	return false
}

// diffHeads diffs the trees of two commits (zero: the empty tree), keeping
// only the changes at or under prefix ("" for all).
func (kv *KV) diffHeads(ctx context.Context, a, b Hash, prefix string) ([]Change, error) {
	tree := func(h Hash) (Hash, error) {
		if h.IsZero() {
			return node.Empty, nil
		}
		c, err := commit.Load(ctx, kv.store, kv.nodes, h)
		if err != nil {
			return Hash{}, err
		}
		return c.Tree, nil
	}
	ta, err := tree(a)
	if err != nil {
		return nil, err
	}
	tb, err := tree(b)
	if err != nil {
		return nil, err
	}
	return kv.diffTreesUnder(ctx, ta, tb, prefix, 0)
}
