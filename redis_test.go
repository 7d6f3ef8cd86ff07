package strata_test

import (
	"bufio"
	"context"
	"errors"
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

// openURL opens the store at u (a directory or a URL); the caller closes it.
func openURL(t *testing.T, u string) *strata.KV {
	t.Helper()
	kv, err := strata.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

// TestModelRedis runs the model-based test on a real Redis server and on a
// real 3-master Redis Cluster, reopening the store at random steps.
func TestModelRedis(t *testing.T) {
	t.Run("single", func(t *testing.T) {
		srv := redistest.Start(t)
		u := srv.URL("model")
		kv := openURL(t, u)
		defer func() { kv.Close() }()
		modelTest(t, 500, kv, func(old *strata.KV) *strata.KV {
			old.Close()
			kv = openURL(t, u)
			return kv
		})
	})
	t.Run("cached", func(t *testing.T) {
		// redis://…?cache=DIR: a layered store, Pebble before Redis.
		srv := redistest.Start(t)
		u := srv.URL("model") + "&cache=" + t.TempDir()
		kv := openURL(t, u)
		defer func() { kv.Close() }()
		modelTest(t, 300, kv, func(old *strata.KV) *strata.KV {
			old.Close()
			kv = openURL(t, u)
			return kv
		})
	})
	t.Run("cluster", func(t *testing.T) {
		c := redistest.StartCluster(t, 3)
		u := c.URL("model")
		kv := openURL(t, u)
		defer func() { kv.Close() }()
		modelTest(t, 300, kv, func(old *strata.KV) *strata.KV {
			old.Close()
			kv = openURL(t, u)
			return kv
		})
	})
}

// writerChild is the child process of the Redis tests: it makes
// $STRATA_WRITER_N commits on branch main of the store at
// $STRATA_WRITER_URL, setting p<ID>/k<i>, and prints "done i HASH" after
// each.
func writerChild() {
	u := os.Getenv("STRATA_WRITER_URL")
	id := os.Getenv("STRATA_WRITER_ID")
	n, _ := strconv.Atoi(os.Getenv("STRATA_WRITER_N"))
	kv, err := strata.Open(ctx, u, strata.MaxRetries(1000))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	defer kv.Close()
	w := bufio.NewWriter(os.Stdout)
	for i := 0; i < n; i++ {
		h, err := kv.Branch("main").Set(ctx, fmt.Sprintf("p%s/k%04d", id, i), []byte(fmt.Sprint(i)))
		if err != nil {
			fmt.Fprintln(w, "error", err)
			w.Flush()
			os.Exit(3)
		}
		fmt.Fprintf(w, "done %d %s\n", i, h)
		w.Flush()
	}
}

// startWriter starts a writer child process; its output lines arrive on
// the returned channel, closed when it exits.
func startWriter(t *testing.T, u, id string, n int) (<-chan string, *exec.Cmd) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STRATA_WRITER_URL="+u, "STRATA_WRITER_ID="+id, "STRATA_WRITER_N="+strconv.Itoa(n))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, n+10)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return lines, cmd
}

// TestRedisTwoProcesses: two processes each make 500 commits on one branch
// through Redis at once; every change lands, none is lost.
func TestRedisTwoProcesses(t *testing.T) {
	srv := redistest.Start(t)
	u := srv.URL("two")
	var wg sync.WaitGroup
	for _, id := range []string{"1", "2"} {
		lines, cmd := startWriter(t, u, id, 500)
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for l := range lines {
				if !strings.HasPrefix(l, "done ") {
					t.Errorf("writer %s: %s", id, l)
				}
				n++
			}
			if err := cmd.Wait(); err != nil || n != 500 {
				t.Errorf("writer %s: %d commits, exit %v", id, n, err)
			}
		}()
	}
	wg.Wait()
	kv := openURL(t, u)
	defer kv.Close()
	for _, id := range []string{"1", "2"} {
		n, err := kv.Branch("main").Len(ctx, "p"+id)
		if err != nil || n != 500 {
			t.Errorf("p%s holds %d keys, %v; want 500", id, n, err)
		}
	}
	log, err := kv.Log(ctx, "main", 0)
	if err != nil || len(log) != 1000 {
		t.Fatalf("log: %d commits, %v; want 1000", len(log), err)
	}
}

