package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/stratakv/strata"
)

func (a *app) proveCommand() *cobra.Command {
	var at string
	cmd := &cobra.Command{
		Use:   "prove PATH [--at REV]",
		Short: "Write a Merkle proof of a value",
		Long: `Prove writes to standard output a Merkle proof of the value at PATH in a
revision (--at, default main): the commit and every object on the way from
it to the value, as one line of JSON
  {"commit": HASH, "path": PATH, "objects": [BASE64...]}
(see docs/FORMAT.md). Anyone who trusts the commit hash can check it with
"strata verify" and no store. If nothing is at PATH it writes a proof of
that instead.`,
		Example: `  strata prove config/db/host > proof.json
  strata prove config/db/host --at v1.2`,
	}
	cmd.Args = wantArgs(1, 1, "PATH")
	cmd.Flags().StringVar(&at, "at", "main", "the revision to prove the value in")
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		return a.withReader(ctx, func(kv *strata.KV) error {
			p, err := kv.Prove(ctx, at, args[0])
			if err != nil {
				return err
			}
			return newJSONEncoder(a.stdout).Encode(p)
		})
	})
	return cmd
}

func (a *app) verifyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify COMMIT PATH",
		Short: "Check a Merkle proof and print the value it proves",
		Long: `Verify reads a proof written by "strata prove" (or served at /v1/proof) on
standard input and checks it against COMMIT, a full commit hash you trust,
with no store: it re-hashes every object and follows the links from the
commit to PATH. If the proof holds, it prints the value as get does (exit
code 0), or, for a proof that nothing is at PATH, says so (exit code 1). A
proof that does not hold — tampered with, damaged, or for another commit
or path — is an error (exit code 4) and nothing is printed on standard
output. A COMMIT that is not 64 hexadecimal digits is a usage error
(exit code 2).`,
		Example: `  strata prove config/db/host | strata verify 3f2a…(64 digits) config/db/host`,
	}
	cmd.Args = wantArgs(2, 2, "COMMIT PATH")
	cmd.RunE = action(func(ctx context.Context, args []string) error {
		h, err := strata.ParseHash(args[0])
		if err != nil {
			return usageError(fmt.Sprintf("verify: COMMIT must be a full commit hash: %v", err))
		}
		if err := strata.ValidatePath(args[1]); err != nil {
			return err
		}
		data, err := io.ReadAll(io.LimitReader(a.stdin, 1<<30))
		if err != nil {
			return err
		}
		p, err := strata.ParseProof(data)
		if err != nil {
			return err
		}
		v, err := strata.VerifyProof(h, args[1], p)
		if err != nil {
			return err
		}
		if _, err = a.stdout.Write(v); err != nil {
			return err
		}
		if addNewline(isTerminal(a.stdout), v) {
			_, err = io.WriteString(a.stdout, "\n")
		}
		return err
	})
	return cmd
}
