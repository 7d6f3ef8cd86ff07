package strata_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratakv/strata"
	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/backend/mem"
	damaged "github.com/stratakv/strata/internal/damage"
	"github.com/stratakv/strata/internal/redistest"
)

// threeCommits makes three commits on main and returns them, oldest first.
func threeCommits(t *testing.T, kv *strata.KV) []strata.Hash {
	t.Helper()
	var hs []strata.Hash
	for _, v := range []string{"1", "2", "3"} {
		hs = append(hs, must[strata.Hash](t)(kv.Branch("main").Set(ctx, "k", []byte(v))))
	}
	return hs
}

func TestTags(t *testing.T) {
	kv := openMem(t)
	hs := threeCommits(t, kv)

	if h := must[strata.Hash](t)(kv.Tag(ctx, "v1", "main")); h != hs[2] {
		t.Fatalf("Tag returned %s, want the head %s", h, hs[2])
	}
	must[strata.Hash](t)(kv.Tag(ctx, "v0.9", "main~2"))
	// Tags are revisions, suffixes included.
	for rev, want := range map[string]strata.Hash{"v1": hs[2], "v1~1": hs[1], "v1^": hs[1], "v0.9": hs[0]} {
		if got := must[strata.Hash](t)(kv.Resolve(ctx, rev)); got != want {
			t.Errorf("Resolve(%q) = %s, want %s", rev, got.Short(), want.Short())
		}
	}
	v := must[[]byte](t)(must[*strata.Snapshot](t)(kv.At(ctx, "v1~1")).Get(ctx, "k"))
	if string(v) != "2" {
		t.Errorf("k at v1~1 = %q, want 2", v)
	}
	want := []strata.TagInfo{{Name: "v0.9", Commit: hs[0]}, {Name: "v1", Commit: hs[2]}}
	if diff := cmp.Diff(want, must[[]strata.TagInfo](t)(kv.Tags(ctx))); diff != "" {
		t.Errorf("Tags (-want +got):\n%s", diff)
	}

	// Re-tagging the same commit is a no-op; another commit is refused.
	must[strata.Hash](t)(kv.Tag(ctx, "v1", hs[2].String()))
	_, err := kv.Tag(ctx, "v1", "main~1")
	if !errors.Is(err, strata.ErrConflict) || !errors.Is(err, strata.ErrExists) || !strings.Contains(err.Error(), `"v1"`) {
		t.Fatalf("moving a tag without Force: %v, want ErrExists naming it", err)
	}
	if got := must[strata.Hash](t)(kv.Resolve(ctx, "v1")); got != hs[2] {
		t.Fatalf("a refused move moved the tag to %s", got.Short())
	}
	// Force moves it.
	must[strata.Hash](t)(kv.Tag(ctx, "v1", "main~1", strata.Force()))
	if got := must[strata.Hash](t)(kv.Resolve(ctx, "v1")); got != hs[1] {
		t.Fatalf("forced tag at %s, want %s", got.Short(), hs[1].Short())
	}

	// Delete.
	if err := kv.DeleteTag(ctx, "v1"); err != nil {
		t.Fatal(err)
	}
	if err := kv.DeleteTag(ctx, "v1"); !errors.Is(err, strata.ErrNotFound) {
		t.Fatalf("deleting a missing tag: %v, want ErrNotFound", err)
	}
	if _, err := kv.Resolve(ctx, "v1"); !errors.Is(err, strata.ErrNotFound) {
		t.Fatalf("a deleted tag still resolves: %v", err)
	}

	// Bad names and revisions.
	if _, err := kv.Tag(ctx, "a b", "main"); !errors.Is(err, strata.ErrInvalidBranch) || !strings.Contains(err.Error(), "invalid tag name") {
		t.Errorf("bad tag name: %v", err)
	}
	if _, err := kv.Tag(ctx, "x", "nosuch"); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("tag of a missing revision: %v", err)
	}
}

