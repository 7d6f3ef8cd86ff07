package doc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// nested is a document with every kind of value: unicode, empty objects
// and arrays, ints, floats, big numbers, exponent forms, booleans, null,
// and strings that look like other things.
const nested = `{
  "name": "strata ✓ — 日本語 🎉",
  "empty": {},
  "list": [],
  "nums": {"int": 42, "neg": -7, "float": 3.25, "trail": 1.10, "big": 123456789012345678901234567890,
           "exp": 1E+5, "exp2": -2.5e-3, "zero": 0, "negzero": -0.0},
  "flags": {"yes": true, "no": false, "nothing": null},
  "strs": {"five": "5", "t": "true", "n": "null", "e": "", "sp": " lead and trail ", "nl": "line1\nline2\n",
           "colon": "a: b", "hash": "# not a comment", "dash": "- x", "quote": "\"'", "tab": "a\tb", "bell": "\u0007",
           "yes": "yes", "tilde": "~", "star": "*x", "amp": "&y", "brace": "{}", "brack": "[]", "pct": "%z",
           "hex": "0x1F", "inf": ".inf", "uni": "ünïcödé"},
  "arr": [1, "two", {"b": 2, "a": [true, null, {}]}, [], [[]]],
  "deep": {"a": {"b": {"c": {"d": "e"}}}},
  "odd keys": {"with space": 1, "ü": 2, "5": "five", "true": 1, "-": 0, "a.b": 3}
}`

func TestJSONRoundTrip(t *testing.T) {
	v, err := DecodeJSON([]byte(nested))
	if err != nil {
		t.Fatal(err)
	}
	es, err := Flatten(v)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Build(es)
	if err != nil {
		t.Fatal(err)
	}
	if !Equal(v, back) {
		t.Fatalf("flatten/build changed the document:\n%s\n%s", EncodeJSON(v), EncodeJSON(back))
	}
	again, err := DecodeJSON(EncodeJSON(back))
	if err != nil {
		t.Fatal(err)
	}
	if !Equal(v, again) {
		t.Fatalf("encode/decode changed the document:\n%s", EncodeJSON(again))
	}
	// Numbers keep their literal text, exactly.
	want := map[string]string{"nums/big": "123456789012345678901234567890", "nums/exp": "1E+5", "nums/trail": "1.10", "nums/negzero": "-0.0", "strs/five": "5", "empty": "{}", "list": "[]", "flags/nothing": "null"}
	got := map[string]string{}
	for _, e := range es {
		p := strings.Join(e.Path, "/")
		if _, ok := want[p]; ok {
			got[p] = string(e.Data)
		}
		if p == "strs/five" && !e.Text {
			t.Errorf("the string \"5\" became a JSON entry")
		}
		if p == "nums/int" && e.Text {
			t.Errorf("the number 42 became a text entry")
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	v, err := DecodeJSON([]byte(nested))
	if err != nil {
		t.Fatal(err)
	}
	y, err := EncodeYAML(v)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeYAML(y)
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	if !Equal(v, back) {
		t.Fatalf("YAML round trip changed the document:\n%s\nread back as\n%s", y, EncodeJSON(back))
	}
}

func TestYAMLDecode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a: 1\nb: [x, 2.50, true, ~]\n", `{"a":1,"b":["x",2.50,true,null]}`},
		{"n: 1_000\nh: 0x1F\no: 0o17\np: +1\n", `{"h":31,"n":1000,"o":15,"p":1}`},
		{"base: &b {x: 1}\nuse: *b\n", `{"base":{"x":1},"use":{"x":1}}`},
		{"s: !!str 5\nt: '5'\n", `{"s":"5","t":"5"}`},
		{"text: |\n  one\n  two\n", `{"text":"one\ntwo\n"}`},
		{"", `null`},
		{"- 1\n- a\n", `[1,"a"]`},
		{"e: {}\nl: []\n", `{"e":{},"l":[]}`},
	} {
		v, err := DecodeYAML([]byte(tc.in))
		if err != nil {
			t.Errorf("DecodeYAML(%q): %v", tc.in, err)
			continue
		}
		if got := string(v.AppendJSON(nil)); got != tc.want {
			t.Errorf("DecodeYAML(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		yaml bool
		in   string
	}{
		{false, `{"a":1,"a":2}`},
		{false, `{"a":1} x`},
		{false, `{"a":`},
		{false, strings.Repeat("[", MaxDepth+2)},
		{true, "a: 1\na: 2\n"},
		{true, "a: .inf\n"},
		{true, "a: &x {b: 1}\n<<: *x\n"},
		{true, "a: 1\n---\nb: 2\n"},
		{true, "a: *nope\n"},
		{true, "a: [1, 2\n"},
	} {
		var err error
		if tc.yaml {
			_, err = DecodeYAML([]byte(tc.in))
		} else {
			_, err = DecodeJSON([]byte(tc.in))
		}
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("decode %q: got %v, want ErrSyntax", tc.in, err)
		}
	}
}

func TestFlattenRefusesBadKeys(t *testing.T) {
	for _, k := range []string{"", ".", "..", "a/b", "nul\x00"} {
		v := &Value{Kind: Object, Members: []Member{{Name: "top", Value: &Value{Kind: Object, Members: []Member{{Name: k, Value: &Value{Kind: Null}}}}}}}
		_, err := Flatten(v)
		if !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), "/top") {
			t.Errorf("key %q: got %v, want ErrKey naming /top", k, err)
		}
	}
}