// TestRedisWatchOtherProcess: a watcher sees every commit that another
// process makes, in order.
func TestRedisWatchOtherProcess(t *testing.T) {
	srv := redistest.Start(t)
	u := srv.URL("watch")
	kv := openURL(t, u)
	defer kv.Close()
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	events, err := kv.Watch(wctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	lines, cmd := startWriter(t, u, "w", n)
	var want []strata.Hash
	for l := range lines {
		f := strings.Fields(l)
		if len(f) != 3 || f[0] != "done" {
			t.Fatalf("writer: %s", l)
		}
		h, err := strata.ParseHash(f[2])
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, h)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	var prev strata.Hash
	for i := 0; i < n; i++ {
		select {
		case ev := <-events:
			if ev.Err != nil {
				t.Fatal(ev.Err)
			}
			if ev.New != want[i] || ev.Old != prev {
				t.Fatalf("event %d: %s -> %s, want %s -> %s", i, ev.Old.Short(), ev.New.Short(), prev.Short(), want[i].Short())
			}
			if len(ev.Changes) != 1 || ev.Changes[0].Path != fmt.Sprintf("pw/k%04d", i) {
				t.Fatalf("event %d changes: %v", i, ev.Changes)
			}
			prev = ev.New
		case <-wctx.Done():
			t.Fatalf("only %d of %d events arrived", i, n)
		}
	}
}

// TestRedisServerRestart kills redis-server (SIGKILL) in the middle of a
// stream of commits and restarts it with AOF appendfsync always: every
// commit acknowledged before the kill is there, the head's objects are all
// there (fsck), and writes resume.
func TestRedisServerRestart(t *testing.T) {
	srv := redistest.Start(t, redistest.WithAOF())
	u := srv.URL("restart")
	kv := openURL(t, u)
	defer kv.Close()
	main := kv.Branch("main")
	var acked []strata.Hash
	stop := make(chan struct{})
	done := make(chan error, 1)
	enough := make(chan struct{}) // closed at the 10th acknowledged commit
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			h, err := main.Set(ctx, fmt.Sprintf("k%05d", i), []byte(strings.Repeat("v", i%100)))
			if err != nil {
				done <- err
				return
			}
			acked = append(acked, h)
			if len(acked) == 10 {
				close(enough)
			}
		}
	}()
	// Kill the server mid-stream: once some commits are in (however slow
	// the machine), and a little later, while more are in flight.
	select {
	case <-enough:
	case err := <-done:
		t.Fatalf("commits failed before the kill: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("fewer than 10 commits in a minute")
	}
	time.Sleep(100 * time.Millisecond)
	srv.Kill()
	err := <-done
	close(stop)
	if err == nil {
		t.Fatal("commits kept succeeding with the server killed")
	}
	if !strings.Contains(err.Error(), srv.Addr()) {
		t.Errorf("error does not name the server: %v", err)
	}
	if errors.Is(err, strata.ErrConflict) || errors.Is(err, strata.ErrNotFound) {
		t.Errorf("a dead server reported as %v", err)
	}
	if len(acked) < 10 {
		t.Fatalf("only %d commits before the kill", len(acked))
	}
	srv.Restart()
	log, err := kv.Log(ctx, "main", 0)
	if err != nil {
		t.Fatalf("log after restart: %v", err)
	}
	in := map[strata.Hash]bool{}
	for _, c := range log {
		in[c.Hash] = true
	}
	for i, h := range acked {
		if !in[h] {
			t.Fatalf("acknowledged commit %d (%s) lost in the restart", i, h.Short())
		}
	}
	rep, err := kv.Fsck(ctx)
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("fsck after restart: %v %v", err, rep.Problems)
	}
	if _, err := main.Set(ctx, "after", []byte("restart")); err != nil {
		t.Fatalf("write after restart: %v", err)
	}
	t.Logf("%d commits acknowledged before the kill, all present after restart", len(acked))
}
