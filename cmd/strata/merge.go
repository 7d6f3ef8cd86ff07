package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/stratakv/strata"
)

const mergeSemantics = `A value that only one side changed takes that side's version, whole
directories included; the same change made on both sides is taken once
(except on a counter, where both changes count).
Where both changed a value differently, it merges by its type (see "strata
help set"): raw bytes conflict; text merges line by line and conflicts
where both changed the same lines; JSON merges object members one by one
and conflicts on a member both changed; counters add up both sides'
changes. A change against a removal, and a value against a directory,
conflict too.

On conflict nothing is written: each conflict is printed on standard output
as "C PATH KIND: DETAIL" (KIND is content, delete, directory or type) and
the command exits with code 3. --strategy ours (or theirs) settles every
conflict from that side instead, within a value where its type allows (a
clashing region of text, a clashing JSON member) and else for the whole
path, and keeps every change that does not clash.`

// mergeFlags are the flags of a command that merges.
type mergeFlags struct {
	commitFlags
	strategy string
	asJSON   bool
}

const mergeJSONHelp = `With --json it prints one object: {"head": HASH} on success, or
{"conflicts": [{"path": PATH, "kind": KIND, "detail": DETAIL}, ...]} on
conflict (still exit code 3).`

// mergeJSON is what a merge, revert or cherry-pick prints with --json.
type mergeJSON struct {
	Head      string         `json:"head,omitempty"`
	Conflicts []conflictJSON `json:"conflicts,omitempty"`
}

