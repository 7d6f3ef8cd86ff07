package console

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/stratakv/strata"
)

// diffContext is the number of unchanged lines shown around a change.
const diffContext = 3

// fileDiff is one changed value, ready to show.
type fileDiff struct {
	Path, Op         string
	OldKind, NewKind string
	OldSize, NewSize int
	Binary           bool        // not text: only sizes are shown
	TooBig           bool        // too big to diff line by line
	Hunks            []hunk      // a text diff (also JSON that is not an object)
	Members          []memberRow // a JSON object diff, member by member
	Skipped          bool        // beyond maxDiffs: listed, not diffed
}

// hunk is a run of changed lines with their context.
type hunk struct {
	Header string
	Lines  []diffLine // unified view
	Rows   []splitRow // side-by-side view
}

// diffLine is one line of a unified diff; Op is ' ', '-' or '+'.
type diffLine struct {
	Op       string
	Old, New int // line numbers, 0 when absent
	Text     string
}

// splitRow is one row of a side-by-side diff.
type splitRow struct {
	Old, New         int
	OldText, NewText string
	OldOp, NewOp     string // "", "del" or "add"
}

// memberRow is one JSON member that differs; Path is its dotted name.
type memberRow struct {
	Path, Old, New, Op string
}

// fileDiffs renders changes between revisions from ("" for none) and to.
func (c *console) fileDiffs(ctx context.Context, from, to string, changes []strata.Change, split bool) ([]fileDiff, error) {
	var fromSnap, toSnap *strata.Snapshot
	var err error
	if from != "" {
		if fromSnap, err = c.kv.At(ctx, from); err != nil {
			return nil, err
		}
	}
	if toSnap, err = c.kv.At(ctx, to); err != nil {
		return nil, err
	}
	kindAt := func(s *strata.Snapshot, p string) strata.Kind {
		if s == nil {
			return strata.KindRaw
		}
		v, err := s.GetValue(ctx, p)
		if err != nil {
			return strata.KindRaw
		}
		return v.Kind
	}
	out := make([]fileDiff, 0, len(changes))
	for i, ch := range changes[:min(len(changes), maxListed)] {
		d := fileDiff{Path: ch.Path, Op: ch.Op.String(), OldSize: len(ch.Old), NewSize: len(ch.New)}
		if i >= maxDiffs {
			d.Skipped = true
			out = append(out, d)
			continue
		}
		var ok, nk strata.Kind
		if ch.Old != nil {
			ok = kindAt(fromSnap, ch.Path)
			d.OldKind = ok.String()
		}
		if ch.New != nil {
			nk = kindAt(toSnap, ch.Path)
			d.NewKind = nk.String()
		}
		switch {
		case len(ch.Old) > maxDiffSize || len(ch.New) > maxDiffSize:
			d.TooBig = true
		case !isText(ch.Old) || !isText(ch.New):
			d.Binary = true
		case (ch.Old == nil || ok == strata.KindJSON) && (ch.New == nil || nk == strata.KindJSON):
			if m, isObj := jsonMembers(ch.Old, ch.New); isObj {
				d.Members = m
			} else {
				d.Hunks = lineDiff(prettyJSON(ch.Old), prettyJSON(ch.New), split)
			}
		default:
			d.Hunks = lineDiff(string(ch.Old), string(ch.New), split)
		}
		out = append(out, d)
	}
	return out, nil
}

func isText(b []byte) bool { return utf8.Valid(b) && !bytes.Contains(b, []byte{0}) }

func prettyJSON(b []byte) string {
	if b == nil {
		return ""
	}
	var buf bytes.Buffer
	if json.Indent(&buf, b, "", "  ") != nil {
		return string(b)
	}
	return buf.String()
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.SplitAfter(strings.TrimSuffix(s, "\n"), "\n")
}

