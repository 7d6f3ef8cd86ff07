package strata

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/branch"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/internal/codec"
)

// Resolve turns a revision into a commit hash. A revision is a base followed
// by any number of suffixes:
//
//	main        a branch name (branches win over hashes)
//	v1.2        a tag name; a name that is both a branch and a tag is an
//	            error wrapping ErrInvalidRevision that names both
//	origin/main a remote-tracking ref REMOTE/BRANCH (ref
//	            "remotes/origin/main"), unless a branch or tag has that name
//	3fa4…       a full 64-digit commit hash, or a unique prefix of at least 4
//	REV~N       the N-th first-parent ancestor (REV~ is REV~1)
//	REV^N       the N-th parent (REV^ is REV^1, REV^0 is REV itself)
//
// Bad syntax, and a revision that names more than one commit (a hash
// prefix that several commits share, a name both a branch and a tag
// have), return an error wrapping ErrInvalidRevision; a revision that
// names nothing (no such branch or commit, history too short) wraps
// ErrNotFound.
func (kv *KV) Resolve(ctx context.Context, rev string) (Hash, error) {
	if err := kv.alive(); err != nil {
		return Hash{}, err
	}
	i := strings.IndexAny(rev, "~^")
	if i < 0 {
		i = len(rev)
	}
	h, err := kv.resolveBase(ctx, rev, rev[:i])
	if err != nil {
		return Hash{}, err
	}
	var shallow map[Hash]bool
	if i < len(rev) {
		if shallow, err = kv.shallowSet(ctx); err != nil {
			return Hash{}, err
		}
	}
	for s := rev[i:]; s != ""; {
		op := s[0]
		s = s[1:]
		j := strings.IndexAny(s, "~^")
		if j < 0 {
			j = len(s)
		}
		n := 1
		if j > 0 {
			n, err = strconv.Atoi(s[:j])
			if err != nil || n < 0 {
				return Hash{}, fmt.Errorf("%w: %q: %q is not a count", ErrInvalidRevision, rev, s[:j])
			}
		}
		s = s[j:]
		if h, err = kv.ancestor(ctx, rev, h, op, n, shallow); err != nil {
			return Hash{}, err
		}
	}
	return h, nil
}

