package contents

import (
	"fmt"
	"sort"
	"strings"

	"github.com/stratakv/strata/internal/jsontree"
)

// maxJSONDepth bounds the nesting of a JSON document, so that a hostile
// value cannot exhaust the stack of a reader.
const maxJSONDepth = 1000

// jsonValue is a parsed JSON value (see jsontree.Value): numbers keep
// their literal text, so canonical form never changes a number's digits.
type jsonValue = jsontree.Value

type jsonMember = jsontree.Member

// parseJSON parses exactly one JSON document.
func parseJSON(data []byte) (*jsonValue, error) {
	return jsontree.Parse(data, maxJSONDepth)
}

// appendJSON appends v's canonical encoding to b: no whitespace, members in
// name order, strings escaped minimally.
func appendJSON(b []byte, v *jsonValue) []byte {
	switch v.Kind {
	case '{':
		b = append(b, '{')
		for i, m := range v.Members {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, m.Name)
			b = append(b, ':')
			b = appendJSON(b, m.Value)
		}
		return append(b, '}')
	case '[':
		b = append(b, '[')
		for i, it := range v.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, it)
		}
		return append(b, ']')
	case '"':
		return appendJSONString(b, v.Text)
	case '0':
		return append(b, v.Text...)
	case 't':
		return append(b, "true"...)
	case 'f':
		return append(b, "false"...)
	}
	return append(b, "null"...)
}

// appendJSONString writes s as a JSON string: '"' and '\' escaped, the
// control characters as \b \f \n \r \t or \u00XX (lowercase), everything
// else as its UTF-8 bytes. (s is valid UTF-8: the decoder replaced any
// invalid byte with U+FFFD.)
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// jsonEqual reports whether two values (nil: absent) are equal.
func jsonEqual(a, b *jsonValue) bool {
	if a == nil || b == nil {
		return a == b
	}
	return string(appendJSON(nil, a)) == string(appendJSON(nil, b))
}

// jsonPointer extends the JSON Pointer (RFC 6901) p with a member name.
func jsonPointer(p, name string) string {
	return p + "/" + strings.ReplaceAll(strings.ReplaceAll(name, "~", "~0"), "/", "~1")
}

// jsonConflict is one member (or the whole document, pointer "") that both
// sides changed differently.
type jsonConflict struct {
	pointer string
	deleted bool // one side removed it
}

// mergeJSONValue merges ours and theirs, both changed from base (nil:
// absent), at JSON pointer p. Objects (including an absent or non-object
// base, taken as empty) merge member by member; other values must be
// equal, or one side unchanged. Conflicts are appended to cs and settled
// by prefer (NoSide: ours stands in, the merge failed anyway).
func mergeJSONValue(base, ours, theirs *jsonValue, p string, prefer Side, cs *[]jsonConflict) *jsonValue {
	switch {
	case jsonEqual(ours, theirs):
		return ours
	case jsonEqual(base, ours):
		return theirs
	case jsonEqual(base, theirs):
		return ours
	}
	if ours != nil && theirs != nil && ours.Kind == '{' && theirs.Kind == '{' {
		var bm []jsonMember
		if base != nil && base.Kind == '{' {
			bm = base.Members
		}
		out := &jsonValue{Kind: jsontree.Object}
		find := func(ms []jsonMember, name string) *jsonValue {
			i := sort.Search(len(ms), func(i int) bool { return ms[i].Name >= name })
			if i < len(ms) && ms[i].Name == name {
				return ms[i].Value
			}
			return nil
		}
		for _, name := range memberNames(bm, ours.Members, theirs.Members) {
			v := mergeJSONValue(find(bm, name), find(ours.Members, name), find(theirs.Members, name), jsonPointer(p, name), prefer, cs)
			if v != nil {
				out.Members = append(out.Members, jsonMember{Name: name, Value: v})
			}
		}
		return out
	}
	*cs = append(*cs, jsonConflict{pointer: p, deleted: ours == nil || theirs == nil})
	switch prefer {
	case Base:
		return base
	case Theirs:
		return theirs
	}
	return ours
}

// memberNames returns the sorted union of the names of three member lists.
func memberNames(lists ...[]jsonMember) []string {
	var names []string
	for _, l := range lists {
		for _, m := range l {
			names = append(names, m.Name)
		}
	}
	sort.Strings(names)
	out := names[:0]
	for i, n := range names {
		if i == 0 || n != names[i-1] {
			out = append(out, n)
		}
	}
	return out
}

// mergeJSON merges three canonical JSON documents (base nil: absent).
func mergeJSON(base *Contents, ours, theirs Contents, prefer Side) (Contents, error) {
	parse := func(c Contents) (*jsonValue, error) {
		v, err := parseJSON(c.Data)
		if err != nil {
			return nil, fmt.Errorf("%w: JSON: %v", ErrInvalidValue, err)
		}
		return v, nil
	}
	var b *jsonValue
	if base != nil {
		var err error
		if b, err = parse(*base); err != nil {
			return Contents{}, err
		}
	}
	o, err := parse(ours)
	if err != nil {
		return Contents{}, err
	}
	t, err := parse(theirs)
	if err != nil {
		return Contents{}, err
	}
	var cs []jsonConflict
	v := mergeJSONValue(b, o, t, "", prefer, &cs)
	if len(cs) > 0 && prefer == NoSide {
		return Contents{}, &ConflictError{Detail: describeJSONConflicts(cs), Fields: jsonPointers(cs)}
	}
	if v == nil { // prefer Base, and the base had no document: cannot happen
		v = o // at the top level, since ours and theirs are both present
	}
	return Contents{Kind: KindJSON, Data: appendJSON(nil, v)}, nil
}

func jsonPointers(cs []jsonConflict) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.pointer
	}
	return out
}

func describeJSONConflicts(cs []jsonConflict) string {
	if len(cs) == 1 && cs[0].pointer == "" {
		return "the JSON document changed differently on both sides"
	}
	var changed, deleted []string
	for _, c := range cs {
		q := fmt.Sprintf("%q", c.pointer)
		if c.deleted {
			deleted = append(deleted, q)
		} else {
			changed = append(changed, q)
		}
	}
	var parts []string
	if len(changed) > 0 {
		parts = append(parts, fmt.Sprintf("JSON %s %s changed differently on both sides", plural(len(changed), "field", "fields"), strings.Join(changed, ", ")))
	}
	if len(deleted) > 0 {
		parts = append(parts, fmt.Sprintf("JSON %s %s changed on one side and removed on the other", plural(len(deleted), "field", "fields"), strings.Join(deleted, ", ")))
	}
	return strings.Join(parts, "; ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
