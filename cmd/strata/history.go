package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/stratakv/strata"
)

// commitJSON is a commit as log --json and show --json print it.
type commitJSON struct {
	Hash    string   `json:"hash"`
	Tree    string   `json:"tree"`
	Parents []string `json:"parents"`
	Author  string   `json:"author"`
	Message string   `json:"message"`
	Time    string   `json:"time"`
	Height  uint64   `json:"height"`
}

func toCommitJSON(c strata.Commit) commitJSON {
	parents := make([]string, len(c.Parents))
	for i, p := range c.Parents {
		parents[i] = p.String()
	}
	return commitJSON{
		Hash: c.Hash.String(), Tree: c.Tree.String(), Parents: parents,
		Author: c.Author, Message: c.Message,
		Time: c.Time.UTC().Format(time.RFC3339Nano), Height: c.Height,
	}
}

// changeJSON is a change as diff --json and show --json print it. A value
// that is valid UTF-8 is given as a string in old/new, any other value as
// base64 in old_b64/new_b64; a side that does not exist is left out.
type changeJSON struct {
	Op     string  `json:"op"`
	Path   string  `json:"path"`
	Old    *string `json:"old,omitempty"`
	OldB64 *string `json:"old_b64,omitempty"`
	New    *string `json:"new,omitempty"`
	NewB64 *string `json:"new_b64,omitempty"`
}

func toChangeJSON(c strata.Change) changeJSON {
	out := changeJSON{Op: c.Op.String(), Path: c.Path}
	out.Old, out.OldB64 = jsonValue(c.Old)
	out.New, out.NewB64 = jsonValue(c.New)
	return out
}

func jsonValue(v []byte) (text, b64 *string) {
	if v == nil {
		return nil, nil
	}
	s := string(v)
	if utf8.ValidString(s) {
		return &s, nil
	}
	s = base64.StdEncoding.EncodeToString(v)
	return nil, &s
}

const jsonChangeHelp = `With --json, each change is an object
  {"op": "add"|"modify"|"remove", "path": PATH, "old": ..., "new": ...}
where "old" and "new" are the values before and after, as strings if they
are valid UTF-8; other values are given in base64 as "old_b64" and
"new_b64" instead. The side that does not exist (old for add, new for
remove) is left out.`

// opLetter is the letter that text output prints for a change.
func opLetter(op strata.Op) string {
	switch op {
	case strata.Added:
		return "A"
	case strata.Modified:
		return "M"
	case strata.Removed:
		return "D"
	}
	return "?"
}

// newJSONEncoder returns an encoder that writes one compact object per line.
func newJSONEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// writeCommitHeader writes c the way git log does: hash, author, date and
// the message indented by four spaces.
func writeCommitHeader(w *bufio.Writer, c strata.Commit) {
	fmt.Fprintf(w, "commit %s\n", c.Hash)
	if len(c.Parents) > 1 {
		short := make([]string, len(c.Parents))
		for i, p := range c.Parents {
			short[i] = p.Short()
		}
		fmt.Fprintf(w, "Merge: %s\n", strings.Join(short, " "))
	}
	fmt.Fprintf(w, "Author: %s\n", quoteName(c.Author))
	fmt.Fprintf(w, "Date:   %s\n", c.Time.Format(time.RFC3339))
	if c.Message != "" {
		w.WriteByte('\n')
		for line := range strings.Lines(strings.TrimRight(c.Message, "\n")) {
			fmt.Fprintf(w, "    %s", line)
		}
		w.WriteByte('\n')
	}
}

func writeChanges(w *bufio.Writer, cs []strata.Change) {
	for _, c := range cs {
		fmt.Fprintf(w, "%s %s\n", opLetter(c.Op), quoteName(c.Path))
	}
}

