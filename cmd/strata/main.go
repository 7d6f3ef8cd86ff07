// Command strata is the command line of the strata versioned key-value
// store. It is built only on the facade, package strata.
//
// Run "strata help" for the commands, the store URL and the exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/stratakv/strata"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit codes; the root command's long help documents them.
const (
	exitOK       = 0
	exitNotFound = 1
	exitUsage    = 2
	exitConflict = 3
	exitFailure  = 4
)

// defaultStore is the store used when neither --store nor $STRATA_STORE
// names one: the embedded on-disk store in a directory, like .git.
const defaultStore = "./.strata"

const rootLong = `strata is a Git-like versioned key-value store: values live at
slash-separated paths ("config/db/host"), every change is a commit, and
branches are named heads that any revision can be read from and diffed
against.

The store is named by --store, else $STRATA_STORE, else ./.strata:

  ./dir, /path/to/dir      the embedded on-disk store in a directory
  pebble:///path/to/dir    the same, as a URL
  mem://                   an in-memory store, gone when the command exits
  redis://[user:pass@]host:port[/db][?prefix=NAME]
                           a Redis server shared by many processes and
                           machines (rediss:// for TLS; ?addr=host:port,
                           repeated, for a Cluster; ?master=NAME for
                           Sentinel). Passwords never appear in messages.

Only init, set, incr and import create the store if it does not exist
(and clone its destination), and only in a missing or empty directory;
every other command fails on a missing store (exit code 1) and leaves no
trace. A directory holding other files, or a
damaged store, is refused and left as it is (exit code 4). Commands that
only read open the store read-only: they need no write permission.

A revision (REV) is a branch name, a tag name, a remote-tracking ref
REMOTE/BRANCH (origin/main) or a commit hash (64 hex digits, or a unique
prefix of at least 4), followed by any number of suffixes: REV~N is the
N-th first-parent ancestor (REV~ is REV~1), REV^N the N-th parent. A name
that is both a branch and a tag is refused as ambiguous.

Values given as arguments are taken as their exact bytes; "-" reads the value
from standard input. A value that starts with "-" must follow "--":
  strata set n -- -5

Commits are by --author, else $STRATA_AUTHOR, else the operating system
user name. Commands that print data take --json: one JSON object, or one
per line for lists and histories (get, set, rm, incr, ls, log, diff, show,
branch, tag, remote, merge, merge-base, revert, cherry-pick, reset, clone,
fetch, pull, push, watch, fsck, gc, squash, commit-graph, version).
"strata completion SHELL" writes a completion script (bash, zsh, fish,
powershell) that completes branch names, revisions and paths from the
store.

Exit codes:
  0  success
  1  not found: no such store, path, branch or revision
  2  usage or invalid input: unknown command or flag, wrong number of
     arguments, bad path, branch name, revision syntax, an ambiguous
     revision, store URL, or a value that is not valid for its type
  3  conflict: the branch, tag or remote already exists, a write lost to
     concurrent writers too many times, or a merge, revert or cherry-pick
     found conflicts (listed on standard output as "C PATH KIND: DETAIL"
     lines, or as JSON with --json; nothing was written)
  4  any other failure: the store is unreachable, locked by another
     process or corrupt, or the command was interrupted

Errors are printed as one line on standard error, starting "strata: ".`

// app is one invocation of the command line.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	store  string   // the --store flag
	args   []string // the command line, without the program name
}

// run runs the command line with args (without the program name) and
// returns the process exit code. It never panics.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "strata: internal error: %s; please report this bug\n", oneLine(fmt.Sprint(r)))
			code = exitFailure
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	a := &app{stdin: stdin, stdout: stdout, args: args}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	code, msg, hint := describe(ctx, err)
	if hint {
		help := "strata help"
		if cmd != nil && cmd != root && cmd.Name() != "help" {
			help = "strata help " + cmd.Name()
		}
		msg += "; run '" + help + "'"
	}
	fmt.Fprintf(stderr, "strata: %s\n", oneLine(msg))
	return code
}

