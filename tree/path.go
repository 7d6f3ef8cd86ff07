package tree

import (
	"errors"
	"fmt"
	"strings"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/node"
)

// ErrInvalidPath is wrapped by every error about a path's syntax, and by
// writes that would put a value where a directory is or below a value
// (those also wrap ErrNotDir).
var ErrInvalidPath = errors.New("invalid path")

// The limits on a path (docs/FORMAT.md): at most MaxPathSegments segments
// and MaxPathBytes bytes, counted as given (slashes included). They keep
// every walk, diff and fsck of a tree bounded.
const (
	MaxPathSegments = 256
	MaxPathBytes    = 4096
)

// ParsePath splits a slash-separated path into its segments. One leading and
// one trailing "/" are ignored; "" and "/" are the root (no segments). An
// empty segment in the middle, ".", "..", a NUL byte, or a path over
// MaxPathBytes bytes or MaxPathSegments segments returns an error wrapping
// ErrInvalidPath that quotes the path (or, for a long one, its
// start).
func ParsePath(p string) ([]string, error) {
	s, err := CheckPath(p)
	if err != nil || s == "" {
		return nil, err
	}
	return strings.Split(s, "/"), nil
}

// CheckPath checks p as ParsePath does, returning the same errors, and
// returns it without its one leading and one trailing "/" ("" for the
// root): the segments ParsePath would return, joined by "/". It allocates
// nothing for a valid path; Tree.GetPath takes its result.
func CheckPath(p string) (string, error) {
	if s, ok := cleanPath(p); ok {
		return s, nil
	}
	return checkPath(p)
}

// cleanPath is CheckPath for a valid path, in one pass over its bytes:
// it returns p without its one leading and one trailing "/", and false
// if p is not valid (checkPath then says why).
func cleanPath(p string) (string, bool) {
	if len(p) > MaxPathBytes {
		return "", false
	}
	s := p
	if len(s) > 0 && s[0] == '/' {
		s = s[1:]
	}
	if len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	if s == "" {
		return "", true // p is "", "/" or "//"
	}
	return s, validPath(s)
}

// checkPath is CheckPath's careful path, which names what is wrong.
func checkPath(p string) (string, error) {
	if len(p) > MaxPathBytes {
		return "", fmt.Errorf("%w: %q... is %d bytes long; the limit is %d", ErrInvalidPath, p[:32], len(p), MaxPathBytes)
	}
	s := strings.TrimPrefix(p, "/")
	s = strings.TrimSuffix(s, "/")
	if s == "" {
		if strings.Contains(p, "\x00") {
			return "", invalidPath(p, "contains a NUL byte")
		}
		return "", nil
	}
	if n := strings.Count(s, "/") + 1; n > MaxPathSegments {
		return "", fmt.Errorf("%w: %q... has %d segments; the limit is %d", ErrInvalidPath, p[:min(len(p), 32)], n, MaxPathSegments)
	}
	for rest := s; ; {
		seg, tail, more := strings.Cut(rest, "/")
		if !node.ValidName(seg) {
			switch {
			case seg == "":
				return "", invalidPath(p, "has an empty segment")
			case strings.Contains(seg, "\x00"):
				return "", invalidPath(p, "contains a NUL byte")
			default:
				return "", invalidPath(p, fmt.Sprintf("has a %q segment", seg))
			}
		}
		if !more {
			return s, nil
		}
		rest = tail
	}
}

// validPath reports, in one pass over its bytes, whether s (not empty,
// within MaxPathBytes) is a valid path without leading or trailing "/":
// the common case of CheckPath, which finds what is wrong otherwise.
func validPath(s string) bool {
	segs, start := 1, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			if c := s[i]; c != '/' {
				if c == 0 {
					return false
				}
				continue
			}
			segs++
		}
		switch seg := s[start:i]; {
		case len(seg) == 0, seg[0] == '.' && (len(seg) == 1 || len(seg) == 2 && seg[1] == '.'):
			return false
		}
		start = i + 1
	}
	return segs <= MaxPathSegments
}

func invalidPath(p, why string) error {
	return fmt.Errorf("%w: %q %s", ErrInvalidPath, p, why)
}

// JoinPath joins segments with "/".
func JoinPath(segs []string) string { return strings.Join(segs, "/") }

// dirError is damage (an error wrapping backend.ErrCorrupt, such as a
// missing or undecodable object) found while reading the directory at a
// path; it names the path once, however deep the damage was found.
type dirError struct {
	path string // "" for the root
	err  error
}

func (e *dirError) Error() string {
	return fmt.Sprintf("directory %q: %v", "/"+e.path, e.err)
}

func (e *dirError) Unwrap() error { return e.err }

// atDir names the directory segs in err if err is damage not yet named.
func atDir(segs []string, err error) error { return atDirName(JoinPath(segs), err) }

func atDirName(path string, err error) error {
	var de *dirError
	if err == nil || !errors.Is(err, backend.ErrCorrupt) || errors.As(err, &de) {
		return err
	}
	return &dirError{path: path, err: err}
}
