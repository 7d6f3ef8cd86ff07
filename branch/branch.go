// Package branch keeps strata's branches in a backend's ref store.
//
// A branch is a name pointing at a commit hash, stored as the ref
// "heads/NAME". Branches move only by compare-and-swap, so two writers can
// never both move a branch from the same head: one of them gets
// backend.ErrConflict and must re-read. Other ref namespaces ("tags/",
// "remotes/") are left free for later use.
package branch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/stratakv/strata/backend"
)

// ErrInvalidBranch is wrapped by every error about a branch name that
// breaks the naming rules (see ValidateName).
var ErrInvalidBranch = errors.New("invalid branch name")

// RefPrefix is the ref-store namespace of branches.
const RefPrefix = "heads/"

// MaxNameLen is the longest allowed branch name, in bytes.
const MaxNameLen = 255

// ValidateName checks a branch name: non-empty, at most MaxNameLen bytes,
// made of letters, digits, '.', '_', '-' and '/'; not starting with '-' or
// '/', not ending with '/', and containing neither ".." nor "//". Otherwise
// it returns an error wrapping ErrInvalidBranch that says why.
func ValidateName(name string) error { return ValidateRefName("branch", name) }

// ValidateRefName checks name by the rules of ValidateName, for a ref
// of another kind (what: "tag", "remote"): its errors say "invalid tag
// name" but still wrap ErrInvalidBranch.
func ValidateRefName(what, name string) error {
	bad := func(why string) error {
		return &nameError{what: what, name: name, why: why}
	}
	switch {
	case name == "":
		return bad("is empty")
	case len(name) > MaxNameLen:
		return bad(fmt.Sprintf("is longer than %d bytes", MaxNameLen))
	case name[0] == '-' || name[0] == '/':
		return bad("starts with '-' or '/'")
	case strings.HasSuffix(name, "/"):
		return bad("ends with '/'")
	case strings.Contains(name, ".."):
		return bad("contains \"..\"")
	case strings.Contains(name, "//"):
		return bad("contains \"//\"")
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_' || r == '-' || r == '/') {
			return bad(fmt.Sprintf("contains %q (allowed: letters, digits, '.', '_', '-', '/')", r))
		}
	}
	return nil
}

// ValidateRemoteName checks a remote's name: the rules of ValidateName,
// and no '/' (a remote-tracking ref REMOTE/BRANCH splits at the first
// one). Its errors wrap ErrInvalidBranch.
func ValidateRemoteName(name string) error {
	if err := ValidateRefName("remote", name); err != nil {
		return err
	}
	if strings.Contains(name, "/") {
		return &nameError{what: "remote", name: name, why: "contains '/'"}
	}
	return nil
}

// nameError is a name that breaks the naming rules.
type nameError struct{ what, name, why string }

func (e *nameError) Error() string {
	return fmt.Sprintf("invalid %s name: %q %s", e.what, e.name, e.why)
}

func (e *nameError) Unwrap() error { return ErrInvalidBranch }

// Branch is a branch name and the commit it points at.
type Branch struct {
	Name string
	Head backend.Hash
}

// Store is the set of branches in a backend's ref store. It is safe for
// concurrent use if the backend is.
type Store struct {
	store backend.Store
}

// New returns the branches kept in s. Commit also stores objects in s.
func New(s backend.Store) *Store { return &Store{store: s} }

// Head returns the commit that branch name points at, or an error wrapping
// backend.ErrNotFound if the branch does not exist.
func (s *Store) Head(ctx context.Context, name string) (backend.Hash, error) {
	return s.HeadOf(ctx, NewRef(name))
}

// Ref is a branch name prepared for repeated reads of its head: NewRef
// validates the name and builds its ref name once, so that HeadOf
// allocates nothing when the branch exists. The zero Ref is the empty
// (invalid) name.
type Ref struct {
	name, ref string
	err       error // what ValidateName returned
}

// NewRef prepares branch name for HeadOf. An invalid name is not an error
// here: HeadOf returns ValidateName's error.
func NewRef(name string) Ref {
	if err := ValidateName(name); err != nil {
		return Ref{name: name, err: err}
	}
	return Ref{name: name, ref: RefPrefix + name}
}

// HeadOf returns the commit that branch r points at, as Head does: an
// error wrapping backend.ErrNotFound if the branch does not exist, or
// ErrInvalidBranch for an invalid name.
func (s *Store) HeadOf(ctx context.Context, r Ref) (backend.Hash, error) {
	if r.err != nil || r.ref == "" {
		if r.err == nil {
			return backend.Hash{}, ValidateName(r.name)
		}
		return backend.Hash{}, r.err
	}
	h, err := s.store.GetRef(ctx, r.ref)
	if err != nil {
		if errors.Is(err, backend.ErrNotFound) {
			return backend.Hash{}, fmt.Errorf("branch %q: %w", r.name, backend.ErrNotFound)
		}
		return backend.Hash{}, fmt.Errorf("branch %q: %w", r.name, err)
	}
	return h, nil
}

// CorruptError reports branches whose refs hold something other than a
// commit hash. It wraps backend.ErrCorrupt. Delete removes such a branch
// when the ref store is a backend.RefRepairer.
type CorruptError struct {
	Names []string // the damaged branches, sorted
	Err   error    // what reading the first of them returned
}

