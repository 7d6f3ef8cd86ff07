package strata

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/branch"
)

// TagOption configures Tag: Force.
type TagOption interface{ applyTag(*tagOptions) }

type tagOptions struct {
	force bool
}

// TagInfo is a tag and the commit it names.
type TagInfo struct {
	Name   string
	Commit Hash
}

// Tag makes tag name point at the commit that revision rev names, and
// returns that commit. Tags are revisions (see Resolve) and never move
// once created: tagging the commit a tag already names is a no-op, and a
// tag that names another commit is an error wrapping ErrExists (and
// ErrConflict) unless Force is given, which moves it. Tag names follow
// the branch naming rules (ValidateBranchName; a bad one wraps
// ErrInvalidBranch), and a name a branch has is an error wrapping
// ErrExists (it would be ambiguous as a revision). A rev that names
// nothing wraps ErrNotFound.
// It is safe for concurrent use: the tag moves by compare-and-swap.
func (kv *KV) Tag(ctx context.Context, name, rev string, opts ...TagOption) (Hash, error) {
	if err := kv.alive(); err != nil {
		return Hash{}, err
	}
	var o tagOptions
	for _, opt := range opts {
		opt.applyTag(&o)
	}
	if err := branch.ValidateRefName("tag", name); err != nil {
		return Hash{}, err
	}
	h, err := kv.Resolve(ctx, rev)
	if err != nil {
		return Hash{}, err
	}
	// A tag named as a branch would make the name ambiguous as a
	// revision (see Resolve), and the branch unusable by it.
	if err := kv.nameFree(ctx, branch.RefPrefix+name, "branch"); err != nil {
		return Hash{}, fmt.Errorf("tag %q: %w", name, err)
	}
	ref := tagPrefix + name
	old := backend.ZeroHash
	for {
		err := kv.store.CompareAndSwapRef(ctx, ref, old, h)
		if err == nil {
			return h, nil
		}
		if !errors.Is(err, ErrConflict) {
			return Hash{}, fmt.Errorf("tag %q: %w", name, err)
		}
		cur, err := kv.store.GetRef(ctx, ref)
		switch {
		case errors.Is(err, ErrNotFound):
			old = backend.ZeroHash // deleted meanwhile
			continue
		case err != nil:
			return Hash{}, fmt.Errorf("tag %q: %w", name, err)
		case cur == h:
			return h, nil
		case !o.force:
			return Hash{}, fmt.Errorf("tag %q names commit %s; a tag does not move unless forced: %w", name, cur.Short(), ErrExists)
		}
		old = cur
	}
}

// DeleteTag deletes tag name; the commit it names stays in the store. A
// tag that does not exist is an error wrapping ErrNotFound. A tag whose
// ref is damaged is removed unconditionally on every backend that
// implements backend.RefRepairer.
func (kv *KV) DeleteTag(ctx context.Context, name string) error {
	if err := kv.alive(); err != nil {
		return err
	}
	if err := branch.ValidateRefName("tag", name); err != nil {
		return err
	}
	if err := kv.deleteRef(ctx, tagPrefix+name); err != nil {
		return refError(fmt.Sprintf("tag %q", name), err)
	}
	return nil
}

// Tags lists every tag, sorted by name. If some tags' refs are damaged
// it returns the others together with a *CorruptRefsError naming them
// (wrapping ErrCorrupt); DeleteTag removes them.
func (kv *KV) Tags(ctx context.Context) ([]TagInfo, error) {
	if err := kv.alive(); err != nil {
		return nil, err
	}
	refs, err := kv.listRefs(ctx, tagPrefix, "tag")
	if refs == nil && err != nil {
		return nil, err
	}
	out := make([]TagInfo, len(refs))
	for i, r := range refs {
		out[i] = TagInfo{Name: r.Name, Commit: r.Hash}
	}
	return out, err
}
