package strata_test

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratakv/strata"
)

// TestModelPebble runs the model-based test on the on-disk store, closing
// and reopening it at random steps.
func TestModelPebble(t *testing.T) {
	dir := t.TempDir()
	kv := openURL(t, dir)
	defer func() { kv.Close() }()
	modelTest(t, 600, kv, func(old *strata.KV) *strata.KV {
		if err := old.Close(); err != nil {
			t.Fatal(err)
		}
		kv = openURL(t, "pebble://"+dir)
		return kv
	})
}

func TestFsckPebble(t *testing.T) {
	kv := openURL(t, t.TempDir())
	defer kv.Close()
	testFsck(t, kv)
}

func TestPebbleOpenURLs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	if _, err := strata.Open(ctx, dir, strata.MustExist()); !errorsIs(err, strata.ErrNotFound) {
		t.Fatalf("MustExist on a missing store: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("MustExist created %s", dir)
	}
	kv := openURL(t, "pebble://"+dir)
	must[strata.Hash](t)(kv.Branch("main").Set(ctx, "k", []byte("v")))
	kv.Close()
	kv = openURL(t, dir)
	defer kv.Close()
	if v := must[[]byte](t)(kv.Branch("main").Get(ctx, "k")); string(v) != "v" {
		t.Fatalf("after reopen: %q", v)
	}
}

// crashChild is the child process of TestCrash: it commits forever on the
// store in $STRATA_CRASH_DIR, printing "done N HASH" after each commit
// returns, until it is killed.
func crashChild() {
	dir := os.Getenv("STRATA_CRASH_DIR")
	start, _ := strconv.Atoi(os.Getenv("STRATA_CRASH_START"))
	kv, err := strata.Open(ctx, dir)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	main := kv.Branch("main")
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(w, "ready")
	w.Flush()
	for n := start; ; n++ {
		h, err := main.Update(ctx, func(tx *strata.Tx) error {
			tx.Set("counter", []byte(strconv.Itoa(n)))
			tx.Set(fmt.Sprintf("keys/k%05d", n), []byte(strings.Repeat("x", n%300)))
			return nil
		})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(3)
		}
		fmt.Fprintf(w, "done %d %s\n", n, h)
		w.Flush()
		// Pace the stream so that checking the whole history after each of
		// the 20 kills stays quick; kills still land at random points.
		time.Sleep(time.Duration(n%3) * time.Millisecond)
	}
}

// TestCrash kills a child process that is committing to a Pebble store with
// SIGKILL at random moments, 20 times, and after each kill reopens the
// store and checks that every commit the child reported as done is there,
// that fsck is clean and that the head's history is intact.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test is not short")
	}
	s := seed(t)
	t.Logf("seed %d (replay with STRATA_SEED=%d)", s, s)
	r := rand.New(rand.NewPCG(s, 7))
	dir := t.TempDir()
	next := 0
	var acked []strata.Hash // every commit reported done, in order
	for round := 0; round < 20; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "STRATA_CRASH_DIR="+dir, "STRATA_CRASH_START="+strconv.Itoa(next))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1<<16)
		ready := make(chan struct{})
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if sc.Text() == "ready" {
					close(ready)
					continue
				}
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Let it run a random while, then kill it. In odd rounds the
		// while starts when the child starts, so the kill may land
		// while it opens the store; in even rounds it starts once the
		// store is open, so the child commits even on a slow machine.
		if round%2 == 0 {
			select {
			case <-ready:
			case <-time.After(time.Minute):
				t.Fatalf("round %d: the child did not open the store within a minute", round)
			}
		}
		time.Sleep(time.Duration(20+r.IntN(300)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// Read every line the child wrote (the pipe ends once the killed
		// child's end is closed) before Wait, which closes the pipe: a
		// read cut short by that close would give a cut-off last line.
		var got []string
		for line := range lines {
			got = append(got, line)
		}
		cmd.Wait()
		roundAcks := 0
		for _, line := range got {
			f := strings.Fields(line)
			if len(f) != 3 || f[0] != "done" {
				t.Fatalf("round %d: child said %q", round, line)
			}
			n, _ := strconv.Atoi(f[1])
			if n != next {
				t.Fatalf("round %d: child reported commit %d, want %d", round, n, next)
			}
			h, err := strata.ParseHash(f[2])
			if err != nil {
				t.Fatal(err)
			}
			acked = append(acked, h)
			next++
			roundAcks++
		}

		kv, err := strata.Open(ctx, dir)
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		rep, err := kv.Fsck(ctx)
		if err != nil || len(rep.Problems) > 0 {
			t.Fatalf("round %d: fsck: %v %v", round, err, rep)
		}
		if len(acked) > 0 {
			log, err := kv.Log(ctx, "main", 0)
			if err != nil {
				t.Fatalf("round %d: log: %v", round, err)
			}
			inLog := map[strata.Hash]bool{}
			for i, c := range log {
				inLog[c.Hash] = true
				if c.Height != uint64(len(log)-i) {
					t.Fatalf("round %d: commit %d of the log has height %d", round, i, c.Height)
				}
			}
			for i, h := range acked {
				if !inLog[h] {
					t.Fatalf("round %d: acknowledged commit %d (%s) is lost", round, i, h.Short())
				}
			}
			// The child may have committed one more than it reported.
			v, err := kv.Branch("main").Get(ctx, "counter")
			if err != nil {
				t.Fatal(err)
			}
			got, _ := strconv.Atoi(string(v))
			if got != next-1 && got != next {
				t.Fatalf("round %d: counter %d, last acknowledged %d", round, got, next-1)
			}
			next = got + 1
		}
		kv.Close()
		t.Logf("round %d: %d commits acknowledged, %d in total", round, roundAcks, len(acked))
	}
	if len(acked) < 20 {
		t.Errorf("only %d commits in 20 rounds: the child barely ran", len(acked))
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
