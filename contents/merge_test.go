package contents_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/contents"
)

func TestNewCanonical(t *testing.T) {
	for _, tc := range []struct {
		kind      contents.Kind
		in, want  string
		wantError bool
	}{
		{kind: contents.KindRaw, in: "\xff anything", want: "\xff anything"},
		{kind: contents.KindText, in: "héllo\n", want: "héllo\n"},
		{kind: contents.KindText, in: "bad \xff", wantError: true},
		{kind: contents.KindCounter, in: "+007", want: "7"},
		{kind: contents.KindCounter, in: "-0", want: "0"},
		{kind: contents.KindCounter, in: "-9223372036854775808", want: "-9223372036854775808"},
		{kind: contents.KindCounter, in: "9223372036854775808", wantError: true},
		{kind: contents.KindCounter, in: " 1", wantError: true},
		{kind: contents.KindCounter, in: "", wantError: true},
		{kind: contents.KindJSON, in: ` {"b": 1, "a": [1, 2.50, {"z": null, "y": "\u00e9\n<>&"}], "\u0001": true} `,
			want: `{"\u0001":true,"a":[1,2.50,{"y":"é\n<>&","z":null}],"b":1}`},
		{kind: contents.KindJSON, in: `"x"`, want: `"x"`},
		{kind: contents.KindJSON, in: `{"a":1,"a":2}`, wantError: true},
		{kind: contents.KindJSON, in: `{"a":1} {}`, wantError: true},
		{kind: contents.KindJSON, in: `{"a":1`, wantError: true},
		{kind: contents.KindJSON, in: ``, wantError: true},
		{kind: contents.KindJSON, in: strings.Repeat("[", 2000) + strings.Repeat("]", 2000), wantError: true},
		{kind: contents.Kind(9), in: "x", wantError: true},
	} {
		c, err := contents.New(tc.kind, []byte(tc.in))
		if tc.wantError {
			if !errors.Is(err, contents.ErrInvalidValue) {
				t.Errorf("New(%s, %q) = %q, %v; want ErrInvalidValue", tc.kind, tc.in, c.Data, err)
			}
			continue
		}
		if err != nil || string(c.Data) != tc.want || c.Kind != tc.kind {
			t.Errorf("New(%s, %q) = %s %q, %v; want %q", tc.kind, tc.in, c.Kind, c.Data, err, tc.want)
			continue
		}
		// Canonical form is a fixed point, and decodes.
		again, err := contents.New(tc.kind, c.Data)
		if err != nil || string(again.Data) != string(c.Data) {
			t.Errorf("New(New(%q)) = %q, %v", tc.in, again.Data, err)
		}
		got, err := contents.Decode(contents.Encode(c))
		if err != nil || !got.Equal(c) {
			t.Errorf("round trip of %q: %v %v", c.Data, got, err)
		}
	}
}

func TestDecodeRejectsInvalidTypedValues(t *testing.T) {
	for _, c := range []contents.Contents{
		{Kind: contents.KindCounter, Data: []byte("007")},
		{Kind: contents.KindCounter, Data: []byte("x")},
		{Kind: contents.KindJSON, Data: []byte(`{"b":1,`)},
		{Kind: contents.KindJSON, Data: []byte(``)},
		{Kind: contents.KindText, Data: []byte("\xff")},
	} {
		if _, err := contents.Decode(contents.Encode(c)); !errors.Is(err, backend.ErrCorrupt) {
			t.Errorf("%s %q: %v, want ErrCorrupt", c.Kind, c.Data, err)
		}
	}
}

func TestParseKind(t *testing.T) {
	for k := contents.KindRaw; k.Valid(); k++ {
		got, err := contents.ParseKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k, got, err)
		}
	}
	if _, err := contents.ParseKind("blob"); !errors.Is(err, contents.ErrInvalidValue) {
		t.Errorf("ParseKind(blob): %v", err)
	}
}

func text(s string) contents.Contents {
	return contents.Contents{Kind: contents.KindText, Data: []byte(s)}
}
func js(s string) contents.Contents {
	c, err := contents.New(contents.KindJSON, []byte(s))
	if err != nil {
		panic(err)
	}
	return c
}
func ptr(c contents.Contents) *contents.Contents { return &c }