func (e *CorruptError) Error() string {
	what := "branch"
	if len(e.Names) > 1 {
		what = "branches"
	}
	return fmt.Sprintf("%s %s: %v", what, quoteNames(e.Names), e.Err)
}

func (e *CorruptError) Unwrap() error { return backend.ErrCorrupt }

func quoteNames(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// List returns every branch, sorted by name. If some branches' refs are
// damaged (hold something other than a hash) and the ref store is a
// backend.RefRepairer, it returns the readable branches together with a
// *CorruptError naming the damaged ones; without RefRepairer it returns
// only the error.
func (s *Store) List(ctx context.Context) ([]Branch, error) {
	refs, err := s.store.ListRefs(ctx, RefPrefix)
	if err != nil {
		r, ok := s.store.(backend.RefRepairer)
		if !ok || !errors.Is(err, backend.ErrCorrupt) {
			return nil, fmt.Errorf("list branches: %w", err)
		}
		return s.listOneByOne(ctx, r)
	}
	out := make([]Branch, 0, len(refs))
	for _, r := range refs {
		out = append(out, Branch{Name: strings.TrimPrefix(r.Name, RefPrefix), Head: r.Hash})
	}
	return out, nil
}

// listOneByOne lists the branches ref by ref, to tell the damaged ones
// from the others.
func (s *Store) listOneByOne(ctx context.Context, r backend.RefRepairer) ([]Branch, error) {
	names, err := r.RefNames(ctx, RefPrefix)
	if err != nil {
		return nil, fmt.Errorf("list branches: %w", err)
	}
	out := make([]Branch, 0, len(names))
	var bad *CorruptError
	for _, ref := range names {
		name := strings.TrimPrefix(ref, RefPrefix)
		h, err := s.store.GetRef(ctx, ref)
		switch {
		case err == nil:
			out = append(out, Branch{Name: name, Head: h})
		case errors.Is(err, backend.ErrNotFound): // deleted meanwhile
		case errors.Is(err, backend.ErrCorrupt):
			if bad == nil {
				bad = &CorruptError{Err: err}
			}
			bad.Names = append(bad.Names, name)
		default:
			return nil, fmt.Errorf("list branches: %w", err)
		}
	}
	if bad != nil {
		return out, bad
	}
	return out, nil
}

// Create makes branch name point at head. It returns an error wrapping
// backend.ErrExists (and so backend.ErrConflict) if the branch exists.
func (s *Store) Create(ctx context.Context, name string, head backend.Hash) error {
	if head.IsZero() {
		return fmt.Errorf("create branch %q: zero head", name)
	}
	err := s.CompareAndSwap(ctx, name, backend.ZeroHash, head)
	if errors.Is(err, backend.ErrConflict) {
		return fmt.Errorf("branch %q: %w", name, backend.ErrExists)
	}
	return err
}

// Delete removes branch name. It returns an error wrapping
// backend.ErrNotFound if the branch does not exist. It retries if the branch
// moves while it is being deleted, so it always deletes the latest head. A
// branch whose ref is damaged (holds something other than a hash) is
// removed unconditionally if the ref store is a backend.RefRepairer: that
// is how a damaged branch is repaired.
func (s *Store) Delete(ctx context.Context, name string) error {
	for {
		h, err := s.Head(ctx, name)
		if r, ok := s.store.(backend.RefRepairer); ok && errors.Is(err, backend.ErrCorrupt) {
			if err := r.DeleteRef(ctx, RefPrefix+name); err != nil {
				return fmt.Errorf("branch %q: %w", name, err)
			}
			return nil
		}
		if err != nil {
			return err
		}
		err = s.CompareAndSwap(ctx, name, h, backend.ZeroHash)
		if !errors.Is(err, backend.ErrConflict) {
			return err
		}
	}
}

// CompareAndSwap moves branch name from old to new atomically (see
// backend.RefStore.CompareAndSwapRef: a zero old means "must not exist", a
// zero new deletes). When the branch is not at old it changes nothing and
// returns an error wrapping backend.ErrConflict.
func (s *Store) CompareAndSwap(ctx context.Context, name string, old, new backend.Hash) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if err := s.store.CompareAndSwapRef(ctx, RefPrefix+name, old, new); err != nil {
		return fmt.Errorf("branch %q: %w", name, err)
	}
	return nil
}

// Commit stores objs and moves branch name from old to new, in one atomic
// step where the backend can (see backend.PutAndSwapRef), so the objects
// are always stored before the branch can point at them. A branch that is
// not at old is an error wrapping backend.ErrConflict.
func (s *Store) Commit(ctx context.Context, objs []backend.Object, name string, old, new backend.Hash) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if err := backend.PutAndSwapRef(ctx, s.store, objs, RefPrefix+name, old, new); err != nil {
		return fmt.Errorf("branch %q: %w", name, err)
	}
	return nil
}

// CommitOwned is Commit for objects whose bytes the caller hands over to
// the store (see backend.OwnedCommitter: from the call on, nobody writes
// to objs' Data slices; an in-memory backend keeps them instead of
// copies). Use it only for objects built for this commit and never
// modified again.
func (s *Store) CommitOwned(ctx context.Context, objs []backend.Object, name string, old, new backend.Hash) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if err := backend.PutOwnedAndSwapRef(ctx, s.store, objs, RefPrefix+name, old, new); err != nil {
		return fmt.Errorf("branch %q: %w", name, err)
	}
	return nil
}