// lineDiff diffs two texts line by line (difflib's matcher, Python's
// difflib algorithm) into hunks with diffContext lines of context.
func lineDiff(a, b string, split bool) []hunk {
	al, bl := splitLines(a), splitLines(b)
	for i := range al {
		al[i] = strings.TrimSuffix(al[i], "\n")
	}
	for i := range bl {
		bl[i] = strings.TrimSuffix(bl[i], "\n")
	}
	m := difflib.NewMatcherWithJunk(al, bl, false, nil)
	var out []hunk
	for _, group := range m.GetGroupedOpCodes(diffContext) {
		first, last := group[0], group[len(group)-1]
		h := hunk{Header: hunkHeader(first.I1, last.I2, first.J1, last.J2)}
		for _, op := range group {
			switch op.Tag {
			case 'e':
				for k := 0; k < op.I2-op.I1; k++ {
					h.Lines = append(h.Lines, diffLine{Op: " ", Old: op.I1 + k + 1, New: op.J1 + k + 1, Text: al[op.I1+k]})
					h.Rows = append(h.Rows, splitRow{Old: op.I1 + k + 1, New: op.J1 + k + 1, OldText: al[op.I1+k], NewText: bl[op.J1+k]})
				}
			default: // 'r', 'd', 'i'
				for k := op.I1; k < op.I2; k++ {
					h.Lines = append(h.Lines, diffLine{Op: "-", Old: k + 1, Text: al[k]})
				}
				for k := op.J1; k < op.J2; k++ {
					h.Lines = append(h.Lines, diffLine{Op: "+", New: k + 1, Text: bl[k]})
				}
				n := max(op.I2-op.I1, op.J2-op.J1)
				for k := range n {
					var row splitRow
					if i := op.I1 + k; i < op.I2 {
						row.Old, row.OldText, row.OldOp = i+1, al[i], "del"
					}
					if j := op.J1 + k; j < op.J2 {
						row.New, row.NewText, row.NewOp = j+1, bl[j], "add"
					}
					h.Rows = append(h.Rows, row)
				}
			}
		}
		if split {
			h.Lines = nil
		} else {
			h.Rows = nil
		}
		out = append(out, h)
	}
	return out
}

func hunkHeader(i1, i2, j1, j2 int) string {
	r := func(a, b int) string {
		if b-a == 0 {
			return strconv.Itoa(a) + ",0"
		}
		return strconv.Itoa(a+1) + "," + strconv.Itoa(b-a)
	}
	return "@@ -" + r(i1, i2) + " +" + r(j1, j2) + " @@"
}

// jsonMembers diffs two JSON documents member by member, descending into
// objects (arrays and scalars are compared whole); isObj is false unless
// both present sides are objects.
func jsonMembers(old, new []byte) (rows []memberRow, isObj bool) {
	var a, b any
	if old != nil {
		if json.Unmarshal(old, &a) != nil {
			return nil, false
		}
		if _, ok := a.(map[string]any); !ok {
			return nil, false
		}
	}
	if new != nil {
		if json.Unmarshal(new, &b) != nil {
			return nil, false
		}
		if _, ok := b.(map[string]any); !ok {
			return nil, false
		}
	}
	walkMembers("", a, b, old != nil, new != nil, &rows)
	return rows, true
}

func walkMembers(prefix string, a, b any, hasA, hasB bool, out *[]memberRow) {
	ma, aObj := a.(map[string]any)
	mb, bObj := b.(map[string]any)
	if (aObj || !hasA) && (bObj || !hasB) && (aObj || bObj) {
		var keys []string
		for k := range ma {
			keys = append(keys, k)
		}
		for k := range mb {
			if _, dup := ma[k]; !dup {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			va, inA := ma[k]
			vb, inB := mb[k]
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			walkMembers(name, va, vb, inA, inB, out)
		}
		return
	}
	ea, eb := compact(a, hasA), compact(b, hasB)
	switch {
	case !hasA:
		*out = append(*out, memberRow{Path: prefix, New: eb, Op: "added"})
	case !hasB:
		*out = append(*out, memberRow{Path: prefix, Old: ea, Op: "removed"})
	case ea != eb:
		*out = append(*out, memberRow{Path: prefix, Old: ea, New: eb, Op: "changed"})
	}
}

func compact(v any, has bool) string {
	if !has {
		return ""
	}
	b, _ := json.Marshal(v) // v came from json.Unmarshal: it marshals
	return string(b)
}