func (a *app) rootCommand() *cobra.Command {
	store := os.Getenv("STRATA_STORE")
	if store == "" {
		store = defaultStore
	}
	root := &cobra.Command{
		Use:   "strata",
		Short: "A Git-like versioned key-value store",
		Long:  rootLong,
		// Anything that is not a subcommand is an unknown command.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q", args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf(" (did you mean %q?)", s[0])
			}
			return usageError(msg)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
		SilenceUsage:               true,
		SilenceErrors:              true,
		SuggestionsMinimumDistance: 2,
	}
	root.PersistentFlags().StringVarP(&a.store, "store", "s", store,
		"the store: a directory or URL; $STRATA_STORE sets the default")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageError(err.Error())
	})
	root.AddCommand(
		a.initCommand(),
		a.setCommand(),
		a.getCommand(),
		a.rmCommand(),
		a.lsCommand(),
		a.logCommand(),
		a.diffCommand(),
		a.showCommand(),
		a.branchCommand(),
		a.tagCommand(),
		a.remoteCommand(),
		a.fsckCommand(),
		a.incrCommand(),
		a.mergeCommand(),
		a.mergeBaseCommand(),
		a.revertCommand(),
		a.cherryPickCommand(),
		a.resetCommand(),
		a.cloneCommand(),
		a.fetchCommand(),
		a.pullCommand(),
		a.pushCommand(),
		a.versionCommand(),
		a.serveCommand(),
		a.importCommand(),
		a.exportCommand(),
		a.watchCommand(),
		a.proveCommand(),
		a.verifyCommand(),
		a.gcCommand(),
		a.squashCommand(),
		a.commitGraphCommand(),
	)
	root.Version = buildVersion().Version
	root.SetVersionTemplate(buildVersion().String() + "\n")
	root.SetHelpCommand(helpCommand(root))
	a.registerCompletions(root)
	return root
}

// usageError is a mistake in how strata was invoked (exit code 2).
type usageError string

func (e usageError) Error() string { return string(e) }

// actionError marks an error returned by a command's action, as opposed to
// one cobra found while parsing the command line (which is a usage error).
type actionError struct{ err error }

func (e *actionError) Error() string { return e.err.Error() }
func (e *actionError) Unwrap() error { return e.err }

// action adapts a command's action to cobra, marking its errors.
func action(fn func(ctx context.Context, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := fn(cmd.Context(), args); err != nil {
			return &actionError{err}
		}
		return nil
	}
}

// describe maps an error to an exit code and the message to print, and
// says whether to point at the command's help.
func describe(ctx context.Context, err error) (code int, msg string, hint bool) {
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage, ue.Error(), true
	}
	var ae *actionError
	if !errors.As(err, &ae) {
		return exitUsage, err.Error(), true // found by cobra while parsing
	}
	code, msg = classify(ctx, err)
	return code, msg, false
}

// classify maps an error returned by a command's action to an exit code
// and a message.
func classify(ctx context.Context, err error) (int, string) {
	switch {
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		return exitFailure, "interrupted"
	case errors.Is(err, strata.ErrInvalidProof): // may wrap ErrCorrupt: the proof is damaged, not the store
		return exitFailure, err.Error()
	case errors.Is(err, strata.ErrCorrupt) && strings.Contains(err.Error(), "store copied from is damaged"):
		return exitFailure, err.Error() // a sync's other store, not this one
	case errors.Is(err, strata.ErrCorrupt):
		return exitFailure, err.Error() + "; the store is damaged"
	case errors.As(err, new(fsckDamage)):
		return exitFailure, err.Error()
	case errors.Is(err, strata.ErrInvalidPath),
		errors.Is(err, strata.ErrInvalidBranch),
		errors.Is(err, strata.ErrInvalidRevision),
		errors.Is(err, strata.ErrInvalidURL),
		errors.Is(err, strata.ErrInvalidValue),
		errors.Is(err, strata.ErrInvalidOption):
		return exitUsage, err.Error()
	case errors.Is(err, strata.ErrNotFound):
		return exitNotFound, err.Error()
	case errors.Is(err, strata.ErrConflict):
		return exitConflict, err.Error()
	}
	return exitFailure, err.Error()
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\x00", `\x00`)), " ")
}

