package doc

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// DecodeYAML parses one YAML document (github.com/goccy/go-yaml) into a
// Value. Mappings become objects (keys as their scalar text), sequences
// arrays; integers and floats are numbers that keep their text when it is
// JSON number syntax (1_000, 0x1F, 0o17 and +1 become their decimal
// value); anchors and aliases are expanded; a !!str tag makes a scalar a
// string. An empty stream is null. Several documents, merge keys ("<<"),
// .inf and .nan, duplicate keys, nesting deeper than MaxDepth, a document
// that expands to more than MaxYAMLValues values or whose aliases expand
// to more than MaxYAMLAliasValues, and syntax errors return an error
// wrapping ErrSyntax naming the line.
func DecodeYAML(data []byte) (v *Value, err error) {
	defer func() {
		// go-yaml is a large parser of hostile input; a panic in it is a
		// document it cannot read, not a crash of the importer.
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("%w: YAML: the parser failed: %v", ErrSyntax, r)
		}
	}()
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: YAML: %v", ErrSyntax, err)
	}
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d)
		}
	}
	switch len(docs) {
	case 0:
		return &Value{Kind: Null}, nil
	case 1:
	default:
		return nil, fmt.Errorf("%w: YAML: %d documents in one stream; import them one by one", ErrSyntax, len(docs))
	}
	y := yamlDecoder{anchors: map[string]anchored{}}
	return y.value(docs[0].Body, 0)
}

type yamlDecoder struct {
	anchors map[string]anchored
	nodes   int // values made, aliases counted at their size: bounds alias bombs
	aliased int // values that aliases added to nodes
}

// anchored is an anchor's value and the number of values it expands to.
type anchored struct {
	v    *Value
	size int
}

// Limits on the values one YAML document may expand to, so that nested
// aliases ("billion laughs": a few hundred bytes that expand to millions
// of values, each a value to store) cannot exhaust memory: at most
// MaxYAMLValues in all, of which at most MaxYAMLAliasValues come from
// aliases. An alias that would pass either is refused before its value
// is counted or copied.
const (
	MaxYAMLValues      = 1_000_000
	MaxYAMLAliasValues = 100_000
)

func yamlErr(n ast.Node, format string, args ...any) error {
	line := 0
	if t := n.GetToken(); t != nil && t.Position != nil {
		line = t.Position.Line
	}
	return fmt.Errorf("%w: YAML line %d: %s", ErrSyntax, line, fmt.Sprintf(format, args...))
}