func TestBranchAndTagOfTheSameName(t *testing.T) {
	kv := openMem(t)
	hs := threeCommits(t, kv)
	must[strata.Hash](t)(kv.Tag(ctx, "release", "main~1"))
	// CreateBranch refuses a tag's name, but a branch a write creates
	// (Reset here, or a clone of a store with both) may still take it.
	if _, err := kv.Branch("release").Reset(ctx, "main"); err != nil {
		t.Fatal(err)
	}
	for _, rev := range []string{"release", "release~1"} {
		_, err := kv.Resolve(ctx, rev)
		if !errors.Is(err, strata.ErrInvalidRevision) || !strings.Contains(err.Error(), `branch "release"`) || !strings.Contains(err.Error(), `tag "release"`) {
			t.Errorf("Resolve(%q) = %v; want ErrInvalidRevision naming branch and tag", rev, err)
		}
	}
	// The hash still works, and so does the branch once the tag is gone.
	if err := kv.DeleteTag(ctx, "release"); err != nil {
		t.Fatal(err)
	}
	if got := must[strata.Hash](t)(kv.Resolve(ctx, "release")); got != hs[2] {
		t.Errorf("release = %s, want the branch head", got.Short())
	}
}

func TestRemoteTrackingRevision(t *testing.T) {
	kv := openMem(t)
	hs := threeCommits(t, kv)
	if err := kv.Backend().CompareAndSwapRef(ctx, "remotes/origin/main", backend.ZeroHash, hs[1]); err != nil {
		t.Fatal(err)
	}
	if err := kv.Backend().CompareAndSwapRef(ctx, "remotes/origin/feature/x", backend.ZeroHash, hs[0]); err != nil {
		t.Fatal(err)
	}
	for rev, want := range map[string]strata.Hash{"origin/main": hs[1], "origin/main~1": hs[0], "origin/feature/x": hs[0], "main": hs[2]} {
		if got := must[strata.Hash](t)(kv.Resolve(ctx, rev)); got != want {
			t.Errorf("Resolve(%q) = %s, want %s", rev, got.Short(), want.Short())
		}
	}
	if _, err := kv.Resolve(ctx, "origin/nosuch"); !errors.Is(err, strata.ErrNotFound) {
		t.Errorf("missing tracking ref: %v", err)
	}
}

