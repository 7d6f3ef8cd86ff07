package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
)

func TestTagCommand(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	c1 := s.set("k", "1")
	c2 := s.set("k", "2")
	c3 := s.set("k", "3")

	if out := s.ok("tag", "v1"); out != c3+"\n" {
		t.Fatalf("tag v1 printed %q, want the head", out)
	}
	s.ok("tag", "v0.9", "main~2")
	if diff := cmp.Diff("v0.9 "+c1+"\nv1 "+c3+"\n", s.ok("tag")); diff != "" {
		t.Errorf("tag listing (-want +got):\n%s", diff)
	}
	var got []tagJSON
	for _, line := range strings.Split(strings.TrimSpace(s.ok("tag", "--json")), "\n") {
		var j tagJSON
		if err := json.Unmarshal([]byte(line), &j); err != nil {
			t.Fatalf("tag --json line %q: %v", line, err)
		}
		got = append(got, j)
	}
	if diff := cmp.Diff([]tagJSON{{"v0.9", c1}, {"v1", c3}}, got); diff != "" {
		t.Errorf("tag --json (-want +got):\n%s", diff)
	}
	// A tag is a revision.
	if out := s.ok("get", "k", "--at", "v1~1"); out != "2" {
		t.Errorf("get k at v1~1 = %q, want 2", out)
	}
	if out := s.ok("log", "--oneline", "v1~1"); !strings.HasPrefix(out, c2[:7]) {
		t.Errorf("log v1~1 = %q, want it to start at %s", out, c2[:7])
	}
	// Tags complete as revisions and as tag names.
	if diff := cmp.Diff([]string{"v0.9", "v1"}, completions(t, s, "log", "v")); diff != "" {
		t.Errorf("revision completion (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"v1"}, completions(t, s, "tag", "-d", "v1")); diff != "" {
		t.Errorf("tag -d completion (-want +got):\n%s", diff)
	}
	// Re-tagging the same commit is fine; moving needs -f.
	s.ok("tag", "v1", c3)
	r := s.fails(exitConflict, "tag", "v1", "main~1")
	if !strings.Contains(r.stderr, `"v1"`) || !strings.Contains(r.stderr, "-f") {
		t.Errorf("moving a tag: %q, want it to name the tag and -f", r.stderr)
	}
	if out := s.ok("tag", "-f", "v1", "main~1"); out != c2+"\n" {
		t.Errorf("tag -f printed %q, want %s", out, c2)
	}
	// Delete; a missing tag is exit 1; bad names exit 2.
	s.ok("tag", "-d", "v1")
	s.fails(exitNotFound, "tag", "-d", "v1")
	s.fails(exitNotFound, "get", "k", "--at", "v1")
	s.fails(exitUsage, "tag", "a:b")
	s.fails(exitUsage, "tag", "a", "b", "c")

	// --json of a new tag.
	if out := s.ok("tag", "v2", "main~1", "--json"); out != `{"name":"v2","commit":"`+c2+`"}`+"\n" {
		t.Errorf("tag --json printed %q", out)
	}
	// A tag cannot take a branch's name, nor a branch a tag's (exit 3,
	// with no hint at -f, which does not help).
	s.ok("tag", "rel", "main~1")
	for _, args := range [][]string{{"branch", "rel"}, {"tag", "main"}, {"tag", "-f", "main"}} {
		r := s.fails(exitConflict, args...)
		if !strings.Contains(r.stderr, "has that name") || strings.Contains(r.stderr, "-f") {
			t.Errorf("%q: %q", args, r.stderr)
		}
	}
	// A branch and a tag of the same name (a write may still create
	// one): an error naming both.
	s.ok("reset", "-b", "rel", "main")
	r = s.fails(exitUsage, "get", "k", "--at", "rel")
	if !strings.Contains(r.stderr, `branch "rel"`) || !strings.Contains(r.stderr, `tag "rel"`) {
		t.Errorf("branch and tag of one name: %q, want both named", r.stderr)
	}
}

func TestRemoteCommand(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.set("k", "1")
	const secret = "redis://alice:s3cret-pw@db.example:6379/0"
	s.ok("remote", "add", "origin", secret)
	s.ok("remote", "add", "backup", "/srv/backup")
	// Each command is another process: the remotes live in the store.
	out := s.ok("remote")
	if strings.Contains(out, "s3cret-pw") {
		t.Fatalf("remote printed a password: %q", out)
	}
	if diff := cmp.Diff("backup /srv/backup\norigin "+strata.RedactURL(secret)+"\n", out); diff != "" {
		t.Errorf("remote listing (-want +got):\n%s", diff)
	}
	js := s.ok("remote", "--json")
	if strings.Contains(js, "s3cret-pw") || !strings.Contains(js, `"name":"origin"`) {
		t.Errorf("remote --json: %q", js)
	}
	s.fails(exitConflict, "remote", "add", "origin", "mem://")
	r := s.fails(exitUsage, "remote", "add", "x", "redis://u:hunter2@h:1?bogus=1")
	if strings.Contains(r.stderr, "hunter2") {
		t.Errorf("a bad URL's error shows its password: %q", r.stderr)
	}
	s.fails(exitUsage, "remote", "add", "a/b", "mem://")
	s.fails(exitUsage, "remote", "add", "x")
	s.fails(exitUsage, "remote", "frob")

	// Tracking refs are revisions and go with their remote.
	head := strings.TrimSpace(s.ok("log", "--json", "-n", "1"))
	var c commitJSON
	if err := json.Unmarshal([]byte(head), &c); err != nil {
		t.Fatal(err)
	}
	h, err := strata.ParseHash(c.Hash)
	if err != nil {
		t.Fatal(err)
	}
	withKV(t, s, func(ctx context.Context, kv *strata.KV) {
		if err := kv.Backend().CompareAndSwapRef(ctx, "remotes/origin/main", backend.ZeroHash, h); err != nil {
			t.Fatal(err)
		}
	})
	if out := s.ok("get", "k", "--at", "origin/main"); out != "1" {
		t.Errorf("get k at origin/main = %q", out)
	}
	s.ok("remote", "rm", "origin")
	s.fails(exitNotFound, "get", "k", "--at", "origin/main")
	s.fails(exitNotFound, "remote", "rm", "origin")
	if out := s.ok("remote"); out != "backup /srv/backup\n" {
		t.Errorf("remote after rm: %q", out)
	}
}

func TestFsckTagsAndShallowLog(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	c1 := s.set("k", "1")
	c2 := s.set("k", "2")
	s.set("k", "3")
	s.ok("tag", "good")
	withKV(t, s, func(ctx context.Context, kv *strata.KV) {
		if err := kv.Backend().CompareAndSwapRef(ctx, "tags/broken", backend.ZeroHash, strata.Hash{0xde, 0xad}); err != nil {
			t.Fatal(err)
		}
	})
	r := s.fails(exitFailure, "fsck")
	if !strings.Contains(r.stdout, "missing commit dead") || !strings.Contains(r.stdout, "tag broken") {
		t.Errorf("fsck with a broken tag: stdout %q", r.stdout)
	}
	s.ok("tag", "-d", "broken")
	s.ok("fsck")

	// Cut the history below c2: damage without the marker, the end of
	// history with it.
	h1, _ := strata.ParseHash(c1)
	h2, _ := strata.ParseHash(c2)
	withKV(t, s, func(ctx context.Context, kv *strata.KV) {
		if err := kv.Backend().(backend.ObjectDeleter).DeleteObjects(ctx, []backend.Hash{h1}); err != nil {
			t.Fatal(err)
		}
	})
	s.fails(exitFailure, "fsck")
	s.fails(exitFailure, "log")
	withKV(t, s, func(ctx context.Context, kv *strata.KV) {
		if err := kv.Backend().CompareAndSwapRef(ctx, "shallow/"+c2, backend.ZeroHash, h2); err != nil {
			t.Fatal(err)
		}
	})
	s.ok("fsck")
	out := s.ok("log", "--oneline")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], c2[:7]) || lines[2] != "(shallow: history cut here)" {
		t.Errorf("log of a shallow history:\n%s", out)
	}
	if out := s.ok("log"); !strings.HasSuffix(out, "\n(shallow: history cut here)\n") {
		t.Errorf("log of a shallow history ends %q", out[max(0, len(out)-60):])
	}
	if out := s.ok("log", "--json"); !strings.Contains(out, `"shallow":true`) {
		t.Errorf("log --json of a shallow history: %q", out)
	}
}
