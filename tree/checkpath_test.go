package tree

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCheckPath: CheckPath accepts exactly what ParsePath accepts, with
// the same error, and returns the segments joined by "/".
func TestCheckPath(t *testing.T) {
	for _, p := range []string{
		"", "/", "//", "a", "/a/", "a/b/c", "a//b", "a/./b", "a/../b", "a/\x00", "\x00",
		"a/b/", "/a/b", strings.Repeat("a/", 300), strings.Repeat("x", 5000), ".", "a/..",
	} {
		segs, perr := ParsePath(p)
		s, cerr := CheckPath(p)
		if (perr == nil) != (cerr == nil) || (perr != nil && perr.Error() != cerr.Error()) {
			t.Errorf("%q: ParsePath error %v, CheckPath error %v", p, perr, cerr)
			continue
		}
		if perr == nil {
			if diff := cmp.Diff(JoinPath(segs), s); diff != "" {
				t.Errorf("%q: CheckPath differs from ParsePath's segments (-want +got):\n%s", p, diff)
			}
		}
		if n := testing.AllocsPerRun(10, func() { _, _ = CheckPath("/a/b/c/") }); n != 0 {
			t.Errorf("CheckPath of a valid path: %v allocations, want 0", n)
		}
	}
}
