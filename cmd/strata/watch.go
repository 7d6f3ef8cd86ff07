package main

import (
	"bufio"
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stratakv/strata"
)

// watchEventJSON is one event of watch --json.
type watchEventJSON struct {
	Branch  string       `json:"branch"`
	Old     string       `json:"old"`
	New     string       `json:"new"`
	Changes []changeJSON `json:"changes"`
}

func (a *app) watchCommand() *cobra.Command {
	var branchName, since string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "watch [PREFIX] [-b BRANCH] [--since REV] [--json]",
		Short: "Print changes to a branch as they are made",
		Long: `Watch prints the changes to a branch (-b, default main) as they are made,
by this or any other process sharing the store (a Redis store, or a
server's), until interrupted (Ctrl-C: exit code 0). Each change is one line,
as diff prints it: "A PATH", "M PATH" or "D PATH". With PREFIX only the
values at or below PREFIX are printed. A store in a directory (or
pebble://) is refused (exit code 2): one process at a time opens it, so a
watcher would only keep the writers out; so is mem://, which no other
process sees.

--since REV first prints what was missed since commit REV (the commits
after it on the branch's first-parent chain, or, if the branch no longer
descends from it, the difference from REV to the head), then goes on
live, with nothing lost or repeated in between.

With --json it prints one object per move of the branch head, changes
below PREFIX or not:
  {"branch": B, "old": HASH, "new": HASH, "changes": [CHANGE...]}
where old is "" when the branch was created and new "" when it was
deleted; pass the last new to --since to resume (--since "" after a
deletion: what was made since the branch was absent). Each CHANGE is an object
as "strata diff --json" prints it (see "strata help diff").`,
		Example: `  strata watch
  strata watch config/ -b prod
  strata watch --since 3f2a9c1e5b7d --json`,
	}
	cmd.Args = wantArgs(0, 1, "[PREFIX]")
	cmd.Flags().StringVarP(&branchName, "branch", "b", "main", "the branch to watch")
	cmd.Flags().StringVar(&since, "since", "", "first print the changes made after this revision")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per move of the branch")
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		if scheme, _, ok := strings.Cut(strings.ToLower(a.store), "://"); !ok || scheme == "pebble" || scheme == "mem" {
			return usageError("watch: the store must be one that other processes share, such as redis://; a store in a directory is opened by one process at a time")
		}
		var opts []strata.WatchOption
		if len(args) > 0 {
			opts = append(opts, strata.WatchPrefix(args[0]))
		}
		return a.withReader(ctx, func(kv *strata.KV) error {
			switch {
			case cmd.Flags().Changed("since") && (since == "" || since == (strata.Hash{}).String()):
				// The last event seen was the branch's deletion.
				opts = append(opts, strata.WatchSinceAbsent())
			case since != "":
				h, err := kv.Resolve(ctx, since)
				if err != nil {
					return err
				}
				opts = append(opts, strata.WatchSince(h))
			}
			events, err := kv.Watch(ctx, branchName, opts...)
			if err != nil {
				return err
			}
			w := bufio.NewWriter(a.stdout)
			enc := newJSONEncoder(w)
			for ev := range events {
				if ev.Err != nil {
					return ev.Err
				}
				if asJSON {
					out := watchEventJSON{Branch: ev.Branch, Changes: make([]changeJSON, len(ev.Changes))}
					if !ev.Old.IsZero() {
						out.Old = ev.Old.String()
					}
					if !ev.New.IsZero() {
						out.New = ev.New.String()
					}
					for i, c := range ev.Changes {
						out.Changes[i] = toChangeJSON(c)
					}
					if err := enc.Encode(out); err != nil {
						return err
					}
				} else {
					writeChanges(w, ev.Changes)
				}
				if err := w.Flush(); err != nil {
					return err
				}
			}
			return nil // interrupted: the channel closed because ctx is done
		})
	})
	return cmd
}
