package doc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DecodeJSON parses exactly one JSON document. Numbers keep their literal
// text; object members are sorted by name; a duplicate member name, a
// document nested deeper than MaxDepth, trailing data or a syntax error
// return an error wrapping ErrSyntax (naming the byte offset).
func DecodeJSON(data []byte) (*Value, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	v, err := decodeJSON(d, 0)
	if err == nil {
		if _, terr := d.Token(); terr != io.EOF {
			err = errors.New("data after the document")
			if terr != nil {
				err = terr
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: JSON near byte %d: %v", ErrSyntax, d.InputOffset(), err)
	}
	return v, nil
}

func decodeJSON(d *json.Decoder, depth int) (*Value, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("nested more than %d deep", MaxDepth)
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
			v := &Value{Kind: Object}
			seen := map[string]bool{}
			for d.More() {
				k, err := d.Token()
				if err != nil {
					return nil, err
				}
				name, _ := k.(string)
				if seen[name] {
					return nil, fmt.Errorf("object has two members named %q", name)
				}
				seen[name] = true
				m, err := decodeJSON(d, depth+1)
				if err != nil {
					return nil, err
				}
				v.Members = append(v.Members, Member{name, m})
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			v.Members = sortedMembers(v.Members)
			return v, nil
		case '[':
			v := &Value{Kind: Array, Items: []*Value{}}
			for d.More() {
				it, err := decodeJSON(d, depth+1)
				if err != nil {
					return nil, err
				}
				v.Items = append(v.Items, it)
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			return v, nil
		}
		return nil, fmt.Errorf("unexpected %q", rune(t))
	case string:
		return &Value{Kind: String, Text: t}, nil
	case json.Number:
		return &Value{Kind: Number, Text: t.String()}, nil
	case bool:
		if t {
			return &Value{Kind: Bool, Text: "true"}, nil
		}
		return &Value{Kind: Bool, Text: "false"}, nil
	case nil:
		return &Value{Kind: Null}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
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
