package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
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