func (y *yamlDecoder) value(n ast.Node, depth int) (*Value, error) {
	if depth > MaxDepth {
		return nil, yamlErr(n, "nested more than %d deep", MaxDepth)
	}
	if y.nodes++; y.nodes > MaxYAMLValues {
		return nil, yamlErr(n, "the document expands to more than %d values", MaxYAMLValues)
	}
	switch n := n.(type) {
	case *ast.NullNode:
		return &Value{Kind: Null}, nil
	case *ast.BoolNode:
		return &Value{Kind: Bool, Text: strconv.FormatBool(n.Value)}, nil
	case *ast.StringNode:
		return &Value{Kind: String, Text: n.Value}, nil
	case *ast.LiteralNode:
		return &Value{Kind: String, Text: n.Value.Value}, nil
	case *ast.IntegerNode:
		return number(n, n.Token.Value, n.Value)
	case *ast.FloatNode:
		return number(n, n.Token.Value, n.Value)
	case *ast.InfinityNode, *ast.NanNode:
		return nil, yamlErr(n, "%s has no JSON form", n.GetToken().Value)
	case *ast.MappingValueNode:
		return y.mapping(n, []*ast.MappingValueNode{n}, depth)
	case *ast.MappingNode:
		return y.mapping(n, n.Values, depth)
	case *ast.SequenceNode:
		v := &Value{Kind: Array, Items: make([]*Value, 0, len(n.Values))}
		for _, it := range n.Values {
			iv, err := y.value(it, depth+1)
			if err != nil {
				return nil, err
			}
			v.Items = append(v.Items, iv)
		}
		return v, nil
	case *ast.AnchorNode:
		before := y.nodes
		v, err := y.value(n.Value, depth+1)
		if err != nil {
			return nil, err
		}
		y.anchors[n.Name.GetToken().Value] = anchored{v: v, size: y.nodes - before}
		return v, nil
	case *ast.AliasNode:
		name := n.Value.GetToken().Value
		a, ok := y.anchors[name]
		if !ok {
			return nil, yamlErr(n, "alias *%s names no anchor before it", name)
		}
		if y.aliased+a.size > MaxYAMLAliasValues {
			return nil, yamlErr(n, "alias *%s (%d values) takes what aliases expand to past %d values; write the values out, or import the document in parts", name, a.size, MaxYAMLAliasValues)
		}
		if y.nodes+a.size > MaxYAMLValues {
			return nil, yamlErr(n, "alias *%s (%d values) takes the document past %d values", name, a.size, MaxYAMLValues)
		}
		y.nodes += a.size - 1 // the alias node itself was counted
		y.aliased += a.size
		return a.v, nil
	case *ast.TagNode:
		tag := n.Start.Value
		if tag == "!!str" || tag == "tag:yaml.org,2002:str" {
			if s, ok := n.Value.(ast.ScalarNode); ok {
				return &Value{Kind: String, Text: scalarText(s)}, nil
			}
		}
		if tag == "!!float" || tag == "!!int" || tag == "tag:yaml.org,2002:float" || tag == "tag:yaml.org,2002:int" {
			if s, ok := n.Value.(ast.ScalarNode); ok && isJSONNumber(scalarText(s)) {
				return &Value{Kind: Number, Text: scalarText(s)}, nil
			}
		}
		return y.value(n.Value, depth+1)
	case *ast.CommentGroupNode, *ast.CommentNode:
		return &Value{Kind: Null}, nil
	case nil:
		return &Value{Kind: Null}, nil
	}
	return nil, yamlErr(n, "unsupported YAML construct %s", n.Type())
}

func scalarText(s ast.ScalarNode) string {
	switch s := s.(type) {
	case *ast.StringNode:
		return s.Value
	case *ast.LiteralNode:
		return s.Value.Value
	case *ast.NullNode:
		return s.GetToken().Value
	}
	return s.GetToken().Value
}

func (y *yamlDecoder) mapping(n ast.Node, mvs []*ast.MappingValueNode, depth int) (*Value, error) {
	v := &Value{Kind: Object, Members: make([]Member, 0, len(mvs))}
	seen := make(map[string]bool, len(mvs))
	for _, mv := range mvs {
		if mv.Key.IsMergeKey() {
			return nil, yamlErr(mv, "merge keys (<<) are not supported; write the members out")
		}
		var name string
		switch k := mv.Key.(type) {
		case *ast.MappingKeyNode:
			s, ok := k.Value.(ast.ScalarNode)
			if !ok {
				return nil, yamlErr(mv, "a key must be a scalar")
			}
			name = scalarText(s)
		case ast.ScalarNode:
			name = scalarText(k)
		default:
			return nil, yamlErr(mv, "a key must be a scalar")
		}
		if seen[name] {
			return nil, yamlErr(mv, "two keys %q", name)
		}
		seen[name] = true
		mval, err := y.value(mv.Value, depth+1)
		if err != nil {
			return nil, err
		}
		v.Members = append(v.Members, Member{Name: name, Value: mval})
	}
	v.Members = sortedMembers(v.Members)
	return v, nil
}

// number keeps the literal text of a YAML number when it is JSON number
// syntax, and otherwise writes its value in decimal.
func number(n ast.Node, text string, val any) (*Value, error) {
	if isJSONNumber(text) {
		return &Value{Kind: Number, Text: text}, nil
	}
	switch x := val.(type) {
	case int64:
		return &Value{Kind: Number, Text: strconv.FormatInt(x, 10)}, nil
	case uint64:
		return &Value{Kind: Number, Text: strconv.FormatUint(x, 10)}, nil
	case float64:
		return &Value{Kind: Number, Text: strconv.FormatFloat(x, 'g', -1, 64)}, nil
	}
	// An integer too big for 64 bits, in a non-JSON form.
	t := strings.ReplaceAll(strings.TrimPrefix(text, "+"), "_", "")
	if b, ok := new(big.Int).SetString(t, 0); ok {
		return &Value{Kind: Number, Text: b.String()}, nil
	}
	return nil, yamlErr(n, "number %q has no JSON form", text)
}

