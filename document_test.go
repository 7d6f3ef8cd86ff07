package strata_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
	"github.com/stratakv/strata/exchange/doc"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// docNested has unicode, empty objects and arrays, ints, floats, big
// numbers, exponent forms, booleans, null, and strings that look like
// numbers.
const docNested = `{
  "service": {"name": "größe ✓ 日本", "port": 8080, "ratio": 0.50, "big": 18446744073709551617123,
              "exp": 6.02E+23, "small": -1e-7, "on": true, "off": false, "none": null},
  "empty": {}, "list": [], "mixed": [1, "a", {"k": [true]}, [], {}],
  "quoted": {"num": "42", "bool": "true", "nul": "null", "blank": "", "multi": "a\nb\n"},
  "nested": {"deeper": {"deepest": {"leaf": "🍃"}}}
}`

func TestDocumentRoundTrip(t *testing.T) {
	kv := openURL(t, "pebble://"+t.TempDir())
	defer kv.Close()
	want, err := doc.DecodeJSON([]byte(docNested))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		format strata.DocFormat
		at     string
		decode func([]byte) (*doc.Value, error)
	}{
		{strata.FormatJSON, "", doc.DecodeJSON},
		{strata.FormatJSON, "config/app", doc.DecodeJSON},
		{strata.FormatYAML, "", doc.DecodeYAML},
		{strata.FormatYAML, "y", doc.DecodeYAML},
	} {
		in := []byte(docNested)
		if tc.format == strata.FormatYAML {
			if in, err = doc.EncodeYAML(want); err != nil {
				t.Fatal(err)
			}
		}
		b := kv.Branch(string(tc.format))
		h1 := must[strata.Hash](t)(b.ImportDocument(ctx, tc.at, tc.format, in, strata.Message("import")))
		out := must[[]byte](t)(kv.ExportDocument(ctx, string(tc.format), tc.at, tc.format))
		got, err := tc.decode(out)
		if err != nil {
			t.Fatalf("%s at %q: the export does not parse: %v\n%s", tc.format, tc.at, err, out)
		}
		if !doc.Equal(want, got) {
			t.Fatalf("%s at %q: export differs from the import:\n%s", tc.format, tc.at, out)
		}
		// The exported document, imported again, changes nothing.
		h2 := must[strata.Hash](t)(b.ImportDocument(ctx, tc.at, tc.format, out))
		if h2 != h1 {
			t.Errorf("%s at %q: re-importing the export made commit %s", tc.format, tc.at, h2.Short())
		}
		// Strings are text values; numbers keep their digits as JSON.
		p := strings.TrimPrefix(tc.at+"/", "/")
		for path, wantV := range map[string]strata.Value{
			p + "quoted/num":    strata.Text("42"),
			p + "service/port":  strata.JSON([]byte("8080")),
			p + "service/ratio": strata.JSON([]byte("0.50")),
			p + "service/big":   strata.JSON([]byte("18446744073709551617123")),
			p + "service/exp":   strata.JSON([]byte("6.02E+23")),
			p + "empty":         strata.JSON([]byte("{}")),
			p + "list":          strata.JSON([]byte("[]")),
		} {
			v := must[strata.Value](t)(b.GetValue(ctx, path))
			if v.Kind != wantV.Kind || string(v.Data) != string(wantV.Data) {
				t.Errorf("%s: %s = %v %q, want %v %q", tc.format, path, v.Kind, v.Data, wantV.Kind, wantV.Data)
			}
		}
	}
}

