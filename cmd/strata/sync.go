package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/stratakv/strata"
)

// syncFlags are the flags every sync command shares.
type syncFlags struct {
	quiet  bool
	asJSON bool
}

func (f *syncFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print the statistics as one JSON object")
}

// syncJSON is the --json output of clone, fetch, pull and push.
type syncJSON struct {
	Objects    int     `json:"objects"`
	Bytes      int64   `json:"bytes"`
	RoundTrips int     `json:"round_trips"`
	Refs       int     `json:"refs"`
	Seconds    float64 `json:"seconds"`
	Head       string  `json:"head,omitempty"`
	// KeptTags lists the remote's tags that fetch left alone because the
	// local tag of that name points elsewhere.
	KeptTags []keptTagJSON `json:"kept_tags,omitempty"`
}

type keptTagJSON struct {
	Name   string `json:"name"`
	Local  string `json:"local"`
	Remote string `json:"remote"`
}

// progress returns the option that draws a progress bar on stderr when it
// is a terminal (and -q is not given), and a function that ends it.
func (f *syncFlags) progress(stderr io.Writer) ([]strata.SyncOption, func()) {
	bar := terminalBar(stderr, f.quiet, true)
	if bar == nil {
		return nil, func() {}
	}
	opt := strata.Progress(func(s strata.SyncStats) {
		bar.Describe(fmt.Sprintf("%d objects, %d round trips", s.Objects, s.RoundTrips))
		bar.Set64(s.Bytes)
	})
	return []strata.SyncOption{opt}, func() { bar.Finish() }
}

// terminalBar returns a progress bar of unknown length drawn on stderr,
// counting bytes (or items), or nil when stderr is not a terminal or
// quiet is set. The caller ends it with Finish.
func terminalBar(stderr io.Writer, quiet, bytes bool) *progressbar.ProgressBar {
	file, ok := stderr.(*os.File)
	if quiet || !ok || !term.IsTerminal(int(file.Fd())) {
		return nil
	}
	return progressbar.NewOptions64(-1, progressbar.OptionSetWriter(stderr),
		progressbar.OptionShowBytes(bytes), progressbar.OptionShowCount(),
		progressbar.OptionSetDescription("objects"), progressbar.OptionThrottle(100e6),
		progressbar.OptionClearOnFinish())
}

