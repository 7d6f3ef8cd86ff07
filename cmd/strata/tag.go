package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/stratakv/strata"
)

func (a *app) tagCommand() *cobra.Command {
	var del, force, asJSON bool
	cmd := &cobra.Command{
		Use:   "tag [NAME [REV]] [-f] | tag -d NAME",
		Short: "List, create or delete tags",
		Long: `With no arguments, tag lists the tags, one "NAME HASH" line each, sorted
by name. "tag NAME [REV]" tags the commit REV names (default main) and
prints its hash. A tag never moves: tagging the commit it names again does
nothing, and tagging another commit is a conflict (exit code 3) unless -f
is given. "tag -d NAME" deletes tag NAME; its commit stays in the store.

A tag is a revision ("v1.2", "v1.2~3"); a name that is both a branch and a
tag cannot be used as a revision (exit code 2). Tag names follow the
branch naming rules.

With --json the listing prints one object per line, {"name": NAME,
"commit": HASH}, and creating a tag prints that object for it.`,
		Example: `  strata tag v1.0
  strata tag v0.9 main~3
  strata tag -f v1.0 main
  strata tag -d v1.0`,
	}
	cmd.Flags().BoolVarP(&del, "delete", "d", false, "delete tag NAME")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "move tag NAME if it names another commit")
	cmd.Flags().BoolVar(&asJSON, "json", false, `print as JSON: {"name": NAME, "commit": HASH}, a line per tag`)
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
				return kv.DeleteTag(ctx, args[0])
			case len(args) > 0:
				rev := "main"
				if len(args) > 1 {
					rev = args[1]
				}
				var opts []strata.TagOption
				if force {
					opts = append(opts, strata.Force())
				}
				h, err := kv.Tag(ctx, args[0], rev, opts...)
				if err != nil {
					if errors.Is(err, strata.ErrExists) && strings.Contains(err.Error(), "unless forced") {
						return fmt.Errorf("%w; use -f to move it", err)
					}
					return err
				}
				if asJSON {
					return newJSONEncoder(a.stdout).Encode(tagJSON{Name: args[0], Commit: h.String()})
				}
				_, err = fmt.Fprintln(a.stdout, h)
				return err
			}
			tags, err := kv.Tags(ctx)
			var bad *strata.CorruptRefsError
			if err != nil && !errors.As(err, &bad) {
				return err
			}
			if err := writeList(a.stdout, tags, asJSON,
				func(t strata.TagInfo) string { return quoteName(t.Name) + " " + t.Commit.String() },
				func(t strata.TagInfo) any { return tagJSON{Name: t.Name, Commit: t.Commit.String()} },
			); err != nil {
				return err
			}
			if bad != nil {
				return fmt.Errorf("%w; delete with 'strata tag -d NAME'", bad)
			}
			return nil
		})
	})
	return cmd
}

// tagJSON is one line of tag --json.
type tagJSON struct {
	Name   string `json:"name"`
	Commit string `json:"commit"`
}