// missingStoreError is returned when a command that only reads names a
// store that does not exist.
type missingStoreError struct {
	store string
	err   error
}

func (e *missingStoreError) Error() string {
	return fmt.Sprintf("no store at %s; run 'strata init' or set STRATA_STORE", strata.RedactURL(e.store))
}

func (e *missingStoreError) Unwrap() error { return e.err }

// open opens an existing store for a command that may write (rm, branch
// -d, …): a missing store is an error, and is not created.
func (a *app) open(ctx context.Context) (*strata.KV, error) {
	return a.openWith(ctx, strata.MustExist())
}

// openReadOnly opens an existing store for a command that only reads: it
// needs no write access to the store, changes nothing in it, and does not
// exclude other readers.
func (a *app) openReadOnly(ctx context.Context) (*strata.KV, error) {
	return a.openWith(ctx, strata.ReadOnly())
}

func (a *app) openWith(ctx context.Context, opts ...strata.OpenOption) (*strata.KV, error) {
	kv, err := strata.Open(ctx, a.store, opts...)
	if err != nil {
		if errors.Is(err, strata.ErrNotFound) {
			return nil, &missingStoreError{store: a.store, err: err}
		}
		return nil, err
	}
	return kv, nil
}

// create opens the store for a write, creating it if missing.
func (a *app) create(ctx context.Context) (*strata.KV, error) {
	return strata.Open(ctx, a.store)
}

// withStore runs fn on the store opened by open (or by create if create is
// true) and closes it, reporting a failed close if fn succeeded.
func (a *app) withStore(ctx context.Context, create bool, fn func(*strata.KV) error) error {
	if create {
		return a.using(ctx, a.create, fn)
	}
	return a.using(ctx, a.open, fn)
}

// withReader is withStore for a command that only reads: the store is
// opened read-only (openReadOnly).
func (a *app) withReader(ctx context.Context, fn func(*strata.KV) error) error {
	return a.using(ctx, a.openReadOnly, fn)
}

// withExisting runs fn on the existing store, opened for writing if write
// is true and read-only otherwise: for a command that only reads in some
// of its forms (listing branches or tags, say).
func (a *app) withExisting(ctx context.Context, write bool, fn func(*strata.KV) error) error {
	if write {
		return a.withStore(ctx, false, fn)
	}
	return a.withReader(ctx, fn)
}

func (a *app) using(ctx context.Context, open func(context.Context) (*strata.KV, error), fn func(*strata.KV) error) (err error) {
	kv, err := open(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := kv.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close store: %w", cerr)
		}
	}()
	return fn(kv)
}

// location returns the store's name for messages and output: the absolute
// directory of an on-disk store given as a path, otherwise the URL without
// its password (strata.RedactURL).
func location(store string) string {
	if redacted := strata.RedactURL(store); redacted != store || strings.Contains(store, "://") {
		return redacted
	}
	if abs, err := filepath.Abs(store); err == nil {
		return abs
	}
	return store
}

// wantArgs returns a cobra argument check that accepts min to max positional
// arguments (max < 0: no limit), described by want ("PATH VALUE").
func wantArgs(min, max int, want string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min || (max >= 0 && len(args) > max) {
			got := "no arguments"
			switch {
			case len(args) == 1:
				got = "1 argument"
			case len(args) > 1:
				got = fmt.Sprintf("%d arguments", len(args))
			}
			return usageError(fmt.Sprintf("%s: want %s, got %s", cmd.Name(), want, got))
		}
		return nil
	}
}
