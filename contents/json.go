package contents

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// maxJSONDepth bounds the nesting of a JSON document, so that a hostile
// value cannot exhaust the stack of a reader.
const maxJSONDepth = 1000

// jsonValue is a parsed JSON value. Numbers keep their literal text, so
// canonical form never changes a number's digits.
type jsonValue struct {
	kind    byte // '{' object, '[' array, '"' string, '0' number, 't', 'f', 'n'
	text    string
	members []jsonMember // for objects, sorted by name bytes, names unique
	items   []*jsonValue // for arrays
}

type jsonMember struct {
	name  string
	value *jsonValue
}

// parseJSON parses exactly one JSON document.
func parseJSON(data []byte) (*jsonValue, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	v, err := parseJSONValue(d, 0)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		if err == nil {
			return nil, errors.New("more than one value")
		}
		return nil, err
	}
	return v, nil
}

func parseJSONValue(d *json.Decoder, depth int) (*jsonValue, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("nested more than %d deep", maxJSONDepth)
	}
	tok, err := d.Token()
	if err == io.EOF {
		return nil, errors.New("no value")
	}
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			v := &jsonValue{kind: '{'}
			seen := map[string]bool{}
			for d.More() {
				k, err := d.Token()
				if err != nil {
					return nil, err
				}
				name := k.(string)
				if seen[name] {
					return nil, fmt.Errorf("object has two members named %q", name)
				}
				seen[name] = true
				m, err := parseJSONValue(d, depth+1)
				if err != nil {
					return nil, err
				}
				v.members = append(v.members, jsonMember{name, m})
			}
			if _, err := d.Token(); err != nil { // '}'
				return nil, err
			}
			sort.Slice(v.members, func(i, j int) bool { return v.members[i].name < v.members[j].name })
			return v, nil
		case '[':
			v := &jsonValue{kind: '['}
			for d.More() {
				m, err := parseJSONValue(d, depth+1)
				if err != nil {
					return nil, err
				}
				v.items = append(v.items, m)
			}
			if _, err := d.Token(); err != nil { // ']'
				return nil, err
			}
			return v, nil
		}
		return nil, fmt.Errorf("unexpected %q", t)
	case string:
		return &jsonValue{kind: '"', text: t}, nil
	case json.Number:
		return &jsonValue{kind: '0', text: string(t)}, nil
	case bool:
		if t {
			return &jsonValue{kind: 't'}, nil
		}
		return &jsonValue{kind: 'f'}, nil
	case nil:
		return &jsonValue{kind: 'n'}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// appendTo appends v's canonical encoding to b: no whitespace, members in
// name order, strings escaped minimally.
func (v *jsonValue) appendTo(b []byte) []byte {
	switch v.kind {
	case '{':
		b = append(b, '{')
		for i, m := range v.members {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, m.name)
			b = append(b, ':')
			b = m.value.appendTo(b)
		}
		return append(b, '}')
	case '[':
		b = append(b, '[')
		for i, it := range v.items {
			if i > 0 {
				b = append(b, ',')
			}
			b = it.appendTo(b)
		}
		return append(b, ']')
	case '"':
		return appendJSONString(b, v.text)
	case '0':
		return append(b, v.text...)
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
	return string(a.appendTo(nil)) == string(b.appendTo(nil))
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
	if ours != nil && theirs != nil && ours.kind == '{' && theirs.kind == '{' {
		var bm []jsonMember
		if base != nil && base.kind == '{' {
			bm = base.members
		}
		out := &jsonValue{kind: '{'}
		find := func(ms []jsonMember, name string) *jsonValue {
			i := sort.Search(len(ms), func(i int) bool { return ms[i].name >= name })
			if i < len(ms) && ms[i].name == name {
				return ms[i].value
			}
			return nil
		}
		for _, name := range memberNames(bm, ours.members, theirs.members) {
			v := mergeJSONValue(find(bm, name), find(ours.members, name), find(theirs.members, name), jsonPointer(p, name), prefer, cs)
			if v != nil {
				out.members = append(out.members, jsonMember{name, v})
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
			names = append(names, m.name)
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
	return Contents{Kind: KindJSON, Data: v.appendTo(nil)}, nil
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
