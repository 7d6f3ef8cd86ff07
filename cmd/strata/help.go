package main

import (
	"fmt"
	"os"
	"os/user"
	"strings"

	"github.com/spf13/cobra"
)

// helpCommand replaces cobra's help command, which prints the root help and
// succeeds when asked about a command that does not exist: here that is a
// usage error (exit code 2), like any other unknown command.
func helpCommand(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]",
		Short: "Help about any command",
		Long:  `Help prints the help of COMMAND, or of strata itself.`,
		ValidArgsFunction: func(_ *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
			var names []string
			cmd, _, err := root.Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			for _, c := range cmd.Commands() {
				if c.IsAvailableCommand() && strings.HasPrefix(c.Name(), prefix) {
					names = append(names, c.Name()+"\t"+c.Short)
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(_ *cobra.Command, args []string) error {
			cmd, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 || (cmd == root && len(args) > 0) {
				msg := fmt.Sprintf("help: unknown command %q", strings.Join(args, " "))
				if len(args) > 0 {
					if s := root.SuggestionsFor(args[0]); len(s) > 0 {
						msg += fmt.Sprintf(" (did you mean %q?)", s[0])
					}
				}
				return usageError(msg)
			}
			return cmd.Help()
		},
	}
}

// defaultAuthor is the author of the commits the command line makes when
// --author is not given: $STRATA_AUTHOR, else the name of the operating
// system user running strata, else $USER; "" (the facade's default,
// "strata") if none is known.
func defaultAuthor() string {
	if a := os.Getenv("STRATA_AUTHOR"); a != "" {
		return a
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}
