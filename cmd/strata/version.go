package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
	"github.com/stratakv/strata"
)

// versionInfo is what "strata version" prints.
type versionInfo struct {
	Version string `json:"version"` // strata's module version; "(devel)" for a source build
	Format  int    `json:"format"`  // strata.FormatVersion
	Go      string `json:"go"`      // the Go version the binary was built with
}

// buildVersion returns the version of strata's module from the binary's
// build information: a tagged version for "go install ...@vX.Y.Z",
// "(devel)" for a build from a source tree.
func buildVersion() versionInfo {
	v := versionInfo{Version: "(devel)", Format: strata.FormatVersion, Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			v.Go = bi.GoVersion
		}
	}
	return v
}

// String is the text form, one line.
func (v versionInfo) String() string {
	return fmt.Sprintf("strata %s (format %d, %s)", v.Version, v.Format, v.Go)
}

func (a *app) versionCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version [--json]",
		Short: "Print strata's version, its format version and the Go version",
		Long: `Version prints one line: strata's module version (from the binary's build
information; "(devel)" for a build from a source tree), the version of the
object format it reads and writes (docs/FORMAT.md), and the Go version it
was built with. "strata --version" prints the same line.

With --json it prints {"version": ..., "format": N, "go": ...}.`,
		Args: wantArgs(0, 0, "no arguments"),
		RunE: action(func(context.Context, []string) error {
			v := buildVersion()
			if asJSON {
				return newJSONEncoder(a.stdout).Encode(v)
			}
			_, err := fmt.Fprintln(a.stdout, v)
			return err
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}
