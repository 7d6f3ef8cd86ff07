package contents

import "fmt"

// maxDiffCost bounds the edit distance the line diff searches for. Past it
// the differing middle of two texts (after their common first and last
// lines) is taken as one change: a merge may then conflict where a finer
// diff would not, but it never combines changes wrongly.
const maxDiffCost = 1024

// LineRange is a range of lines of the base text, [Start, End) counted
// from 0; Start == End is the place before line Start.
type LineRange struct{ Start, End int }

// String describes the range for people, counting lines from 1.
func (r LineRange) String() string {
	switch {
	case r.Start == r.End && r.Start == 0:
		return "the start of the text"
	case r.Start == r.End:
		return fmt.Sprintf("after line %d", r.Start)
	case r.End == r.Start+1:
		return fmt.Sprintf("line %d", r.Start+1)
	}
	return fmt.Sprintf("lines %d-%d", r.Start+1, r.End)
}

// splitLines splits text into lines, each keeping its "\n"; the last line
// may lack one.
func splitLines(text []byte) [][]byte {
	var out [][]byte
	for len(text) > 0 {
		i := 0
		for i < len(text) && text[i] != '\n' {
			i++
		}
		if i < len(text) {
			i++
		}
		out = append(out, text[:i])
		text = text[i:]
	}
	return out
}

// hunk says that lines [bs, be) of the base became lines [ss, se) of a side.
type hunk struct{ bs, be, ss, se int }

// diffLines returns the hunks that turn a into b, in order, separated by at
// least one unchanged line.
func diffLines(a, b []int) []hunk {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	if len(ma) == 0 && len(mb) == 0 {
		return nil
	}
	matches, ok := myers(ma, mb)
	if !ok {
		return []hunk{{pre, len(a) - suf, pre, len(b) - suf}}
	}
	var hs []hunk
	pi, pj := -1, -1
	for _, m := range append(matches, [2]int{len(ma), len(mb)}) {
		if m[0] > pi+1 || m[1] > pj+1 {
			hs = append(hs, hunk{pre + pi + 1, pre + m[0], pre + pj + 1, pre + m[1]})
		}
		pi, pj = m[0], m[1]
	}
	return hs
}

// myers returns the matched pairs (i, j), a[i] == b[j], of a shortest edit
// script from a to b (Myers' O(ND) algorithm), or false if its cost exceeds
// maxDiffCost.
func myers(a, b []int) ([][2]int, bool) {
	n, m := len(a), len(b)
	limit := min(n+m, maxDiffCost)
	off := limit + 1
	v := make([]int, 2*limit+3)
	var trace [][]int // trace[d]: v[k] for k in [-d, d] before step d, at index k+d
	for d := 0; d <= limit; d++ {
		trace = append(trace, append([]int(nil), v[off-d:off+d+1]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				return backtrack(a, b, trace, d, n, m), true
			}
		}
	}
	return nil, false
}

func backtrack(a, b []int, trace [][]int, dEnd, x, y int) [][2]int {
	var rev [][2]int
	for d := dEnd; d > 0; d-- {
		v := trace[d]
		k := x - y
		var pk int
		if k == -d || (k != d && v[k-1+d] < v[k+1+d]) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := v[pk+d]
		py := px - pk
		for x > px && y > py {
			if pk == k+1 && y == py+1 || pk == k-1 && x == px+1 {
				break
			}
			x--
			y--
			rev = append(rev, [2]int{x, y})
		}
		x, y = px, py
	}
	for x > 0 && y > 0 {
		x--
		y--
		rev = append(rev, [2]int{x, y})
	}
	out := make([][2]int, len(rev))
	for i, p := range rev {
		out[len(rev)-1-i] = p
	}
	return out
}

// clashes reports whether a hunk collides with a region [s, e) of base
// lines: they overlap, or start at the same place (two insertions there,
// or an insertion just before the other's change).
func clashes(h hunk, s, e int) bool {
	return h.bs == s || (h.bs < e && s < h.be)
}

// Merge3Lines merges two texts changed from base, line by line (diff3).
// Changes that do not clash are all applied; where the two sides changed
// overlapping lines (or inserted at the same place) differently, the
// region is a conflict: it is returned, and filled from the side prefer
// names (ours for NoSide).
func Merge3Lines(base, ours, theirs []byte, prefer Side) ([]byte, []LineRange) {
	ids := map[string]int{}
	intern := func(lines [][]byte) []int {
		out := make([]int, len(lines))
		for i, l := range lines {
			id, ok := ids[string(l)]
			if !ok {
				id = len(ids)
				ids[string(l)] = id
			}
			out[i] = id
		}
		return out
	}
	bl, ol, tl := splitLines(base), splitLines(ours), splitLines(theirs)
	ho := diffLines(intern(bl), intern(ol))
	ht := diffLines(intern(bl), intern(tl))

	var out []byte
	var conflicts []LineRange
	emit := func(lines [][]byte) {
		for _, l := range lines {
			out = append(out, l...)
		}
	}
	// side returns a side's version of base lines [s, e), given its hunks
	// inside that range.
	side := func(hs []hunk, lines [][]byte, s, e int) [][]byte {
		var r [][]byte
		p := s
		for _, h := range hs {
			r = append(r, bl[p:h.bs]...)
			r = append(r, lines[h.ss:h.se]...)
			p = h.be
		}
		return append(r, bl[p:e]...)
	}
	pos, i, j := 0, 0, 0
	for i < len(ho) || j < len(ht) {
		var s, e int
		switch {
		case j == len(ht) || (i < len(ho) && ho[i].bs <= ht[j].bs):
			s, e = ho[i].bs, ho[i].be
		default:
			s, e = ht[j].bs, ht[j].be
		}
		i0, j0 := i, j
		for grown := true; grown; {
			grown = false
			if i < len(ho) && clashes(ho[i], s, e) {
				s, e = min(s, ho[i].bs), max(e, ho[i].be)
				i++
				grown = true
			}
			if j < len(ht) && clashes(ht[j], s, e) {
				s, e = min(s, ht[j].bs), max(e, ht[j].be)
				j++
				grown = true
			}
		}
		emit(bl[pos:s])
		mine, yours := ho[i0:i], ht[j0:j]
		switch {
		case len(yours) == 0:
			emit(side(mine, ol, s, e))
		case len(mine) == 0:
			emit(side(yours, tl, s, e))
		default:
			a, b := side(mine, ol, s, e), side(yours, tl, s, e)
			if equalLines(a, b) {
				emit(a)
				break
			}
			conflicts = append(conflicts, LineRange{s, e})
			switch prefer {
			case Base:
				emit(bl[s:e])
			case Theirs:
				emit(b)
			default:
				emit(a)
			}
		}
		pos = e
	}
	emit(bl[pos:])
	if out == nil {
		out = []byte{}
	}
	return out, conflicts
}

func equalLines(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if string(a[i]) != string(b[i]) {
			return false
		}
	}
	return true
}
