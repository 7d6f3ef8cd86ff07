package main

import (
	"bufio"
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/stratakv/strata"
)

// readFlags choose the version a read command looks at: a revision, or
// the current head of a branch.
type readFlags struct {
	at, branch string
}

func (f *readFlags) register(cmd *cobra.Command) {
	cmd.PreRunE = f.check
	cmd.Flags().StringVar(&f.at, "at", "", "read revision `REV` (a branch, a hash, main~1, ...)")
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
	var showType bool
	cmd := &cobra.Command{
		Use:   "get PATH [--type]",
		Short: "Print the value at a path",
		Long: `Get writes the value at PATH to standard output as its exact bytes, with
nothing added (no newline). It reads the head of a branch (-b, default
main) or a revision (--at). A path that holds nothing, or a directory, is
not found (exit code 1). With --type it prints the value's type instead
(raw, text, json or counter) and a newline.`,
		Example: `  strata get config/db/host
  strata get config/db/host --at main~1
  strata get --type stats/hits`,
	}
	cmd.Flags().BoolVarP(&showType, "type", "t", false, "print the value's type instead of the value")
	cmd.Args = wantArgs(1, 1, "PATH")
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		return a.withReader(ctx, func(kv *strata.KV) error {
			r, err := f.reader(ctx, cmd, kv)
			if err != nil {
				return err
			}
			if showType {
				v, err := r.GetValue(ctx, args[0])
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(a.stdout, v.Kind)
				return err
			}
			v, err := r.Get(ctx, args[0])
			if err != nil {
				return err
			}
			_, err = a.stdout.Write(v)
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
	cmd := &cobra.Command{
		Use:   "ls [PATH] [--after NAME] [--limit N]",
		Short: "List a directory",
		Long: `Ls prints the names in the directory at PATH (default: the root), one per
line, sorted by their bytes; a subdirectory's name ends in "/". It reads
the head of a branch (-b, default main) or a revision (--at). A name that
holds a control character (a newline, say), '"' or '\' is printed
C-quoted, as git does ("a\nb"), so that no name can forge a line.

--after NAME starts after NAME (which need not exist) and --limit N prints
at most N names, so a large directory can be read page by page: pass the
last name of one page as --after of the next. A page costs the same
whatever the size of the directory.`,
		Example: `  strata ls config
  strata ls big --limit 100
  strata ls big --after k00000099 --limit 100`,
	}
	cmd.Flags().StringVar(&after, "after", "", "list names after `NAME`")
	cmd.Flags().IntVar(&limit, "limit", 0, "list at most `N` names (0: all)")
	cmd.Args = wantArgs(0, 1, "[PATH]")
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
			es, err := r.List(ctx, path, strata.After(after), strata.Limit(limit))
			if err != nil {
				return err
			}
			w := bufio.NewWriter(a.stdout)
			for _, e := range es {
				name := e.Name
				if e.Dir {
					name += "/"
				}
				w.WriteString(quoteName(name))
				w.WriteByte('\n')
			}
			return w.Flush()
		})
	})
	f.register(cmd)
	return cmd
}
