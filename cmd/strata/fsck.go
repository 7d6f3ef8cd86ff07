package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/stratakv/strata"
)

// fsckDamage is returned when fsck finds missing or corrupt objects; it
// maps to exit code 4.
type fsckDamage struct{ n int }

func (e fsckDamage) Error() string {
	return fmt.Sprintf("%d missing or corrupt objects; restore them from a copy of the store or delete the branches that need them", e.n)
}

func (a *app) fsckCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "fsck [REV...]",
		Short: "Check every object reachable from the branches (or REVs)",
		Long: `Fsck reads every object reachable from every branch (or from the given
revisions), re-hashes each one, decodes it, and prints one line per missing
or corrupt object with the path that reached it, and one per branch whose
stored head is damaged ("corrupt branch NAME: ..."; the other branches are
still checked), then a summary. Without REVs it also checks the
commit-graph runs (which gc keeps, and refuses to run past when damaged),
and says how to write a damaged one again. Names with control characters, '"' or
'\' are printed C-quoted. It exits 0
when the store is clean and 4 when anything is missing or corrupt.

With --json it prints one object per problem,
{"problem":"missing|corrupt","type":"commit|node|contents|branch|commit-graph run","hash":...,"where":...,"error":...}
("hash" is "" for a branch; "where" is the commit of a commit-graph run),
and a last line {"commits":N,"nodes":N,"contents":N,"problems":N}.`,
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON lines")
	cmd.Args = wantArgs(0, -1, "[REV...]")
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		return a.withReader(ctx, func(kv *strata.KV) error {
			rep, err := kv.Fsck(ctx, args...)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(a.stdout)
			for _, p := range rep.Problems {
				kind := p.Damage()
				hash := p.Hash.String()
				if p.IsRef() {
					hash = ""
				}
				if asJSON {
					if err := enc.Encode(map[string]string{
						"problem": kind, "type": p.Object, "hash": hash, "where": p.Where, "error": p.Err.Error(),
					}); err != nil {
						return err
					}
					continue
				}
				line := fmt.Sprintf("%s %s %s at %s\n", kind, p.Object, p.Hash, quoteName(p.Where))
				switch p.Object {
				case "branch":
					line = fmt.Sprintf("corrupt branch %s: its stored head is not a commit hash; delete it with 'strata branch -d %s'\n", quoteName(p.Where), p.Where)
				case "tag":
					line = fmt.Sprintf("corrupt tag %s: its stored value is not a commit hash; delete it with 'strata tag -d %s'\n", quoteName(p.Where), p.Where)
				case "remote", "remote-tracking ref":
					line = fmt.Sprintf("corrupt %s %s: its stored value is not a hash; remove the remote with 'strata remote rm NAME'\n", p.Object, quoteName(p.Where))
				case "commit-graph run":
					if p.IsRef() {
						line = fmt.Sprintf("corrupt commit-graph run ref of commit %s: its stored value is not a hash\n", quoteName(p.Where))
					} else {
						line = fmt.Sprintf("%s commit-graph run %s of commit %s: 'strata commit-graph write' writes it again if a branch, tag or remote-tracking ref reaches the commit\n", kind, p.Hash, quoteName(p.Where))
					}
				}
				if _, err := io.WriteString(a.stdout, line); err != nil {
					return err
				}
			}
			if asJSON {
				err = enc.Encode(map[string]int{"commits": rep.Commits, "nodes": rep.Nodes, "contents": rep.Contents, "problems": len(rep.Problems)})
			} else {
				_, err = fmt.Fprintf(a.stdout, "checked %d commits, %d nodes, %d values: %d problems\n",
					rep.Commits, rep.Nodes, rep.Contents, len(rep.Problems))
			}
			if err != nil {
				return err
			}
			if len(rep.Problems) > 0 {
				return fsckDamage{len(rep.Problems)}
			}
			return nil
		})
	})
	return cmd
}
