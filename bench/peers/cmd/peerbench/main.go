// Command peerbench runs strata's benchmark workloads on the peers, go-git
// and Dolt's store, and on strata, in one run, and prints one table with
// each strata row's speed-up over each peer ("go-git÷this", "dolt÷this":
// the peer's time divided by strata's). Run it from bench/peers:
//
//	go run ./cmd/peerbench [-n 1000,100000,1000000] [-quick] [-json out.json] [-only regexp] [-backends strata-mem,go-git,dolt]
//
// It takes every flag of bench/cmd/stratabench (-h lists them).
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/stratakv/strata/bench"
	"github.com/stratakv/strata/bench/peers"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := bench.Command(ctx, "peerbench", os.Args[1:], os.Stdout, os.Stderr,
		"strata-mem,go-git,dolt", []bench.Factory{peers.GoGit(), peers.Dolt()}, []string{"go-git", "dolt"})
	stop()
	os.Exit(code)
}
