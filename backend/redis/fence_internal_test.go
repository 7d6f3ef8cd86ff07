package redis

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	goredis "github.com/redis/go-redis/v9"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/internal/redistest"
)

// TestFenceRecordScripts checks the scripts that close the window between
// a write's SET (or MSET) and its record in the fences, which a fenced
// delete can fall into: recordScript records what is there and reports
// what is missing (Put stores it again), and commitScript moves no ref
// and records nothing when an object is missing (PutAndSwapRef tries
// again), and records every object when all are there.
func TestFenceRecordScripts(t *testing.T) {
	srv := redistest.Start(t)
	ctx := t.Context()
	s, err := Open(ctx, srv.URL("rec"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	raw := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = raw.Close() })
	f, err := s.FenceObjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	set := s.fencesKey + ":" + f.(*fence).id
	var a, b, c backend.Hash
	a[0], b[0], c[0] = 'a', 'b', 'c'
	members := func() []string {
		t.Helper()
		m, err := raw.SMembers(ctx, set).Result()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}

	// a stored and b stored then deleted before the record.
	raw.Set(ctx, s.objKey(a), "a", 0)
	res, err := recordScript.Run(ctx, s.client, []string{s.fencesKey, s.objKey(a), s.objKey(b)}).Result()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{int64(1)}, res); diff != "" {
		t.Errorf("recordScript's missing positions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{s.objKey(a)}, members()); diff != "" {
		t.Errorf("fence's set after recordScript (-want +got):\n%s", diff)
	}

	// A commit of b (missing) and c: no ref move, nothing recorded.
	raw.Set(ctx, s.objKey(c), "c", 0)
	_, evalArgs := s.commitArgs([]backend.Object{{Hash: b, Data: []byte("b")}, {Hash: c, Data: []byte("c")}}, "heads/main", backend.ZeroHash, c)
	evalArgs[0], evalArgs[1] = "eval", commitLua
	if res, err := s.client.Do(ctx, evalArgs...).Result(); err != nil || res != int64(0) {
		t.Errorf("commit script with an object missing = %v, %v; want 0", res, err)
	}
	if n, err := raw.HLen(ctx, s.refsKey).Result(); err != nil || n != 0 {
		t.Errorf("refs after the refused commit: %d, %v; want none", n, err)
	}
	if diff := cmp.Diff([]string{s.objKey(a)}, members()); diff != "" {
		t.Errorf("fence's set after the refused commit (-want +got):\n%s", diff)
	}
	// With b stored, the same commit lands and records both.
	raw.Set(ctx, s.objKey(b), "b", 0)
	if res, err := s.client.Do(ctx, evalArgs...).Result(); err != nil || res != int64(1) {
		t.Errorf("commit script with its objects stored = %v, %v; want 1", res, err)
	}
	got := members()
	want := []string{s.objKey(a), s.objKey(b), s.objKey(c)}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(x, y string) bool { return x < y })); diff != "" {
		t.Errorf("fence's set after the commit (-want +got):\n%s", diff)
	}
}