func TestMerge(t *testing.T) {
	raw := contents.Raw
	b := func(s string) []byte { return []byte(s) }
	for _, tc := range []struct {
		name         string
		base         *contents.Contents
		ours, theirs contents.Contents
		prefer       contents.Side
		want         string // merged data
		wantNil      bool
		conflict     string // substring of the conflict's detail
		fields       []string
	}{
		{name: "raw equal", base: ptr(raw(b("a"))), ours: raw(b("b")), theirs: raw(b("b")), want: "b"},
		{name: "raw ours only", base: ptr(raw(b("a"))), ours: raw(b("b")), theirs: raw(b("a")), want: "b"},
		{name: "raw theirs only", base: ptr(raw(b("a"))), ours: raw(b("a")), theirs: raw(b("c")), want: "c"},
		{name: "raw both", base: ptr(raw(b("a"))), ours: raw(b("b")), theirs: raw(b("c")), conflict: "changed differently"},
		{name: "raw both added", ours: raw(b("b")), theirs: raw(b("c")), conflict: "changed differently"},
		{name: "raw prefer theirs", base: ptr(raw(b("a"))), ours: raw(b("b")), theirs: raw(b("c")), prefer: contents.Theirs, want: "c"},
		{name: "raw prefer base", base: ptr(raw(b("a"))), ours: raw(b("b")), theirs: raw(b("c")), prefer: contents.Base, want: "a"},
		{name: "raw prefer absent base", ours: raw(b("b")), theirs: raw(b("c")), prefer: contents.Base, wantNil: true},

		{name: "counter", base: ptr(contents.Counter(5)), ours: contents.Counter(7), theirs: contents.Counter(10), want: "12"},
		{name: "counter no base", ours: contents.Counter(1), theirs: contents.Counter(1), want: "2"},
		{name: "counter equal increments", base: ptr(contents.Counter(5)), ours: contents.Counter(6), theirs: contents.Counter(6), want: "7"},
		{name: "counter one side", base: ptr(contents.Counter(5)), ours: contents.Counter(5), theirs: contents.Counter(9), want: "9"},
		{name: "counter added twice", ours: contents.Counter(2), theirs: contents.Counter(3), want: "5"},
		{name: "counter down", base: ptr(contents.Counter(0)), ours: contents.Counter(-4), theirs: contents.Counter(3), want: "-1"},
		{name: "counter overflow", base: ptr(contents.Counter(0)), ours: contents.Counter(1 << 62), theirs: contents.Counter(1<<62 + 1), conflict: "overflow"},
		{name: "counter overflow prefer", base: ptr(contents.Counter(0)), ours: contents.Counter(1 << 62), theirs: contents.Counter(1<<62 + 1), prefer: contents.Ours, want: strconv.FormatInt(1<<62, 10)},
		{name: "counter raw base ignored", base: ptr(raw(b("100"))), ours: contents.Counter(1), theirs: contents.Counter(2), want: "3"},

		{name: "kinds differ", base: ptr(raw(b("a"))), ours: contents.Counter(1), theirs: js(`{}`), conflict: "ours is a counter, theirs is JSON"},
		{name: "kinds differ prefer", base: ptr(raw(b("a"))), ours: contents.Counter(1), theirs: js(`{}`), prefer: contents.Theirs, want: "{}"},

		{name: "text different lines", base: ptr(text("a\nb\nc\nd\n")), ours: text("A\nb\nc\nd\n"), theirs: text("a\nb\nc\nD\n"), want: "A\nb\nc\nD\n"},
		{name: "text adjacent lines", base: ptr(text("a\nb\nc\n")), ours: text("a\nB\nc\n"), theirs: text("a\nb\nC\n"), want: "a\nB\nC\n"},
		{name: "text same change", base: ptr(text("a\nb\n")), ours: text("a\nX\n"), theirs: text("a\nX\n"), want: "a\nX\n"},
		{name: "text same line", base: ptr(text("a\nb\nc\n")), ours: text("a\nB1\nc\n"), theirs: text("a\nB2\nc\n"), conflict: "line 2 changed"},
		{name: "text same insert point", base: ptr(text("a\nb\n")), ours: text("a\nx\nb\n"), theirs: text("a\ny\nb\n"), conflict: "after line 1"},
		{name: "text insert inside a deletion", base: ptr(text("a\nb\nc\nd\n")), ours: text("a\nd\n"), theirs: text("a\nb\nnew\nc\nd\n"), conflict: "lines 2-3"},
		{name: "text both append", base: ptr(text("a\n")), ours: text("a\nb\n"), theirs: text("a\nc\n"), conflict: "after line 1"},
		{name: "text prefer theirs", base: ptr(text("a\nb\nc\nd\n")), ours: text("A\nB1\nc\nd\n"), theirs: text("a\nB2\nc\nD\n"), prefer: contents.Theirs, want: "a\nB2\nc\nD\n"},
		{name: "text prefer ours", base: ptr(text("a\nb\nc\nd\n")), ours: text("A\nB1\nc\nd\n"), theirs: text("a\nB2\nc\nD\n"), prefer: contents.Ours, want: "A\nB1\nc\nD\n"},
		{name: "text prefer base", base: ptr(text("a\nb\nc\nd\n")), ours: text("A\nB1\nc\nd\n"), theirs: text("a\nB2\nc\nD\n"), prefer: contents.Base, want: "a\nb\nc\nD\n"},
		{name: "text no final newline", base: ptr(text("a\nb")), ours: text("A\nb"), theirs: text("a\nb\nc"), want: "A\nb\nc"},
		{name: "text no base", ours: text("x\n"), theirs: text("y\n"), conflict: "the start of the text"},

		{name: "json different fields", base: ptr(js(`{"a":1,"b":{"c":1,"d":1}}`)), ours: js(`{"a":2,"b":{"c":1,"d":1}}`), theirs: js(`{"a":1,"b":{"c":1,"d":2},"e":3}`),
			want: `{"a":2,"b":{"c":1,"d":2},"e":3}`},
		{name: "json same field", base: ptr(js(`{"a":1,"b":{"c":1}}`)), ours: js(`{"a":1,"b":{"c":2}}`), theirs: js(`{"a":2,"b":{"c":3}}`),
			conflict: `JSON field "/b/c" changed differently on both sides`, fields: []string{"/b/c"}},
		{name: "json removed and changed", base: ptr(js(`{"a":1,"b":1}`)), ours: js(`{"b":1}`), theirs: js(`{"a":2,"b":1}`),
			conflict: `JSON field "/a" changed on one side and removed on the other`, fields: []string{"/a"}},
		{name: "json removed on one side", base: ptr(js(`{"a":1,"b":1}`)), ours: js(`{"b":1}`), theirs: js(`{"a":1,"b":2}`), want: `{"b":2}`},
		{name: "json added on both", ours: js(`{"a":1}`), theirs: js(`{"b":2}`), want: `{"a":1,"b":2}`},
		{name: "json arrays are raw", base: ptr(js(`{"l":[1]}`)), ours: js(`{"l":[1,2]}`), theirs: js(`{"l":[0,1]}`), conflict: `"/l"`, fields: []string{"/l"}},
		{name: "json escaped pointer", base: ptr(js(`{"a/b~":1}`)), ours: js(`{"a/b~":2}`), theirs: js(`{"a/b~":3}`), conflict: `"/a~1b~0"`, fields: []string{"/a~1b~0"}},
		{name: "json not objects", base: ptr(js(`1`)), ours: js(`2`), theirs: js(`3`), conflict: "the JSON document", fields: []string{""}},
		{name: "json two fields", base: ptr(js(`{"a":1,"b":1}`)), ours: js(`{"a":2,"b":2}`), theirs: js(`{"a":3,"b":3}`), conflict: `fields "/a", "/b"`, fields: []string{"/a", "/b"}},
		{name: "json prefer theirs", base: ptr(js(`{"a":1,"b":1,"c":1}`)), ours: js(`{"a":2,"b":2,"c":1}`), theirs: js(`{"a":3,"b":1,"c":3}`), prefer: contents.Theirs,
			want: `{"a":3,"b":2,"c":3}`},
		{name: "json prefer base", base: ptr(js(`{"a":1,"b":1,"c":1}`)), ours: js(`{"a":2,"b":2,"c":1}`), theirs: js(`{"a":3,"b":1,"c":3}`), prefer: contents.Base,
			want: `{"a":1,"b":2,"c":3}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := contents.Merge(tc.base, tc.ours, tc.theirs, tc.prefer)
			if tc.conflict != "" {
				var ce *contents.ConflictError
				if !errors.As(err, &ce) || !errors.Is(err, backend.ErrConflict) {
					t.Fatalf("Merge = %v, %v; want a conflict", got, err)
				}
				if !strings.Contains(ce.Detail, tc.conflict) {
					t.Errorf("detail %q does not contain %q", ce.Detail, tc.conflict)
				}
				if diff := cmp.Diff(tc.fields, ce.Fields); diff != "" {
					t.Errorf("fields: %s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantNil {
				if got != nil {
					t.Fatalf("Merge = %q, want nil", got.Data)
				}
				return
			}
			want := tc.want
			if got == nil || string(got.Data) != want || got.Kind != tc.ours.Kind && tc.prefer == contents.NoSide {
				t.Fatalf("Merge = %v, want %q", got, want)
			}
			if _, err := contents.New(got.Kind, got.Data); err != nil {
				t.Errorf("merged value is invalid: %v", err)
			}
		})
	}
}

func seedOf(t *testing.T) uint64 {
	if s := os.Getenv("STRATA_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	return rand.Uint64()
}

// editLines applies random edits to distinct, non-touching regions of
// base chosen from the positions allowed[i], with new lines named tag.
func editLines(r *rand.Rand, base []string, allowed []bool, tag string) []string {
	var out []string
	for i := 0; i <= len(base); i++ {
		if i < len(base) && !allowed[i] || i == len(base) && !allowed[len(allowed)-1] {
			if i < len(base) {
				out = append(out, base[i])
			}
			continue
		}
		switch r.IntN(4) {
		case 0: // insert before
			out = append(out, fmt.Sprintf("%s%d\n", tag, r.IntN(1000)))
			if i < len(base) {
				out = append(out, base[i])
			}
		case 1: // replace
			if i < len(base) {
				out = append(out, fmt.Sprintf("%s%d\n", tag, r.IntN(1000)))
			}
		case 2: // delete
		default:
			if i < len(base) {
				out = append(out, base[i])
			}
		}
	}
	return out
}

// TestMerge3LinesProperty: two sides edit disjoint regions of a text
// separated by unchanged lines; the merge must combine both without
// conflict, in either order. Merging a text with itself, or with the
// base, gives it back.
func TestMerge3LinesProperty(t *testing.T) {
	s := seedOf(t)
	t.Logf("seed %d (replay with STRATA_SEED=%d)", s, s)
	r := rand.New(rand.NewPCG(s, 3))
	for iter := 0; iter < 500; iter++ {
		n := r.IntN(40)
		base := make([]string, n)
		for i := range base {
			base[i] = fmt.Sprintf("b%d\n", i)
		}
		// Positions 0..n (n: the end) go to ours, theirs or neither, with
		// a neutral line between two regions of different owners.
		owner := make([]int, n+1)
		last := 0
		for i := range owner {
			o := r.IntN(3)
			if o != 0 && last != 0 && o != last {
				o = 0
			}
			if i > 0 && owner[i-1] != 0 && o != 0 && o != owner[i-1] {
				o = 0
			}
			owner[i], last = o, o
		}
		mine, yours := make([]bool, n+1), make([]bool, n+1)
		for i, o := range owner {
			mine[i], yours[i] = o == 1, o == 2
		}
		// An insertion at position i of one side and an edit of line i-1
		// of the other would not clash; an insertion at i and an edit of
		// line i would. The owners keep them apart.
		ours := editLines(r, base, mine, "o")
		theirs := editLines(r, base, yours, "t")
		// Expected: each line of base replaced per owner.
		want := expectMerge(base, ours, theirs)
		join := func(ls []string) []byte { return []byte(strings.Join(ls, "")) }
		got, conflicts := contents.Merge3Lines(join(base), join(ours), join(theirs), contents.NoSide)
		if len(conflicts) > 0 {
			t.Fatalf("iteration %d: conflicts %v merging\nbase %q\nours %q\ntheirs %q", iter, conflicts, base, ours, theirs)
		}
		if want != "" && string(got) != want {
			t.Fatalf("iteration %d: got %q, want %q", iter, got, want)
		}
		got2, _ := contents.Merge3Lines(join(base), join(theirs), join(ours), contents.NoSide)
		if string(got2) != string(got) {
			t.Fatalf("iteration %d: merge is not symmetric: %q vs %q", iter, got, got2)
		}
		if same, c := contents.Merge3Lines(join(base), join(ours), join(ours), contents.NoSide); string(same) != string(join(ours)) || len(c) > 0 {
			t.Fatalf("iteration %d: merging a text with itself gave %q", iter, same)
		}
		if one, c := contents.Merge3Lines(join(base), join(base), join(theirs), contents.NoSide); string(one) != string(join(theirs)) || len(c) > 0 {
			t.Fatalf("iteration %d: merging with an unchanged side gave %q", iter, one)
		}
	}
}

// expectMerge computes the expected merge of two edits of base that touch
// disjoint regions: every base line is kept, replaced or deleted by the
// side that edited it, and inserted lines are placed before the next base
// line that follows them on their side. Base lines are unique ("bN"), so
// each side's text maps back to base positions exactly.
func expectMerge(base, ours, theirs []string) string {
	type slot struct {
		before []string // lines inserted before this base line
		kept   bool
	}
	build := func(side []string) []slot {
		slots := make([]slot, len(base)+1)
		pos := map[string]int{}
		for i, l := range base {
			pos[l] = i
		}
		var pending []string
		for _, l := range side {
			if i, ok := pos[l]; ok {
				slots[i].before = pending
				slots[i].kept = true
				pending = nil
				continue
			}
			pending = append(pending, l)
		}
		slots[len(base)].before = pending
		return slots
	}
	so, st := build(ours), build(theirs)
	var out strings.Builder
	for i := 0; i <= len(base); i++ {
		o, t := so[i], st[i]
		for _, l := range o.before {
			out.WriteString(l)
		}
		for _, l := range t.before {
			out.WriteString(l)
		}
		if i < len(base) && o.kept && t.kept {
			out.WriteString(base[i])
		}
	}
	return out.String()
}
