package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/stratakv/strata"
)

func (a *app) importCommand() *cobra.Command {
	var f commitFlags
	var format, at, gitDir string
	var force bool
	var cmd *cobra.Command
	cmd = &cobra.Command{
		Use:   "import FILE|- [--format json|yaml|git] [--at PATH] [-b BRANCH] [-m MSG] | import --git DIR",
		Short: "Import a JSON or YAML document, or a Git history",
		Long: `Import reads FILE ("-": standard input).

With --format json or yaml (default: from the file's extension, else json)
it writes the document at --at PATH (default the root) of a branch (-b,
default main) in one commit, and prints the commit's hash. What was at
PATH is replaced: the whole subtree, or at the root the whole tree.
Objects become directories, strings text values, and numbers, booleans,
null, arrays and empty objects JSON values holding their JSON text
(numbers keep their exact digits); "strata export --format json|yaml"
gives the document back. A document imported at the root must be an
object. A key that cannot be a path segment ("", ".", "..", or one with
"/") is refused, naming it, as is a document whose paths (--at included)
are over the limits of every path: 256 segments, 4096 bytes.

With --format git it reads a "git fast-export" stream and builds the same
history: commits, merges, authors, times, messages, branches
(refs/heads/NAME) and tags (refs/tags/NAME); each file's bytes become a
value at its path. --git DIR runs "git -C DIR fast-export --all
--signed-tags=strip --reencode=yes --use-done-feature" itself, passes on
its warnings, and moves nothing unless git succeeds: a repository git
cannot read whole fails (exit code 4). A stream that announces "feature
done" and ends before "done" is refused as cut short. Submodules and refs
other than branches and tags are left out, with a warning; file modes are
dropped (a symbolic link is a value holding its target). Branches and tags
that exist and name other commits are refused unless --force. It prints
the number of commits and the branches and tags it set.`,
		Example: `  strata import config.json --at config -m "load config"
  strata import values.yaml --format yaml
  git -C repo fast-export --all | strata import --format git -
  strata import --git path/to/repo`,
		Args: func(cmd *cobra.Command, args []string) error {
			if gitDir != "" {
				return wantArgs(0, 0, "no FILE with --git")(cmd, args)
			}
			return wantArgs(1, 1, "FILE or -")(cmd, args)
		},
		RunE: action(func(ctx context.Context, args []string) error {
			if gitDir != "" || format == "git" {
				for _, fl := range []string{"at", "branch", "message", "author"} {
					if cmd.Flags().Changed(fl) {
						return usageError("import: --" + fl + " does not apply to a Git import, which keeps the history's own branches and commits")
					}
				}
			}
			if gitDir != "" {
				return a.importGitDir(ctx, cmd, gitDir, force)
			}
			if format == "" {
				format = "json"
				if ext := strings.ToLower(filepath.Ext(args[0])); ext == ".yaml" || ext == ".yml" {
					format = "yaml"
				}
			}
			var r io.Reader = a.stdin
			if args[0] != "-" {
				file, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer file.Close()
				r = file
			}
			if format == "git" {
				return a.withStore(ctx, true, func(kv *strata.KV) error {
					return a.importGit(ctx, cmd, kv, r, force, nil)
				})
			}
			if format != "json" && format != "yaml" {
				return usageError(fmt.Sprintf("import: unknown --format %q (want json, yaml or git)", format))
			}
			data, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			return a.withStore(ctx, true, func(kv *strata.KV) error {
				h, err := kv.Branch(f.branch).ImportDocument(ctx, at, strata.DocFormat(format), data, f.options(cmd, "import "+args[0])...)
				if err != nil {
					return err
				}
				return a.printCommit(&f, h)
			})
		}),
	}
	f.register(cmd)
	cmd.Flags().StringVar(&format, "format", "", "the input's `FORMAT`: json, yaml or git")
	cmd.Flags().StringVar(&at, "at", "", "import the document at `PATH`, replacing what is there")
	cmd.Flags().StringVar(&gitDir, "git", "", "import the whole history of the Git repository in `DIR`")
	cmd.Flags().BoolVar(&force, "force", false, "with git: move branches and tags that exist")
	return cmd
}

// importGitDir imports the history of the Git repository in dir, read
// from "git fast-export" as it runs. No branch or tag moves unless git
// exits 0 having written the whole stream (it announces "feature done"
// and ends with "done", so a git that dies halfway leaves a stream the
// import refuses). What git writes on standard error is passed on as
// warnings on success, and is the error's text on failure.
func (a *app) importGitDir(ctx context.Context, cmd *cobra.Command, dir string, force bool) error {
	return a.withStore(ctx, true, func(kv *strata.KV) error {
		git := exec.CommandContext(ctx, "git", "-C", dir, "fast-export", "--all", "--signed-tags=strip", "--reencode=yes", "--tag-of-filtered-object=drop", "--use-done-feature")
		var stderr bytes.Buffer
		git.Stderr = &stderr
		out, err := git.StdoutPipe()
		if err != nil {
			return err
		}
		if err := git.Start(); err != nil {
			return fmt.Errorf("run git: %w", err)
		}
		waited, werr := false, error(nil)
		wait := func() error {
			if !waited {
				_, _ = io.Copy(io.Discard, out) // let git finish if the import stopped early
				waited, werr = true, git.Wait()
				if werr != nil {
					werr = fmt.Errorf("git fast-export in %s: %w: %s", dir, werr, strings.TrimSpace(stderr.String()))
				}
			}
			return werr
		}
		ierr := a.importGit(ctx, cmd, kv, out, force, wait)
		if err := wait(); err != nil {
			return err // git's failure explains a cut stream best
		}
		for _, w := range gitWarnings(stderr.String()) {
			fmt.Fprintf(cmd.ErrOrStderr(), "strata: warning: git fast-export: %s\n", w)
		}
		return ierr
	})
}

// importGit imports the git fast-export stream r and prints what it set.
// beforeRefs, if not nil, runs once the stream is read and before any ref
// moves; an error from it stops the import with nothing visible.
func (a *app) importGit(ctx context.Context, cmd *cobra.Command, kv *strata.KV, r io.Reader, force bool, beforeRefs func() error) error {
	warn := func(msg string) { fmt.Fprintf(cmd.ErrOrStderr(), "strata: warning: %s\n", msg) }
	res, err := kv.ImportGit(ctx, r, &strata.GitImportOptions{
		Force:      force,
		Warn:       warn,
		BeforeRefs: beforeRefs,
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.stdout, "imported %d commits; branches: %s; tags: %s\n",
		res.Commits, orNone(res.Branches), orNone(res.Tags))
	return err
}

// gitWarnings splits what git wrote on standard error into messages,
// one per "warning: " line (without that prefix), each with the lines
// that continue it joined on.
func gitWarnings(stderr string) []string {
	var ws []string
	for _, line := range strings.Split(stderr, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "warning: "), len(ws) == 0:
			ws = append(ws, strings.TrimPrefix(line, "warning: "))
		default:
			ws[len(ws)-1] += " " + line
		}
	}
	return ws
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, " ")
}