// testRemotes adds, lists and removes remotes (and a tag) on the store at
// u, and checks that a store opened afresh, as by another process, sees
// them.
func testRemotes(t *testing.T, u string) {
	kv := openURL(t, u)
	defer func() { kv.Close() }()
	hs := threeCommits(t, kv)
	const secret = "redis://user:s3cret@db.example:6379/2?prefix=team"
	if err := kv.AddRemote(ctx, "origin", secret); err != nil {
		t.Fatal(err)
	}
	if err := kv.AddRemote(ctx, "backup", "/srv/backup"); err != nil {
		t.Fatal(err)
	}
	must[strata.Hash](t)(kv.Tag(ctx, "v1", "main~1"))
	if err := kv.AddRemote(ctx, "origin", "mem://"); !errors.Is(err, strata.ErrConflict) {
		t.Fatalf("adding a remote twice: %v, want ErrConflict", err)
	}
	if err := kv.AddRemote(ctx, "x", "ftp://host/x"); !errors.Is(err, strata.ErrInvalidURL) {
		t.Fatalf("bad URL: %v, want ErrInvalidURL", err)
	}
	if err := kv.AddRemote(ctx, "x", "redis://u:hunter2@h:1?bogus=1"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("bad URL with a password: %v", err)
	}
	for _, bad := range []string{"a/b", "", "-x"} {
		if err := kv.AddRemote(ctx, bad, "mem://"); !errors.Is(err, strata.ErrInvalidBranch) {
			t.Errorf("remote name %q: %v, want ErrInvalidBranch", bad, err)
		}
	}
	if err := kv.Backend().CompareAndSwapRef(ctx, "remotes/origin/main", backend.ZeroHash, hs[2]); err != nil {
		t.Fatal(err)
	}
	if err := kv.Backend().CompareAndSwapRef(ctx, "remotes/originx/main", backend.ZeroHash, hs[2]); err != nil {
		t.Fatal(err)
	}

	// A store opened afresh (as by another process) sees the remotes.
	if err := kv.Close(); err != nil {
		t.Fatal(err)
	}
	other := openURL(t, u)
	want := []strata.Remote{{Name: "backup", URL: "/srv/backup"}, {Name: "origin", URL: secret}}
	if diff := cmp.Diff(want, must[[]strata.Remote](t)(other.Remotes(ctx))); diff != "" {
		t.Errorf("Remotes seen by another KV (-want +got):\n%s", diff)
	}
	if r := must[strata.Remote](t)(other.Remote(ctx, "origin")); r.URL != secret {
		t.Errorf("Remote(origin) = %+v", r)
	}
	if diff := cmp.Diff([]strata.TagInfo{{Name: "v1", Commit: hs[1]}}, must[[]strata.TagInfo](t)(other.Tags(ctx))); diff != "" {
		t.Errorf("Tags seen by another KV (-want +got):\n%s", diff)
	}
	if got := must[strata.Hash](t)(other.Resolve(ctx, "v1~1")); got != hs[0] {
		t.Errorf("v1~1 seen by another KV = %s", got.Short())
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	kv = openURL(t, u)

	if err := kv.RemoveRemote(ctx, "origin"); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Remote(ctx, "origin"); !errors.Is(err, strata.ErrNotFound) {
		t.Fatalf("removed remote: %v", err)
	}
	if _, err := kv.Resolve(ctx, "origin/main"); !errors.Is(err, strata.ErrNotFound) {
		t.Fatalf("tracking ref of a removed remote: %v", err)
	}
	// Another remote's refs, whose name starts the same, stay.
	if got := must[strata.Hash](t)(kv.Resolve(ctx, "originx/main")); got != hs[2] {
		t.Fatalf("originx/main = %s", got.Short())
	}
	if err := kv.RemoveRemote(ctx, "origin"); !errors.Is(err, strata.ErrNotFound) {
		t.Fatalf("removing a missing remote: %v", err)
	}
	if diff := cmp.Diff([]strata.Remote{{Name: "backup", URL: "/srv/backup"}}, must[[]strata.Remote](t)(kv.Remotes(ctx))); diff != "" {
		t.Errorf("Remotes after removal (-want +got):\n%s", diff)
	}
}

func TestRemotes(t *testing.T) {
	t.Run("pebble", func(t *testing.T) { testRemotes(t, t.TempDir()) })
	t.Run("redis", func(t *testing.T) { testRemotes(t, redistest.Start(t).URL("remotes")) })
}

// TestFsckTagsAndTracking: a tag and a remote-tracking ref pointing at a
// missing commit are reported, and the rest is still checked.
func TestFsckTagsAndTracking(t *testing.T) {
	kv := openMem(t)
	hs := threeCommits(t, kv)
	must[strata.Hash](t)(kv.Tag(ctx, "good", "main"))
	gone, gone2 := strata.Hash{0xde, 0xad}, strata.Hash{0xbe, 0xef}
	if err := kv.Backend().CompareAndSwapRef(ctx, "tags/broken", backend.ZeroHash, gone); err != nil {
		t.Fatal(err)
	}
	if err := kv.Backend().CompareAndSwapRef(ctx, "remotes/origin/main", backend.ZeroHash, gone2); err != nil {
		t.Fatal(err)
	}
	rep := must[*strata.FsckReport](t)(kv.Fsck(ctx))
	type p struct{ Hash, Object, Where, Damage string }
	var got []p
	for _, pr := range rep.Problems {
		got = append(got, p{pr.Hash.String(), pr.Object, pr.Where, pr.Damage()})
	}
	want := []p{
		{gone.String(), "commit", "tag broken", "missing"},
		{gone2.String(), "commit", "origin/main", "missing"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if rep.Commits != len(hs) {
		t.Errorf("checked %d commits, want %d", rep.Commits, len(hs))
	}
}

// TestShallow: a commit whose parent object is absent and that a
// "shallow/HEX" ref marks ends the history by design: Log ends there
// with the marker, MergeBase and Fsck work. Without the marker the same
// store is damaged.
func TestShallow(t *testing.T) {
	s := mem.New()
	w := strata.New(s)
	defer w.Close()
	hs := threeCommits(t, w) // c1 <- c2 <- c3 on main
	if err := w.CreateBranch(ctx, "feature", "main~1"); err != nil {
		t.Fatal(err)
	}
	f1 := must[strata.Hash](t)(w.Branch("feature").Set(ctx, "f", []byte("1")))
	damage(t, w, hs[0], nil) // the history below c2 was not copied

	// Without the marker: damage, read through a KV with a cold cache.
	kv := strata.New(s)
	if _, err := kv.Log(ctx, "main", 0); !errors.Is(err, strata.ErrMissing) {
		t.Fatalf("log without the shallow marker: %v, want ErrMissing", err)
	}
	if _, err := kv.MergeBase(ctx, "main", "feature"); !errors.Is(err, strata.ErrMissing) {
		t.Fatalf("merge base without the shallow marker: %v, want ErrMissing", err)
	}
	rep := must[*strata.FsckReport](t)(kv.Fsck(ctx))
	if len(rep.Problems) != 1 || rep.Problems[0].Hash != hs[0] || rep.Problems[0].Damage() != "missing" {
		t.Fatalf("fsck without the shallow marker: %+v, want the missing commit %s", rep.Problems, hs[0].Short())
	}

	if err := s.CompareAndSwapRef(ctx, "shallow/"+hs[1].String(), backend.ZeroHash, hs[1]); err != nil {
		t.Fatal(err)
	}
	kv = strata.New(s)
	log := must[[]strata.Commit](t)(kv.Log(ctx, "main", 0))
	type entry struct {
		Hash    strata.Hash
		Shallow bool
	}
	var got []entry
	for _, c := range log {
		got = append(got, entry{c.Hash, c.Shallow})
	}
	if diff := cmp.Diff([]entry{{hs[2], false}, {hs[1], true}}, got); diff != "" {
		t.Errorf("log of a shallow history (-want +got):\n%s", diff)
	}
	if log := must[[]strata.Commit](t)(kv.Log(ctx, "feature..main", 0)); len(log) != 1 || log[0].Hash != hs[2] {
		t.Errorf("log feature..main = %v, want only %s", log, hs[2].Short())
	}
	if _, err := kv.Resolve(ctx, "main~2"); !errors.Is(err, strata.ErrNotFound) || !strings.Contains(err.Error(), "shallow") {
		t.Errorf("main~2 below the cut: %v, want ErrNotFound saying shallow", err)
	}
	bases := must[[]strata.Hash](t)(kv.MergeBase(ctx, "main", "feature"))
	if diff := cmp.Diff([]strata.Hash{hs[1]}, bases); diff != "" {
		t.Errorf("merge base (-want +got):\n%s", diff)
	}
	// A merge base search that must pass the cut (c2 vs an unrelated
	// root) ends there instead of failing.
	must[strata.Hash](t)(kv.Branch("other").Set(ctx, "o", []byte("o")))
	if bases, err := kv.MergeBase(ctx, "main", "other"); err != nil || len(bases) != 0 {
		t.Errorf("merge base across the cut: %v, %v; want none", bases, err)
	}
	// The shallow commit shows as a root: everything it holds is added.
	if ch, err := kv.Changes(ctx, hs[1].String()); err != nil || len(ch) != 1 || ch[0].Path != "k" {
		t.Errorf("changes of the shallow commit: %v, %v; want k added", ch, err)
	}
	if _, err := kv.Merge(ctx, "feature", "main"); err != nil {
		t.Errorf("merge in a shallow history: %v", err)
	}
	rep = must[*strata.FsckReport](t)(kv.Fsck(ctx))
	if len(rep.Problems) != 0 {
		t.Errorf("fsck of a shallow history: %v", rep.Problems)
	}
	_ = f1
}

// TestDamagedTagAndTrackingRefs: refs whose stored value is not a hash are
// reported one by one by Tags and Fsck, the rest is still listed and
// checked, and DeleteTag and RemoveRemote repair them.
func TestDamagedTagAndTrackingRefs(t *testing.T) {
	dir := t.TempDir()
	kv := openURL(t, dir)
	hs := threeCommits(t, kv)
	for _, name := range []string{"a", "bad", "z"} {
		must[strata.Hash](t)(kv.Tag(ctx, name, "main"))
	}
	if err := kv.AddRemote(ctx, "origin", "mem://"); err != nil {
		t.Fatal(err)
	}
	if err := kv.Backend().CompareAndSwapRef(ctx, "remotes/origin/main", backend.ZeroHash, hs[0]); err != nil {
		t.Fatal(err)
	}
	if err := kv.Close(); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"tags/bad", "remotes/origin/main"} {
		if err := damaged.PebbleRef(dir, ref, []byte("12345")); err != nil {
			t.Fatal(err)
		}
	}
	kv = openURL(t, dir)
	defer kv.Close()

	tags, err := kv.Tags(ctx)
	var bad *strata.CorruptRefsError
	if !errors.As(err, &bad) || !errors.Is(err, strata.ErrCorrupt) {
		t.Fatalf("Tags with a damaged tag: %v, want a *CorruptRefsError", err)
	}
	if diff := cmp.Diff([]string{"bad"}, bad.Names); diff != "" {
		t.Errorf("damaged tags (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]strata.TagInfo{{"a", hs[2]}, {"z", hs[2]}}, tags); diff != "" {
		t.Errorf("readable tags (-want +got):\n%s", diff)
	}
	if _, err := kv.Resolve(ctx, "bad"); !errors.Is(err, strata.ErrCorrupt) {
		t.Errorf("resolving a damaged tag: %v, want ErrCorrupt", err)
	}

	rep := must[*strata.FsckReport](t)(kv.Fsck(ctx))
	type p struct{ Object, Where string }
	var got []p
	for _, pr := range rep.Problems {
		got = append(got, p{pr.Object, pr.Where})
		if !pr.IsRef() || !errors.Is(pr.Err, strata.ErrCorrupt) {
			t.Errorf("problem %v: want a damaged ref wrapping ErrCorrupt", pr)
		}
	}
	if diff := cmp.Diff([]p{{"tag", "bad"}, {"remote-tracking ref", "origin/main"}}, got); diff != "" {
		t.Errorf("fsck problems (-want +got):\n%s", diff)
	}
	if rep.Commits != len(hs) {
		t.Errorf("fsck checked %d commits, want %d", rep.Commits, len(hs))
	}

	// Repair.
	if err := kv.DeleteTag(ctx, "bad"); err != nil {
		t.Fatal(err)
	}
	if err := kv.RemoveRemote(ctx, "origin"); err != nil {
		t.Fatal(err)
	}
	if rep := must[*strata.FsckReport](t)(kv.Fsck(ctx)); len(rep.Problems) != 0 {
		t.Errorf("fsck after repair: %v", rep.Problems)
	}
}

// TestAddRemoteKeepsPathsAbsolute: a remote given as a relative directory
// is recorded as an absolute one, so it names the same store from any
// working directory; a URL is kept as given.
func TestAddRemoteKeepsPathsAbsolute(t *testing.T) {
	kv, err := strata.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	if err := kv.AddRemote(ctx, "backup", filepath.Join("rel", "store")); err != nil {
		t.Fatal(err)
	}
	if err := kv.AddRemote(ctx, "shared", "redis://127.0.0.1:6379/0"); err != nil {
		t.Fatal(err)
	}
	want, err := filepath.Abs(filepath.Join("rel", "store"))
	if err != nil {
		t.Fatal(err)
	}
	for name, url := range map[string]string{"backup": want, "shared": "redis://127.0.0.1:6379/0"} {
		r, err := kv.Remote(ctx, name)
		if err != nil || r.URL != url {
			t.Errorf("Remote(%q) = %+v, %v; want URL %q", name, r, err, url)
		}
	}
}

// TestTagAndBranchNamesApart: a tag cannot take a branch's name nor a
// branch a tag's (the name would be ambiguous as a revision, and the
// first one unusable by it); the store is unchanged by the refusal.
func TestTagAndBranchNamesApart(t *testing.T) {
	kv := memKV(t)
	h, err := kv.Branch("main").Set(ctx, "k", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Tag(ctx, "main", "main"); !errors.Is(err, strata.ErrExists) || !strings.Contains(err.Error(), "branch") {
		t.Errorf("tag main: %v, want ErrExists naming the branch", err)
	}
	if _, err := kv.Tag(ctx, "v1", "main"); err != nil {
		t.Fatal(err)
	}
	if err := kv.CreateBranch(ctx, "v1", "main"); !errors.Is(err, strata.ErrExists) || !strings.Contains(err.Error(), "tag") {
		t.Errorf("branch v1: %v, want ErrExists naming the tag", err)
	}
	if tags, err := kv.Tags(ctx); err != nil || len(tags) != 1 {
		t.Errorf("tags %v, %v; want v1 alone", tags, err)
	}
	if bs, err := kv.Branches(ctx); err != nil || len(bs) != 1 {
		t.Errorf("branches %v, %v; want main alone", bs, err)
	}
	for _, rev := range []string{"main", "v1"} {
		if got, err := kv.Resolve(ctx, rev); err != nil || got != h {
			t.Errorf("Resolve(%q) = %s, %v", rev, got.Short(), err)
		}
	}
}

// TestAmbiguousHashPrefix: a hash prefix that several commits share is
// an error wrapping ErrInvalidRevision (not ErrNotFound: it names too
// much, not nothing) that says to give more digits; one more digit that
// tells them apart resolves.
func TestAmbiguousHashPrefix(t *testing.T) {
	kv := memKV(t)
	seen := map[string]strata.Hash{}
	var a, b strata.Hash
	for i := 0; i < 5000 && a.IsZero(); i++ { // 16 bits: a shared prefix within a few hundred
		h, err := kv.Branch("main").Set(ctx, "k", []byte(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		p := h.String()[:4]
		if o, ok := seen[p]; ok {
			a, b = o, h
		}
		seen[p] = h
	}
	if a.IsZero() {
		t.Fatal("no two of 5,000 commits share 4 hex digits")
	}
	_, err := kv.Resolve(ctx, a.String()[:4])
	if !errors.Is(err, strata.ErrInvalidRevision) || errors.Is(err, strata.ErrNotFound) || !strings.Contains(err.Error(), "more digits") {
		t.Errorf("Resolve of a shared prefix: %v, want ErrInvalidRevision saying to give more digits", err)
	}
	n := 5
	for a.String()[:n] == b.String()[:n] {
		n++
	}
	if got, err := kv.Resolve(ctx, a.String()[:n]); err != nil || got != a {
		t.Errorf("Resolve(%s) = %s, %v; want %s", a.String()[:n], got.Short(), err, a.Short())
	}
}

// TestRevisionOfAnotherObject: the full hash of a tree or a value given
// as a revision names no commit (ErrNotFound, saying what it is), not
// damage.
func TestRevisionOfAnotherObject(t *testing.T) {
	kv := memKV(t)
	h, err := kv.Branch("main").Set(ctx, "d/k", []byte("a value long enough to be an object of its own"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := kv.Commit(ctx, h.String())
	if err != nil {
		t.Fatal(err)
	}
	_, err = kv.Resolve(ctx, c.Tree.String())
	if !errors.Is(err, strata.ErrNotFound) || errors.Is(err, strata.ErrCorrupt) || !strings.Contains(err.Error(), "not a commit") {
		t.Errorf("Resolve of a tree's hash: %v, want ErrNotFound saying it is not a commit", err)
	}
	fsckClean(t, kv)
}
