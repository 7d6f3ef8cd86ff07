package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/stratakv/strata"
	"github.com/stratakv/strata/cmd/strata/internal/jsonbytes"
	"golang.org/x/term"
)

// readFlags choose the version a read command looks at: a revision, or
// the current head of a branch.
type readFlags struct {
	at, branch string
}

func (f *readFlags) register(cmd *cobra.Command) {
	cmd.PreRunE = f.check
	cmd.Flags().StringVar(&f.at, "at", "", "read revision `REV` (a branch, a tag, a hash, main~1, origin/main, ...)")
	cmd.Flags().StringVarP(&f.branch, "branch", "b", "main", "read the head of this branch (if --at is not given)")
}

// reader is the read side shared by strata.Branch and strata.Snapshot.
type reader interface {
	Get(ctx context.Context, path string) ([]byte, error)
	GetValue(ctx context.Context, path string) (strata.Value, error)
	List(ctx context.Context, path string, opts ...strata.ListOption) ([]strata.Entry, error)
}

// check rejects --at together with -b.
func (f *readFlags) check(cmd *cobra.Command, _ []string) error {
	if cmd.Flags().Changed("at") && cmd.Flags().Changed("branch") {
		return usageError(cmd.Name() + ": give --at or -b, not both")
	}
	return nil
}

func (f *readFlags) reader(ctx context.Context, cmd *cobra.Command, kv *strata.KV) (reader, error) {
	if cmd.Flags().Changed("at") {
		return kv.At(ctx, f.at)
	}
	return kv.Branch(f.branch), nil
}

func (a *app) getCommand() *cobra.Command {
	var f readFlags
	var showType, asJSON bool
	cmd := &cobra.Command{
		Use:   "get PATH [--type] [--json]",
		Short: "Print the value at a path",
		Long: `Get writes the value at PATH to standard output as its exact bytes, with
nothing added, when standard output is not a terminal (a pipe or a file);
on a terminal it adds a newline if the value does not end in one. It reads
the head of a branch (-b, default main) or a revision (--at). A path that
holds nothing, or a directory, is not found (exit code 1). With --type it
prints the value's type instead (raw, text, json or counter) and a newline.

With --json it prints one object {"path": PATH, "kind": TYPE, "value": ...}
where value is the value as a string if it is valid UTF-8; any other value
is given in base64 as "value_base64" instead of "value".`,
		Example: `  strata get config/db/host
  strata get config/db/host --at main~1
  strata get --type stats/hits
  strata get --json logo.png`,
	}
	cmd.Flags().BoolVarP(&showType, "type", "t", false, "print the value's type instead of the value")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object with the path, type and value")
	cmd.Args = wantArgs(1, 1, "PATH")
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		return a.withReader(ctx, func(kv *strata.KV) error {
			r, err := f.reader(ctx, cmd, kv)
			if err != nil {
				return err
			}
			if showType || asJSON {
				v, err := r.GetValue(ctx, args[0])
				if err != nil {
					return err
				}
				if asJSON {
					out := getJSON{Path: args[0], Kind: v.Kind.String()}
					out.Value, out.ValueBase64 = jsonbytes.TextOrBase64(v.Data)
					if out.Value == nil && out.ValueBase64 == nil {
						out.Value = new(string) // an empty value
					}
					return newJSONEncoder(a.stdout).Encode(out)
				}
				_, err = fmt.Fprintln(a.stdout, v.Kind)
				return err
			}
			v, err := r.Get(ctx, args[0])
			if err != nil {
				return err
			}
			if _, err = a.stdout.Write(v); err != nil {
				return err
			}
			if addNewline(isTerminal(a.stdout), v) {
				_, err = io.WriteString(a.stdout, "\n")
			}
			return err
		})
	})
	f.register(cmd)
	return cmd
}

