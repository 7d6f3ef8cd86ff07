package strata

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/branch"
)

// Clone copies src's branches and tags, with every object they reach,
// into dst, and records src in dst as the remote origin. dst must hold no
// branch and no tag, else an error wrapping ErrExists, but those an
// interrupted Clone made: a tag at the commit src's has, and a branch at
// the commit src's has or at its remote-tracking ref origin/BRANCH (the
// rerun moves it). A remote origin dst already has must have src's URL,
// else an error wrapping ErrExists, before anything is copied.
//
// dst gets remote-tracking refs origin/BRANCH and, when src was opened
// from a URL that another process can open (not mem://), the remote
// origin with that URL (without an http(s) URL's token: see AddRemote),
// recorded first. Depth(n) copies only the last n commits of each branch
// and records the cut as shallow; SingleBranch copies one branch. Objects
// are all stored before any branch or tag is created, so an interrupted
// Clone leaves dst valid and a rerun sends only what is missing. It
// returns what it did, even on error.
func Clone(ctx context.Context, src, dst *KV, opts ...SyncOption) (*SyncStats, error) {
	r := newRun(newSyncOptions(opts))
	if err := firstErr(src.alive(), dst.alive(), r.o.err); err != nil {
		return r.done(), err
	}
	heads, err := r.listRefs(ctx, src.store, branch.RefPrefix)
	if err != nil {
		return r.done(), fmt.Errorf("clone: list the source's branches: %w", err)
	}
	if b := r.o.branch; b != "" {
		var one []backend.Ref
		for _, ref := range heads {
			if ref.Name == branch.RefPrefix+b {
				one = append(one, ref)
			}
		}
		if one == nil {
			return r.done(), fmt.Errorf("clone: the source has no branch %q: %w", b, ErrNotFound)
		}
		heads = one
	}
	tags, err := r.listRefs(ctx, src.store, tagPrefix)
	if err != nil {
		return r.done(), fmt.Errorf("clone: list the source's tags: %w", err)
	}
	var want []Hash
	from := map[string]Hash{}
	for _, ref := range append(heads, tags...) {
		want = append(want, ref.Hash)
		from[ref.Name] = ref.Hash
	}
	// dst must hold no branch or tag but those an interrupted Clone of
	// the same source already made (so a rerun completes it): a branch
	// that src has moved since is still at its origin/BRANCH.
	have := map[string]Hash{}
	for _, prefix := range []string{trackPrefix + "origin/", branch.RefPrefix, tagPrefix} {
		refs, err := r.listRefs(ctx, dst.store, prefix)
		if err != nil {
			return r.done(), fmt.Errorf("clone: %w", err)
		}
		for _, ref := range refs {
			have[ref.Name] = ref.Hash
			if prefix == trackPrefix+"origin/" || from[ref.Name] == ref.Hash {
				continue
			}
			b, isBranch := strings.CutPrefix(ref.Name, branch.RefPrefix)
			if !isBranch || have[trackPrefix+"origin/"+b] != ref.Hash {
				return r.done(), fmt.Errorf("clone: the destination is not empty (it has %s): %w", ref.Name, ErrExists)
			}
		}
	}
	// The remote first: a dst whose origin is another store is refused
	// before anything is copied.
	if u := src.URL(); u != "" {
		if spec, err := parseStoreURL(u); err == nil && spec.kind != kindMem {
			r.stats.RoundTrips += 2
			if err := dst.AddRemote(ctx, "origin", u); err != nil {
				// A rerun finds the origin its first run recorded.
				o, oerr := dst.Remote(ctx, "origin")
				switch {
				case errors.Is(err, ErrExists) && oerr == nil && o.URL != remoteURL(u):
					return r.done(), fmt.Errorf("clone: the destination has a remote origin at another store (%s): %w", RedactURL(o.URL), ErrExists)
				case !errors.Is(err, ErrExists) || oerr != nil:
					return r.done(), fmt.Errorf("clone: record remote origin: %w", err)
				}
			}
		}
	}
	if err := r.send(ctx, src, dst, want, nil, nil); err != nil {
		return r.done(), fmt.Errorf("clone: %w", err)
	}
	if err := r.copyTags(ctx, dst, tags); err != nil {
		return r.done(), fmt.Errorf("clone: %w", err)
	}
	for _, ref := range heads {
		b := strings.TrimPrefix(ref.Name, branch.RefPrefix)
		for _, name := range []string{trackPrefix + "origin/" + b, ref.Name} {
			if old := have[name]; old != ref.Hash {
				if err := r.cas(ctx, dst.store, name, old, ref.Hash); err != nil {
					return r.done(), fmt.Errorf("clone: %w", err)
				}
			}
		}
		dst.heads.Store(b, ref.Hash)
	}
	return r.done(), nil
}
