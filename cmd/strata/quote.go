package main

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// quoteName returns a name (a path, a path segment, a branch) as
// line-oriented output prints it, so that no name can forge a line: a name
// that holds a control character (C0, DEL or C1), a byte that is not
// UTF-8, '"' or '\' is written C-quoted, as git quotes paths: in double
// quotes, with \a \b \t \n \v \f \r \" \\ for those characters and \NNN
// (three octal digits) for each byte of any other control character or
// invalid byte. Any other name, non-ASCII text included, is returned as
// it is. Output in JSON carries names exactly instead.
func quoteName(s string) string {
	if !needsQuote(s) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			writeOctal(&b, s[i])
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case unicode.IsControl(r):
			if esc, ok := cEscapes[r]; ok {
				b.WriteString(esc)
				break
			}
			for j := 0; j < size; j++ {
				writeOctal(&b, s[i+j])
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

var cEscapes = map[rune]string{
	'\a': `\a`, '\b': `\b`, '\t': `\t`, '\n': `\n`, '\v': `\v`, '\f': `\f`, '\r': `\r`,
}

func writeOctal(b *strings.Builder, c byte) {
	b.WriteByte('\\')
	b.WriteByte('0' + c>>6)
	b.WriteByte('0' + c>>3&7)
	b.WriteByte('0' + c&7)
}

// needsQuote reports whether quoteName must quote s.
func needsQuote(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 || r == '"' || r == '\\' || unicode.IsControl(r) {
			return true
		}
		i += size
	}
	return false
}

// quoteText returns free text that may hold names (a conflict's detail)
// for one output line: as it is unless it holds a control character or an
// invalid byte, and then with those escaped as quoteName escapes them,
// without surrounding quotes.
func quoteText(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r == utf8.RuneError || unicode.IsControl(r) }) {
		return s
	}
	q := quoteName(s)
	return q[1 : len(q)-1]
}