// report prints the one-line summary on stderr and, with --json, the
// statistics on stdout.
func (a *app) report(stderr io.Writer, f *syncFlags, st *strata.SyncStats) error {
	fmt.Fprintf(stderr, "sent %s objects (%s) in %.2f s, %d round trips\n",
		thousands(st.Objects), byteSize(st.Bytes), st.Elapsed.Seconds(), st.RoundTrips)
	for _, k := range st.KeptTags {
		fmt.Fprintf(stderr, "kept tag %s at %s; the remote has it at %s\n", k.Name, k.Local.Short(), k.Remote.Short())
	}
	if !f.asJSON {
		return nil
	}
	out := syncJSON{Objects: st.Objects, Bytes: st.Bytes, RoundTrips: st.RoundTrips, Refs: st.Refs, Seconds: st.Elapsed.Seconds()}
	if !st.Head.IsZero() {
		out.Head = st.Head.String()
	}
	for _, k := range st.KeptTags {
		out.KeptTags = append(out.KeptTags, keptTagJSON{Name: k.Name, Local: k.Local.String(), Remote: k.Remote.String()})
	}
	return newJSONEncoder(a.stdout).Encode(out)
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// openRemote opens REMOTE, a configured remote's name or a store URL, and
// returns it with the name its remote-tracking refs go under ("" for a
// URL).
func (a *app) openRemote(ctx context.Context, kv *strata.KV, remote string) (*strata.KV, string, error) {
	url, name := remote, ""
	// A remote's name has no '/'; anything with one is a store URL or a
	// path, and so is a name with a '.' that is not a remote's.
	if !strings.Contains(remote, "/") {
		r, err := kv.Remote(ctx, remote)
		switch {
		case err == nil:
			url, name = r.URL, r.Name
		case !errors.Is(err, strata.ErrNotFound) && !errors.Is(err, strata.ErrInvalidBranch):
			return nil, "", err
		case !strings.Contains(remote, "."):
			return nil, "", fmt.Errorf("no remote %q (add it with 'strata remote add', or give a store URL): %w", remote, strata.ErrNotFound)
		}
	}
	r, err := strata.Open(ctx, url, strata.MustExist())
	if err != nil {
		if errors.Is(err, strata.ErrNotFound) {
			return nil, "", fmt.Errorf("remote %s: no store there: %w", strata.RedactURL(url), err)
		}
		return nil, "", fmt.Errorf("remote %s: %w", strata.RedactURL(url), err)
	}
	return r, name, nil
}

func (a *app) cloneCommand() *cobra.Command {
	var (
		f      syncFlags
		depth  int
		branch string
	)
	cmd := &cobra.Command{
		Use:   "clone SRC DST [--depth N] [-b BRANCH] [-q] [--json]",
		Short: "Copy a store into a new one",
		Long: `Clone copies store SRC's branches and tags, with every object they reach,
into store DST, which must have no branch and no tag, and records SRC as
remote origin in DST (without the ?token= of an http(s) URL: later fetches,
pulls and pushes take the token from $STRATA_TOKEN). --depth N copies only
the last N commits of each branch; -b copies one branch. A one-line summary
goes to standard error. An interrupted clone is completed by running it
again.`,
		Example: `  strata clone redis://shared:6379 ./laptop`,
	}
	cmd.Args = wantArgs(2, 2, "SRC DST")
	cmd.Flags().IntVar(&depth, "depth", 0, "copy only the last N commits of each branch")
	cmd.Flags().StringVarP(&branch, "branch", "b", "", "copy only this branch")
	f.add(cmd)
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		if cmd.Flags().Changed("depth") && depth < 1 {
			return usageError(fmt.Sprintf("--depth %d: a clone needs at least 1 commit", depth))
		}
		src, err := strata.Open(ctx, args[0], strata.ReadOnly())
		if err != nil {
			return fmt.Errorf("clone: source: %w", err)
		}
		defer src.Close()
		if branch != "" { // before DST is created: a failed clone leaves no trace
			if _, err := src.Branch(branch).Head(ctx); err != nil {
				return fmt.Errorf("clone: the source's branch %q: %w", branch, err)
			}
		}
		dst, err := strata.Open(ctx, args[1])
		if err != nil {
			return fmt.Errorf("clone: destination: %w", err)
		}
		defer dst.Close()
		opts, end := f.progress(cmd.ErrOrStderr())
		if cmd.Flags().Changed("depth") {
			opts = append(opts, strata.Depth(depth))
		}
		if branch != "" {
			opts = append(opts, strata.SingleBranch(branch))
		}
		st, err := strata.Clone(ctx, src, dst, opts...)
		end()
		if err != nil {
			return err
		}
		return a.report(cmd.ErrOrStderr(), &f, st)
	})
	return cmd
}

// withRemote runs one sync of fetch, pull or push: it opens the store and
// REMOTE (a remote's name or a store URL), runs sync with the progress
// options of f, and reports its statistics.
func (a *app) withRemote(ctx context.Context, cmd *cobra.Command, f *syncFlags, remote string,
	sync func(kv, r *strata.KV, name string, opts []strata.SyncOption) (*strata.SyncStats, error)) error {
	return a.withStore(ctx, false, func(kv *strata.KV) error {
		r, name, err := a.openRemote(ctx, kv, remote)
		if err != nil {
			return err
		}
		defer r.Close()
		opts, end := f.progress(cmd.ErrOrStderr())
		st, err := sync(kv, r, name, opts)
		end()
		if err != nil {
			return err
		}
		return a.report(cmd.ErrOrStderr(), f, st)
	})
}

