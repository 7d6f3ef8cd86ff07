package console

import (
	"html/template"
	"strconv"
	"strings"

	"github.com/stratakv/strata"
)

// Geometry of the graph column, in SVG user units (CSS pixels).
const (
	laneGap   = 14
	laneLeft  = 9
	rowHeight = 36
	maxLanes  = 12 // lanes further right are drawn on the last one
)

// graphRow is the graph cell of one log row: lines from the row's top
// (lanes before the commit) to its bottom (lanes after it), and the dot.
type graphRow struct {
	Width, Height int
	Segs          []seg
	X, Y          int  // the commit's dot
	Merge         bool // the commit has more than one parent
}

type seg struct{ X1, Y1, X2, Y2, Lane int }

func laneX(i int) int { return laneLeft + min(i, maxLanes)*laneGap }

// layoutGraph assigns each commit of a log (newest first) a lane, as git
// log --graph does: a lane waits for the next commit it leads to; a commit
// takes the first lane waiting for it (lanes also waiting for it join it),
// hands that lane to its first parent and opens lanes for its other
// parents. Without graph (a log filtered by path, whose commits' parents
// are not in the list) every commit is a dot on one line.
func layoutGraph(cms []strata.Commit, graph bool) []graphRow {
	out := make([]graphRow, len(cms))
	mid := rowHeight / 2
	if !graph {
		for i, c := range cms {
			r := graphRow{Width: laneX(0) + laneLeft, Height: rowHeight, X: laneX(0), Y: mid, Merge: len(c.Parents) > 1}
			if i > 0 {
				r.Segs = append(r.Segs, seg{X1: laneX(0), Y1: 0, X2: laneX(0), Y2: mid})
			}
			if i < len(cms)-1 {
				r.Segs = append(r.Segs, seg{X1: laneX(0), Y1: mid, X2: laneX(0), Y2: rowHeight})
			}
			out[i] = r
		}
		return out
	}
	var lanes []strata.Hash // what each lane waits for, at the top of the row
	widest := 1
	for i, c := range cms {
		col := -1
		var joining []int
		for l, h := range lanes {
			if h == c.Hash {
				if col < 0 {
					col = l
				}
				joining = append(joining, l)
			}
		}
		if col < 0 {
			col = len(lanes)
			lanes = append(lanes, c.Hash)
		}
		// The lanes at the bottom of the row.
		after := make([]strata.Hash, 0, len(lanes)+len(c.Parents))
		moved := make([]int, len(lanes)) // where each other lane goes
		for l, h := range lanes {
			switch {
			case l == col && len(c.Parents) > 0:
				after = append(after, c.Parents[0])
			case h == c.Hash:
				// joined the commit's lane (or the commit is a root)
			default:
				moved[l] = len(after)
				after = append(after, h)
			}
		}
		for _, p := range c.Parents[min(1, len(c.Parents)):] {
			if indexOf(after, p) < 0 {
				after = append(after, p)
			}
		}
		r := graphRow{Height: rowHeight, X: laneX(col), Y: mid, Merge: len(c.Parents) > 1}
		for _, l := range joining {
			r.Segs = append(r.Segs, seg{X1: laneX(l), Y1: 0, X2: laneX(col), Y2: mid, Lane: l})
		}
		for l, h := range lanes {
			if h == c.Hash {
				continue
			}
			r.Segs = append(r.Segs, seg{X1: laneX(l), Y1: 0, X2: laneX(moved[l]), Y2: rowHeight, Lane: l})
		}
		for k, p := range c.Parents {
			j := col
			if k > 0 {
				j = indexOf(after, p)
			}
			r.Segs = append(r.Segs, seg{X1: laneX(col), Y1: mid, X2: laneX(j), Y2: rowHeight, Lane: j})
		}
		widest = max(widest, len(lanes), len(after))
		out[i] = r
		lanes = after
	}
	for i := range out {
		out[i].Width = laneX(widest-1) + laneLeft
	}
	return out
}

func indexOf(hs []strata.Hash, h strata.Hash) int {
	for i, x := range hs {
		if x == h {
			return i
		}
	}
	return -1
}

// SVG draws the row as an inline SVG element. It is built here rather than
// in a template: it holds only numbers, and a log page has one per commit.
func (r graphRow) SVG() template.HTML {
	var b strings.Builder
	n := strconv.Itoa
	w, h := n(r.Width), n(r.Height)
	b.WriteString(`<svg class="graph" width="` + w + `" height="` + h + `" viewBox="0 0 ` + w + " " + h + `" aria-hidden="true">`)
	for _, s := range r.Segs {
		// A cubic curve from the top point down to the bottom point.
		b.WriteString(`<path class="l` + n(min(s.Lane, maxLanes)) + `" d="M` + n(s.X1) + " " + n(s.Y1) + " C" + n(s.X1) + " " + n(s.Y2) + " " +
			n(s.X2) + " " + n(s.Y1) + " " + n(s.X2) + " " + n(s.Y2) + `"/>`)
	}
	class, radius := "dot", "4"
	if r.Merge {
		class, radius = "merge", "5"
	}
	b.WriteString(`<circle class="` + class + `" cx="` + n(r.X) + `" cy="` + n(r.Y) + `" r="` + radius + `"/></svg>`)
	return template.HTML(b.String())
}
