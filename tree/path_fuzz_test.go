package tree_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/tree"
)

// FuzzParsePath: ParsePath never panics; it either returns segments that
// are valid names within the limits and that JoinPath and ParsePath give
// back unchanged, or an error wrapping tree.ErrInvalidPath.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"", "/", "a", "/a/b/", "a//b", "a/./b", "..", "a\x00b", "x/a\nb",
		strings.Repeat("d/", tree.MaxPathSegments), strings.Repeat("x", tree.MaxPathBytes+1),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		segs, err := tree.ParsePath(p)
		if err != nil {
			if !errors.Is(err, tree.ErrInvalidPath) {
				t.Fatalf("ParsePath(%q): %v, want ErrInvalidPath", p, err)
			}
			return
		}
		if len(segs) > tree.MaxPathSegments || len(p) > tree.MaxPathBytes {
			t.Fatalf("ParsePath(%q) accepted %d segments, %d bytes", p, len(segs), len(p))
		}
		for _, s := range segs {
			if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/\x00") {
				t.Fatalf("ParsePath(%q) returned the bad segment %q", p, s)
			}
		}
		j := tree.JoinPath(segs)
		again, err := tree.ParsePath(j)
		if err != nil {
			t.Fatalf("ParsePath(JoinPath(ParsePath(%q))) = %v", p, err)
		}
		if diff := cmp.Diff(segs, again); diff != "" {
			t.Fatalf("round trip of %q (-first +second):\n%s", p, diff)
		}
	})
}
