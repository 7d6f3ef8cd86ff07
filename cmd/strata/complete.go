package main

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/stratakv/strata"
)

// Shell completion: cobra's "completion" command writes a script for
// bash, zsh, fish or PowerShell; the script calls the hidden "__complete"
// command, which lands in the functions below. They read the store named
// by --store (never creating it) and complete branch names, revisions and
// paths; on any error they offer nothing rather than fail.

// complete is a completion function over an open store.
type complete func(ctx context.Context, kv *strata.KV, cmd *cobra.Command, toComplete string) []string

// completeWith opens the store and runs fn, offering nothing on error.
func (a *app) completeWith(fn complete, directive cobra.ShellCompDirective) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		var out []string
		_ = a.withReader(ctx, func(kv *strata.KV) error { // completion only reads
			out = fn(ctx, kv, cmd, toComplete)
			return nil
		})
		return out, directive | cobra.ShellCompDirectiveNoFileComp
	}
}

// completeBranches offers the branch names that start with prefix.
func completeBranches(ctx context.Context, kv *strata.KV, _ *cobra.Command, prefix string) []string {
	bs, err := kv.Branches(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, b := range bs {
		if strings.HasPrefix(b.Name, prefix) {
			out = append(out, b.Name)
		}
	}
	return out
}

// completeTags offers the tag names that start with prefix.
func completeTags(ctx context.Context, kv *strata.KV, _ *cobra.Command, prefix string) []string {
	ts, err := kv.Tags(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, t := range ts {
		if strings.HasPrefix(t.Name, prefix) {
			out = append(out, t.Name)
		}
	}
	return out
}

// completeRevisions offers branch and tag names as revisions (a hash is
// typed, or pasted, whole).
func completeRevisions(ctx context.Context, kv *strata.KV, cmd *cobra.Command, prefix string) []string {
	return append(completeBranches(ctx, kv, cmd, prefix), completeTags(ctx, kv, cmd, prefix)...)
}

// completeLimit bounds how many paths one completion offers.
const completeLimit = 1000

// completePaths offers the names in the directory of the partial path
// prefix that continue it, as full paths; directories end in "/" so that
// completion can go on into them. It reads the revision of --at, else the
// head of -b (default main).
func completePaths(ctx context.Context, kv *strata.KV, cmd *cobra.Command, prefix string) []string {
	var r reader = kv.Branch("main")
	if f := cmd.Flags().Lookup("at"); f != nil && f.Changed {
		s, err := kv.At(ctx, f.Value.String())
		if err != nil {
			return nil
		}
		r = s
	} else if f := cmd.Flags().Lookup("branch"); f != nil {
		r = kv.Branch(f.Value.String())
	}
	dir, partial := "", prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir, partial = prefix[:i], prefix[i+1:]
	}
	// Names that start with partial sort after partial minus its last
	// byte; read from there, a page at a time, until past them.
	after := ""
	if partial != "" {
		after = partial[:len(partial)-1]
	}
	var out []string
	for len(out) < completeLimit {
		es, err := r.List(ctx, dir, strata.After(after), strata.Limit(lsPage))
		if err != nil {
			return out
		}
		for _, e := range es {
			switch {
			case !completable(e.Name):
				// One candidate per line: a name with a newline (or
				// another control character) cannot be offered whole.
			case strings.HasPrefix(e.Name, partial):
				name := joinPath(dir, e.Name)
				if e.Dir {
					name += "/"
				}
				out = append(out, name)
			case e.Name > partial:
				return out // past every name that starts with partial
			}
		}
		if len(es) < lsPage {
			return out
		}
		after = es[len(es)-1].Name
	}
	return out
}

// completable reports whether a name can be offered as a completion
// candidate: valid UTF-8 without control characters, since the shell
// script reads one candidate per line.
func completable(name string) bool {
	return utf8.ValidString(name) && !strings.ContainsFunc(name, unicode.IsControl)
}

// registerCompletions attaches the completion functions to every command
// and flag that takes a branch, a revision or a path.
func (a *app) registerCompletions(root *cobra.Command) {
	branches := a.completeWith(completeBranches, 0)
	revisions := a.completeWith(completeRevisions, 0)
	tags := a.completeWith(completeTags, 0)
	paths := a.completeWith(completePaths, cobra.ShellCompDirectiveNoSpace)
	// The n-th positional argument of a command completes with fns[n]; the
	// last one repeats.
	positional := func(fns ...cobra.CompletionFunc) cobra.CompletionFunc {
		return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if a.completingAfterDash() { // after "--": a path
				return paths(cmd, args, toComplete)
			}
			i := min(len(args), len(fns)-1)
			if fns[i] == nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return fns[i](cmd, args, toComplete)
		}
	}
	for _, cmd := range root.Commands() {
		if f := cmd.Flags().Lookup("branch"); f != nil {
			_ = cmd.RegisterFlagCompletionFunc("branch", branches)
		}
		if f := cmd.Flags().Lookup("at"); f != nil && cmd.Name() != "import" { // import's --at is a path
			_ = cmd.RegisterFlagCompletionFunc("at", revisions)
		}
		switch cmd.Name() {
		case "get", "ls", "rm":
			cmd.ValidArgsFunction = positional(paths, nil)
		case "set", "incr":
			cmd.ValidArgsFunction = positional(paths, nil, nil)
		case "log", "show", "diff", "merge-base", "merge", "revert", "cherry-pick", "fsck", "reset":
			cmd.ValidArgsFunction = positional(revisions)
		case "export":
			cmd.ValidArgsFunction = positional(revisions, paths)
		case "commit-graph":
			cmd.ValidArgsFunction = subcommands("write")
		case "remote":
			cmd.ValidArgsFunction = subcommands("add", "rm")
		case "branch":
			cmd.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
				del, _ := cmd.Flags().GetBool("delete")
				switch {
				case del && len(args) == 0: // branch -d NAME
					return branches(cmd, args, toComplete)
				case !del && len(args) == 1: // branch NAME REV
					return revisions(cmd, args, toComplete)
				}
				return nil, cobra.ShellCompDirectiveNoFileComp // a new name
			}
		case "tag":
			cmd.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
				del, _ := cmd.Flags().GetBool("delete")
				switch {
				case len(args) == 0: // tag -d NAME, or tag -f NAME to move
					return tags(cmd, args, toComplete)
				case !del && len(args) == 1: // tag NAME REV
					return revisions(cmd, args, toComplete)
				}
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
		}
	}
}

// subcommands completes the first argument of a command that takes a
// subcommand word (remote add, commit-graph write) from words, and offers
// nothing after it.
func subcommands(words ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, w := range words {
			if strings.HasPrefix(w, toComplete) {
				out = append(out, w)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completingAfterDash reports whether the word being completed follows a
// "--" (cobra's ArgsLenAtDash cannot tell during completion).
func (a *app) completingAfterDash() bool {
	if len(a.args) < 2 {
		return false
	}
	for _, arg := range a.args[1 : len(a.args)-1] { // after "__complete", before the word
		if arg == "--" {
			return true
		}
	}
	return false
}
