package strata_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/exchange/doc"
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
