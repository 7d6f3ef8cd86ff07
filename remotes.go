package strata

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/branch"
	"github.com/stratakv/strata/contents"
)

// Remote is a named store that this one syncs with. URL is exactly as
// given to AddRemote and may hold a password: show it only through
// RedactURL.
type Remote struct {
	Name string
	URL  string
}

// validateRemoteName checks a remote name: the branch naming rules
// (ValidateBranchName) without '/', so that "REMOTE/BRANCH" names one
// remote-tracking ref. A bad name wraps ErrInvalidBranch.
func validateRemoteName(name string) error { return branch.ValidateRemoteName(name) }

// AddRemote records remote name with its store URL in the store itself
// (the ref "remote-urls/NAME" names a raw contents object holding the
// URL), so every process and every copy of the store sees it. The token
// of an http(s) URL (?token=) is not recorded, since every reader of the
// store could read it: fetch and push to that remote take the token from
// $STRATA_TOKEN (httpstore.TokenEnv). The URL is
// checked by the grammar of Open (an error wrapping ErrInvalidURL, shown
// redacted) but nothing is opened; a directory given as a relative path
// is kept as an absolute one. A remote that exists is an error
// wrapping ErrExists (and ErrConflict); a bad name wraps ErrInvalidBranch.
func (kv *KV) AddRemote(ctx context.Context, name, url string) error {
	if err := kv.alive(); err != nil {
		return err
	}
	if err := validateRemoteName(name); err != nil {
		return err
	}
	if _, err := parseStoreURL(url); err != nil {
		return fmt.Errorf("remote %q: %w", name, err)
	}
	obj := contents.Object(contents.Raw([]byte(remoteURL(url))))
	err := backend.PutAndSwapRef(ctx, kv.store, []backend.Object{obj}, remotePrefix+name, backend.ZeroHash, obj.Hash)
	if errors.Is(err, ErrConflict) {
		return fmt.Errorf("remote %q: %w", name, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("remote %q: %w", name, err)
	}
	return nil
}

// Remote returns remote name, or an error wrapping ErrNotFound if there
// is none. A URL object that is missing or not a raw value wraps
// ErrCorrupt.
func (kv *KV) Remote(ctx context.Context, name string) (Remote, error) {
	if err := kv.alive(); err != nil {
		return Remote{}, err
	}
	if err := validateRemoteName(name); err != nil {
		return Remote{}, err
	}
	h, err := kv.store.GetRef(ctx, remotePrefix+name)
	if err != nil {
		return Remote{}, refError(fmt.Sprintf("remote %q", name), err)
	}
	return kv.loadRemote(ctx, name, h)
}

func (kv *KV) loadRemote(ctx context.Context, name string, h Hash) (Remote, error) {
	c, err := contents.Get(ctx, kv.store, h)
	if err != nil {
		if errors.Is(err, ErrNotFound) && !errors.Is(err, ErrMissing) {
			err = fmt.Errorf("%w: %v", ErrMissing, err)
		}
		return Remote{}, fmt.Errorf("remote %q: URL object %s: %w", name, h.Short(), err)
	}
	if c.Kind != contents.KindRaw {
		return Remote{}, fmt.Errorf("remote %q: URL object %s holds a %s value: %w", name, h.Short(), c.Kind, ErrCorrupt)
	}
	return Remote{Name: name, URL: string(c.Data)}, nil
}

// Remotes lists every remote, sorted by name. If some remotes are
// damaged it returns the others together with a *CorruptRefsError naming
// them (wrapping ErrCorrupt); RemoveRemote removes them.
func (kv *KV) Remotes(ctx context.Context) ([]Remote, error) {
	if err := kv.alive(); err != nil {
		return nil, err
	}
	refs, err := kv.listRefs(ctx, remotePrefix, "remote")
	if refs == nil && err != nil {
		return nil, err
	}
	var bad *CorruptRefsError
	errors.As(err, &bad)
	out := make([]Remote, 0, len(refs))
	for _, r := range refs {
		rm, lerr := kv.loadRemote(ctx, r.Name, r.Hash)
		if lerr != nil {
			if !errors.Is(lerr, ErrCorrupt) {
				return nil, lerr
			}
			if bad == nil {
				bad = &CorruptRefsError{Kind: "remote", Err: lerr}
			}
			bad.Names = append(bad.Names, r.Name)
			continue
		}
		out = append(out, rm)
	}
	if bad != nil {
		return out, bad
	}
	return out, nil
}

// RemoveRemote deletes remote name and its remote-tracking refs
// ("remotes/NAME/BRANCH"); the commits they named stay in the store. A
// remote that does not exist is an error wrapping ErrNotFound. The
// tracking refs go first, so an interrupted call leaves the remote in
// place and can be rerun.
func (kv *KV) RemoveRemote(ctx context.Context, name string) error {
	if err := kv.alive(); err != nil {
		return err
	}
	if err := validateRemoteName(name); err != nil {
		return err
	}
	if _, err := kv.store.GetRef(ctx, remotePrefix+name); err != nil && !errors.Is(err, ErrCorrupt) {
		return refError(fmt.Sprintf("remote %q", name), err)
	}
	prefix := trackPrefix + name + "/"
	names, err := kv.refNames(ctx, prefix)
	if err != nil {
		return fmt.Errorf("remote %q: %w", name, err)
	}
	for _, ref := range names {
		if err := kv.deleteRef(ctx, ref); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("remote %q: %w", name, err)
		}
	}
	if err := kv.deleteRef(ctx, remotePrefix+name); err != nil {
		return refError(fmt.Sprintf("remote %q", name), err)
	}
	return nil
}

// refNames returns the full names of the refs under prefix, damaged ones
// included where the backend can list them (backend.RefRepairer).
func (kv *KV) refNames(ctx context.Context, prefix string) ([]string, error) {
	if r, ok := kv.store.(backend.RefRepairer); ok {
		return r.RefNames(ctx, prefix)
	}
	refs, err := kv.store.ListRefs(ctx, prefix)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.Name
	}
	return names, nil
}

// remoteURL is the form of storeURL that AddRemote records: absolute
// (absStoreURL), and without the token parameter of an http(s) URL (the
// other parameters are kept as written).
func remoteURL(storeURL string) string {
	storeURL = absStoreURL(storeURL)
	scheme, _, ok := strings.Cut(storeURL, "://")
	if s := strings.ToLower(scheme); !ok || (s != "http" && s != "https") {
		return storeURL
	}
	base, query, ok := strings.Cut(storeURL, "?")
	if !ok {
		return storeURL
	}
	frag := ""
	if i := strings.IndexByte(query, '#'); i >= 0 {
		query, frag = query[:i], query[i:]
	}
	var kept []string
	for _, p := range strings.Split(query, "&") {
		name, _, _ := strings.Cut(p, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n // as the store reads it: ?%74oken= is the token
		}
		if name != "token" {
			kept = append(kept, p)
		}
	}
	if len(kept) > 0 {
		base += "?" + strings.Join(kept, "&")
	}
	return base + frag
}
