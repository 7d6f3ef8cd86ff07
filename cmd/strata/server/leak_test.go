package server_test

import (
	"bufio"
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stratakv/strata/cmd/strata/server"
)

// TestStreamsLeakNoGoroutines: every long-lived response (the watch
// stream, the console's live-update stream and the HTTP store's ref
// watch) lets go of its goroutines when its client disconnects: after 3
// clients of each connect, see their stream start, see a head move and
// leave, the number of goroutines returns to what it was before.
func TestStreamsLeakNoGoroutines(t *testing.T) {
	kv, _, ts := startServer(t, server.Options{})
	main := kv.Branch("main")
	if _, err := main.Set(context.Background(), "k", []byte("0")); err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	client := &http.Client{Transport: tr}
	settle := func() int {
		tr.CloseIdleConnections()
		http.DefaultClient.CloseIdleConnections() // metric's requests
		runtime.GC()
		return runtime.NumGoroutine()
	}
	baseline := settle()

	paths := []string{"/v1/watch?branch=main", "/-/events?branch=main", "/v1/store/watch?prefix=heads/"}
	var cancels []context.CancelFunc
	for round := range 3 {
		for _, p := range paths {
			ctx, cancel := context.WithCancel(context.Background())
			cancels = append(cancels, cancel)
			req, err := http.NewRequestWithContext(ctx, "GET", ts.URL+p, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("round %d %s: %v", round, p, err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("round %d %s: status %d", round, p, resp.StatusCode)
			}
			// The stream has started once its first bytes arrive.
			if _, err := bufio.NewReader(resp.Body).ReadByte(); err != nil {
				t.Fatalf("round %d %s: %v", round, p, err)
			}
			defer resp.Body.Close()
		}
	}
	// Every open stream, of every kind, is counted.
	if m := metric(t, ts.URL, "strata_watch_clients"); m != "9" {
		t.Errorf("strata_watch_clients = %s with 9 streams open, want 9", m)
	}
	if _, err := main.Set(context.Background(), "k", []byte("1")); err != nil {
		t.Fatal(err)
	}
	for _, cancel := range cancels {
		cancel()
	}
	// Wait (without a time bound on the result: only on the test) for the
	// handlers to notice; a leak never returns to the baseline.
	n := settle()
	for deadline := time.Now().Add(20 * time.Second); n > baseline && time.Now().Before(deadline); n = settle() {
		time.Sleep(20 * time.Millisecond)
	}
	if n > baseline {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		t.Fatalf("%d goroutines after the clients left, %d before:\n%s", n, baseline, stacks)
	}
	if m := metric(t, ts.URL, "strata_watch_clients"); m != "0" {
		t.Errorf("strata_watch_clients = %s after the clients left, want 0", m)
	}
}

// metric returns the value of an unlabelled metric at /metrics.
func metric(t *testing.T, base, name string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return v
		}
	}
	t.Fatalf("no metric %s", name)
	return ""
}
