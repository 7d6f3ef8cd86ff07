package strata

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/stratakv/strata/backend/httpstore"
	"github.com/stratakv/strata/backend/redis"
)

// storeKind is the kind of backend a store URL names.
type storeKind int

const (
	kindPebble storeKind = iota // an on-disk store in a directory
	kindMem                     // a new in-memory store
	kindRedis                   // a Redis server, cluster or Sentinel master
	kindHTTP                    // a strata server (the HTTP store)
)

// storeSpec is what a store URL names, found without opening anything.
type storeSpec struct {
	kind  storeKind
	dir   string        // kindPebble: the directory
	redis *redis.Config // kindRedis: the parsed URL
	http  string        // kindHTTP: the URL, without cache=
	cache string        // kindRedis, kindHTTP: the directory of a local object cache (?cache=DIR), or ""
}

// schemes are the URL schemes Open knows, for messages.
const schemes = "mem://, pebble://, redis://, rediss://, unix://, http://, https:// or a directory path"

// parseStoreURL finds what storeURL names (see Open for the grammar). It
// looks only at the scheme, the text before "://", and hands the whole
// string to that scheme's own parser; a string without "://" is a
// directory. It opens, creates and connects to nothing (a rediss URL's
// tls_* files are read). Errors wrap ErrInvalidURL and show storeURL only
// through RedactURL.
func parseStoreURL(storeURL string) (storeSpec, error) {
	where := quoteURL(storeURL)
	if storeURL == "" {
		return storeSpec{}, fmt.Errorf("%w: empty store URL", ErrInvalidURL)
	}
	scheme, rest, isURL := strings.Cut(storeURL, "://")
	if !isURL {
		// "redis:host" or "mem:" is a URL missing its "//", not a
		// directory to create under that name.
		if s, _, ok := strings.Cut(storeURL, ":"); ok && knownScheme(strings.ToLower(s)) {
			return storeSpec{}, fmt.Errorf("%w: %s: want %s://...", ErrInvalidURL, where, strings.ToLower(s))
		}
		return storeSpec{kind: kindPebble, dir: storeURL}, nil
	}
	switch strings.ToLower(scheme) {
	case "mem":
		if rest != "" && rest != "/" {
			return storeSpec{}, fmt.Errorf("%w: %s: mem:// takes no host, path or parameters", ErrInvalidURL, where)
		}
		return storeSpec{kind: kindMem}, nil
	case "redis", "rediss", "unix":
		rest, cache, err := cutCache(storeURL)
		if err != nil {
			return storeSpec{}, err
		}
		cfg, err := redis.ParseURL(rest)
		if err != nil {
			return storeSpec{}, err
		}
		return storeSpec{kind: kindRedis, redis: cfg, cache: cache}, nil
	case "http", "https":
		rest, cache, err := cutCache(storeURL)
		if err != nil {
			return storeSpec{}, err
		}
		if _, _, err := httpstore.ParseURL(rest); err != nil {
			return storeSpec{}, err
		}
		return storeSpec{kind: kindHTTP, http: rest, cache: cache}, nil
	case "pebble":
		if strings.ContainsAny(rest, "?#") {
			return storeSpec{}, fmt.Errorf("%w: %s: pebble:// takes no parameters", ErrInvalidURL, where)
		}
		host, path := rest, ""
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			host, path = rest[:i], rest[i:]
		}
		if host != "" && host != "localhost" {
			return storeSpec{}, fmt.Errorf("%w: %s: pebble:// takes a local path (pebble:///dir), not a host", ErrInvalidURL, where)
		}
		dir, err := url.PathUnescape(path)
		if err != nil {
			return storeSpec{}, fmt.Errorf("%w: %s: bad escape in the directory", ErrInvalidURL, where)
		}
		if dir == "" {
			return storeSpec{}, fmt.Errorf("%w: %s: no directory", ErrInvalidURL, where)
		}
		return storeSpec{kind: kindPebble, dir: dir}, nil
	}
	return storeSpec{}, fmt.Errorf("%w: %s: unknown scheme (want %s)", ErrInvalidURL, where, schemes)
}

// cutCache removes the cache=DIR parameter from a network store URL and
// returns the URL without it and DIR ("" if absent). The other parameters
// are kept as written. A repeated or empty cache parameter returns an error
// wrapping ErrInvalidURL.
func cutCache(storeURL string) (rest, dir string, err error) {
	base, query, ok := strings.Cut(storeURL, "?")
	if !ok {
		return storeURL, "", nil
	}
	frag := ""
	if i := strings.IndexByte(query, '#'); i >= 0 {
		query, frag = query[:i], query[i:]
	}
	var kept []string
	found := false
	for _, p := range strings.Split(query, "&") {
		name, value, _ := strings.Cut(p, "=")
		if name != "cache" {
			kept = append(kept, p)
			continue
		}
		if found {
			return "", "", fmt.Errorf("%w: %s: cache given twice", ErrInvalidURL, quoteURL(storeURL))
		}
		found = true
		if dir, err = url.QueryUnescape(value); err != nil || dir == "" {
			return "", "", fmt.Errorf("%w: %s: cache=DIR needs a directory", ErrInvalidURL, quoteURL(storeURL))
		}
	}
	rest = base
	if len(kept) > 0 {
		rest += "?" + strings.Join(kept, "&")
	}
	return rest + frag, dir, nil
}

// absStoreURL returns storeURL with a directory given as a relative path
// made absolute, so that a URL kept in a store (a remote; Clone's origin)
// names the same store from any working directory.
func absStoreURL(storeURL string) string {
	if strings.Contains(storeURL, "://") {
		return storeURL
	}
	if abs, err := filepath.Abs(storeURL); err == nil {
		return abs
	}
	return storeURL
}

// knownScheme reports whether s (in lower case) is a scheme Open knows.
func knownScheme(s string) bool {
	switch s {
	case "mem", "pebble", "redis", "rediss", "unix", "http", "https":
		return true
	}
	return false
}

// RedactURL returns storeURL fit for a message: a URL with its password,
// and the values of query parameters that may hold secrets, replaced by
// "xxxxx" (see redis.Redact), even when it does not parse; a directory
// path unchanged. Every error of Open and of this package shows store URLs
// only through RedactURL.
func RedactURL(storeURL string) string {
	if s, _, ok := strings.Cut(storeURL, ":"); ok && (knownScheme(strings.ToLower(s)) || strings.Contains(storeURL, "://")) {
		return redis.Redact(storeURL)
	}
	return storeURL
}

// quoteURL returns storeURL redacted and Go-quoted, for an error message.
func quoteURL(storeURL string) string { return fmt.Sprintf("%q", RedactURL(storeURL)) }