func (kv *KV) ancestor(ctx context.Context, rev string, h Hash, op byte, n int, shallow map[Hash]bool) (Hash, error) {
	if op == '^' {
		if n == 0 {
			return h, nil
		}
		if shallow[h] {
			return Hash{}, fmt.Errorf("revision %q: commit %s is shallow (history cut here): %w", rev, h.Short(), ErrNotFound)
		}
		c, err := commit.Load(ctx, kv.store, kv.nodes, h)
		if err != nil {
			return Hash{}, err
		}
		if n > len(c.Parents) {
			return Hash{}, fmt.Errorf("revision %q: commit %s has %d parents: %w", rev, h.Short(), len(c.Parents), ErrNotFound)
		}
		return c.Parents[n-1], nil
	}
	for k := 0; k < n; k++ {
		if shallow[h] {
			return Hash{}, fmt.Errorf("revision %q: history ends after %d generations at shallow commit %s (history cut here): %w", rev, k, h.Short(), ErrNotFound)
		}
		c, err := commit.Load(ctx, kv.store, kv.nodes, h)
		if err != nil {
			return Hash{}, err
		}
		if len(c.Parents) == 0 {
			return Hash{}, fmt.Errorf("revision %q: history ends after %d generations: %w", rev, k, ErrNotFound)
		}
		h = c.Parents[0]
	}
	return h, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func (kv *KV) resolveBase(ctx context.Context, rev, base string) (Hash, error) {
	if base == "" {
		return Hash{}, fmt.Errorf("%w: %q: empty revision", ErrInvalidRevision, rev)
	}
	if branch.ValidateName(base) == nil {
		h, found, err := kv.resolveName(ctx, rev, base)
		if found || err != nil {
			return h, err
		}
	}
	if !isHex(base) || len(base) > 2*backend.HashSize {
		if err := branch.ValidateName(base); err != nil {
			return Hash{}, fmt.Errorf("%w: %q is neither a branch, tag or remote-tracking name nor a hexadecimal hash", ErrInvalidRevision, base)
		}
		return Hash{}, fmt.Errorf("revision %q: no branch, tag or remote-tracking ref %q: %w", rev, base, ErrNotFound)
	}
	if len(base) == 2*backend.HashSize {
		h, err := backend.ParseHash(base)
		if err != nil {
			return Hash{}, fmt.Errorf("%w: %v", ErrInvalidRevision, err)
		}
		if _, err := commit.Load(ctx, kv.store, kv.nodes, h); err != nil {
			// A hash the user typed names no stored link: its absence
			// is not damage.
			if errors.Is(err, ErrMissing) {
				return Hash{}, fmt.Errorf("revision %q: no branch or commit: %w", rev, ErrNotFound)
			}
			// Nor is a sound object of another type: a tree's or a
			// value's hash, given where a commit's belongs.
			if kind, ok := kv.objectKind(ctx, h); ok && errors.Is(err, ErrCorrupt) {
				return Hash{}, fmt.Errorf("revision %q: %s is a %s, not a commit: %w", rev, h.Short(), kind, ErrNotFound)
			}
			return Hash{}, err
		}
		return h, nil
	}
	if len(base) < 4 {
		return Hash{}, fmt.Errorf("revision %q: no branch or tag %q, and a hash prefix needs at least 4 digits: %w", rev, base, ErrNotFound)
	}
	return kv.resolvePrefix(ctx, rev, strings.ToLower(base))
}

// resolveName looks name up as a branch, a tag and (for REMOTE/BRANCH)
// a remote-tracking ref. found is false if it is none of them. A name
// that is both a branch and a tag is an error wrapping
// ErrInvalidRevision naming both; a branch or tag of that name hides a
// remote-tracking ref.
func (kv *KV) resolveName(ctx context.Context, rev, name string) (h Hash, found bool, err error) {
	bh, berr := kv.branches.Head(ctx, name)
	if berr != nil && !errors.Is(berr, ErrNotFound) {
		return Hash{}, false, berr
	}
	th, terr := kv.store.GetRef(ctx, tagPrefix+name)
	if terr != nil && !errors.Is(terr, ErrNotFound) {
		return Hash{}, false, fmt.Errorf("tag %q: %w", name, terr)
	}
	switch {
	case berr == nil && terr == nil:
		return Hash{}, false, fmt.Errorf("%w: %q is ambiguous: it names both branch %q (%s) and tag %q (%s); use a commit hash, or rename one",
			ErrInvalidRevision, rev, name, bh.Short(), name, th.Short())
	case berr == nil:
		return bh, true, nil
	case terr == nil:
		return th, true, nil
	}
	remote, br, ok := strings.Cut(name, "/")
	if !ok || validateRemoteName(remote) != nil {
		return Hash{}, false, nil
	}
	h, err = kv.store.GetRef(ctx, trackPrefix+remote+"/"+br)
	switch {
	case err == nil:
		return h, true, nil
	case errors.Is(err, ErrNotFound):
		return Hash{}, false, nil
	}
	return Hash{}, false, fmt.Errorf("remote-tracking ref %q: %w", name, err)
}

// resolvePrefix finds the one commit whose hash starts with the hex digits p.
func (kv *KV) resolvePrefix(ctx context.Context, rev, p string) (Hash, error) {
	lister, ok := kv.store.(backend.ObjectLister)
	if !ok {
		return Hash{}, fmt.Errorf("revision %q: this backend cannot look up abbreviated hashes; give all 64 digits: %w", rev, ErrNotFound)
	}
	prefix, _ := hex.DecodeString(p[:len(p)/2*2])
	var found []Hash
	err := lister.ListObjects(ctx, prefix, func(h Hash) error {
		if !strings.HasPrefix(h.String(), p) {
			return nil
		}
		if _, err := commit.Load(ctx, kv.store, kv.nodes, h); err != nil {
			if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNotFound) {
				return nil // not a commit (or unreadable): not a candidate
			}
			return err
		}
		found = append(found, h)
		return nil
	})
	if err != nil {
		return Hash{}, err
	}
	switch len(found) {
	case 0:
		return Hash{}, fmt.Errorf("revision %q: no branch or commit: %w", rev, ErrNotFound)
	case 1:
		return found[0], nil
	}
	return Hash{}, fmt.Errorf("revision %q: prefix is ambiguous (%d commits match; give more digits): %w", rev, len(found), ErrInvalidRevision)
}

// objectKind returns the type of the object stored under h ("node",
// "contents", ...) if its bytes hash to h and it is not a commit.
func (kv *KV) objectKind(ctx context.Context, h Hash) (string, bool) {
	data, err := kv.store.Get(ctx, h)
	if err != nil || codec.Verify(h, data) != nil {
		return "", false
	}
	t, ok := codec.TagOf(data)
	if !ok || t == codec.TagCommit {
		return "", false
	}
	return t.String(), true
}
