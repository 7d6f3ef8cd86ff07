package console

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stratakv/strata"
)

func hash(b byte) strata.Hash {
	var h strata.Hash
	h[0] = b
	return h
}

// TestLayoutGraph lays out a merge (m has parents a and f; f and a have
// parent r): f gets a second lane that the merge opens and r closes.
func TestLayoutGraph(t *testing.T) {
	r, a, f, m := hash(1), hash(2), hash(3), hash(4)
	cms := []strata.Commit{
		{Hash: m, Parents: []strata.Hash{a, f}},
		{Hash: f, Parents: []strata.Hash{r}},
		{Hash: a, Parents: []strata.Hash{r}},
		{Hash: r},
	}
	rows := layoutGraph(cms, true)
	type dot struct {
		X     int
		Merge bool
		Segs  int
	}
	var got []dot
	for _, row := range rows {
		got = append(got, dot{row.X, row.Merge, len(row.Segs)})
	}
	want := []dot{
		{laneX(0), true, 2},  // the merge: down to a (lane 0) and f (lane 1)
		{laneX(1), false, 3}, // f in lane 1 (in from the top, down to r), lane 0 passes by
		{laneX(0), false, 3}, // a in lane 0 (in, down to r), lane 1 (waiting for r) passes by
		{laneX(0), false, 2}, // r: both lanes join it
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("graph: -want +got\n%s", diff)
	}
	if rows[0].Width != laneX(1)+laneLeft {
		t.Errorf("width %d, want two lanes", rows[0].Width)
	}
	flat := layoutGraph(cms, false)
	for i, row := range flat {
		if row.X != laneX(0) {
			t.Errorf("flat row %d in lane x=%d", i, row.X)
		}
	}
}

func TestLineDiff(t *testing.T) {
	hs := lineDiff("a\nb\nc\n", "a\nB\nc\nd\n", false)
	if len(hs) != 1 {
		t.Fatalf("%d hunks, want 1", len(hs))
	}
	want := []diffLine{
		{" ", 1, 1, "a"}, {"-", 2, 0, "b"}, {"+", 0, 2, "B"}, {" ", 3, 3, "c"}, {"+", 0, 4, "d"},
	}
	if diff := cmp.Diff(want, hs[0].Lines); diff != "" {
		t.Errorf("unified: -want +got\n%s", diff)
	}
	if hs[0].Header != "@@ -1,3 +1,4 @@" {
		t.Errorf("header %q", hs[0].Header)
	}
	split := lineDiff("a\nb\nc\n", "a\nB\nc\nd\n", true)
	wantRows := []splitRow{
		{Old: 1, New: 1, OldText: "a", NewText: "a"},
		{Old: 2, New: 2, OldText: "b", NewText: "B", OldOp: "del", NewOp: "add"},
		{Old: 3, New: 3, OldText: "c", NewText: "c"},
		{New: 4, NewText: "d", NewOp: "add"},
	}
	if diff := cmp.Diff(wantRows, split[0].Rows); diff != "" {
		t.Errorf("split: -want +got\n%s", diff)
	}
	if got := lineDiff("", "x\n", false); len(got) != 1 || len(got[0].Lines) != 1 || got[0].Header != "@@ -0,0 +1,1 @@" {
		t.Errorf("added text: %+v", got)
	}
}

func TestJSONMembers(t *testing.T) {
	rows, ok := jsonMembers([]byte(`{"a":1,"b":{"c":2,"d":[1]},"e":"x"}`), []byte(`{"a":1,"b":{"c":3,"d":[1]},"f":null}`))
	if !ok {
		t.Fatal("not diffed as objects")
	}
	want := []memberRow{
		{Path: "b.c", Old: "2", New: "3", Op: "changed"},
		{Path: "e", Old: `"x"`, Op: "removed"},
		{Path: "f", New: "null", Op: "added"},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("-want +got\n%s", diff)
	}
	if _, ok := jsonMembers([]byte(`[1]`), []byte(`[2]`)); ok {
		t.Error("arrays diffed as objects")
	}
	if rows, ok := jsonMembers(nil, []byte(`{"a":{"b":1}}`)); !ok || len(rows) != 1 || rows[0].Path != "a.b" {
		t.Errorf("added document: %v %+v", ok, rows)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"": "/", "/tree/main": "/tree/main", "//evil.example": "/", "/\\evil": "/", "https://evil.example/": "/", "x": "/",
		"/\t/evil.example": "/", "/\n/evil.example": "/", "/\r//evil.example": "/", "/a\\b": "/", "/tree/main?at=x%09y": "/tree/main?at=x%09y",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
