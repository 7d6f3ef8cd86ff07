package tree

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/node"
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

// TestValidPath: CheckPath's one-pass check accepts exactly the paths
// whose segments ParsePath's rules accept (valid names, at most
// MaxPathSegments), for random strings over the bytes that matter.
func TestValidPath(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	model := func(s string) bool {
		segs := strings.Split(s, "/")
		for _, seg := range segs {
			if !node.ValidName(seg) {
				return false
			}
		}
		return len(segs) <= MaxPathSegments
	}
	cases := []string{"a", ".", "..", "...", ".a", "a.", "a/.", "./a", "a/../b", "a//b", "/a", "a/", "a\x00",
		strings.Repeat("d/", MaxPathSegments-1) + "d", strings.Repeat("d/", MaxPathSegments) + "d"}
	for range 20000 {
		b := make([]byte, 1+rng.IntN(12))
		for i := range b {
			b[i] = "ab./.\x00"[rng.IntN(6)]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		if got, want := validPath(s), model(s); got != want {
			t.Fatalf("seed %d: validPath(%q) = %v, want %v", seed, s, got, want)
		}
	}
}

// TestCleanPath: CheckPath's one-pass check of a valid path accepts
// exactly the paths its careful check accepts, with the same result, on
// random paths over an alphabet of the bytes that matter.
func TestCleanPath(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	paths := []string{strings.Repeat("a/", MaxPathSegments), strings.Repeat("a/", MaxPathSegments) + "a",
		"/" + strings.Repeat("a/", MaxPathSegments), strings.Repeat("x", MaxPathBytes), strings.Repeat("x", MaxPathBytes+1)}
	for range 20000 {
		b := make([]byte, rng.IntN(9))
		for i := range b {
			b[i] = "a./\x00"[rng.IntN(4)]
		}
		paths = append(paths, string(b))
	}
	for _, p := range paths {
		want, werr := checkPath(p)
		got, ok := cleanPath(p)
		if ok != (werr == nil) || (ok && got != want) {
			t.Fatalf("%q: cleanPath = %q, %v; the careful check %q, %v", p, got, ok, want, werr)
		}
	}
}
