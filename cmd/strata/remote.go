package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/stratakv/strata"
)

func (a *app) remoteCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "remote [add NAME URL | rm NAME] [--json]",
		Short: "List, add or remove remotes",
		Long: `With no arguments, remote lists the remotes, one "NAME URL" line each,
sorted by name; passwords in URLs are shown as "xxxxx". "remote add NAME
URL" records store URL (any store URL strata accepts, see "strata help")
as remote NAME, in the store itself (an http(s) URL without its ?token=,
which every reader of the store could read: fetch, pull and push take it
from $STRATA_TOKEN); nothing is opened. A remote that
exists is a conflict (exit code 3); a bad name or URL is exit code 2.
"remote rm NAME" removes the remote and its remote-tracking refs
(NAME/BRANCH); a missing remote is exit code 1.

Remote names follow the branch naming rules, without '/'.

With --json the listing prints one object per line, {"name": NAME,
"url": URL} (URL redacted).`,
		Example: `  strata remote add origin redis://db.example:6379/0
  strata remote
  strata remote rm origin`,
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "list the remotes as JSON lines")
	cmd.Args = func(cmd *cobra.Command, as []string) error {
		if len(as) == 0 {
			return nil
		}
		switch as[0] {
		case "add":
			if len(as) != 3 {
				return usageError(fmt.Sprintf("remote add: want NAME URL, got %d arguments", len(as)-1))
			}
		case "rm", "remove":
			if len(as) != 2 {
				return usageError(fmt.Sprintf("remote rm: want NAME, got %d arguments", len(as)-1))
			}
		default:
			return usageError(fmt.Sprintf("remote: unknown subcommand %q (want add or rm)", as[0]))
		}
		return nil
	}
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return a.withStore(ctx, false, func(kv *strata.KV) error {
				if args[0] == "add" {
					return kv.AddRemote(ctx, args[1], args[2])
				}
				return kv.RemoveRemote(ctx, args[1])
			})
		}
		return a.withReader(ctx, func(kv *strata.KV) error {
			rs, err := kv.Remotes(ctx)
			var bad *strata.CorruptRefsError
			if err != nil && !errors.As(err, &bad) {
				return err
			}
			// URLs are shown redacted, in both forms.
			if err := writeList(a.stdout, rs, asJSON,
				func(r strata.Remote) string { return quoteName(r.Name) + " " + quoteName(strata.RedactURL(r.URL)) },
				func(r strata.Remote) any { return remoteJSON{Name: r.Name, URL: strata.RedactURL(r.URL)} },
			); err != nil {
				return err
			}
			if bad != nil {
				return fmt.Errorf("%w; remove with 'strata remote rm NAME'", bad)
			}
			return nil
		})
	})
	return cmd
}

// remoteJSON is one line of remote --json.
type remoteJSON struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}