func TestDocumentImportReplacesSubtree(t *testing.T) {
	kv := openMem(t)
	b := kv.Branch("main")
	must[strata.Hash](t)(b.Set(ctx, "cfg/old", []byte("x")))
	must[strata.Hash](t)(b.Set(ctx, "keep", []byte("k")))
	must[strata.Hash](t)(b.ImportDocument(ctx, "cfg", strata.FormatJSON, []byte(`{"new": 1}`)))
	if _, err := b.Get(ctx, "cfg/old"); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("cfg/old survived the import at cfg: %v", err)
	}
	if v := must[[]byte](t)(b.Get(ctx, "keep")); string(v) != "k" {
		t.Errorf("keep = %q", v)
	}
	// A scalar document at a path is one value; {} at a path is kept.
	must[strata.Hash](t)(b.ImportDocument(ctx, "s", strata.FormatYAML, []byte("hello\n")))
	must[strata.Hash](t)(b.ImportDocument(ctx, "e", strata.FormatJSON, []byte(`{}`)))
	for path, want := range map[string]string{"s": "\"hello\"\n", "e": "{}\n", "cfg": "{\n  \"new\": 1\n}\n"} {
		if out := must[[]byte](t)(kv.ExportDocument(ctx, "main", path, strata.FormatJSON)); string(out) != want {
			t.Errorf("export %s = %q, want %q", path, out, want)
		}
	}
	// A raw value that is not UTF-8 has no place in a document.
	must[strata.Hash](t)(b.Set(ctx, "bin", []byte{0xff, 0xfe}))
	if _, err := kv.ExportDocument(ctx, "main", "", strata.FormatJSON); !errors.Is(err, strata.ErrInvalidValue) || !strings.Contains(err.Error(), `"bin"`) {
		t.Errorf("export of a binary raw value: %v, want ErrInvalidValue naming bin", err)
	}
	if _, err := kv.ExportDocument(ctx, "main", "nothing/here", strata.FormatJSON); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("export of a missing path: %v, want ErrNotFound", err)
	}
}

func TestDocumentImportErrors(t *testing.T) {
	kv := openMem(t)
	b := kv.Branch("main")
	for _, tc := range []struct {
		at, in string
		want   error
		names  string
	}{
		{"", `{"a": {"x/y": 1}}`, strata.ErrInvalidPath, `"x/y"`},
		{"", `{"a": {"..": 1}}`, strata.ErrInvalidPath, `".."`},
		{"", `{"": 1}`, strata.ErrInvalidPath, `""`},
		{"", `[1, 2]`, strata.ErrInvalidValue, "must be an object"},
		{"", `{"a": 1, "a": 2}`, strata.ErrInvalidValue, `"a"`},
		{"", `{"a": `, strata.ErrInvalidValue, "byte"},
	} {
		_, err := b.ImportDocument(ctx, tc.at, strata.FormatJSON, []byte(tc.in))
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.names) {
			t.Errorf("import %s: %v, want %v naming %s", tc.in, err, tc.want, tc.names)
		}
	}
	if _, err := b.Head(ctx); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("a failed import made a commit: %v", err)
	}
}

