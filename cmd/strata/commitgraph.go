package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stratakv/strata"
)

func (a *app) commitGraphCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "commit-graph write [--json]",
		Short: "Write the merge-base index (commit graph) missing for the store's history",
		Long: `The commit graph is an index of commit heights and parents, stored in
runs of commits, that lets a merge base be found on a cold cache by
reading one object per run instead of every commit (docs/FORMAT.md).
Commits made by strata write their runs as they land; commits that
arrived by clone, fetch or pull, or whose run's write failed (a warning
in the log of 'strata serve'), have none until 'strata commit-graph
write' writes the runs missing for the history of every branch, tag
and remote-tracking ref.

Runs are derived data: nothing needs them to be right, and a search
that finds none reads the commits instead. It is safe to run while
others write. It prints how many runs it wrote; with --json, one object
{"written": N}.`,
		Example: `  strata commit-graph write
  strata fetch origin && strata commit-graph write`,
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the count as one JSON object")
	cmd.Args = func(cmd *cobra.Command, as []string) error {
		switch {
		case len(as) == 0:
			return usageError("commit-graph: want a subcommand: write")
		case as[0] != "write":
			return usageError(fmt.Sprintf("commit-graph: unknown subcommand %q (want write)", as[0]))
		case len(as) > 1:
			return usageError(fmt.Sprintf("commit-graph write: want no arguments, got %d", len(as)-1))
		}
		return nil
	}
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		return a.withStore(ctx, false, func(kv *strata.KV) error {
			n, err := kv.WriteCommitGraph(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(map[string]int{"written": n})
			}
			runs := "runs"
			if n == 1 {
				runs = "run"
			}
			_, err = fmt.Fprintf(a.stdout, "wrote %d commit-graph %s\n", n, runs)
			return err
		})
	})
	return cmd
}
