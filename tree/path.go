package tree

import (
	"errors"
	"fmt"
	"strings"

	"github.com/stratakv/strata/node"
)

// ErrInvalidPath is wrapped by every error about a path's syntax, and by
// writes that would put a value where a directory is or below a value
// (those also wrap ErrNotDir).
var ErrInvalidPath = errors.New("invalid path")

// ParsePath splits a slash-separated path into its segments. One leading and
// one trailing "/" are ignored; "" and "/" are the root (no segments). An
// empty segment in the middle, ".", "..", or a NUL byte returns an error
// wrapping ErrInvalidPath that quotes the path.
func ParsePath(p string) ([]string, error) {
	s := strings.TrimPrefix(p, "/")
	s = strings.TrimSuffix(s, "/")
	if s == "" {
		if strings.Contains(p, "\x00") {
			return nil, invalidPath(p, "contains a NUL byte")
		}
		return nil, nil
	}
	segs := strings.Split(s, "/")
	for _, seg := range segs {
		if !node.ValidName(seg) {
			switch {
			case seg == "":
				return nil, invalidPath(p, "has an empty segment")
			case strings.Contains(seg, "\x00"):
				return nil, invalidPath(p, "contains a NUL byte")
			default:
				return nil, invalidPath(p, fmt.Sprintf("has a %q segment", seg))
			}
		}
	}
	return segs, nil
}

func invalidPath(p, why string) error {
	return fmt.Errorf("%w: %q %s", ErrInvalidPath, p, why)
}

// JoinPath joins segments with "/".
func JoinPath(segs []string) string { return strings.Join(segs, "/") }
