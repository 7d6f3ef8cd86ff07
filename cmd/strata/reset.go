package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/stratakv/strata"
)

func (a *app) resetCommand() *cobra.Command {
	var (
		branch string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "reset REV [-b BRANCH] [--json]",
		Short: "Move a branch to any commit",
		Long: `Reset moves branch BRANCH (-b, default main) to the commit that revision
REV names, whatever the branch's history, as "git reset --hard" does, and
prints the new head. The commits the branch leaves behind stay in the
store (reachable by hash, or by another branch). A branch that does not
exist yet is created; a branch already at REV is left as it is.

With --json it prints one object: {"head": HASH}.`,
		Example: `  strata reset main~1
  strata reset 3fa4c2 -b release`,
	}
	cmd.Args = wantArgs(1, 1, "REV")
	cmd.Flags().StringVarP(&branch, "branch", "b", "main", "the branch to move")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the new head as one JSON object")
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		return a.withStore(ctx, false, func(kv *strata.KV) error {
			h, err := kv.Branch(branch).Reset(ctx, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return newJSONEncoder(a.stdout).Encode(mergeJSON{Head: h.String()})
			}
			_, err = fmt.Fprintln(a.stdout, h)
			return err
		})
	})
	return cmd
}
