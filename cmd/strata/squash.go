package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stratakv/strata"
)

func (a *app) squashCommand() *cobra.Command {
	var (
		before string
		f      commitFlags
		yes    bool
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "squash --before REV [-b BRANCH] [-m MSG] --yes",
		Short: "Replace a branch's history up to a commit with one commit",
		Long: `Squash replaces the history of branch BRANCH (-b, default main) at and
below commit REV with one root commit holding REV's tree (message
"squash of history up to HASH" unless -m), and makes every later commit
of the branch's first-parent history again on top of it, with its own
tree, author, time and message. Those commits get new hashes; a merge
among them keeps only its first parent. It prints the new head.

It rewrites history, so it runs only with --yes. The old commits stay
in the store while another branch, tag or remote-tracking ref reaches
them; 'strata gc' then deletes whatever only they reached (values
included), which is how data is erased for good. REV must be on the
branch's first-parent history.

With --json it prints one object: {"head": HASH}.`,
		Example: `  strata squash --before main~100 --yes
  strata squash --before 3fa4c2 -b release -m "history before 2025" --yes && strata gc`,
	}
	cmd.Args = wantArgs(0, 0, "no arguments")
	cmd.Flags().StringVar(&before, "before", "", "the newest commit to squash (a revision)")
	cmd.Flags().StringVarP(&f.branch, "branch", "b", "main", "the branch to rewrite")
	cmd.Flags().StringVarP(&f.message, "message", "m", "", "the message of the new root commit")
	cmd.Flags().StringVar(&f.author, "author", "", "the `AUTHOR` of the new root commit (default $STRATA_AUTHOR, else the user name)")
	cmd.Flags().BoolVar(&yes, "yes", false, "rewrite the history (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the new head as one JSON object")
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		if before == "" {
			return usageError("squash: --before REV is required")
		}
		if !yes {
			return usageError(fmt.Sprintf("squash: rewrites the history of branch %q up to %s; add --yes to do it", f.branch, before))
		}
		return a.withStore(ctx, false, func(kv *strata.KV) error {
			opts := []strata.CommitOption{strata.Author(f.authorName(cmd))}
			if f.message != "" {
				opts = append(opts, strata.Message(f.message))
			}
			h, err := kv.Branch(f.branch).Squash(ctx, before, opts...)
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
