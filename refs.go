package strata

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/stratakv/strata/backend"
)

// The ref-store namespaces beside branches ("heads/", package branch);
// docs/FORMAT.md describes them. Every one maps a name to a hash.
const (
	tagPrefix     = "tags/"        // tags/NAME -> a commit
	trackPrefix   = "remotes/"     // remotes/REMOTE/BRANCH -> a commit
	remotePrefix  = "remote-urls/" // remote-urls/REMOTE -> a raw contents object holding the URL
	shallowPrefix = "shallow/"     // shallow/HEX -> that commit, whose parents are absent by design
)

// CorruptRefsError is returned (with the readable refs) by Tags and
// Remotes when some refs hold something other than a hash. It names
// them and wraps ErrCorrupt; DeleteTag and RemoveRemote remove them.
type CorruptRefsError struct {
	Kind  string   // "tag", "remote" or "remote-tracking ref"
	Names []string // the damaged refs, without their namespace, sorted
	Err   error    // what reading the first of them returned
}

func (e *CorruptRefsError) Error() string {
	what := e.Kind
	if len(e.Names) > 1 {
		what += "s"
	}
	q := make([]string, len(e.Names))
	for i, n := range e.Names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return fmt.Sprintf("corrupt %s %s: %v", what, strings.Join(q, ", "), e.Err)
}

func (e *CorruptRefsError) Unwrap() error { return ErrCorrupt }

// listRefs returns the refs under prefix, sorted, with prefix cut from
// their names. If some refs are damaged and the backend can tell them
// apart (backend.RefRepairer), it returns the readable ones together with
// a *CorruptRefsError of kind naming the damaged ones.
func (kv *KV) listRefs(ctx context.Context, prefix, kind string) ([]backend.Ref, error) {
	refs, err := kv.store.ListRefs(ctx, prefix)
	if err == nil {
		for i := range refs {
			refs[i].Name = strings.TrimPrefix(refs[i].Name, prefix)
		}
		return refs, nil
	}
	r, ok := kv.store.(backend.RefRepairer)
	if !ok || !errors.Is(err, ErrCorrupt) {
		return nil, fmt.Errorf("list %ss: %w", kind, err)
	}
	names, err := r.RefNames(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("list %ss: %w", kind, err)
	}
	var out []backend.Ref
	var bad *CorruptRefsError
	for _, ref := range names {
		h, err := kv.store.GetRef(ctx, ref)
		name := strings.TrimPrefix(ref, prefix)
		switch {
		case err == nil:
			out = append(out, backend.Ref{Name: name, Hash: h})
		case errors.Is(err, ErrNotFound): // deleted meanwhile
		case errors.Is(err, ErrCorrupt):
			if bad == nil {
				bad = &CorruptRefsError{Kind: kind, Err: err}
			}
			bad.Names = append(bad.Names, name)
		default:
			return nil, fmt.Errorf("list %ss: %w", kind, err)
		}
	}
	if bad != nil {
		sort.Strings(bad.Names)
		return out, bad
	}
	return out, nil
}

// refError wraps err, from reading or moving the ref of what, with
// context; an absent ref is a plain "not found".
func refError(what string, err error) error {
	if errors.Is(err, ErrNotFound) && !errors.Is(err, ErrCorrupt) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// deleteRef removes ref name, which holds h, by compare-and-swap,
// retrying if it moves meanwhile; a damaged ref (h is ignored) is removed
// unconditionally where the backend can (backend.RefRepairer). A ref that
// is gone is ErrNotFound.
func (kv *KV) deleteRef(ctx context.Context, name string) error {
	for {
		h, err := kv.store.GetRef(ctx, name)
		if r, ok := kv.store.(backend.RefRepairer); ok && errors.Is(err, ErrCorrupt) {
			return r.DeleteRef(ctx, name)
		}
		if err != nil {
			return err
		}
		err = kv.store.CompareAndSwapRef(ctx, name, h, backend.ZeroHash)
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
}

// shallowSet returns the commits marked shallow (refs "shallow/HEX"):
// the ends of a history cut on purpose, whose parents are absent by
// design. Log, MergeBase, Resolve and Fsck treat them as root commits.
// The result is never nil.
func (kv *KV) shallowSet(ctx context.Context) (map[Hash]bool, error) {
	refs, err := kv.store.ListRefs(ctx, shallowPrefix)
	if err != nil {
		return nil, fmt.Errorf("list shallow commits: %w", err)
	}
	s := make(map[Hash]bool, len(refs))
	for _, r := range refs {
		s[r.Hash] = true
	}
	return s, nil
}

// nameFree returns an error wrapping ErrExists if ref, a name in the
// other of the branch and tag namespaces (a ref of kind other), exists: a
// name both have is ambiguous as a revision (see Resolve). A damaged ref
// does not count.
func (kv *KV) nameFree(ctx context.Context, ref, other string) error {
	_, err := kv.store.GetRef(ctx, ref)
	switch {
	case err == nil:
		return fmt.Errorf("a %s has that name: %w", other, ErrExists)
	case errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt):
		return nil
	}
	return err
}
