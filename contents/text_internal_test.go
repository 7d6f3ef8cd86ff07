package contents

import (
	"math/rand/v2"
	"testing"
)

// lcsLen is the length of a longest common subsequence, by dynamic
// programming: the reference for diffLines' minimality.
func lcsLen(a, b []int) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			switch {
			case a[i] == b[j]:
				cur[j+1] = prev[j] + 1
			case prev[j+1] > cur[j]:
				cur[j+1] = prev[j+1]
			default:
				cur[j+1] = cur[j]
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// checkHunks checks that hs turn a into b, are ordered and separated by an
// unchanged line, and returns how many lines they leave unchanged.
func checkHunks(t *testing.T, a, b []int, hs []hunk) int {
	t.Helper()
	var out []int
	p, kept := 0, 0
	for i, h := range hs {
		if h.bs < p || (i > 0 && h.bs <= p) || h.be < h.bs || h.se < h.ss || (h.bs == h.be && h.ss == h.se) {
			t.Fatalf("bad hunk %d %+v after %d in %+v", i, h, p, hs)
		}
		out = append(out, a[p:h.bs]...)
		kept += h.bs - p
		out = append(out, b[h.ss:h.se]...)
		p = h.be
	}
	out = append(out, a[p:]...)
	kept += len(a) - p
	if len(out) != len(b) {
		t.Fatalf("hunks %+v turn %v into %v, want %v", hs, a, out, b)
	}
	for i := range out {
		if out[i] != b[i] {
			t.Fatalf("hunks %+v turn %v into %v, want %v", hs, a, out, b)
		}
	}
	return kept
}

func TestDiffLinesMinimal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 3000; iter++ {
		alpha := 1 + r.IntN(6)
		a := make([]int, r.IntN(30))
		b := make([]int, r.IntN(30))
		for i := range a {
			a[i] = r.IntN(alpha)
		}
		for i := range b {
			b[i] = r.IntN(alpha)
		}
		kept := checkHunks(t, a, b, diffLines(a, b))
		if want := lcsLen(a, b); kept != want {
			t.Fatalf("diff of %v and %v keeps %d lines, the LCS has %d", a, b, kept, want)
		}
	}
}

// TestDiffLinesTooCostly: past maxDiffCost the middle becomes one hunk,
// which still turns a into b.
func TestDiffLinesTooCostly(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	a := make([]int, 3000)
	b := make([]int, 3000)
	for i := range a {
		a[i], b[i] = r.IntN(1<<30), r.IntN(1<<30)
	}
	a[0], b[0], a[2999], b[2999] = 7, 7, 8, 8
	hs := diffLines(a, b)
	if len(hs) != 1 || hs[0] != (hunk{1, 2999, 1, 2999}) {
		t.Fatalf("hunks %+v", hs)
	}
	checkHunks(t, a, b, hs)
}
