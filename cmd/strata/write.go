package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/stratakv/strata"
)

func (a *app) initCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Create the store if it does not exist",
		Long: `Init creates the store named by --store (default $STRATA_STORE, else
./.strata) if it does not exist yet, and does nothing to one that does.
It makes no commit: a branch comes into being with its first write.`,
		Args: wantArgs(0, 0, "no arguments"),
		RunE: action(func(ctx context.Context, _ []string) error {
			what := "initialized empty"
			var kv *strata.KV
			err := strata.ErrNotFound // an in-memory store never exists yet
			if !strings.HasPrefix(a.store, "mem:") {
				kv, err = strata.Open(ctx, a.store, strata.MustExist())
			}
			if err == nil {
				what = "reinitialized existing"
			} else if errors.Is(err, strata.ErrNotFound) {
				kv, err = a.create(ctx)
			}
			if err != nil {
				return err
			}
			if err := kv.Close(); err != nil {
				return fmt.Errorf("close store: %w", err)
			}
			_, err = fmt.Fprintf(a.stdout, "%s strata store in %s\n", what, location(a.store))
			return err
		}),
	}
}

// commitFlags are the flags of a command that makes a commit.
type commitFlags struct {
	branch, message, author string
	asJSON                  bool // only for set, rm and incr
}

// printCommit prints the commit a set or rm made (or the head it left):
// the hash, or with --json {"commit": HASH}.
func (a *app) printCommit(f *commitFlags, h strata.Hash) error {
	if f.asJSON {
		return newJSONEncoder(a.stdout).Encode(struct {
			Commit string `json:"commit"`
		}{h.String()})
	}
	_, err := fmt.Fprintln(a.stdout, h)
	return err
}

// registerJSON adds --json to a command that prints the commit it made.
func (f *commitFlags) registerJSON(cmd *cobra.Command, what string) {
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print "+what+" as one JSON object")
}

func (f *commitFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.branch, "branch", "b", "main", "the branch to commit to")
	cmd.Flags().StringVarP(&f.message, "message", "m", "", "the commit message (default \""+cmd.Name()+" PATH\")")
	cmd.Flags().StringVar(&f.author, "author", "", "the commit `AUTHOR` (default $STRATA_AUTHOR, else the user name)")
}

func (f *commitFlags) options(cmd *cobra.Command, defaultMessage string) []strata.CommitOption {
	msg := defaultMessage
	if cmd.Flags().Changed("message") {
		msg = f.message
	}
	return []strata.CommitOption{strata.Message(msg), strata.Author(f.authorName(cmd))}
}

// authorName is --author if given, else defaultAuthor.
func (f *commitFlags) authorName(cmd *cobra.Command) string {
	if cmd.Flags().Changed("author") {
		return f.author
	}
	return defaultAuthor()
}

func (a *app) setCommand() *cobra.Command {
	var f commitFlags
	var kind string
	cmd := &cobra.Command{
		Use:   "set PATH VALUE [--type raw|text|json|counter]",
		Short: "Set the value at a path in a new commit",
		Long: `Set stores VALUE at PATH on a branch (default main) in one new commit and
prints the commit's hash. VALUE is taken as its exact bytes; "-" reads the
value from standard input, byte for byte. A VALUE that starts with "-" must
come after "--". Directories on the way are created, and the branch and the
store are created if they do not exist. If PATH already holds VALUE, no
commit is made and the branch's current head is printed.

--type stores a typed value, which merges by its kind (see "strata help
merge"): raw (the default) is bytes; text must be UTF-8 and merges line by
line; json must be one JSON document, is stored compacted with object
members sorted, and merges member by member; counter is a 64-bit decimal
integer, and merges by adding up both sides' changes (see also incr). A
VALUE that is not valid for its type is invalid input (exit code 2).`,
		Example: `  strata set config/db/host db1 -m "point at db1"
  strata set logo.png - < logo.png
  strata set n -- -5
  strata set --type json svc/app '{"replicas": 3}'
  strata set --type counter stats/hits 0`,
	}
	cmd.Flags().StringVarP(&kind, "type", "t", "raw", "the value's `TYPE`: raw, text, json or counter")
	cmd.Args = wantArgs(2, 2, "PATH VALUE")
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		path, value := args[0], []byte(args[1])
		if args[1] == "-" {
			var err error
			if value, err = io.ReadAll(a.stdin); err != nil {
				return fmt.Errorf("read value from standard input: %w", err)
			}
		}
		if err := checkSet(f.branch, path); err != nil {
			return err
		}
		k, err := strata.ParseKind(kind)
		if err != nil {
			return err
		}
		v, err := strata.Value{Kind: k, Data: value}.Canonical()
		if err != nil {
			return fmt.Errorf("%s value for %q: %w", kind, path, err)
		}
		return a.withStore(ctx, true, func(kv *strata.KV) error {
			h, err := kv.Branch(f.branch).SetValue(ctx, path, v, f.options(cmd, "set "+path)...)
			if err != nil {
				return err
			}
			return a.printCommit(&f, h)
		})
	})
	f.register(cmd)
	f.registerJSON(cmd, `the commit, {"commit": HASH},`)
	return cmd
}

func (a *app) rmCommand() *cobra.Command {
	var f commitFlags
	cmd := &cobra.Command{
		Use:   "rm PATH",
		Short: "Remove a value or a whole directory in a new commit",
		Long: `Rm removes the value or the whole directory at PATH on a branch (default
main) in one new commit and prints the commit's hash. Removing a path that
holds nothing is an error (exit code 1).`,
	}
	cmd.Args = wantArgs(1, 1, "PATH")
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		return a.withStore(ctx, false, func(kv *strata.KV) error {
			h, err := kv.Branch(f.branch).Delete(ctx, args[0], f.options(cmd, "rm "+args[0])...)
			if err != nil {
				return err
			}
			return a.printCommit(&f, h)
		})
	})
	f.register(cmd)
	f.registerJSON(cmd, `the commit, {"commit": HASH},`)
	return cmd
}

// checkSet reports a malformed path or branch name before set opens, and
// perhaps creates, the store.
func checkSet(branch, path string) error {
	if err := strata.ValidateBranchName(branch); err != nil {
		return err
	}
	if err := strata.ValidatePath(path); err != nil {
		return err
	}
	if path == "" || strings.Trim(path, "/") == "" {
		return fmt.Errorf("%w: %q is the root; give a path to a value", strata.ErrInvalidPath, path)
	}
	return nil
}