// TestDocumentPathLimits: an import whose paths (at included) reach the
// path limits works and exports back; one a segment or a byte over them
// is refused with ErrInvalidPath naming the path's start, writing
// nothing; and the export of a tree holding such a path (built below the
// facade, as an import before the check could) is refused too, not cut
// short.
func TestDocumentPathLimits(t *testing.T) {
	kv := openMem(t)
	b := kv.Branch("main")
	nest := func(n int) string { // n levels of {"d": ...} around 1
		return strings.Repeat(`{"d":`, n) + "1" + strings.Repeat("}", n)
	}
	key := func(n int) string { return `{"` + strings.Repeat("k", n) + `":1}` }
	for _, tc := range []struct{ at, in string }{
		{"", nest(strata.MaxPathSegments)},
		{"x", nest(strata.MaxPathSegments - 1)},
		{"", key(strata.MaxPathBytes)},
		{"x", key(strata.MaxPathBytes - 2)},
	} {
		if _, err := b.ImportDocument(ctx, tc.at, strata.FormatJSON, []byte(tc.in)); err != nil {
			t.Fatalf("import at %q of a document at the limits: %v", tc.at, err)
		}
		out := must[[]byte](t)(kv.ExportDocument(ctx, "main", tc.at, strata.FormatJSON))
		want := doc.EncodeJSON(must[*doc.Value](t)(doc.DecodeJSON([]byte(tc.in))))
		if d := cmp.Diff(string(want), string(out)); d != "" {
			t.Errorf("export at %q differs (-imported +exported):\n%s", tc.at, d)
		}
	}
	head := must[strata.Hash](t)(b.Head(ctx))
	for _, tc := range []struct{ at, in, names string }{
		{"", nest(strata.MaxPathSegments + 1), `"d/d/d/d/`},
		{"x", nest(strata.MaxPathSegments), `"x/d/d/d/`},
		{"", `{"ok": 1, "deep": ` + nest(strata.MaxPathSegments) + `}`, `"deep/d/d/`},
		{"", key(strata.MaxPathBytes + 1), `"kkkk`},
		{"x", key(strata.MaxPathBytes - 1), `"x/kkk`},
	} {
		_, err := b.ImportDocument(ctx, tc.at, strata.FormatJSON, []byte(tc.in))
		if !errors.Is(err, strata.ErrInvalidPath) || !strings.Contains(err.Error(), tc.names) || !strings.Contains(err.Error(), "limit") {
			t.Errorf("import at %q over the limits: %v, want ErrInvalidPath naming %s and the limit", tc.at, err, tc.names)
		}
	}
	if h := must[strata.Hash](t)(b.Head(ctx)); h != head {
		t.Errorf("a refused import moved main from %s to %s", head.Short(), h.Short())
	}

	// A tree with a path one segment over the limit, built directly.
	st := node.NewStore(kv.Backend(), 0)
	bld := tree.New(st, node.Empty).Builder()
	deep := strings.Split(strings.TrimSuffix(strings.Repeat("d/", strata.MaxPathSegments+1), "/"), "/")
	if err := bld.Set(ctx, deep, []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := bld.Set(ctx, []string{"a"}, []byte("2")); err != nil {
		t.Fatal(err)
	}
	root := must[strata.Hash](t)(bld.Write(ctx))
	c := commit.Object(&commit.Commit{Tree: root, Author: "t", Message: "deep", Height: 1})
	if err := kv.Backend().Put(ctx, []backend.Object{c}); err != nil {
		t.Fatal(err)
	}
	if err := kv.Branch("deep").CompareAndSwap(ctx, strata.Hash{}, c.Hash); err != nil {
		t.Fatal(err)
	}
	for _, at := range []string{"", "d"} {
		out, err := kv.ExportDocument(ctx, "deep", at, strata.FormatJSON)
		if !errors.Is(err, strata.ErrInvalidPath) || !strings.Contains(err.Error(), `"d/d/d/`) {
			t.Errorf("export at %q of a tree with a path over the limit: %d bytes, %v; want ErrInvalidPath naming it", at, len(out), err)
		}
	}
}

// TestDocumentExportNonUTF8Names: a name that is not UTF-8 (as a Git
// import of Latin-1 file names makes) is refused by export in both
// formats, naming its path, not turned into U+FFFD (which made two names
// one key, twice).
func TestDocumentExportNonUTF8Names(t *testing.T) {
	kv := openMem(t)
	b := kv.Branch("main")
	must[strata.Hash](t)(b.Set(ctx, "dir/k\xe9", []byte("one")))
	must[strata.Hash](t)(b.Set(ctx, "dir/k\xe8", []byte("two")))
	must[strata.Hash](t)(b.Set(ctx, "ok/k", []byte("three")))
	for _, f := range []strata.DocFormat{strata.FormatJSON, strata.FormatYAML} {
		for _, at := range []string{"", "dir"} {
			out, err := kv.ExportDocument(ctx, "main", at, f)
			if !errors.Is(err, strata.ErrInvalidValue) || !strings.Contains(err.Error(), `"dir/k\xe8"`) {
				t.Errorf("%s export at %q: %q, %v; want ErrInvalidValue naming \"dir/k\\xe8\"", f, at, out, err)
			}
		}
		// A value at such a path is no key, and what has none exports.
		if out, err := kv.ExportDocument(ctx, "main", "dir/k\xe9", f); err != nil || !strings.Contains(string(out), "one") {
			t.Errorf("%s export of the value at dir/k\\xe9: %q, %v", f, out, err)
		}
		if _, err := kv.ExportDocument(ctx, "main", "ok", f); err != nil {
			t.Errorf("%s export of ok: %v", f, err)
		}
	}
}
