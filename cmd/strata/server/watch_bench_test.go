package server_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/cmd/strata/server"
)

// BenchmarkWatchLatency measures the latency of the watch stream: one
// commit at a time on branch main of a served store, and the time until
// an SSE client on loopback has read its event. It reports the
// percentiles of commit-to-event (from the commit's return to the event's
// arrival; 0 if the event came first) and of set-to-event (from the
// start of the Set). Run with e.g. -benchtime 2000x.
func BenchmarkWatchLatency(b *testing.B) {
	for _, backend := range []string{"mem", "pebble"} {
		b.Run(backend, func(b *testing.B) {
			url := "mem://"
			if backend == "pebble" {
				url = b.TempDir()
			}
			ctx := context.Background()
			kv, err := strata.Open(ctx, url)
			if err != nil {
				b.Fatal(err)
			}
			defer kv.Close()
			s := server.New(kv, server.Options{})
			ts := httptest.NewServer(s.Handler())
			defer ts.Close()
			defer s.Drain()
			st := watch(b, ctx, ts, nil, nil)
			defer st.cancel()
			main := kv.Branch("main")
			commitToEvent := make([]time.Duration, 0, b.N)
			setToEvent := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				h, err := main.Set(ctx, fmt.Sprintf("k/%d", i%1000), []byte(fmt.Sprint(i)))
				if err != nil {
					b.Fatal(err)
				}
				done := time.Now()
				if _, m := st.next(b, ctx); m.New != h.String() {
					b.Fatalf("event for %s, want %s", m.New, h)
				}
				now := time.Now()
				commitToEvent = append(commitToEvent, now.Sub(done))
				setToEvent = append(setToEvent, now.Sub(start))
			}
			b.StopTimer()
			report(b, "commit-to-event", commitToEvent)
			report(b, "set-to-event", setToEvent)
		})
	}
}

// report reports the 50th and 99th percentiles of ds in microseconds.
func report(b *testing.B, name string, ds []time.Duration) {
	slices.Sort(ds)
	pct := func(p float64) float64 {
		return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))].Microseconds())
	}
	b.ReportMetric(pct(0.50), name+"-p50-µs")
	b.ReportMetric(pct(0.99), name+"-p99-µs")
}
