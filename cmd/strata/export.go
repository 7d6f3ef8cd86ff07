package main

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/stratakv/strata"
)

func (a *app) exportCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "export [REV] [PATH] --format json|yaml | export --format git [BRANCH|TAG...]",
		Short: "Export a subtree as JSON or YAML, or the history as a Git stream",
		Long: `With --format json (the default) or yaml, export writes the subtree at PATH
(default the root) of revision REV (default main) as one document:
directories are objects, text values strings, JSON values their JSON,
counters numbers, raw values strings (a raw value, or a name, that is not
UTF-8 is an error naming its path). It is the inverse of "strata import".

With --format git it writes a "git fast-import" stream of the whole
history of the given branches and tags (default: all of them): every
commit with its parents, author, time and message, every value as a file
(mode 100644) at its path, branches as refs/heads/NAME and tags as
lightweight refs/tags/NAME. "git fast-import" reads it into a repository.`,
		Example: `  strata export main config --format yaml > config.yaml
  git init -q repo && strata export --format git | git -C repo fast-import`,
		RunE: action(func(ctx context.Context, args []string) error {
			return a.withReader(ctx, func(kv *strata.KV) error {
				if format == "git" {
					return kv.ExportGit(ctx, a.stdout, args...)
				}
				if format != "json" && format != "yaml" {
					return usageError("export: unknown --format " + format + " (want json, yaml or git)")
				}
				if len(args) > 2 {
					return usageError("export: want [REV] [PATH]")
				}
				rev, path := "main", ""
				if len(args) > 0 {
					rev = args[0]
				}
				if len(args) > 1 {
					path = args[1]
				}
				out, err := kv.ExportDocument(ctx, rev, path, strata.DocFormat(format))
				if err != nil {
					return err
				}
				_, err = a.stdout.Write(out)
				return err
			})
		}),
	}
	cmd.Flags().StringVar(&format, "format", "json", "the output's `FORMAT`: json, yaml or git")
	return cmd
}
