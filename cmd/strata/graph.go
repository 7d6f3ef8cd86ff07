package main

import (
	"container/heap"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stratakv/strata"
)

// oneline is a commit as log --oneline prints it: the 12-hex short hash
// and the first line of the message.
func oneline(c strata.Commit) string {
	subject, _, _ := strings.Cut(c.Message, "\n")
	return c.Hash.Short() + " " + subject
}

// topoOrder reorders commits (newest first, as strata.KV.Log returns
// them) so that every commit comes after all of its children in the list,
// keeping the given order wherever that allows: the order a graph needs.
func topoOrder(cs []strata.Commit) []strata.Commit {
	index := make(map[strata.Hash]int, len(cs))
	for i, c := range cs {
		index[c.Hash] = i
	}
	children := make([]int, len(cs)) // children not yet placed, within cs
	for _, c := range cs {
		for _, p := range uniqueParents(c) {
			if j, ok := index[p]; ok {
				children[j]++
			}
		}
	}
	var ready intHeap
	for i := range cs {
		if children[i] == 0 {
			heap.Push(&ready, i)
		}
	}
	out := make([]strata.Commit, 0, len(cs))
	for ready.Len() > 0 {
		c := cs[heap.Pop(&ready).(int)]
		out = append(out, c)
		for _, p := range uniqueParents(c) {
			if j, ok := index[p]; ok {
				if children[j]--; children[j] == 0 {
					heap.Push(&ready, j)
				}
			}
		}
	}
	return out
}

// uniqueParents returns c's parents, each once.
func uniqueParents(c strata.Commit) []strata.Hash {
	var out []strata.Hash
	for _, p := range c.Parents {
		dup := false
		for _, q := range out {
			dup = dup || q == p
		}
		if !dup {
			out = append(out, p)
		}
	}
	return out
}

type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// graph draws the history as git log --graph does, one commit at a time:
// each column is a line of history waiting for a commit; a commit's line
// shows "*" in its column and "|" in the others, and when the columns
// change (a merge opens new ones, two lines reach the same parent and
// join) the lines in between move each edge one column per line, drawn
// "\" to the right and "/" to the left.
type graph struct {
	cols []strata.Hash // the commit each column leads to
}

// edge is a line of history between two rows of the graph: pos is where it
// is, in character cells (column i is at cell 2i), and to where it goes.
type edge struct{ pos, to int }

// next returns the lines that draw commit c: its own line (graph and text)
// and any lines that move edges to their new columns.
func (g *graph) next(c strata.Commit, text string) []string {
	idx := -1
	for i, h := range g.cols {
		if h == c.Hash {
			idx = i
			break
		}
	}
	if idx < 0 { // a head: a new column on the right
		g.cols = append(g.cols, c.Hash)
		idx = len(g.cols) - 1
	}
	// The columns after this commit: its column replaced by its parents,
	// each commit in one column only (the leftmost).
	var next []strata.Hash
	col := func(h strata.Hash) int {
		for i, n := range next {
			if n == h {
				return i
			}
		}
		next = append(next, h)
		return len(next) - 1
	}
	var edges []edge
	for i, h := range g.cols {
		if i != idx {
			edges = append(edges, edge{pos: 2 * i, to: 2 * col(h)})
			continue
		}
		for _, p := range uniqueParents(c) {
			edges = append(edges, edge{pos: 2 * i, to: 2 * col(p)})
		}
	}
	width := 2 * max(len(g.cols), len(next))

	var b strings.Builder
	for i := range g.cols {
		if i == idx {
			b.WriteString("* ")
		} else {
			b.WriteString("| ")
		}
	}
	lines := []string{pad(b.String(), width) + text}
	for {
		row := []byte(strings.Repeat(" ", width+1))
		moved := false
		for i := range edges {
			e := &edges[i]
			switch {
			case e.to > e.pos:
				row[e.pos+1] = '\\'
				e.pos += 2
				moved = true
			case e.to < e.pos:
				row[e.pos-1] = '/'
				e.pos -= 2
				moved = true
			default:
				if row[e.pos] == ' ' {
					row[e.pos] = '|'
				}
			}
		}
		if !moved {
			break
		}
		lines = append(lines, strings.TrimRight(string(row), " "))
	}
	g.cols = next
	return lines
}

func pad(s string, width int) string {
	if len(s) < width {
		s += strings.Repeat(" ", width-len(s))
	}
	return s
}

// parseTimeBound parses a --since or --until value: an RFC 3339 time, or
// an age such as 90s, 30m, 2h, 7d or 2w (ago, from now), or any Go
// duration such as 1h30m.
func parseTimeBound(flag, s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	bad := usageError(fmt.Sprintf("log: --%s %q: want an RFC 3339 time (2006-01-02T15:04:05Z) or an age such as 2h or 7d", flag, s))
	var d time.Duration
	if n, unit := strings.TrimRight(s, "dw"), strings.TrimLeft(s, "0123456789"); (unit == "d" || unit == "w") && n != "" {
		days, err := strconv.ParseInt(n, 10, 32)
		if err != nil {
			return time.Time{}, bad
		}
		if unit == "w" {
			days *= 7
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil || d < 0 {
			return time.Time{}, bad
		}
	}
	return now.Add(-d), nil
}