func (a *app) fetchCommand() *cobra.Command {
	var f syncFlags
	cmd := &cobra.Command{
		Use:   "fetch [REMOTE] [-q] [--json]",
		Short: "Copy a remote's branches and tags into remote-tracking refs",
		Long: `Fetch copies what the store lacks from REMOTE (a remote's name or a
store URL, default origin) and points REMOTE/BRANCH at each of its
branches; tags the store lacks are created.`,
	}
	cmd.Args = wantArgs(0, 1, "[REMOTE]")
	f.add(cmd)
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		remote := "origin"
		if len(args) > 0 {
			remote = args[0]
		}
		return a.withRemote(ctx, cmd, &f, remote, func(kv, r *strata.KV, name string, opts []strata.SyncOption) (*strata.SyncStats, error) {
			return kv.Fetch(ctx, r, name, opts...)
		})
	})
	return cmd
}

func (a *app) pullCommand() *cobra.Command {
	var (
		f      syncFlags
		local  string
		ffOnly bool
	)
	cmd := &cobra.Command{
		Use:   "pull [REMOTE [BRANCH]] [-b LOCAL] [--ff-only] [-q] [--json]",
		Short: "Fetch, then merge a remote branch into a local one",
		Long: `Pull fetches REMOTE (default origin) and merges its BRANCH (default main,
or LOCAL) into the local branch LOCAL (-b, default BRANCH). Conflicts are
listed as "C PATH KIND: DETAIL" lines, nothing is written to LOCAL, and
the exit code is 3; so is --ff-only when a merge commit would be needed.`,
	}
	cmd.Args = wantArgs(0, 2, "[REMOTE [BRANCH]]")
	cmd.Flags().StringVarP(&local, "branch", "b", "", "the local branch to merge into")
	cmd.Flags().BoolVar(&ffOnly, "ff-only", false, "only move the branch forward")
	f.add(cmd)
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		remote, br := "origin", local
		if len(args) > 0 {
			remote = args[0]
		}
		if len(args) > 1 {
			br = args[1]
		}
		if br == "" {
			br = "main"
		}
		if local == "" {
			local = br
		}
		err := a.withRemote(ctx, cmd, &f, remote, func(kv, r *strata.KV, name string, sopts []strata.SyncOption) (*strata.SyncStats, error) {
			var opts []strata.MergeOption
			for _, o := range sopts {
				opts = append(opts, o.(strata.MergeOption))
			}
			if ffOnly {
				opts = append(opts, strata.FastForwardOnly())
			}
			return kv.PullInto(ctx, r, name, br, local, opts...)
		})
		if err != nil {
			return a.reportConflicts(err, &mergeFlags{commitFlags: commitFlags{branch: local}, asJSON: f.asJSON})
		}
		return nil
	})
	return cmd
}

func (a *app) pushCommand() *cobra.Command {
	var (
		f     syncFlags
		force bool
	)
	cmd := &cobra.Command{
		Use:   "push [REMOTE [BRANCH]] [--force] [-q] [--json]",
		Short: "Send a branch to a remote",
		Long: `Push sends branch BRANCH (default main) to REMOTE (default origin) and
moves the remote's branch to it, only forward unless --force: a rejected
push changes nothing and exits with 3.`,
	}
	cmd.Args = wantArgs(0, 2, "[REMOTE [BRANCH]]")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "move the remote branch even if it is not a fast-forward")
	f.add(cmd)
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		remote, br := "origin", "main"
		if len(args) > 0 {
			remote = args[0]
		}
		if len(args) > 1 {
			br = args[1]
		}
		return a.withRemote(ctx, cmd, &f, remote, func(kv, r *strata.KV, name string, opts []strata.SyncOption) (*strata.SyncStats, error) {
			if force {
				opts = append(opts, strata.Force())
			}
			if name != "" {
				opts = append(opts, strata.Tracking(name)) // origin/BRANCH follows the push
			}
			return kv.Push(ctx, r, br, opts...)
		})
	})
	return cmd
}
