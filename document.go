package strata

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/stratakv/strata/contents"
	"github.com/stratakv/strata/exchange/doc"
	"github.com/stratakv/strata/node"
	"github.com/stratakv/strata/tree"
)

// DocFormat is the syntax of a document for ImportDocument and
// ExportDocument.
type DocFormat string

// The document formats.
const (
	FormatJSON DocFormat = "json"
	FormatYAML DocFormat = "yaml"
)

// decodeDoc parses data in format f.
func decodeDoc(f DocFormat, data []byte) (*doc.Value, error) {
	switch f {
	case FormatJSON:
		return doc.DecodeJSON(data)
	case FormatYAML:
		return doc.DecodeYAML(data)
	}
	return nil, fmt.Errorf("%w: unknown document format %q (want json or yaml)", ErrInvalidOption, f)
}

// ImportDocument writes the JSON or YAML document data at path at (""
// is the root) in one commit, replacing whatever was there (a value or a
// whole directory; at the root, the whole tree), and returns the commit
// (or the head, if nothing changed). The mapping (package exchange/doc):
// objects become directories, strings text values (KindText), and numbers,
// booleans, null, arrays and empty objects JSON values (KindJSON) holding
// their JSON text, numbers with their literal digits. ExportDocument
// reverses it exactly. A document imported at the root must be an object;
// an empty object imported below the root is the JSON value {} at path.
// A member name that cannot be a path segment ("", ".", "..", or one with
// "/" or NUL) is an error wrapping ErrInvalidPath naming it, as is a
// member whose path (at included) is over the limits of every path,
// MaxPathSegments segments or MaxPathBytes bytes (the path is named, cut
// short if long); a document that does not parse wraps ErrInvalidValue.
// Nothing is written unless the whole document can be. It writes through
// Update.
func (b *Branch) ImportDocument(ctx context.Context, at string, f DocFormat, data []byte, opts ...CommitOption) (Hash, error) {
	segs, err := tree.ParsePath(at)
	if err != nil {
		return Hash{}, err
	}
	v, err := decodeDoc(f, data)
	if err != nil {
		if errors.Is(err, doc.ErrSyntax) {
			return Hash{}, fmt.Errorf("%w: %w", ErrInvalidValue, err)
		}
		return Hash{}, err
	}
	entries, err := doc.Flatten(v)
	if err != nil {
		if errors.Is(err, doc.ErrKey) {
			return Hash{}, fmt.Errorf("%w: %w", ErrInvalidPath, err)
		}
		return Hash{}, fmt.Errorf("%w: %w", ErrInvalidValue, err)
	}
	if len(entries) == 0 && len(segs) > 0 {
		entries = []doc.Entry{{Data: []byte("{}")}}
	}
	vals := make([]contents.Contents, len(entries))
	paths := make([][]string, len(entries))
	for i, e := range entries {
		if len(e.Path) == 0 && len(segs) == 0 {
			return Hash{}, fmt.Errorf("%w: a document imported at the root must be an object; give a path to import a single value", ErrInvalidValue)
		}
		paths[i] = append(append(make([]string, 0, len(segs)+len(e.Path)), segs...), e.Path...)
		if _, err := tree.CheckPath(tree.JoinPath(paths[i])); err != nil {
			return Hash{}, fmt.Errorf("import document: %w", err)
		}
		k := KindJSON
		if e.Text {
			k = KindText
		}
		if vals[i], err = contents.New(k, e.Data); err != nil {
			return Hash{}, fmt.Errorf("value at %q: %w", tree.JoinPath(e.Path), err)
		}
	}
	return b.write(ctx, false, func(ctx context.Context, t *tree.Builder) error {
		if err := t.SetTree(ctx, segs, node.Empty); err != nil {
			return err
		}
		for i, p := range paths {
			if err := t.SetContents(ctx, p, vals[i]); err != nil {
				return err
			}
		}
		return nil
	}, opts)
}

// ExportDocument returns the document at path of revision rev ("" is the
// root) in format f, as ImportDocument maps it (see there): a directory
// becomes an object, a text value a string, a JSON value its JSON, a
// counter a number, and a raw value a string if it is valid UTF-8 (else an
// error wrapping ErrInvalidValue naming it). A name below path that is not
// valid UTF-8 cannot be an object key either: it is an error wrapping
// ErrInvalidValue that names its path. Object members come out
// sorted by name. An empty tree is the empty object. Nothing at path is an
// error wrapping ErrNotFound; a value whose path is over the limits of
// every path (see ImportDocument) wraps ErrInvalidPath.
func (kv *KV) ExportDocument(ctx context.Context, rev, path string, f DocFormat) ([]byte, error) {
	if f != FormatJSON && f != FormatYAML {
		return nil, fmt.Errorf("%w: unknown document format %q (want json or yaml)", ErrInvalidOption, f)
	}
	s, err := kv.At(ctx, rev)
	if err != nil {
		return nil, err
	}
	segs, err := tree.ParsePath(path)
	if err != nil {
		return nil, err
	}
	var entries []doc.Entry
	h, isDir, err := s.tree.SubtreeHash(ctx, segs)
	if err != nil {
		return nil, fmt.Errorf("at %s: %w", s.commit.Hash.Short(), err)
	}
	if isDir {
		changes, err := tree.Diff(ctx, kv.nodes, Hash{}, h)
		if err != nil {
			return nil, err
		}
		entries = make([]doc.Entry, 0, len(changes))
		prefix := tree.JoinPath(segs)
		for _, c := range changes {
			path := c.Path
			if prefix != "" {
				path = prefix + "/" + c.Path
			}
			// A tree the limits did not guard (an older import's) may
			// hold a path no read accepts: refuse it, naming it.
			full, err := tree.ParsePath(path)
			if err != nil {
				return nil, fmt.Errorf("at %s: %w", s.commit.Hash.Short(), err)
			}
			if !utf8.ValidString(c.Path) {
				// JSON and YAML keys are text: the encoder would turn
				// each bad byte into U+FFFD, and two such names into one.
				return nil, fmt.Errorf("%w: the path %q is not UTF-8 text, so it cannot be a key of a document", ErrInvalidValue, path)
			}
			e, err := kv.docEntry(ctx, c.New, path)
			if err != nil {
				return nil, err
			}
			e.Path = full[len(segs):]
			entries = append(entries, e)
		}
	} else {
		c, err := s.tree.GetContents(ctx, segs)
		if err != nil {
			return nil, err
		}
		e, err := contentsEntry(c, path)
		if err != nil {
			return nil, err
		}
		entries = []doc.Entry{e}
	}
	v, err := doc.Build(entries)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidValue, err)
	}
	if f == FormatYAML {
		return doc.EncodeYAML(v)
	}
	return doc.EncodeJSON(v), nil
}

func (kv *KV) docEntry(ctx context.Context, e node.Entry, path string) (doc.Entry, error) {
	c, err := tree.Contents(ctx, kv.store, e, path)
	if err != nil {
		return doc.Entry{}, err
	}
	return contentsEntry(c, path)
}

// contentsEntry maps a stored value to a document entry.
func contentsEntry(c contents.Contents, path string) (doc.Entry, error) {
	switch c.Kind {
	case KindText:
		return doc.Entry{Text: true, Data: c.Data}, nil
	case KindJSON, KindCounter:
		return doc.Entry{Data: c.Data}, nil
	}
	if !utf8.Valid(c.Data) {
		return doc.Entry{}, fmt.Errorf("%w: the raw value at %q is not UTF-8 text, so it has no place in a document", ErrInvalidValue, path)
	}
	return doc.Entry{Text: true, Data: c.Data}, nil
}
