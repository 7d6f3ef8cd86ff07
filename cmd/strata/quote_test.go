package main

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzQuoteName: a quoted name is one line of valid UTF-8 without control
// characters, reads back exactly (the escapes are Go's and C's), and a
// name is left as it is only when it needs no quoting.
func FuzzQuoteName(f *testing.F) {
	for _, s := range []string{"", "a", "x/a\nb", `q"\`, "\x1b[1m", "\xff", "ünï", "\u0085", "\u2028", "\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := quoteName(s)
		if !utf8.ValidString(q) || strings.ContainsFunc(q, func(r rune) bool { return r < 0x20 || r >= 0x7f && r < 0xa0 }) {
			t.Fatalf("quoteName(%q) = %q holds a control character or invalid UTF-8", s, q)
		}
		if q == s {
			if needsQuote(s) {
				t.Fatalf("quoteName(%q) left it as it is", s)
			}
			return
		}
		back, err := strconv.Unquote(q)
		if err != nil || back != s {
			t.Fatalf("quoteName(%q) = %s reads back as %q, %v", s, q, back, err)
		}
	})
}
