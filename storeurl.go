package strata

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/stratakv/strata/backend/redis"
)

// storeKind is the kind of backend a store URL names.
type storeKind int

const (
	kindPebble storeKind = iota // an on-disk store in a directory
	kindMem                     // a new in-memory store
	kindRedis                   // a Redis server, cluster or Sentinel master
)

// storeSpec is what a store URL names, found without opening anything.
type storeSpec struct {
	kind  storeKind
	dir   string        // kindPebble: the directory
	redis *redis.Config // kindRedis: the parsed URL
}

// schemes are the URL schemes Open knows, for messages.
const schemes = "mem://, pebble://, redis://, rediss://, unix:// or a directory path"

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
		cfg, err := redis.ParseURL(storeURL)
		if err != nil {
			return storeSpec{}, err
		}
		return storeSpec{kind: kindRedis, redis: cfg}, nil
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
	case "mem", "pebble", "redis", "rediss", "unix":
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
