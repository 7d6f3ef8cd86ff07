package peers_test

import (
	"context"
	"testing"
	"time"

	"github.com/stratakv/strata/bench"
	"github.com/stratakv/strata/bench/peers"
)

// TestPeers runs every workload once on each peer at a tiny N; Run fails
// on an error or a wrong count (diff changes, log commits, ls names).
func TestPeers(t *testing.T) {
	fs := []bench.Factory{peers.GoGit(), peers.Dolt()}
	o := bench.Options{Ns: []int{200}, Samples: 1, SampleTime: time.Nanosecond, LogCommits: 20}
	res, err := bench.Run(context.Background(), o, fs)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(fs) * len(bench.Layouts) * len(bench.Workloads); len(res) != want {
		t.Errorf("%d results, want %d", len(res), want)
	}
	for _, r := range res {
		if r.Skipped != "" {
			t.Errorf("%s: %s", r.ID(), r.Skipped)
		}
	}
}
