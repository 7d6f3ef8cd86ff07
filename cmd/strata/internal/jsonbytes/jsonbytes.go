// Package jsonbytes gives a value's bytes a form for JSON output, shared by
// the command line's --json output and strata serve's JSON API: a JSON
// string can hold only valid UTF-8, so other bytes go as base64.
package jsonbytes

import (
	"encoding/base64"
	"unicode/utf8"
)

// TextOrBase64 returns b as a string if it is valid UTF-8 (text), else as
// standard padded base64 (b64); the other result is nil, and both are nil
// for a nil b (an absent value; an empty one is the empty string).
func TextOrBase64(b []byte) (text, b64 *string) {
	if b == nil {
		return nil, nil
	}
	if utf8.Valid(b) {
		s := string(b)
		return &s, nil
	}
	s := base64.StdEncoding.EncodeToString(b)
	return nil, &s
}
