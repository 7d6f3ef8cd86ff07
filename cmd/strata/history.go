package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/stratakv/strata"
	"github.com/stratakv/strata/cmd/strata/internal/jsonbytes"
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
	Shallow bool     `json:"shallow,omitempty"` // log: history cut below this commit
}

func toCommitJSON(c strata.Commit) commitJSON {
	parents := make([]string, len(c.Parents))
	for i, p := range c.Parents {
		parents[i] = p.String()
	}
	return commitJSON{
		Hash: c.Hash.String(), Tree: c.Tree.String(), Parents: parents,
		Author: c.Author, Message: c.Message,
		Time: c.Time.UTC().Format(time.RFC3339Nano), Height: c.Height, Shallow: c.Shallow,
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
	out.Old, out.OldB64 = jsonbytes.TextOrBase64(c.Old)
	out.New, out.NewB64 = jsonbytes.TextOrBase64(c.New)
	return out
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

// writeList writes items to w, one per line: line(item) as text, or
// object(item) as a JSON document with asJSON.
func writeList[T any](w io.Writer, items []T, asJSON bool, line func(T) string, object func(T) any) error {
	bw := bufio.NewWriter(w)
	enc := newJSONEncoder(bw)
	for _, it := range items {
		if asJSON {
			if err := enc.Encode(object(it)); err != nil {
				return err
			}
			continue
		}
		bw.WriteString(line(it))
		bw.WriteByte('\n')
	}
	return bw.Flush()
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

// shallowMarker ends a log at a commit below which a shallow clone cut
// the history.
const shallowMarker = "(shallow: history cut here)"

func writeChanges(w *bufio.Writer, cs []strata.Change) {
	for _, c := range cs {
		fmt.Fprintf(w, "%s %s\n", opLetter(c.Op), quoteName(c.Path))
	}
}

func (a *app) logCommand() *cobra.Command {
	var (
		n                    int
		asJSON, short, drawn bool
		sinceFlag, untilFlag string
	)
	cmd := &cobra.Command{
		Use:   "log [REV|A..B] [-n N] [--oneline] [--graph] [--since T] [--until T] [--json] [-- PATH]",
		Short: "Show the history of a revision",
		Long: `Log prints the commits reachable from REV (default main), newest first,
the way git log does: the hash, the author, the date (RFC 3339, local time)
and the message indented by four spaces. REV may be a range A..B: the
commits reachable from B and not from A (both sides are needed).

"-- PATH" keeps only the commits that changed the value or directory at
PATH (compared with each parent by hash, without reading unchanged data).

--oneline prints one line per commit: the 12-hex short hash and the first
line of the message. --graph draws the history as an ASCII graph to the
left of --oneline lines, as "git log --graph --oneline" does: "*" is a
commit, "|" a line of history, "\" and "/" a line that moves right (after
a merge) or left (where two lines join); each commit comes after all of
its children. It does not combine with "-- PATH" or --json.

--since T and --until T keep the commits made at or after T, and at or
before T; T is an RFC 3339 time (2024-05-01T12:00:00Z) or an age: a
number and a unit s, m, h, d (days) or w (weeks), such as 2h or 7d, or
a Go duration such as 1h30m. -n counts the commits that are kept.

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
	cmd.Flags().BoolVar(&short, "oneline", false, "print each commit on one line: short hash and subject")
	cmd.Flags().BoolVar(&drawn, "graph", false, "draw the history as an ASCII graph (implies --oneline)")
	cmd.Flags().StringVar(&sinceFlag, "since", "", "only commits made at or after `T` (RFC 3339, or an age such as 2h, 7d)")
	cmd.Flags().StringVar(&untilFlag, "until", "", "only commits made at or before `T` (RFC 3339, or an age such as 2h, 7d)")
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		if n < 0 {
			return usageError(fmt.Sprintf("log: -n %d: want a count of 0 or more", n))
		}
		if asJSON && (short || drawn) {
			return usageError("log: --json does not combine with --oneline or --graph")
		}
		if drawn && cmd.ArgsLenAtDash() >= 0 {
			return usageError("log: --graph does not combine with -- PATH")
		}
		now := time.Now()
		var since, until time.Time
		var err error
		if cmd.Flags().Changed("since") {
			if since, err = parseTimeBound("since", sinceFlag, now); err != nil {
				return err
			}
		}
		if cmd.Flags().Changed("until") {
			if until, err = parseTimeBound("until", untilFlag, now); err != nil {
				return err
			}
		}
		bounded := !since.IsZero() || !until.IsZero()
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
			limit := n
			if bounded {
				limit = 0 // -n counts the commits in the time range
			}
			cs, err := kv.Log(ctx, rev, limit, opts...)
			if err != nil {
				return err
			}
			if bounded {
				kept := cs[:0]
				for _, c := range cs {
					if (since.IsZero() || !c.Time.Before(since)) && (until.IsZero() || !c.Time.After(until)) {
						kept = append(kept, c)
					}
				}
				if cs = kept; n > 0 && len(cs) > n {
					cs = cs[:n]
				}
			}
			w := bufio.NewWriter(a.stdout)
			if drawn {
				g := &graph{}
				for _, c := range topoOrder(cs) {
					for _, l := range g.next(c, oneline(c)) {
						w.WriteString(l)
						w.WriteByte('\n')
					}
				}
				return w.Flush()
			}
			enc := newJSONEncoder(w)
			for i, c := range cs {
				if short {
					w.WriteString(oneline(c))
					w.WriteByte('\n')
					if c.Shallow {
						w.WriteString(shallowMarker + "\n")
					}
					continue
				}
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
				if c.Shallow {
					w.WriteString("\n" + shallowMarker + "\n")
				}
			}
			return w.Flush()
		})
	})
	return cmd
}

func (a *app) diffCommand() *cobra.Command {
	var asJSON, stat, nameOnly bool
	var branchName string
	cmd := &cobra.Command{
		Use:   "diff [REV1 [REV2]] [--stat | --name-only | --json] [-- PATH]",
		Short: "Show the values that differ between two revisions",
		Long: `Diff prints one line per value that differs from REV1 to REV2, sorted by
path: "A PATH" for a value that was added, "M PATH" for one that was
modified and "D PATH" for one that was removed. A path that holds a
control character, '"' or '\' is printed C-quoted, as git does
("x/a\nb"); --json gives it exactly.

With one revision, diff shows what commit REV1 changed: its first parent
against it (a root commit: against an empty tree), as show does. With none,
it shows what the head of a branch (-b, default main) changed the same way.
"-- PATH" keeps only the values at or below PATH.

--name-only prints only the paths, one per line. --stat prints instead one
line per top-level name that changed (a directory with a trailing "/"),
sorted, with how many values below it were added, modified and removed,
then a total line:
  config/  2 added, 1 modified, 0 removed
  readme   0 added, 1 modified, 0 removed
  4 values changed: 2 added, 2 modified, 0 removed
Both quote paths and names as the lines above do.

` + jsonChangeHelp,
		Example: `  strata diff main~1 main
  strata diff main feature --json
  strata diff main~3 -- config/db
  strata diff --stat main~5 main`,
	}
	cmd.Args = func(cmd *cobra.Command, args []string) error {
		revs, paths := args, []string(nil)
		if dash := cmd.ArgsLenAtDash(); dash >= 0 {
			revs, paths = args[:dash], args[dash:]
		}
		if len(revs) > 2 || len(paths) > 1 {
			return usageError(fmt.Sprintf("diff: want [REV1 [REV2]] [-- PATH], got %d arguments", len(args)))
		}
		return nil
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per change")
	cmd.Flags().BoolVar(&stat, "stat", false, "print counts of changes per top-level name and a total")
	cmd.Flags().BoolVar(&nameOnly, "name-only", false, "print only the paths that changed")
	cmd.Flags().StringVarP(&branchName, "branch", "b", "main", "with no REV: show what this branch's head changed")
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		if btoi(asJSON)+btoi(stat)+btoi(nameOnly) > 1 {
			return usageError("diff: give at most one of --json, --stat and --name-only")
		}
		prefix, hasPrefix := "", false
		if dash := cmd.ArgsLenAtDash(); dash >= 0 {
			if dash < len(args) {
				if err := strata.ValidatePath(args[dash]); err != nil {
					return err
				}
				prefix, hasPrefix = strings.Trim(args[dash], "/"), true
			}
			args = args[:dash]
		}
		if len(args) > 0 && cmd.Flags().Changed("branch") {
			return usageError("diff: give REV or -b, not both")
		}
		return a.withReader(ctx, func(kv *strata.KV) error {
			var cs []strata.Change
			var err error
			switch len(args) {
			case 0:
				cs, err = kv.Changes(ctx, branchName)
			case 1:
				cs, err = kv.Changes(ctx, args[0])
			default:
				cs, err = kv.Diff(ctx, args[0], args[1])
			}
			if err != nil {
				return err
			}
			if hasPrefix && prefix != "" {
				kept := cs[:0]
				for _, c := range cs {
					if c.Path == prefix || strings.HasPrefix(c.Path, prefix+"/") {
						kept = append(kept, c)
					}
				}
				cs = kept
			}
			w := bufio.NewWriter(a.stdout)
			switch {
			case stat:
				writeStat(w, cs)
			case nameOnly:
				for _, c := range cs {
					w.WriteString(quoteName(c.Path))
					w.WriteByte('\n')
				}
			case asJSON:
				enc := newJSONEncoder(w)
				for _, c := range cs {
					if err := enc.Encode(toChangeJSON(c)); err != nil {
						return err
					}
				}
			default:
				writeChanges(w, cs)
			}
			return w.Flush()
		})
	})
	return cmd
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// writeStat writes diff --stat: per top-level name (C-quoted by
// quoteName), the counts of added, modified and removed values, then the
// totals.
func writeStat(w *bufio.Writer, cs []strata.Change) {
	type counts struct{ add, mod, del int }
	var names []string
	by := map[string]*counts{}
	var total counts
	for _, c := range cs {
		name := c.Path
		if i := strings.IndexByte(name, '/'); i >= 0 {
			name = name[:i+1]
		}
		n := by[name]
		if n == nil {
			n = &counts{}
			by[name] = n
			names = append(names, name)
		}
		for _, t := range []*counts{n, &total} {
			switch c.Op {
			case strata.Added:
				t.add++
			case strata.Modified:
				t.mod++
			case strata.Removed:
				t.del++
			}
		}
	}
	sort.Strings(names)
	// Names are printed as ls and diff print them (quoteName); the column
	// is as wide as the widest printed name, in characters as fmt pads.
	width := 0
	for _, name := range names {
		width = max(width, utf8.RuneCountInString(quoteName(name)))
	}
	for _, name := range names {
		n := by[name]
		fmt.Fprintf(w, "%-*s  %d added, %d modified, %d removed\n", width, quoteName(name), n.add, n.mod, n.del)
	}
	what := "values"
	if len(cs) == 1 {
		what = "value"
	}
	fmt.Fprintf(w, "%d %s changed: %d added, %d modified, %d removed\n", len(cs), what, total.add, total.mod, total.del)
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
