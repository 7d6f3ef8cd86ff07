// Package doc converts JSON and YAML documents to and from a sorted list
// of (path, value) entries, the form in which strata stores a document,
// and back. It is a pure codec: it knows nothing of stores.
//
// # The mapping rule
//
// A document is a tree of values (Value). Flatten maps it to entries:
//
//   - an object with members becomes a directory: each member's name is
//     one path segment, and its value is mapped below it;
//   - a string becomes a text entry (Entry.Text) whose bytes are the
//     string's UTF-8 text;
//   - every other value — a number, true, false, null, an array, and an
//     empty object — becomes a JSON entry whose bytes are its compact JSON
//     text (object members sorted by name). Numbers keep their literal
//     text: 1E+5 stays 1E+5, 1.10 stays 1.10, and integers of any size
//     keep every digit.
//
// An empty object is a JSON entry "{}" because a directory cannot be
// empty. Arrays are JSON entries, not directories, so an array is never
// mistaken for an object with members "0", "1", …. Build is the inverse
// of Flatten, so a document survives Flatten then Build exactly, except
// that object members come out sorted by name (byte order), and
// duplicate member names are refused on input.
//
// A member name that cannot be a path segment — "", ".", "..", or a name
// containing "/" or a NUL byte — is refused with an error wrapping
// ErrKey that names it and the path to it.
package doc

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrSyntax is wrapped by every error about a document that does not
// parse, or uses a construct the mapping has no place for (a YAML merge
// key, .inf, .nan, several documents in one stream).
var ErrSyntax = errors.New("document syntax")

// ErrKey is wrapped by every error about an object member name that cannot
// be a path segment.
var ErrKey = errors.New("document key")

// MaxDepth bounds the nesting of a document, so that a hostile one cannot
// exhaust the stack.
const MaxDepth = 1000

// Kind is the type of a Value.
type Kind uint8

// The kinds of Value.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

// Value is one node of a document. Text is a string's text, a number's
// literal JSON text, or "true"/"false"; Members (sorted by name, names
// unique, after decoding) belong to an Object, Items to an Array.
type Value struct {
	Kind    Kind
	Text    string
	Members []Member
	Items   []*Value
}

// Member is one member of an object.
type Member struct {
	Name  string
	Value *Value
}

// Entry is one stored value of a flattened document: its path segments
// (none for a document that is not an object, imported as a single
// value), and its bytes: a string's text if Text, else compact JSON.
type Entry struct {
	Path []string
	Text bool
	Data []byte
}

// ValidName reports whether name can be a path segment (the rule of
// package node: not "", ".", "..", no "/" and no NUL byte).
func ValidName(name string) bool {
	return name != "" && name != "." && name != ".." &&
		strings.IndexByte(name, '/') < 0 && strings.IndexByte(name, 0) < 0
}

// Flatten maps v to its entries, sorted by path (see the package comment).
// A v that is not an object gives one entry with no path; an empty object
// gives none. A member name that cannot be a path segment returns an
// error wrapping ErrKey.
func Flatten(v *Value) ([]Entry, error) {
	if v.Kind != Object || len(v.Members) == 0 {
		if v.Kind == Object {
			return nil, nil
		}
		return []Entry{leaf(nil, v)}, nil
	}
	var out []Entry
	if err := flatten(nil, v, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func leaf(path []string, v *Value) Entry {
	if v.Kind == String {
		return Entry{Path: path, Text: true, Data: []byte(v.Text)}
	}
	return Entry{Path: path, Data: v.AppendJSON(nil)}
}

func flatten(path []string, v *Value, out *[]Entry) error {
	ms := sortedMembers(v.Members)
	for i, m := range ms {
		if i > 0 && ms[i-1].Name == m.Name {
			return fmt.Errorf("%w: object at %q has two members named %q", ErrSyntax, strings.Join(path, "/"), m.Name)
		}
		if !ValidName(m.Name) {
			return fmt.Errorf("%w: member %q of the object at %q cannot be a path segment (an empty name, \".\", \"..\", or one with \"/\" or a NUL byte)", ErrKey, m.Name, "/"+strings.Join(path, "/"))
		}
		p := append(slices.Clip(path), m.Name)
		if m.Value.Kind == Object && len(m.Value.Members) > 0 {
			if err := flatten(p, m.Value, out); err != nil {
				return err
			}
			continue
		}
		*out = append(*out, leaf(p, m.Value))
	}
	return nil
}

func sortedMembers(ms []Member) []Member {
	if slices.IsSortedFunc(ms, byName) {
		return ms
	}
	ms = slices.Clone(ms)
	slices.SortStableFunc(ms, byName)
	return ms
}

func byName(a, b Member) int { return strings.Compare(a.Name, b.Name) }

// Build is the inverse of Flatten: it assembles the document of entries,
// which need not be sorted. An entry with no path is the whole document
// and must be the only one. JSON entries that do not parse, or entries
// where one path is a prefix of another, return an error wrapping
// ErrSyntax. No entries give the empty object.
func Build(entries []Entry) (*Value, error) {
	root := &Value{Kind: Object}
	for _, e := range entries {
		v := &Value{Kind: String, Text: string(e.Data)}
		if !e.Text {
			var err error
			if v, err = DecodeJSON(e.Data); err != nil {
				return nil, fmt.Errorf("value at %q: %w", strings.Join(e.Path, "/"), err)
			}
		}
		if len(e.Path) == 0 {
			if len(entries) != 1 {
				return nil, fmt.Errorf("%w: a value at the root and others beside it", ErrSyntax)
			}
			return v, nil
		}
		d := root
		for i, seg := range e.Path[:len(e.Path)-1] {
			d = d.child(seg)
			if d.Kind != Object {
				return nil, fmt.Errorf("%w: %q is a value and a directory", ErrSyntax, strings.Join(e.Path[:i+1], "/"))
			}
		}
		d.Members = append(d.Members, Member{Name: e.Path[len(e.Path)-1], Value: v})
	}
	root.sortAll()
	return root, nil
}

// child returns the member name of object v, made an empty object if new.
// Members are appended, so the last one is the likeliest match.
func (v *Value) child(name string) *Value {
	for i := len(v.Members) - 1; i >= 0; i-- {
		if v.Members[i].Name == name {
			return v.Members[i].Value
		}
	}
	c := &Value{Kind: Object}
	v.Members = append(v.Members, Member{Name: name, Value: c})
	return c
}

func (v *Value) sortAll() {
	if v.Kind != Object {
		return
	}
	slices.SortStableFunc(v.Members, byName)
	for _, m := range v.Members {
		m.Value.sortAll()
	}
}

// Equal reports whether v and w are the same document: the same kinds,
// texts, items, and members (compared in sorted order).
func Equal(v, w *Value) bool {
	if v.Kind != w.Kind || v.Text != w.Text || len(v.Items) != len(w.Items) || len(v.Members) != len(w.Members) {
		return false
	}
	for i := range v.Items {
		if !Equal(v.Items[i], w.Items[i]) {
			return false
		}
	}
	vm, wm := sortedMembers(v.Members), sortedMembers(w.Members)
	for i := range vm {
		if vm[i].Name != wm[i].Name || !Equal(vm[i].Value, wm[i].Value) {
			return false
		}
	}
	return true
}