func (a *app) lsCommand() *cobra.Command {
	var f readFlags
	var after string
	var limit int
	var recursive, asJSON bool
	cmd := &cobra.Command{
		Use:   "ls [PATH] [--after NAME] [--limit N] [-R] [--json]",
		Short: "List a directory",
		Long: `Ls prints the names in the directory at PATH (default: the root), one per
line, sorted by their bytes; a subdirectory's name ends in "/". It reads
the head of a branch (-b, default main) or a revision (--at). A name that
holds a control character (a newline, say), '"' or '\' is printed
C-quoted, as git does ("a\nb"), so that no name can forge a line.

--after NAME starts after NAME (which need not exist) and --limit N prints
at most N names, so a large directory can be read page by page: pass the
last name of one page as --after of the next. A page costs the same
whatever the size of the directory.

-R prints every value below PATH instead, one full path per line (such as
"config/db/host"), each directory's names in byte order, depth first. It
reads directories page by page, so output starts at once and memory stays
small whatever their size. It does not combine with --after and --limit.
Paths are quoted as names are.

With --json each line is an object {"name": NAME, "path": PATH, "dir":
true|false}, where path is the full path of the entry.`,
		Example: `  strata ls config
  strata ls big --limit 100
  strata ls big --after k00000099 --limit 100
  strata ls -R config`,
	}
	cmd.Flags().StringVar(&after, "after", "", "list names after `NAME`")
	cmd.Flags().IntVar(&limit, "limit", 0, "list at most `N` names (0: all)")
	cmd.Flags().BoolVarP(&recursive, "recursive", "R", false, "list every value below PATH by its full path")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per entry")
	cmd.Args = wantArgs(0, 1, "[PATH]")
	lsPreRun := func(cmd *cobra.Command, args []string) error {
		if recursive && (cmd.Flags().Changed("after") || cmd.Flags().Changed("limit")) {
			return usageError("ls: -R does not combine with --after or --limit")
		}
		return f.check(cmd, args)
	}
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		path := ""
		if len(args) > 0 {
			path = args[0]
		}
		return a.withReader(ctx, func(kv *strata.KV) error {
			r, err := f.reader(ctx, cmd, kv)
			if err != nil {
				return err
			}
			if limit < 0 {
				return usageError("ls: --limit must not be negative")
			}
			w := bufio.NewWriter(a.stdout)
			enc := newJSONEncoder(w)
			emit := func(dir string, e strata.Entry) error {
				if asJSON {
					return enc.Encode(lsJSON{Name: e.Name, Path: joinPath(dir, e.Name), Dir: e.Dir})
				}
				name := e.Name
				if recursive {
					name = joinPath(dir, e.Name)
				}
				if e.Dir {
					name += "/"
				}
				w.WriteString(quoteName(name))
				return w.WriteByte('\n')
			}
			if recursive {
				if err := walk(ctx, r, strings.Trim(path, "/"), emit); err != nil {
					return err
				}
				return w.Flush()
			}
			es, err := r.List(ctx, path, strata.After(after), strata.Limit(limit))
			if err != nil {
				return err
			}
			for _, e := range es {
				if err := emit(strings.Trim(path, "/"), e); err != nil {
					return err
				}
			}
			return w.Flush()
		})
	})
	f.register(cmd)
	cmd.PreRunE = lsPreRun
	return cmd
}

// getJSON is what get --json prints.
type getJSON struct {
	Path        string  `json:"path"`
	Kind        string  `json:"kind"`
	Value       *string `json:"value,omitempty"`
	ValueBase64 *string `json:"value_base64,omitempty"`
}

// lsJSON is one line of ls --json.
type lsJSON struct {
	Name string `json:"name"`
	Path string `json:"path"`
	Dir  bool   `json:"dir"`
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// addNewline says whether get adds a newline after value v: only on a
// terminal, so that the prompt starts on a line of its own, and only if v
// does not end in one. Anywhere else the bytes are exactly the value's.
func addNewline(terminal bool, v []byte) bool {
	return terminal && len(v) > 0 && v[len(v)-1] != '\n'
}

// joinPath returns the full path of name in directory dir ("" is the root).
func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// lsPage is how many names ls -R reads from a directory at a time.
const lsPage = 1000

// walk calls fn for every value below the directory dir, depth first, each
// directory's names in byte order, reading each directory a page at a time.
func walk(ctx context.Context, r reader, dir string, fn func(dir string, e strata.Entry) error) error {
	after := ""
	for {
		es, err := r.List(ctx, dir, strata.After(after), strata.Limit(lsPage))
		if err != nil {
			return err
		}
		for _, e := range es {
			if e.Dir {
				if err := walk(ctx, r, joinPath(dir, e.Name), fn); err != nil {
					return err
				}
				continue
			}
			if err := fn(dir, e); err != nil {
				return err
			}
		}
		if len(es) < lsPage {
			return nil
		}
		after = es[len(es)-1].Name
	}
}
