package jsontree_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/internal/jsontree"
)

// TestParse: numbers keep their literal text, members come out sorted by
// name, and every value kind is told apart.
func TestParse(t *testing.T) {
	got, err := jsontree.Parse([]byte(` {"b": [1E+5, 1.10, true, false, null], "a": "x\u00e9"} `), 10)
	if err != nil {
		t.Fatal(err)
	}
	want := &jsontree.Value{Kind: jsontree.Object, Members: []jsontree.Member{
		{Name: "a", Value: &jsontree.Value{Kind: jsontree.String, Text: "xé"}},
		{Name: "b", Value: &jsontree.Value{Kind: jsontree.Array, Items: []*jsontree.Value{
			{Kind: jsontree.Number, Text: "1E+5"},
			{Kind: jsontree.Number, Text: "1.10"},
			{Kind: jsontree.True},
			{Kind: jsontree.False},
			{Kind: jsontree.Null},
		}}},
	}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Parse (-want +got):\n%s", d)
	}
}

// TestParseRefuses: a duplicate member name, nesting deeper than maxDepth,
// trailing data, no value and a syntax error each return an *Error.
func TestParseRefuses(t *testing.T) {
	for _, in := range []string{
		`{"a":1,"a":2}`,
		strings.Repeat("[", 4) + strings.Repeat("]", 4),
		`1 2`,
		``,
		`{"a":}`,
	} {
		v, err := jsontree.Parse([]byte(in), 2)
		var je *jsontree.Error
		if !errors.As(err, &je) {
			t.Errorf("Parse(%q) = %v, %v; want a *jsontree.Error", in, v, err)
		}
	}
	if _, err := jsontree.Parse([]byte("[[[]]]"), 2); err != nil {
		t.Errorf("Parse at exactly maxDepth: %v", err)
	}
}
