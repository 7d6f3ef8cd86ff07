package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
)

// gcSummary is gc's summary on stderr.
var gcSummary = regexp.MustCompile(`^(deleted|would delete) [0-9,]+ unreachable objects \([^)]*\) of [0-9,]+; marked [0-9,]+ in [0-9.]+ s; [0-9.]+ s in all\n$`)

// TestGCAndSquash: squash refuses to run without --yes; with it, it
// rewrites the history; gc --dry-run counts and keeps; gc deletes what
// only the old history reached, and the store stays clean.
func TestGCAndSquash(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	secret := "a value only the old history holds, long enough for an object"
	s.set("old", secret)
	s.ok("rm", "old")
	for _, k := range []string{"a", "b", "c"} {
		s.set(k, "value of "+k+", long enough to be a contents object")
	}
	r := s.fails(2, "squash", "--before", "main~1")
	if !strings.Contains(r.stderr, "--yes") {
		t.Errorf("squash without --yes: %q; want a hint to --yes", r.stderr)
	}
	if got := len(lines(s.ok("log", "--json"))); got != 5 {
		t.Fatalf("squash without --yes changed the log: %d commits", got)
	}
	head := strings.TrimSpace(s.ok("squash", "--before", "main~1", "--yes", "-m", "drop the old history"))
	log := decodeLines[logEntry](t, s.ok("log", "--json"))
	if len(log) != 2 || log[0].Hash != head || log[1].Message != "drop the old history" || len(log[1].Parents) != 0 {
		t.Fatalf("log after squash: %+v", log)
	}
	var dry, real struct {
		DryRun  bool  `json:"dry_run"`
		Deleted int   `json:"deleted"`
		Freed   int64 `json:"freed_bytes"`
		Fenced  bool  `json:"fenced"`
	}
	if err := json.Unmarshal([]byte(s.ok("gc", "--dry-run", "--json")), &dry); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(s.ok("gc", "--dry-run", "--json")), &dry); err != nil || !dry.DryRun || dry.Deleted == 0 {
		t.Fatalf("second dry run: %+v, %v; want the same objects still to delete", dry, err)
	}
	if err := json.Unmarshal([]byte(s.ok("gc", "--grace", "0s", "--json")), &real); err != nil {
		t.Fatal(err)
	}
	if real.DryRun || real.Deleted != dry.Deleted || real.Freed != dry.Freed || !real.Fenced || dry.Fenced {
		t.Errorf("gc: %+v; dry run said %+v (want the real run fenced, the dry run not)", real, dry)
	}
	if !strings.Contains(s.ok("fsck"), " 0 problems") {
		t.Error("fsck after gc is not clean")
	}
	if got := s.ok("get", "c"); got != "value of c, long enough to be a contents object" {
		t.Errorf("get c after gc: %q", got)
	}
	s.fails(2, "gc", "--grace", "-1s")
}

// TestFsckDamagedCommitGraphRun: a commit-graph run whose object is
// damaged (GC refuses to run past it, as it is one of GC's roots) is
// reported by fsck with exit code 4, naming the run and its commit; and
// 'strata commit-graph write', as the report says, writes it again, after
// which fsck is clean and GC runs.
func TestFsckDamagedCommitGraphRun(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.ok("init")
	var run, of strata.Hash
	var orig []byte
	s.withKV(func(kv *strata.KV) {
		ctx := context.Background()
		for i := range 70 {
			if _, err := kv.Branch("main").Set(ctx, fmt.Sprintf("k%d", i%5), []byte(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
	}) // Close waits for the commit-graph runs of the commits
	s.withKV(func(kv *strata.KV) {
		ctx := context.Background()
		refs, err := kv.Backend().ListRefs(ctx, commit.GraphRefPrefix)
		if err != nil || len(refs) != 1 {
			t.Fatalf("commit-graph refs %v, %v; want one", refs, err)
		}
		run = refs[0].Hash
		if of, err = strata.ParseHash(strings.TrimPrefix(refs[0].Name, commit.GraphRefPrefix)); err != nil {
			t.Fatal(err)
		}
		if orig, err = kv.Backend().Get(ctx, run); err != nil {
			t.Fatal(err)
		}
		bad := append([]byte{}, orig...)
		bad[len(bad)-1] ^= 1
		// Pebble's Put writes an object again, over the stored bytes.
		if err := kv.Backend().Put(ctx, []backend.Object{{Hash: run, Data: bad}}); err != nil {
			t.Fatal(err)
		}
	})
	r := s.fails(4, "fsck")
	want := fmt.Sprintf("corrupt commit-graph run %s of commit %s:", run, of)
	if !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "strata commit-graph write") || !strings.Contains(r.stdout, ": 1 problems") {
		t.Errorf("fsck of a damaged run printed %q; want a line starting %q that says how to repair it", r.stdout, want)
	}
	var p struct{ Problem, Type, Hash, Where string }
	if err := json.Unmarshal([]byte(lines(s.fails(4, "fsck", "--json").stdout)[0]), &p); err != nil || p.Problem != "corrupt" || p.Type != "commit-graph run" || p.Hash != run.String() || p.Where != of.String() {
		t.Errorf("fsck --json: %+v, %v", p, err)
	}
	// A GC that failed before deleting anything prints only its error.
	if r := s.fails(4, "gc", "--dry-run"); !strings.Contains(r.stderr, run.String()) {
		t.Errorf("gc of the damaged store: stderr %q; want it to name the run", r.stderr)
	}
	s.ok("commit-graph", "write")
	s.ok("fsck")
	s.withKV(func(kv *strata.KV) {
		if b, err := kv.Backend().Get(context.Background(), run); err != nil || !bytes.Equal(b, orig) {
			t.Errorf("the run after commit-graph write: %v", err)
		}
	})
	r = s.run(nil, "gc", "--grace", "0s")
	if r.code != 0 {
		t.Errorf("gc after the repair: exit %d, %s", r.code, r.stderr)
	}
}