type conflictJSON struct {
	Path   string `json:"path"`
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

// printHead prints the head a merge, revert or cherry-pick left.
func (a *app) printHead(f *mergeFlags, h strata.Hash) error {
	if f.asJSON {
		return newJSONEncoder(a.stdout).Encode(mergeJSON{Head: h.String()})
	}
	_, err := fmt.Fprintln(a.stdout, h)
	return err
}

func (f *mergeFlags) register(cmd *cobra.Command, branchHelp, messageHelp string) {
	f.commitFlags.register(cmd)
	cmd.Flags().Lookup("branch").Usage = branchHelp
	cmd.Flags().Lookup("message").Usage = messageHelp
	cmd.Flags().StringVar(&f.strategy, "strategy", "", "settle conflicts from `SIDE`: ours or theirs")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print the new head, or the conflicts, as one JSON object")
}

func (f *mergeFlags) options(cmd *cobra.Command) ([]strata.MergeOption, error) {
	var opts []strata.MergeOption
	if cmd.Flags().Changed("message") {
		opts = append(opts, strata.Message(f.message))
	}
	// A cherry-picked commit keeps its author, as in git, unless --author
	// says otherwise.
	if cmd.Flags().Changed("author") || cmd.Name() != "cherry-pick" {
		opts = append(opts, strata.Author(f.authorName(cmd)))
	}
	switch f.strategy {
	case "":
	case "ours":
		opts = append(opts, strata.Prefer(strata.Ours))
	case "theirs":
		opts = append(opts, strata.Prefer(strata.Theirs))
	default:
		return nil, usageError(fmt.Sprintf("%s: --strategy %q: want ours or theirs", cmd.Name(), f.strategy))
	}
	return opts, nil
}

// reportConflicts prints a merge's conflicts as "C PATH KIND: DETAIL"
// lines and returns the error to exit with; other errors pass through.
func (a *app) reportConflicts(err error, f *mergeFlags) error {
	branch := f.branch
	var mce *strata.MergeConflictError
	if !errors.As(err, &mce) {
		return err
	}
	w := bufio.NewWriter(a.stdout)
	if f.asJSON {
		out := mergeJSON{Conflicts: make([]conflictJSON, len(mce.Conflicts))}
		for i, c := range mce.Conflicts {
			out.Conflicts[i] = conflictJSON{Path: c.Path, Kind: c.Reason.String(), Detail: c.Detail}
		}
		if err := newJSONEncoder(w).Encode(out); err != nil {
			return err
		}
	} else {
		for _, c := range mce.Conflicts {
			fmt.Fprintf(w, "C %s %s: %s\n", quoteName(c.Path), c.Reason, quoteText(c.Detail))
		}
	}
	if ferr := w.Flush(); ferr != nil {
		return ferr
	}
	n := len(mce.Conflicts)
	what := "conflicts"
	if n == 1 {
		what = "conflict"
	}
	return &conflictsError{fmt.Sprintf("%s: %d %s; %s unchanged", mce.Op, n, what, branch)}
}

// conflictsError ends a merge that found conflicts (exit code 3).
type conflictsError struct{ msg string }

func (e *conflictsError) Error() string { return e.msg }
func (e *conflictsError) Unwrap() error { return strata.ErrConflict }

func (a *app) mergeCommand() *cobra.Command {
	var f mergeFlags
	var noFF, ffOnly bool
	cmd := &cobra.Command{
		Use:   "merge SRC [-b INTO] [-m MSG] [--strategy ours|theirs] [--no-ff | --ff-only]",
		Short: "Merge a branch or revision into a branch",
		Long: `Merge merges revision SRC (a branch or a commit) into branch INTO (-b,
default main) and prints INTO's new head. If INTO already contains SRC,
nothing changes. If SRC contains INTO, INTO moves forward to SRC (a
fast-forward) unless --no-ff is given. Otherwise the two are merged
three-way against their common ancestor (after criss-cross merges, a
virtual one merged from all of them) and a merge commit with the parents
INTO and SRC is written; its message defaults to "merge SRC into INTO".
With --ff-only, a merge that would need a merge commit writes nothing and
exits with code 3.

` + mergeSemantics + "\n\n" + mergeJSONHelp,
		Example: `  strata merge feature
  strata merge main -b feature
  strata merge feature --strategy theirs -m "take feature's side"`,
	}
	cmd.Args = wantArgs(1, 1, "SRC")
	cmd.Flags().BoolVar(&noFF, "no-ff", false, "write a merge commit even when a fast-forward would do")
	cmd.Flags().BoolVar(&ffOnly, "ff-only", false, "only fast-forward: refuse (exit 3) a merge that needs a merge commit")
	cmd.MarkFlagsMutuallyExclusive("no-ff", "ff-only")
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		opts, err := f.options(cmd)
		if err != nil {
			return err
		}
		if noFF {
			opts = append(opts, strata.NoFastForward())
		}
		if ffOnly {
			opts = append(opts, strata.FastForwardOnly())
		}
		return a.withStore(ctx, false, func(kv *strata.KV) error {
			h, err := kv.Merge(ctx, args[0], f.branch, opts...)
			if err != nil {
				return a.reportConflicts(err, &f)
			}
			return a.printHead(&f, h)
		})
	})
	f.register(cmd, "the branch to merge into", `the merge commit's message (default "merge SRC into INTO")`)
	return cmd
}

func (a *app) pickCommand(use, short, long, example, messageHelp string, revert bool) *cobra.Command {
	var f mergeFlags
	cmd := &cobra.Command{Use: use, Short: short, Long: long + "\n\n" + mergeSemantics + "\n\n" + mergeJSONHelp, Example: example}
	cmd.Args = wantArgs(1, 1, "REV")
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		opts, err := f.options(cmd)
		if err != nil {
			return err
		}
		return a.withStore(ctx, false, func(kv *strata.KV) error {
			b := kv.Branch(f.branch)
			var h strata.Hash
			if revert {
				h, err = b.Revert(ctx, args[0], opts...)
			} else {
				h, err = b.CherryPick(ctx, args[0], opts...)
			}
			if err != nil {
				return a.reportConflicts(err, &f)
			}
			return a.printHead(&f, h)
		})
	})
	f.register(cmd, "the branch to commit to", messageHelp)
	return cmd
}

func (a *app) revertCommand() *cobra.Command {
	return a.pickCommand("revert REV [-b BRANCH] [-m MSG] [--strategy ours|theirs]",
		"Undo the change a commit made, in a new commit",
		`Revert undoes on a branch (-b, default main) the change that commit REV made
relative to its first parent, as a three-way merge, and prints the new
head. The commit's message defaults to 'revert "SUBJECT"' and the reverted
commit's hash. If the branch no longer holds any of that change, nothing
is committed and the current head is printed.`,
		`  strata revert main~2
  strata revert 3fa4c2 -b release`, `the commit message (default 'revert "SUBJECT"')`, true)
}

