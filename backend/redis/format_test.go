package redis

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stratakv/strata/backend"
)

// TestFormatDocQuotesScript checks that docs/FORMAT.md quotes the script
// that CompareAndSwapRef runs, comments and spacing aside.
func TestFormatDocQuotesScript(t *testing.T) {
	doc, err := os.ReadFile("../../docs/FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```(?:lua)?\n(local .*?)```").FindAllSubmatch(doc, -1)
	normalize := func(s string) string {
		s = regexp.MustCompile(`--[^\n]*`).ReplaceAllString(s, "")
		return strings.Join(strings.Fields(s), " ")
	}
	found := map[string]bool{}
	for _, b := range blocks {
		found[normalize(string(b[1]))] = true
	}
	for name, script := range map[string]string{"compare-and-swap": casLua, "commit": commitLua} {
		if !found[normalize(script)] {
			t.Errorf("docs/FORMAT.md does not quote the %s script as it is:\n%s", name, script)
		}
	}
}

func TestDecodeEvent(t *testing.T) {
	a, b := backend.Hash{0xaa}, backend.Hash{0xbb}
	cases := []struct {
		payload string
		want    backend.RefEvent
		ok      bool
	}{
		{"\x01" + string(a[:]) + string(b[:]) + "refs/heads/main", backend.RefEvent{Name: "refs/heads/main", Old: a, New: b}, true},
		{"\x01" + string(backend.ZeroHash[:]) + string(b[:]) + "x", backend.RefEvent{Name: "x", New: b}, true},
		{"\x01" + string(a[:]) + string(b[:]), backend.RefEvent{}, false}, // no name
		{"\x02" + string(a[:]) + string(b[:]) + "x", backend.RefEvent{}, false},
		{"", backend.RefEvent{}, false},
		{"hello", backend.RefEvent{}, false},
	}
	for _, tc := range cases {
		got, ok := decodeEvent(tc.payload)
		if ok != tc.ok || got != tc.want {
			t.Errorf("decodeEvent(%x) = %+v, %t; want %+v, %t", tc.payload, got, ok, tc.want, tc.ok)
		}
	}
}

func TestEscapeGlob(t *testing.T) {
	if got, want := escapeGlob([]byte(`a*b?c[d]e\f`)), `a\*b\?c\[d\]e\\f`; got != want {
		t.Errorf("escapeGlob = %q, want %q", got, want)
	}
}