// isJSONNumber reports whether s is a number in JSON syntax.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// EncodeYAML returns v as a YAML document (block style, members sorted by
// name) that DecodeYAML reads back as v. Numbers are written as their
// text, strings quoted wherever YAML would read them as something else.
// A document that the block writer cannot write so that it reads back
// the same (go-yaml writes a member name holding a line break as a block
// scalar, which is no key) is written in flow style instead: its JSON
// form, which YAML reads alike. Member names are written as go-yaml
// writes them: plain where go-yaml itself reads them back as the same
// string, which a YAML 1.1 reader may not ("<<" is its merge key).
func EncodeYAML(v *Value) (out []byte, err error) {
	out, err = encodeYAMLBlock(v)
	if err != nil {
		return nil, err
	}
	if back, err := DecodeYAML(out); err != nil || !Equal(v, back) {
		return append(EncodeJSON(v), '\n'), nil
	}
	return out, nil
}

// encodeYAMLBlock is EncodeYAML's block style, as go-yaml writes it.
func encodeYAMLBlock(v *Value) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("encode YAML: the encoder failed: %v", r)
		}
	}()
	out, err = yaml.MarshalWithOptions(v.yamlValue(), yaml.IndentSequence(true))
	if err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	return out, nil
}

// yamlNumber is a number written as its literal text.
type yamlNumber string

// MarshalYAML writes n plain when YAML reads it back as that number, and
// with a !!float tag otherwise (go-yaml reads 1E+5 and integers beyond 64
// bits as strings); DecodeYAML reads a tagged number by its text.
func (n yamlNumber) MarshalYAML() ([]byte, error) {
	if v, err := DecodeYAML([]byte(n)); err == nil && v.Kind == Number && v.Text == string(n) {
		return []byte(n), nil
	}
	return []byte("!!float " + n), nil
}

// yamlString is a string written as go-yaml writes it when that reads
// back as the same string in every YAML reader, and double-quoted (JSON
// escapes, which YAML reads alike) otherwise: go-yaml leaves some strings
// that YAML reads as numbers or specials (".inf") unquoted, and some that
// other readers take for something else (notResolvedAsString).
type yamlString string

func (s yamlString) MarshalYAML() ([]byte, error) {
	if strings.ContainsFunc(string(s), func(r rune) bool {
		return r < ' ' || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 || r == 0xfeff
	}) || notResolvedAsString.MatchString(string(s)) {
		return appendString(nil, string(s)), nil
	}
	out, err := yaml.Marshal(string(s))
	if err == nil {
		if v, err := DecodeYAML(out); err == nil && v.Kind == String && v.Text == string(s) {
			return out, nil
		}
	}
	return appendString(nil, string(s)), nil
}

// notResolvedAsString matches the plain scalars that a YAML 1.1 or 1.2
// reader (PyYAML, libyaml, go-yaml v2 or v3, ...) may resolve to something
// other than a string: booleans and nulls of either version, numbers in
// any base, with underscores or as sexagesimal (190:20:30), infinities
// and NaN, and the value and merge keys "=" and "<<".
var notResolvedAsString = regexp.MustCompile(`^(?:` +
	`=|<<|~|` +
	`(?i:y|n|yes|no|true|false|on|off|null)|` +
	`[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|` +
	`[-+]?0(?:[xX][0-9a-fA-F_]+|[oO][0-7_]+|[bB][01_]+)|` +
	`[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?|` +
	`[-+]?\.(?i:inf)|\.(?i:nan)` +
	`)$`)

func (v *Value) yamlValue() any {
	switch v.Kind {
	case Null:
		return nil
	case Bool:
		return v.Text == "true"
	case Number:
		return yamlNumber(v.Text)
	case String:
		return yamlString(v.Text)
	case Array:
		items := make([]any, len(v.Items))
		for i, it := range v.Items {
			items[i] = it.yamlValue()
		}
		return items
	case Object:
		ms := make(yaml.MapSlice, 0, len(v.Members))
		for _, m := range sortedMembers(v.Members) {
			ms = append(ms, yaml.MapItem{Key: m.Name, Value: m.Value.yamlValue()})
		}
		return ms
	}
	return nil
}