func (a *app) logCommand() *cobra.Command {
	var (
		n      int
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "log [REV] [-n N] [--json] [-- PATH]",
		Short: "Show the history of a revision",
		Long: `Log prints the commits reachable from REV (default main), newest first,
the way git log does: the hash, the author, the date (RFC 3339, local time)
and the message indented by four spaces.

"-- PATH" keeps only the commits that changed the value or directory at
PATH (compared with each parent by hash, without reading unchanged data).

With --json, each commit is one object on its own line:
  {"hash", "tree", "parents", "author", "message", "time", "height"}
where hash, tree and parents (an array, empty for a root commit) are 64
hex digits and time is RFC 3339 in UTC with nanoseconds.`,
	}
	cmd.Args = func(cmd *cobra.Command, args []string) error {
		revs, paths := args, []string(nil)
		if dash := cmd.ArgsLenAtDash(); dash >= 0 {
			revs, paths = args[:dash], args[dash:]
		}
		if len(revs) > 1 || len(paths) > 1 {
			return usageError(fmt.Sprintf("log: want [REV] [-- PATH], got %d arguments", len(args)))
		}
		return nil
	}
	cmd.Flags().IntVarP(&n, "max-count", "n", 0, "show at most `N` commits (0: all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per commit")
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		if n < 0 {
			return usageError(fmt.Sprintf("log: -n %d: want a count of 0 or more", n))
		}
		rev := "main"
		var opts []strata.LogOption
		if dash := cmd.ArgsLenAtDash(); dash >= 0 {
			if dash < len(args) {
				opts = append(opts, strata.PathFilter(args[dash]))
			}
			args = args[:dash]
		}
		if len(args) > 0 {
			rev = args[0]
		}
		return a.withReader(ctx, func(kv *strata.KV) error {
			cs, err := kv.Log(ctx, rev, n, opts...)
			if err != nil {
				return err
			}
			w := bufio.NewWriter(a.stdout)
			enc := newJSONEncoder(w)
			for i, c := range cs {
				if asJSON {
					if err := enc.Encode(toCommitJSON(c)); err != nil {
						return err
					}
					continue
				}
				if i > 0 {
					w.WriteByte('\n')
				}
				writeCommitHeader(w, c)
			}
			return w.Flush()
		})
	})
	return cmd
}

func (a *app) diffCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "diff REV1 REV2",
		Short: "Show the values that differ between two revisions",
		Long: `Diff prints one line per value that differs from REV1 to REV2, sorted by
path: "A PATH" for a value that was added, "M PATH" for one that was
modified and "D PATH" for one that was removed. A path that holds a
control character, '"' or '\' is printed C-quoted, as git does
("x/a\nb"); --json gives it exactly.

` + jsonChangeHelp,
		Example: `  strata diff main~1 main
  strata diff main feature --json`,
	}
	cmd.Args = wantArgs(2, 2, "REV1 REV2")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per change")
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		return a.withReader(ctx, func(kv *strata.KV) error {
			cs, err := kv.Diff(ctx, args[0], args[1])
			if err != nil {
				return err
			}
			w := bufio.NewWriter(a.stdout)
			if !asJSON {
				writeChanges(w, cs)
				return w.Flush()
			}
			enc := newJSONEncoder(w)
			for _, c := range cs {
				if err := enc.Encode(toChangeJSON(c)); err != nil {
					return err
				}
			}
			return w.Flush()
		})
	})
	return cmd
}

func (a *app) showCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show [REV]",
		Short: "Show a commit and the changes it made",
		Long: `Show prints commit REV (default main) the way log does, then a blank line
and the values it changed relative to its first parent (all its values, for
a root commit), as diff prints them.

With --json, it prints one object: the fields log --json prints, plus
"changes", an array of the objects diff --json prints.

` + jsonChangeHelp,
	}
	cmd.Args = wantArgs(0, 1, "[REV]")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		rev := "main"
		if len(args) > 0 {
			rev = args[0]
		}
		return a.withReader(ctx, func(kv *strata.KV) error {
			c, err := kv.Commit(ctx, rev)
			if err != nil {
				return err
			}
			// Name the commit by hash so that both calls see the same one.
			cs, err := kv.Changes(ctx, c.Hash.String())
			if err != nil {
				return err
			}
			w := bufio.NewWriter(a.stdout)
			if asJSON {
				out := struct {
					commitJSON
					Changes []changeJSON `json:"changes"`
				}{toCommitJSON(c), make([]changeJSON, len(cs))}
				for i, ch := range cs {
					out.Changes[i] = toChangeJSON(ch)
				}
				if err := newJSONEncoder(w).Encode(out); err != nil {
					return err
				}
				return w.Flush()
			}
			writeCommitHeader(w, c)
			if len(cs) > 0 {
				w.WriteByte('\n')
				writeChanges(w, cs)
			}
			return w.Flush()
		})
	})
	return cmd
}