func TestScalarDocuments(t *testing.T) {
	for _, in := range []string{`"just text"`, `5`, `[1,2]`, `{}`, `null`} {
		v, err := DecodeJSON([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		es, err := Flatten(v)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Build(es)
		if err != nil {
			t.Fatal(err)
		}
		if !Equal(v, back) {
			t.Errorf("%s came back as %s", in, back.AppendJSON(nil))
		}
	}
}

// roundTrip checks, for any document that decodes, that flattening and
// building it, and encoding and decoding it in both formats, give it back.
func roundTrip(t *testing.T, v *Value) {
	es, err := Flatten(v)
	if err != nil {
		if !errors.Is(err, ErrKey) && !errors.Is(err, ErrSyntax) {
			t.Fatalf("Flatten: unexpected error %v", err)
		}
		return
	}
	back, err := Build(es)
	if err != nil {
		t.Fatalf("Build of Flatten: %v", err)
	}
	if !Equal(v, back) {
		t.Fatalf("flatten/build: %s became %s", v.AppendJSON(nil), back.AppendJSON(nil))
	}
	j, err := DecodeJSON(EncodeJSON(v))
	if err != nil || !Equal(v, j) {
		t.Fatalf("JSON: %s: %v", v.AppendJSON(nil), err)
	}
	y, err := EncodeYAML(v)
	if err != nil {
		t.Fatalf("EncodeYAML(%s): %v", v.AppendJSON(nil), err)
	}
	yv, err := DecodeYAML(y)
	if err != nil || !Equal(v, yv) {
		t.Fatalf("YAML: %s encoded as %q: %v", v.AppendJSON(nil), y, err)
	}
}

func FuzzJSON(f *testing.F) {
	for _, s := range []string{nested, `{}`, `[]`, `"x"`, `1e5`, `{"a":{"b":[1,{"c":null}]}}`, `{"":1}`, `{"a/b":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := DecodeJSON(data)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		roundTrip(t, v)
	})
}

func FuzzYAML(f *testing.F) {
	for _, s := range []string{"a: 1\nb: [x, 2.50]\n", "- a\n- {b: c}\n", "x: &a [1]\ny: *a\n", "s: !!str 5\n", "t: |\n  a\n", "k: 'q''q'\n", "{}", "0x1F"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := DecodeYAML(data)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		roundTrip(t, v)
	})
}

// aliasBomb returns a YAML document of a few hundred bytes that nests
// levels mappings of ten aliases each of the level below (a sequence of
// ten scalars at the bottom) and aliases the top level five times: about
// 6·10^(levels+1)/9 values once expanded.
func aliasBomb(levels int) string {
	var b strings.Builder
	b.WriteString("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "l%d: &l%d {", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "k%d: *l%d", j, i-1)
		}
		b.WriteString("}\n")
	}
	fmt.Fprintf(&b, "top: [*l%d, *l%d, *l%d, *l%d, *l%d]\n", levels, levels, levels, levels, levels)
	return b.String()
}

// TestYAMLAliasBomb: a small document whose aliases expand to millions of
// values is refused with ErrSyntax naming the alias and the limit (it
// used to decode, and its millions of entries exhausted memory in the
// import); one whose aliases stay under the limit decodes and flattens.
func TestYAMLAliasBomb(t *testing.T) {
	bomb := aliasBomb(5) // about 600,000 values: under the old limit of 10^7
	if len(bomb) > 1000 {
		t.Fatalf("the bomb is %d bytes", len(bomb))
	}
	_, err := DecodeYAML([]byte(bomb))
	if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), "alias *l") || !strings.Contains(err.Error(), fmt.Sprint(MaxYAMLAliasValues)) {
		t.Errorf("decode of an alias bomb: %v; want ErrSyntax naming the alias and the limit", err)
	}
	v, err := DecodeYAML([]byte(aliasBomb(2))) // about 6,000 values
	if err != nil {
		t.Fatalf("decode of a document with a few thousand aliased values: %v", err)
	}
	// Entries: l0 and top are arrays (one JSON value each), l1 has 10
	// and l2 100.
	if es, err := Flatten(v); err != nil || len(es) != 1+10+100+1 {
		t.Errorf("flatten: %d entries, %v; want %d", len(es), err, 112)
	}
}

// TestYAMLQuotesWhatOtherReadersResolve: a string value that some YAML
// reader (1.1 or 1.2) would take for a boolean, null, number, or the
// value or merge key is written quoted, and reads back as the same
// string.
func TestYAMLQuotesWhatOtherReadersResolve(t *testing.T) {
	for _, s := range []string{"=", "<<", "~", "y", "N", "on", "Off", "yes", "NULL", "190:20:30", "-1:30", "1e3", ".5", "+12", "1_000", "0o17", "0x1F", "0b101", ".inf", "-.Inf", ".NaN", "1.", "3.14"} {
		quoted := strconv.Quote(s)
		// As a value, in block style.
		v := &Value{Kind: Object, Members: []Member{{Name: "k", Value: &Value{Kind: String, Text: s}}}}
		y, err := EncodeYAML(v)
		if err != nil {
			t.Fatal(err)
		}
		if want := "k: " + quoted + "\n"; string(y) != want {
			t.Errorf("%q: encoded %q, want %q", s, y, want)
		}
		if back, err := DecodeYAML(y); err != nil || !Equal(v, back) {
			t.Errorf("%q: read back %v, %v", s, back, err)
		}
	}
	// Strings no reader takes for anything else stay plain.
	for _, s := range []string{"yesterday", "a=b", "1.2.3", "12:60:00x", "v1"} {
		y, err := EncodeYAML(&Value{Kind: String, Text: s})
		if err != nil || string(y) != s+"\n" {
			t.Errorf("%q: encoded %q, %v; want it plain", s, y, err)
		}
	}
}
