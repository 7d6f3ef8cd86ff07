package doc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/stratakv/strata/internal/jsontree"
)

// DecodeJSON parses exactly one JSON document. Numbers keep their literal
// text; object members are sorted by name; a duplicate member name, a
// document nested deeper than MaxDepth, trailing data or a syntax error
// return an error wrapping ErrSyntax (naming the byte offset).
func DecodeJSON(data []byte) (*Value, error) {
	t, err := jsontree.Parse(data, MaxDepth)
	if err != nil {
		var je *jsontree.Error
		if !errors.As(err, &je) { // cannot happen: Parse returns *jsontree.Error
			je = &jsontree.Error{Err: err}
		}
		return nil, fmt.Errorf("%w: JSON near byte %d: %v", ErrSyntax, je.Offset, je.Err)
	}
	return fromTree(t), nil
}

// fromTree converts a parsed JSON value to a Value (an array's Items are
// never nil).
func fromTree(t *jsontree.Value) *Value {
	switch t.Kind {
	case jsontree.Object:
		v := &Value{Kind: Object}
		for _, m := range t.Members {
			v.Members = append(v.Members, Member{m.Name, fromTree(m.Value)})
		}
		return v
	case jsontree.Array:
		v := &Value{Kind: Array, Items: make([]*Value, 0, len(t.Items))}
		for _, it := range t.Items {
			v.Items = append(v.Items, fromTree(it))
		}
		return v
	case jsontree.String:
		return &Value{Kind: String, Text: t.Text}
	case jsontree.Number:
		return &Value{Kind: Number, Text: t.Text}
	case jsontree.True:
		return &Value{Kind: Bool, Text: "true"}
	case jsontree.False:
		return &Value{Kind: Bool, Text: "false"}
	}
	return &Value{Kind: Null}
}

// AppendJSON appends v's compact JSON text to b (object members sorted by
// name, numbers as their literal text, no HTML escaping) and returns it.
func (v *Value) AppendJSON(b []byte) []byte {
	return v.appendJSON(b, "", "")
}

// EncodeJSON returns v as JSON, indented by two spaces per level, with a
// final newline.
func EncodeJSON(v *Value) []byte {
	return append(v.appendJSON(nil, "\n", "  "), '\n')
}

func (v *Value) appendJSON(b []byte, nl, indent string) []byte {
	switch v.Kind {
	case Null:
		return append(b, "null"...)
	case Bool, Number:
		return append(b, v.Text...)
	case String:
		return appendString(b, v.Text)
	case Array:
		if len(v.Items) == 0 {
			return append(b, "[]"...)
		}
		b = append(b, '[')
		inner := nl + indent
		if nl == "" {
			inner = ""
		}
		for i, it := range v.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, inner...)
			b = it.appendJSON(b, inner, indent)
		}
		return append(append(b, nl...), ']')
	case Object:
		if len(v.Members) == 0 {
			return append(b, "{}"...)
		}
		b = append(b, '{')
		inner := nl + indent
		if nl == "" {
			inner = ""
		}
		sep := ":"
		if nl != "" {
			sep = ": "
		}
		for i, m := range sortedMembers(v.Members) {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, inner...)
			b = appendString(b, m.Name)
			b = append(b, sep...)
			b = m.Value.appendJSON(b, inner, indent)
		}
		return append(append(b, nl...), '}')
	}
	return b
}

func appendString(b []byte, s string) []byte {
	var buf strings.Builder
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	_ = e.Encode(s) // a string always encodes
	return append(b, strings.TrimSuffix(buf.String(), "\n")...)
}