func (a *app) cherryPickCommand() *cobra.Command {
	return a.pickCommand("cherry-pick REV [-b BRANCH] [-m MSG] [--strategy ours|theirs]",
		"Apply the change a commit made, in a new commit",
		`Cherry-pick applies to a branch (-b, default main) the change that commit
REV made relative to its first parent, as a three-way merge, and prints the
new head. The new commit keeps REV's message and author unless -m and
--author say otherwise. If the branch already holds the change, nothing is
committed and the current head is printed.`,
		`  strata cherry-pick feature~1 -b release`, "the commit message (default: REV's)", false)
}

func (a *app) mergeBaseCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "merge-base REV1 REV2",
		Short: "Print the common ancestors a merge would use",
		Long: `Merge-base prints the lowest common ancestors of REV1 and REV2, one hash
per line, highest first: one after a simple fork, several after criss-cross
merges. Histories with no common ancestor are not found (exit code 1).

With --json it prints one object, {"bases": [HASH, ...]}.`,
	}
	var asJSON bool
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.Args = wantArgs(2, 2, "REV1 REV2")
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		return a.withReader(ctx, func(kv *strata.KV) error {
			hs, err := kv.MergeBase(ctx, args[0], args[1])
			if err != nil {
				return err
			}
			if len(hs) == 0 {
				return fmt.Errorf("%s and %s have no common ancestor: %w", args[0], args[1], strata.ErrNotFound)
			}
			w := bufio.NewWriter(a.stdout)
			if asJSON {
				out := struct {
					Bases []string `json:"bases"`
				}{make([]string, len(hs))}
				for i, h := range hs {
					out.Bases[i] = h.String()
				}
				if err := newJSONEncoder(w).Encode(out); err != nil {
					return err
				}
				return w.Flush()
			}
			for _, h := range hs {
				fmt.Fprintln(w, h)
			}
			return w.Flush()
		})
	})
	return cmd
}

func (a *app) incrCommand() *cobra.Command {
	var f commitFlags
	cmd := &cobra.Command{
		Use:   "incr PATH [N]",
		Short: "Add to a counter in a new commit",
		Long: `Incr adds N (default 1; negative to subtract) to the counter at PATH on a
branch (default main) in one new commit and prints the counter's new value.
A missing counter starts at 0; the branch and the store are created if they
do not exist. Concurrent increments, from any number of processes, are
never lost: a write that loses the race merges its increment into the
winner's. A value at PATH that is not a counter, or a result outside the
64-bit range, is invalid input (exit code 2). A negative N must follow
"--".`,
		Example: `  strata incr stats/hits
  strata incr stats/hits 10
  strata incr stats/hits -- -1`,
	}
	cmd.Args = wantArgs(1, 2, "PATH [N]")
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		path, delta := args[0], int64(1)
		if len(args) > 1 {
			var err error
			if delta, err = strconv.ParseInt(strings.TrimPrefix(args[1], "+"), 10, 64); err != nil {
				return usageError(fmt.Sprintf("incr: %q is not a 64-bit integer", args[1]))
			}
		}
		if err := checkSet(f.branch, path); err != nil {
			return err
		}
		return a.withStore(ctx, true, func(kv *strata.KV) error {
			n, h, err := kv.Branch(f.branch).Add(ctx, path, delta, f.options(cmd, "incr "+path)...)
			if err != nil {
				return err
			}
			if f.asJSON {
				return newJSONEncoder(a.stdout).Encode(struct {
					Value  int64  `json:"value"`
					Commit string `json:"commit"`
				}{n, h.String()})
			}
			_, err = fmt.Fprintln(a.stdout, n)
			return err
		})
	})
	f.register(cmd)
	f.registerJSON(cmd, `the new value and the commit, {"value": N, "commit": HASH},`)
	return cmd
}
