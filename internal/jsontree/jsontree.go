// Package jsontree parses one strict JSON document into a tree, for the
// packages that need JSON's exact text rather than Go values: contents
// (canonical JSON, JSON merge) and exchange/doc (documents).
package jsontree

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// The kinds of Value.
const (
	Object = '{'
	Array  = '['
	String = '"'
	Number = '0'
	True   = 't'
	False  = 'f'
	Null   = 'n'
)

// Value is one parsed JSON value. Kind is one of the kinds above. Text is
// a string's text (valid UTF-8: an invalid byte became U+FFFD) or a
// number's literal JSON text, so a number's digits are never changed.
// Members (sorted by name bytes, names unique) belong to an Object, Items
// to an Array.
type Value struct {
	Kind    byte
	Text    string
	Members []Member
	Items   []*Value
}

// Member is one member of an object.
type Member struct {
	Name  string
	Value *Value
}

// Error is the error Parse returns: Err says what is wrong, Offset is the
// input byte offset at which parsing stopped.
type Error struct {
	Offset int64
	Err    error
}

// Error returns the message of e.Err.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns e.Err.
func (e *Error) Unwrap() error { return e.Err }

// Parse parses exactly one JSON document. A syntax error, trailing data,
// an object with two members of one name, or nesting deeper than maxDepth
// return an *Error.
func Parse(data []byte, maxDepth int) (*Value, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	v, err := parse(d, 0, maxDepth)
	if err == nil {
		if _, terr := d.Token(); terr != io.EOF {
			err = errors.New("data after the document")
			if terr != nil {
				err = terr
			}
		}
	}
	if err != nil {
		return nil, &Error{Offset: d.InputOffset(), Err: err}
	}
	return v, nil
}

func parse(d *json.Decoder, depth, maxDepth int) (*Value, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested more than %d deep", maxDepth)
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
				m, err := parse(d, depth+1, maxDepth)
				if err != nil {
					return nil, err
				}
				v.Members = append(v.Members, Member{name, m})
			}
			if _, err := d.Token(); err != nil { // '}'
				return nil, err
			}
			slices.SortFunc(v.Members, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
			return v, nil
		case '[':
			v := &Value{Kind: Array}
			for d.More() {
				it, err := parse(d, depth+1, maxDepth)
				if err != nil {
					return nil, err
				}
				v.Items = append(v.Items, it)
			}
			if _, err := d.Token(); err != nil { // ']'
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
			return &Value{Kind: True}, nil
		}
		return &Value{Kind: False}, nil
	case nil:
		return &Value{Kind: Null}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}
