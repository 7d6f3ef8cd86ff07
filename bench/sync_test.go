package bench_test

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata/bench"
	"github.com/stratakv/strata/internal/redistest"
)

// TestSyncWorkloads runs every sync workload once at small sizes, with
// git and a Redis server of the test's own, checking that each runs and
// that its statistics are consistent (RunSync itself checks that the
// clone's head is the source's, that fast-import made the history, and
// that an empty fetch writes nothing). It asserts nothing about time.
func TestSyncWorkloads(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is not installed: %v", err)
	}
	srv := redistest.Start(t)
	ctx := context.Background()
	o := bench.SyncOptions{CloneKeys: 300, CloneCommits: 10, PushKeys: 300, IncrKeys: 500, IncrCommits: 2,
		Samples: 1, Dir: t.TempDir(), RedisAddr: srv.Addr()}
	for _, l := range bench.Layouts {
		o.Layout = l
		res, err := bench.RunSync(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bench.Result{}
		var ids []string
		for _, r := range res {
			if r.Skipped != "" {
				t.Errorf("%s: %s", r.ID(), r.Skipped)
			}
			if r.MedianNs <= 0 || r.Samples != 1 {
				t.Errorf("%s: median %v ns over %d samples", r.ID(), r.MedianNs, r.Samples)
			}
			got[r.Workload+"/"+r.Backend] = r
			ids = append(ids, r.ID())
		}
		ls := l.String()
		want := []string{
			"clone/" + ls + "/300/strata-pebble", "clone/" + ls + "/300/git",
			"push-bulk/" + ls + "/300/strata-redis", "push-bulk/-/300/raw-redis",
			"push-incr/" + ls + "/500/strata-redis", "fetch-none/" + ls + "/500/strata-redis",
		}
		if d := cmp.Diff(want, ids); d != "" {
			t.Fatalf("%s: results (-want +got):\n%s", l, d)
		}
		push, raw := got["push-bulk/strata-redis"], got["push-bulk/raw-redis"]
		if push.Objects == 0 || push.Items != push.Objects || raw.Objects != push.Objects || raw.SyncBytes != push.SyncBytes {
			t.Errorf("%s: push-bulk sent %d objects (%d B, items %d), the floor SET %d (%d B)", l,
				push.Objects, push.SyncBytes, push.Items, raw.Objects, raw.SyncBytes)
		}
		if c := got["clone/strata-pebble"]; c.Objects == 0 || c.RoundTrips == 0 {
			t.Errorf("%s: clone: %d objects in %d round trips", l, c.Objects, c.RoundTrips)
		}
		if p := got["push-incr/strata-redis"]; p.Objects == 0 || p.RoundTrips == 0 {
			t.Errorf("%s: push-incr: %d objects in %d round trips", l, p.Objects, p.RoundTrips)
		}
		if f := got["fetch-none/strata-redis"]; f.Objects != 0 || f.RoundTrips == 0 {
			t.Errorf("%s: fetch-none: %d objects in %d round trips", l, f.Objects, f.RoundTrips)
		}
		// The table shows the clone against git and the push against the floor.
		rep := bench.NewReport("test", time.Now(), res, bench.TableOptions{Ref: bench.SyncRef})
		vs := map[string]string{}
		for _, r := range rep.Ratios {
			vs[r.ID] = r.Vs
		}
		wantVs := map[string]string{"clone/" + ls + "/300/strata-pebble": "git", "push-bulk/" + ls + "/300/strata-redis": "raw-redis"}
		if d := cmp.Diff(wantVs, vs); d != "" {
			t.Errorf("%s: ratios (-want +got):\n%s", l, d)
		}
	}
}
