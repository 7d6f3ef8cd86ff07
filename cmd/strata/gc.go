package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratakv/strata"
)

// gcJSON is the --json output of gc.
type gcJSON struct {
	DryRun   bool    `json:"dry_run"`
	Refs     int     `json:"refs"`
	Listed   int     `json:"listed"`
	Marked   int     `json:"marked"`
	Deleted  int     `json:"deleted"`
	Freed    int64   `json:"freed_bytes"`
	Rescued  int     `json:"rescued"`
	Restored int     `json:"restored"`
	Fenced   bool    `json:"fenced"`
	Seconds  float64 `json:"seconds"`
	MarkRate float64 `json:"marked_per_second"`
}

func (a *app) gcCommand() *cobra.Command {
	var (
		dryRun, quiet, asJSON bool
		grace                 time.Duration
	)
	cmd := &cobra.Command{
		Use:   "gc [--dry-run] [--grace DURATION]",
		Short: "Delete the objects no branch, tag or other ref reaches",
		Long: `Gc deletes every object that no ref reaches: every ref of the store is a
root (branches, tags, remote-tracking refs, remotes' URLs, shallow cuts,
commit-graph runs), and the commits a deleted branch or a squash left
behind go once nothing else reaches them. A missing or corrupt reachable
object stops it before it deletes anything (run 'strata fsck').

It is safe while other processes write: it never deletes an object stored
after it started, checks the refs again before deleting each batch, keeps
a copy of what it deleted, and after the grace period (--grace, default
10m) checks the refs once more and stores again anything a commit that
landed meanwhile needs. A writer must land a commit within the grace
period of relying on an object it did not store (docs/OPERATIONS.md).
On Pebble the disk space is returned (the deleted range is compacted).

--dry-run counts what would be deleted and deletes nothing. It prints a
summary on stderr (on failure, only if it deleted something), a progress
bar when stderr is a terminal (not with -q), and with --json one object
on stdout.`,
		Example: `  strata gc --dry-run
  strata gc --grace 30m`,
	}
	cmd.Args = wantArgs(0, 0, "no arguments")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "count what would be deleted; delete nothing")
	cmd.Flags().DurationVar(&grace, "grace", strata.DefaultGCGrace, "wait this long after deleting before the last check of the refs")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the statistics as one JSON object")
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		if grace < 0 {
			return usageError(fmt.Sprintf("gc: --grace %v: must not be negative", grace))
		}
		stderr := cmd.ErrOrStderr()
		return a.withExisting(ctx, !dryRun, func(kv *strata.KV) error {
			opts := []strata.GCOption{strata.GCGrace(grace)}
			if dryRun {
				opts = append(opts, strata.DryRun())
			}
			if bar := terminalBar(stderr, quiet, false); bar != nil {
				defer bar.Finish()
				opts = append(opts, strata.GCProgressFunc(func(p strata.GCProgress) {
					switch p.Phase {
					case "wait":
						bar.Describe(fmt.Sprintf("waiting %v before the last check", grace))
					case "delete":
						bar.Describe(fmt.Sprintf("delete: %d of %d", p.Done, p.Total))
					default:
						bar.Describe(p.Phase)
					}
					bar.Set(p.Done)
				}))
			}
			st, err := kv.GC(ctx, opts...)
			// A GC that failed is summed up only if it changed the store
			// (a cancelled one may have deleted some batches).
			if st != nil && (err == nil || st.Deleted > 0 || st.Restored > 0) {
				verb := "deleted"
				if st.DryRun {
					verb = "would delete"
				}
				fmt.Fprintf(stderr, "%s %s unreachable objects (%s) of %s; marked %s in %.2f s; %.2f s in all\n",
					verb, thousands(st.Deleted), byteSize(st.Freed), thousands(st.Listed), thousands(st.Marked),
					st.MarkTime.Seconds(), st.Elapsed.Seconds())
				if st.Rescued > 0 || st.Restored > 0 {
					fmt.Fprintf(stderr, "kept %d objects that writers reached or stored again meanwhile; stored %d again\n", st.Rescued, st.Restored)
				}
			}
			if err != nil {
				return err
			}
			if !asJSON {
				return nil
			}
			rate := 0.0
			if s := st.MarkTime.Seconds(); s > 0 {
				rate = float64(st.Marked) / s
			}
			return newJSONEncoder(a.stdout).Encode(gcJSON{
				DryRun: st.DryRun, Refs: st.Refs, Listed: st.Listed, Marked: st.Marked, Deleted: st.Deleted,
				Freed: st.Freed, Rescued: st.Rescued, Restored: st.Restored, Fenced: st.Fenced, Seconds: st.Elapsed.Seconds(), MarkRate: rate,
			})
		})
	})
	return cmd
}
