// Command stratabench runs strata's benchmark workloads (see package
// bench) on strata over mem, Pebble and Redis and on the raw backends, and
// prints a table of medians with ratios:
//
//	go run ./bench/cmd/stratabench [-n 1000,100000,1000000] [-quick] [-json out.json] [-only regexp]
//
// It starts its own redis-server (from PATH) on a free loopback port for
// the Redis backends, and leaves them out, loudly, when there is none.
// With -sync it runs the sync workloads instead (clone beside git,
// bulk push beside pipelined SETs, incremental push, empty fetch; sizes
// with -sync-keys, -sync-commits, -sync-incr-keys). Run with -h for every
// flag. The peers (go-git, Dolt) are in the separate
// module bench/peers: go run ./cmd/peerbench there.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/stratakv/strata/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := bench.Command(ctx, "stratabench", os.Args[1:], os.Stdout, os.Stderr,
		"strata-mem,strata-pebble,strata-redis,raw-pebble,raw-redis", nil, nil)
	stop()
	os.Exit(code)
}
