package strata

import "github.com/stratakv/strata/tree"

// ListOption selects part of a directory listing.
type ListOption func(*tree.Page)

// After makes List start after the entry called name (which need not
// exist): the next page after a previous page's last name.
func After(name string) ListOption { return func(p *tree.Page) { p.After = name } }

// Limit makes List return at most n entries (n <= 0: no limit). Listing a
// page costs O(depth + n), not O(size of the directory).
func Limit(n int) ListOption { return func(p *tree.Page) { p.Limit = n } }

func page(opts []ListOption) tree.Page {
	var p tree.Page
	for _, f := range opts {
		f(&p)
	}
	return p
}

// Entry is one child of a directory.
type Entry struct {
	Name string
	Dir  bool // a subdirectory (printed with a trailing "/" by the CLI)
}

func entries(es []tree.Entry) []Entry {
	if es == nil {
		return nil
	}
	out := make([]Entry, len(es))
	for i, e := range es {
		out[i] = Entry{Name: e.Name, Dir: e.Dir}
	}
	return out
}
