package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/stratakv/strata"
)

func (a *app) branchCommand() *cobra.Command {
	var del, asJSON bool
	cmd := &cobra.Command{
		Use:   "branch [NAME [REV]] | branch -d NAME",
		Short: "List, create or delete branches",
		Long: `With no arguments, branch lists the branches, one name per line, sorted.
"branch NAME [REV]" creates branch NAME at revision REV (default main); a
branch that exists already is a conflict (exit code 3). "branch -d NAME"
deletes branch NAME; its commits stay in the store.

A branch whose stored head is damaged (not a commit hash) makes the
listing print the other branches and then fail (exit code 4) naming it;
"branch -d NAME" deletes it, which is how it is repaired.

A branch name is made of letters, digits, '.', '_', '-' and '/'; it does
not start with '-' or '/', does not end with '/', and contains neither ".."
nor "//".

With --json the listing prints one object per line, {"name": NAME,
"head": HASH}.`,
		Example: `  strata branch feature
  strata branch hotfix main~3
  strata branch -d feature`,
	}
	cmd.Flags().BoolVarP(&del, "delete", "d", false, "delete branch NAME")
	cmd.Flags().BoolVar(&asJSON, "json", false, "list the branches as JSON lines with their heads")
	cmd.Args = func(cmd *cobra.Command, as []string) error {
		if del {
			return wantArgs(1, 1, "NAME")(cmd, as)
		}
		return wantArgs(0, 2, "[NAME [REV]]")(cmd, as)
	}
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		// Listing only reads.
		return a.withExisting(ctx, del || len(args) > 0, func(kv *strata.KV) error {
			switch {
			case del:
				return kv.DeleteBranch(ctx, args[0])
			case len(args) > 0:
				rev := "main"
				if len(args) > 1 {
					rev = args[1]
				}
				return kv.CreateBranch(ctx, args[0], rev)
			}
			// A damaged branch hides none of the others: they are
			// listed, then the damaged ones are named in the error.
			bs, err := kv.Branches(ctx)
			var bad *strata.CorruptBranchesError
			if err != nil && !errors.As(err, &bad) {
				return err
			}
			if err := writeList(a.stdout, bs, asJSON,
				func(b strata.BranchInfo) string { return quoteName(b.Name) },
				func(b strata.BranchInfo) any { return branchJSON{Name: b.Name, Head: b.Head.String()} },
			); err != nil {
				return err
			}
			if bad != nil {
				return fmt.Errorf("%w; delete with 'strata branch -d NAME'", bad)
			}
			return nil
		})
	})
	return cmd
}

// branchJSON is one line of branch --json.
type branchJSON struct {
	Name string `json:"name"`
	Head string `json:"head"`
}
