// Command gitimportbench measures a Git history import side by side:
// `git fast-import` of a generated stream into a fresh bare repository
// against `KV.ImportGit` (what `strata import --format git` runs) of the
// same stream into a fresh Pebble store, and prints the medians and their
// ratio:
//
//	go run ./bench/cmd/gitimportbench [-files 100000] [-commits 1000] [-samples 5]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/stratakv/strata/bench"
)

func main() {
	files := flag.Int("files", 100_000, "files at the head of the history")
	commits := flag.Int("commits", 1_000, "commits in the history")
	samples := flag.Int("samples", 5, "imports of each kind")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	dir, err := os.MkdirTemp("", "gitimportbench")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	res, err := bench.RunGitImport(ctx, dir, *files, *commits, *samples)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gitimportbench:", err)
		os.Exit(1)
	}
	g, s := bench.Median(res.Git), bench.Median(res.Strata)
	fmt.Printf("stream: %d files, %d commits, %.1f MB\n", res.Files, res.Commits, float64(res.StreamBytes)/1e6)
	fmt.Printf("git fast-import:    median %v  samples %v\n", g, res.Git)
	fmt.Printf("strata ImportGit:   median %v  samples %v\n", s, res.Strata)
	fmt.Printf("strata / git: %.2fx the time\n", float64(s)/float64(g))
}
