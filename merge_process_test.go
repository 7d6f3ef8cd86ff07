package strata_test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/internal/redistest"
)

// counterChild is the child process of TestCounterProcesses: for each of
// $STRATA_COUNTER_ROUNDS rounds it opens the store at $STRATA_COUNTER_URL
// (waiting for an on-disk store's lock), adds 1 to the counter "hits" on
// main $STRATA_COUNTER_N times, and closes the store.
func counterChild() {
	u := os.Getenv("STRATA_COUNTER_URL")
	rounds, _ := strconv.Atoi(os.Getenv("STRATA_COUNTER_ROUNDS"))
	n, _ := strconv.Atoi(os.Getenv("STRATA_COUNTER_N"))
	for r := 0; r < rounds; r++ {
		kv, err := strata.Open(ctx, u, strata.LockTimeout(2*time.Minute), strata.MaxRetries(10000))
		if err != nil {
			fmt.Println("error", err)
			os.Exit(3)
		}
		for i := 0; i < n; i++ {
			if _, _, err := kv.Branch("main").Add(ctx, "hits", 1); err != nil {
				fmt.Println("error", err)
				os.Exit(3)
			}
		}
		if err := kv.Close(); err != nil {
			fmt.Println("error", err)
			os.Exit(3)
		}
	}
	fmt.Println("done")
}

// runCounters runs procs counter processes at once on the store at u and
// checks that the counter ends at exactly procs × rounds × n.
func runCounters(t *testing.T, u string, procs, rounds, n int) {
	var wg sync.WaitGroup
	for p := 0; p < procs; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "STRATA_COUNTER_URL="+u,
				"STRATA_COUNTER_ROUNDS="+strconv.Itoa(rounds), "STRATA_COUNTER_N="+strconv.Itoa(n))
			out, err := cmd.CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != "done" {
				t.Errorf("process %d: %v: %s", p, err, out)
			}
		}()
	}
	wg.Wait()
	kv := openURL(t, u)
	defer kv.Close()
	v := must[strata.Value](t)(kv.Branch("main").GetValue(ctx, "hits"))
	if got, err := v.Int(); err != nil || got != int64(procs*rounds*n) {
		t.Errorf("hits = %d, %v; want %d", got, err, procs*rounds*n)
	}
}

// TestCounterProcesses: four processes increment one counter on one
// branch at once, through the on-disk store (where the processes take
// turns holding its lock, opening and closing it between rounds) and
// through Redis (where they write truly at once, and every write that
// loses the race for the head merges its increment into the winner's).
// Not one increment is lost.
func TestCounterProcesses(t *testing.T) {
	t.Run("pebble", func(t *testing.T) {
		runCounters(t, t.TempDir(), 4, 3, 40)
	})
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		runCounters(t, srv.URL("counter"), 4, 1, 250)
	})
}
